/* The filter classes by enum dvs_filter_id: the order in which the datapath
 * applies them (a blocked port costs nothing more; security before shaping,
 * so spoofed frames spend no tokens). */
#include "filter-class.h"

const struct dvs_filter_class *const dvs_filter_classes[DVS_FILTER_COUNT] = {
  [DVS_FILTER_BLOCK] = &dvs_filter_block,
  [DVS_FILTER_SECURITY] = &dvs_filter_security,
  [DVS_FILTER_SHAPER] = &dvs_filter_shaper,
};
