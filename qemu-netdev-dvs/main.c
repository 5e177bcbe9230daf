/* dvs-switchd: the per-host switch.  Start-up order: configuration, logging,
 * DPDK EAL, the switch (datapath thread), ports from the configuration, the
 * local store and its DVports, the control socket, the host agent (with
 * --manager); then the GLib main loop until SIGTERM/SIGINT, and the same in
 * reverse. */
#define G_LOG_DOMAIN "dvs-switchd"

#include <glib-unix.h>
#include <stdlib.h>

#include "agent/host-agent.h"
#include "config/switchd-config.h"
#include "control/control-methods.h"
#include "control/switchd-metrics.h"
#include "dvs-log.h"
#include "dvs-rpc-server.h"
#include "eal/dvs-eal.h"
#include "switch/dvs-switch.h"
#include "dvport/dvport-host.h"
#include "store/local-store.h"

static gboolean
on_signal (gpointer loop)
{
  g_message ("signal received: shutting down");
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsSwitchdConfig) cfg = NULL;
  g_autoptr (DvsSwitch) sw = NULL;
  g_autoptr (DvsRpcServer) server = NULL;
  g_autoptr (DvsLocalStore) store = NULL;
  g_autoptr (DvsRuntimeArea) area = NULL;
  g_autoptr (DvsDvportHost) dvports = NULL;
  g_autoptr (DvsHostAgent) agent = NULL;
  g_autoptr (DvsMetricsServer) metrics = NULL;
  DvsControl control;
  g_autoptr (GMainLoop) loop = NULL;
  DvsEalOptions eal;
  DvsSwitchOptions swopts;

  cfg = dvs_switchd_config_from_args (argc, argv, &error);
  if (cfg == NULL)
    {
      g_printerr ("dvs-switchd: %s\n", error->message);
      return 2;
    }
  dvs_log_init ("dvs-switchd", cfg->log_format, cfg->verbose);
  g_message ("dvs-switchd %s starting as '%s'%s%s", DVS_VERSION, cfg->name,
             cfg->config_file ? " with " : "",
             cfg->config_file ? cfg->config_file : "");

  eal = (DvsEalOptions) {
    .name = cfg->name,
    .hugepages = cfg->hugepages,
    .memory_mb = cfg->memory_mb,
    .override = (const gchar *const *) cfg->eal_args,
  };
  if (!dvs_eal_init (&eal, &error))
    {
      g_critical ("%s", error->message);
      return 1;
    }

  swopts = (DvsSwitchOptions) {
    .name = cfg->name,
    .cpu = cfg->cpu,
    .busy_poll = cfg->busy_poll,
    .poll_ms = cfg->poll_ms,
    .mac_aging = cfg->mac_aging,
    .mbufs = cfg->mbufs,
  };
  sw = dvs_switch_new (&swopts, &error);
  if (sw == NULL)
    {
      g_critical ("%s", error->message);
      dvs_eal_cleanup ();
      return 1;
    }
  /* Uplinks attach when their DVswitch is held (dvs_switch_domain_bind). */
  if (!dvs_switch_set_uplinks (sw, (const gchar *const *) cfg->uplink_specs, &error))
    {
      g_critical ("%s", error->message);
      g_clear_pointer (&sw, dvs_switch_free);
      dvs_eal_cleanup ();
      return 1;
    }
  for (guint i = 0; i < cfg->ports->len; i++)
    {
      DvsPortSpec *p = cfg->ports->pdata[i];
      g_autoptr (GError) local = NULL;
      /* A port that cannot be added is reported; the others still run. */
      if (!dvs_switch_port_add (sw, p->name, p->socket, p->server, &p->vlan, &local))
        g_warning ("port %s from the configuration not added: %s", p->name,
                   local->message);
    }

  /* The local store: DVswitch data and checkpoints survive restarts. */
  if (g_strcmp0 (cfg->state_dir, "none") != 0 && *cfg->state_dir != '\0')
    {
      store = dvs_local_store_open (cfg->state_dir, &error);
      if (store == NULL)
        {
          g_critical ("cannot open the local store: %s", error->message);
          g_clear_pointer (&sw, dvs_switch_free);
          dvs_eal_cleanup ();
          return 1;
        }
      /* Counters and filter states between checkpoints: crash-proof. */
      g_autofree gchar *area_path = g_build_filename (cfg->state_dir, "runtime.area", NULL);
      area = dvs_runtime_area_open (area_path, &error);
      if (area == NULL)
        {
          g_warning ("%s; a crash will lose counters since the last checkpoint", error->message);
          g_clear_error (&error);
        }
    }
  dvports = dvs_dvport_host_new (sw, store, area);
  dvs_dvport_host_restore (dvports);

  control = (DvsControl) { .sw = sw, .dvports = dvports };
  server = dvs_rpc_server_new (cfg->control_socket, dvs_control_methods, &control, &error);
  if (server == NULL)
    {
      g_critical ("cannot open the control socket: %s", error->message);
      g_clear_pointer (&sw, dvs_switch_free);
      dvs_eal_cleanup ();
      return 1;
    }
  if (cfg->metrics_listen != NULL)
    {
      metrics = dvs_metrics_server_new (cfg->metrics_listen, dvs_switchd_metrics_collect,
                                        sw, &error);
      if (metrics == NULL)
        {
          g_critical ("cannot serve metrics: %s", error->message);
          g_clear_pointer (&server, dvs_rpc_server_free);
          g_clear_pointer (&dvports, dvs_dvport_host_free);
          g_clear_pointer (&sw, dvs_switch_free);
          dvs_eal_cleanup ();
          return 1;
        }
      g_message ("metrics on http://%s/metrics (port %u)", cfg->metrics_listen,
                 dvs_metrics_server_port (metrics));
    }
  /* Without a manager the switch is standalone: nothing else changes. */
  if (cfg->manager != NULL)
    {
      DvsHostAgentOptions aopts = {
        .address = cfg->manager,
        .host_name = cfg->host_name,
        .uplinks = (const gchar *const *) cfg->uplinks,
        .transport_zones = (const gchar *const *) cfg->transport_zones,
        .tls_cert = cfg->tls_cert,
        .tls_key = cfg->tls_key,
        .tls_ca = cfg->tls_ca,
      };
      agent = dvs_host_agent_new (&aopts, &control, &error);
      if (agent == NULL)
        {
          g_critical ("cannot start the host agent: %s", error->message);
          g_clear_pointer (&server, dvs_rpc_server_free);
          g_clear_pointer (&dvports, dvs_dvport_host_free);
          g_clear_pointer (&sw, dvs_switch_free);
          dvs_eal_cleanup ();
          return 1;
        }
    }
  g_message ("ready: control socket %s, %u port(s)%s%s", cfg->control_socket,
             dvs_switch_n_ports (sw), cfg->manager ? ", manager " : "",
             cfg->manager ? cfg->manager : "");

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);

  g_clear_pointer (&agent, dvs_host_agent_free);
  g_clear_pointer (&metrics, dvs_metrics_server_free);
  g_clear_pointer (&server, dvs_rpc_server_free);
  /* DVports attached now are attached again at the next start: checkpoint
   * their state, but keep their attachment in the store. */
  g_clear_pointer (&dvports, dvs_dvport_host_free);
  g_clear_pointer (&sw, dvs_switch_free);
  g_clear_pointer (&area, dvs_runtime_area_free);
  g_clear_pointer (&store, dvs_local_store_free);
  dvs_eal_cleanup ();
  g_message ("stopped");
  return 0;
}
