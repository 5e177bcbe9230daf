/* The L4 load balancer's connection table (docs/load-balancer.md,
 * "Datapath"): which member each client flow to a virtual service was
 * given, so that every packet of a flow goes to that member and its
 * replies can be rewritten back.
 *
 * A flow is keyed as the client sends it: (client IP, client port, VIP,
 * VIP port, protocol).  Replies are found by the member's side: (member
 * IP, member port, client IP, client port, protocol).  Both indexes are
 * open-addressing tables over one entry pool, in storage the caller
 * allocates once (dvs_lb_ct_storage_size); nothing is allocated after
 * init.  Plain C: no GLib, no locks; one thread uses a table at a time.
 *
 * Flow state follows what the balancer sees both ways:
 *   TCP  a client SYN opens the flow; it is established once the member
 *        answers; a FIN each way, or an RST either way, closes it.
 *   UDP  the first datagram opens it.
 * Open flows count, per member, as active (TCP established) or inactive
 * (every other state, and UDP, as IPVS counts them) for the scheduler
 * (lb-sched.h).  Expiry, by idle time in the caller's seconds:
 *   TCP closed 10 s, TCP not yet answered 60 s, other TCP 300 s, UDP 60 s.
 *
 * The table is the load-balancer class's runtime state: serialized with
 * ages rather than clock values (a restored table on another host, or
 * after a restart, keeps each flow's idle time), little-endian, versioned,
 * and checked in full on restore. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DVS_LB_CT_VERSION 1
#define DVS_LB_CT_MIN_CAPACITY 16
#define DVS_LB_CT_MAX_CAPACITY (1u << 22)
#define DVS_LB_CT_MAX_MEMBERS 64

#define DVS_LB_PROTO_TCP 6
#define DVS_LB_PROTO_UDP 17

/* Idle times after which a flow is removed, seconds. */
#define DVS_LB_CT_TCP_CLOSED_S 10
#define DVS_LB_CT_TCP_OPENING_S 60
#define DVS_LB_CT_TCP_OPEN_S 300
#define DVS_LB_CT_UDP_S 60

/* TCP header flags as on the wire. */
#define DVS_LB_TCP_FIN 0x01
#define DVS_LB_TCP_SYN 0x02
#define DVS_LB_TCP_RST 0x04
#define DVS_LB_TCP_ACK 0x10

/* Entry flags: what has been seen of the flow. */
#define DVS_LB_CT_REPLIED 0x01         /* the member answered */
#define DVS_LB_CT_FIN_CLIENT 0x02
#define DVS_LB_CT_FIN_MEMBER 0x04
#define DVS_LB_CT_RST 0x08
#define DVS_LB_CT_FLAGS_KNOWN 0x0f

/* Addresses and ports in host byte order. */
struct dvs_lb_ct_key {
  uint32_t client_ip;
  uint32_t vip;
  uint16_t client_port;
  uint16_t vip_port;
  uint8_t proto;
};

struct dvs_lb_ct_entry {
  struct dvs_lb_ct_key key;
  uint32_t member_ip;
  uint16_t member_port;                /* the port the member serves on */
  uint8_t member;                      /* index in the service's members */
  uint8_t flags;                       /* DVS_LB_CT_* */
  uint32_t last_used;                  /* seconds, the caller's clock */
  uint32_t next_free;                  /* pool free list; UINT32_MAX in use */
};

struct dvs_lb_ct {
  struct dvs_lb_ct_entry *pool;
  uint32_t *fwd;                       /* index: pool slot or UINT32_MAX */
  uint32_t *rev;
  uint32_t capacity;                   /* flows */
  uint32_t index_mask;                 /* index size - 1 (2 x capacity) */
  uint32_t count;
  uint32_t free_head;
  uint32_t sweep_pos;
  uint32_t active[DVS_LB_CT_MAX_MEMBERS];
  uint32_t inactive[DVS_LB_CT_MAX_MEMBERS];
};

/* Bytes of storage a table of CAPACITY flows needs (0: CAPACITY is not a
 * power of two in [MIN_CAPACITY, MAX_CAPACITY]). */
size_t dvs_lb_ct_storage_size (uint32_t capacity);

/* Sets up CT in STORAGE (dvs_lb_ct_storage_size bytes, 8-byte aligned),
 * empty.  -EINVAL for a bad capacity. */
int dvs_lb_ct_init (struct dvs_lb_ct *ct, void *storage, uint32_t capacity);

/* Empties the table. */
void dvs_lb_ct_clear (struct dvs_lb_ct *ct);

/* The flow a client packet belongs to, or NULL. */
struct dvs_lb_ct_entry *dvs_lb_ct_lookup (struct dvs_lb_ct *ct, const struct dvs_lb_ct_key *key);

/* The flow a member's packet (member IP:port to client IP:port) answers,
 * or NULL. */
struct dvs_lb_ct_entry *dvs_lb_ct_lookup_reply (struct dvs_lb_ct *ct, uint32_t member_ip,
                                                uint16_t member_port, uint32_t client_ip,
                                                uint16_t client_port, uint8_t proto);

/* Records a new flow given to MEMBER (serving on MEMBER_IP:MEMBER_PORT) at
 * NOW.  -EEXIST when the key, or the reply key, is in use; -ENOSPC when
 * the table is full; -EINVAL for a member index or protocol out of range.
 * *OUT (may be NULL) is the entry. */
int dvs_lb_ct_insert (struct dvs_lb_ct *ct, const struct dvs_lb_ct_key *key, uint8_t member,
                      uint32_t member_ip, uint16_t member_port, uint32_t now,
                      struct dvs_lb_ct_entry **out);

/* A packet of E's flow: FROM_CLIENT or from the member, with its TCP
 * flags (0 for UDP), at NOW.  Updates the state and the member's counts. */
void dvs_lb_ct_seen (struct dvs_lb_ct *ct, struct dvs_lb_ct_entry *e, bool from_client,
                     uint8_t tcp_flags, uint32_t now);

/* Removes E. */
void dvs_lb_ct_remove (struct dvs_lb_ct *ct, struct dvs_lb_ct_entry *e);

/* Looks at up to BUDGET pool slots from where the last call stopped and
 * removes the flows among them that have expired at NOW; returns how many
 * it removed.  A datapath calls it with a small budget now and then. */
uint32_t dvs_lb_ct_expire (struct dvs_lb_ct *ct, uint32_t now, uint32_t budget);

/* Removes every flow of MEMBER (taken out of the service); returns how
 * many. */
uint32_t dvs_lb_ct_drop_member (struct dvs_lb_ct *ct, uint8_t member);

/* Whether E's flow has expired at NOW. */
bool dvs_lb_ct_expired (const struct dvs_lb_ct_entry *e, uint32_t now);

/* Serializes CT at NOW into BUF (LEN bytes); returns the bytes the state
 * takes, and writes nothing when that is more than LEN. */
size_t dvs_lb_ct_serialize (const struct dvs_lb_ct *ct, uint32_t now, uint8_t *buf, size_t len);

/* Restores a serialized table into CT at NOW, for a service of NMEMBERS
 * members.  Checked in full: magic, version, length, protocols, member
 * indexes, flags, reserved bytes zero, no key or reply key twice, no more
 * flows than the capacity.  0, or -EINVAL / -ENOSPC with CT empty. */
int dvs_lb_ct_restore (struct dvs_lb_ct *ct, const uint8_t *buf, size_t len, uint32_t now,
                       unsigned nmembers);
