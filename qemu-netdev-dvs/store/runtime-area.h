/* The runtime area: a file the switch maps shared, holding each attached
 * DVport's counters and filter-class states (struct dvs_port_runtime) where
 * the datapath updates them in place.  Stores to a shared file mapping live
 * in the kernel's page cache, not in the process: a dvs-switchd that is
 * killed (kill -9, a crash) loses none of them, and the next one maps the
 * same file and adopts every slot still marked in use.
 *
 * It also holds the datapath's burst journal and, per slot, what the
 * forwarding class learned on the port (datapath/dp-types.h).
 *
 * The header records the boot it was written in; after a reboot the area is
 * stale (the checkpoints are the truth) and is reset.  The area is not a
 * store of record: checkpoints are.  It bridges the time between them.
 *
 * Slots are claimed and released on the main thread; the datapath only
 * writes into the dvs_port_runtime of claimed slots. */
#pragma once

#include <glib.h>
#include "datapath/dp-types.h"
#include "datapath/datapath.h"

G_BEGIN_DECLS

typedef struct _DvsRuntimeArea DvsRuntimeArea;

/* Maps (creating or resetting as needed) @path with DVS_MAX_PORTS slots. */
DvsRuntimeArea *dvs_runtime_area_open (const gchar *path, GError **error);
void dvs_runtime_area_free (DvsRuntimeArea *area);   /* unmaps; the file stays */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsRuntimeArea, dvs_runtime_area_free)

/* The slot of DVport @key of switch @switch_id.  If a slot for it survives
 * from an earlier process, *adopted is TRUE and its contents are the
 * port's latest state; otherwise a free slot is cleared and claimed.
 * Returns the slot's index (also the datapath port to use), or -1 when
 * every slot is taken. */
gint dvs_runtime_area_claim (DvsRuntimeArea *area, const gchar *switch_id,
                             const gchar *key, gboolean *adopted);
struct dvs_port_runtime *dvs_runtime_area_slot (DvsRuntimeArea *area, gint index);
void dvs_runtime_area_release (DvsRuntimeArea *area, gint index);
/* What the forwarding class knew about the slot's port when the datapath
 * last saw it learn something (struct dvs_fwd_blob), or NULL. */
GBytes *dvs_runtime_area_fwd_state (DvsRuntimeArea *area, gint index, guint16 *version);
/* The burst journal and its recovery record, with the slots' layout, for
 * dvs_dp_set_journal (datapath.h).  Opening an area settles what a crashed
 * process left in the journal (logged). */
void dvs_runtime_area_journal (DvsRuntimeArea *area, struct dvs_journal_area *out);
/* Releases slots claimed by an earlier process that nobody adopted. */
guint dvs_runtime_area_release_unclaimed (DvsRuntimeArea *area);

G_END_DECLS
