/* The final-state push (docs/design.md, "The manager"; the protocol in
 * docs/host-channel.md).
 *
 * A *target* is one (host, DVswitch) pair.  A change marks targets dirty;
 * an idle pump sends each dirty target the whole document the host must
 * hold (switch.apply) — or, for a host that must drop a switch, a
 * switch.remove — keeping at most max_inflight calls outstanding across all
 * hosts.  Marks coalesce: a target marked ten times before the pump runs is
 * sent once, and one marked while its call is in flight is sent again when
 * the call ends.  A target whose host acknowledged the same document (its
 * digest, from a reply or the host's hello) is not sent at all.
 *
 * Each call ends in success, failure or timeout.  A failed target goes on
 * the re-push queue, or on the rip queue when its push removed something
 * (ports taken from the host, or the whole switch); queued targets are
 * retried every retry_ms while their host is connected, and at once when it
 * says hello.  Nothing of this is persisted: after a manager restart every
 * member host is out of sync until its hello, which carries the digests of
 * what it holds. */
#define G_LOG_DOMAIN "dvsmgr-push"

#include "core/mgr.h"
#include "core/mgr-json.h"

#include <string.h>
#include "dvs-log.h"

typedef struct {
  gchar *host;
  gchar *uuid;
  gchar *acked_digest;     /* what the host holds, NULL: unknown */
  gchar *sending_digest;   /* digest of the document in flight */
  gboolean dirty;          /* in the pending queue */
  gboolean inflight;
  gboolean removal;        /* the next push takes ports away */
  gboolean rip;            /* the host must drop the switch */
  /* queue entry (out of sync) */
  gboolean queued;
  gchar *reason;
  gint64 since;
  guint attempts;
} Target;

struct _MgrPush {
  DvsMgr *mgr;
  GHashTable *by_host;     /* host → (uuid → Target, owned) */
  GQueue pending;          /* Target *, dirty and not in flight */
  guint inflight, max_inflight;
  guint timeout_ms, retry_ms;
  guint pump_id, retry_id;
  guint queued;            /* targets with queued set */
  MgrPushStats stats;      /* the counters of mgr_push_stats */
};

const gdouble mgr_push_latency_bounds[MGR_PUSH_LATENCY_BUCKETS] = {
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 10.0,
};

static void
target_free (Target *t)
{
  g_free (t->host);
  g_free (t->uuid);
  g_free (t->acked_digest);
  g_free (t->sending_digest);
  g_free (t->reason);
  g_free (t);
}

static Target *
target_lookup (MgrPush *push, const gchar *host, const gchar *uuid)
{
  GHashTable *t = g_hash_table_lookup (push->by_host, host);

  return t ? g_hash_table_lookup (t, uuid) : NULL;
}

static Target *
target_get (MgrPush *push, const gchar *host, const gchar *uuid)
{
  GHashTable *t = g_hash_table_lookup (push->by_host, host);
  Target *target;

  if (t == NULL)
    {
      t = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) target_free);
      g_hash_table_insert (push->by_host, g_strdup (host), t);
    }
  target = g_hash_table_lookup (t, uuid);
  if (target == NULL)
    {
      target = g_new0 (Target, 1);
      target->host = g_strdup (host);
      target->uuid = g_strdup (uuid);
      g_hash_table_insert (t, target->uuid, target);
    }
  return target;
}

static void
refresh_host (MgrPush *push, const gchar *host)
{
  MgrHost *h = g_hash_table_lookup (push->mgr->hosts, host);

  if (h)
    dvs_mgr_dbus_host (push->mgr, h);
  dvs_mgr_dbus_sync_count (push->mgr);
}

static void
target_dequeue (MgrPush *push, Target *t)
{
  if (!t->queued)
    return;
  t->queued = FALSE;
  push->queued--;
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", t->host, "DVswitch %s back in sync after %u attempt(s)",
              t->uuid, t->attempts);
  g_clear_pointer (&t->reason, g_free);
  t->attempts = 0;
}

/* Drops a target that has nothing left to do (a completed rip). */
static void
target_remove (MgrPush *push, Target *t)
{
  GHashTable *tbl = g_hash_table_lookup (push->by_host, t->host);
  g_autofree gchar *host = g_strdup (t->host);

  if (t->dirty)
    g_queue_remove (&push->pending, t);
  target_dequeue (push, t);
  g_hash_table_remove (tbl, t->uuid);
  if (g_hash_table_size (tbl) == 0)
    g_hash_table_remove (push->by_host, host);
}

static gboolean pump (gpointer data);

static void
schedule (MgrPush *push, Target *t)
{
  if (!t->dirty)
    {
      t->dirty = TRUE;
      if (!t->inflight)
        g_queue_push_tail (&push->pending, t);
      /* Host1.InSync turns false now, not when the pump gets to it: a
       * client that changes something and waits for InSync must not see
       * the host's state from before its change. */
      refresh_host (push, t->host);
    }
  if (push->pump_id == 0)
    push->pump_id = g_idle_add (pump, push);
}

static void
target_failed (MgrPush *push, Target *t, const gchar *why)
{
  const gchar *queue = t->rip || t->removal ? "rip" : "repush";

  if (!t->queued)
    {
      t->queued = TRUE;
      t->since = g_get_real_time ();
      push->queued++;
    }
  t->attempts++;
  g_free (t->reason);
  t->reason = g_strdup (why);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "HOST", t->host, "SWITCH", t->uuid,
                    "QUEUE", queue, "MESSAGE", "push to host %s failed (attempt %u), on the %s queue: %s",
                    t->host, t->attempts, queue, why);
  refresh_host (push, t->host);
}

static void
target_succeeded (MgrPush *push, Target *t, const gchar *digest)
{
  g_free (t->acked_digest);
  t->acked_digest = g_strdup (digest);
  t->removal = FALSE;
  target_dequeue (push, t);
  if (t->rip && !t->dirty)
    {
      g_autofree gchar *host = g_strdup (t->host);
      target_remove (push, t);
      refresh_host (push, host);
      return;
    }
  refresh_host (push, t->host);
}

typedef struct {
  MgrPush *push;
  gchar *host, *uuid;
  gint64 sent;             /* monotonic µs */
} CallCtx;

static void
record_call (MgrPush *push, gint64 sent, const GError *error)
{
  MgrPushStats *st = &push->stats;
  gdouble secs = (g_get_monotonic_time () - sent) / (gdouble) G_USEC_PER_SEC;

  if (error == NULL)
    st->succeeded++;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    st->timed_out++;
  else
    st->failed++;
  st->latency_total++;
  st->latency_sum += secs;
  for (guint i = 0; i < MGR_PUSH_LATENCY_BUCKETS; i++)
    if (secs <= mgr_push_latency_bounds[i])
      {
        st->latency_count[i]++;
        break;
      }
}

static void
call_done (DvsRpcPeer *peer, JsonNode *result, const GError *error, gpointer data)
{
  CallCtx *c = data;
  MgrPush *push = c->push;
  Target *t = target_lookup (push, c->host, c->uuid);

  push->inflight--;
  record_call (push, c->sent, error);
  if (t && t->inflight)
    {
      g_autofree gchar *digest = g_steal_pointer (&t->sending_digest);
      t->inflight = FALSE;
      if (error)
        {
          g_autofree gchar *why = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
            ? g_strdup_printf ("no answer within %u ms", push->timeout_ms)
            : g_strdup (error->message);
          target_failed (push, t, why);
        }
      else
        target_succeeded (push, t, t->rip ? NULL : digest);
      /* Marked again while in flight: send the newer state. */
      t = target_lookup (push, c->host, c->uuid);
      if (t && t->dirty)
        g_queue_push_tail (&push->pending, t);
    }
  if (push->pump_id == 0 && push->pending.length > 0)
    push->pump_id = g_idle_add (pump, push);
  g_free (c->host);
  g_free (c->uuid);
  g_free (c);
}

static void
send_target (MgrPush *push, Target *t)
{
  DvsMgr *mgr = push->mgr;
  MgrHost *h = g_hash_table_lookup (mgr->hosts, t->host);
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, t->uuid);
  JsonObject *params;
  CallCtx *c;

  if (!t->rip && (sw == NULL || !dvs_mgr_switch_has_host (sw, t->host)))
    {
      /* No longer a member: the host must drop what it holds, if anything. */
      if (t->acked_digest == NULL && !t->queued)
        {
          target_remove (push, t);
          return;
        }
      t->rip = TRUE;
    }
  if (h == NULL || h->peer == NULL)
    {
      target_failed (push, t, h ? "host not connected" : "host not registered");
      return;
    }
  params = json_object_new ();
  if (t->rip)
    json_object_set_string_member (params, "id", t->uuid);
  else
    {
      g_autoptr (JsonNode) doc = dvs_mgr_host_document (mgr, sw, t->host);
      g_autoptr (GError) error = NULL;
      g_autofree gchar *digest = dvs_mgr_document_digest (doc, &error);

      if (digest == NULL)
        {
          json_object_unref (params);
          target_failed (push, t, error->message);
          return;
        }
      if (g_strcmp0 (digest, t->acked_digest) == 0)
        {
          json_object_unref (params);
          target_succeeded (push, t, digest);
          return;
        }
      json_object_set_member (params, "switch", g_steal_pointer (&doc));
      t->sending_digest = g_steal_pointer (&digest);
    }
  c = g_new0 (CallCtx, 1);
  c->push = push;
  c->host = g_strdup (t->host);
  c->uuid = g_strdup (t->uuid);
  c->sent = g_get_monotonic_time ();
  t->inflight = TRUE;
  push->inflight++;
  dvs_rpc_peer_call (h->peer, t->rip ? "switch.remove" : "switch.apply", params,
                     push->timeout_ms, call_done, c);
}

static gboolean
pump (gpointer data)
{
  MgrPush *push = data;

  push->pump_id = 0;
  while (push->inflight < push->max_inflight && push->pending.length > 0)
    {
      Target *t = g_queue_pop_head (&push->pending);
      t->dirty = FALSE;
      send_target (push, t);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
retry (gpointer data)
{
  MgrPush *push = data;
  GHashTableIter hi, ti;
  gpointer k, tbl, v;

  if (push->queued == 0)
    return G_SOURCE_CONTINUE;
  g_hash_table_iter_init (&hi, push->by_host);
  while (g_hash_table_iter_next (&hi, &k, &tbl))
    {
      MgrHost *h = g_hash_table_lookup (push->mgr->hosts, k);
      if (h == NULL || h->peer == NULL)
        continue;   /* retried at its hello */
      g_hash_table_iter_init (&ti, tbl);
      while (g_hash_table_iter_next (&ti, NULL, &v))
        if (((Target *) v)->queued && !((Target *) v)->inflight)
          schedule (push, v);
    }
  return G_SOURCE_CONTINUE;
}

MgrPush *
mgr_push_new (DvsMgr *mgr, guint retry_ms, guint timeout_ms, guint max_inflight)
{
  MgrPush *push = g_new0 (MgrPush, 1);
  GHashTableIter it;
  gpointer v;

  push->mgr = mgr;
  push->by_host = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_hash_table_unref);
  g_queue_init (&push->pending);
  push->retry_ms = retry_ms ? retry_ms : 5000;
  push->timeout_ms = timeout_ms ? timeout_ms : 10000;
  push->max_inflight = max_inflight ? max_inflight : 256;
  push->retry_id = g_timeout_add (push->retry_ms, retry, push);
  /* Until a member says hello, we don't know what it holds. */
  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    mgr_push_mark (push, v, NULL);
  return push;
}

void
mgr_push_free (MgrPush *push)
{
  if (push == NULL)
    return;
  g_clear_handle_id (&push->pump_id, g_source_remove);
  g_clear_handle_id (&push->retry_id, g_source_remove);
  g_queue_clear (&push->pending);
  g_hash_table_unref (push->by_host);
  g_free (push);
}

void
mgr_push_mark (MgrPush *push, MgrSwitch *sw, const gchar *host)
{
  if (host == NULL)
    {
      for (guint i = 0; i < sw->hosts->len; i++)
        mgr_push_mark (push, sw, sw->hosts->pdata[i]);
      return;
    }
  Target *t = target_get (push, host, sw->uuid);
  t->rip = FALSE;
  schedule (push, t);
}

void
mgr_push_mark_removal (MgrPush *push, MgrSwitch *sw, const gchar *host)
{
  Target *t = target_get (push, host, sw->uuid);

  t->removal = TRUE;
  t->rip = FALSE;
  schedule (push, t);
}

void
mgr_push_rip_switch (MgrPush *push, const gchar *host, const gchar *uuid)
{
  Target *t = target_get (push, host, uuid);

  t->rip = TRUE;
  schedule (push, t);
}

void
mgr_push_forget (MgrPush *push, const gchar *host, const gchar *uuid)
{
  Target *t = target_lookup (push, host, uuid);

  if (t && !t->inflight)
    target_remove (push, t);
}

void
mgr_push_host_connected (MgrPush *push, MgrHost *h, JsonObject *digests)
{
  DvsMgr *mgr = push->mgr;
  GHashTable *tbl = g_hash_table_lookup (push->by_host, h->name);
  GHashTableIter it;
  gpointer k, v;
  g_autoptr (GList) held = digests ? json_object_get_members (digests) : NULL;

  /* What the host holds now is what it says, nothing else. */
  if (tbl)
    {
      g_hash_table_iter_init (&it, tbl);
      while (g_hash_table_iter_next (&it, NULL, &v))
        g_clear_pointer (&((Target *) v)->acked_digest, g_free);
    }
  for (GList *l = held; l; l = l->next)
    {
      JsonNode *d = json_object_get_member (digests, l->data);
      MgrSwitch *sw = g_hash_table_lookup (mgr->switches, l->data);
      Target *t;

      if (json_node_get_value_type (d) != G_TYPE_STRING)
        continue;
      if (sw == NULL)
        {
          /* A switch this manager does not know at all: most likely its
           * store was lost.  Removing it would cut off running VMs, so it
           * stays until an operator re-creates it from a snapshot (or
           * removes it on the host). */
          DVS_LOG_KV (G_LOG_LEVEL_WARNING, "HOST", h->name,
                      "host %s holds DVswitch %s, unknown to this manager; leaving it in place "
                      "(re-create it with dvsctl switch import --mode recreate, or remove it "
                      "on the host with dvs-switchctl switch remove)", h->name,
                      (const gchar *) l->data);
          continue;
        }
      t = target_get (push, h->name, l->data);
      g_free (t->acked_digest);
      t->acked_digest = g_strdup (json_node_get_string (d));
      if (!dvs_mgr_switch_has_host (sw, h->name))
        {
          /* Manager wins: a switch the host left goes. */
          DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", h->name,
                      "host holds DVswitch %s that it is not a member of; removing it",
                      (const gchar *) l->data);
          t->rip = TRUE;
          schedule (push, t);
        }
    }
  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (dvs_mgr_switch_has_host (v, h->name))
      mgr_push_mark (push, v, h->name);
  /* Queued rips for switches it no longer reports are done. */
  tbl = g_hash_table_lookup (push->by_host, h->name);
  if (tbl)
    {
      g_autoptr (GPtrArray) done = g_ptr_array_new ();
      g_hash_table_iter_init (&it, tbl);
      while (g_hash_table_iter_next (&it, NULL, &v))
        {
          Target *t = v;
          if (t->rip && t->acked_digest == NULL && !t->inflight)
            g_ptr_array_add (done, t);
        }
      for (guint i = 0; i < done->len; i++)
        target_remove (push, done->pdata[i]);
    }
  refresh_host (push, h->name);
}

void
mgr_push_host_disconnected (MgrPush *push, MgrHost *h)
{
  refresh_host (push, h->name);
}

static void
add_entry (JsonBuilder *b, Target *t)
{
  json_builder_begin_object (b);
  mgr_json_str (b, "host", t->host);
  mgr_json_str (b, "queue", t->rip || t->removal ? "rip" : "repush");
  mgr_json_str (b, "switch", t->uuid);
  mgr_json_str (b, "reason", t->reason ? t->reason : "");
  mgr_json_int (b, "since", t->since);
  mgr_json_int (b, "attempts", t->attempts);
  json_builder_end_object (b);
}

JsonNode *
mgr_push_out_of_sync (MgrPush *push)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GHashTableIter hi, ti;
  gpointer tbl, v;

  json_builder_begin_array (b);
  g_hash_table_iter_init (&hi, push->by_host);
  while (g_hash_table_iter_next (&hi, NULL, &tbl))
    {
      g_hash_table_iter_init (&ti, tbl);
      while (g_hash_table_iter_next (&ti, NULL, &v))
        if (((Target *) v)->queued)
          add_entry (b, v);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

guint
mgr_push_out_of_sync_count (MgrPush *push)
{
  return push->queued;
}

gboolean
mgr_push_host_in_sync (MgrPush *push, const gchar *host)
{
  GHashTable *tbl = g_hash_table_lookup (push->by_host, host);
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, push->mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (dvs_mgr_switch_has_host (v, host))
      {
        Target *t = tbl ? g_hash_table_lookup (tbl, ((MgrSwitch *) v)->uuid) : NULL;
        if (t == NULL || t->acked_digest == NULL)
          return FALSE;
      }
  if (tbl)
    {
      g_hash_table_iter_init (&it, tbl);
      while (g_hash_table_iter_next (&it, NULL, &v))
        {
          Target *t = v;
          if (t->queued || t->dirty || t->inflight || t->rip)
            return FALSE;
        }
    }
  return TRUE;
}

void
mgr_push_resync_host (MgrPush *push, const gchar *host)
{
  GHashTable *tbl = g_hash_table_lookup (push->by_host, host);
  GHashTableIter it;
  gpointer v;

  /* Forget what we believe it holds: the full document goes again. */
  if (tbl)
    {
      g_hash_table_iter_init (&it, tbl);
      while (g_hash_table_iter_next (&it, NULL, &v))
        {
          Target *t = v;
          if (!t->rip)
            g_clear_pointer (&t->acked_digest, g_free);
          schedule (push, t);
        }
    }
  g_hash_table_iter_init (&it, push->mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (dvs_mgr_switch_has_host (v, host))
      mgr_push_mark (push, v, host);
}

gboolean
mgr_push_idle (MgrPush *push)
{
  return push->pending.length == 0 && push->inflight == 0 && push->pump_id == 0;
}

void
mgr_push_stats (MgrPush *push, MgrPushStats *out)
{
  GHashTableIter hi, ti;
  gpointer tbl, v;

  *out = push->stats;
  out->repush_queue = out->rip_queue = 0;
  g_hash_table_iter_init (&hi, push->by_host);
  while (g_hash_table_iter_next (&hi, NULL, &tbl))
    {
      g_hash_table_iter_init (&ti, tbl);
      while (g_hash_table_iter_next (&ti, NULL, &v))
        {
          Target *t = v;
          if (t->queued && (t->rip || t->removal))
            out->rip_queue++;
          else if (t->queued)
            out->repush_queue++;
        }
    }
  out->inflight = push->inflight;
  out->pending = push->pending.length;
}
