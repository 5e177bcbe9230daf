/* Helpers shared by dvsmgr's unit tests: temporary directories, and tests
 * that run in a child of their own because they change what belongs to the
 * process (its file-size limit, to stand in for a full disk). */
#pragma once

#include <sys/resource.h>
#include <glib.h>

G_BEGIN_DECLS

/* A new directory in the temporary one, named after @tmpl
 * ("name-XXXXXX"); the caller frees the path. */
gchar *dvs_test_make_tmp_dir (const gchar *tmpl);
/* Removes @path and everything below it, asserting that each goes. */
void dvs_test_remove_tree (const gchar *path);

/* TRUE in the child that runs the current test; in the parent, FALSE once
 * the child has run, the test having failed (and the next ones going on)
 * when the child did. */
gboolean dvs_test_in_child (void);

/* Lets the process write files of @size bytes at most, a write past it
 * failing with EFBIG (SIGXFSZ is ignored) as on a full disk.  @saved
 * receives the limit before, for dvs_test_restore_file_size().  Only in a
 * child (dvs_test_in_child()). */
void dvs_test_limit_file_size (rlim_t size, struct rlimit *saved);
void dvs_test_restore_file_size (const struct rlimit *saved);

G_END_DECLS
