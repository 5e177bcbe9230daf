/* DPDK EAL start-up for dvs-switchd: arguments from the config, DPDK's log
 * routed into GLib's structured log, and the caller's CPU affinity restored
 * after rte_eal_init() pinned it (threads created later inherit it). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const gchar *name;          /* instance name: names the EAL file prefix */
  gboolean hugepages;
  guint memory_mb;
  const gchar *const *override;  /* replaces the generated arguments if set */
} DvsEalOptions;

/* The argument vector rte_eal_init() will get (argv[0] included). */
GStrv dvs_eal_build_args (const DvsEalOptions *opts);

/* Initialises EAL once per process. */
gboolean dvs_eal_init (const DvsEalOptions *opts, GError **error);
void dvs_eal_cleanup (void);

G_END_DECLS
