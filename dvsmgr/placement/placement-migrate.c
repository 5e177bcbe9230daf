/* MigrateVM's jobs: a live migration through libvirt, one thread each.
 *
 * On the main loop: find the VM's DVports and their owning host (the
 * source), choose or check the destination, take references to both
 * hosts' libvirt connections and export a Migration1 object.  The job's
 * thread calls virDomainMigrate3 (VIR_MIGRATE_LIVE, client-managed: the
 * manager holds both connections, as `virsh migrate --live` does) while a
 * second thread polls virDomainGetJobInfo every 200 ms for the progress.
 * Results go back to the main loop in idle sources; the hooks
 * on both hosts do the DVport handover as for any libvirt migration. */
#define G_LOG_DOMAIN "dvsmgr-migrate"

#include "placement/placement-private.h"

#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include "dvs-log.h"

#define PROGRESS_POLL_US (200 * 1000)
#define FINISHED_KEEP_S 600
#define CONNECT_ATTEMPTS 5      /* 0.25 + 0.5 + 1 + 2 s between them */

struct _MigJob {
  gint ref;
  MgrPlacement *pl;             /* NULL once the manager stops */
  gchar *path, *vm_uuid, *vm_name, *source, *dest, *migrate_uri;
  virConnectPtr sconn, dconn;
  gpointer slv, dlv;            /* the hosts' connection holders (LvHost) */
  DvsObjectSkeleton *object;
  DvsMigration1 *iface;
  gint done;                    /* atomic: the migration call returned */
  GThread *thread;
  guint forget_id;
};

static MigJob *
job_ref (MigJob *j)
{
  g_atomic_int_inc (&j->ref);
  return j;
}

static void
job_unref (MigJob *j)
{
  if (!g_atomic_int_dec_and_test (&j->ref))
    return;
  if (j->sconn)
    virConnectClose (j->sconn);
  if (j->dconn)
    virConnectClose (j->dconn);
  mgr_lv_host_unref (j->slv);
  mgr_lv_host_unref (j->dlv);
  g_clear_object (&j->iface);
  g_clear_object (&j->object);
  g_free (j->path);
  g_free (j->vm_uuid);
  g_free (j->vm_name);
  g_free (j->source);
  g_free (j->dest);
  g_free (j->migrate_uri);
  g_free (j);
}

/* ---- results on the main loop ---------------------------------------- */

typedef struct {
  MigJob *job;
  gboolean finished, ok;
  gdouble progress;
  gchar *error;
} JobEvent;

static void
job_event_free (JobEvent *e)
{
  job_unref (e->job);
  g_free (e->error);
  g_free (e);
}

static gboolean
job_forget (gpointer data)
{
  MigJob *j = data;

  j->forget_id = 0;
  if (j->pl)
    {
      if (j->pl->mgr->objects)
        g_dbus_object_manager_server_unexport (j->pl->mgr->objects, j->path);
      g_hash_table_remove (j->pl->jobs, j->path);
      job_unref (j);   /* the table's reference */
    }
  return G_SOURCE_REMOVE;
}

static gboolean
nothing (gpointer data)
{
  return G_SOURCE_REMOVE;
}

static gboolean
on_job_event (gpointer data)
{
  JobEvent *e = data;
  MigJob *j = e->job;

  if (j->pl == NULL)
    return G_SOURCE_REMOVE;
  if (!e->finished)
    {
      if (g_str_equal (dvs_migration1_get_state (j->iface), "running"))
        dvs_migration1_set_progress (j->iface, e->progress);
      return G_SOURCE_REMOVE;
    }
  g_thread_join (j->thread);
  j->thread = NULL;
  dvs_migration1_set_state (j->iface, e->ok ? "completed" : "failed");
  if (e->ok)
    dvs_migration1_set_progress (j->iface, 1.0);
  dvs_migration1_set_error (j->iface, e->error ? e->error : "");
  dvs_migration1_emit_finished (j->iface, e->ok, e->error ? e->error : "");
  DVS_LOG_KV (e->ok ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_WARNING, "VM", j->vm_uuid,
              "migration of VM %s from %s to %s %s%s%s", j->vm_name, j->source, j->dest,
              e->ok ? "completed" : "failed", e->ok ? "" : ": ", e->ok ? "" : e->error);
  /* The caches say where the VM runs now. */
  dvs_mgr_libvirt_refresh (j->pl->mgr, nothing, NULL);
  j->forget_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, FINISHED_KEEP_S, job_forget,
                                             job_ref (j), (GDestroyNotify) job_unref);
  return G_SOURCE_REMOVE;
}

static void
post (MigJob *j, gboolean finished, gboolean ok, gdouble progress, const gchar *error)
{
  JobEvent *e = g_new0 (JobEvent, 1);
  GSource *idle = g_idle_source_new ();

  e->job = job_ref (j);
  e->finished = finished;
  e->ok = ok;
  e->progress = progress;
  e->error = g_strdup (error);
  /* Not g_main_context_invoke: when no thread owns the main context at
   * that moment (a test between iterations) it runs the callback here, on
   * the job's own thread, which then joins itself. */
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, on_job_event, e, (GDestroyNotify) job_event_free);
  g_source_attach (idle, NULL);
  g_source_unref (idle);
}

/* ---- the threads ------------------------------------------------------ */

typedef struct {
  MigJob *job;
  virDomainPtr dom;
} Poll;

static gpointer
poll_thread (gpointer data)
{
  Poll *p = data;

  while (!g_atomic_int_get (&p->job->done))
    {
      virDomainJobInfo info;
      g_usleep (PROGRESS_POLL_US);
      if (g_atomic_int_get (&p->job->done))
        break;
      if (virDomainGetJobInfo (p->dom, &info) == 0 && info.type != VIR_DOMAIN_JOB_NONE
          && info.dataTotal > 0)
        post (p->job, FALSE, FALSE, MIN ((gdouble) info.dataProcessed / info.dataTotal, 0.99), NULL);
    }
  return NULL;
}

static gboolean
conn_answers (virConnectPtr conn)
{
  unsigned long version;

  return virConnectIsAlive (conn) == 1 && virConnectGetLibVersion (conn, &version) == 0;
}

/* The job's connections: those the refresher holds, else opened here with
 * retries (a libvirtd restarting, or not yet seen since it came back). */
static gboolean
job_connect (MigJob *j, gchar **error)
{
  g_autofree gchar *why = NULL;

  /* One the refresher held may have died since (libvirtd restarted):
   * a round trip tells (virConnectIsAlive only knows after an I/O error). */
  if (j->sconn && !conn_answers (j->sconn))
    g_clear_pointer (&j->sconn, virConnectClose);
  if (j->dconn && !conn_answers (j->dconn))
    g_clear_pointer (&j->dconn, virConnectClose);
  if (j->sconn == NULL && !(j->sconn = mgr_lv_host_connect (j->slv, CONNECT_ATTEMPTS, &why)))
    *error = g_strdup_printf ("libvirt: cannot connect to the source, %s", why);
  else if (j->dconn == NULL
           && !(j->dconn = mgr_lv_host_connect (j->dlv, CONNECT_ATTEMPTS, &why)))
    *error = g_strdup_printf ("libvirt: cannot connect to the destination, %s", why);
  return *error == NULL;
}

static gpointer
migrate_thread (gpointer data)
{
  MigJob *j = data;
  virDomainPtr dom = NULL;
  virDomainPtr moved = NULL;
  virTypedParameterPtr params = NULL;
  gint nparams = 0, maxparams = 0;
  g_autofree gchar *error = NULL;
  Poll poll = { j, NULL };
  GThread *poller = NULL;

  if (job_connect (j, &error)
      && !(poll.dom = dom = virDomainLookupByUUIDString (j->sconn, j->vm_uuid)))
    error = g_strdup_printf ("VM %s is not on host %s any more: %s", j->vm_name, j->source,
                             virGetLastErrorMessage ());
  if (dom)
    {
      if (j->migrate_uri)
        virTypedParamsAddString (&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_URI,
                                 j->migrate_uri);
      poller = g_thread_new ("dvsmgr-migpoll", poll_thread, &poll);
      moved = virDomainMigrate3 (dom, j->dconn, params, nparams, VIR_MIGRATE_LIVE);
      if (moved == NULL)
        error = g_strdup_printf ("libvirt: %s", virGetLastErrorMessage ());
      g_atomic_int_set (&j->done, 1);
      g_thread_join (poller);
      virTypedParamsFree (params, nparams);
    }
  g_atomic_int_set (&j->done, 1);
  if (moved)
    virDomainFree (moved);
  if (dom)
    virDomainFree (dom);
  post (j, TRUE, error == NULL, 1.0, error);
  job_unref (j);
  return NULL;
}

/* ---- starting one ----------------------------------------------------- */

/* Where QEMU's migration stream goes: the destination's migration URI when
 * set, else tcp://ADDRESS with its address on the host channel when it came
 * over TLS, else the host in its libvirt URI; NULL lets libvirt use the
 * destination's host name. */
static gchar *
migrate_uri_of (MgrHost *h)
{
  g_autoptr (GUri) uri = NULL;

  if (h->migration_uri)
    return g_strdup (h->migration_uri);
  if (g_strcmp0 (h->transport, "tls") == 0 && h->address)
    {
      const gchar *colon = strrchr (h->address, ':');
      if (colon && colon > h->address)
        return g_strdup_printf ("tcp://%.*s", (gint) (colon - h->address), h->address);
    }
  uri = g_uri_parse (h->libvirt_uri, G_URI_FLAGS_NONE, NULL);
  if (uri && g_uri_get_host (uri) && *g_uri_get_host (uri)
      && !g_str_equal (g_uri_get_host (uri), "localhost"))
    return g_strdup_printf ("tcp://%s", g_uri_get_host (uri));
  return NULL;
}

static MgrHost *
libvirt_host (DvsMgr *mgr, const gchar *name, const gchar *role, GError **error)
{
  MgrHost *h = dvs_mgr_host_lookup (mgr, name, error);

  if (h && (h->libvirt_uri == NULL || *h->libvirt_uri == '\0'))
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_HOST_UNREACHABLE,
                   "%s host %s has no libvirt URI (dvsctl host register NAME --libvirt-uri URI)",
                   role, name);
      return NULL;
    }
  return h;
}

gchar *
dvs_mgr_migrate_vm (DvsMgr *mgr, const gchar *vm, const gchar *host, GError **error)
{
  MgrPlacement *pl = dvs_mgr_placement_get (mgr);
  g_autoptr (GPtrArray) ports = dvs_mgr_placement_vm_ports (mgr, vm);
  g_autoptr (GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *chosen = NULL;
  MgrHost *src, *dst;
  MgrDomainInfo dom;
  MigJob *j;

  if (ports->len == 0)
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_FOUND,
                   "no connected DVport belongs to VM '%s'", vm);
      return NULL;
    }
  if (host == NULL || *host == '\0')
    {
      chosen = dvs_mgr_placement_place_vm (mgr, vm, NULL, error);
      if (chosen == NULL)
        return NULL;
      host = chosen;
    }
  /* Where libvirt says the VM runs; the DVports' owner when no libvirt
   * says (they agree once the hooks have moved the ports). */
  if (!(src = libvirt_host (mgr, dvs_mgr_placement_vm_host (mgr, ports, vm), "the source", error))
      || !(dst = libvirt_host (mgr, host, "the destination", error)))
    return NULL;
  if (src == dst)
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS, "VM %s runs on host %s already",
                   vm, host);
      return NULL;
    }
  if (!dvs_mgr_placement_check_vm (mgr, ports, dst->name, reasons))
    {
      g_autofree gchar *all = NULL;
      g_ptr_array_add (reasons, NULL);
      all = g_strjoinv ("; ", (gchar **) reasons->pdata);
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_BUSY, "VM %s may not run on host %s: %s",
                   vm, dst->name, all);
      return NULL;
    }
  if (!dvs_mgr_libvirt_domain (mgr, src->name, vm, &dom)
      && !dvs_mgr_libvirt_domain (mgr, src->name, ((MgrPort *) ports->pdata[0])->vm, &dom))
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_FOUND,
                   "host %s's libvirt does not (yet) list VM %s%s%s", src->name, vm,
                   *dvs_mgr_libvirt_error (mgr, src->name) ? ": " : "",
                   dvs_mgr_libvirt_error (mgr, src->name));
      return NULL;
    }
  j = g_new0 (MigJob, 1);
  j->ref = 1;
  j->pl = pl;
  /* A connection the refresher does not hold now is opened by the job's
   * thread, with retries: it may be down between two refreshes. */
  j->sconn = mgr_lv_conn_ref (mgr, src->name);
  j->dconn = mgr_lv_conn_ref (mgr, dst->name);
  j->slv = mgr_lv_host_ref (mgr, src->name);
  j->dlv = mgr_lv_host_ref (mgr, dst->name);
  if ((j->sconn == NULL && j->slv == NULL) || (j->dconn == NULL && j->dlv == NULL))
    {
      gboolean src_missing = j->sconn == NULL && j->slv == NULL;
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_HOST_UNREACHABLE,
                   "the manager has no libvirt connection to host %s yet (its URI was just "
                   "set?); try again in a moment", src_missing ? src->name : dst->name);
      job_unref (j);
      return NULL;
    }
  j->path = g_strdup_printf (DVS_MGR_OBJECT_PATH "/migration/%u", ++pl->next_job);
  j->vm_uuid = g_strdup (dom.uuid);
  j->vm_name = g_strdup (dom.name);
  j->source = g_strdup (src->name);
  j->dest = g_strdup (dst->name);
  j->migrate_uri = migrate_uri_of (dst);
  j->object = dvs_object_skeleton_new (j->path);
  j->iface = dvs_migration1_skeleton_new ();
  dvs_migration1_set_state (j->iface, "running");
  dvs_migration1_set_progress (j->iface, 0.0);
  dvs_migration1_set_error (j->iface, "");
  dvs_migration1_set_vm (j->iface, j->vm_uuid);
  dvs_migration1_set_vm_name (j->iface, j->vm_name);
  dvs_migration1_set_source (j->iface, j->source);
  dvs_migration1_set_destination (j->iface, j->dest);
  dvs_object_skeleton_set_migration1 (j->object, j->iface);
  if (mgr->objects)
    g_dbus_object_manager_server_export (mgr->objects, G_DBUS_OBJECT_SKELETON (j->object));
  g_hash_table_insert (pl->jobs, g_strdup (j->path), j);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "VM", j->vm_uuid, "migrating VM %s from %s to %s%s%s",
              j->vm_name, j->source, j->dest, j->migrate_uri ? " over " : "",
              j->migrate_uri ? j->migrate_uri : "");
  j->thread = g_thread_new ("dvsmgr-migrate", migrate_thread, job_ref (j));
  return g_strdup (j->path);
}

gboolean
dvs_mgr_host_set_migration_uri (DvsMgr *mgr, MgrHost *h, const gchar *uri, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (GUri) parsed = NULL;
  g_autoptr (JsonNode) rec = NULL;
  g_autoptr (GError) local = NULL;
  gchar *old = h->migration_uri;
  const gchar *scheme;

  if (uri && *uri == '\0')
    uri = NULL;
  if (uri && (strlen (uri) > 256 || !(parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL))
              || !(scheme = g_uri_get_scheme (parsed))
              || !(g_str_equal (scheme, "tcp") || g_str_equal (scheme, "rdma")
                   || g_str_equal (scheme, "unix"))))
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS,
                   "the migration URI must be tcp://ADDRESS[:PORT], rdma://... or unix://... "
                   "of at most 256 characters (\"\" for the default); got '%.64s'", uri);
      return FALSE;
    }
  h->migration_uri = (gchar *) uri;
  rec = dvs_mgr_host_to_store (h);
  h->migration_uri = old;
  dvs_mgr_txn_put (txn, "host", h->name, rec);
  if (!dvs_mgr_store_commit (mgr->store, txn, &local))
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_FAILED, "cannot record it: %s",
                   local->message);
      return FALSE;
    }
  h->migration_uri = g_strdup (uri);
  g_free (old);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", h->name, "host %s's migration URI is %s", h->name,
              uri ? uri : "the default");
  dvs_mgr_dbus_host (mgr, h);
  return TRUE;
}

DvsMigration1 *
dvs_mgr_migration_get (DvsMgr *mgr, const gchar *path)
{
  MigJob *j = g_hash_table_lookup (dvs_mgr_placement_get (mgr)->jobs, path ? path : "");

  return j ? j->iface : NULL;
}

void
mgr_migrate_free_all (MgrPlacement *pl)
{
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, pl->jobs);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MigJob *j = v;
      j->pl = NULL;
      if (j->thread)
        g_thread_unref (j->thread);   /* running: let it end with the process */
      j->thread = NULL;
      g_clear_handle_id (&j->forget_id, g_source_remove);
      job_unref (j);
    }
  g_hash_table_remove_all (pl->jobs);
}
