/* dvsctl: connecting libvirt domains to DVports (docs/libvirt.md).
 *
 * `vm attach` connects a DVport on the manager, then edits the domain's
 * persistent definition through libvirt: a vhost-user <interface>, shared
 * memory, and the DVS metadata entry the hook reads at start.  `vm detach`
 * undoes both.  The order makes a failure harmless: a definition libvirt
 * refuses disconnects the port again; a port that cannot be disconnected
 * after the definition changed is reported with the command that finishes
 * the job. */
#include "dvsctl.h"
#include "dvsctl-output.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dvs-domain-xml.h"
#include "dvs-json.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

#define DEFAULT_SOCKET_DIR "/run/dvs/vhost"
/* AllocatePort names a free port without reserving it: another client may
 * connect it first; then allocate again. */
#define ALLOCATE_ATTEMPTS 5

/* A domain opened for editing. */
typedef struct {
  virConnectPtr conn;
  virDomainPtr dom;
  gchar *name;
  gchar *uuid;
  xmlDocPtr doc;   /* its persistent definition */
  gboolean active;
} CtlVm;

static void
ctl_vm_clear (CtlVm *vm)
{
  g_clear_pointer (&vm->doc, xmlFreeDoc);
  g_clear_pointer (&vm->name, g_free);
  g_clear_pointer (&vm->uuid, g_free);
  g_clear_pointer (&vm->dom, virDomainFree);
  g_clear_pointer (&vm->conn, virConnectClose);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtlVm, ctl_vm_clear)

/* libvirt prints its errors on stderr unless told otherwise; dvsctl
 * reports them itself. */
static void
ignore_libvirt_error (void *data, virErrorPtr error)
{
}

static const gchar *
libvirt_message (void)
{
  const char *message = virGetLastErrorMessage ();

  return message != NULL ? message : "unknown libvirt error";
}

static gboolean
vm_open (CtlVm *vm, const CtlOptions *opts, const gchar *ref, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  g_autofree char *xml = NULL;
  int persistent;

  virSetErrorFunc (NULL, ignore_libvirt_error);
  vm->conn = virConnectOpen (opts->libvirt_uri);
  if (vm->conn == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_NO_LIBVIRT,
                   "cannot connect to libvirt%s%s: %s",
                   opts->libvirt_uri != NULL ? " at " : "",
                   opts->libvirt_uri != NULL ? opts->libvirt_uri : "",
                   libvirt_message ());
      return FALSE;
    }
  vm->dom = virDomainLookupByName (vm->conn, ref);
  if (vm->dom == NULL)
    vm->dom = virDomainLookupByUUIDString (vm->conn, ref);
  if (vm->dom == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_NOT_FOUND,
                   "libvirt has no domain named \"%s\"", ref);
      return FALSE;
    }
  vm->name = g_strdup (virDomainGetName (vm->dom));
  persistent = virDomainIsPersistent (vm->dom);
  if (persistent != 1)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "domain %s is %s: its vNICs are set in its persistent "
                   "definition (virsh define)", vm->name,
                   persistent == 0 ? "transient" : "in an unknown state");
      return FALSE;
    }
  vm->active = virDomainIsActive (vm->dom) == 1;
  if (virDomainGetUUIDString (vm->dom, uuid) != 0)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "cannot read the UUID of domain %s: %s", vm->name,
                   libvirt_message ());
      return FALSE;
    }
  vm->uuid = g_strdup (uuid);
  /* SECURE: the definition is written back, secrets and all. */
  xml = virDomainGetXMLDesc (vm->dom, VIR_DOMAIN_XML_INACTIVE
                                          | VIR_DOMAIN_XML_SECURE);
  if (xml == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "cannot read the definition of domain %s: %s", vm->name,
                   libvirt_message ());
      return FALSE;
    }
  vm->doc = dvs_domain_xml_parse (xml, strlen (xml), error);
  if (vm->doc == NULL)
    {
      g_prefix_error (error, "domain %s: ", vm->name);
      return FALSE;
    }
  return TRUE;
}

/* Writes the edited definition back (virDomainDefineXML). */
static gboolean
vm_define (CtlVm *vm, GError **error)
{
  xmlChar *text = NULL;
  int size = 0;
  virDomainPtr defined;

  xmlDocDumpFormatMemory (vm->doc, &text, &size, 1);
  if (text == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "cannot write the new definition of domain %s", vm->name);
      return FALSE;
    }
  defined = virDomainDefineXML (vm->conn, (const char *) text);
  xmlFree (text);
  if (defined == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "libvirt refused the new definition of domain %s: %s",
                   vm->name, libvirt_message ());
      return FALSE;
    }
  virDomainFree (defined);
  return TRUE;
}

/* -- the XML -------------------------------------------------------------- */

static xmlNodePtr
child (xmlNodePtr parent, const gchar *name, const gchar *ns)
{
  for (xmlNodePtr n = parent != NULL ? parent->children : NULL; n != NULL;
       n = n->next)
    if (n->type == XML_ELEMENT_NODE && xmlStrEqual (n->name, BAD_CAST name)
        && (ns == NULL ? n->ns == NULL
                       : n->ns != NULL && xmlStrEqual (n->ns->href, BAD_CAST ns)))
      return n;
  return NULL;
}

static xmlNodePtr
child_or_new (xmlNodePtr parent, const gchar *name)
{
  xmlNodePtr n = child (parent, name, NULL);

  return n != NULL ? n : xmlNewChild (parent, NULL, BAD_CAST name, NULL);
}

static gchar *
attr (xmlNodePtr node, const gchar *name)
{
  xmlChar *v = node != NULL ? xmlGetNoNsProp (node, BAD_CAST name) : NULL;
  gchar *copy = v != NULL ? g_strdup ((const gchar *) v) : NULL;

  xmlFree (v);
  return copy;
}

/* A new element with attributes given as NULL-terminated name/value
 * pairs (a NULL value leaves that attribute out). */
static xmlNodePtr
add_element (xmlNodePtr parent, xmlNsPtr ns, const gchar *name, ...)
    G_GNUC_NULL_TERMINATED;

static xmlNodePtr
add_element (xmlNodePtr parent, xmlNsPtr ns, const gchar *name, ...)
{
  xmlNodePtr n = xmlNewChild (parent, ns, BAD_CAST name, NULL);
  const gchar *key;
  va_list ap;

  va_start (ap, name);
  while ((key = va_arg (ap, const gchar *)) != NULL)
    {
      const gchar *value = va_arg (ap, const gchar *);

      if (value != NULL)
        xmlNewProp (n, BAD_CAST key, BAD_CAST value);
    }
  va_end (ap);
  return n;
}

static void
remove_node (xmlNodePtr node)
{
  xmlUnlinkNode (node);
  xmlFreeNode (node);
}

/* Whether @node has element children. */
static gboolean
has_elements (xmlNodePtr node)
{
  for (xmlNodePtr n = node->children; n != NULL; n = n->next)
    if (n->type == XML_ELEMENT_NODE)
      return TRUE;
  return FALSE;
}

/* The <interface> of the domain with @mac, of any type. */
static xmlNodePtr
find_interface (xmlDocPtr doc, const gchar *mac)
{
  xmlNodePtr devices = child (xmlDocGetRootElement (doc), "devices", NULL);

  for (xmlNodePtr n = devices != NULL ? devices->children : NULL; n != NULL;
       n = n->next)
    {
      g_autofree gchar *text = NULL;
      g_autofree gchar *other = NULL;

      if (n->type != XML_ELEMENT_NODE || n->ns != NULL
          || !xmlStrEqual (n->name, BAD_CAST "interface"))
        continue;
      text = attr (child (n, "mac", NULL), "address");
      other = dvs_domain_xml_normalize_mac (text);
      if (other != NULL && g_str_equal (other, mac))
        return n;
    }
  return NULL;
}

/* Whether any element of the domain has <alias name=@alias>. */
static gboolean
alias_in_use (xmlNodePtr node, const gchar *alias)
{
  for (xmlNodePtr n = node->children; n != NULL; n = n->next)
    {
      g_autofree gchar *name = NULL;

      if (n->type != XML_ELEMENT_NODE)
        continue;
      if (n->ns == NULL && xmlStrEqual (n->name, BAD_CAST "alias"))
        name = attr (n, "name");
      if (g_strcmp0 (name, alias) == 0 || alias_in_use (n, alias))
        return TRUE;
    }
  return FALSE;
}

/* The first free user alias ua-dvsN (a user alias is what lets
 * <qemu:override> name the device). */
static gchar *
new_alias (xmlDocPtr doc)
{
  for (guint i = 0;; i++)
    {
      g_autofree gchar *alias = g_strdup_printf ("ua-dvs%u", i);

      if (!alias_in_use (xmlDocGetRootElement (doc), alias))
        return g_steal_pointer (&alias);
    }
}

/* vhost-user needs guest memory QEMU can hand to the switch: a shared
 * memfd (or file) backing.  Adds what is missing; refuses what conflicts. */
static gboolean
ensure_shared_memory (CtlVm *vm, GError **error)
{
  xmlNodePtr backing = child_or_new (xmlDocGetRootElement (vm->doc),
                                     "memoryBacking");
  xmlNodePtr source = child (backing, "source", NULL);
  xmlNodePtr access = child (backing, "access", NULL);
  g_autofree gchar *type = attr (source, "type");
  g_autofree gchar *mode = attr (access, "mode");

  if (source == NULL)
    add_element (backing, NULL, "source", "type", "memfd", NULL);
  else if (g_strcmp0 (type, "memfd") != 0 && g_strcmp0 (type, "file") != 0)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "domain %s has <memoryBacking><source type='%s'>: "
                   "vhost-user needs memory QEMU can share, type 'memfd' "
                   "(or 'file')", vm->name, type != NULL ? type : "");
      return FALSE;
    }
  if (access == NULL)
    add_element (backing, NULL, "access", "mode", "shared", NULL);
  else if (g_strcmp0 (mode, "shared") != 0)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "domain %s has <memoryBacking><access mode='%s'>: "
                   "vhost-user needs mode 'shared'", vm->name,
                   mode != NULL ? mode : "");
      return FALSE;
    }
  return TRUE;
}

/* <qemu:override><qemu:device alias=...><qemu:frontend><qemu:property
 * name='vectors' type='unsigned' value='0'/>: MSI-X off for this NIC. */
static void
add_vectors_override (xmlDocPtr doc, const gchar *alias)
{
  xmlNodePtr root = xmlDocGetRootElement (doc);
  xmlNsPtr ns = xmlSearchNsByHref (doc, root, BAD_CAST DVS_DOMAIN_XML_QEMU_NS);
  xmlNodePtr override;
  xmlNodePtr device;
  xmlNodePtr frontend;

  if (ns == NULL)
    ns = xmlNewNs (root, BAD_CAST DVS_DOMAIN_XML_QEMU_NS, BAD_CAST "qemu");
  override = child (root, "override", DVS_DOMAIN_XML_QEMU_NS);
  if (override == NULL)
    override = xmlNewChild (root, ns, BAD_CAST "override", NULL);
  device = add_element (override, ns, "device", "alias", alias, NULL);
  frontend = add_element (device, ns, "frontend", NULL);
  add_element (frontend, ns, "property", "name", "vectors", "type",
               "unsigned", "value", "0", NULL);
}

/* Removes the <qemu:device> override of @alias, and what it leaves empty. */
static void
remove_override (xmlDocPtr doc, const gchar *alias)
{
  xmlNodePtr override = child (xmlDocGetRootElement (doc), "override",
                               DVS_DOMAIN_XML_QEMU_NS);
  xmlNodePtr next;

  if (override == NULL || alias == NULL)
    return;
  for (xmlNodePtr n = override->children; n != NULL; n = next)
    {
      g_autofree gchar *name = attr (n, "alias");

      next = n->next;
      if (n->type == XML_ELEMENT_NODE
          && xmlStrEqual (n->name, BAD_CAST "device")
          && g_strcmp0 (name, alias) == 0)
        remove_node (n);
    }
  if (!has_elements (override))
    remove_node (override);
}

/* The <dvs:ports> element, made if missing. */
static xmlNodePtr
ports_element (xmlDocPtr doc, xmlNsPtr *ns)
{
  xmlNodePtr ports = dvs_domain_xml_ports_element (doc);
  xmlNodePtr metadata;

  if (ports != NULL)
    {
      *ns = ports->ns;
      return ports;
    }
  metadata = child_or_new (xmlDocGetRootElement (doc), "metadata");
  ports = xmlNewChild (metadata, NULL, BAD_CAST "ports", NULL);
  *ns = xmlNewNs (ports, BAD_CAST DVS_DOMAIN_XML_NS,
                  BAD_CAST DVS_DOMAIN_XML_PREFIX);
  xmlSetNs (ports, *ns);
  return ports;
}

/* Removes the metadata entry of @mac, and what it leaves empty. */
static void
remove_metadata_entry (xmlDocPtr doc, const gchar *mac)
{
  xmlNodePtr ports = dvs_domain_xml_ports_element (doc);
  xmlNodePtr metadata;
  xmlNodePtr next;

  if (ports == NULL)
    return;
  for (xmlNodePtr n = ports->children; n != NULL; n = next)
    {
      g_autofree gchar *text = attr (n, "mac");
      g_autofree gchar *other = dvs_domain_xml_normalize_mac (text);

      next = n->next;
      if (n->type == XML_ELEMENT_NODE && g_strcmp0 (other, mac) == 0)
        remove_node (n);
    }
  if (has_elements (ports))
    return;
  metadata = ports->parent;
  remove_node (ports);
  if (!has_elements (metadata))
    remove_node (metadata);
}

/* -- the manager ---------------------------------------------------------- */

/* The manager's host for the domain: --host, else the host whose libvirt
 * URI is --libvirt-uri, else the one named like the libvirt host (in full
 * or up to its first dot). */
static CtlObject *
resolve_host (Ctl *ctl, const CtlOptions *opts, virConnectPtr conn,
              GError **error)
{
  g_autofree gchar *hostname = NULL;
  g_autofree gchar *short_name = NULL;
  char *raw;
  GPtrArray *hosts;

  if (opts->host != NULL)
    return ctl_resolve (ctl, CTL_KIND_HOST, opts->host, error);
  hosts = ctl_objects (ctl, CTL_KIND_HOST, error);
  if (hosts == NULL)
    return NULL;
  if (opts->libvirt_uri != NULL)
    for (guint i = 0; i < hosts->len; i++)
      if (g_str_equal (ctl_prop_string (hosts->pdata[i], "LibvirtUri"),
                       opts->libvirt_uri))
        return hosts->pdata[i];
  raw = virConnectGetHostname (conn);
  if (raw == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "cannot ask libvirt for its host name (%s): give --host",
                   libvirt_message ());
      return NULL;
    }
  hostname = g_strdup (raw);
  free (raw);
  short_name = g_strndup (hostname, strcspn (hostname, "."));
  for (guint i = 0; i < hosts->len; i++)
    if (g_str_equal (ctl_prop_string (hosts->pdata[i], "Name"), hostname))
      return hosts->pdata[i];
  for (guint i = 0; i < hosts->len; i++)
    if (g_str_equal (ctl_prop_string (hosts->pdata[i], "Name"), short_name))
      return hosts->pdata[i];
  g_set_error (error, CTL_ERROR, CTL_ERROR_NOT_FOUND,
               "no host of the manager is libvirt's host \"%s\" (none has "
               "that name%s): give --host", hostname,
               opts->libvirt_uri != NULL ? " or that libvirt URI" : "");
  return NULL;
}

static gboolean
is_busy (const GError *error)
{
  g_autofree gchar *remote = g_dbus_error_get_remote_error (error);

  return g_strcmp0 (remote, "net.dvsqemu.Error.Busy") == 0;
}

/* Connects --port, or a port of --portgroup allocated now; returns the
 * connection ID and the port. */
static gchar *
connect_port (Ctl *ctl, const CtlOptions *opts, const gchar *host,
              const gchar *vm_uuid, const gchar *mac, const gchar *alias,
              CtlObject **port_out, GError **error)
{
  CtlObject *pg = NULL;

  if (opts->portgroup != NULL
      && (pg = ctl_resolve (ctl, CTL_KIND_PORT_GROUP, opts->portgroup,
                            error)) == NULL)
    return NULL;
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) local_error = NULL;
      const gchar *key = opts->port;
      const gchar *connection;
      CtlObject *port;

      if (pg != NULL)
        {
          g_autoptr(GVariant) allocated = ctl_call (
              ctl, pg->path, CTL_IFACE_PORT_GROUP, "AllocatePort", NULL,
              G_VARIANT_TYPE ("(os)"), FALSE, error);

          if (allocated == NULL)
            return NULL;
          g_variant_get (allocated, "(o&s)", NULL, &key);
          port = ctl_resolve (ctl, CTL_KIND_PORT, key, error);
        }
      else
        port = ctl_resolve (ctl, CTL_KIND_PORT, key, error);
      if (port == NULL)
        return NULL;
      reply = ctl_call (ctl, port->path, CTL_IFACE_PORT, "Connect",
                        g_variant_new ("(ssss)", host, vm_uuid, mac, alias),
                        G_VARIANT_TYPE ("(s)"), TRUE, &local_error);
      if (reply != NULL)
        {
          g_variant_get (reply, "(&s)", &connection);
          *port_out = port;
          return g_strdup (connection);
        }
      if (pg == NULL || !is_busy (local_error) || attempt == ALLOCATE_ATTEMPTS)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
}

/* -- the commands --------------------------------------------------------- */

gboolean
ctl_cmd_vm_attach (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  g_auto(CtlVm) vm = { 0 };
  g_autoptr(GPtrArray) existing = NULL;
  g_autofree gchar *mac = NULL;
  g_autofree gchar *alias = NULL;
  g_autofree gchar *socket = NULL;
  g_autofree gchar *connection = NULL;
  g_autoptr(GError) define_error = NULL;
  const gchar *switch_uuid;
  CtlObject *host;
  CtlObject *port = NULL;
  CtlObject *sw;
  xmlNodePtr iface;
  xmlNodePtr ports;
  xmlNsPtr ns = NULL;

  if ((opts->port == NULL) == (opts->portgroup == NULL))
    return ctl_usage_error (error, "give either --port or --portgroup.");
  if (opts->mac != NULL
      && (mac = dvs_domain_xml_normalize_mac (opts->mac)) == NULL)
    return ctl_usage_error (error, "--mac needs a unicast MAC address "
                            "(52:54:00:12:34:56), not \"%s\".", opts->mac);
  if (opts->socket != NULL && !g_path_is_absolute (opts->socket))
    return ctl_usage_error (error, "--socket needs an absolute path.");
  if (opts->control_socket != NULL
      && !g_path_is_absolute (opts->control_socket))
    return ctl_usage_error (error, "--control-socket needs an absolute path.");
  if (mac == NULL)
    mac = g_strdup_printf ("52:54:00:%02x:%02x:%02x",
                           g_random_int_range (0, 256),
                           g_random_int_range (0, 256),
                           g_random_int_range (0, 256));

  if (!vm_open (&vm, opts, args[0], error))
    return FALSE;
  existing = dvs_domain_xml_vnics (vm.doc, error);
  if (existing == NULL)
    {
      g_prefix_error (error, "domain %s: ", vm.name);
      return FALSE;
    }
  if (find_interface (vm.doc, mac) != NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "domain %s already has an interface with MAC %s%s",
                   vm.name, mac, opts->mac == NULL ? " (try again)" : "");
      return FALSE;
    }
  alias = new_alias (vm.doc);
  socket = opts->socket != NULL
               ? g_strdup (opts->socket)
               : g_strdup_printf ("%s/%s-%s.sock", DEFAULT_SOCKET_DIR,
                                  vm.name, alias);
  if (!ensure_shared_memory (&vm, error))
    return FALSE;

  host = resolve_host (ctl, opts, vm.conn, error);
  if (host == NULL)
    return FALSE;
  connection = connect_port (ctl, opts, ctl_prop_string (host, "Name"),
                             vm.uuid, mac, alias, &port, error);
  if (connection == NULL)
    return FALSE;
  sw = ctl_object_at (ctl, ctl_prop_string (port, "Switch"));
  switch_uuid = sw != NULL ? ctl_prop_string (sw, "Uuid") : "";

  iface = add_element (child_or_new (xmlDocGetRootElement (vm.doc),
                                     "devices"),
                       NULL, "interface", "type", "vhostuser", NULL);
  add_element (iface, NULL, "mac", "address", mac, NULL);
  add_element (iface, NULL, "source", "type", "unix", "path", socket,
               "mode", "server", NULL);
  add_element (iface, NULL, "model", "type", "virtio", NULL);
  add_element (iface, NULL, "alias", "name", alias, NULL);
  if (opts->tcg_workaround)
    add_vectors_override (vm.doc, alias);
  ports = ports_element (vm.doc, &ns);
  add_element (ports, ns, "port", "mac", mac, "switch", switch_uuid,
               "port", ctl_prop_string (port, "Key"),
               "connection", connection,
               "portgroup", opts->portgroup,
               "control-socket", opts->control_socket, NULL);

  if (!vm_define (&vm, &define_error))
    {
      g_autoptr(GError) undo_error = NULL;

      if (!ctl_call_void (ctl, port->path, CTL_IFACE_PORT, "Disconnect", NULL,
                          &undo_error))
        g_prefix_error (&define_error, "DVport %s stays connected (run "
                        "'dvsctl port disconnect %s': %s): ",
                        ctl_prop_string (port, "Key"),
                        ctl_prop_string (port, "Key"), undo_error->message);
      g_propagate_error (error, g_steal_pointer (&define_error));
      return FALSE;
    }

  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
#define MEMBER(name, value) \
      (json_builder_set_member_name (b, name), \
       json_builder_add_string_value (b, value))
      MEMBER ("domain", vm.name);
      MEMBER ("uuid", vm.uuid);
      MEMBER ("host", ctl_prop_string (host, "Name"));
      MEMBER ("switch", switch_uuid);
      MEMBER ("port", ctl_prop_string (port, "Key"));
      MEMBER ("connection_id", connection);
      MEMBER ("mac", mac);
      MEMBER ("alias", alias);
      MEMBER ("socket", socket);
#undef MEMBER
      json_builder_set_member_name (b, "running");
      json_builder_add_boolean_value (b, vm.active);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      dvs_json_print (root);
    }
  else
    {
      printf ("%s\n", connection);
      fprintf (stderr, "vNIC %s of domain %s is on DVport %s (host %s, "
               "socket %s)%s\n", mac, vm.name, ctl_prop_string (port, "Key"),
               ctl_prop_string (host, "Name"), socket,
               vm.active ? "; the running domain gets it at its next start"
                         : "");
    }
  return TRUE;
}

gboolean
ctl_cmd_vm_detach (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  g_auto(CtlVm) vm = { 0 };
  g_autoptr(GPtrArray) vnics = NULL;
  g_autoptr(GPtrArray) chosen = g_ptr_array_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GString) failures = g_string_new (NULL);
  g_autofree gchar *mac = NULL;

  if (opts->mac != NULL
      && (mac = dvs_domain_xml_normalize_mac (opts->mac)) == NULL)
    return ctl_usage_error (error, "--mac needs a unicast MAC address, not "
                            "\"%s\".", opts->mac);
  if (!vm_open (&vm, opts, args[0], error))
    return FALSE;
  vnics = dvs_domain_xml_vnics (vm.doc, error);
  if (vnics == NULL)
    {
      g_prefix_error (error, "domain %s: ", vm.name);
      return FALSE;
    }
  for (guint i = 0; i < vnics->len; i++)
    {
      DvsDomainVnic *vnic = vnics->pdata[i];

      if (mac == NULL || g_str_equal (vnic->mac, mac))
        g_ptr_array_add (chosen, vnic);
    }
  if (chosen->len == 0)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_NOT_FOUND,
                   "domain %s has no vNIC on a DVport%s%s", vm.name,
                   mac != NULL ? " with MAC " : "", mac != NULL ? mac : "");
      return FALSE;
    }
  for (guint i = 0; i < chosen->len; i++)
    {
      DvsDomainVnic *vnic = chosen->pdata[i];
      xmlNodePtr iface = find_interface (vm.doc, vnic->mac);

      if (iface != NULL)
        remove_node (iface);
      remove_override (vm.doc, vnic->alias);
      remove_metadata_entry (vm.doc, vnic->mac);
    }
  if (!vm_define (&vm, error))
    return FALSE;

  /* The definition no longer has them: now free their ports. */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "domain");
  json_builder_add_string_value (b, vm.name);
  json_builder_set_member_name (b, "detached");
  json_builder_begin_array (b);
  for (guint i = 0; i < chosen->len; i++)
    {
      DvsDomainVnic *vnic = chosen->pdata[i];
      g_autoptr(GError) local_error = NULL;
      CtlObject *port = ctl_resolve (ctl, CTL_KIND_PORT, vnic->port,
                                     &local_error);
      gboolean disconnected = FALSE;
      const gchar *note = "";

      if (port == NULL
          && g_error_matches (local_error, CTL_ERROR, CTL_ERROR_NOT_FOUND))
        {
          g_clear_error (&local_error);
          note = " (the manager no longer has it)";
        }
      else if (port != NULL
               && g_str_equal (ctl_prop_string (port, "ConnectionId"),
                               vnic->connection))
        disconnected = ctl_call_void (ctl, port->path, CTL_IFACE_PORT,
                                      "Disconnect", NULL, &local_error);
      else if (port != NULL)
        note = " (the port has another connection now: left alone)";
      if (local_error != NULL)
        g_string_append_printf (failures, "%sDVport %s: %s (run 'dvsctl "
                                "port disconnect %s')",
                                failures->len > 0 ? "; " : "", vnic->port,
                                local_error->message, vnic->port);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "mac");
      json_builder_add_string_value (b, vnic->mac);
      json_builder_set_member_name (b, "port");
      json_builder_add_string_value (b, vnic->port);
      json_builder_set_member_name (b, "switch");
      json_builder_add_string_value (b, vnic->switch_id);
      json_builder_set_member_name (b, "disconnected");
      json_builder_add_boolean_value (b, disconnected);
      json_builder_end_object (b);
      if (!ctl->json)
        printf ("vNIC %s removed from domain %s; DVport %s %s%s\n", vnic->mac,
                vm.name, vnic->port,
                disconnected ? "disconnected" : "not disconnected", note);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (ctl->json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);

      dvs_json_print (root);
    }
  if (failures->len > 0)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_DOMAIN,
                   "the vNICs are removed from domain %s, but %s", vm.name,
                   failures->str);
      return FALSE;
    }
  return TRUE;
}
