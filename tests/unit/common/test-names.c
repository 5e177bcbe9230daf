/* The name rules both daemons apply (dvs-names.h), and the tables that
 * show what a daemon answered on an operator's terminal (dvs-table.h). */
#include <glib.h>
#include <string.h>

#include "dvs-names.h"
#include "dvs-table.h"

static void
test_display (void)
{
  static const gchar *const good[] = {
    "web", "Web tier 1", "caf\xc3\xa9", "\xe2\x82\xac-net", "a/b:c", NULL,
  };
  static const gchar *const bad[] = {
    "", "a\x1f" "b", "a\x1b[31m", "tab\there", "nl\n", "del\x7f", "csi\xc2\x9b" "2J",
    "nel\xc2\x85", "bad utf8 \xff", NULL,
  };
  g_autofree gchar *long_name = g_strnfill (65, 'x');
  g_autofree gchar *max_name = g_strnfill (64, 'x');

  for (guint i = 0; good[i]; i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (dvs_name_check_display (good[i], "the name", 64, &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; bad[i]; i++)
    {
      g_autoptr (GError) error = NULL;
      g_test_message ("bad name %u", i);
      g_assert_false (dvs_name_check_display (bad[i], "the switch name", 64, &error));
      g_assert_error (error, DVS_NAME_ERROR, DVS_NAME_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, "the switch name must"));
      /* The message never quotes the name. */
      g_assert_true (dvs_name_check_display (error->message, "message", 200, NULL));
    }
  g_assert_true (dvs_name_check_display (max_name, "n", 64, NULL));
  g_assert_false (dvs_name_check_display (long_name, "n", 64, NULL));
  g_assert_false (dvs_name_check_display (NULL, "n", 64, NULL));
}

static void
test_token (void)
{
  g_autofree gchar *long_id = g_strnfill (129, 'a');

  g_assert_true (dvs_name_check_token ("0b6f1c3e-8f2e-4e1a-9c55-6d1f3f0f9a21", "id", 128, NULL));
  g_assert_true (dvs_name_check_token ("c1", "id", 128, NULL));
  g_assert_false (dvs_name_check_token ("", "id", 128, NULL));
  g_assert_false (dvs_name_check_token ("c 1", "id", 128, NULL));
  g_assert_false (dvs_name_check_token ("c\x1f", "id", 128, NULL));
  g_assert_false (dvs_name_check_token ("c\x7f", "id", 128, NULL));
  g_assert_false (dvs_name_check_token ("caf\xc3\xa9", "id", 128, NULL));
  g_assert_false (dvs_name_check_token (long_id, "id", 128, NULL));
}

/* A cell with ESC or CSI prints as escapes, not as a terminal command. */
static void
test_table_escapes (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr (DvsTable) t = dvs_table_new (0, (const gchar *const[]) { "NAME", "VALUE", NULL }, 0);
      dvs_table_add_row (t, (const gchar *const[]) { "a\x1b[2Jb", "c\xc2\x9b" "d\x1f\x7f", NULL });
      dvs_table_print (t);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*a\\x1b[2Jb*c\\u009bd\\x1f\\x7f*");
  g_test_trap_assert_stdout_unmatched ("*\x1b*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/names/display", test_display);
  g_test_add_func ("/names/token", test_token);
  g_test_add_func ("/names/table-escapes", test_table_escapes);
  return g_test_run ();
}
