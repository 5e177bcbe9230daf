/* A DVport arriving on this host by live migration (docs/migration.md).
 *
 * The manager delegates the port here as "incoming" (its document carries
 * "migration": {"from": HOST}) before QEMU starts on this host, so the hook
 * can attach the vNIC's socket.  Until the source's state is here the port
 * forwards nothing: its link up is gated (the vNIC's rings may run, the
 * datapath does not serve them) and frames for it are held.  The source
 * saves the state at its link down (QEMU's switch-over); the manager puts it
 * in this host's document; applying it loads the state into the port and
 * ends the gate, so the port links up with the source's counters, learned
 * MACs and filter states, and the held frames go first.  The VM's MAC is
 * announced (RARP on the uplink) as soon as the state is here.  Once this host
 * reports the link up, the manager makes it the owner and drops the
 * "migration" mark. */
#define G_LOG_DOMAIN "dvs-dvport"
#include "dvport/dvport-private.h"


/* A vNIC running here (its guest resumed) without the source's state is
 * not kept off the network longer than this: it starts with what it has. */
#define GATE_TIMEOUT_US (2 * G_USEC_PER_SEC)

static void
end_gate (DvsDvportHost *h, DvportRuntime *r, const gchar *why)
{
  g_autoptr (GError) error = NULL;

  if (!r->gated)
    return;
  r->gated = FALSE;
  r->gated_ready_since = 0;
  if (!dvs_switch_port_set_gate (h->sw, r->key, FALSE, &error))
    g_warning ("DVport %s: gate not opened: %s", r->key, error->message);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "PORT", r->key, "MESSAGE",
                    "DVport %s: gate open (%s)", r->key, why);
}

void
dvport_incoming_attached (DvsDvportHost *h, DvportRuntime *r, const DvsDvportSpec *p)
{
  g_autoptr (GError) error = NULL;

  if (p->incoming_from == NULL || r->incoming_loaded)
    return;
  if (!dvs_switch_port_set_gate (h->sw, r->key, TRUE, &error)
      || !dvs_switch_port_set_hold (h->sw, r->key, TRUE, &error))
    {
      g_warning ("DVport %s: incoming from %s, but not gated: %s", r->key,
                 p->incoming_from, error->message);
      return;
    }
  r->gated = TRUE;
  r->gated_ready_since = 0;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", r->key, "MESSAGE",
                    "DVport %s: incoming from host %s; it forwards once that host's "
                    "state is here", r->key, p->incoming_from);
}

gboolean
dvport_incoming_apply (DvsDvportHost *h, const gchar *switch_id, const DvsDvportSpec *p,
                       const DvsDvportSpec *op)
{
  DvportRuntime *r = g_hash_table_lookup (h->rt, p->key);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *from = NULL;
  DvsPortState *st;

  if (p->incoming_from == NULL)
    {
      /* The migration is over (this host owns the port) or was never. */
      if (r != NULL && op != NULL && op->incoming_from != NULL)
        {
          r->incoming_loaded = FALSE;
          end_gate (h, r, "the migration is over");
          if (r->attached && !dvs_switch_port_set_hold (h->sw, r->key, FALSE, &error))
            g_warning ("DVport %s: hold not cleared: %s", r->key, error->message);
        }
      return FALSE;
    }
  if (p->state == NULL)
    {
      /* Not yet: the source still runs.  Or no longer: the source ran
       * again after its stop, and the state it sent was withdrawn. */
      if (r != NULL && r->incoming_loaded)
        {
          r->incoming_loaded = FALSE;
          if (r->attached && !r->link_up)
            dvport_incoming_attached (h, r, p);
          g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", p->key, "MESSAGE",
                            "DVport %s: the state from host %s was withdrawn (the VM runs "
                            "there again)", p->key, p->incoming_from);
        }
      return TRUE;
    }
  if (r != NULL && r->incoming_loaded)
    return TRUE;   /* loaded before; what the port has now is newer */
  from = g_strdup_printf ("host %s", p->incoming_from);
  st = dvport_spec_state (switch_id, p, from);
  r = dvport_runtime_get (h, switch_id, p->key);
  if (st != NULL && r->attached && !dvs_switch_port_load_state (h->sw, p->key, st, &error))
    {
      g_warning ("DVport %s: the state from host %s not loaded: %s", p->key,
                 p->incoming_from, error->message);
      dvs_port_state_free (g_steal_pointer (&st));
    }
  if (st != NULL)
    dvport_set_checkpoint (h, r, st);
  r->incoming_loaded = TRUE;
  /* Tell the network the VM is here now, while it is still paused: frames
   * for it come to this host and wait in the hold queue. */
  if (r->attached && p->connectee_mac != NULL
      && !dvs_switch_port_announce (h->sw, p->key, p->connectee_mac, &error))
    {
      g_warning ("DVport %s: %s not announced: %s", p->key, p->connectee_mac, error->message);
      g_clear_error (&error);
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", p->key, "MESSAGE",
                    "DVport %s: state from host %s %s (counters, learned addresses, "
                    "filter states continue)", p->key, p->incoming_from,
                    r->attached ? "loaded into the port" : "kept for its attach");
  end_gate (h, r, "the source's state is here");
  return TRUE;
}

void
dvport_incoming_poll (DvsDvportHost *h, DvportRuntime *r)
{
  g_autoptr (DvsPortInfo) info = NULL;
  gint64 now;

  if (!r->gated || !r->attached)
    return;
  info = dvs_switch_port_info (h->sw, r->key, NULL);
  if (info == NULL || !info->device_ready)
    {
      r->gated_ready_since = 0;
      return;
    }
  now = g_get_monotonic_time ();
  if (r->gated_ready_since == 0)
    r->gated_ready_since = now;
  else if (now - r->gated_ready_since >= GATE_TIMEOUT_US)
    {
      g_warning ("DVport %s: its vNIC runs here but the source's state did not come "
                 "within %d ms; it starts with the state this host has", r->key,
                 (int) (GATE_TIMEOUT_US / 1000));
      end_gate (h, r, "timeout");
    }
}
