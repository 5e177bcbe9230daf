/* A libvirt connection per host with a libvirt URI, and what it last said:
 * node info, free memory and the domains it runs.
 *
 * libvirt calls block, so they run on GTask worker threads, one refresh
 * per host at a time: (re)connect when there is no live connection, then
 * read virNodeGetInfo, virNodeGetFreeMemory and every domain's info.  The
 * result comes back to the main loop, which alone reads and writes the
 * cache.  LvHost is reference-counted: a worker holds a reference while it
 * runs; once the host is gone (unregistered, URI changed, manager
 * stopping) its late results are dropped.  The connection pointer is
 * guarded by a mutex held only to swap or reference it.
 *
 * A host whose libvirt cannot be reached (libvirtd not started yet or
 * restarting, a refused connection) is retried with exponential backoff,
 * BACKOFF_MIN_MS doubling up to BACKOFF_MAX_MS (and never more often than
 * the refresh period), each retry logged with its delay: a fleet's managers
 * do not hammer a libvirtd that is coming up, and the operator sees when
 * the next attempt is. */
#define G_LOG_DOMAIN "dvsmgr-libvirt"

#include "placement/placement-private.h"

#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>

#define MAX_DOMAINS 4096
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000

struct _LvHost {
  gint ref;
  gchar *name, *uri;
  MgrPlacement *pl;             /* NULL once gone */
  GMutex lock;                  /* guards conn */
  virConnectPtr conn;
  /* the cache: main loop only */
  gboolean have_node;
  MgrNodeInfo node;
  GArray *domains;              /* MgrDomainInfo */
  gchar *error;                 /* last failure, "" none */
  gboolean busy;                /* a refresh is running */
  guint failures;               /* refreshes failed in a row */
  gint64 next_try;              /* monotonic µs: no refresh before (backoff) */
};

typedef struct {
  MgrNodeInfo node;
  GArray *domains;
  gchar *error;                 /* NULL: fine */
} LvResult;

static LvHost *
lv_ref (LvHost *lv)
{
  g_atomic_int_inc (&lv->ref);
  return lv;
}

static void
close_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  virConnectClose (data);
}

/* Closing a remote connection talks to libvirtd: not on the main loop. */
static void
close_later (virConnectPtr conn)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_task_set_task_data (task, conn, NULL);
  g_task_run_in_thread (task, close_thread);
}

static void
lv_unref (LvHost *lv)
{
  if (!g_atomic_int_dec_and_test (&lv->ref))
    return;
  if (lv->conn)
    close_later (lv->conn);
  g_mutex_clear (&lv->lock);
  g_free (lv->name);
  g_free (lv->uri);
  g_array_unref (lv->domains);
  g_free (lv->error);
  g_free (lv);
}

static void
lv_result_free (LvResult *r)
{
  if (r->domains)
    g_array_unref (r->domains);
  g_free (r->error);
  g_free (r);
}

static gchar *
last_error (const gchar *what)
{
  const gchar *m = virGetLastErrorMessage ();

  return g_strdup_printf ("%s: %s", what, m && *m ? m : "unknown libvirt error");
}

/* ---- the worker ------------------------------------------------------- */

/* A live connection, opened when needed; a reference for the caller.
 * Any thread. */
static virConnectPtr
lv_connect (LvHost *lv, gchar **error)
{
  virConnectPtr conn, old = NULL;

  g_mutex_lock (&lv->lock);
  conn = lv->conn;
  if (conn)
    virConnectRef (conn);
  g_mutex_unlock (&lv->lock);
  if (conn && virConnectIsAlive (conn) == 1)
    return conn;
  if (conn)
    virConnectClose (conn);
  conn = virConnectOpen (lv->uri);
  if (conn == NULL)
    {
      *error = last_error ("cannot connect");
      return NULL;
    }
  g_mutex_lock (&lv->lock);
  old = lv->conn;
  lv->conn = conn;
  virConnectRef (conn);
  g_mutex_unlock (&lv->lock);
  if (old)
    virConnectClose (old);
  return conn;
}

static void
read_domains (virConnectPtr conn, LvResult *r)
{
  virDomainPtr *doms = NULL;
  gint n = virConnectListAllDomains (conn, &doms, 0);

  r->domains = g_array_new (FALSE, TRUE, sizeof (MgrDomainInfo));
  for (gint i = 0; i < n; i++)
    {
      MgrDomainInfo d = { 0 };
      virDomainInfo info;
      const gchar *name = virDomainGetName (doms[i]);

      if (i < MAX_DOMAINS && virDomainGetUUIDString (doms[i], d.uuid) == 0
          && virDomainGetInfo (doms[i], &info) == 0)
        {
          g_strlcpy (d.name, name ? name : "", sizeof d.name);
          d.vcpus = info.nrVirtCpu;
          d.memory_kib = info.maxMem;
          d.active = virDomainIsActive (doms[i]) == 1;
          g_array_append_val (r->domains, d);
        }
      virDomainFree (doms[i]);
    }
  free (doms);
}

static void
refresh_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LvHost *lv = data;
  LvResult *r = g_new0 (LvResult, 1);
  virConnectPtr conn = lv_connect (lv, &r->error);
  virNodeInfo info;
  unsigned long long free_bytes;

  if (conn == NULL)
    {
      g_task_return_pointer (task, r, (GDestroyNotify) lv_result_free);
      return;
    }
  if (virNodeGetInfo (conn, &info) < 0)
    r->error = last_error ("virNodeGetInfo");
  else
    {
      r->node.cpus = info.cpus;
      r->node.memory_kib = info.memory;
      read_domains (conn, r);
      free_bytes = virNodeGetFreeMemory (conn);
      if (free_bytes > 0)
        r->node.free_kib = free_bytes / 1024;
      else
        {
          /* Not every driver says: the node's memory less its running
           * domains'. */
          guint64 used = 0;
          for (guint i = 0; i < r->domains->len; i++)
            if (g_array_index (r->domains, MgrDomainInfo, i).active)
              used += g_array_index (r->domains, MgrDomainInfo, i).memory_kib;
          r->node.free_kib = info.memory > used ? info.memory - used : 0;
        }
      r->node.time = g_get_real_time ();
    }
  if (r->error)
    {
      /* Reconnect next time. */
      virConnectPtr old;
      g_mutex_lock (&lv->lock);
      old = lv->conn;
      lv->conn = NULL;
      g_mutex_unlock (&lv->lock);
      if (old)
        virConnectClose (old);
    }
  virConnectClose (conn);
  g_task_return_pointer (task, r, (GDestroyNotify) lv_result_free);
}

/* ---- the main loop's side --------------------------------------------- */

typedef struct {
  GSourceFunc func;
  gpointer data;
} LvWaiter;

static void
run_waiters (MgrPlacement *pl)
{
  g_autoptr (GPtrArray) waiters = NULL;

  if (pl->lv_pending > 0 || pl->lv_waiters->len == 0)
    return;
  waiters = pl->lv_waiters;
  pl->lv_waiters = g_ptr_array_new ();
  for (guint i = 0; i < waiters->len; i++)
    {
      LvWaiter *w = waiters->pdata[i];
      w->func (w->data);
      g_free (w);
    }
}

static void
refresh_done (GObject *source, GAsyncResult *res, gpointer data)
{
  LvHost *lv = data;
  LvResult *r = g_task_propagate_pointer (G_TASK (res), NULL);
  MgrPlacement *pl = lv->pl;

  lv->busy = FALSE;
  if (pl && r)
    {
      if (r->error)
        {
          guint shift = MIN (lv->failures, 16u);
          guint delay_ms = MIN ((guint64) BACKOFF_MIN_MS << shift, (guint64) BACKOFF_MAX_MS);

          lv->failures++;
          lv->next_try = g_get_monotonic_time () + (gint64) delay_ms * 1000;
          if (g_strcmp0 (lv->error, r->error) != 0)
            g_warning ("host %s: libvirt %s: %s; retrying in %.2f s", lv->name, lv->uri,
                       r->error, delay_ms / 1000.0);
          else
            g_info ("host %s: libvirt %s still unreachable after %u attempts; retrying in %.2f s",
                    lv->name, lv->uri, lv->failures, delay_ms / 1000.0);
          g_free (lv->error);
          lv->error = g_steal_pointer (&r->error);
        }
      else
        {
          if (lv->error && *lv->error)
            g_info ("host %s: libvirt %s connected again after %u failed attempts", lv->name,
                    lv->uri, lv->failures);
          lv->failures = 0;
          lv->next_try = 0;
          g_free (lv->error);
          lv->error = g_strdup ("");
          lv->have_node = TRUE;
          lv->node = r->node;
          g_array_unref (lv->domains);
          lv->domains = g_steal_pointer (&r->domains);
        }
    }
  if (r)
    lv_result_free (r);
  if (pl)
    {
      pl->lv_pending--;
      run_waiters (pl);
    }
  lv_unref (lv);
}

static void
lv_start_refresh (MgrPlacement *pl, LvHost *lv)
{
  g_autoptr (GTask) task = NULL;

  if (lv->busy || g_get_monotonic_time () < lv->next_try)
    return;
  lv->busy = TRUE;
  pl->lv_pending++;
  task = g_task_new (NULL, NULL, refresh_done, lv_ref (lv));
  g_task_set_task_data (task, lv_ref (lv), (GDestroyNotify) lv_unref);
  g_task_run_in_thread (task, refresh_thread);
}

static void
lv_forget (LvHost *lv)
{
  if (lv->busy && lv->pl)
    lv->pl->lv_pending--;   /* its result will be dropped */
  lv->pl = NULL;
  lv_unref (lv);
}

/* Brings pl->lv in line with the registered hosts and their URIs. */
static void
lv_sync_hosts (MgrPlacement *pl)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, pl->lv);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      MgrHost *h = g_hash_table_lookup (pl->mgr->hosts, k);
      if (h == NULL || g_strcmp0 (h->libvirt_uri, ((LvHost *) v)->uri) != 0)
        {
          lv_forget (v);
          g_hash_table_iter_remove (&it);
        }
    }
  g_hash_table_iter_init (&it, pl->mgr->hosts);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrHost *h = v;
      LvHost *lv;
      if (h->libvirt_uri == NULL || *h->libvirt_uri == '\0' || g_hash_table_contains (pl->lv, h->name))
        continue;
      lv = g_new0 (LvHost, 1);
      lv->ref = 1;
      lv->name = g_strdup (h->name);
      lv->uri = g_strdup (h->libvirt_uri);
      lv->pl = pl;
      g_mutex_init (&lv->lock);
      lv->domains = g_array_new (FALSE, TRUE, sizeof (MgrDomainInfo));
      g_hash_table_insert (pl->lv, g_strdup (h->name), lv);
    }
}

static void
refresh_all (MgrPlacement *pl)
{
  GHashTableIter it;
  gpointer v;

  lv_sync_hosts (pl);
  g_hash_table_iter_init (&it, pl->lv);
  while (g_hash_table_iter_next (&it, NULL, &v))
    lv_start_refresh (pl, v);
  run_waiters (pl);   /* nothing to wait for */
}

static gboolean
on_lv_timer (gpointer data)
{
  refresh_all (data);
  return G_SOURCE_CONTINUE;
}

/* libvirt prints every error on stderr by default; ours are reported
 * where they happen, from virGetLastErrorMessage(). */
static void
quiet (void *data, virErrorPtr error)
{
}

/* Once, on the main loop's thread, before any worker: libvirt's and
 * libxml2's global set-up.  Left to the first virConnectOpen, two workers
 * starting at once both ran libxml2's, which is not thread-safe (a mutex
 * allocated twice, one lost: LeakSanitizer saw it in 2 of 60 runs of the
 * placement unit test). */
static void
quiet_libvirt (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      xmlInitParser ();
      if (virInitialize () < 0)
        g_warning ("libvirt failed to initialize: %s", virGetLastErrorMessage ());
      virSetErrorFunc (NULL, quiet);
      g_once_init_leave (&once, 1);
    }
}

void
dvs_mgr_libvirt_start (DvsMgr *mgr, guint period_ms)
{
  MgrPlacement *pl = dvs_mgr_placement_get (mgr);

  quiet_libvirt ();
  g_clear_handle_id (&pl->lv_timer, g_source_remove);
  refresh_all (pl);
  pl->lv_timer = g_timeout_add (period_ms, on_lv_timer, pl);
}

void
dvs_mgr_libvirt_refresh (DvsMgr *mgr, GSourceFunc func, gpointer data)
{
  MgrPlacement *pl = dvs_mgr_placement_get (mgr);
  LvWaiter *w = g_new0 (LvWaiter, 1);

  quiet_libvirt ();
  w->func = func;
  w->data = data;
  g_ptr_array_add (pl->lv_waiters, w);
  refresh_all (pl);
}

void
mgr_lv_free_all (MgrPlacement *pl)
{
  GHashTableIter it;
  gpointer v;

  g_clear_handle_id (&pl->lv_timer, g_source_remove);
  g_hash_table_iter_init (&it, pl->lv);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      ((LvHost *) v)->pl = NULL;
      lv_unref (v);
    }
  g_hash_table_remove_all (pl->lv);
  for (guint i = 0; i < pl->lv_waiters->len; i++)
    g_free (pl->lv_waiters->pdata[i]);
  g_ptr_array_set_size (pl->lv_waiters, 0);
}

gpointer
mgr_lv_conn_ref (DvsMgr *mgr, const gchar *host)
{
  LvHost *lv = g_hash_table_lookup (dvs_mgr_placement_get (mgr)->lv, host);
  virConnectPtr conn = NULL;

  if (lv == NULL)
    return NULL;
  g_mutex_lock (&lv->lock);
  if ((conn = lv->conn))
    virConnectRef (conn);
  g_mutex_unlock (&lv->lock);
  return conn;
}

gpointer
mgr_lv_host_ref (DvsMgr *mgr, const gchar *host)
{
  LvHost *lv = g_hash_table_lookup (dvs_mgr_placement_get (mgr)->lv, host);

  return lv ? lv_ref (lv) : NULL;
}

void
mgr_lv_host_unref (gpointer lv)
{
  if (lv)
    lv_unref (lv);
}

gpointer
mgr_lv_host_connect (gpointer data, guint attempts, gchar **error)
{
  LvHost *lv = data;
  guint delay_ms = BACKOFF_MIN_MS;

  for (guint i = 1;; i++)
    {
      g_autofree gchar *why = NULL;
      virConnectPtr conn = lv_connect (lv, &why);
      if (conn)
        return conn;
      if (i >= attempts)
        {
          *error = g_strdup_printf ("host %s's libvirt %s: %s (%u attempts)", lv->name, lv->uri,
                                    why, attempts);
          return NULL;
        }
      g_info ("host %s: libvirt %s: %s; attempt %u of %u in %.2f s", lv->name, lv->uri, why,
              i + 1, attempts, delay_ms / 1000.0);
      g_usleep ((gulong) delay_ms * 1000);
      delay_ms = MIN (delay_ms * 2, BACKOFF_MAX_MS);
    }
}

/* ---- reading the cache ------------------------------------------------ */

static LvHost *
lv_lookup (DvsMgr *mgr, const gchar *host)
{
  return host ? g_hash_table_lookup (dvs_mgr_placement_get (mgr)->lv, host) : NULL;
}

gboolean
dvs_mgr_libvirt_node_info (DvsMgr *mgr, const gchar *host, MgrNodeInfo *out)
{
  LvHost *lv = lv_lookup (mgr, host);

  if (lv == NULL || !lv->have_node)
    return FALSE;
  *out = lv->node;
  return TRUE;
}

gboolean
dvs_mgr_libvirt_domain (DvsMgr *mgr, const gchar *host, const gchar *vm, MgrDomainInfo *out)
{
  LvHost *lv = lv_lookup (mgr, host);

  for (guint i = 0; lv && vm && i < lv->domains->len; i++)
    {
      MgrDomainInfo *d = &g_array_index (lv->domains, MgrDomainInfo, i);
      if (g_ascii_strcasecmp (d->uuid, vm) == 0 || g_str_equal (d->name, vm))
        {
          *out = *d;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
dvs_mgr_libvirt_find_domain (DvsMgr *mgr, const gchar *vm, MgrDomainInfo *out,
                             const gchar **host_out)
{
  g_autoptr (GPtrArray) hosts = dvs_mgr_sorted_values (mgr->hosts, FALSE);
  gboolean found = FALSE;

  /* A running copy wins over a defined one (during a migration both). */
  for (guint pass = 0; pass < 2 && !found; pass++)
    for (guint i = 0; i < hosts->len && !found; i++)
      {
        MgrHost *h = hosts->pdata[i];
        MgrDomainInfo d;
        if (dvs_mgr_libvirt_domain (mgr, h->name, vm, &d) && (pass == 1 || d.active))
          {
            *out = d;
            if (host_out)
              *host_out = h->name;
            found = TRUE;
          }
      }
  return found;
}

const gchar *
dvs_mgr_libvirt_error (DvsMgr *mgr, const gchar *host)
{
  LvHost *lv = lv_lookup (mgr, host);

  return lv ? (lv->error ? lv->error : "") : NULL;
}
