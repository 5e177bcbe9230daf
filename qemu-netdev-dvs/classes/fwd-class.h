/* Forwarding classes: the part of the datapath that decides where a frame
 * goes.  Exactly one forwarding class serves a switch (the L2 learning switch,
 * l2-learning.c, is the first).  The datapath does everything around it:
 * receiving bursts, VLAN classification and tag push/pop at the edge,
 * counters, flooding to the members of a VLAN, transmission.
 *
 * Contract
 * --------
 * Lifecycle: create() once, on the control thread, before the datapath
 * thread starts; then only the datapath thread calls the other members until
 * the thread has stopped; destroy() once, on the control thread, after it has
 * stopped.  A class must never block, allocate with GLib, take locks or make
 * system calls in classify(); it may allocate (rte_malloc/malloc) in create().
 *
 * Time: every datapath call passes `now`, a monotonic second counter supplied
 * by the datapath (tests drive it by hand).
 *
 * Members (all mandatory unless noted):
 *   name      short identifier, shown to operators ("l2-learning").
 *   create    builds the per-switch state from @params; NULL on failure
 *             (errno set).  The state is opaque to the datapath.
 *   destroy   frees it; accepts NULL.
 *   classify  for each of the @n frames of one burst received on port
 *             @in_port (all from the same port), reads meta[i] and writes
 *             out[i]: a port number, DVS_FWD_FLOOD (send to every other member
 *             of meta[i].vlan) or DVS_FWD_DROP.  It must never return
 *             @in_port (no reflection).  The arrays belong to the caller.
 *   port_removed  forget everything about @port (may be NULL).
 *   run       periodic housekeeping, about once a second (aging); may be NULL.
 *   dump      copies up to @cap entries of its table into @out, returns the
 *             number copied; may be NULL for classes without a table.
 *   flush     forget learned state, for one port or all (port < 0); returns
 *             how many entries were removed; may be NULL.
 *   count     number of entries in its table; may be NULL.
 *   port_state_version  version of the per-port state port_state_save writes.
 *   port_state_save     what the class knows about one port (the L2 class:
 *             the addresses learned on it, with their ages), as a versioned
 *             byte string of its own (fixed-width little-endian fields, ages
 *             rather than clock values).  Returns the bytes written or
 *             -ENOSPC.  May be NULL (stateless class).
 *   port_changes        (may be NULL) a number that grows whenever the
 *             class learns something new about @port that a checkpoint
 *             should keep (not on refreshes or aging).  Unlike the other
 *             members it may be called from any thread: it only reads.
 *   port_state_load     merges what port_state_save wrote (any version up to
 *             port_state_version) back for @port, at time @now; -EINVAL for
 *             bytes it cannot read (nothing is changed then).  What it
 *             loads attracts frames only if the port is active (below).
 *   port_set_active     (may be NULL) whether what was learned on @port may
 *             attract frames.  The datapath makes a port inactive when its
 *             link goes down (unless it is held) and active again at link up
 *             or hold: the addresses of a VM that left flood (and reach the
 *             uplink) instead of dying at a dead port.  An inactive port's
 *             state is kept: port_state_save still writes it, learning it
 *             elsewhere moves it, aging removes it.  A class starts with every
 *             port active; the datapath makes a port inactive when it adds
 *             it (its link is down then).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "datapath/dp-types.h"

#define DVS_FWD_FLOOD UINT16_C (0xfffe)
#define DVS_FWD_DROP UINT16_C (0xffff)

/* What classify() knows of a frame: its internal VLAN, kind and addresses. */
struct dvs_fwd_meta {
  const uint8_t *dst;      /* points into the frame; 6 bytes */
  const uint8_t *src;
  uint16_t vlan;
  uint8_t kind;            /* enum dvs_pkt_kind of dst */
};

struct dvs_fwd_params {
  uint32_t table_size;     /* entries; rounded up to a power of two */
  uint32_t aging_seconds;
};

struct dvs_fwd_class {
  const char *name;
  void *(*create) (const struct dvs_fwd_params *params);
  void (*destroy) (void *state);
  void (*classify) (void *state, uint16_t in_port,
                    const struct dvs_fwd_meta *meta, uint16_t n,
                    uint32_t now, uint16_t *out);
  void (*port_removed) (void *state, uint16_t port);
  void (*run) (void *state, uint32_t now);
  size_t (*dump) (void *state, uint32_t now, struct dvs_mac_entry *out,
                  size_t cap);
  size_t (*flush) (void *state, int port);
  size_t (*count) (void *state, uint32_t now);
  uint64_t (*port_changes) (void *state, uint16_t port);
  uint16_t port_state_version;
  long (*port_state_save) (void *state, uint16_t port, uint32_t now,
                           uint8_t *buf, size_t cap);
  int (*port_state_load) (void *state, uint16_t port, uint32_t now,
                          uint16_t version, const uint8_t *buf, size_t len);
  void (*port_set_active) (void *state, uint16_t port, bool active);
};

extern const struct dvs_fwd_class dvs_fwd_l2_learning;
