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
                dvs_vring_region_fn region, void *ctx)
{
  if (desc == NULL || avail == NULL || used == NULL || region == NULL
      || size == 0 || size > 32768 || (size & (size - 1)) != 0 || hdr_len > 64)
    return -EINVAL;
  memset (vr, 0, sizeof *vr);
  vr->desc = desc;
  vr->avail = avail;
  vr->used = used;
  vr->size = size;
  vr->hdr_len = hdr_len;
  vr->event_idx = event_idx;
  vr->region = region;
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

/* Guest-physical @gpa to a host pointer, or NULL if not mapped; *@len (in:
 * bytes wanted) is lowered to the bytes mapped contiguously from @gpa.
 * Inline on the last region: frames mostly come from one. */
static inline const uint8_t *
translate (struct dvs_vring *vr, uint64_t gpa, uint64_t *len)
{
  uint64_t off = gpa - vr->last.gpa;

  if (unlikely (off >= vr->last.size))
    {
      struct dvs_vring_region r;

      if (!vr->region (vr->ctx, gpa, &r) || gpa - r.gpa >= r.size)
        return NULL;
      vr->last = r;
      off = gpa - r.gpa;
    }
  if (*len > vr->last.size - off)
    *len = vr->last.size - off;
  return vr->last.host + off;
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
copy_buffer (struct dvs_vring *vr, struct frame *f, uint64_t gpa,
             uint32_t len)
{
  while (len > 0)
    {
      uint64_t l = len;
      const uint8_t *src = translate (vr, gpa, &l);

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
copy_from_guest (struct dvs_vring *vr, uint64_t gpa, void *dst,
                 uint32_t len)
{
  uint8_t *out = dst;

  while (len > 0)
    {
      uint64_t l = len;
      const volatile uint8_t *src = translate (vr, gpa, &l);

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
read_chain (struct dvs_vring *vr, struct frame *f, uint16_t head)
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
          p = (void *) (uintptr_t) translate (vr, d.addr, &l);
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

/* The common chain: one direct descriptor, header and frame, the frame no
 * larger than an mbuf.  Returns where its frame starts in host memory, or
 * NULL for any other chain (read_chain then reads it from the ring, checking
 * everything).  *@d is the descriptor as read, once. */
static inline const uint8_t *
simple_frame (struct dvs_vring *vr, const struct vring_desc *desc,
              struct vring_desc *d, uint32_t room)
{
  uint64_t l;
  const uint8_t *p;

  read_desc (desc, d);
  l = d->len;
  if (unlikely (d->flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT
                            | VRING_DESC_F_WRITE))
      || d->len <= vr->hdr_len || d->len - vr->hdr_len > room)
    return NULL;
  p = translate (vr, d->addr, &l);
  if (unlikely (p == NULL || l < d->len))
    return NULL;
  return p + vr->hdr_len;
}

uint16_t
dvs_vring_peek (struct dvs_vring *vr, struct rte_mempool *pool,
                struct rte_mbuf **pkts, uint16_t n)
{
  struct rte_mbuf *bufs[DVS_VRING_MAX_BURST];
  uint16_t heads[DVS_VRING_MAX_BURST];
  const uint8_t *frames[DVS_VRING_MAX_BURST];
  uint32_t lens[DVS_VRING_MAX_BURST];
  uint16_t got = 0, taken, i;
  const uint16_t size = vr->size, mask = size - 1;
  const uint16_t *ring = (const uint16_t *) vr->avail->ring;

  if (vr->n_heads > 0)
    return 0;
  n = RTE_MIN (n, (uint16_t) DVS_VRING_MAX_BURST);
  n = RTE_MIN (n, dvs_vring_pending (vr));
  if (n == 0 || rte_pktmbuf_alloc_bulk (pool, bufs, n) != 0)
    return 0;
  const uint32_t room = rte_pktmbuf_tailroom (bufs[0]);
  /* The guest wrote descriptors and buffers from another core: start all
   * their cache misses before waiting for any (descriptors, then the
   * buffers of simple chains). */
  for (i = 0; i < n; i++)
    {
      heads[i] = ((const volatile uint16_t *) ring)[(uint16_t) (vr->last_avail + i) & mask];
      if (likely (heads[i] < size))
        rte_prefetch0 (&vr->desc[heads[i]]);
    }
  for (i = 0; i < n; i++)
    {
      struct vring_desc d;

      frames[i] = likely (heads[i] < size)
                    ? simple_frame (vr, &vr->desc[heads[i]], &d, room) : NULL;
      if (likely (frames[i] != NULL))
        {
          lens[i] = d.len - vr->hdr_len;
          rte_prefetch0 (frames[i]);
          if (lens[i] > RTE_CACHE_LINE_SIZE)
            rte_prefetch0 (frames[i] + RTE_CACHE_LINE_SIZE);
        }
    }
  for (i = 0; i < n; i++)
    {
      struct rte_mbuf *m = bufs[got];

      if (likely (frames[i] != NULL && lens[i] <= rte_pktmbuf_tailroom (m)))
        {
          rte_memcpy (rte_pktmbuf_mtod (m, uint8_t *), frames[i], lens[i]);
          m->data_len = (uint16_t) lens[i];
          m->pkt_len = lens[i];
          pkts[got++] = m;
          continue;
        }
      struct frame f = {
        .pool = pool, .head = m, .cur = m, .hdr_left = vr->hdr_len,
      };
      enum chain_result r = read_chain (vr, &f, heads[i]);

      if (unlikely (r == CHAIN_NOBUF))
        {
          mbuf_clear (m);             /* read it again next time */
          break;
        }
      if (likely (r == CHAIN_OK))
        pkts[got++] = m;
      else
        {
          vr->malformed++;
          mbuf_clear (m);
        }
    }
  taken = i;
  memcpy (vr->heads, heads, taken * sizeof heads[0]);
  vr->n_heads = taken;
  vr->last_avail = (uint16_t) (vr->last_avail + taken);
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
