/* The datapath: one thread that moves frames between vhost-user ports,
 * through the forwarding class, with VLANs at the edge and per-port counters.
 *
 * The boundary with the control plane (STYLE.md, "The datapath is not the
 * control plane"): the datapath thread alone owns its port table, the
 * forwarding class state and the staging buffers.  Other threads change them
 * only by commands (port add/remove, VLAN, link up/down, MAC dump/flush) that
 * go through a lock-free ring; the caller blocks until the thread has
 * executed the command, so when link_down() returns the thread no longer
 * touches the device (what rte_vhost's destroy_device requires).  Counters
 * are read without commands (relaxed atomic loads).  Before start() and after
 * stop(), commands run directly on the caller's thread.
 *
 * Functions return 0 or a negative errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/dp-types.h"
#include "classes/fwd-class.h"

struct rte_mbuf;
struct rte_mempool;

/* How the datapath reaches a port's peer.  Each port has its own: vhost-user
 * ports use rte_vhost (the datapath's default), uplinks a DPDK ethdev
 * (dvs_port_io_ethdev), tests their own.  @vid is the handle given at link
 * up (a vhost device id, an ethdev port id).  All members are called on the
 * datapath thread only, and must not block.
 *
 * Queues: a port has one or more queue pairs (multi-queue vNICs).  Every
 * member but queues takes the queue @q it is about: rx, rx_done,
 * rx_position, rx_discard, pending, kickfd and notify the port's rx queue q
 * (what the peer sends on its transmit queue q), tx, tx_position and
 * tx_delivered its tx queue q (the peer's receive queue q).  The datapath
 * only uses queues that queues() reports enabled, and always queue 0.
 *
 * Contract of the members (mandatory unless marked optional):
 *   queues   optional (NULL: one queue pair, q is always 0).  The queues
 *            the peer has enabled: bit 2q for tx queue q, bit 2q + 1 for rx
 *            queue q (a vhost-user vring index), q < DVS_MAX_QUEUES.  The
 *            datapath reads it at link up and again after dvs_dp_kick().
 *   rx       frames from the peer; the datapath owns what it gets.  @pool is
 *            the datapath's; an io may take its buffers from its own pool.
 *            An io with rx_done may keep what rx consumed from the peer
 *            (descriptors) until rx_done; it may also consume malformed
 *            input that yields no frame.
 *   rx_done  optional (NULL: rx hands everything back at once).  The
 *            datapath has finished with every frame the last rx of queue
 *            @q returned (delivered or dropped): the io may now hand the
 *            consumed descriptors back to the peer (publish used entries,
 *            notify the guest).  Called once after each rx that returned or
 *            consumed anything, before the next rx on that vid (any
 *            queue); the datapath calls it after every rx, so it must be
 *            cheap when nothing is pending.  Consumed-but-malformed
 *            descriptor chains (no frame returned) are handed back here too.
 *   rx_position  optional.  The ring position (free-running 16-bit avail
 *            index) of the next descriptor rx would read; after rx and
 *            before rx_done it is past what rx consumed, so before rx it
 *            equals the position handed back (published) so far.
 *   rx_discard   optional.  At link up after a crash: hands back, without
 *            reading or delivering them, the descriptors from the current
 *            position up to ring position @upto, only if
 *            0 < upto - position <= DVS_BURST (otherwise nothing).  Drops
 *            the frames a crashed process had already accounted for.  Not
 *            between rx and rx_done.
 *   tx       delivers up to @n frames, returns how many were accepted.  The
 *            frames stay the caller's, accepted or not: an io whose device
 *            keeps mbufs must send copies (or take references of its own).
 *   pending  frames waiting in the peer's transmit ring (0 if unknown).
 *   kickfd   an eventfd that becomes readable when the peer sends, or -1:
 *            a port without one is polled while the datapath idles (the
 *            idle wait is bounded by dvs_dp_config.poll_ms).
 *   notify   ask the peer to kick (true) or not to (false) when it sends.
 *   tx_position  optional, for the burst journal (dp-journal.c).  Ring
 *            position of the peer's receive ring (its used index): where
 *            the next frames tx delivers will land.
 *   tx_delivered optional, likewise.  At link up after a crash: of @n
 *            frames of lengths @len handed to tx when the ring stood at
 *            @before, how many the ring shows delivered (a prefix); 0 when
 *            it cannot tell. */
struct dvs_port_io {
  uint16_t (*rx) (int vid, uint16_t q, struct rte_mempool *pool,
                  struct rte_mbuf **pkts, uint16_t n);
  uint16_t (*tx) (int vid, uint16_t q, struct rte_mbuf **pkts, uint16_t n);
  uint32_t (*pending) (int vid, uint16_t q);
  int (*kickfd) (int vid, uint16_t q);
  void (*notify) (int vid, uint16_t q, bool enable);
  void (*rx_done) (int vid, uint16_t q);
  uint16_t (*rx_position) (int vid, uint16_t q);
  void (*rx_discard) (int vid, uint16_t q, uint16_t upto);
  uint16_t (*tx_position) (int vid, uint16_t q);
  int (*tx_delivered) (int vid, uint16_t q, uint16_t before,
                       const uint32_t *len, uint16_t n);
  uint32_t (*queues) (int vid);
};

/* rte_vhost: frames to the guest through rte_vhost_enqueue_burst; from the
 * guest by reading its transmit ring (split) directly, handing the
 * descriptors back in rx_done (dp-vhost-io.c, dp-vring.h). */
extern const struct dvs_port_io dvs_port_io_vhost;
/* For rte_vhost's callbacks (vhost/vhost-port.c), on its message thread.
 * reset: forget what dvs_port_io_vhost knew of device @vid (new_device,
 * destroy_device: while the datapath does not use it).  pause: keep the
 * datapath out of @vid's transmit ring while a vhost-user message is
 * handled; returns false if the datapath was still in it after
 * @timeout_us (it then goes on regardless).  resume: after the message
 * (or the next one, or reset); the datapath re-reads the ring, memory
 * table and features before touching the ring again.  vring_state: the
 * vring_state_changed callback (DPDK 22.11 has no call to ask whether a
 * vring is enabled: the io keeps what the callbacks said, reported by its
 * queues member); connection: a new connection on @vid, no vring enabled. */
void dvs_vhost_io_vring_state (int vid, uint16_t vring, bool enabled);
void dvs_vhost_io_connection (int vid);
void dvs_vhost_io_reset (int vid);
bool dvs_vhost_io_pause (int vid, uint32_t timeout_us);
void dvs_vhost_io_resume (int vid);
/* A DPDK ethdev port (queue 0), e.g. net_af_packet on a kernel interface:
 * rx from its own mempool, tx of copies (dp-ethdev-io.c). */
extern const struct dvs_port_io dvs_port_io_ethdev;

struct dvs_dp_config {
  const char *name;                  /* names the mempool and ring */
  int cpu;                           /* pin the thread here; -1: don't */
  bool busy_poll;                    /* never sleep */
  uint32_t idle_us;                  /* adaptive: idle time before sleeping */
  uint32_t poll_ms;                  /* adaptive: longest sleep while a port
                                      * without kick fd (an uplink) is up;
                                      * 0: 1 ms */
  uint32_t mbufs;                    /* packet buffers */
  const struct dvs_fwd_class *fwd_class;
  struct dvs_fwd_params fwd_params;
  const struct dvs_port_io *io;      /* NULL: rte_vhost */
};

struct dvs_datapath;

/* Needs EAL.  Returns NULL with errno set. */
struct dvs_datapath *dvs_dp_create (const struct dvs_dp_config *config);
void dvs_dp_destroy (struct dvs_datapath *dp);   /* stops it first; NULL ok */
int dvs_dp_start (struct dvs_datapath *dp);
void dvs_dp_stop (struct dvs_datapath *dp);

/* @rt: memory for the port's counters and filter states, used in place as
 * it is (NULL: the datapath's own, zeroed).  It must stay valid until the
 * port is removed. */
int dvs_dp_port_add (struct dvs_datapath *dp, uint16_t port, uint16_t domain,
                     const struct dvs_vlan_config *vlan,
                     struct dvs_port_runtime *rt);

/* Forwarding domains: each has its own forwarding-class state (its own MAC
 * table); frames never cross domains.  Domain 0 always exists (plain
 * ports); the others are one per DVswitch.  A domain is removed only when
 * no port is in it (-EBUSY). */
int dvs_dp_domain_add (struct dvs_datapath *dp, uint16_t domain);
int dvs_dp_domain_remove (struct dvs_datapath *dp, uint16_t domain);
int dvs_dp_port_remove (struct dvs_datapath *dp, uint16_t port);
/* Changes the VLAN config and forgets what was learned on the port. */
int dvs_dp_port_set_vlan (struct dvs_datapath *dp, uint16_t port,
                          const struct dvs_vlan_config *vlan);
/* Sets (config non-NULL, copied) or removes filter class @id on a port.
 * A filter that was not active starts from its class's fresh state, unless
 * @keep_state (its state in the port's runtime memory was adopted); one that
 * was active keeps its state (a rate change does not refill the buckets). */
int dvs_dp_port_set_filter (struct dvs_datapath *dp, uint16_t port,
                            enum dvs_filter_id id, const void *config,
                            bool keep_state);
/* Mirrors the port's frames (@dir) to port @target; target < 0 or dir NONE
 * stops mirroring. */
int dvs_dp_port_set_mirror (struct dvs_datapath *dp, uint16_t port,
                            int target, enum dvs_mirror_dir dir);
/* The filter's runtime state as its class serializes it (filter-class.h):
 * bytes written, -ENOENT if the filter is not active, -ENOSPC. */
long dvs_dp_port_save_filter_state (struct dvs_datapath *dp, uint16_t port,
                                    enum dvs_filter_id id, uint8_t *buf,
                                    size_t cap);
int dvs_dp_port_load_filter_state (struct dvs_datapath *dp, uint16_t port,
                                   enum dvs_filter_id id, uint16_t version,
                                   const uint8_t *buf, size_t len);
/* The forwarding class's state about one port (fwd-class.h,
 * port_state_save/load), and the port's counters, for checkpoints. */
long dvs_dp_port_save_fwd_state (struct dvs_datapath *dp, uint16_t port,
                                 uint8_t *buf, size_t cap);
int dvs_dp_port_load_fwd_state (struct dvs_datapath *dp, uint16_t port,
                                uint16_t version, const uint8_t *buf,
                                size_t len);
uint16_t dvs_dp_fwd_state_version (const struct dvs_datapath *dp);
/* The forwarding class's change count for the port (fwd-class.h,
 * port_changes); any thread, no command. */
uint64_t dvs_dp_port_fwd_changes (const struct dvs_datapath *dp, uint16_t port);
int dvs_dp_port_load_stats (struct dvs_datapath *dp, uint16_t port,
                            const struct dvs_port_stats *stats);
/* Link up through the datapath's default io (config.io) or through @io. */
int dvs_dp_link_up (struct dvs_datapath *dp, uint16_t port, int vid);
int dvs_dp_link_up_io (struct dvs_datapath *dp, uint16_t port,
                       const struct dvs_port_io *io, int vid);
int dvs_dp_link_down (struct dvs_datapath *dp, uint16_t port);
/* Wakes the thread to look at its ports again (a vring changed state).
 * Never blocks: safe from rte_vhost callbacks that hold vring locks. */
void dvs_dp_kick (struct dvs_datapath *dp, uint16_t port);
/* The port's queues the datapath uses (the io's queues() as last read, bit
 * 2q: tx queue q, bit 2q + 1: rx queue q); 0 while the link is down.  Any
 * thread, no command. */
uint32_t dvs_dp_port_queues (const struct dvs_datapath *dp, uint16_t port);

/* Migration support (docs/datapath.md, "Hold, announce").
 *
 * Hold: while set and the port's link is down, unicast frames forwarded to
 * the port are queued (at most DVS_HOLD_MAX, as they would leave: tagged
 * per the port's VLAN) instead of dropped, counted in stats.held; a full
 * queue drops and counts stats.hold_dropped.  Flooded frames are not held.
 * At link up the queue is delivered first, in order (through the port's
 * egress filters), then forwarding goes on as usual.  Clearing hold while
 * the link is down frees the queue (counted in drop_link_down).  The MACs
 * learned on a port attract frames while its link is up or it is held
 * (fwd-class.h, port_set_active). */
int dvs_dp_port_set_hold (struct dvs_datapath *dp, uint16_t port, bool hold);
bool dvs_dp_port_hold (const struct dvs_datapath *dp, uint16_t port);
/* Injects a RARP announcement of @mac (ethertype 0x8035, broadcast, source
 * @mac: what QEMU and rte_vhost send on SEND_RARP) into the port's domain as
 * if the port had sent it: learned on the port, flooded to the members of
 * the port's VLAN (uplinks included, tagged as they require).  It is not
 * counted in the port's rx counters and skips its ingress filters: the
 * switch, not the guest, sends it.  Link up or down. */
int dvs_dp_port_announce (struct dvs_datapath *dp, uint16_t port,
                          const uint8_t mac[6]);
/* The frame dvs_dp_port_announce sends (60 bytes), for tests and tools. */
#define DVS_RARP_FRAME_LEN 60
void dvs_dp_rarp_frame (const uint8_t mac[6], uint8_t out[DVS_RARP_FRAME_LEN]);

/* While paused the thread takes no frame from any port (it still runs
 * commands and brings links up): a restarting switch reads nothing until
 * every DVport it restores is back, so that nothing is forwarded into a
 * domain half rebuilt.  Any thread. */
void dvs_dp_set_rx_paused (struct dvs_datapath *dp, bool paused);

/* The burst journal (dp-journal.c, docs/datapath.md "Crashes").
 * It and its recovery record live in memory that outlives the process (the
 * runtime area), next to an array of runtimes: @n_slots of them, @stride
 * bytes apart from @base.  Bursts of ports whose runtime is one of those are
 * journaled, naming them by slot.  @rt_of maps a slot to its runtime if the
 * slot is in use (NULL: none); it is called on the datapath thread.  Set once,
 * before ports use the area. */
typedef struct dvs_port_runtime *(*dvs_journal_rt_of_fn) (void *ctx, uint16_t slot);
struct dvs_journal_area {
  struct dvs_journal *journal;
  struct dvs_journal_recovery *recovery;
  uint8_t *base;
  size_t stride;
  uint32_t n_slots;
  dvs_journal_rt_of_fn rt_of;
  void *ctx;
  /* Optional (NULL: none): a pair of struct dvs_fwd_blob per slot,
   * @blob_stride bytes apart. */
  uint8_t *blob_base;
  size_t blob_stride;
};
int dvs_dp_set_journal (struct dvs_datapath *dp, const struct dvs_journal_area *area);

struct dvs_journal_summary {
  uint32_t state;          /* what the crashed process left: DVS_JOURNAL_* */
  uint16_t in_slot;
  uint16_t in_queue;       /* its rx queue */
  uint16_t frames;         /* frames of the burst in flight */
  bool committed;          /* its shadows were copied back again */
  uint32_t pending;        /* hand-overs to settle at their ports' link up */
  uint32_t crash_drops;    /* frames counted in drop_crash (for now) */
  uint32_t rings;          /* ports whose ring is checked at link up */
};
/* The current blob of a slot's pair (NULL: none), for adopting it. */
const struct dvs_fwd_blob *dvs_fwd_blob_current (const struct dvs_fwd_blob pair[2]);

/* Settles what a crashed process left in @journal (before any datapath uses
 * it): returns 0 if there was nothing, 1 if a burst was settled, -1 if the
 * journal was damaged (reset). */
int dvs_journal_recover (const struct dvs_journal_area *area,
                         struct dvs_journal_summary *summary);

/* Returns the number of entries copied (at most @cap), or a negative errno. */
long dvs_dp_mac_dump (struct dvs_datapath *dp, struct dvs_mac_entry *out,
                      size_t cap);
long dvs_dp_mac_flush (struct dvs_datapath *dp, int port);
long dvs_dp_mac_count (struct dvs_datapath *dp);

void dvs_dp_port_stats (const struct dvs_datapath *dp, uint16_t port,
                        struct dvs_port_stats *out);
bool dvs_dp_link_is_up (const struct dvs_datapath *dp, uint16_t port);
void dvs_dp_stats (const struct dvs_datapath *dp, struct dvs_dp_stats *out);
uint64_t dvs_dp_tsc_hz (void);
const char *dvs_dp_fwd_class_name (const struct dvs_datapath *dp);

/* For tests, with the thread not running: process one received burst as the
 * thread would (the datapath takes the frames), and set its clock. */
void dvs_dp_process_burst (struct dvs_datapath *dp, uint16_t in_port,
                           struct rte_mbuf **pkts, uint16_t n);
/* The same, as if taken from the port's rx queue @q. */
void dvs_dp_process_burst_queue (struct dvs_datapath *dp, uint16_t in_port,
                                 uint16_t q, struct rte_mbuf **pkts, uint16_t n);
void dvs_dp_set_now (struct dvs_datapath *dp, uint32_t now);
