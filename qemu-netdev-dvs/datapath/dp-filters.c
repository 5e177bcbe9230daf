/* Applying a port's filter classes to a burst, and the glue between a
 * port's filter storage and the class vtables. */
#include "dp-internal.h"

#include <rte_cycles.h>

const void *
dp_filter_config (const struct dp_filters *f, enum dvs_filter_id id)
{
  switch (id)
    {
    case DVS_FILTER_BLOCK:
      return &f->block;
    case DVS_FILTER_SECURITY:
      return &f->security;
    case DVS_FILTER_SHAPER:
      return &f->shaper;
    case DVS_FILTER_COUNT:
      break;
    }
  return NULL;
}

uint64_t
dp_filters_apply (struct dvs_datapath *dp, struct dp_port *p,
                  enum dvs_filter_dir dir, struct rte_mbuf **pkts, uint16_t n)
{
  uint64_t pass = n >= 64 ? ~UINT64_C (0) : (UINT64_C (1) << n) - 1;
  uint64_t now = rte_rdtsc ();

  struct dvs_port_runtime *rt = dp_rt (dp, p);

  for (int id = 0; id < DVS_FILTER_COUNT && pass; id++)
    {
      uint64_t before = pass;
      if (!(p->filters.active & (1u << id)))
        continue;
      dvs_filter_classes[id]->filter (dp_filter_config (&p->filters, id),
                                      rt->filter_state[id], dir, pkts, n,
                                      &pass, now, dp->tsc_hz);
      pass &= before;   /* a filter may only drop */
      if (pass != before)
        DP_ADD (rt->stats.drop_filter[id], (uint64_t) __builtin_popcountll (before & ~pass));
    }
  return pass;
}
