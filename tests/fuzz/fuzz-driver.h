/* The mutational driver shared by the fuzz targets when they are built
 * without libFuzzer (the default; `meson test --suite fuzz` runs them):
 * every seed once as it is, then mutants of the seeds (byte flips,
 * inserts, deletions, splices, and replacements of JSON strings and
 * numbers by boundary values and control characters) for a fixed time.
 *   TARGET --seconds S [--seed N] [FILE...]   (FILEs are extra seeds)
 * Built with clang -fsanitize=fuzzer -DDVS_LIBFUZZER, a target's
 * LLVMFuzzerTestOneInput() is used by libFuzzer instead. */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef struct {
  const gchar *name;                        /* in the summary line */
  GPtrArray *(*make_seeds) (void);          /* of NUL-terminated strings */
  int (*run_one) (const uint8_t *data, size_t size);
  gchar *(*report) (void);                  /* what the inputs reached; may be NULL */
  void (*finish) (void);                    /* clean-up; may be NULL */
} DvsFuzzTarget;

int dvs_fuzz_main (const DvsFuzzTarget *target, int argc, char **argv);
