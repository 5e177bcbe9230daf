/* The split-ring reader (datapath/dp-vring.h) on synthetic rings in plain
 * memory: a "guest" of two memory regions whose host copies are not
 * adjacent, descriptors written as a virtio driver would, frames read into
 * real mbufs.  Covers plain frames, headers split over descriptors, chains,
 * indirect tables, buffers across regions, large frames, index wrap-around,
 * every malformed case, publish order and values, signalling and
 * notification control, the peek/publish discipline and discard. */
#include <glib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "datapath/dp-vring.h"
#include "test-eal.h"

/* Guest-physical layout: region A [GPA_A, GPA_A + REGION), region B right
 * after it (contiguous in the guest, not on the host).  GPA_HOLE is not
 * mapped. */
#define REGION (256 * 1024)
#define GPA_A 0x100000ull
#define GPA_B (GPA_A + REGION)
#define GPA_HOLE 0x40000000ull
#define RING 16
#define HDR 12

static struct rte_mempool *pool;
static guint8 *host_a, *host_b;

typedef struct {
  struct vring_desc *desc;
  struct vring_avail *avail;          /* RING entries + used_event */
  struct vring_used *used;            /* RING elements + avail_event */
  struct dvs_vring vr;
  uint16_t size;
  guint64 next_gpa;                   /* bump allocator for buffers */
  GArray *logged;                     /* pairs offset, len */
  guint translations;
} Ring;

/* Guest memory as the test's "guest" writes it. */
static void *
translate (void *ctx, uint64_t gpa, uint64_t *len)
{
  guint8 *base;
  uint64_t off;

  if (gpa >= GPA_A && gpa < GPA_A + REGION)
    base = host_a, off = gpa - GPA_A;
  else if (gpa >= GPA_B && gpa < GPA_B + REGION)
    base = host_b, off = gpa - GPA_B;
  else
    return NULL;
  if (*len > REGION - off)
    *len = REGION - off;
  return base + off;
}

/* The ring reader's view of the same memory: region by region. */
static bool
region (void *ctx, uint64_t gpa, struct dvs_vring_region *out)
{
  Ring *r = ctx;

  r->translations++;
  if (gpa >= GPA_A && gpa < GPA_A + REGION)
    *out = (struct dvs_vring_region) { .gpa = GPA_A, .size = REGION, .host = host_a };
  else if (gpa >= GPA_B && gpa < GPA_B + REGION)
    *out = (struct dvs_vring_region) { .gpa = GPA_B, .size = REGION, .host = host_b };
  else
    return false;
  return true;
}

static void
log_used (void *ctx, uint64_t offset, uint64_t len)
{
  Ring *r = ctx;
  guint64 pair[2] = { offset, len };

  g_array_append_vals (r->logged, pair, 2);
}

/* Guest memory access, across regions. */
static void
guest_write (Ring *r, guint64 gpa, const void *data, gsize len)
{
  const guint8 *src = data;

  while (len > 0)
    {
      uint64_t l = len;
      guint8 *dst = translate (r, gpa, &l);
      g_assert_nonnull (dst);
      memcpy (dst, src, l);
      src += l;
      gpa += l;
      len -= l;
    }
}

/* A guest buffer of @len bytes: the virtio-net header (zeros) if @hdr, then
 * frame bytes seeded with @seed. */
static guint64
buffer (Ring *r, gsize len, gsize hdr_bytes, guint8 seed)
{
  guint64 gpa = r->next_gpa;
  g_autofree guint8 *data = g_malloc0 (len);

  for (gsize i = hdr_bytes; i < len; i++)
    data[i] = (guint8) (seed + i - hdr_bytes);
  guest_write (r, gpa, data, len);
  r->next_gpa += (len + 63) & ~63ull;
  return gpa;
}

static void
set_desc (Ring *r, guint i, guint64 gpa, guint32 len, guint16 flags, guint16 next)
{
  r->desc[i] = (struct vring_desc) { .addr = gpa, .len = len, .flags = flags, .next = next };
}

static void
offer (Ring *r, guint16 head)
{
  r->avail->ring[r->avail->idx % r->size] = head;
  __atomic_store_n (&r->avail->idx, (uint16_t) (r->avail->idx + 1), __ATOMIC_RELEASE);
}

static uint16_t *
used_event (Ring *r)
{
  return &r->avail->ring[r->size];
}

static uint16_t *
avail_event (Ring *r)
{
  return (uint16_t *) &r->used->ring[r->size];
}

static void
ring_setup (Ring *r, uint16_t size, uint16_t start, bool event_idx)
{
  memset (r, 0, sizeof *r);
  r->size = size;
  r->desc = g_malloc0 (sizeof (struct vring_desc) * size);
  r->avail = g_malloc0 (sizeof (struct vring_avail) + sizeof (uint16_t) * (size + 1));
  r->used = g_malloc0 (sizeof (struct vring_used)
                       + sizeof (struct vring_used_elem) * size + sizeof (uint16_t));
  r->avail->idx = start;
  r->used->idx = start;
  r->next_gpa = GPA_A + 4096;
  r->logged = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_assert_cmpint (dvs_vring_init (&r->vr, r->desc, r->avail, r->used, size, start, start,
                                   HDR, event_idx, region, r), ==, 0);
}

static void
ring_teardown (Ring *r)
{
  g_free (r->desc);
  g_free (r->avail);
  g_free (r->used);
  g_array_unref (r->logged);
}

static void
fixture_setup (Ring *r, gconstpointer data)
{
  ring_setup (r, RING, 0, false);
}

static void
fixture_teardown (Ring *r, gconstpointer data)
{
  ring_teardown (r);
}

/* The frame bytes buffer() writes: @len bytes from @seed. */
static void
assert_frame (struct rte_mbuf *m, gsize len, guint8 seed)
{
  g_autofree guint8 *flat = g_malloc (len ? len : 1);
  const guint8 *p;

  g_assert_cmpuint (rte_pktmbuf_pkt_len (m), ==, len);
  p = rte_pktmbuf_read (m, 0, (uint32_t) len, flat);
  g_assert_nonnull (p);
  for (gsize i = 0; i < len; i++)
    g_assert_cmpuint (p[i], ==, (guint8) (seed + i));
}

static uint16_t
peek (Ring *r, struct rte_mbuf **pkts, uint16_t n)
{
  return dvs_vring_peek (&r->vr, pool, pkts, n);
}

static void
free_all (struct rte_mbuf **pkts, uint16_t n)
{
  rte_pktmbuf_free_bulk (pkts, n);
}

/* One descriptor: header and frame together. */
static void
test_plain (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkts[4];

  set_desc (r, 3, buffer (r, HDR + 60, HDR, 0x10), HDR + 60, 0, 0);
  offer (r, 3);
  g_assert_cmpuint (dvs_vring_pending (&r->vr), ==, 1);
  g_assert_cmpuint (peek (r, pkts, 4), ==, 1);
  assert_frame (pkts[0], 60, 0x10);
  g_assert_cmpuint (pkts[0]->nb_segs, ==, 1);
  /* Consumed, not handed back. */
  g_assert_cmpuint (dvs_vring_pending (&r->vr), ==, 0);
  g_assert_cmpuint (dvs_vring_unpublished (&r->vr), ==, 1);
  g_assert_cmpuint (r->used->idx, ==, 0);
  g_assert_true (dvs_vring_publish (&r->vr));
  g_assert_cmpuint (r->used->idx, ==, 1);
  g_assert_cmpuint (r->used->ring[0].id, ==, 3);
  g_assert_cmpuint (r->used->ring[0].len, ==, 0);
  g_assert_cmpuint (r->vr.malformed, ==, 0);
  /* Nothing more: no frame, nothing to publish. */
  g_assert_cmpuint (peek (r, pkts + 1, 4), ==, 0);
  g_assert_false (dvs_vring_publish (&r->vr));
  g_assert_cmpuint (r->used->idx, ==, 1);
  free_all (pkts, 1);
}

/* The header spread over three descriptors, the frame over two. */
static void
test_header_split (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkt;
  guint8 frame[50];
  guint64 g;

  for (guint i = 0; i < sizeof frame; i++)
    frame[i] = (guint8) (0x40 + i);
  set_desc (r, 0, buffer (r, 5, 5, 0), 5, VRING_DESC_F_NEXT, 1);
  set_desc (r, 1, buffer (r, 4, 4, 0), 4, VRING_DESC_F_NEXT, 2);
  /* 3 header bytes then 20 frame bytes */
  g = r->next_gpa;
  r->next_gpa += 64;
  guest_write (r, g, (guint8[3]) { 0 }, 3);
  guest_write (r, g + 3, frame, 20);
  set_desc (r, 2, g, 23, VRING_DESC_F_NEXT, 7);
  g = r->next_gpa;
  r->next_gpa += 64;
  guest_write (r, g, frame + 20, 30);
  set_desc (r, 7, g, 30, 0, 0);
  offer (r, 0);
  g_assert_cmpuint (peek (r, &pkt, 1), ==, 1);
  assert_frame (pkt, 50, 0x40);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->ring[0].id, ==, 0);
  free_all (&pkt, 1);
}

/* Several chains in one burst, each with the header alone in front (as
 * Linux without VERSION_1's any-layout), in the order offered. */
static void
test_chains (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkts[8];
  const guint16 heads[3] = { 9, 2, 14 };

  for (guint k = 0; k < 3; k++)
    {
      guint16 h = heads[k], d1 = (guint16) (h + 1), d2 = (guint16) (h - 1);
      set_desc (r, h, buffer (r, HDR, HDR, 0), HDR, VRING_DESC_F_NEXT, d1);
      set_desc (r, d1, buffer (r, 100, 0, (guint8) (k * 50)), 100, VRING_DESC_F_NEXT, d2);
      set_desc (r, d2, buffer (r, 28, 0, (guint8) (k * 50 + 100)), 28, 0, 0);
      offer (r, h);
    }
  g_assert_cmpuint (peek (r, pkts, 8), ==, 3);
  for (guint k = 0; k < 3; k++)
    assert_frame (pkts[k], 128, (guint8) (k * 50));
  g_assert_true (dvs_vring_publish (&r->vr));
  g_assert_cmpuint (r->used->idx, ==, 3);
  for (guint k = 0; k < 3; k++)
    {
      g_assert_cmpuint (r->used->ring[k].id, ==, heads[k]);
      g_assert_cmpuint (r->used->ring[k].len, ==, 0);
    }
  free_all (pkts, 3);
}

static guint64
indirect_table (Ring *r, const struct vring_desc *t, guint n)
{
  guint64 g = r->next_gpa;

  guest_write (r, g, t, n * sizeof *t);
  r->next_gpa += (n * sizeof *t + 63) & ~63ull;
  return g;
}

/* An indirect table: header and frame in two of its entries, linked out
 * of order. */
static void
test_indirect (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkt;
  struct vring_desc t[3] = {
    { .addr = buffer (r, HDR, HDR, 0), .len = HDR, .flags = VRING_DESC_F_NEXT, .next = 2 },
    { 0 },
    { .addr = buffer (r, 70, 0, 0x33), .len = 70 },
  };

  set_desc (r, 5, indirect_table (r, t, 3), sizeof t, VRING_DESC_F_INDIRECT, 0);
  offer (r, 5);
  g_assert_cmpuint (peek (r, &pkt, 1), ==, 1);
  assert_frame (pkt, 70, 0x33);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->ring[0].id, ==, 5);
  free_all (&pkt, 1);
}

/* Buffers (and an indirect table) that straddle the two regions: copied
 * piece by piece. */
static void
test_across_regions (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkts[2];
  struct vring_desc t[2];
  guint64 g;

  /* A frame buffer starting 40 bytes before region B. */
  r->next_gpa = GPA_B - 40;
  g = buffer (r, HDR + 100, HDR, 0x70);
  set_desc (r, 0, g, HDR + 100, 0, 0);
  offer (r, 0);
  g_assert_cmpuint (peek (r, pkts, 2), ==, 1);
  assert_frame (pkts[0], 100, 0x70);
  dvs_vring_publish (&r->vr);

  /* An indirect table starting 8 bytes before region B: its first entry
   * is half in each. */
  r->next_gpa = GPA_A + 8192;
  t[0] = (struct vring_desc) { .addr = buffer (r, HDR, HDR, 0), .len = HDR,
                               .flags = VRING_DESC_F_NEXT, .next = 1 };
  t[1] = (struct vring_desc) { .addr = buffer (r, 64, 0, 0x90), .len = 64 };
  r->next_gpa = GPA_B - 8;
  g = indirect_table (r, t, 2);
  set_desc (r, 1, g, sizeof t, VRING_DESC_F_INDIRECT, 0);
  offer (r, 1);
  g_assert_cmpuint (peek (r, pkts + 1, 1), ==, 1);
  assert_frame (pkts[1], 64, 0x90);
  g_assert_cmpuint (r->vr.malformed, ==, 0);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->idx, ==, 2);
  free_all (pkts, 2);
}

/* Larger than one mbuf's data room: a chain of mbufs. */
static void
test_large_frame (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkt;
  const gsize len = 9000;

  set_desc (r, 4, buffer (r, HDR + len, HDR, 0x01), HDR + len, 0, 0);
  offer (r, 4);
  g_assert_cmpuint (peek (r, &pkt, 1), ==, 1);
  g_assert_cmpuint (pkt->nb_segs, >, 1);
  assert_frame (pkt, len, 0x01);
  free_all (&pkt, 1);
  dvs_vring_publish (&r->vr);
}

/* Free-running 16-bit positions across 65535 -> 0. */
static void
test_wrap (void)
{
  Ring ring, *r = &ring;
  struct rte_mbuf *pkts[8];

  ring_setup (r, RING, 65533, false);
  for (guint k = 0; k < 6; k++)
    {
      set_desc (r, k, buffer (r, HDR + 20, HDR, (guint8) k), HDR + 20, 0, 0);
      offer (r, (guint16) k);
    }
  g_assert_cmpuint (r->avail->idx, ==, 3);
  g_assert_cmpuint (dvs_vring_pending (&r->vr), ==, 6);
  g_assert_cmpuint (peek (r, pkts, 4), ==, 4);
  g_assert_cmpuint (r->vr.last_avail, ==, 1);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->idx, ==, 1);
  g_assert_cmpuint (peek (r, pkts + 4, 4), ==, 2);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->idx, ==, 3);
  for (guint k = 0; k < 6; k++)
    {
      assert_frame (pkts[k], 20, (guint8) k);
      g_assert_cmpuint (r->used->ring[(65533 + k) % RING].id, ==, k);
    }
  free_all (pkts, 6);
  ring_teardown (r);
}

/* Each malformed chain is consumed and handed back with length 0, gives no
 * frame, is counted, and the good frame after it still arrives. */
typedef void (*Corrupt) (Ring *r);

static void
bad_head (Ring *r)
{
  offer (r, RING + 3);
}

static void
bad_next (Ring *r)
{
  set_desc (r, 0, buffer (r, HDR, HDR, 0), HDR, VRING_DESC_F_NEXT, RING);
  offer (r, 0);
}

static void
bad_loop (Ring *r)
{
  set_desc (r, 0, buffer (r, HDR, HDR, 0), HDR, VRING_DESC_F_NEXT, 1);
  set_desc (r, 1, buffer (r, 8, 0, 0), 8, VRING_DESC_F_NEXT, 2);
  set_desc (r, 2, buffer (r, 8, 0, 0), 8, VRING_DESC_F_NEXT, 1);
  offer (r, 0);
}

static void
bad_write_only (Ring *r)
{
  set_desc (r, 0, buffer (r, HDR, HDR, 0), HDR, VRING_DESC_F_NEXT, 1);
  set_desc (r, 1, buffer (r, 60, 0, 0), 60, VRING_DESC_F_WRITE, 0);
  offer (r, 0);
}

static void
bad_address (Ring *r)
{
  set_desc (r, 0, GPA_HOLE, HDR + 60, 0, 0);
  offer (r, 0);
}

static void
bad_address_end (Ring *r)
{
  /* Starts mapped, runs past the end of region B. */
  set_desc (r, 0, GPA_B + REGION - 30, HDR + 60, 0, 0);
  offer (r, 0);
}

static void
bad_short (Ring *r)
{
  set_desc (r, 0, buffer (r, HDR - 2, HDR - 2, 0), HDR - 2, 0, 0);
  offer (r, 0);
}

static void
bad_empty (Ring *r)
{
  set_desc (r, 0, buffer (r, HDR, HDR, 0), HDR, 0, 0);
  offer (r, 0);
}

static void
bad_too_long (Ring *r)
{
  set_desc (r, 0, buffer (r, 64, 0, 0), HDR + DVS_VRING_MAX_FRAME + 1, 0, 0);
  offer (r, 0);
}

static void
indirect_with (Ring *r, guint32 len, guint16 flags, const struct vring_desc *t, guint n)
{
  guint64 g = t != NULL ? indirect_table (r, t, n) : buffer (r, 64, 0, 0);
  set_desc (r, 0, g, len, VRING_DESC_F_INDIRECT | flags, 1);
  offer (r, 0);
}

static const struct vring_desc two[2] = {
  { .addr = GPA_A, .len = HDR, .flags = VRING_DESC_F_NEXT, .next = 1 },
  { .addr = GPA_A + 64, .len = 60 },
};

static void
bad_indirect_len (Ring *r)
{
  indirect_with (r, sizeof two - 4, 0, two, 2);
}

static void
bad_indirect_zero (Ring *r)
{
  indirect_with (r, 0, 0, two, 2);
}

static void
bad_indirect_huge (Ring *r)
{
  indirect_with (r, (RING + 1) * sizeof (struct vring_desc), 0, NULL, 0);
}

static void
bad_indirect_next (Ring *r)
{
  indirect_with (r, sizeof two, VRING_DESC_F_NEXT, two, 2);
}

static void
bad_indirect_address (Ring *r)
{
  set_desc (r, 0, GPA_HOLE, sizeof two, VRING_DESC_F_INDIRECT, 0);
  offer (r, 0);
}

static void
bad_indirect_nested (Ring *r)
{
  struct vring_desc t[2] = {
    { .addr = GPA_A, .len = HDR, .flags = VRING_DESC_F_NEXT, .next = 1 },
    { .addr = indirect_table (r, two, 2), .len = sizeof two, .flags = VRING_DESC_F_INDIRECT },
  };
  indirect_with (r, sizeof t, 0, t, 2);
}

static void
bad_indirect_next_range (Ring *r)
{
  struct vring_desc t[2] = {
    { .addr = GPA_A, .len = HDR, .flags = VRING_DESC_F_NEXT, .next = 2 },
    { .addr = GPA_A + 64, .len = 60 },
  };
  indirect_with (r, sizeof t, 0, t, 2);
}

static void
bad_indirect_loop (Ring *r)
{
  struct vring_desc t[2] = {
    { .addr = GPA_A, .len = HDR, .flags = VRING_DESC_F_NEXT, .next = 1 },
    { .addr = GPA_A + 64, .len = 60, .flags = VRING_DESC_F_NEXT, .next = 0 },
  };
  indirect_with (r, sizeof t, 0, t, 2);
}

static void
bad_indirect_in_chain (Ring *r)
{
  set_desc (r, 0, buffer (r, HDR, HDR, 0), HDR, VRING_DESC_F_NEXT, 1);
  set_desc (r, 1, indirect_table (r, two, 2), sizeof two, VRING_DESC_F_INDIRECT, 0);
  offer (r, 0);
}

typedef struct {
  const char *name;
  Corrupt corrupt;
} BadCase;

static const BadCase bad_cases[] = {
  { "head-out-of-range", bad_head },
  { "next-out-of-range", bad_next },
  { "loop", bad_loop },
  { "write-only", bad_write_only },
  { "untranslatable", bad_address },
  { "untranslatable-end", bad_address_end },
  { "shorter-than-header", bad_short },
  { "no-frame-bytes", bad_empty },
  { "too-long", bad_too_long },
  { "indirect-length", bad_indirect_len },
  { "indirect-empty", bad_indirect_zero },
  { "indirect-longer-than-ring", bad_indirect_huge },
  { "indirect-with-next", bad_indirect_next },
  { "indirect-untranslatable", bad_indirect_address },
  { "indirect-nested", bad_indirect_nested },
  { "indirect-next-out-of-range", bad_indirect_next_range },
  { "indirect-loop", bad_indirect_loop },
  { "indirect-in-chain", bad_indirect_in_chain },
};

static void
test_malformed (gconstpointer data)
{
  Corrupt corrupt = ((const BadCase *) data)->corrupt;
  Ring ring, *r = &ring;
  struct rte_mbuf *pkts[4];
  guint16 first_head;

  ring_setup (r, RING, 0, false);
  corrupt (r);
  first_head = r->avail->ring[0];
  set_desc (r, 10, buffer (r, HDR + 30, HDR, 0x55), HDR + 30, 0, 0);
  offer (r, 10);
  g_assert_cmpuint (peek (r, pkts, 4), ==, 1);
  assert_frame (pkts[0], 30, 0x55);
  g_assert_cmpuint (r->vr.malformed, ==, 1);
  g_assert_cmpuint (r->vr.last_avail, ==, 2);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->idx, ==, 2);
  g_assert_cmpuint (r->used->ring[0].id, ==, first_head);
  g_assert_cmpuint (r->used->ring[0].len, ==, 0);
  g_assert_cmpuint (r->used->ring[1].id, ==, 10);
  free_all (pkts, 1);
  ring_teardown (r);
}

/* A burst of malformed chains only: consumed, no frame, still published. */
static void
test_malformed_only (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkts[4];

  offer (r, RING);
  offer (r, RING + 1);
  g_assert_cmpuint (peek (r, pkts, 4), ==, 0);
  g_assert_cmpuint (dvs_vring_unpublished (&r->vr), ==, 2);
  g_assert_true (dvs_vring_publish (&r->vr));
  g_assert_cmpuint (r->used->idx, ==, 2);
  g_assert_cmpuint (r->vr.malformed, ==, 2);
}

/* A second peek before publish reads nothing; after it, the rest. */
static void
test_peek_twice (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkts[4];

  for (guint k = 0; k < 3; k++)
    {
      set_desc (r, k, buffer (r, HDR + 20, HDR, (guint8) k), HDR + 20, 0, 0);
      offer (r, (guint16) k);
    }
  g_assert_cmpuint (peek (r, pkts, 2), ==, 2);
  g_assert_cmpuint (peek (r, pkts + 2, 2), ==, 0);
  g_assert_cmpuint (r->vr.last_avail, ==, 2);
  g_assert_cmpuint (dvs_vring_unpublished (&r->vr), ==, 2);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (peek (r, pkts + 2, 2), ==, 1);
  assert_frame (pkts[2], 20, 2);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->idx, ==, 3);
  free_all (pkts, 3);
}

/* Bursts are bounded by @n and DVS_VRING_MAX_BURST. */
static void
test_burst_bounds (void)
{
  Ring ring, *r = &ring;
  struct rte_mbuf *pkts[DVS_VRING_MAX_BURST + 8];
  guint64 g;

  ring_setup (r, 128, 0, false);
  g = buffer (r, HDR + 20, HDR, 0);
  for (guint k = 0; k < 100; k++)
    {
      set_desc (r, k, g, HDR + 20, 0, 0);
      offer (r, (guint16) k);
    }
  g_assert_cmpuint (peek (r, pkts, 5), ==, 5);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (peek (r, pkts + 5, DVS_VRING_MAX_BURST + 8), ==, DVS_VRING_MAX_BURST);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->idx, ==, 5 + DVS_VRING_MAX_BURST);
  free_all (pkts, 5 + DVS_VRING_MAX_BURST);
  ring_teardown (r);
}

/* Out of mbufs in the middle of a chain: that chain stays offered. */
static void
test_no_buffers (Ring *r, gconstpointer data)
{
  struct rte_mempool *small;
  struct rte_mbuf *pkts[2];

  small = rte_pktmbuf_pool_create ("vring_small", 3, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   SOCKET_ID_ANY);
  g_assert_nonnull (small);
  set_desc (r, 0, buffer (r, HDR + 20, HDR, 0x20), HDR + 20, 0, 0);
  set_desc (r, 1, buffer (r, HDR + 5000, HDR, 0x30), HDR + 5000, 0, 0);
  offer (r, 0);
  offer (r, 1);
  /* 3 buffers: one for the first frame, two for the second's 3 segments. */
  g_assert_cmpuint (dvs_vring_peek (&r->vr, small, pkts, 2), ==, 1);
  assert_frame (pkts[0], 20, 0x20);
  g_assert_cmpuint (r->vr.last_avail, ==, 1);
  g_assert_cmpuint (rte_mempool_avail_count (small), ==, 2);
  rte_pktmbuf_free (pkts[0]);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (dvs_vring_peek (&r->vr, small, pkts + 1, 2), ==, 1);
  assert_frame (pkts[1], 5000, 0x30);
  g_assert_cmpuint (r->vr.malformed, ==, 0);
  rte_pktmbuf_free (pkts[1]);
  dvs_vring_publish (&r->vr);
  g_assert_cmpuint (r->used->ring[1].id, ==, 1);
  rte_mempool_free (small);
}

/* Without EVENT_IDX: signal unless VRING_AVAIL_F_NO_INTERRUPT. */
static void
test_signal_flags (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkt;
  guint64 g = buffer (r, HDR + 20, HDR, 0);

  set_desc (r, 0, g, HDR + 20, 0, 0);
  r->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
  offer (r, 0);
  g_assert_cmpuint (peek (r, &pkt, 1), ==, 1);
  rte_pktmbuf_free (pkt);
  g_assert_false (dvs_vring_publish (&r->vr));
  r->avail->flags = 0;
  offer (r, 0);
  g_assert_cmpuint (peek (r, &pkt, 1), ==, 1);
  rte_pktmbuf_free (pkt);
  g_assert_true (dvs_vring_publish (&r->vr));
}

/* With EVENT_IDX: signal when used->idx passes used_event (the flags are
 * ignored). */
static void
test_signal_event_idx (void)
{
  Ring ring, *r = &ring;
  struct rte_mbuf *pkts[4];
  guint64 g;

  ring_setup (r, RING, 0, true);
  g = buffer (r, HDR + 20, HDR, 0);
  set_desc (r, 0, g, HDR + 20, 0, 0);
  r->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
  /* The guest wants to hear when entry 2 is used (used->idx goes past 2). */
  *used_event (r) = 2;
  offer (r, 0);
  offer (r, 0);
  g_assert_cmpuint (peek (r, pkts, 2), ==, 2);       /* used 0 -> 2 */
  free_all (pkts, 2);
  g_assert_false (dvs_vring_publish (&r->vr));
  offer (r, 0);
  g_assert_cmpuint (peek (r, pkts, 1), ==, 1);       /* used 2 -> 3 */
  free_all (pkts, 1);
  g_assert_true (dvs_vring_publish (&r->vr));
  offer (r, 0);
  g_assert_cmpuint (peek (r, pkts, 1), ==, 1);       /* used 3 -> 4 */
  free_all (pkts, 1);
  g_assert_false (dvs_vring_publish (&r->vr));
  /* Crossing it within a burst counts too. */
  *used_event (r) = 5;
  for (guint k = 0; k < 3; k++)
    offer (r, 0);
  g_assert_cmpuint (peek (r, pkts, 4), ==, 3);       /* used 4 -> 7 */
  free_all (pkts, 3);
  g_assert_true (dvs_vring_publish (&r->vr));
  ring_teardown (r);
}

/* Notification control: used->flags, or avail_event with EVENT_IDX. */
static void
test_notify (void)
{
  Ring ring, *r = &ring;
  struct rte_mbuf *pkt;

  ring_setup (r, RING, 0, false);
  dvs_vring_set_notify (&r->vr, false);
  g_assert_cmpuint (r->used->flags, ==, VRING_USED_F_NO_NOTIFY);
  dvs_vring_set_notify (&r->vr, true);
  g_assert_cmpuint (r->used->flags, ==, 0);
  ring_teardown (r);

  ring_setup (r, RING, 65530, true);
  set_desc (r, 0, buffer (r, HDR + 20, HDR, 0), HDR + 20, 0, 0);
  offer (r, 0);
  g_assert_cmpuint (peek (r, &pkt, 1), ==, 1);
  rte_pktmbuf_free (pkt);
  dvs_vring_publish (&r->vr);
  dvs_vring_set_notify (&r->vr, false);
  g_assert_cmpuint (r->used->flags, ==, 0);
  g_assert_cmpuint (*avail_event (r), ==, 0);
  dvs_vring_set_notify (&r->vr, true);
  g_assert_cmpuint (*avail_event (r), ==, 65531);
  g_assert_cmpuint (r->used->flags, ==, 0);
  ring_teardown (r);
}

/* Dirty logging of every used-ring write, split at the wrap. */
static void
test_log (void)
{
  Ring ring, *r = &ring;
  struct rte_mbuf *pkts[4];
  guint64 g, *l;

  ring_setup (r, RING, RING - 2, false);
  r->vr.log = log_used;
  g = buffer (r, HDR + 20, HDR, 0);
  set_desc (r, 0, g, HDR + 20, 0, 0);
  for (guint k = 0; k < 3; k++)
    offer (r, 0);
  g_assert_cmpuint (peek (r, pkts, 4), ==, 3);
  free_all (pkts, 3);
  g_assert_cmpuint (r->logged->len, ==, 0);
  dvs_vring_publish (&r->vr);
  l = (guint64 *) r->logged->data;
  g_assert_cmpuint (r->logged->len, ==, 6);
  g_assert_cmpuint (l[0], ==, 4 + 8 * (RING - 2));    /* elements 14, 15 */
  g_assert_cmpuint (l[1], ==, 16);
  g_assert_cmpuint (l[2], ==, 4);                     /* element 0 */
  g_assert_cmpuint (l[3], ==, 8);
  g_assert_cmpuint (l[4], ==, 2);                     /* used->idx */
  g_assert_cmpuint (l[5], ==, 2);
  g_array_set_size (r->logged, 0);
  dvs_vring_set_notify (&r->vr, false);
  l = (guint64 *) r->logged->data;
  g_assert_cmpuint (r->logged->len, ==, 2);
  g_assert_cmpuint (l[0], ==, 0);                     /* used->flags */
  ring_teardown (r);
}

/* Discard hands back what a crashed process had delivered, unread. */
static void
test_discard (Ring *r, gconstpointer data)
{
  struct rte_mbuf *pkts[4];
  guint before;

  for (guint k = 0; k < 5; k++)
    {
      set_desc (r, k, buffer (r, HDR + 20, HDR, (guint8) k), HDR + 20, 0, 0);
      offer (r, (guint16) (4 - k));
    }
  /* Not offered that far, nothing, too far back: refused. */
  g_assert_cmpuint (dvs_vring_discard (&r->vr, 6), ==, 0);
  g_assert_cmpuint (dvs_vring_discard (&r->vr, 0), ==, 0);
  g_assert_cmpuint (dvs_vring_discard (&r->vr, 65535), ==, 0);
  g_assert_cmpuint (dvs_vring_discard (&r->vr, DVS_VRING_MAX_BURST + 1), ==, 0);
  before = r->translations;
  g_assert_cmpuint (dvs_vring_discard (&r->vr, 3), ==, 3);
  g_assert_cmpuint (r->translations, ==, before);     /* not read */
  g_assert_cmpuint (r->vr.last_avail, ==, 3);
  g_assert_true (dvs_vring_publish (&r->vr));
  g_assert_cmpuint (r->used->idx, ==, 3);
  for (guint k = 0; k < 3; k++)
    g_assert_cmpuint (r->used->ring[k].id, ==, 4 - k);
  g_assert_cmpuint (peek (r, pkts, 4), ==, 2);
  assert_frame (pkts[0], 20, 1);
  assert_frame (pkts[1], 20, 0);
  dvs_vring_publish (&r->vr);
  free_all (pkts, 2);
}

static void
test_init_checks (void)
{
  struct dvs_vring vr;
  struct vring_desc d[4];
  struct vring_avail *a = g_malloc0 (64);
  struct vring_used *u = g_malloc0 (64);

  g_assert_cmpint (dvs_vring_init (&vr, d, a, u, 0, 0, 0, HDR, false, region, NULL), ==, -EINVAL);
  g_assert_cmpint (dvs_vring_init (&vr, d, a, u, 3, 0, 0, HDR, false, region, NULL), ==, -EINVAL);
  g_assert_cmpint (dvs_vring_init (&vr, NULL, a, u, 4, 0, 0, HDR, false, region, NULL), ==, -EINVAL);
  g_assert_cmpint (dvs_vring_init (&vr, d, a, u, 4, 0, 0, HDR, false, NULL, NULL), ==, -EINVAL);
  g_assert_cmpint (dvs_vring_init (&vr, d, a, u, 4, 0, 0, HDR, false, region, NULL), ==, 0);
  g_free (a);
  g_free (u);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_eal_init ();
  pool = rte_pktmbuf_pool_create ("vring_frames", 511, 0, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  g_assert_nonnull (pool);
  host_a = g_malloc0 (REGION);
  host_b = g_malloc0 (REGION);

#define T(path, fn) g_test_add ("/vring/" path, Ring, NULL, fixture_setup, fn, fixture_teardown)
  T ("plain", test_plain);
  T ("header-split", test_header_split);
  T ("chains", test_chains);
  T ("indirect", test_indirect);
  T ("across-regions", test_across_regions);
  T ("large-frame", test_large_frame);
  T ("malformed-only", test_malformed_only);
  T ("peek-twice", test_peek_twice);
  T ("no-buffers", test_no_buffers);
  T ("signal-flags", test_signal_flags);
  T ("discard", test_discard);
#undef T
  g_test_add_func ("/vring/wrap", test_wrap);
  g_test_add_func ("/vring/burst-bounds", test_burst_bounds);
  g_test_add_func ("/vring/signal-event-idx", test_signal_event_idx);
  g_test_add_func ("/vring/notify", test_notify);
  g_test_add_func ("/vring/log", test_log);
  g_test_add_func ("/vring/init-checks", test_init_checks);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree gchar *path = g_strdup_printf ("/vring/malformed/%s", bad_cases[i].name);
      g_test_add_data_func (path, &bad_cases[i], test_malformed);
    }
  int ret = g_test_run ();
  g_free (host_a);
  g_free (host_b);
  return ret;
}
