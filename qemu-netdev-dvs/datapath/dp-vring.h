/* A reader of a guest's split virtqueue (virtio 1.x, 2.7) on the device
 * side, for a transmit queue: it copies the frames the guest offers into
 * mbufs and hands the descriptors back (the used ring) only when told to.
 *
 * Why: DPDK's rte_vhost_dequeue_burst marks descriptors used as it copies
 * them, before the switch has counted the frames; a switch killed in
 * between loses them without a trace.  Here peek() consumes and publish()
 * hands back, so a caller publishes after delivery and accounting
 * (docs/datapath.md, "Reading the guests' transmit rings").
 *
 * Plain C and rte_mbuf only: no rte_vhost, no GLib, no locks, no system
 * calls (signalling the guest is the caller's: publish() says whether to).
 * The rings live in memory the guest writes concurrently: every index,
 * length, flag and address read from it is checked before use, and read
 * once.  One thread uses a struct dvs_vring at a time.
 *
 * Frames: the virtio-net header (@hdr_len bytes, possibly spread over
 * several descriptors) is skipped; the rest is copied into one mbuf, or a
 * chain of mbufs when it exceeds the pool's data room.  A frame carries at
 * most DVS_VRING_MAX_FRAME bytes after the header.
 *
 * Malformed chains: a head or next index out of range, a chain longer than
 * the ring (a loop), a device-writable (WRITE) descriptor, an indirect
 * table that is empty, not a multiple of 16 bytes, longer than the ring,
 * nested, or chained after other descriptors, a buffer whose guest address
 * does not translate over its whole length, a chain shorter than the
 * header or with no frame bytes, or a frame over DVS_VRING_MAX_FRAME.  Such
 * a chain is consumed (published like the others, with length 0), returns
 * no frame and is counted in @malformed.  The guest gets its buffer back
 * and the ring goes on. */
#pragma once

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

/* Most frames one peek() returns (and descriptor chains it consumes). */
#define DVS_VRING_MAX_BURST 64
/* Longest frame after the virtio-net header (bytes). */
#define DVS_VRING_MAX_FRAME 65535u

/* A range of guest-physical memory mapped contiguously on the host. */
struct dvs_vring_region {
  uint64_t gpa;                   /* first guest-physical address */
  uint64_t size;                  /* bytes */
  uint8_t *host;                  /* where @gpa is mapped */
};
/* Fills *@out with the region holding guest-physical @gpa: false if @gpa is
 * not mapped.  The reader keeps the last region it was given and asks again
 * only for addresses outside it (re-init forgets it: after the memory table
 * changes, set the ring up again). */
typedef bool (*dvs_vring_region_fn) (void *ctx, uint64_t gpa,
                                     struct dvs_vring_region *out);
/* The device wrote @len bytes at @offset into the used ring (dirty-page
 * logging for live migration). */
typedef void (*dvs_vring_log_fn) (void *ctx, uint64_t offset, uint64_t len);

struct dvs_vring {
  /* set by init */
  struct vring_desc *desc;
  struct vring_avail *avail;
  struct vring_used *used;
  uint16_t size;                  /* entries, a power of 2 */
  uint16_t hdr_len;               /* virtio-net header bytes: 10 or 12 */
  bool event_idx;                 /* VIRTIO_RING_F_EVENT_IDX negotiated */
  dvs_vring_region_fn region;
  void *ctx;                      /* for region and log */
  struct dvs_vring_region last;   /* last region looked up (size 0: none) */
  dvs_vring_log_fn log;           /* NULL: no logging; may be changed */

  /* positions (free-running) */
  uint16_t last_avail;            /* next avail entry to consume */
  uint16_t last_used;             /* next used entry to write */

  /* consumed, not yet published */
  uint16_t n_heads;
  uint16_t heads[DVS_VRING_MAX_BURST];

  /* counters */
  uint64_t malformed;             /* chains consumed without a frame */
};

/* Sets up @vr on a ring whose device positions are @last_avail (next avail
 * entry to read) and @last_used (next used entry to write): what
 * GET_VRING_BASE reports, equal for a transmit queue.  -EINVAL if @size is
 * not a power of 2 (1..32768), a pointer is NULL or @hdr_len > 64. */
int dvs_vring_init (struct dvs_vring *vr, struct vring_desc *desc,
                    struct vring_avail *avail, struct vring_used *used,
                    uint16_t size, uint16_t last_avail, uint16_t last_used,
                    uint16_t hdr_len, bool event_idx,
                    dvs_vring_region_fn region, void *ctx);

/* Entries the guest offered that were not consumed yet. */
uint16_t dvs_vring_pending (const struct dvs_vring *vr);

/* Consumes up to @n offered chains (at most DVS_VRING_MAX_BURST) and returns
 * the frames they carried in @pkts (the caller owns them; malformed chains
 * give none, so fewer frames than chains may come back).  Buffers come from
 * @pool; when it runs dry the burst ends early and the chain in hand is
 * left for the next peek.  Returns 0 without reading while chains consumed
 * earlier are unpublished: publish between peeks. */
uint16_t dvs_vring_peek (struct dvs_vring *vr, struct rte_mempool *pool,
                         struct rte_mbuf **pkts, uint16_t n);

/* Chains consumed and not yet published. */
static inline uint16_t
dvs_vring_unpublished (const struct dvs_vring *vr)
{
  return vr->n_heads;
}

/* Consumes, without reading them, the offered chains from last_avail up to
 * position @upto, if 0 < upto - last_avail <= DVS_VRING_MAX_BURST and they
 * are offered; returns how many (0: nothing done).  Publish afterwards. */
uint16_t dvs_vring_discard (struct dvs_vring *vr, uint16_t upto);

/* Hands the consumed chains back: writes their used elements (id = head,
 * len = 0) in the order consumed, then used->idx (release).  Returns true
 * if the guest wants an interrupt for this (VRING_AVAIL_F_NO_INTERRUPT
 * clear, or with EVENT_IDX the used_event it set was crossed): signal its
 * call eventfd.  Nothing consumed: returns false and writes nothing. */
bool dvs_vring_publish (struct dvs_vring *vr);

/* Asks the guest to kick on new entries (true) or not to bother (false):
 * VRING_USED_F_NO_NOTIFY in used->flags, or with EVENT_IDX avail_event set
 * to last_avail (enabling only).  Enabling ends with a full barrier, so a
 * following dvs_vring_pending() sees what the guest offered before it could
 * see the request. */
void dvs_vring_set_notify (struct dvs_vring *vr, bool enable);
