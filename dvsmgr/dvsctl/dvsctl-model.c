/* dvsctl: the manager's objects as one GetManagedObjects call returns
 * them, checked once against the XML's types, and the names operators use
 * for them. */
#include "dvsctl.h"
#include "dvsctl-output.h"

#include <string.h>

#include "dvs-dbus-generated.h"

struct _CtlModel {
  GPtrArray *objects;                 /* CtlObject *, owned */
  GHashTable *by_path;                /* path -> CtlObject * */
  GPtrArray *by_kind[CTL_KIND_LAST];  /* borrowed, sorted */
  CtlObject *manager;                 /* loaded separately, on demand */
};

typedef struct {
  const gchar *iface;
  GDBusInterfaceInfo *(*info) (void);
  const gchar *noun;      /* for messages: "switch", "port group" */
} CtlKindInfo;

static const CtlKindInfo kinds[CTL_KIND_LAST] = {
  [CTL_KIND_MANAGER] = { CTL_IFACE_MANAGER, dvs_manager1_interface_info, "manager" },
  [CTL_KIND_SWITCH] = { CTL_IFACE_SWITCH, dvs_switch1_interface_info, "switch" },
  [CTL_KIND_PORT_GROUP] = { CTL_IFACE_PORT_GROUP, dvs_port_group1_interface_info, "port group" },
  [CTL_KIND_PORT] = { CTL_IFACE_PORT, dvs_port1_interface_info, "port" },
  [CTL_KIND_HOST] = { CTL_IFACE_HOST, dvs_host1_interface_info, "host" },
  [CTL_KIND_NETWORK] = { CTL_IFACE_NETWORK, dvs_network1_interface_info, "network" },
};

static void
ctl_object_free (CtlObject *obj)
{
  if (obj == NULL)
    return;
  g_free (obj->path);
  g_clear_pointer (&obj->props, g_variant_unref);
  g_free (obj->sort_key);
  g_free (obj);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlObject, ctl_object_free)

void
ctl_model_free (CtlModel *model)
{
  if (model == NULL)
    return;
  for (guint i = 0; i < CTL_KIND_LAST; i++)
    g_clear_pointer (&model->by_kind[i], g_ptr_array_unref);
  g_clear_pointer (&model->by_path, g_hash_table_unref);
  g_clear_pointer (&model->objects, g_ptr_array_unref);
  ctl_object_free (model->manager);
  g_free (model);
}

/* Keeps the properties of @props whose type is the one the XML declares;
 * an unknown property or one of another type is left out (and said so
 * with G_MESSAGES_DEBUG=dvsctl). */
static GVariant *
checked_properties (CtlKind kind, const gchar *path, GVariant *props)
{
  GDBusInterfaceInfo *info = kinds[kind].info ();
  GVariantBuilder builder;
  GVariantIter iter;
  const gchar *name;
  GVariant *value;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, props);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      GDBusPropertyInfo *prop = g_dbus_interface_info_lookup_property (info, name);

      if (prop == NULL
          || !g_variant_is_of_type (value, G_VARIANT_TYPE (prop->signature)))
        {
          g_debug ("%s: ignoring property %s of type %s", path, name,
                   g_variant_get_type_string (value));
          continue;
        }
      g_variant_builder_add (&builder, "{sv}", name, value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static CtlObject *
object_new (const gchar *path, CtlKind kind, GVariant *props)
{
  CtlObject *obj = g_new0 (CtlObject, 1);

  obj->path = g_strdup (path);
  obj->kind = kind;
  obj->props = checked_properties (kind, path, props);
  return obj;
}

static gint
compare_objects (gconstpointer a, gconstpointer b)
{
  const CtlObject *x = *(CtlObject *const *) a;
  const CtlObject *y = *(CtlObject *const *) b;
  gint c = strcmp (x->sort_key, y->sort_key);

  return c != 0 ? c : strcmp (x->path, y->path);
}

/* The switch an object belongs to, for sorting and tables. */
static const gchar *
switch_name_of (CtlModel *model, const CtlObject *obj)
{
  CtlObject *sw = g_hash_table_lookup (model->by_path,
                                       ctl_prop_string (obj, "Switch"));

  return sw != NULL ? ctl_prop_string (sw, "Name") : "";
}

static void
model_index (CtlModel *model)
{
  for (guint i = 0; i < CTL_KIND_LAST; i++)
    model->by_kind[i] = g_ptr_array_new ();
  for (guint i = 0; i < model->objects->len; i++)
    {
      CtlObject *obj = model->objects->pdata[i];
      g_autofree gchar *key = NULL;

      switch (obj->kind)
        {
        case CTL_KIND_PORT_GROUP:
          key = g_strconcat (switch_name_of (model, obj), "\001",
                             ctl_prop_string (obj, "Name"), NULL);
          break;
        case CTL_KIND_PORT:
          key = g_strconcat (switch_name_of (model, obj), "\001",
                             ctl_prop_string (obj, "Key"), NULL);
          break;
        default:
          key = g_strdup (ctl_prop_string (obj, "Name"));
          break;
        }
      obj->sort_key = g_utf8_collate_key_for_filename (key, -1);
      g_ptr_array_add (model->by_kind[obj->kind], obj);
    }
  for (guint i = 0; i < CTL_KIND_LAST; i++)
    g_ptr_array_sort (model->by_kind[i], compare_objects);
}

static CtlModel *
model_load (Ctl *ctl, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) objects = NULL;
  CtlModel *model;
  GVariantIter iter;
  const gchar *path;
  GVariant *ifaces;

  reply = ctl_call (ctl, CTL_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                    "GetManagedObjects", NULL,
                    G_VARIANT_TYPE ("(a{oa{sa{sv}}})"), FALSE, error);
  if (reply == NULL)
    return NULL;

  model = g_new0 (CtlModel, 1);
  model->objects = g_ptr_array_new_with_free_func ((GDestroyNotify) ctl_object_free);
  model->by_path = g_hash_table_new (g_str_hash, g_str_equal);
  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_loop (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      for (guint k = CTL_KIND_SWITCH; k < CTL_KIND_LAST; k++)
        {
          g_autoptr(GVariant) props = g_variant_lookup_value (
              ifaces, kinds[k].iface, G_VARIANT_TYPE_VARDICT);
          CtlObject *obj;

          if (props == NULL)
            continue;
          obj = object_new (path, (CtlKind) k, props);
          g_ptr_array_add (model->objects, obj);
          g_hash_table_insert (model->by_path, obj->path, obj);
          break;
        }
    }
  model_index (model);
  return model;
}

static CtlModel *
ctl_model (Ctl *ctl, GError **error)
{
  if (ctl->model == NULL)
    ctl->model = model_load (ctl, error);
  return ctl->model;
}

GPtrArray *
ctl_objects (Ctl *ctl, CtlKind kind, GError **error)
{
  CtlModel *model = ctl_model (ctl, error);

  return model != NULL ? model->by_kind[kind] : NULL;
}

CtlObject *
ctl_object_at (Ctl *ctl, const gchar *path)
{
  if (ctl->model == NULL || path == NULL)
    return NULL;
  return g_hash_table_lookup (ctl->model->by_path, path);
}

CtlObject *
ctl_manager (Ctl *ctl, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) props = NULL;
  CtlModel *model = ctl_model (ctl, error);

  if (model == NULL)
    return NULL;
  if (model->manager != NULL)
    return model->manager;
  reply = ctl_call (ctl, CTL_MANAGER_PATH, "org.freedesktop.DBus.Properties",
                    "GetAll", g_variant_new ("(s)", CTL_IFACE_MANAGER),
                    G_VARIANT_TYPE ("(a{sv})"), FALSE, error);
  if (reply == NULL)
    return NULL;
  props = g_variant_get_child_value (reply, 0);
  model->manager = object_new (CTL_MANAGER_PATH, CTL_KIND_MANAGER, props);
  return model->manager;
}

/* The identifier an object is known by in JSON and messages: the UUID of a
 * switch, port group or network, the key of a port, the name of a host. */
static const gchar *
object_id (const CtlObject *obj)
{
  switch (obj->kind)
    {
    case CTL_KIND_SWITCH:
    case CTL_KIND_PORT_GROUP:
    case CTL_KIND_NETWORK:
      return ctl_prop_string (obj, "Uuid");
    case CTL_KIND_PORT:
      return ctl_prop_string (obj, "Key");
    case CTL_KIND_HOST:
      return ctl_prop_string (obj, "Name");
    case CTL_KIND_MANAGER:
    case CTL_KIND_LAST:
    default:
      return obj->path;
    }
}

const gchar *
ctl_object_label (Ctl *ctl, const gchar *path)
{
  CtlObject *obj = ctl_object_at (ctl, path);

  if (obj == NULL)
    return path;
  return obj->kind == CTL_KIND_PORT ? ctl_prop_string (obj, "Key")
                                    : ctl_prop_string (obj, "Name");
}

static gboolean
matches_ref (const CtlObject *obj, const gchar *ref, gboolean by_uuid)
{
  if (by_uuid)
    return obj->kind != CTL_KIND_PORT && obj->kind != CTL_KIND_HOST
           && g_ascii_strcasecmp (ctl_prop_string (obj, "Uuid"), ref) == 0;
  if (obj->kind == CTL_KIND_PORT)
    return g_str_equal (ctl_prop_string (obj, "Key"), ref);
  return g_str_equal (ctl_prop_string (obj, "Name"), ref);
}

static gchar *
describe_candidates (Ctl *ctl, GPtrArray *found)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < found->len; i++)
    {
      CtlObject *obj = found->pdata[i];

      if (i > 0)
        g_string_append (out, ", ");
      if (obj->kind == CTL_KIND_PORT)
        g_string_append_printf (out, "%s/%s",
                                ctl_object_label (ctl, ctl_prop_string (obj, "Switch")),
                                ctl_prop_string (obj, "Key"));
      else
        g_string_append (out, object_id (obj));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Ports may be named SWITCH/KEY (keys have no '/'). */
static CtlObject *
resolve_port_in_switch (Ctl *ctl, GPtrArray *ports, const gchar *ref,
                        GError **error)
{
  const gchar *slash = strrchr (ref, '/');
  g_autofree gchar *switch_ref = NULL;
  CtlObject *sw;

  if (slash == NULL || slash == ref)
    return NULL;
  switch_ref = g_strndup (ref, (gsize) (slash - ref));
  sw = ctl_resolve (ctl, CTL_KIND_SWITCH, switch_ref, error);
  if (sw == NULL)
    return NULL;
  for (guint i = 0; i < ports->len; i++)
    {
      CtlObject *obj = ports->pdata[i];

      if (g_str_equal (ctl_prop_string (obj, "Switch"), sw->path)
          && g_str_equal (ctl_prop_string (obj, "Key"), slash + 1))
        return obj;
    }
  g_set_error (error, CTL_ERROR, CTL_ERROR_NOT_FOUND,
               "switch %s has no port with the key \"%s\"",
               ctl_prop_string (sw, "Name"), slash + 1);
  return NULL;
}

CtlObject *
ctl_resolve (Ctl *ctl, CtlKind kind, const gchar *ref, GError **error)
{
  GPtrArray *all = ctl_objects (ctl, kind, error);
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  g_autofree gchar *list = NULL;
  const gchar *noun = kinds[kind].noun;

  if (all == NULL)
    return NULL;
  /* An object path names exactly one object. */
  if (ref[0] == '/')
    {
      CtlObject *obj = ctl_object_at (ctl, ref);

      if (obj != NULL && obj->kind == kind)
        return obj;
    }
  for (guint i = 0; i < all->len && found->len == 0; i++)
    if (matches_ref (all->pdata[i], ref, TRUE))
      g_ptr_array_add (found, all->pdata[i]);
  if (found->len == 0)
    for (guint i = 0; i < all->len; i++)
      if (matches_ref (all->pdata[i], ref, FALSE))
        g_ptr_array_add (found, all->pdata[i]);
  if (found->len == 1)
    return found->pdata[0];
  if (found->len > 1)
    {
      list = describe_candidates (ctl, found);
      if (kind == CTL_KIND_PORT)
        g_set_error (error, CTL_ERROR, CTL_ERROR_AMBIGUOUS,
                     "more than one switch has a port with the key \"%s\": "
                     "%s; name it as SWITCH/KEY", ref, list);
      else
        g_set_error (error, CTL_ERROR, CTL_ERROR_AMBIGUOUS,
                     "%s name \"%s\" is ambiguous: UUIDs %s; name it by UUID",
                     noun, ref, list);
      return NULL;
    }
  if (kind == CTL_KIND_PORT && strchr (ref, '/') != NULL && ref[0] != '/')
    return resolve_port_in_switch (ctl, all, ref, error);

  switch (kind)
    {
    case CTL_KIND_PORT:
      g_set_error (error, CTL_ERROR, CTL_ERROR_NOT_FOUND,
                   "no port has the key \"%s\" (dvsctl port list shows them)",
                   ref);
      break;
    case CTL_KIND_HOST:
      g_set_error (error, CTL_ERROR, CTL_ERROR_NOT_FOUND,
                   "no host is named \"%s\" (dvsctl host list shows them)",
                   ref);
      break;
    default:
      g_set_error (error, CTL_ERROR, CTL_ERROR_NOT_FOUND,
                   "no %s is named \"%s\" or has that UUID (dvsctl %s list "
                   "shows them)", noun, ref,
                   kind == CTL_KIND_PORT_GROUP ? "portgroup"
                   : kind == CTL_KIND_SWITCH ? "switch" : "network");
      break;
    }
  return NULL;
}

/* Property getters.  The model checked every type on load. */

static GVariant *
prop (const CtlObject *obj, const gchar *name)
{
  return obj != NULL ? g_variant_lookup_value (obj->props, name, NULL) : NULL;
}

gboolean
ctl_prop_has (const CtlObject *obj, const gchar *name)
{
  g_autoptr(GVariant) value = prop (obj, name);

  return value != NULL;
}

const gchar *
ctl_prop_string (const CtlObject *obj, const gchar *name)
{
  const gchar *value = NULL;

  /* Strings and object paths; the model holds the value. */
  if (obj == NULL
      || (!g_variant_lookup (obj->props, name, "&s", &value)
          && !g_variant_lookup (obj->props, name, "&o", &value)))
    return "";
  return value;
}

guint32
ctl_prop_uint (const CtlObject *obj, const gchar *name)
{
  guint32 value = 0;

  if (obj != NULL)
    g_variant_lookup (obj->props, name, "u", &value);
  return value;
}

guint64
ctl_prop_uint64 (const CtlObject *obj, const gchar *name)
{
  guint64 value = 0;

  if (obj != NULL)
    g_variant_lookup (obj->props, name, "t", &value);
  return value;
}

gint64
ctl_prop_int64 (const CtlObject *obj, const gchar *name)
{
  gint64 value = 0;

  if (obj != NULL)
    g_variant_lookup (obj->props, name, "x", &value);
  return value;
}

gboolean
ctl_prop_bool (const CtlObject *obj, const gchar *name)
{
  gboolean value = FALSE;

  if (obj != NULL)
    g_variant_lookup (obj->props, name, "b", &value);
  return value;
}

gchar **
ctl_prop_strv (const CtlObject *obj, const gchar *name)
{
  g_autoptr(GVariant) value = prop (obj, name);

  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE ("as")))
    return g_variant_dup_strv (value, NULL);
  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE ("ao")))
    return g_variant_dup_objv (value, NULL);
  return g_new0 (gchar *, 1);
}

JsonNode *
ctl_prop_json (const CtlObject *obj, const gchar *name)
{
  const gchar *text = ctl_prop_string (obj, name);

  if (*text == '\0')
    return NULL;
  return json_from_string (text, NULL);
}

/* "ForwardingClass" -> "forwarding_class". */
static gchar *
snake_case (const gchar *name)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (const gchar *p = name; *p != '\0'; p++)
    {
      if (g_ascii_isupper (*p) && p != name)
        g_string_append_c (out, '_');
      g_string_append_c (out, g_ascii_tolower (*p));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static const gchar *
path_id (Ctl *ctl, const gchar *path)
{
  CtlObject *obj = ctl_object_at (ctl, path);

  return obj != NULL ? object_id (obj) : path;
}

JsonNode *
ctl_object_to_json (Ctl *ctl, const CtlObject *obj)
{
  GDBusInterfaceInfo *info = kinds[obj->kind].info ();
  g_autoptr(JsonObject) out = json_object_new ();

  if (obj->kind != CTL_KIND_MANAGER)
    json_object_set_string_member (out, "path", obj->path);
  for (GDBusPropertyInfo **p = info->properties; p != NULL && *p != NULL; p++)
    {
      const gchar *name = (*p)->name;
      g_autoptr(GVariant) value = prop (obj, name);
      g_autofree gchar *member = NULL;

      if (value == NULL)
        continue;
      if (g_str_has_suffix (name, "Json"))
        {
          g_autofree gchar *stem = g_strndup (name, strlen (name) - 4);
          JsonNode *parsed = ctl_prop_json (obj, name);

          member = snake_case (stem);
          /* "" is null; text that is not JSON is passed on as a string. */
          if (parsed == NULL && *ctl_prop_string (obj, name) == '\0')
            parsed = json_node_new (JSON_NODE_NULL);
          else if (parsed == NULL)
            parsed = json_node_init_string (json_node_alloc (),
                                            ctl_prop_string (obj, name));
          json_object_set_member (out, member, parsed);
          continue;
        }
      member = snake_case (name);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH))
        json_object_set_string_member (out, member,
                                       path_id (ctl, g_variant_get_string (value, NULL)));
      else if (g_variant_is_of_type (value, G_VARIANT_TYPE ("ao")))
        {
          g_autofree const gchar **paths = g_variant_get_objv (value, NULL);
          JsonArray *array = json_array_new ();

          for (guint i = 0; paths[i] != NULL; i++)
            json_array_add_string_element (array, path_id (ctl, paths[i]));
          json_object_set_array_member (out, member, array);
        }
      else
        json_object_set_member (out, member, json_gvariant_serialize (value));
    }
  return json_node_init_object (json_node_alloc (), out);
}

void
ctl_print_objects_json (Ctl *ctl, GPtrArray *objects)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonNode) node = NULL;

  for (guint i = 0; i < objects->len; i++)
    json_array_add_element (array, ctl_object_to_json (ctl, objects->pdata[i]));
  node = json_node_init_array (json_node_alloc (), array);
  dvs_json_print (node);
}

CtlObject *
ctl_switch_by_uuid (Ctl *ctl, const gchar *uuid)
{
  GPtrArray *switches = ctl->model != NULL
                            ? ctl->model->by_kind[CTL_KIND_SWITCH] : NULL;

  for (guint i = 0; switches != NULL && i < switches->len; i++)
    if (g_ascii_strcasecmp (ctl_prop_string (switches->pdata[i], "Uuid"),
                            uuid) == 0)
      return switches->pdata[i];
  return NULL;
}
