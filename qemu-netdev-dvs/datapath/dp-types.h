/* Plain-C types shared by the datapath, the forwarding classes and the
 * control plane that configures them.  No GLib, no DPDK: the control plane
 * fills these in, the datapath reads them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define DVS_MAX_PORTS 1024      /* ports per switch instance */
#define DVS_MAX_DOMAINS 16      /* forwarding domains: 0 for plain ports, one
                                 * per DVswitch the host is a member of */
/* vNIC (and plain) ports one switch serves: the top DVS_MAX_DOMAINS - 1
 * datapath ports are the uplinks, one per DVswitch domain. */
#define DVS_MAX_VNIC_PORTS (DVS_MAX_PORTS - (DVS_MAX_DOMAINS - 1))
#define DVS_BURST 32            /* frames per rx/tx burst */
#define DVS_VLAN_COUNT 4096
#define DVS_VLAN_MAX 4094       /* highest usable VID; 0 is the untagged domain */
#define DVS_HOLD_MAX 256        /* frames a held port queues while its link is down */
/* Queue pairs per port (multi-queue vNICs, QEMU queues=N): what a port
 * declares to its vhost-user front-end and counts per queue.  Queue q of a
 * port is, from the switch's side, rx queue q = the guest's transmit vring
 * (2q + 1) and tx queue q = the guest's receive vring (2q). */
#define DVS_MAX_QUEUES 8

enum dvs_vlan_mode {
  DVS_VLAN_ACCESS,   /* untagged at the edge, one VLAN */
  DVS_VLAN_TRUNK,    /* tagged at the edge for the allowed VIDs, native untagged */
};

struct dvs_vlan_config {
  enum dvs_vlan_mode mode;
  uint16_t tag;                              /* access: the VLAN (0 = untagged domain) */
  uint16_t native;                           /* trunk: VLAN of untagged frames */
  uint64_t trunks[DVS_VLAN_COUNT / 64];      /* trunk: allowed VIDs, bit per VID */
};

static inline bool
dvs_vlan_config_equal (const struct dvs_vlan_config *a, const struct dvs_vlan_config *b)
{
  if (a->mode != b->mode || a->tag != b->tag || a->native != b->native)
    return false;
  for (unsigned i = 0; i < DVS_VLAN_COUNT / 64; i++)
    if (a->trunks[i] != b->trunks[i])
      return false;
  return true;
}

static inline bool
dvs_vlan_trunk_allows (const struct dvs_vlan_config *c, uint16_t vid)
{
  return (c->trunks[vid >> 6] >> (vid & 63)) & 1;
}

static inline void
dvs_vlan_trunk_allow (struct dvs_vlan_config *c, uint16_t vid)
{
  c->trunks[vid >> 6] |= UINT64_C (1) << (vid & 63);
}

/* Does a frame of internal VLAN @vid belong on a port with config @c? */
static inline bool
dvs_vlan_member (const struct dvs_vlan_config *c, uint16_t vid)
{
  if (c->mode == DVS_VLAN_ACCESS)
    return c->tag == vid;
  return vid == c->native || dvs_vlan_trunk_allows (c, vid);
}

/* Must a frame of VLAN @vid leave port @c tagged? */
static inline bool
dvs_vlan_egress_tagged (const struct dvs_vlan_config *c, uint16_t vid)
{
  return c->mode == DVS_VLAN_TRUNK && vid != c->native && vid != 0;
}

enum dvs_pkt_kind {
  DVS_PKT_UNICAST,
  DVS_PKT_MULTICAST,
  DVS_PKT_BROADCAST,
  DVS_PKT_KIND_COUNT,
};

/* The filter classes (classes/filter-class.h), in the order they run. */
enum dvs_filter_id {
  DVS_FILTER_BLOCK,
  DVS_FILTER_SECURITY,
  DVS_FILTER_SHAPER,
  DVS_FILTER_COUNT,
};

/* Per-port counters.  Written only by the datapath thread; other threads
 * read them with relaxed atomic loads (aligned 64-bit words). */
struct dvs_port_stats {
  uint64_t rx_packets[DVS_PKT_KIND_COUNT];
  uint64_t rx_bytes[DVS_PKT_KIND_COUNT];
  uint64_t tx_packets[DVS_PKT_KIND_COUNT];
  uint64_t tx_bytes[DVS_PKT_KIND_COUNT];
  uint64_t drop_no_buffer;
  uint64_t drop_vlan_filtered;
  uint64_t drop_ring_full;
  uint64_t drop_link_down;
  uint64_t drop_malformed;      /* runt frames */
  uint64_t drop_filter[DVS_FILTER_COUNT];  /* dropped by each filter class */
  uint64_t mirrored;            /* copies sent to this port's mirror target */
  uint64_t held;                /* frames queued while held with link down */
  uint64_t hold_dropped;        /* frames not queued: the hold queue was full */
  uint64_t drop_crash;          /* frames received from this port that a
                                 * crashed process had not delivered
                                 * anywhere (the burst journal, below) */
  uint64_t dropped_while_down;  /* frames the guest had queued that QEMU
                                 * dropped while no switch ran (not
                                 * received: counted by the next switch
                                 * from the ring positions) */
  /* Per queue (DVS_MAX_QUEUES): frames and bytes received from the guest on
   * rx queue q (counted as rx_packets/rx_bytes are: the sums over the
   * queues equal the totals), and delivered to it on tx queue q (likewise
   * tx_packets/tx_bytes). */
  uint64_t rxq_packets[DVS_MAX_QUEUES];
  uint64_t rxq_bytes[DVS_MAX_QUEUES];
  uint64_t txq_packets[DVS_MAX_QUEUES];
  uint64_t txq_bytes[DVS_MAX_QUEUES];
};

/* A port's runtime state that must outlive the process: its counters and
 * its filter classes' states.  The datapath works on this memory in place;
 * the control plane may place it in a shared-memory area that a restarted
 * process maps again (store/runtime-area.h), so a crash loses nothing. */
#define DVS_FILTER_STATE_WORDS 8       /* 64 bytes per filter class */
struct dvs_port_runtime {
  struct dvs_port_stats stats;
  uint64_t filter_state[DVS_FILTER_COUNT][DVS_FILTER_STATE_WORDS];
};

/* Datapath-wide counters (same access rules). */
struct dvs_dp_stats {
  uint64_t packets;        /* frames received from all ports */
  uint64_t busy_cycles;    /* TSC cycles spent in iterations that moved frames */
  uint64_t polls;          /* loop iterations */
  uint64_t sleeps;         /* times the thread went to sleep on kick fds */
  uint64_t wakeups;        /* of which ended by a kick or a command */
  uint64_t rx_stalls;      /* idle spells ended with frames waiting in a
                            * guest's ring that dequeue did not return (ring
                            * locked by rte_vhost, or no mbufs) */
};

/* Port mirroring: copies of a port's frames to another port of the same
 * switch, whatever its VLAN (the target's VLAN config decides tagging). */
enum dvs_mirror_dir {
  DVS_MIRROR_NONE = 0,
  DVS_MIRROR_INGRESS = 1,     /* frames the guest sent */
  DVS_MIRROR_EGRESS = 2,      /* frames forwarded to the guest */
  DVS_MIRROR_BOTH = 3,
};

/* One learned address, as dumped to the control plane. */
struct dvs_mac_entry {
  uint8_t mac[6];
  uint16_t vlan;
  uint16_t port;
  uint32_t age;            /* seconds since last seen */
  bool inactive;           /* its port's link is down: kept, but frames for
                            * it flood (fwd-class.h, port_set_active) */
};

/* The burst journal (datapath/dp-journal.c, docs/datapath.md "Crashes").
 * It lives in the runtime area next to the ports' runtimes, so it outlives a
 * crashed process.  While a burst is processed, every change to a port whose
 * runtime is in the area goes to a shadow copy here; at the end the shadows
 * are copied back (state COMMIT, idempotent).  A process killed before that
 * leaves the ports' runtimes as they were before the burst, plus the facts
 * the next process needs to account for what the guests saw: the frames
 * taken (kind and length), and for every hand-over to a port, where that
 * port's receive ring stood before it. */
#define DVS_JOURNAL_IDLE 0
#define DVS_JOURNAL_OPEN 1       /* a burst in progress: shadows are partial */
#define DVS_JOURNAL_COMMIT 2     /* shadows complete: being copied back */
#define DVS_JOURNAL_KIND_RUNT 0xff   /* a frame shorter than an Ethernet header */
#define DVS_JOURNAL_NO_SLOT 0xffff
#define DVS_JOURNAL_MAX_OUT (2 * DVS_MAX_PORTS)
#define DVS_JOURNAL_MAX_RING 32768  /* largest virtqueue */

struct dvs_journal_shadow {
  uint64_t slot;                       /* the runtime's slot in the area */
  struct dvs_port_runtime rt;
};

/* One hand-over of frames to a port (datapath/dp-pipeline.c, deliver). */
struct dvs_journal_out {
  uint16_t slot;            /* the receiving port's runtime slot, or
                             * DVS_JOURNAL_NO_SLOT (not in the area) */
  uint16_t ring_before;     /* the port's io tx_position before the hand-over */
  uint8_t n;                /* frames handed over */
  uint8_t done;             /* 1: the hand-over returned, @sent is valid */
  uint8_t sent;             /* frames the port accepted */
  uint8_t has_ring;         /* the port's io can tell what was delivered */
  uint8_t queue;            /* the port's tx queue (the guest's receive
                             * vring 2 * queue) that @ring_before is of */
  uint8_t pad[3];
  uint8_t frame[DVS_BURST]; /* index of each frame in the burst, in order */
  uint32_t len[DVS_BURST];  /* its length as handed over */
};

struct dvs_journal {
  uint64_t seq;             /* journaled bursts so far */
  uint32_t state;           /* DVS_JOURNAL_* */
  uint16_t in_slot;         /* the input port's runtime slot */
  uint16_t n;               /* frames taken */
  uint16_t pos_before;      /* input ring positions (io rx_position) */
  uint16_t pos_after;
  uint8_t has_pos;          /* the input's io has ring positions */
  uint8_t in_queue;         /* the input port's rx queue the burst came from */
  uint8_t pad[6];
  uint8_t kind[DVS_BURST];  /* enum dvs_pkt_kind, or DVS_JOURNAL_KIND_RUNT */
  uint32_t len[DVS_BURST];
  uint32_t n_shadow;
  uint32_t n_out;
  struct dvs_journal_shadow shadow[DVS_MAX_PORTS];
  struct dvs_journal_out out[DVS_JOURNAL_MAX_OUT];
  /* per slot and rx queue: the input ring position up to which the switch
   * has taken and accounted for the guest's frames (the burst in flight
   * excepted) */
  uint16_t ring_pos[DVS_MAX_PORTS][DVS_MAX_QUEUES];
  uint8_t ring_pos_valid[DVS_MAX_PORTS][DVS_MAX_QUEUES];
};

/* What the forwarding class knows about one port (fwd-class.h,
 * port_state_save), as the datapath last wrote it into the runtime area: a
 * pair per area slot, the one with the higher @gen current (0: empty).  The
 * datapath rewrites the older one, then raises its @gen, whenever the class
 * learns something new on the port, before the burst commits: a crash
 * cannot lose a learned MAC.  A port whose state does not fit has both
 * emptied (its checkpoint is the truth then). */
#define DVS_FWD_BLOB_BYTES 4080
struct dvs_fwd_blob {
  uint64_t gen;
  uint32_t len;
  uint16_t version;         /* the class's port_state_version */
  uint16_t pad;
  uint8_t data[DVS_FWD_BLOB_BYTES];
};

/* What the next process still has to settle after a crash, until the ports
 * concerned link up again: hand-overs whose outcome only the receiving
 * port's ring can tell, and the input frames to hand back to the guest. */
struct dvs_journal_recovery {
  uint32_t active;          /* 1: something left to settle */
  uint16_t in_slot;
  uint8_t in_queue;
  uint8_t pad[9];
  uint8_t kind[DVS_BURST];
  uint64_t delivered;       /* bit per frame: delivered somewhere */
  uint32_t n_out;
  uint8_t pending[DVS_JOURNAL_MAX_OUT];   /* out[i] still to settle */
  struct dvs_journal_out out[DVS_JOURNAL_MAX_OUT];
  /* per slot and rx queue, until the queue is first up again: where the
   * crashed process had taken its guest's ring to (check_ring: compare
   * with the ring) */
  uint8_t check_ring[DVS_MAX_PORTS][DVS_MAX_QUEUES];
  uint16_t ring_taken[DVS_MAX_PORTS][DVS_MAX_QUEUES];
};
