#include "switchd-config.h"

#include <string.h>
#include <unistd.h>

#include "switch/dvs-switch.h"
#include "switch/vlan-config.h"

#define DEFAULT_CONFIG_FILE "/etc/dvs/switchd.conf"

void
dvs_port_spec_free (DvsPortSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->name);
  g_free (spec->socket);
  g_free (spec);
}

void
dvs_switchd_config_free (DvsSwitchdConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->config_file);
  g_free (c->name);
  g_free (c->control_socket);
  g_free (c->metrics_listen);
  g_free (c->state_dir);
  g_strfreev (c->eal_args);
  g_ptr_array_unref (c->ports);
  g_free (c->manager);
  g_free (c->host_name);
  g_strfreev (c->uplinks);
  g_strfreev (c->uplink_specs);
  g_strfreev (c->transport_zones);
  g_free (c->tls_cert);
  g_free (c->tls_key);
  g_free (c->tls_ca);
  g_free (c);
}

DvsSwitchdConfig *
dvs_switchd_config_new_defaults (void)
{
  DvsSwitchdConfig *c = g_new0 (DvsSwitchdConfig, 1);

  c->name = g_strdup (g_get_host_name ());
  c->cpu = -1;
  c->memory_mb = 256;
  c->mac_aging = 300;
  c->mbufs = 16383;
  c->poll_ms = 1;
  c->log_format = DVS_LOG_FORMAT_TEXT;
  c->ports = g_ptr_array_new_with_free_func ((GDestroyNotify) dvs_port_spec_free);
  c->host_name = g_strdup (g_get_host_name ());
  c->uplinks = g_new0 (gchar *, 1);
  c->uplink_specs = g_new0 (gchar *, 1);
  c->transport_zones = g_new0 (gchar *, 1);
  return c;
}

/* Sets a configuration error and evaluates to FALSE. */
#define fail(error, ...) \
  ({ g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, __VA_ARGS__); FALSE; })

/* Reports @local (a VLAN parse error) as a config error about @what. */
static gboolean
fail_prefixed (GError **error, GError *local, const gchar *what)
{
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s",
               what, local->message);
  g_error_free (local);
  return FALSE;
}

static gboolean
port_spec_validate (DvsPortSpec *p, const gchar *what, GError **error)
{
  GError *local = NULL;

  if (!dvs_port_name_valid (p->name, &local))
    return fail_prefixed (error, local, what);
  if (p->socket == NULL || !g_path_is_absolute (p->socket))
    return fail (error, "%s: the socket must be an absolute path", what);
  return TRUE;
}

static gboolean
parse_vlan_option (DvsPortSpec *p, const gchar *key, const gchar *value,
                   const gchar *what, GError **error)
{
  GError *local = NULL;
  guint16 vid;

  if (g_str_equal (key, "vlan"))
    {
      if (!dvs_vlan_parse_id (value, &vid, &local))
        return fail_prefixed (error, local, what);
      if (p->vlan.mode == DVS_VLAN_TRUNK)
        return fail (error, "%s: give either vlan (access) or trunks, not both", what);
      dvs_vlan_config_init_access (&p->vlan, vid);
      return TRUE;
    }
  if (g_str_equal (key, "trunks"))
    {
      if (p->vlan.mode == DVS_VLAN_ACCESS && p->vlan.tag != 0)
        return fail (error, "%s: give either vlan (access) or trunks, not both", what);
      p->vlan.mode = DVS_VLAN_TRUNK;
      if (!dvs_vlan_parse_list (value, &p->vlan, &local))
        return fail_prefixed (error, local, what);
      return TRUE;
    }
  /* native */
  if (!dvs_vlan_parse_id (value, &vid, &local))
    return fail_prefixed (error, local, what);
  p->vlan.native = vid;
  return TRUE;
}

DvsPortSpec *
dvs_port_spec_parse (const gchar *spec, GError **error)
{
  g_autoptr (DvsPortSpec) p = g_new0 (DvsPortSpec, 1);
  g_autofree gchar *what = g_strdup_printf ("port '%s'", spec);
  const gchar *eq = strchr (spec, '=');
  g_auto (GStrv) opts = NULL;
  gboolean native_set = FALSE;

  dvs_vlan_config_init_access (&p->vlan, 0);
  if (eq == NULL)
    {
      fail (error, "%s: expected NAME=SOCKET[,server][,vlan=N|,trunks=LIST[,native=N]]", what);
      return NULL;
    }
  p->name = g_strndup (spec, eq - spec);
  opts = g_strsplit (eq + 1, ",", -1);
  p->socket = g_strdup (opts[0]);
  const gchar *last_key = "";
  for (gchar **o = opts + 1; *o; o++)
    {
      g_auto (GStrv) kv = g_strsplit (*o, "=", 2);
      /* "trunks=10,20-30": the list continues past the option separator. */
      if (g_str_equal (last_key, "trunks") && **o != '\0'
          && strspn (*o, "0123456789-") == strlen (*o))
        {
          if (!parse_vlan_option (p, "trunks", *o, what, error))
            return NULL;
          continue;
        }
      last_key = "";
      if (g_str_equal (*o, "server") || g_str_equal (*o, "client"))
        p->server = g_str_equal (*o, "server");
      else if (kv[1] != NULL && (g_str_equal (kv[0], "vlan") || g_str_equal (kv[0], "trunks")
                                 || g_str_equal (kv[0], "native")))
        {
          if (!parse_vlan_option (p, kv[0], kv[1], what, error))
            return NULL;
          native_set |= g_str_equal (kv[0], "native");
          last_key = g_str_equal (kv[0], "trunks") ? "trunks" : "";
        }
      else
        {
          fail (error, "%s: unknown option '%s' (expected server, client, vlan=N, trunks=LIST, native=N)",
                what, *o);
          return NULL;
        }
    }
  if (native_set && p->vlan.mode != DVS_VLAN_TRUNK)
    {
      fail (error, "%s: native applies to trunk ports (give trunks=LIST)", what);
      return NULL;
    }
  if (!port_spec_validate (p, what, error))
    return NULL;
  return g_steal_pointer (&p);
}

static gboolean
kf_uint (GKeyFile *kf, const gchar *group, const gchar *key, guint min,
         guint max, guint *out, const gchar *origin, GError **error)
{
  g_autofree gchar *v = g_key_file_get_value (kf, group, key, NULL);
  guint64 n;

  if (v == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (g_strstrip (v), 10, min, max, &n, NULL))
    return fail (error, "%s: [%s] %s = '%s' must be a number from %u to %u",
                 origin, group, key, v, min, max);
  *out = (guint) n;
  return TRUE;
}

static gboolean
kf_bool (GKeyFile *kf, const gchar *group, const gchar *key, gboolean *out,
         const gchar *origin, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean v;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (kf, group, key, &local);
  if (local != NULL)
    return fail (error, "%s: [%s] %s must be true or false", origin, group, key);
  *out = v;
  return TRUE;
}

static gboolean
parse_poll_mode (const gchar *s, gboolean *busy, GError **error)
{
  if (g_str_equal (s, "adaptive") || g_str_equal (s, "busy"))
    {
      *busy = g_str_equal (s, "busy");
      return TRUE;
    }
  return fail (error, "poll mode '%s' is not adaptive or busy", s);
}

static gboolean
apply_port_group (DvsSwitchdConfig *c, GKeyFile *kf, const gchar *group,
                  const gchar *origin, GError **error)
{
  g_autoptr (DvsPortSpec) p = g_new0 (DvsPortSpec, 1);
  g_autofree gchar *what = g_strdup_printf ("%s: [%s]", origin, group);
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);

  p->name = g_strdup (group + strlen ("port "));
  dvs_vlan_config_init_access (&p->vlan, 0);
  for (gchar **k = keys; k && *k; k++)
    {
      g_autofree gchar *v = g_key_file_get_string (kf, group, *k, NULL);
      g_strstrip (v);
      if (g_str_equal (*k, "socket"))
        p->socket = g_strdup (v);
      else if (g_str_equal (*k, "mode"))
        {
          if (!g_str_equal (v, "client") && !g_str_equal (v, "server"))
            return fail (error, "%s mode must be client or server", what);
          p->server = g_str_equal (v, "server");
        }
      else if (g_str_equal (*k, "vlan") || g_str_equal (*k, "trunks")
               || g_str_equal (*k, "native"))
        {
          if (!parse_vlan_option (p, *k, v, what, error))
            return FALSE;
        }
      else
        return fail (error, "%s: unknown key '%s' (expected socket, mode, vlan, trunks, native)",
                     what, *k);
    }
  if (!port_spec_validate (p, what, error))
    return FALSE;
  g_ptr_array_add (c->ports, g_steal_pointer (&p));
  return TRUE;
}

/* Replaces *@list by the names in @items, each a name or a comma-separated
 * list of them ("eth0,eth1"); empty names are skipped. */
static gboolean
set_name_list (gchar ***list, const gchar *const *items, const gchar *what,
               GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (const gchar *const *i = items; i != NULL && *i != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit (*i, ",", -1);
      for (gchar **p = parts; *p != NULL; p++)
        {
          g_strstrip (*p);
          if (**p == '\0')
            continue;
          if (strlen (*p) > 64
              || strspn (*p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789_.:-") != strlen (*p))
            return fail (error, "%s '%s' must be 1-64 letters, digits, '_', '.', ':' or '-'",
                         what, *p);
          g_ptr_array_add (names, g_strdup (*p));
        }
    }
  g_ptr_array_add (names, NULL);
  g_strfreev (*list);
  *list = (gchar **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  return TRUE;
}

/* Adds "DVSWITCH=IFACE" to the uplinks to attach (replacing an earlier one
 * for the same DVswitch) and IFACE to the reported names. */
static gboolean
add_uplink_spec (DvsSwitchdConfig *c, const gchar *spec, GError **error)
{
  g_autofree gchar *sw = NULL, *iface = NULL;
  g_autoptr (GPtrArray) specs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (!dvs_switch_uplink_spec_parse (spec, &sw, &iface, error))
    return FALSE;
  for (gchar **s = c->uplink_specs; *s; s++)
    {
      g_autofree gchar *prefix = g_strconcat (sw, "=", NULL);
      if (!g_str_has_prefix (*s, prefix))
        g_ptr_array_add (specs, g_strdup (*s));
    }
  g_ptr_array_add (specs, g_strdup_printf ("%s=%s", sw, iface));
  g_ptr_array_add (specs, NULL);
  g_strfreev (c->uplink_specs);
  c->uplink_specs = (gchar **) g_ptr_array_free (g_steal_pointer (&specs), FALSE);
  if (!g_strv_contains ((const gchar *const *) c->uplinks, iface))
    {
      for (gchar **s = c->uplinks; *s; s++)
        g_ptr_array_add (names, g_strdup (*s));
      g_ptr_array_add (names, g_strdup (iface));
      g_ptr_array_add (names, NULL);
      g_strfreev (c->uplinks);
      c->uplinks = (gchar **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
    }
  return TRUE;
}

/* --uplink items: "DVSWITCH=IFACE" attach an uplink, plain names are only
 * reported; each item may be a comma list.  Replaces both lists. */
static gboolean
set_uplinks (DvsSwitchdConfig *c, const gchar *const *items, GError **error)
{
  g_autoptr (GPtrArray) plain = g_ptr_array_new_with_free_func (g_free);

  for (const gchar *const *i = items; i != NULL && *i != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit (*i, ",", -1);
      for (gchar **p = parts; *p != NULL; p++)
        if (strchr (*p, '=') == NULL)
          g_ptr_array_add (plain, g_strdup (*p));
    }
  g_ptr_array_add (plain, NULL);
  if (!set_name_list (&c->uplinks, (const gchar *const *) plain->pdata, "uplink", error))
    return FALSE;
  g_strfreev (c->uplink_specs);
  c->uplink_specs = g_new0 (gchar *, 1);
  for (const gchar *const *i = items; i != NULL && *i != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit (*i, ",", -1);
      for (gchar **p = parts; *p != NULL; p++)
        if (strchr (*p, '=') != NULL && !add_uplink_spec (c, *p, error))
          return FALSE;
    }
  return TRUE;
}

/* [uplinks]: DVSWITCH = IFACE */
static gboolean
apply_uplinks_group (DvsSwitchdConfig *c, GKeyFile *kf, const gchar *origin,
                     GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, "uplinks", NULL, NULL);

  for (gchar **k = keys; k != NULL && *k != NULL; k++)
    {
      g_autofree gchar *v = g_key_file_get_string (kf, "uplinks", *k, NULL);
      g_autofree gchar *spec = g_strdup_printf ("%s=%s", *k, v ? g_strstrip (v) : "");
      g_autoptr (GError) local = NULL;
      if (!add_uplink_spec (c, spec, &local))
        return fail (error, "%s: [uplinks] %s", origin, local->message);
    }
  return TRUE;
}

static void
kf_string (GKeyFile *kf, const gchar *group, const gchar *key, gchar **out)
{
  g_autofree gchar *s = g_key_file_get_string (kf, group, key, NULL);

  if (s != NULL)
    {
      g_free (*out);
      *out = g_strdup (g_strstrip (s));
    }
}

static gboolean
apply_manager_group (DvsSwitchdConfig *c, GKeyFile *kf, const gchar *origin,
                     GError **error)
{
  static const gchar *const known[] = { "address", "host-name", "uplinks",
                                        "transport-zones", "tls-cert", "tls-key",
                                        "tls-ca", NULL };
  g_auto (GStrv) keys = g_key_file_get_keys (kf, "manager", NULL, NULL);
  g_autofree gchar *s = NULL;

  for (gchar **k = keys; k != NULL && *k != NULL; k++)
    if (!g_strv_contains (known, *k))
      return fail (error, "%s: [manager] unknown key '%s' (expected address, host-name, "
                   "uplinks, transport-zones, tls-cert, tls-key, tls-ca)", origin, *k);
  kf_string (kf, "manager", "address", &c->manager);
  kf_string (kf, "manager", "host-name", &c->host_name);
  kf_string (kf, "manager", "tls-cert", &c->tls_cert);
  kf_string (kf, "manager", "tls-key", &c->tls_key);
  kf_string (kf, "manager", "tls-ca", &c->tls_ca);
  if ((s = g_key_file_get_string (kf, "manager", "uplinks", NULL)))
    {
      const gchar *items[] = { s, NULL };
      if (!set_name_list (&c->uplinks, items, "uplink", error))
        return FALSE;
    }
  g_clear_pointer (&s, g_free);
  if ((s = g_key_file_get_string (kf, "manager", "transport-zones", NULL)))
    {
      const gchar *items[] = { s, NULL };
      if (!set_name_list (&c->transport_zones, items, "transport zone", error))
        return FALSE;
    }
  return TRUE;
}

/* The manager settings, whichever way they came: checked once. */
static gboolean
validate_manager (DvsSwitchdConfig *c, GError **error)
{
  if (c->manager == NULL || *c->manager == '\0')
    {
      g_clear_pointer (&c->manager, g_free);
      return TRUE;
    }
  if (c->host_name == NULL || *c->host_name == '\0'
      || strlen (c->host_name) > 253)
    return fail (error, "the host name '%s' must be 1-253 characters (--host-name)",
                 c->host_name ? c->host_name : "");
  if (g_str_has_prefix (c->manager, "unix:"))
    {
      if (!g_path_is_absolute (c->manager + 5))
        return fail (error, "manager address '%s': the socket must be an absolute path "
                     "(unix:/run/dvs/dvsmgr-hosts.sock)", c->manager);
      return TRUE;
    }
  if (!g_str_has_prefix (c->manager, "tls:") || c->manager[4] == '\0')
    return fail (error, "manager address '%s' must be unix:PATH or tls:HOST[:PORT]",
                 c->manager);
  if (c->tls_cert == NULL || c->tls_key == NULL || c->tls_ca == NULL)
    return fail (error, "manager address '%s' needs --tls-cert, --tls-key and --tls-ca "
                 "(this host's certificate and key, and the CA that signs the manager's)",
                 c->manager);
  return TRUE;
}

gboolean
dvs_switchd_config_apply_keyfile (DvsSwitchdConfig *c, GKeyFile *kf,
                                  const gchar *origin, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  static const gchar *const known[] = { "switch", "datapath", "eal", "log", "manager",
                                        "uplinks", NULL };
  g_autofree gchar *s = NULL;
  guint cpu = G_MAXUINT;

  for (gchar **g = groups; *g; g++)
    if (!g_strv_contains (known, *g) && !g_str_has_prefix (*g, "port "))
      return fail (error, "%s: unknown section [%s] (expected switch, datapath, eal, log, manager, uplinks or 'port NAME')",
                   origin, *g);
  if ((s = g_key_file_get_string (kf, "switch", "name", NULL)))
    g_free (c->name), c->name = g_strdup (g_strstrip (s));
  g_clear_pointer (&s, g_free);
  if ((s = g_key_file_get_string (kf, "switch", "control-socket", NULL)))
    g_free (c->control_socket), c->control_socket = g_strdup (g_strstrip (s));
  g_clear_pointer (&s, g_free);
  if ((s = g_key_file_get_string (kf, "switch", "state-dir", NULL)))
    g_free (c->state_dir), c->state_dir = g_strdup (g_strstrip (s));
  g_clear_pointer (&s, g_free);
  if ((s = g_key_file_get_string (kf, "switch", "metrics-listen", NULL)))
    g_free (c->metrics_listen), c->metrics_listen = g_strdup (g_strstrip (s));
  g_clear_pointer (&s, g_free);
  if (!kf_uint (kf, "switch", "mac-aging", 1, 86400 * 365, &c->mac_aging, origin, error)
      || !kf_uint (kf, "datapath", "cpu", 0, CPU_SETSIZE - 1, &cpu, origin, error)
      || !kf_uint (kf, "datapath", "mbufs", 1024, 1u << 24, &c->mbufs, origin, error)
      || !kf_uint (kf, "datapath", "uplink-poll-ms", 1, 1000, &c->poll_ms, origin, error)
      || !kf_uint (kf, "eal", "memory", 64, 1u << 20, &c->memory_mb, origin, error)
      || !kf_bool (kf, "eal", "hugepages", &c->hugepages, origin, error)
      || !kf_bool (kf, "log", "verbose", &c->verbose, origin, error))
    return FALSE;
  if (cpu != G_MAXUINT)
    c->cpu = (gint) cpu;
  if ((s = g_key_file_get_string (kf, "datapath", "poll-mode", NULL))
      && !parse_poll_mode (g_strstrip (s), &c->busy_poll, error))
    return FALSE;
  g_clear_pointer (&s, g_free);
  if ((s = g_key_file_get_string (kf, "log", "format", NULL))
      && !dvs_log_format_parse (g_strstrip (s), &c->log_format, error))
    return FALSE;
  g_clear_pointer (&s, g_free);
  if ((s = g_key_file_get_string (kf, "eal", "args", NULL)))
    {
      g_strfreev (c->eal_args);
      c->eal_args = NULL;
      if (!g_shell_parse_argv (s, NULL, &c->eal_args, error))
        return FALSE;
    }
  for (gchar **g = groups; *g; g++)
    if (g_str_has_prefix (*g, "port ") && !apply_port_group (c, kf, *g, origin, error))
      return FALSE;
  if (g_key_file_has_group (kf, "manager") && !apply_manager_group (c, kf, origin, error))
    return FALSE;
  if (g_key_file_has_group (kf, "uplinks") && !apply_uplinks_group (c, kf, origin, error))
    return FALSE;
  return TRUE;
}

DvsSwitchdConfig *
dvs_switchd_config_from_args (int argc, char **argv, GError **error)
{
  g_autoptr (DvsSwitchdConfig) c = dvs_switchd_config_new_defaults ();
  g_autofree gchar *file = NULL, *name = NULL, *sock = NULL, *poll = NULL, *state = NULL;
  g_autofree gchar *eal = NULL, *logfmt = NULL, *metrics = NULL;
  g_autofree gchar *manager = NULL, *host_name = NULL;
  g_autofree gchar *tls_cert = NULL, *tls_key = NULL, *tls_ca = NULL;
  g_auto (GStrv) ports = NULL, uplinks = NULL, zones = NULL;
  gint cpu = -2, memory = 0, aging = 0, poll_ms = 0;
  gboolean huge = FALSE, verbose = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &file, "Key file to read (default " DEFAULT_CONFIG_FILE " if it exists)", "FILE" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "Instance name (default: the host name)", "NAME" },
    { "control-socket", 's', 0, G_OPTION_ARG_FILENAME, &sock, "Control socket (default /run/dvs/NAME/control.sock)", "PATH" },
    { "metrics-listen", 0, 0, G_OPTION_ARG_STRING, &metrics, "Serve Prometheus metrics on GET /metrics at this address, read-only and without authentication: bind to loopback (default: off)", "IP:PORT" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state, "Local store of DVswitch data and checkpoints (default /var/lib/dvs/NAME; 'none': keep nothing)", "DIR" },
    { "port", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &ports, "Add a port at start; repeatable", "NAME=SOCKET[,server][,vlan=N|,trunks=LIST[,native=N]]" },
    { "cpu", 0, 0, G_OPTION_ARG_INT, &cpu, "Pin the datapath thread to this CPU (default: not pinned)", "N" },
    { "poll-mode", 0, 0, G_OPTION_ARG_STRING, &poll, "adaptive (default: sleep when idle) or busy", "MODE" },
    { "uplink-poll-ms", 0, 0, G_OPTION_ARG_INT, &poll_ms, "Adaptive polling: while an uplink is up, sleep at most this long when idle (default 1)", "MS" },
    { "hugepages", 0, 0, G_OPTION_ARG_NONE, &huge, "Use hugepages for packet memory (must be reserved)", NULL },
    { "memory", 0, 0, G_OPTION_ARG_INT, &memory, "EAL memory in MiB (default 256)", "MB" },
    { "eal-args", 0, 0, G_OPTION_ARG_STRING, &eal, "Replace the EAL arguments entirely", "ARGS" },
    { "mac-aging", 0, 0, G_OPTION_ARG_INT, &aging, "MAC table aging time in seconds (default 300)", "SECONDS" },
    { "log-format", 0, 0, G_OPTION_ARG_STRING, &logfmt, "text (default) or json", "FORMAT" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Debug logging", NULL },
    { "manager", 0, 0, G_OPTION_ARG_STRING, &manager, "Connect to dvsmgr (default: none, standalone)", "unix:PATH|tls:HOST[:PORT]" },
    { "host-name", 0, 0, G_OPTION_ARG_STRING, &host_name, "This host's name towards the manager (default: the host name)", "NAME" },
    { "uplink", 0, 0, G_OPTION_ARG_STRING_ARRAY, &uplinks, "Give DVswitch DVSWITCH (name or id) an uplink on interface IFACE (also reported to the manager); a plain NAME is only reported; repeatable or a comma list", "DVSWITCH=IFACE" },
    { "transport-zone", 0, 0, G_OPTION_ARG_STRING_ARRAY, &zones, "A transport zone to report to the manager; repeatable or a comma list", "TZ" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "This host's certificate for a tls: manager (PEM)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "The private key of --tls-cert (PEM)", "FILE" },
    { "tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &tls_ca, "The CA that signs the manager's certificate (PEM)", "FILE" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- DVS per-host switch (vhost-user, DPDK)");
  g_auto (GStrv) args = g_new0 (gchar *, argc + 1);

  for (int i = 0; i < argc; i++)
    args[i] = g_strdup (argv[i]);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Moves frames between QEMU vhost-user vNICs: an L2 learning switch with\n"
    "802.1Q VLANs and per-port counters, controlled over a local JSON-RPC\n"
    "socket (dvs-switchctl).  See docs/dvs-switchd.md.\n");
  if (!g_option_context_parse_strv (ctx, &args, error))
    return NULL;
  if (args[1] != NULL)
    {
      fail (error, "unexpected argument '%s' (see --help)", args[1]);
      return NULL;
    }

  if (file == NULL && g_file_test (DEFAULT_CONFIG_FILE, G_FILE_TEST_EXISTS))
    file = g_strdup (DEFAULT_CONFIG_FILE);
  if (file != NULL)
    {
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      g_autoptr (GError) local = NULL;
      if (!g_key_file_load_from_file (kf, file, G_KEY_FILE_NONE, &local))
        {
          fail (error, "cannot read configuration %s: %s", file, local->message);
          return NULL;
        }
      if (!dvs_switchd_config_apply_keyfile (c, kf, file, error))
        return NULL;
      c->config_file = g_strdup (file);
    }

  if (name)
    g_free (c->name), c->name = g_strdup (name);
  if (!dvs_port_name_valid (c->name, NULL))
    {
      fail (error, "instance name '%s' must be 1-32 letters, digits, '_', '.' or '-'", c->name);
      return NULL;
    }
  if (sock)
    g_free (c->control_socket), c->control_socket = g_strdup (sock);
  if (c->control_socket == NULL)
    c->control_socket = g_strdup_printf ("/run/dvs/%s/control.sock", c->name);
  if (state)
    g_free (c->state_dir), c->state_dir = g_strdup (state);
  if (metrics)
    g_free (c->metrics_listen), c->metrics_listen = g_strdup (metrics);
  if (c->metrics_listen != NULL && *c->metrics_listen == '\0')
    g_clear_pointer (&c->metrics_listen, g_free);
  if (c->state_dir == NULL)
    c->state_dir = g_strdup_printf ("/var/lib/dvs/%s", c->name);
  if (cpu != -2)
    {
      if (cpu < -1 || cpu >= CPU_SETSIZE)
        {
          fail (error, "--cpu %d is not a CPU number", cpu);
          return NULL;
        }
      c->cpu = cpu;
    }
  if (poll && !parse_poll_mode (poll, &c->busy_poll, error))
    return NULL;
  if (poll_ms)
    {
      if (poll_ms < 1 || poll_ms > 1000)
        {
          fail (error, "--uplink-poll-ms must be 1-1000");
          return NULL;
        }
      c->poll_ms = (guint) poll_ms;
    }
  if (huge)
    c->hugepages = TRUE;
  if (memory)
    {
      if (memory < 64)
        {
          fail (error, "--memory %d is too small: DPDK needs at least 64 MiB", memory);
          return NULL;
        }
      c->memory_mb = (guint) memory;
    }
  if (eal)
    {
      g_strfreev (c->eal_args);
      c->eal_args = NULL;
      if (!g_shell_parse_argv (eal, NULL, &c->eal_args, error))
        return NULL;
    }
  if (aging)
    {
      if (aging < 1)
        {
          fail (error, "--mac-aging must be at least 1 second");
          return NULL;
        }
      c->mac_aging = (guint) aging;
    }
  if (logfmt && !dvs_log_format_parse (logfmt, &c->log_format, error))
    return NULL;
  if (verbose)
    c->verbose = TRUE;
  for (gchar **p = ports; p && *p; p++)
    {
      DvsPortSpec *spec = dvs_port_spec_parse (*p, error);
      if (spec == NULL)
        return NULL;
      g_ptr_array_add (c->ports, spec);
    }
  if (manager)
    g_free (c->manager), c->manager = g_strdup (manager);
  if (host_name)
    g_free (c->host_name), c->host_name = g_strdup (host_name);
  if (tls_cert)
    g_free (c->tls_cert), c->tls_cert = g_strdup (tls_cert);
  if (tls_key)
    g_free (c->tls_key), c->tls_key = g_strdup (tls_key);
  if (tls_ca)
    g_free (c->tls_ca), c->tls_ca = g_strdup (tls_ca);
  if ((uplinks && !set_uplinks (c, (const gchar *const *) uplinks, error))
      || (zones && !set_name_list (&c->transport_zones, (const gchar *const *) zones,
                                   "transport zone", error))
      || !validate_manager (c, error))
    return NULL;
  return g_steal_pointer (&c);
}
