/* The libvirt hook as libvirtd runs it (a child process, arguments, the
 * domain XML on standard input), without a switch: what it does when its
 * input is empty or the switch is not there.  The hook's path comes from
 * $DVS_LIBVIRT_HOOK (meson sets it). */
#include <glib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

static gchar *tmpdir;

/* Every operation libvirt runs the hook with: those that start a guest fail
 * closed, those that end one fail open, the rest need nothing. */
static const struct {
  const gchar *operation;
  gboolean fail_closed;
} operations[] = {
  { "prepare", TRUE }, { "start", TRUE }, { "restore", TRUE }, { "migrate", TRUE },
  { "started", FALSE }, { "reconnect", FALSE }, { "stopped", FALSE }, { "release", FALSE },
  { "attach", FALSE }, { "unknown-operation", FALSE },
};

/* Runs `dvs vm1 OPERATION begin -` with @input on standard input; returns
 * the wait status, and what it wrote in @out and @err. */
static gint
run_hook (const gchar *operation, const gchar *input, gchar **out, gchar **err)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *conf = g_build_filename (tmpdir, "hook.conf", NULL);
  g_autofree gchar *in_path = g_build_filename (tmpdir, "stdin.xml", NULL);
  g_autofree gchar *socket = g_build_filename (tmpdir, "no-switch.sock", NULL);
  g_autofree gchar *conf_text = g_strdup_printf ("[hook]\ncontrol-socket=%s\ntimeout-ms=200\n", socket);
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  const gchar *hook = g_getenv ("DVS_LIBVIRT_HOOK");

  g_assert_nonnull (hook);
  g_assert_true (g_file_set_contents (conf, conf_text, -1, NULL));
  g_assert_true (g_file_set_contents (in_path, input, -1, NULL));
  g_subprocess_launcher_setenv (launcher, "DVS_LIBVIRT_HOOK_CONF", conf, TRUE);
  g_subprocess_launcher_setenv (launcher, "DVS_CONTROL_SOCKET", "/nonexistent", TRUE);
  g_subprocess_launcher_set_stdin_file_path (launcher, in_path);
  proc = g_subprocess_launcher_spawn (launcher, &error, hook, "vm1", operation, "begin", "-", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, out, err, &error);
  g_assert_no_error (error);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  return g_subprocess_get_status (proc);
}

/* Empty standard input: no DVS vNIC, nothing to do, for every operation
 * (it used to read a NULL error and die of SIGSEGV). */
static void
test_empty_input (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (operations); i++)
    {
      g_autofree gchar *out = NULL, *err = NULL;
      gint status = run_hook (operations[i].operation, "", &out, &err);

      g_test_message ("%s: status %d, stderr %s", operations[i].operation, status, err);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
      g_assert_cmpstr (out, ==, "");
    }
}

/* A domain with a DVS vNIC and no switch listening: the operations that
 * start a guest refuse it with a message, the others warn and go on. */
static void
test_no_switch (void)
{
  g_autofree gchar *vhost = g_build_filename (tmpdir, "vhost", "vm1.sock", NULL);
  g_autofree gchar *xml = g_strdup_printf (
    "<domain type='qemu'><name>vm1</name><metadata>"
    "<dvs:ports xmlns:dvs='https://dvsqemu.net/xmlns/libvirt/1'>"
    "<dvs:port mac='52:54:00:12:34:56' switch='sw1' port='sw1-1' connection='c1'/>"
    "</dvs:ports></metadata><devices><interface type='vhostuser'>"
    "<mac address='52:54:00:12:34:56'/><source type='unix' path='%s' mode='server'/>"
    "<model type='virtio'/></interface></devices></domain>", vhost);

  for (gsize i = 0; i < G_N_ELEMENTS (operations); i++)
    {
      g_autofree gchar *out = NULL, *err = NULL;
      gint status = run_hook (operations[i].operation, xml, &out, &err);
      gboolean acts = !g_str_equal (operations[i].operation, "started")
                      && !g_str_equal (operations[i].operation, "attach")
                      && !g_str_equal (operations[i].operation, "unknown-operation");

      g_test_message ("%s: status %d, stderr %s", operations[i].operation, status, err);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, operations[i].fail_closed ? 1 : 0);
      g_assert_cmpstr (out, ==, "");
      if (acts)
        g_assert_nonnull (strstr (err, "dvs hook: domain vm1"));
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("dvs-hook-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/libvirt-hook/empty-input", test_empty_input);
  g_test_add_func ("/libvirt-hook/no-switch", test_no_switch);
  rc = g_test_run ();
  {
    g_autofree gchar *vhost_dir = g_build_filename (tmpdir, "vhost", NULL);
    const gchar *names[] = { "hook.conf", "stdin.xml", NULL };
    for (guint i = 0; names[i]; i++)
      {
        g_autofree gchar *p = g_build_filename (tmpdir, names[i], NULL);
        g_unlink (p);
      }
    g_rmdir (vhost_dir);
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  return rc;
}
