#define G_LOG_DOMAIN "dvs-dvport"
#include "dvport-host.h"

#include "dvport/dvport-spec.h"
#include "dvport/port-state-json.h"
#include "dvport/dvport-private.h"
#include "dvs-jsonrpc.h"
#include "switch/port-stats-json.h"
#include "switch/vlan-config.h"

/* How often attached ports are looked at for state that stopped changing
 * but is not in their checkpoint yet (newly learned MACs). */
#define CHECKPOINT_PERIOD_MS 1000

/* How often attached DVports are looked at for a link that came up (the
 * switch tells the main context only about link downs). */
#define LINK_POLL_MS 250

static void
runtime_free (DvportRuntime *r)
{
  g_free (r->key);
  g_free (r->switch_id);
  g_free (r->socket);
  g_free (r->attached_connection);
  dvs_port_state_free (r->checkpoint);
  g_free (r);
}

static void
switch_free (DvportSwitch *s)
{
  dvs_dvswitch_spec_free (s->spec);
  g_free (s);
}

DvportRuntime *
dvport_runtime_get (DvsDvportHost *h, const gchar *switch_id, const gchar *key)
{
  DvportRuntime *r = g_hash_table_lookup (h->rt, key);

  if (r == NULL)
    {
      r = g_new0 (DvportRuntime, 1);
      r->key = g_strdup (key);
      r->switch_id = g_strdup (switch_id);
      r->slot = -1;
      g_hash_table_insert (h->rt, r->key, r);
    }
  return r;
}

static void
on_link_down (DvsSwitch *sw, const gchar *port, gpointer user_data);
static void
on_link_up (DvsSwitch *sw, const gchar *port, gpointer user_data);
static gboolean on_checkpoint_timer (gpointer user_data);

DvsDvportHost *
dvs_dvport_host_new (DvsSwitch *sw, DvsLocalStore *store, DvsRuntimeArea *area)
{
  DvsDvportHost *h = g_new0 (DvsDvportHost, 1);

  h->sw = sw;
  h->store = store;
  h->area = area;
  h->rt = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) runtime_free);
  h->switches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) switch_free);
  dvs_switch_set_link_down_func (sw, on_link_down, h);
  dvs_switch_set_link_up_func (sw, on_link_up, h);
  /* Bursts of DVports in the area are journaled there (dp-journal.c). */
  if (area != NULL)
    {
      struct dvs_journal_area ja;
      dvs_runtime_area_journal (area, &ja);
      dvs_switch_set_journal (sw, &ja);
    }
  if (store != NULL)
    h->checkpoint_timer = g_timeout_add (CHECKPOINT_PERIOD_MS, on_checkpoint_timer, h);
  return h;
}

static gboolean detach_port (DvsDvportHost *h, DvportRuntime *r, GError **error);

void
dvs_dvport_host_free (DvsDvportHost *h)
{
  GHashTableIter it;
  gpointer value;

  if (h == NULL)
    return;
  dvs_switch_set_link_down_func (h->sw, NULL, NULL);
  dvs_switch_set_link_up_func (h->sw, NULL, NULL);
  dvs_dvport_host_set_link_func (h, NULL, NULL);
  g_clear_handle_id (&h->checkpoint_timer, g_source_remove);
  /* Shutting down: checkpoint every attached DVport.  Their attachments stay
   * in the store, so the next start attaches them again. */
  g_hash_table_iter_init (&it, h->rt);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      g_autoptr (GError) error = NULL;
      if (!detach_port (h, value, &error))
        g_warning ("DVport %s: not checkpointed at shutdown: %s",
                   ((DvportRuntime *) value)->key, error->message);
    }
  g_hash_table_unref (h->switches);
  g_hash_table_unref (h->rt);
  g_free (h);
}

/* ---- persistence ---- */

static void
store_warn (const gchar *what, const gchar *key, GError *error)
{
  g_warning ("DVport %s: %s not saved to the local store: %s", key, what, error->message);
}

void
dvport_save_checkpoint (DvsDvportHost *h, DvportRuntime *r)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) j = NULL;
  DvportSwitch *sw = g_hash_table_lookup (h->switches, r->switch_id);
  DvsDvportSpec *p = sw ? g_hash_table_lookup (sw->spec->by_key, r->key) : NULL;

  if (h->store == NULL || r->checkpoint == NULL || sw == NULL)
    return;
  j = dvs_port_state_to_json (r->checkpoint, r->switch_id, r->key, p ? p->connection : NULL);
  if (!dvs_local_store_put (h->store, DVS_STORE_KIND_CHECKPOINT, r->switch_id, r->key, j, &error))
    store_warn ("checkpoint", r->key, error);
}

static void
save_port (DvsDvportHost *h, const gchar *switch_id, const DvsDvportSpec *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) j = NULL;
  g_autoptr (GError) error = NULL;
  DvportRuntime *r = g_hash_table_lookup (h->rt, p->key);

  if (h->store == NULL)
    return;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "dvport");
  json_builder_add_value (b, dvs_dvport_spec_to_json (p));
  json_builder_set_member_name (b, "attachment");
  if (r == NULL || !r->attached)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "socket");
      json_builder_add_string_value (b, r->socket);
      json_builder_set_member_name (b, "mode");
      json_builder_add_string_value (b, r->server ? "server" : "client");
      json_builder_set_member_name (b, "connection");
      json_builder_add_string_value (b, r->attached_connection);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  j = json_builder_get_root (b);
  if (!dvs_local_store_put (h->store, DVS_STORE_KIND_PORT, switch_id, p->key, j, &error))
    store_warn ("configuration", p->key, error);
}

static void
save_switch (DvsDvportHost *h, const DvsDvswitchSpec *spec)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  if (h->store == NULL)
    return;
  json_parser_load_from_data (parser, spec->canonical_global, -1, NULL);
  if (!dvs_local_store_put (h->store, DVS_STORE_KIND_SWITCH, spec->id, NULL,
                            json_parser_get_root (parser), &error))
    g_warning ("DVswitch %s not saved to the local store: %s", spec->id, error->message);
}

/* ---- switch ports ---- */

/* The port's effective policy, without a mirror whose target is not an
 * attached DVport of the same DVswitch (it starts mirroring when the
 * target attaches). */
static JsonNode *
policy_for_switch (DvsDvportHost *h, const gchar *switch_id, const DvsDvportSpec *p)
{
  JsonNode *pol = json_node_copy (p->policy);
  JsonObject *o = json_node_get_object (pol);
  JsonNode *m = json_object_get_member (o, "mirror");

  if (m != NULL && JSON_NODE_HOLDS_OBJECT (m))
    {
      const gchar *to = json_object_get_string_member_with_default (json_node_get_object (m), "to", "");
      DvportRuntime *t = g_hash_table_lookup (h->rt, to);
      if (t == NULL || !t->attached || !g_str_equal (t->switch_id, switch_id))
        json_object_set_null_member (o, "mirror");
    }
  return pol;
}

static void
reapply_mirrors_to (DvsDvportHost *h, const gchar *switch_id, const gchar *target)
{
  DvportSwitch *sw = g_hash_table_lookup (h->switches, switch_id);

  for (guint i = 0; sw != NULL && i < sw->spec->ports->len; i++)
    {
      DvsDvportSpec *p = sw->spec->ports->pdata[i];
      DvportRuntime *r = g_hash_table_lookup (h->rt, p->key);
      JsonNode *m = json_object_get_member (json_node_get_object (p->policy), "mirror");
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) pol = NULL;

      if (r == NULL || !r->attached || m == NULL || !JSON_NODE_HOLDS_OBJECT (m)
          || g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (m), "to", ""),
                        target) != 0)
        continue;
      pol = policy_for_switch (h, switch_id, p);
      if (!dvs_switch_port_set_policy (h->sw, p->key, pol, &error))
        g_warning ("DVport %s: mirror to %s not set: %s", p->key, target, error->message);
    }
}

static void
release_slot (DvsDvportHost *h, DvportRuntime *r)
{
  if (h->area != NULL && r->slot >= 0)
    dvs_runtime_area_release (h->area, r->slot);
  r->slot = -1;
}

/* Tells the listener that @r's link went down (its state is checkpointed). */
static void
report_link_down (DvsDvportHost *h, DvportRuntime *r)
{
  r->link_up = FALSE;
  if (h->link_func != NULL)
    h->link_func (h, r->switch_id, r->key, FALSE, h->link_data);
}

static gboolean
detach_port (DvsDvportHost *h, DvportRuntime *r, GError **error)
{
  DvsPortState *final = NULL;

  if (!r->attached)
    return TRUE;
  if (!dvs_switch_port_detach (h->sw, r->key, &final, error))
    return FALSE;
  r->attached = FALSE;
  g_clear_pointer (&r->socket, g_free);
  g_clear_pointer (&r->attached_connection, g_free);
  if (final != NULL)
    {
      dvs_port_state_free (r->checkpoint);
      r->checkpoint = final;
      dvport_save_checkpoint (h, r);
    }
  /* Checkpointed (or the port is going away): the slot's job is done. */
  release_slot (h, r);
  reapply_mirrors_to (h, r->switch_id, r->key);
  if (r->link_up)
    report_link_down (h, r);
  return TRUE;
}

/* Checkpoints an attached port from the datapath, now. */
static gboolean
checkpoint_live (DvsDvportHost *h, DvportRuntime *r, const gchar *why)
{
  g_autoptr (GError) error = NULL;
  guint64 changes = dvs_switch_port_fwd_changes (h->sw, r->key);
  DvsPortState *st = dvs_switch_port_save_state (h->sw, r->key, &error);

  if (st == NULL)
    {
      g_warning ("DVport %s: state not checkpointed (%s): %s", r->key, why, error->message);
      return FALSE;
    }
  dvs_port_state_free (r->checkpoint);
  r->checkpoint = st;
  r->fwd_changes = changes;
  dvport_save_checkpoint (h, r);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "PORT", r->key, "MESSAGE",
                    "DVport %s: state checkpointed (%s)", r->key, why);
  return TRUE;
}

static void
on_link_down (DvsSwitch *sw, const gchar *port, gpointer user_data)
{
  DvsDvportHost *h = user_data;
  DvportRuntime *r = g_hash_table_lookup (h->rt, port);

  if (r == NULL || !r->attached)
    return;   /* not a DVport, or already detached */
  if (checkpoint_live (h, r, "link down"))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "PORT", port, "MESSAGE",
                      "DVport %s: link down, state checkpointed", port);
  report_link_down (h, r);
}

static gboolean
on_link_poll (gpointer user_data)
{
  DvsDvportHost *h = user_data;
  g_autoptr (GPtrArray) up = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, h->rt);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      DvportRuntime *r = value;
      g_autoptr (DvsPortInfo) info = NULL;

      if (!r->attached || r->link_up)
        continue;
      dvport_incoming_poll (h, r);
      info = dvs_switch_port_info (h->sw, r->key, NULL);
      if (info != NULL && info->link_up)
        g_ptr_array_add (up, r);
    }
  /* Told outside the iteration: the listener may call back into @h. */
  for (guint i = 0; i < up->len && h->link_func != NULL; i++)
    {
      DvportRuntime *r = up->pdata[i];
      r->link_up = TRUE;
      h->link_func (h, r->switch_id, r->key, TRUE, h->link_data);
    }
  return G_SOURCE_CONTINUE;
}

/* The switch saw a link come up: told at once rather than at the next
 * poll (a live migration commits on it). */
static void
on_link_up (DvsSwitch *sw, const gchar *port, gpointer user_data)
{
  DvsDvportHost *h = user_data;

  if (h->link_func != NULL && g_hash_table_contains (h->rt, port))
    on_link_poll (h);
}

void
dvs_dvport_host_set_link_func (DvsDvportHost *h, DvsDvportLinkFunc func,
                               gpointer user_data)
{
  h->link_func = func;
  h->link_data = user_data;
  if (func == NULL)
    g_clear_handle_id (&h->link_timer, g_source_remove);
  else if (h->link_timer == 0)
    h->link_timer = g_timeout_add (LINK_POLL_MS, on_link_poll, h);
}

/* Counters and filter states are safe in the runtime area; what the
 * forwarding class learns (MACs) is checkpointed within a period of it
 * settling. */
static gboolean
on_checkpoint_timer (gpointer user_data)
{
  DvsDvportHost *h = user_data;
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, h->rt);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      DvportRuntime *r = value;
      if (r->attached && dvs_switch_port_fwd_changes (h->sw, r->key) != r->fwd_changes)
        checkpoint_live (h, r, "new addresses learned");
    }
  return G_SOURCE_CONTINUE;
}

/* ---- apply ---- */

static void
add_keys (JsonBuilder *b, const gchar *name, GPtrArray *keys)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < keys->len; i++)
    json_builder_add_string_value (b, keys->pdata[i]);
  json_builder_end_array (b);
}

/* Applies @p's effective config to its attached switch port. */
static gboolean
apply_live (DvsDvportHost *h, const gchar *switch_id, const DvsDvportSpec *p,
            GError **error)
{
  g_autoptr (JsonNode) pol = policy_for_switch (h, switch_id, p);

  return dvs_switch_port_set_vlan (h->sw, p->key, &p->vlan, error)
         && dvs_switch_port_set_policy (h->sw, p->key, pol, error);
}

/* The first forwarding domain no DVswitch uses (0 is plain ports'), or 0. */
static guint16
free_domain (DvsDvportHost *h)
{
  for (guint16 d = 1; d < DVS_MAX_DOMAINS; d++)
    {
      GHashTableIter it;
      gpointer value;
      gboolean used = FALSE;

      g_hash_table_iter_init (&it, h->switches);
      while (!used && g_hash_table_iter_next (&it, NULL, &value))
        used = ((DvportSwitch *) value)->domain == d;
      if (!used)
        return d;
    }
  return 0;
}

/* DVport keys name switch ports, so they are unique on a host: a key that
 * another DVswitch here already has is refused. */
static gboolean
check_keys_free (DvsDvportHost *h, const DvsDvswitchSpec *spec, GError **error)
{
  GHashTableIter it;
  gpointer id, value;

  g_hash_table_iter_init (&it, h->switches);
  while (g_hash_table_iter_next (&it, &id, &value))
    {
      DvportSwitch *other = value;
      if (g_str_equal (id, spec->id))
        continue;
      for (guint i = 0; i < spec->ports->len; i++)
        {
          const gchar *key = ((DvsDvportSpec *) spec->ports->pdata[i])->key;
          if (g_hash_table_contains (other->spec->by_key, key))
            {
              g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_EXISTS,
                           "DVport key %s is already used by DVswitch %s on this host: "
                           "DVport keys must be unique on a host", key, (const gchar *) id);
              return FALSE;
            }
        }
    }
  return TRUE;
}

DvsPortState *
dvport_spec_state (const gchar *switch_id, const DvsDvportSpec *p, const gchar *from)
{
  JsonObject *o = json_node_get_object (p->state);
  g_autoptr (GError) error = NULL;
  DvsPortState *st;

  if (g_strcmp0 (json_object_get_string_member_with_default (o, "switch", ""), switch_id) != 0
      || g_strcmp0 (json_object_get_string_member_with_default (o, "port", ""), p->key) != 0)
    {
      g_warning ("DVport %s: the state from %s names another DVport (%s of %s); ignored",
                 p->key, from, json_object_get_string_member_with_default (o, "port", "?"),
                 json_object_get_string_member_with_default (o, "switch", "?"));
      return NULL;
    }
  st = dvs_port_state_from_json (p->state, &error);
  if (st == NULL)
    g_warning ("DVport %s: the state from %s is not usable (%s); it starts afresh",
               p->key, from, error->message);
  return st;
}

void
dvport_set_checkpoint (DvsDvportHost *h, DvportRuntime *r, DvsPortState *st)
{
  dvs_port_state_free (r->checkpoint);
  r->checkpoint = st;
  dvport_save_checkpoint (h, r);
}

/* A DVport moved here from another host brings its last checkpoint in the
 * document.  It becomes this host's checkpoint — restored at attach, so the
 * counters, learned MACs and filter states continue — unless this host has
 * state of its own for the port (it is attached, or checkpointed here
 * before): what the owning host has is newer than any copy. */
static void
adopt_moved_state (DvsDvportHost *h, const gchar *switch_id, DvsDvportSpec *p)
{
  DvportRuntime *r = g_hash_table_lookup (h->rt, p->key);
  DvsPortState *st;

  if (r != NULL && (r->attached || r->checkpoint != NULL))
    return;
  st = dvport_spec_state (switch_id, p, "its previous host");
  if (st == NULL)
    return;
  dvport_set_checkpoint (h, dvport_runtime_get (h, switch_id, p->key), st);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", p->key, "MESSAGE",
                    "DVport %s: state brought from its previous host installed (counters, "
                    "learned addresses, filter states continue at attach)", p->key);
}

JsonNode *
dvs_dvport_host_apply (DvsDvportHost *h, JsonNode *doc, GError **error)
{
  g_autoptr (DvsDvswitchSpec) spec = dvs_dvswitch_spec_parse (doc, error);
  g_autoptr (GPtrArray) added = g_ptr_array_new (), updated = g_ptr_array_new ();
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) revoked = g_ptr_array_new ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  DvsDvswitchSpec *old;
  DvportSwitch *sw;
  gboolean global_changed;
  const gchar *id;

  if (spec == NULL || !check_keys_free (h, spec, error))
    return NULL;
  sw = g_hash_table_lookup (h->switches, spec->id);
  if (sw == NULL)
    {
      /* A new DVswitch gets a forwarding domain of its own: its MAC table,
       * its floods, apart from plain ports and other DVswitches. */
      guint16 domain = free_domain (h);
      if (domain == 0)
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE,
                       "this host is a member of %d DVswitches already, the most it "
                       "can serve", DVS_MAX_DOMAINS - 1);
          return NULL;
        }
      if (!dvs_switch_domain_add (h->sw, domain, error))
        return NULL;
      /* Its uplink, if this host configures one (--uplink DVSWITCH=IFACE):
       * a failure is reported, the DVswitch is held all the same. */
      {
        g_autoptr (GError) uplink_error = NULL;
        if (!dvs_switch_domain_bind (h->sw, domain, spec->id, spec->name, &uplink_error))
          g_warning ("%s", uplink_error->message);
      }
      sw = g_new0 (DvportSwitch, 1);
      sw->domain = domain;
      g_hash_table_insert (h->switches, g_strdup (spec->id), sw);
    }
  old = sw->spec;
  global_changed = old == NULL || !g_str_equal (old->canonical_global, spec->canonical_global);
  sw->spec = g_steal_pointer (&spec);
  id = sw->spec->id;

  /* Ports gone from the document: their vNIC is cut off, their state goes. */
  for (guint i = 0; old != NULL && i < old->ports->len; i++)
    {
      DvsDvportSpec *op = old->ports->pdata[i];
      DvportRuntime *r = g_hash_table_lookup (h->rt, op->key);
      g_autoptr (GError) local = NULL;

      if (g_hash_table_contains (sw->spec->by_key, op->key))
        continue;
      if (r != NULL && r->attached && !dvs_switch_port_remove (h->sw, op->key, &local))
        g_warning ("DVport %s: switch port not removed: %s", op->key, local->message);
      if (r != NULL)
        release_slot (h, r);
      if (h->store != NULL)
        {
          dvs_local_store_remove (h->store, DVS_STORE_KIND_PORT, id, op->key, NULL);
          dvs_local_store_remove (h->store, DVS_STORE_KIND_CHECKPOINT, id, op->key, NULL);
        }
      g_ptr_array_add (removed, g_strdup (op->key));
      g_hash_table_remove (h->rt, op->key);
    }

  for (guint i = 0; i < sw->spec->ports->len; i++)
    {
      DvsDvportSpec *p = sw->spec->ports->pdata[i];
      DvsDvportSpec *op = old ? g_hash_table_lookup (old->by_key, p->key) : NULL;
      DvportRuntime *r = g_hash_table_lookup (h->rt, p->key);
      g_autoptr (GError) local = NULL;

      if (op != NULL && g_str_equal (op->canonical, p->canonical))
        continue;
      g_ptr_array_add (op ? updated : added, p->key);
      if (r != NULL && r->attached && g_strcmp0 (r->attached_connection, p->connection) != 0)
        {
          /* Revoked: the attached vNIC's connection ID is no longer valid. */
          g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", p->key, "MESSAGE",
                            "DVport %s: connection %s revoked; detaching its vNIC",
                            p->key, r->attached_connection);
          if (!detach_port (h, r, &local))
            g_warning ("DVport %s: detach failed: %s", p->key, local->message);
          g_ptr_array_add (revoked, p->key);
        }
      else if (r != NULL && r->attached
               && !(op != NULL && dvs_vlan_config_equal (&op->vlan, &p->vlan)
                    && json_node_equal (op->policy, p->policy))
               && !apply_live (h, id, p, &local))
        g_warning ("DVport %s: new configuration not applied: %s", p->key, local->message);
      if (!dvport_incoming_apply (h, id, p, op) && p->state != NULL)
        adopt_moved_state (h, id, p);
      save_port (h, id, p);
    }
  if (global_changed)
    save_switch (h, sw->spec);
  dvs_dvswitch_spec_free (old);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  add_keys (b, "added", added);
  add_keys (b, "updated", updated);
  add_keys (b, "removed", removed);
  add_keys (b, "revoked", revoked);
  json_builder_end_object (b);
  if (added->len + updated->len + removed->len + revoked->len > 0 || global_changed)
    g_message ("DVswitch %s applied: %u added, %u updated, %u removed, %u revoked",
               id, added->len, updated->len, removed->len, revoked->len);
  return json_builder_get_root (b);
}

DvportSwitch *
dvport_switch_get (DvsDvportHost *h, const gchar *id, GError **error)
{
  DvportSwitch *sw = g_hash_table_lookup (h->switches, id);

  if (sw == NULL)
    g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_NO_SUCH_PORT,
                 "DVswitch %s is not on this host (it is a member of %u DVswitch%s)", id,
                 g_hash_table_size (h->switches),
                 g_hash_table_size (h->switches) == 1 ? "" : "es");
  return sw;
}

static gboolean
runtime_of_switch (gpointer key, gpointer value, gpointer id)
{
  return g_str_equal (((DvportRuntime *) value)->switch_id, id);
}

gboolean
dvs_dvport_host_remove_switch (DvsDvportHost *h, const gchar *id, GError **error)
{
  DvportSwitch *sw = dvport_switch_get (h, id, error);
  GHashTableIter it;
  gpointer value;

  if (sw == NULL)
    return FALSE;
  g_hash_table_iter_init (&it, h->rt);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      DvportRuntime *r = value;
      if (!g_str_equal (r->switch_id, id))
        continue;
      if (r->attached)
        dvs_switch_port_remove (h->sw, r->key, NULL);
      release_slot (h, r);
    }
  g_hash_table_foreach_remove (h->rt, runtime_of_switch, (gpointer) id);
  if (!dvs_switch_domain_remove (h->sw, sw->domain, error))
    return FALSE;
  if (h->store != NULL && !dvs_local_store_remove_switch (h->store, id, error))
    return FALSE;
  g_message ("DVswitch %s removed from this host", id);
  g_hash_table_remove (h->switches, id);
  return TRUE;
}

DvsDvportSpec *
dvport_find_port (DvsDvportHost *h, const gchar *switch_id, const gchar *key, GError **error)
{
  DvportSwitch *sw = dvport_switch_get (h, switch_id, error);
  DvsDvportSpec *p;

  if (sw == NULL)
    return NULL;
  p = g_hash_table_lookup (sw->spec->by_key, key);
  if (p == NULL)
    g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_NO_SUCH_PORT,
                 "DVport %s of DVswitch %s is not delegated to this host", key, switch_id);
  return p;
}

gboolean
dvs_dvport_host_attach (DvsDvportHost *h, const gchar *switch_id, const gchar *key,
                        const gchar *connection, const gchar *socket, gboolean server,
                        GError **error)
{
  DvsDvportSpec *p = dvport_find_port (h, switch_id, key, error);
  DvportRuntime *r;
  g_autoptr (JsonNode) pol = NULL;

  if (p == NULL)
    return FALSE;
  if (p->connection == NULL || !g_str_equal (p->connection, connection))
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "PORT", key, "MESSAGE",
                        "DVport %s: refused attach of %s with connection ID %s (%s)",
                        key, socket, connection,
                        p->connection ? "stale or wrong ID" : "the port has no connection");
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_CONNECTION_REFUSED,
                   p->connection ? "connection ID %s does not match DVport %s's current "
                                   "connection: it is stale or wrong; connect the vNIC "
                                   "through the manager to get a valid one"
                                 : "DVport %2$s has no connection (DVPORT_NO_CONNECTION; "
                                   "ID %1$s refused): connect the vNIC through the manager first",
                   connection, key);
      return FALSE;
    }
  r = dvport_runtime_get (h, switch_id, key);
  if (r->attached)
    {
      if (g_str_equal (r->socket, socket) && r->server == server)
        return TRUE;   /* the same attach again: nothing to do */
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_EXISTS,
                   "DVport %s is already attached to %s; detach it first", key, r->socket);
      return FALSE;
    }
  DvsPortPlacement place = {
    .domain = ((DvportSwitch *) g_hash_table_lookup (h->switches, switch_id))->domain,
    .index = -1,
  };
  if (h->area != NULL)
    {
      r->slot = dvs_runtime_area_claim (h->area, switch_id, key, &place.adopt);
      if (r->slot < 0)
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE,
                       "no free runtime-area slot for DVport %s: %d ports are attached",
                       key, DVS_MAX_PORTS);
          return FALSE;
        }
      /* Any datapath port will do: the slot only holds the memory. */
      place.rt = dvs_runtime_area_slot (h->area, r->slot);
      if (place.adopt)
        place.fwd_state = dvs_runtime_area_fwd_state (h->area, r->slot, &place.fwd_version);
    }
  pol = policy_for_switch (h, switch_id, p);
  gboolean added = dvs_switch_port_add_full (h->sw, key, socket, server, &p->vlan, pol,
                                             r->checkpoint, &place, error);
  g_clear_pointer (&place.fwd_state, g_bytes_unref);
  if (!added)
    {
      release_slot (h, r);
      return FALSE;
    }
  r->attached = TRUE;
  r->socket = g_strdup (socket);
  r->server = server;
  r->attached_connection = g_strdup (connection);
  save_port (h, switch_id, p);
  reapply_mirrors_to (h, switch_id, key);
  dvport_incoming_attached (h, r, p);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", key, "MESSAGE",
                    "DVport %s: vNIC %s attached (connection %s)%s", key, socket, connection,
                    place.adopt ? ", counters, filter states and learned addresses adopted "
                                  "from the runtime area (the previous dvs-switchd stopped "
                                  "without a checkpoint)"
                    : r->checkpoint ? ", state restored from its checkpoint" : "");
  return TRUE;
}

gboolean
dvs_dvport_host_detach (DvsDvportHost *h, const gchar *switch_id, const gchar *key,
                        GError **error)
{
  DvsDvportSpec *p = dvport_find_port (h, switch_id, key, error);
  DvportRuntime *r;

  if (p == NULL)
    return FALSE;
  r = g_hash_table_lookup (h->rt, key);
  if (r == NULL || !r->attached)
    return TRUE;
  if (!detach_port (h, r, error))
    return FALSE;
  if (p->incoming_from != NULL && !r->incoming_loaded)
    {
      /* An incoming vNIC let go before it ran here: the migration did not
       * happen.  Told as a link down, so the manager ends it. */
      r->gated = FALSE;
      if (h->link_func != NULL)
        h->link_func (h, switch_id, key, FALSE, h->link_data);
    }
  save_port (h, switch_id, p);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", key, "MESSAGE",
                    "DVport %s: vNIC detached, state checkpointed", key);
  return TRUE;
}

gchar *
dvs_dvport_host_switch_digest (DvsDvportHost *h, const gchar *id, GError **error)
{
  DvportSwitch *sw = dvport_switch_get (h, id, error);

  return sw != NULL ? dvs_dvswitch_spec_digest (sw->spec) : NULL;
}

gboolean
dvs_dvport_host_has_key (DvsDvportHost *h, const gchar *name)
{
  GHashTableIter it;
  gpointer value;

  if (h == NULL)
    return FALSE;
  g_hash_table_iter_init (&it, h->switches);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (g_hash_table_contains (((DvportSwitch *) value)->spec->by_key, name))
      return TRUE;
  return FALSE;
}

gboolean
dvs_dvport_host_owns (DvsDvportHost *h, const gchar *name)
{
  DvportRuntime *r = h ? g_hash_table_lookup (h->rt, name) : NULL;
  return r != NULL && r->attached;
}

JsonNode *
dvs_dvport_host_checkpoint (DvsDvportHost *h, const gchar *switch_id, const gchar *key)
{
  DvportRuntime *r = g_hash_table_lookup (h->rt, key);
  DvportSwitch *sw = g_hash_table_lookup (h->switches, switch_id);
  DvsDvportSpec *p = sw && sw->spec ? g_hash_table_lookup (sw->spec->by_key, key) : NULL;

  if (r == NULL || r->checkpoint == NULL || g_strcmp0 (r->switch_id, switch_id) != 0)
    return NULL;
  return dvs_port_state_to_json (r->checkpoint, switch_id, key, p ? p->connection : NULL);
}
