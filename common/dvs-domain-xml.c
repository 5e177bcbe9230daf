/* The DVS part of a libvirt domain's XML (docs/libvirt.md). */
#include "dvs-domain-xml.h"

#include <libxml/parser.h>
#include <string.h>

G_DEFINE_QUARK (dvs-domain-xml-error-quark, dvs_domain_xml_error)

/* A domain's XML is a few kilobytes; anything near this is not one. */
#define MAX_DOMAIN_XML_SIZE (16 * 1024 * 1024)
#define MAX_PATH_LEN 4095

void
dvs_domain_vnic_free (DvsDomainVnic *vnic)
{
  if (vnic == NULL)
    return;
  g_free (vnic->mac);
  g_free (vnic->switch_id);
  g_free (vnic->port);
  g_free (vnic->connection);
  g_free (vnic->portgroup);
  g_free (vnic->control_socket);
  g_free (vnic->socket);
  g_free (vnic->alias);
  g_free (vnic);
}

gboolean
dvs_domain_xml_valid_id (const gchar *id, gsize max_len)
{
  gsize len = id != NULL ? strlen (id) : 0;

  if (len == 0 || len > max_len)
    return FALSE;
  for (const gchar *c = id; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && strchr ("_.:-", *c) == NULL)
      return FALSE;
  return TRUE;
}

gchar *
dvs_domain_xml_normalize_mac (const gchar *mac)
{
  guint first;

  if (mac == NULL || strlen (mac) != 17)
    return NULL;
  for (guint i = 0; i < 17; i++)
    if ((i % 3 == 2) ? mac[i] != ':' : !g_ascii_isxdigit (mac[i]))
      return NULL;
  first = (guint) g_ascii_xdigit_value (mac[1]);
  if (first & 1)
    return NULL;  /* multicast (or broadcast) */
  return g_ascii_strdown (mac, -1);
}

xmlDocPtr
dvs_domain_xml_parse (const gchar *xml, gsize length, GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr root;

  if (length > MAX_DOMAIN_XML_SIZE)
    {
      g_set_error (error, DVS_DOMAIN_XML_ERROR, DVS_DOMAIN_XML_ERROR_PARSE,
                   "the domain XML is larger than %d bytes",
                   MAX_DOMAIN_XML_SIZE);
      return NULL;
    }
  /* No network, no entity expansion, errors reported here, not printed. */
  doc = xmlReadMemory (xml, (int) length, "domain.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR
                           | XML_PARSE_NOWARNING);
  if (doc == NULL)
    {
      const xmlError *e = xmlGetLastError ();
      g_autofree gchar *why = g_strdup (e != NULL && e->message != NULL
                                            ? e->message : "not XML");

      g_set_error (error, DVS_DOMAIN_XML_ERROR, DVS_DOMAIN_XML_ERROR_PARSE,
                   "the domain XML does not parse (line %d): %s",
                   e != NULL ? e->line : 0, g_strstrip (why));
      return NULL;
    }
  root = xmlDocGetRootElement (doc);
  if (root == NULL || root->ns != NULL
      || !xmlStrEqual (root->name, BAD_CAST "domain"))
    {
      xmlFreeDoc (doc);
      g_set_error_literal (error, DVS_DOMAIN_XML_ERROR,
                           DVS_DOMAIN_XML_ERROR_PARSE,
                           "the XML is not a libvirt <domain>");
      return NULL;
    }
  return doc;
}

/* The first element child of @parent named @name in namespace @ns (NULL:
 * no namespace). */
static xmlNodePtr
child_element (xmlNodePtr parent, const gchar *name, const gchar *ns)
{
  for (xmlNodePtr n = parent != NULL ? parent->children : NULL; n != NULL;
       n = n->next)
    {
      if (n->type != XML_ELEMENT_NODE
          || !xmlStrEqual (n->name, BAD_CAST name))
        continue;
      if (ns == NULL ? n->ns == NULL
                     : n->ns != NULL && xmlStrEqual (n->ns->href, BAD_CAST ns))
        return n;
    }
  return NULL;
}

/* An attribute (no namespace) as a GLib string, or NULL. */
static gchar *
attr (xmlNodePtr node, const gchar *name)
{
  xmlChar *v = node != NULL ? xmlGetNoNsProp (node, BAD_CAST name) : NULL;
  gchar *copy = v != NULL ? g_strdup ((const gchar *) v) : NULL;

  xmlFree (v);
  return copy;
}

xmlNodePtr
dvs_domain_xml_ports_element (xmlDocPtr doc)
{
  xmlNodePtr metadata = child_element (xmlDocGetRootElement (doc),
                                       "metadata", NULL);

  return child_element (metadata, "ports", DVS_DOMAIN_XML_NS);
}

static gboolean
invalid (GError **error, guint index, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError **error, guint index, const gchar *format, ...)
{
  g_autofree gchar *what = NULL;
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DVS_DOMAIN_XML_ERROR, DVS_DOMAIN_XML_ERROR_INVALID,
               "<dvs:port> entry %u of the domain's metadata: %s", index,
               what);
  return FALSE;
}

/* A required id attribute of entry @index, checked. */
static gboolean
id_attr (xmlNodePtr node, guint index, const gchar *name, gsize max_len,
         gchar **out, GError **error)
{
  g_autofree gchar *value = attr (node, name);

  if (value == NULL)
    return invalid (error, index, "%s= is missing", name);
  if (!dvs_domain_xml_valid_id (value, max_len))
    return invalid (error, index,
                    "%s=\"%s\" is not 1-%zu of A-Z a-z 0-9 _ . : -", name,
                    value, max_len);
  *out = g_steal_pointer (&value);
  return TRUE;
}

/* Fills the interface part of @vnic from the <interface> with its MAC. */
static gboolean
match_interface (xmlDocPtr doc, DvsDomainVnic *vnic, guint index,
                 GError **error)
{
  xmlNodePtr devices = child_element (xmlDocGetRootElement (doc), "devices",
                                      NULL);

  for (xmlNodePtr n = devices != NULL ? devices->children : NULL; n != NULL;
       n = n->next)
    {
      g_autofree gchar *mac_text = NULL;
      g_autofree gchar *mac = NULL;
      g_autofree gchar *type = NULL;
      g_autofree gchar *mode = NULL;
      g_autofree gchar *path = NULL;
      xmlNodePtr source;

      if (n->type != XML_ELEMENT_NODE || n->ns != NULL
          || !xmlStrEqual (n->name, BAD_CAST "interface"))
        continue;
      mac_text = attr (child_element (n, "mac", NULL), "address");
      mac = dvs_domain_xml_normalize_mac (mac_text);
      if (mac == NULL || !g_str_equal (mac, vnic->mac))
        continue;
      type = attr (n, "type");
      if (g_strcmp0 (type, "vhostuser") != 0)
        return invalid (error, index, "the interface with MAC %s is of type "
                        "'%s', not 'vhostuser'", vnic->mac,
                        type != NULL ? type : "");
      source = child_element (n, "source", NULL);
      path = attr (source, "path");
      mode = attr (source, "mode");
      if (path == NULL || !g_path_is_absolute (path)
          || strlen (path) > MAX_PATH_LEN)
        return invalid (error, index, "the interface with MAC %s has no "
                        "<source type='unix' path='/absolute/path'/>",
                        vnic->mac);
      if (g_strcmp0 (mode, "server") != 0)
        return invalid (error, index, "the interface with MAC %s has "
                        "<source mode='%s'>: QEMU must be the vhost-user "
                        "server (mode='server'), the switch connects to it",
                        vnic->mac, mode != NULL ? mode : "");
      vnic->socket = g_steal_pointer (&path);
      vnic->alias = attr (child_element (n, "alias", NULL), "name");
      vnic->has_interface = TRUE;
      return TRUE;
    }
  return TRUE;
}

GPtrArray *
dvs_domain_xml_vnics (xmlDocPtr doc, GError **error)
{
  g_autoptr(GPtrArray) vnics = g_ptr_array_new_with_free_func (
      (GDestroyNotify) dvs_domain_vnic_free);
  xmlNodePtr ports = dvs_domain_xml_ports_element (doc);
  guint index = 0;

  for (xmlNodePtr n = ports != NULL ? ports->children : NULL; n != NULL;
       n = n->next)
    {
      g_autoptr(DvsDomainVnic) vnic = NULL;
      g_autofree gchar *mac = NULL;

      if (n->type != XML_ELEMENT_NODE)
        continue;
      index++;
      if (n->ns == NULL || !xmlStrEqual (n->ns->href, BAD_CAST DVS_DOMAIN_XML_NS)
          || !xmlStrEqual (n->name, BAD_CAST "port"))
        {
          invalid (error, index, "unknown element <%s> (only <dvs:port>)",
                   (const gchar *) n->name);
          return NULL;
        }
      vnic = g_new0 (DvsDomainVnic, 1);
      mac = attr (n, "mac");
      vnic->mac = dvs_domain_xml_normalize_mac (mac);
      if (vnic->mac == NULL)
        {
          invalid (error, index, "mac=\"%s\" is not a unicast MAC address",
                   mac != NULL ? mac : "");
          return NULL;
        }
      for (guint i = 0; i < vnics->len; i++)
        if (g_str_equal (((DvsDomainVnic *) vnics->pdata[i])->mac, vnic->mac))
          {
            invalid (error, index, "MAC %s has another entry", vnic->mac);
            return NULL;
          }
      if (!id_attr (n, index, "switch", 64, &vnic->switch_id, error)
          || !id_attr (n, index, "port", 32, &vnic->port, error)
          || !id_attr (n, index, "connection", 64, &vnic->connection, error))
        return NULL;
      vnic->portgroup = attr (n, "portgroup");
      vnic->control_socket = attr (n, "control-socket");
      if (vnic->control_socket != NULL
          && (!g_path_is_absolute (vnic->control_socket)
              || strlen (vnic->control_socket) > MAX_PATH_LEN))
        {
          invalid (error, index, "control-socket=\"%s\" is not an absolute "
                   "path", vnic->control_socket);
          return NULL;
        }
      if (!match_interface (doc, vnic, index, error))
        return NULL;
      g_ptr_array_add (vnics, g_steal_pointer (&vnic));
    }
  return g_steal_pointer (&vnics);
}
