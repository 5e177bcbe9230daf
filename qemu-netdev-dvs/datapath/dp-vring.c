/* Device side of a split virtqueue, transmit direction (dp-vring.h). */
#include "dp-vring.h"

#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

/* Offsets into the used ring, for dirty logging. */
#define USED_IDX_OFFSET 2
#define USED_ELEM_OFFSET(i) (4 + (uint64_t) (i) * sizeof (struct vring_used_elem))

int
dvs_vring_init (struct dvs_vring *vr, struct vring_desc *desc,
                struct vring_avail *avail, struct vring_used *used,
                uint16_t size, uint16_t last_avail, uint16_t last_used,
                uint16_t hdr_len, bool event_idx,
                dvs_vring_translate_fn translate, void *ctx)
{
  if (desc == NULL || avail == NULL || used == NULL || translate == NULL
      || size == 0 || size > 32768 || (size & (size - 1)) != 0 || hdr_len > 64)
    return -EINVAL;
  memset (vr, 0, sizeof *vr);
  vr->desc = desc;
  vr->avail = avail;
  vr->used = used;
  vr->size = size;
  vr->hdr_len = hdr_len;
  vr->event_idx = event_idx;
  vr->translate = translate;
  vr->ctx = ctx;
  vr->last_avail = last_avail;
  vr->last_used = last_used;
  return 0;
}

static inline uint16_t
avail_idx_acquire (const struct dvs_vring *vr)
{
  return __atomic_load_n (&vr->avail->idx, __ATOMIC_ACQUIRE);
}

/* The guest may rewrite the ring at any time: each field is read once. */
static inline uint16_t
avail_entry (const struct dvs_vring *vr, uint16_t pos)
{
  return ((const volatile uint16_t *) vr->avail->ring)[pos & (vr->size - 1)];
}

static inline void
read_desc (const struct vring_desc *src, struct vring_desc *d)
{
  const volatile struct vring_desc *v = src;

  d->addr = v->addr;
  d->len = v->len;
  d->flags = v->flags;
  d->next = v->next;
}

uint16_t
dvs_vring_pending (const struct dvs_vring *vr)
{
  return (uint16_t) (avail_idx_acquire (vr) - vr->last_avail);
}

/* One frame being assembled. */
struct frame {
  struct rte_mempool *pool;
  struct rte_mbuf *head, *cur;
  uint32_t hdr_left;                  /* header bytes still to skip */
};

enum chain_result { CHAIN_OK, CHAIN_BAD, CHAIN_NOBUF };

static bool
frame_append (struct frame *f, const uint8_t *src, uint32_t len)
{
  while (len > 0)
    {
      struct rte_mbuf *m = f->cur;
      uint32_t room = rte_pktmbuf_tailroom (m);

      if (unlikely (room == 0))
        {
          struct rte_mbuf *next = rte_pktmbuf_alloc (f->pool);
          if (next == NULL)
            return false;
          m->next = next;
          f->head->nb_segs++;
          f->cur = m = next;
          room = rte_pktmbuf_tailroom (m);
          if (room == 0)
            return false;             /* a pool without data room */
        }
      uint32_t l = RTE_MIN (len, room);
      rte_memcpy (rte_pktmbuf_mtod_offset (m, uint8_t *, m->data_len), src, l);
      m->data_len = (uint16_t) (m->data_len + l);
      f->head->pkt_len += l;
      src += l;
      len -= l;
    }
  return true;
}

/* Copies the guest buffer [gpa, gpa + len) into the frame, region by
 * region, the header bytes skipped: 0, -EFAULT or -ENOBUFS. */
static int
copy_buffer (const struct dvs_vring *vr, struct frame *f, uint64_t gpa,
             uint32_t len)
{
  while (len > 0)
    {
      uint64_t l = len;
      const uint8_t *src = vr->translate (vr->ctx, gpa, &l);

      if (unlikely (src == NULL || l == 0))
        return -EFAULT;
      if (l > len)
        l = len;
      uint32_t piece = (uint32_t) l;
      if (unlikely (f->hdr_left > 0))
        {
          uint32_t skip = RTE_MIN (f->hdr_left, piece);
          f->hdr_left -= skip;
          src += skip;
          piece -= skip;
        }
      if (piece > 0 && unlikely (!frame_append (f, src, piece)))
        return -ENOBUFS;
      gpa += l;
      len -= (uint32_t) l;
    }
  return 0;
}

/* Reads @len bytes of guest memory at @gpa into @dst: false if some byte
 * does not translate. */
static bool
copy_from_guest (const struct dvs_vring *vr, uint64_t gpa, void *dst,
                 uint32_t len)
{
  uint8_t *out = dst;

  while (len > 0)
    {
      uint64_t l = len;
      const volatile uint8_t *src = vr->translate (vr->ctx, gpa, &l);

      if (src == NULL || l == 0)
        return false;
      if (l > len)
        l = len;
      for (uint64_t i = 0; i < l; i++)
        *out++ = src[i];
      gpa += l;
      len -= (uint32_t) l;
    }
  return true;
}

/* Follows the chain at @head, copying its frame into @f. */
static enum chain_result
read_chain (const struct dvs_vring *vr, struct frame *f, uint16_t head)
{
  const struct vring_desc *table = vr->desc;
  uint64_t table_gpa = 0;             /* indirect table not contiguous */
  uint32_t table_len = vr->size;
  uint32_t idx = head, hops = 0;
  uint64_t total = 0;
  const uint64_t max_total = (uint64_t) vr->hdr_len + DVS_VRING_MAX_FRAME;
  bool indirect = false;

  if (unlikely (head >= vr->size))
    return CHAIN_BAD;
  for (;;)
    {
      struct vring_desc d;

      if (unlikely (++hops > table_len))
        return CHAIN_BAD;             /* a loop */
      if (likely (table != NULL))
        read_desc (&table[idx], &d);
      else if (!copy_from_guest (vr, table_gpa + (uint64_t) idx * sizeof d, &d, sizeof d))
        return CHAIN_BAD;

      if (unlikely (d.flags & VRING_DESC_F_INDIRECT))
        {
          uint64_t l = d.len;
          void *p;

          /* Only a lone head may point to a table (virtio 2.7.5.3.1). */
          if (indirect || hops != 1 || (d.flags & VRING_DESC_F_NEXT)
              || d.len == 0 || d.len % sizeof d != 0
              || d.len / sizeof d > vr->size)
            return CHAIN_BAD;
          p = vr->translate (vr->ctx, d.addr, &l);
          if (p == NULL)
            return CHAIN_BAD;
          table = l >= d.len ? p : NULL;
          table_gpa = d.addr;
          table_len = d.len / sizeof d;
          idx = 0;
          hops = 0;
          indirect = true;
          continue;
        }
      if (unlikely (d.flags & VRING_DESC_F_WRITE))
        return CHAIN_BAD;
      total += d.len;
      if (unlikely (total > max_total))
        return CHAIN_BAD;
      int err = copy_buffer (vr, f, d.addr, d.len);
      if (unlikely (err != 0))
        return err == -ENOBUFS ? CHAIN_NOBUF : CHAIN_BAD;
      if (!(d.flags & VRING_DESC_F_NEXT))
        break;
      idx = d.next;
      if (unlikely (idx >= table_len))
        return CHAIN_BAD;
    }
  if (unlikely (f->hdr_left > 0 || f->head->pkt_len == 0))
    return CHAIN_BAD;
  return CHAIN_OK;
}

/* Prefetches the start of a descriptor's buffer (a hint: nothing is
 * trusted, a bad descriptor is found when the chain is read). */
static inline void
prefetch_buffer (const struct dvs_vring *vr, const struct vring_desc *desc)
{
  struct vring_desc d;
  uint64_t l = 128;
  const uint8_t *p;

  read_desc (desc, &d);
  if (d.flags & VRING_DESC_F_INDIRECT)
    return;
  p = vr->translate (vr->ctx, d.addr, &l);
  if (p == NULL)
    return;
  rte_prefetch0 (p);
  if (l > 64 && d.len > 64)
    rte_prefetch0 (p + 64);
}

/* Makes @m an empty single buffer again. */
static void
mbuf_clear (struct rte_mbuf *m)
{
  if (m->next != NULL)
    {
      rte_pktmbuf_free (m->next);
      m->next = NULL;
    }
  m->nb_segs = 1;
  m->data_len = 0;
  m->pkt_len = 0;
}

uint16_t
dvs_vring_peek (struct dvs_vring *vr, struct rte_mempool *pool,
                struct rte_mbuf **pkts, uint16_t n)
{
  struct rte_mbuf *bufs[DVS_VRING_MAX_BURST];
  uint16_t heads[DVS_VRING_MAX_BURST];
  uint16_t got = 0, i;

  if (vr->n_heads > 0)
    return 0;
  n = RTE_MIN (n, (uint16_t) DVS_VRING_MAX_BURST);
  n = RTE_MIN (n, dvs_vring_pending (vr));
  if (n == 0 || rte_pktmbuf_alloc_bulk (pool, bufs, n) != 0)
    return 0;
  /* The guest wrote descriptors and buffers from another core: start all
   * their cache misses before waiting for any (descriptors, then the
   * buffers of direct heads; the rest is found as the chain is read). */
  for (i = 0; i < n; i++)
    {
      heads[i] = avail_entry (vr, (uint16_t) (vr->last_avail + i));
      if (likely (heads[i] < vr->size))
        rte_prefetch0 (&vr->desc[heads[i]]);
    }
  for (i = 0; i < n; i++)
    if (likely (heads[i] < vr->size))
      prefetch_buffer (vr, &vr->desc[heads[i]]);
  for (i = 0; i < n; i++)
    {
      struct frame f = {
        .pool = pool, .head = bufs[got], .cur = bufs[got],
        .hdr_left = vr->hdr_len,
      };
      enum chain_result r = read_chain (vr, &f, heads[i]);

      if (unlikely (r == CHAIN_NOBUF))
        {
          mbuf_clear (bufs[got]);     /* read it again next time */
          break;
        }
      vr->heads[vr->n_heads++] = heads[i];
      if (likely (r == CHAIN_OK))
        {
          pkts[got] = bufs[got];
          got++;
        }
      else
        {
          vr->malformed++;
          mbuf_clear (bufs[got]);
        }
    }
  vr->last_avail = (uint16_t) (vr->last_avail + i);
  if (got < n)
    rte_pktmbuf_free_bulk (&bufs[got], n - got);
  return got;
}

uint16_t
dvs_vring_discard (struct dvs_vring *vr, uint16_t upto)
{
  uint16_t d = (uint16_t) (upto - vr->last_avail);

  if (d == 0 || d > DVS_VRING_MAX_BURST - vr->n_heads || d > dvs_vring_pending (vr))
    return 0;
  for (uint16_t i = 0; i < d; i++)
    vr->heads[vr->n_heads++] = avail_entry (vr, (uint16_t) (vr->last_avail + i));
  vr->last_avail = upto;
  return d;
}

bool
dvs_vring_publish (struct dvs_vring *vr)
{
  const uint16_t n = vr->n_heads, mask = vr->size - 1;
  const uint16_t old = vr->last_used, new = (uint16_t) (old + n);

  if (n == 0)
    return false;
  for (uint16_t i = 0; i < n; i++)
    {
      struct vring_used_elem *e = &vr->used->ring[(old + i) & mask];
      e->id = vr->heads[i];
      e->len = 0;
    }
  if (vr->log != NULL)
    {
      uint16_t first = old & mask;
      uint16_t part = RTE_MIN (n, (uint16_t) (vr->size - first));
      vr->log (vr->ctx, USED_ELEM_OFFSET (first), (uint64_t) part * sizeof (struct vring_used_elem));
      if (part < n)
        vr->log (vr->ctx, USED_ELEM_OFFSET (0), (uint64_t) (n - part) * sizeof (struct vring_used_elem));
    }
  __atomic_store_n (&vr->used->idx, new, __ATOMIC_RELEASE);
  if (vr->log != NULL)
    vr->log (vr->ctx, USED_IDX_OFFSET, sizeof vr->used->idx);
  vr->last_used = new;
  vr->n_heads = 0;

  /* The guest writes its suppression, then re-reads used->idx: read it
   * only once our used->idx is visible (virtio 2.7.7.2, 2.7.10). */
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  if (vr->event_idx)
    {
      uint16_t used_event = ((const volatile uint16_t *) vr->avail->ring)[vr->size];
      return vring_need_event (used_event, new, old);
    }
  return !(((const volatile struct vring_avail *) vr->avail)->flags
           & VRING_AVAIL_F_NO_INTERRUPT);
}

void
dvs_vring_set_notify (struct dvs_vring *vr, bool enable)
{
  if (!vr->event_idx)
    {
      uint16_t flags = vr->used->flags;
      uint16_t want = enable ? (uint16_t) (flags & ~VRING_USED_F_NO_NOTIFY)
                             : (uint16_t) (flags | VRING_USED_F_NO_NOTIFY);
      if (want != flags)
        {
          __atomic_store_n (&vr->used->flags, want, __ATOMIC_RELAXED);
          if (vr->log != NULL)
            vr->log (vr->ctx, 0, sizeof vr->used->flags);
        }
    }
  else if (enable)
    {
      /* avail_event: right after the used ring's elements. */
      uint16_t *avail_event = (uint16_t *) &vr->used->ring[vr->size];
      __atomic_store_n (avail_event, vr->last_avail, __ATOMIC_RELAXED);
      if (vr->log != NULL)
        vr->log (vr->ctx, USED_ELEM_OFFSET (vr->size), sizeof *avail_event);
    }
  if (enable)
    __atomic_thread_fence (__ATOMIC_SEQ_CST);
}
