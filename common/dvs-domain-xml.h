/* The DVS part of a libvirt domain's XML (docs/libvirt.md): which vNICs are
 * connected to DVports, read from the domain's <metadata> in the project's
 * namespace and matched with the domain's vhost-user <interface>s by MAC.
 *
 * The libvirt hook (libvirt-hooks/) reads it to attach and detach vNICs on
 * the local dvs-switchd; dvsctl's `vm` commands read it to undo an attach.
 * Everything an entry says is validated here, once, so that its users can
 * trust what they get. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/* The namespace of the metadata element and the prefix dvsctl writes. */
#define DVS_DOMAIN_XML_NS "https://dvsqemu.net/xmlns/libvirt/1"
#define DVS_DOMAIN_XML_PREFIX "dvs"
/* libvirt's namespace for QEMU-specific elements (<qemu:override>). */
#define DVS_DOMAIN_XML_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

#define DVS_DOMAIN_XML_ERROR (dvs_domain_xml_error_quark ())
GQuark dvs_domain_xml_error_quark (void);

typedef enum {
  DVS_DOMAIN_XML_ERROR_PARSE,    /* not XML, or not a <domain> */
  DVS_DOMAIN_XML_ERROR_INVALID,  /* a <dvs:port> entry is malformed */
} DvsDomainXmlError;

/* One vNIC connected to a DVport: a <dvs:port> entry and what the matching
 * <interface> says. */
typedef struct {
  gchar *mac;             /* lower case, aa:bb:cc:dd:ee:ff */
  gchar *switch_id;       /* the DVswitch's UUID (a host-side switch id) */
  gchar *port;            /* the DVport key */
  gchar *connection;      /* the connection ID the manager issued */
  gchar *portgroup;       /* where the port was allocated from; may be NULL */
  gchar *control_socket;  /* the switch's control socket; NULL: the default */
  /* From the <interface type='vhostuser'> with this MAC; NULL when the
   * domain has none (the entry is then of no use: see has_interface). */
  gchar *socket;          /* <source path=...>, QEMU's server socket */
  gchar *alias;           /* <alias name=...>; may be NULL */
  gboolean has_interface;
} DvsDomainVnic;

void dvs_domain_vnic_free (DvsDomainVnic *vnic);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsDomainVnic, dvs_domain_vnic_free)

/* Parses @xml (a domain's XML, as libvirt hands it to a hook).  Never
 * loads external entities or talks to the network. */
xmlDocPtr dvs_domain_xml_parse (const gchar *xml, gsize length,
                                GError **error);

/* The vNICs @doc connects to DVports, in document order (a GPtrArray of
 * DvsDomainVnic; empty when the domain has no DVS metadata).  Fails with
 * DVS_DOMAIN_XML_ERROR_INVALID, naming the entry, when an entry is
 * malformed: a missing or invalid attribute, two entries for one MAC, an
 * interface of that MAC that is not vhostuser or whose socket QEMU does not
 * serve (mode='server'). */
GPtrArray *dvs_domain_xml_vnics (xmlDocPtr doc, GError **error);

/* The <dvs:ports> element of @doc's metadata, or NULL. */
xmlNodePtr dvs_domain_xml_ports_element (xmlDocPtr doc);

/* Validators shared with dvsctl. */
/* A host-side key or id: 1 to @max_len of A-Z a-z 0-9 _ . : -  (port
 * keys: 32; switch UUIDs and connection IDs: 64). */
gboolean dvs_domain_xml_valid_id (const gchar *id, gsize max_len);
/* A unicast MAC as six hex pairs separated by ':'; returns it lower-cased,
 * or NULL. */
gchar *dvs_domain_xml_normalize_mac (const gchar *mac);

G_END_DECLS
