/* Filter classes: per-port functions on the frames a port sends and
 * receives — port security, traffic shaping, blocking, mirroring.  A port has
 * zero or more, each with a plain-C config (set by the control plane) and a
 * runtime state (owned by the datapath) that the system saves, persists and
 * restores without knowing what is inside: the class serializes it into a
 * versioned byte string.
 *
 * Contract
 * --------
 * Threads: state_init, filter, state_save and state_load run on the datapath
 * thread (or, in tests and before the thread starts, on the only thread that
 * touches the port).  None may block, take locks, use GLib or make system
 * calls.  Config structs are copied into the port; a class must not keep
 * pointers to them across calls.
 *
 * Time: `now` is a TSC reading, `hz` TSC ticks per second; states that age
 * (token buckets) keep TSC values internally but serialize *durations*
 * (e.g. "bucket was last refilled 3 ms before the save"), never raw TSC,
 * because the state may be restored in another process or on another host.
 *
 * Members:
 *   name          short identifier ("port-security", "shaper", "block").
 *   state_version version of the serialized state this code writes.
 *   state_size    bytes of runtime state; the datapath provides them zeroed,
 *                 aligned to 8 bytes.  0: stateless.
 *   state_init    (may be NULL) fresh state for a port whose state is not
 *                 being restored: called when the filter is configured and
 *                 when a port links up without a saved state.
 *   filter        decides, for frames pkts[0..n) going in direction @dir,
 *                 which pass: it clears bit i of *pass to drop frame i (bits
 *                 already clear must stay clear).  It must not modify, free
 *                 or keep the mbufs.  The caller counts what it dropped
 *                 against this filter and frees it.  n <= 32.
 *   state_save    (NULL if state_size is 0) writes the state into buf
 *                 (cap bytes); returns the bytes written or -ENOSPC.  The
 *                 format is the class's own: fixed-width little-endian
 *                 fields, no pointers, no padding.
 *   state_load    (NULL if state_size is 0) rebuilds the state from @len
 *                 bytes written by state_save of @version (any version up
 *                 to state_version must be accepted); -EINVAL for a version
 *                 it does not know or bytes that do not parse — the state is
 *                 then left as state_init would make it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "datapath/dp-types.h"   /* enum dvs_filter_id */

struct rte_mbuf;

enum dvs_filter_dir {
  DVS_DIR_FROM_GUEST,   /* ingress: frames the guest sent, before forwarding */
  DVS_DIR_TO_GUEST,     /* egress: frames about to be delivered to the guest */
};

struct dvs_filter_class {
  const char *name;
  uint16_t state_version;
  uint16_t state_size;
  void (*state_init) (const void *config, void *state, uint64_t now, uint64_t hz);
  void (*filter) (const void *config, void *state, enum dvs_filter_dir dir,
                  struct rte_mbuf **pkts, uint16_t n, uint64_t *pass,
                  uint64_t now, uint64_t hz);
  ssize_t (*state_save) (const void *config, const void *state, uint8_t *buf,
                         size_t cap, uint64_t now, uint64_t hz);
  int (*state_load) (const void *config, void *state, uint16_t version,
                     const uint8_t *buf, size_t len, uint64_t now, uint64_t hz);
};

/* Port blocking: no frame in or out.  Stateless. */
struct dvs_block_config {
  uint8_t enabled;
};

/* Port security (MAC-spoof guard), vDS-style.
 * forged_transmits = 0: frames from the guest whose source MAC is not
 * allowed are dropped.  mac_changes = 0: frames *to* the guest whose
 * destination is a unicast MAC not allowed are dropped (the guest changed its
 * MAC and must not receive for it).  The allowed MACs are the vNIC's own by
 * default (the control plane fills them in). */
#define DVS_SECURITY_MAX_MACS 8
struct dvs_security_config {
  uint8_t enabled;
  uint8_t forged_transmits;      /* 1: allow */
  uint8_t mac_changes;           /* 1: allow */
  uint8_t n_macs;
  uint8_t macs[DVS_SECURITY_MAX_MACS][6];
};

/* Traffic shaping, vDS-style, per direction: average and peak rate in
 * kbit/s (1 kbit = 1000 bits), burst size in kbytes (1 kbyte = 1024 bytes).
 * A frame passes when both the committed bucket (average rate, depth =
 * burst, at least one 9216-byte frame) and the peak bucket (peak rate, depth
 * = one 9216-byte frame or 10 ms of peak, whichever is more: the datapath
 * takes up to 32 frames at one clock reading) hold its length; otherwise it
 * is dropped (policing, no queue).  average_kbps = 0 disables shaping in that
 * direction; peak 0 or below average means peak = average. */
struct dvs_shaper_dir_config {
  uint64_t average_kbps;
  uint64_t peak_kbps;
  uint64_t burst_kbytes;
};
struct dvs_shaper_config {
  struct dvs_shaper_dir_config dir[2];   /* indexed by enum dvs_filter_dir */
};

/* Bucket levels and last refill times are runtime state (the contract above:
 * serialized as durations). */
struct dvs_shaper_bucket {
  uint64_t tokens_bits;           /* committed bucket, bits * 1 */
  uint64_t peak_tokens_bits;
  uint64_t last_tsc;
};
struct dvs_shaper_state {
  struct dvs_shaper_bucket dir[2];
};

extern const struct dvs_filter_class dvs_filter_block;
extern const struct dvs_filter_class dvs_filter_security;
extern const struct dvs_filter_class dvs_filter_shaper;

/* Indexed by enum dvs_filter_id. */
extern const struct dvs_filter_class *const dvs_filter_classes[DVS_FILTER_COUNT];
