#define G_LOG_DOMAIN "dvs-vhost"
#include "vhost-flap.h"

#include <rte_vhost.h>

/* Connections in a row that end before their device starts. */
#define FLAP_LIMIT 3
#define COOL_MIN_MS 1000
#define COOL_MAX_MS 30000

typedef struct {
  gchar *path;
  DvsVhostFlapRestart restart;
  GMainContext *context;
  guint failures;          /* connections in a row without a device */
  guint total;             /* ... since the last device, for the log */
  guint cool_ms;           /* the next cool-down */
  gboolean device;         /* the current connection started a device */
  gboolean cooling;        /* a cool-down is scheduled or running */
  gboolean unregistered;   /* taken out of rte_vhost, waiting to restart */
  GSource *timer;
} Flap;

static GMutex lock;
static GHashTable *flaps;  /* path -> Flap */

/* The entry of @path, or NULL; the caller holds the lock. */
static Flap *
lookup_locked (const gchar *path)
{
  return flaps != NULL ? g_hash_table_lookup (flaps, path) : NULL;
}

static void
flap_free (gpointer p)
{
  Flap *f = p;

  if (f->timer != NULL)
    {
      g_source_destroy (f->timer);
      g_source_unref (f->timer);
    }
  g_main_context_unref (f->context);
  g_free (f->path);
  g_free (f);
}

void
dvs_vhost_flap_track (const gchar *path, DvsVhostFlapRestart restart)
{
  Flap *f = g_new0 (Flap, 1);

  f->path = g_strdup (path);
  f->restart = restart;
  f->context = g_main_context_ref_thread_default ();
  f->cool_ms = COOL_MIN_MS;
  g_mutex_lock (&lock);
  if (flaps == NULL)
    flaps = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, flap_free);
  g_hash_table_replace (flaps, f->path, f);
  g_mutex_unlock (&lock);
}

gboolean
dvs_vhost_flap_forget (const gchar *path)
{
  gboolean unregistered = FALSE;
  Flap *f;

  g_mutex_lock (&lock);
  f = lookup_locked (path);
  if (f != NULL)
    {
      unregistered = f->unregistered;
      g_hash_table_remove (flaps, path);
    }
  g_mutex_unlock (&lock);
  return unregistered;
}

void
dvs_vhost_flap_connected (const gchar *path)
{
  Flap *f;

  g_mutex_lock (&lock);
  f = lookup_locked (path);
  if (f != NULL)
    f->device = FALSE;
  g_mutex_unlock (&lock);
}

void
dvs_vhost_flap_started (const gchar *path)
{
  Flap *f;

  g_mutex_lock (&lock);
  f = lookup_locked (path);
  if (f != NULL)
    {
      f->device = TRUE;
      f->failures = 0;
      f->total = 0;
      f->cool_ms = COOL_MIN_MS;
    }
  g_mutex_unlock (&lock);
}

static gboolean restart_cb (gpointer data);

/* Restart @f's socket in @ms on its context; the caller holds the lock. */
static void
schedule_restart_locked (Flap *f, guint ms)
{
  f->timer = g_timeout_source_new (ms);
  g_source_set_callback (f->timer, restart_cb, g_strdup (f->path), g_free);
  g_source_attach (f->timer, f->context);
}

/* Main context: take @path out of rte_vhost and schedule its restart. */
static gboolean
cool_down_cb (gpointer data)
{
  const gchar *path = data;
  guint ms = 0, total = 0;
  Flap *f;

  g_mutex_lock (&lock);
  f = lookup_locked (path);
  if (f != NULL)
    {
      ms = f->cool_ms;
      total = f->total;
    }
  g_mutex_unlock (&lock);
  if (f == NULL)
    return G_SOURCE_REMOVE;            /* the port went away meanwhile */

  /* Without the lock: unregistering may run the device callbacks. */
  if (rte_vhost_driver_unregister (path) != 0)
    {
      /* A connection is being set up right now; look again shortly. */
      g_mutex_lock (&lock);
      f = lookup_locked (path);
      if (f != NULL)
        f->cooling = FALSE;
      g_mutex_unlock (&lock);
      return G_SOURCE_REMOVE;
    }
  g_warning ("vhost-user peer on %s closed %u connections in a row before its "
             "device started: the vNIC is one this switch cannot serve (QEMU "
             "logs why; e.g. queues= beyond 8); not connecting for %u s",
             path, total, ms / 1000);

  g_mutex_lock (&lock);
  f = lookup_locked (path);
  if (f != NULL)
    {
      f->unregistered = TRUE;
      f->cool_ms = MIN (f->cool_ms * 2, COOL_MAX_MS);
      schedule_restart_locked (f, ms);
    }
  g_mutex_unlock (&lock);
  return G_SOURCE_REMOVE;
}

/* Main context: the cool-down is over. */
static gboolean
restart_cb (gpointer data)
{
  const gchar *path = data;
  DvsVhostFlapRestart restart = NULL;
  g_autoptr (GError) error = NULL;
  Flap *f;

  g_mutex_lock (&lock);
  f = lookup_locked (path);
  if (f != NULL)
    {
      g_source_unref (f->timer);
      f->timer = NULL;
      restart = f->restart;
    }
  g_mutex_unlock (&lock);
  if (restart == NULL)
    return G_SOURCE_REMOVE;

  if (restart (path, &error))
    {
      g_mutex_lock (&lock);
      f = lookup_locked (path);
      if (f != NULL)
        {
          f->unregistered = FALSE;
          f->cooling = FALSE;
          /* One more connection without a device cools down again. */
          f->failures = FLAP_LIMIT - 1;
        }
      g_mutex_unlock (&lock);
      return G_SOURCE_REMOVE;
    }

  g_warning ("vhost-user %s: registering again after the cool-down failed: "
             "%s; trying again in %u s", path, error->message, COOL_MAX_MS / 1000);
  g_mutex_lock (&lock);
  f = lookup_locked (path);
  if (f != NULL)
    schedule_restart_locked (f, COOL_MAX_MS);
  g_mutex_unlock (&lock);
  return G_SOURCE_REMOVE;
}

void
dvs_vhost_flap_closed (const gchar *path)
{
  GMainContext *context = NULL;
  Flap *f;

  g_mutex_lock (&lock);
  f = lookup_locked (path);
  if (f != NULL && !f->device)
    {
      f->failures++;
      f->total++;
      if (f->failures >= FLAP_LIMIT && !f->cooling)
        {
          f->cooling = TRUE;
          context = g_main_context_ref (f->context);
        }
    }
  g_mutex_unlock (&lock);
  if (context != NULL)
    {
      GSource *s = g_idle_source_new ();

      g_source_set_callback (s, cool_down_cb, g_strdup (path), g_free);
      g_source_attach (s, context);
      g_source_unref (s);
      g_main_context_unref (context);
    }
}
