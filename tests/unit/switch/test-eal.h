/* Starts DPDK EAL once for a unit test binary: no hugepages, no PCI, a
 * unique file prefix, small memory. */
#pragma once

#include <glib.h>
#include <stdlib.h>
#include <unistd.h>
#include <rte_eal.h>

/* EAL leaves an empty runtime directory under /run/dpdk: remove it. */
static gchar *test_eal_runtime_dir;

static inline void
test_eal_remove_runtime_dir (void)
{
  if (test_eal_runtime_dir != NULL)
    rmdir (test_eal_runtime_dir);
  g_clear_pointer (&test_eal_runtime_dir, g_free);
}

static inline void
test_eal_init (void)
{
  g_autofree gchar *prefix = g_strdup_printf ("--file-prefix=dvs-unit-%d", (int) getpid ());
  char *argv[] = { "test", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                   "--no-telemetry", "--log-level=*:error", "-l", "0", prefix, NULL };
  cpu_set_t saved;

  sched_getaffinity (0, sizeof saved, &saved);
  g_assert_cmpint (rte_eal_init (G_N_ELEMENTS (argv) - 1, argv), >=, 0);
  sched_setaffinity (0, sizeof saved, &saved);
  test_eal_runtime_dir = g_strdup (rte_eal_get_runtime_dir ());
  atexit (test_eal_remove_runtime_dir);
}
