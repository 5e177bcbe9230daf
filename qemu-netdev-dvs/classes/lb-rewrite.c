/* The load balancer's packet rewriting (lb-rewrite.h). */
#include "classes/lb-rewrite.h"

#include <errno.h>
#include <string.h>

#define ETH_HLEN 14
#define ETH_P_IPV4 0x0800
#define ETH_P_8021Q 0x8100
#define IP_MF 0x2000
#define IP_OFFSET_MASK 0x1fff

static uint16_t
rd16 (const uint8_t *p)
{
  return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t
rd32 (const uint8_t *p)
{
  return (uint32_t) rd16 (p) << 16 | rd16 (p + 2);
}

static void
wr16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

int
dvs_lb_parse (const uint8_t *frame, size_t len, struct dvs_lb_l4 *out)
{
  size_t l3 = ETH_HLEN;
  uint16_t type, ihl, total, frag;
  const uint8_t *ip;

  if (len < ETH_HLEN)
    return -EINVAL;
  type = rd16 (frame + 12);
  if (type == ETH_P_8021Q)
    {
      if (len < ETH_HLEN + 4)
        return -EINVAL;
      type = rd16 (frame + 16);
      l3 += 4;
    }
  if (type != ETH_P_IPV4)
    return -ENOENT;
  if (len < l3 + 20)
    return -EINVAL;
  ip = frame + l3;
  ihl = (uint16_t) ((ip[0] & 0x0f) * 4);
  total = rd16 (ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || l3 + total > len)
    return -EINVAL;
  if (ip[9] != 6 && ip[9] != 17)
    return -ENOENT;
  memset (out, 0, sizeof *out);
  out->l3_off = (uint16_t) l3;
  out->proto = ip[9];
  out->src_ip = rd32 (ip + 12);
  out->dst_ip = rd32 (ip + 16);
  frag = rd16 (ip + 6);
  out->fragment = (frag & (IP_MF | IP_OFFSET_MASK)) != 0;
  if (frag & IP_OFFSET_MASK)
    return 0;                          /* no L4 header in this fragment */
  if (total < ihl + (out->proto == 6 ? 20 : 8))
    return -EINVAL;
  if (out->proto == 6 && (size_t) ((ip[ihl + 12] >> 4) * 4) < 20)
    return -EINVAL;
  out->l4_off = (uint16_t) (l3 + ihl);
  out->src_port = rd16 (ip + ihl);
  out->dst_port = rd16 (ip + ihl + 2);
  if (out->proto == 6)
    out->tcp_flags = ip[ihl + 13];
  return 0;
}

/* Replaces the 16-bit words OLD with NEW (N of them) in the checksum
 * CSUM, one's-complement arithmetic (RFC 1624, eqn. 3: HC' = ~(~HC + ~m +
 * m')); PARTIAL: CSUM is a plain (not complemented) sum, as checksum
 * offload leaves it. */
static uint16_t
csum_replace (uint16_t csum, const uint16_t *old, const uint16_t *new, unsigned n, bool partial)
{
  uint32_t sum = partial ? csum : (uint16_t) ~csum;

  for (unsigned i = 0; i < n; i++)
    {
      sum += (uint16_t) ~old[i];
      sum += new[i];
      sum = (sum & 0xffff) + (sum >> 16);
    }
  sum = (sum & 0xffff) + (sum >> 16);
  return partial ? (uint16_t) sum : (uint16_t) ~sum;
}

/* The same in the TCP/UDP checksum.  A UDP datagram sent without a
 * checksum (0) keeps none, and a computed 0 goes out as 0xffff (0 means
 * "none" in UDP); with PARTIAL the field is offload's pseudo-header sum. */
static void
l4_csum_replace (uint8_t *frame, const struct dvs_lb_l4 *l4, const uint16_t *old,
                 const uint16_t *new, unsigned n, bool partial)
{
  uint8_t *l4c = frame + l4->l4_off + (l4->proto == 6 ? 16 : 6);
  bool udp_sum = l4->proto == 17 && !partial;
  uint16_t lc = rd16 (l4c);

  if (udp_sum && lc == 0)
    return;
  lc = csum_replace (lc, old, new, n, partial);
  wr16 (l4c, udp_sum && lc == 0 ? 0xffff : lc);
}

static void
replace_ip (uint8_t *frame, const struct dvs_lb_l4 *l4, size_t field, uint32_t ip, bool partial)
{
  uint8_t *iph = frame + l4->l3_off;
  uint8_t *f = iph + field;
  const uint16_t old[2] = { rd16 (f), rd16 (f + 2) };
  const uint16_t new[2] = { (uint16_t) (ip >> 16), (uint16_t) ip };

  wr16 (iph + 10, csum_replace (rd16 (iph + 10), old, new, 2, false));
  if (l4->l4_off != 0)
    l4_csum_replace (frame, l4, old, new, 2, partial);   /* the pseudo-header holds both */
  wr16 (f, new[0]);
  wr16 (f + 2, new[1]);
}

static void
replace_port (uint8_t *frame, const struct dvs_lb_l4 *l4, size_t field, uint16_t port,
              bool partial)
{
  uint8_t *p = frame + l4->l4_off + field;
  const uint16_t old = rd16 (p);

  /* with offload the device sums the ports itself */
  if (!partial)
    l4_csum_replace (frame, l4, &old, &port, 1, false);
  wr16 (p, port);
}

static void
rewrite (uint8_t *frame, const struct dvs_lb_l4 *l4, const uint8_t mac[6], uint32_t ip,
         uint16_t port, bool l4_partial, bool dst)
{
  memcpy (frame + (dst ? 0 : 6), mac, 6);
  if (ip != 0)
    replace_ip (frame, l4, dst ? 16 : 12, ip, l4_partial);
  if (port != 0 && l4->l4_off != 0)
    replace_port (frame, l4, dst ? 2 : 0, port, l4_partial);
}

void
dvs_lb_rewrite_dst (uint8_t *frame, const struct dvs_lb_l4 *l4, const uint8_t mac[6],
                    uint32_t ip, uint16_t port, bool l4_partial)
{
  rewrite (frame, l4, mac, ip, port, l4_partial, true);
}

void
dvs_lb_rewrite_src (uint8_t *frame, const struct dvs_lb_l4 *l4, const uint8_t mac[6],
                    uint32_t ip, uint16_t port, bool l4_partial)
{
  rewrite (frame, l4, mac, ip, port, l4_partial, false);
}

void
dvs_lb_vip_mac (uint32_t vip, uint8_t mac[6])
{
  mac[0] = 0x02;
  mac[1] = 0x00;
  mac[2] = 0x5e;
  mac[3] = (uint8_t) (vip >> 16);
  mac[4] = (uint8_t) (vip >> 8);
  mac[5] = (uint8_t) vip;
}
