/* dvs-switchd configuration: port specs, key files, command line
 * precedence, and the EAL arguments derived from them. */
#include <glib.h>
#include <glib/gstdio.h>

#include "config/switchd-config.h"
#include "eal/dvs-eal.h"

static void
test_port_spec (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsPortSpec) a = dvs_port_spec_parse ("vm1=/run/vm1.sock", &error);
  g_autoptr (DvsPortSpec) b = dvs_port_spec_parse ("vm2=/run/vm2.sock,server,vlan=10", &error);
  g_autoptr (DvsPortSpec) c = dvs_port_spec_parse ("up=/run/up.sock,trunks=10,native=5", NULL);
  g_autoptr (DvsPortSpec) d = dvs_port_spec_parse ("up=/run/up.sock,trunks=10-12,20,server", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (a->name, ==, "vm1");
  g_assert_cmpstr (a->socket, ==, "/run/vm1.sock");
  g_assert_false (a->server);
  g_assert_cmpint (a->vlan.mode, ==, DVS_VLAN_ACCESS);
  g_assert_cmpuint (a->vlan.tag, ==, 0);
  g_assert_true (b->server);
  g_assert_cmpuint (b->vlan.tag, ==, 10);
  /* "trunks=10,native=5": the comma separates options. */
  g_assert_nonnull (c);
  g_assert_cmpint (c->vlan.mode, ==, DVS_VLAN_TRUNK);
  g_assert_cmpuint (c->vlan.native, ==, 5);
  g_assert_true (dvs_vlan_trunk_allows (&d->vlan, 11));
  g_assert_false (dvs_vlan_trunk_allows (&d->vlan, 13));
  g_assert_true (dvs_vlan_trunk_allows (&d->vlan, 20));
  g_assert_true (d->server);

  static const gchar *const bad[] = {
    "noequals", "=/x.sock", "bad name=/x.sock", "vm=relative.sock",
    "vm=/x.sock,vlan=4095", "vm=/x.sock,vlan=ten", "vm=/x.sock,bogus",
    "vm=/x.sock,native=3", "vm=/x.sock,trunks=20-10", "vm=/x.sock,vlan=5,trunks=7",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (DvsPortSpec) s = dvs_port_spec_parse (bad[i], &e);
      g_test_message ("%s", bad[i]);
      g_assert_null (s);
      g_assert_nonnull (e);
      g_assert_nonnull (strstr (e->message, bad[i]));   /* names what it refuses */
    }
}

static gchar *
write_conf (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  gchar *path = NULL;
  int fd = g_file_open_tmp ("dvs-conf-XXXXXX", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_keyfile_and_precedence (void)
{
  g_autofree gchar *path = write_conf (
    "[switch]\nname=host1\nmac-aging=60\n"
    "[datapath]\ncpu=1\npoll-mode=busy\n"
    "[eal]\nmemory=512\n"
    "[port vm1]\nsocket=/run/vm1.sock\nvlan=10\n"
    "[port up]\nsocket=/run/up.sock\nmode=server\ntrunks=10,20\nnative=0\n");
  char *argv[] = { "dvs-switchd", "-c", path, "--name", "host2", "--poll-mode=adaptive",
                   "-p", "vm9=/run/vm9.sock", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsSwitchdConfig) c = dvs_switchd_config_from_args (G_N_ELEMENTS (argv) - 1, argv, &error);
  DvsPortSpec *up;

  g_assert_no_error (error);
  g_assert_cmpstr (c->name, ==, "host2");                 /* command line wins */
  g_assert_cmpstr (c->control_socket, ==, "/run/dvs/host2/control.sock");
  g_assert_cmpuint (c->mac_aging, ==, 60);                /* from the file */
  g_assert_cmpint (c->cpu, ==, 1);
  g_assert_false (c->busy_poll);
  g_assert_cmpuint (c->memory_mb, ==, 512);
  g_assert_false (c->hugepages);
  g_assert_cmpuint (c->ports->len, ==, 3);
  up = c->ports->pdata[1];
  g_assert_cmpstr (up->name, ==, "up");
  g_assert_true (up->server);
  g_assert_cmpint (up->vlan.mode, ==, DVS_VLAN_TRUNK);
  g_assert_true (dvs_vlan_trunk_allows (&up->vlan, 20));
  g_assert_cmpstr (((DvsPortSpec *) c->ports->pdata[2])->name, ==, "vm9");
  g_unlink (path);
}

static void
test_bad_keyfiles (void)
{
  static const struct { const gchar *text; const gchar *mentions; } cases[] = {
    { "[swich]\nname=x\n", "swich" },
    { "[datapath]\ncpu=lots\n", "cpu" },
    { "[datapath]\npoll-mode=turbo\n", "turbo" },
    { "[eal]\nhugepages=maybe\n", "hugepages" },
    { "[eal]\nmemory=8\n", "memory" },
    { "[port vm1]\nvlan=10\n", "absolute" },
    { "[port vm1]\nsocket=/x.sock\ncolour=blue\n", "colour" },
    { "[log]\nformat=xml\n", "xml" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *path = write_conf (cases[i].text);
      char *argv[] = { "dvs-switchd", "-c", path, NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (DvsSwitchdConfig) c = dvs_switchd_config_from_args (3, argv, &error);

      g_test_message ("%s", cases[i].text);
      g_assert_null (c);
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, cases[i].mentions));
      g_unlink (path);
    }
  {
    char *argv[] = { "dvs-switchd", "-c", "/nonexistent/dvs.conf", NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (DvsSwitchdConfig) c = dvs_switchd_config_from_args (3, argv, &error);
    g_assert_null (c);
    g_assert_nonnull (strstr (error->message, "/nonexistent/dvs.conf"));
  }
  {
    char *argv[] = { "dvs-switchd", "--name", "a b", NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (DvsSwitchdConfig) c = dvs_switchd_config_from_args (3, argv, &error);
    g_assert_null (c);
  }
}

/* Uplinks: DVSWITCH=IFACE from the file and the command line, their
 * interfaces reported to the manager; plain names are only reported. */
static void
test_uplinks (void)
{
  g_autofree gchar *path = write_conf (
    "[uplinks]\nprod = eth1\n5f0c2a8e-0000-4000-8000-000000000001 = eth2\n"
    "[datapath]\nuplink-poll-ms=3\n");
  {
    char *argv[] = { "dvs-switchd", "-c", path, NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (DvsSwitchdConfig) c = dvs_switchd_config_from_args (3, argv, &error);
    const gchar *specs[] = { "prod=eth1", "5f0c2a8e-0000-4000-8000-000000000001=eth2", NULL };
    const gchar *names[] = { "eth1", "eth2", NULL };

    g_assert_no_error (error);
    g_assert_true (g_strv_equal ((const gchar *const *) c->uplink_specs, specs));
    g_assert_true (g_strv_equal ((const gchar *const *) c->uplinks, names));
    g_assert_cmpuint (c->poll_ms, ==, 3);
  }
  {
    /* The command line replaces both lists. */
    char *argv[] = { "dvs-switchd", "-c", path, "--uplink", "lab=veth0,bond0",
                     "--uplink", "test=veth1", NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (DvsSwitchdConfig) c = dvs_switchd_config_from_args (G_N_ELEMENTS (argv) - 1,
                                                                   argv, &error);
    const gchar *specs[] = { "lab=veth0", "test=veth1", NULL };
    const gchar *names[] = { "bond0", "veth0", "veth1", NULL };

    g_assert_no_error (error);
    g_assert_true (g_strv_equal ((const gchar *const *) c->uplink_specs, specs));
    g_assert_true (g_strv_equal ((const gchar *const *) c->uplinks, names));
  }
  {
    const gchar *bad[] = { "x=", "=eth0", "x=a/b", "x=averyveryverylongname", "x y=eth0" };
    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        char *argv[] = { "dvs-switchd", "--uplink", (char *) bad[i], NULL };
        g_autoptr (GError) error = NULL;
        g_autoptr (DvsSwitchdConfig) c = dvs_switchd_config_from_args (3, argv, &error);
        g_test_message ("%s", bad[i]);
        g_assert_null (c);
        g_assert_nonnull (error);
      }
  }
  g_unlink (path);
}

static void
test_eal_args (void)
{
  DvsEalOptions o = { .name = "h1", .hugepages = FALSE, .memory_mb = 0 };
  g_auto (GStrv) a = dvs_eal_build_args (&o);
  g_autofree gchar *joined = g_strjoinv (" ", a);
  const gchar *override[] = { "--no-huge", "-m", "64", NULL };
  g_auto (GStrv) b = NULL, c = NULL;
  g_autofree gchar *prefix = g_strdup_printf ("--file-prefix=dvs-h1-%d", (int) getpid ());

  /* The default runs without hugepages, as a unique instance. */
  g_assert_true (g_strv_contains ((const gchar *const *) a, "--no-huge"));
  g_assert_true (g_strv_contains ((const gchar *const *) a, "-m256"));
  g_assert_true (g_strv_contains ((const gchar *const *) a, "--no-pci"));
  g_assert_true (g_strv_contains ((const gchar *const *) a, "--no-shconf"));
  g_assert_true (g_strv_contains ((const gchar *const *) a, prefix));
  g_assert_false (g_strv_contains ((const gchar *const *) a, "--in-memory"));

  o.hugepages = TRUE;
  o.memory_mb = 1024;
  b = dvs_eal_build_args (&o);
  g_assert_false (g_strv_contains ((const gchar *const *) b, "--no-huge"));
  g_assert_true (g_strv_contains ((const gchar *const *) b, "-m1024"));

  o.override = override;
  c = dvs_eal_build_args (&o);
  g_assert_cmpuint (g_strv_length (c), ==, 4);
  g_assert_cmpstr (c[0], ==, "dvs-switchd");
  g_assert_cmpstr (c[3], ==, "64");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/port-spec", test_port_spec);
  g_test_add_func ("/config/keyfile-and-precedence", test_keyfile_and_precedence);
  g_test_add_func ("/config/bad-keyfiles", test_bad_keyfiles);
  g_test_add_func ("/config/eal-args", test_eal_args);
  g_test_add_func ("/config/uplinks", test_uplinks);
  return g_test_run ();
}
