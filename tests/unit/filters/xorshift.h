/* A deterministic stream of numbers for the unit tests (xorshift32):
 * the same seed, the same stream, on every machine. */
#pragma once

#include <stdint.h>

static inline uint32_t
xorshift32 (uint32_t *state)
{
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}
