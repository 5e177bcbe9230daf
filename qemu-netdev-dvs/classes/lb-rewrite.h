/* The load balancer's packet rewriting (docs/load-balancer.md, modes nat
 * and dsr): find the IPv4 TCP/UDP flow of an Ethernet frame, and rewrite
 * its destination (towards a member) or its source (a member's reply
 * going back to the client as the VIP), fixing the IPv4 header checksum
 * and the TCP/UDP checksum incrementally (RFC 1624).
 *
 * Frames are as the guest sent them: an Ethernet header, at most one
 * 802.1Q tag, IPv4 with options.  Nothing is trusted: lengths are checked
 * against the frame, and a frame that is not IPv4 TCP/UDP, or is
 * malformed, is reported so, not touched.  A non-first fragment has no L4
 * header: it is reported as a fragment and cannot be balanced.
 *
 * Checksum offload: a virtio-net guest may hand over a TCP/UDP frame whose
 * L4 checksum the device is to finish (VIRTIO_NET_HDR_F_NEEDS_CSUM): the
 * field then holds the pseudo-header's sum, not complemented.  With
 * L4_PARTIAL set the rewrite updates that sum for the new addresses and
 * leaves the ports to the device's final sum.
 *
 * Plain C: no GLib, no DPDK, no allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dvs_lb_l4 {
  uint16_t l3_off;                     /* IPv4 header */
  uint16_t l4_off;                     /* TCP/UDP header (0 for a non-first fragment) */
  uint8_t proto;                       /* 6 or 17 */
  uint8_t tcp_flags;                   /* TCP: FIN SYN RST PSH ACK URG bits */
  bool fragment;                       /* part of a fragmented datagram */
  uint32_t src_ip, dst_ip;             /* host order */
  uint16_t src_port, dst_port;         /* host order; 0 for a non-first fragment */
};

/* Parses FRAME (LEN bytes).  0: *OUT describes an IPv4 TCP/UDP frame;
 * -ENOENT: not IPv4, or another protocol; -EINVAL: malformed (truncated,
 * header length or total length inconsistent with the frame). */
int dvs_lb_parse (const uint8_t *frame, size_t len, struct dvs_lb_l4 *out);

/* Rewrites the destination: MAC (always), and when IP is not 0 the IPv4
 * address, and when PORT is not 0 the L4 port (nat; dsr passes 0, 0). */
void dvs_lb_rewrite_dst (uint8_t *frame, const struct dvs_lb_l4 *l4, const uint8_t mac[6],
                         uint32_t ip, uint16_t port, bool l4_partial);

/* Rewrites the source the same way (a member's reply leaving as the VIP). */
void dvs_lb_rewrite_src (uint8_t *frame, const struct dvs_lb_l4 *l4, const uint8_t mac[6],
                         uint32_t ip, uint16_t port, bool l4_partial);

/* The VIP's virtual MAC: 02:00:5e and the low three bytes of the VIP. */
void dvs_lb_vip_mac (uint32_t vip, uint8_t mac[6]);
