/* Helpers shared by dvsmgr's unit tests (test-util.h). */
#include "test-util.h"

#include <signal.h>
#include <glib/gstdio.h>

gchar *
dvs_test_make_tmp_dir (const gchar *tmpl)
{
  g_autoptr (GError) error = NULL;
  gchar *path = g_dir_make_tmp (tmpl, &error);

  g_assert_no_error (error);
  return path;
}

void
dvs_test_remove_tree (const gchar *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree gchar *child = g_build_filename (path, name, NULL);

        dvs_test_remove_tree (child);
      }
  g_assert_cmpint (g_remove (path), ==, 0);
}

gboolean
dvs_test_in_child (void)
{
  if (g_test_subprocess ())
    return TRUE;
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  /* Fails this test and goes on with the next ones. */
  if (!g_test_trap_has_passed ())
    g_test_fail_printf ("the child running %s failed; its stderr is above",
                        g_test_get_path ());
  return FALSE;
}

void
dvs_test_limit_file_size (rlim_t size, struct rlimit *saved)
{
  struct rlimit rl;

  g_assert_true (g_test_subprocess ());
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, saved), ==, 0);
  rl = *saved;
  rl.rlim_cur = size;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
  signal (SIGXFSZ, SIG_IGN);
}

void
dvs_test_restore_file_size (const struct rlimit *saved)
{
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, saved), ==, 0);
}
