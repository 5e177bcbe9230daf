#define G_LOG_DOMAIN "dvs-eal"
#include "dvs-eal.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

GStrv
dvs_eal_build_args (const DvsEalOptions *opts)
{
  g_autoptr (GPtrArray) b = g_ptr_array_new_with_free_func (g_free);
  cpu_set_t set;
  int first_cpu = 0;

  g_ptr_array_add (b, g_strdup ("dvs-switchd"));
  if (opts->override != NULL)
    {
      for (const gchar *const *a = opts->override; *a; a++)
        g_ptr_array_add (b, g_strdup (*a));
      g_ptr_array_add (b, NULL);
      return (GStrv) g_ptr_array_free (g_steal_pointer (&b), FALSE);
    }
  /* The main lcore: the first CPU we may run on.  EAL pins the calling
   * thread there; dvs_eal_init() undoes that. */
  if (sched_getaffinity (0, sizeof set, &set) == 0)
    for (int i = 0; i < CPU_SETSIZE; i++)
      if (CPU_ISSET (i, &set))
        {
          first_cpu = i;
          break;
        }
  g_ptr_array_add (b, g_strdup_printf ("-l%d", first_cpu));
  if (!opts->hugepages)
    g_ptr_array_add (b, g_strdup ("--no-huge"));
  else
    g_ptr_array_add (b, g_strdup ("--huge-unlink"));
  g_ptr_array_add (b, g_strdup_printf ("-m%u", opts->memory_mb ? opts->memory_mb : 256));
  g_ptr_array_add (b, g_strdup ("--no-pci"));
  g_ptr_array_add (b, g_strdup ("--no-shconf"));
  g_ptr_array_add (b, g_strdup ("--no-telemetry"));
  /* Several switches (simulated hosts) run on one machine: the prefix must
   * be unique per process, as /run/dpdk is shared. */
  g_ptr_array_add (b, g_strdup_printf ("--file-prefix=dvs-%s-%d",
                                           opts->name, (int) getpid ()));
  g_ptr_array_add (b, g_strdup ("--log-level=lib.eal:warning"));
  g_ptr_array_add (b, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&b), FALSE);
}

/* DPDK log → GLib.  fopencookie() stream: each write is one record (DPDK
 * writes one formatted message per call, ending in a newline). */
static ssize_t
eal_log_write (void *cookie, const char *buf, size_t size)
{
  g_autofree gchar *line = g_strndup (buf, size);
  GLogLevelFlags level;
  uint32_t dpdk_level = rte_log_cur_msg_loglevel ();

  g_strchomp (line);
  if (*line == '\0')
    return (ssize_t) size;
  /* G_LOG_LEVEL_ERROR aborts: DPDK errors are warnings for us.  A client
   * port whose peer (QEMU) is not there yet is normal: rte_vhost retries. */
  if (strstr (line, "failed to connect") != NULL)
    level = G_LOG_LEVEL_INFO;
  else if (dpdk_level <= RTE_LOG_WARNING)
    level = G_LOG_LEVEL_WARNING;
  else if (dpdk_level <= RTE_LOG_NOTICE)
    level = G_LOG_LEVEL_INFO;   /* DPDK's INFO is chatty (every vhost message) */
  else
    level = G_LOG_LEVEL_DEBUG;
  g_log_structured ("dpdk", level, "MESSAGE", "%s", line);
  return (ssize_t) size;
}

static FILE *eal_log_stream;

/* A dvs-switchd that was killed leaves its (empty) runtime directory
 * /run/dpdk/dvs-NAME-PID behind: remove those of dead processes. */
static void
remove_stale_runtime_dirs (const gchar *name)
{
  g_autoptr (GDir) dir = g_dir_open ("/run/dpdk", 0, NULL);
  g_autofree gchar *prefix = g_strdup_printf ("dvs-%s-", name);
  const gchar *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      guint64 pid;
      g_autofree gchar *path = NULL;

      if (!g_str_has_prefix (entry, prefix)
          || !g_ascii_string_to_unsigned (entry + strlen (prefix), 10, 1, G_MAXINT, &pid, NULL)
          || kill ((pid_t) pid, 0) == 0 || errno != ESRCH)
        continue;
      path = g_build_filename ("/run/dpdk", entry, NULL);
      if (g_rmdir (path) == 0)
        g_info ("removed %s, left by a dvs-switchd that did not stop cleanly", path);
    }
}

gboolean
dvs_eal_init (const DvsEalOptions *opts, GError **error)
{
  g_auto (GStrv) argv = dvs_eal_build_args (opts);
  g_autofree gchar *joined = g_strjoinv (" ", argv);
  cookie_io_functions_t io = { .write = eal_log_write };
  cpu_set_t saved;
  gboolean have_saved;
  int argc = (int) g_strv_length (argv);
  /* rte_eal_init may permute argv: give it a copy of the pointers. */
  g_autofree char **args = g_memdup2 (argv, sizeof (char *) * (argc + 1));

  if (eal_log_stream == NULL)
    {
      eal_log_stream = fopencookie (NULL, "w", io);
      if (eal_log_stream != NULL)
        {
          setvbuf (eal_log_stream, NULL, _IONBF, 0);
          rte_openlog_stream (eal_log_stream);
        }
    }
  if (opts->override == NULL)
    remove_stale_runtime_dirs (opts->name);
  have_saved = sched_getaffinity (0, sizeof saved, &saved) == 0;
  g_info ("starting DPDK EAL: %s", joined);
  if (rte_eal_init (argc, args) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "DPDK EAL initialisation failed (%s) with arguments '%s'; "
                   "check --memory and --eal-args, and that hugepages are "
                   "reserved if --hugepages is set",
                   rte_strerror (rte_errno), joined);
      return FALSE;
    }
  if (have_saved)
    sched_setaffinity (0, sizeof saved, &saved);
  return TRUE;
}

void
dvs_eal_cleanup (void)
{
  /* EAL leaves its (empty, with --no-shconf) runtime directory behind; one
   * per process would pile up under /run/dpdk. */
  g_autofree gchar *runtime_dir = g_strdup (rte_eal_get_runtime_dir ());

  rte_eal_cleanup ();
  if (runtime_dir != NULL && *runtime_dir != '\0' && g_rmdir (runtime_dir) < 0
      && errno != ENOENT && errno != ENOTEMPTY)
    g_info ("cannot remove DPDK runtime directory %s: %s", runtime_dir,
            g_strerror (errno));
}
