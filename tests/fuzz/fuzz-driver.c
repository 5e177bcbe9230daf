/* The fuzz targets' mutational driver (fuzz-driver.h). */
#include "fuzz-driver.h"

#include <string.h>

static const gchar *const interesting[] = {
  "\"\"", "null", "true", "0", "-1", "1", "4094", "4095", "9000", "9001", "65536",
  "9223372036854775807", "-9223372036854775808", "1e308", "[]", "{}", "[[[[[[[[]]]]]]]]",
  "\"00000000-0000-4000-8000-000000000000\"", "\"../../etc/passwd\"", "\"\\u0000\"",
  "\"52:54:00:12:34:56\"", "\"ff:ff:ff:ff:ff:ff\"", "\"h1\"", "\"l2-learning\"",
  "{\"vlan\":5000}", "{\"policy\":{\"shaping\":{\"ingress\":{\"average_kbps\":-1}}}}",
  "{\"mode\":\"trunk\",\"trunks\":[1,2,3],\"native\":0}",
  /* Control characters, a NUL, C1 CSI, terminal escapes: names and ids
   * must refuse them, replies must escape them. */
  "\"\\u001f\"", "\"a\\u0000\"", "\"\\u009b2J\"", "\"\\u001b[31m\"", "\"\x1f\"",
  "\"\xc2\x9b\"", "\"\\ud800\"",
};

static void
insert_bytes (GByteArray *buf, guint pos, const guint8 *data, guint n)
{
  guint old = buf->len;

  g_byte_array_set_size (buf, old + n);
  memmove (buf->data + pos + n, buf->data + pos, old - pos);
  memcpy (buf->data + pos, data, n);
}

/* One mutation of @buf. */
static void
mutate (GRand *rng, GByteArray *buf, GPtrArray *seeds)
{
  guint len = buf->len;
  guint pos = len ? g_rand_int_range (rng, 0, (gint) len) : 0;

  switch (g_rand_int_range (rng, 0, 7))
    {
    case 0:   /* flip a bit */
      if (len)
        buf->data[pos] ^= (guint8) (1u << g_rand_int_range (rng, 0, 8));
      break;
    case 1:   /* insert random bytes */
      {
        guint8 b[8];
        guint n = (guint) g_rand_int_range (rng, 1, 9);
        for (guint i = 0; i < n; i++)
          b[i] = (guint8) g_rand_int_range (rng, 0, 256);
        insert_bytes (buf, pos, b, n);
      }
      break;
    case 2:   /* delete a run */
      if (len)
        {
          guint n = (guint) g_rand_int_range (rng, 1, 64);   /* not inside MIN: evaluated twice */
          g_byte_array_remove_range (buf, pos, MIN (n, len - pos));
        }
      break;
    case 3:   /* splice in part of another seed */
      {
        const gchar *other = seeds->pdata[g_rand_int_range (rng, 0, (gint) seeds->len)];
        gsize olen = strlen (other);
        if (olen)
          {
            gsize from = (gsize) g_rand_int_range (rng, 0, (gint) olen);
            gsize want = (gsize) g_rand_int_range (rng, 1, 200);
            gsize n = MIN (want, olen - from);
            insert_bytes (buf, pos, (const guint8 *) other + from, (guint) n);
          }
      }
      break;
    default:  /* replace a JSON token (a string or a number) by a boundary value */
      {
        guint start = pos, end;
        const gchar *v = interesting[g_rand_int_range (rng, 0, G_N_ELEMENTS (interesting))];
        while (start < len && buf->data[start] != '"' && !g_ascii_isdigit (buf->data[start])
               && buf->data[start] != '-')
          start++;
        if (start >= len)
          break;
        end = start + 1;
        if (buf->data[start] == '"')
          {
            while (end < len && buf->data[end] != '"')
              end += buf->data[end] == '\\' ? 2 : 1;
            end = MIN (end + 1, len);
          }
        else
          while (end < len && (g_ascii_isdigit (buf->data[end]) || buf->data[end] == '.'
                               || buf->data[end] == 'e' || buf->data[end] == '-'))
            end++;
        g_byte_array_remove_range (buf, start, end - start);
        insert_bytes (buf, start, (const guint8 *) v, (guint) strlen (v));
      }
      break;
    }
}

int
dvs_fuzz_main (const DvsFuzzTarget *target, int argc, char **argv)
{
  gdouble seconds = 10;
  gint64 seed = 1;
  g_auto (GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "seconds", 't', 0, G_OPTION_ARG_DOUBLE, &seconds, "How long to run (default 10)", "S" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 1)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE..." },
    { NULL },
  };
  g_autofree gchar *summary = g_strdup_printf ("[FILE...] - %s", target->name);
  g_autoptr (GOptionContext) ctx = g_option_context_new (summary);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) seeds = NULL;
  g_autoptr (GRand) rng = NULL;
  g_autofree gchar *reached = NULL;
  gint64 deadline;
  guint64 runs = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  /* The code under test logs every refusal: keep the run quiet. */
  g_setenv ("G_MESSAGES_DEBUG", "", TRUE);
  seeds = target->make_seeds ();
  for (guint i = 0; files && files[i]; i++)
    {
      gchar *text = NULL;
      if (g_file_get_contents (files[i], &text, NULL, NULL))
        g_ptr_array_add (seeds, text);
    }
  rng = g_rand_new_with_seed ((guint32) seed);
  deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  /* Every seed once as it is, then mutants until the time is up. */
  for (guint i = 0; i < seeds->len; i++, runs++)
    target->run_one (seeds->pdata[i], strlen (seeds->pdata[i]));
  while (g_get_monotonic_time () < deadline)
    {
      const gchar *base = seeds->pdata[g_rand_int_range (rng, 0, (gint) seeds->len)];
      g_autoptr (GByteArray) buf = g_byte_array_new ();
      guint n = (guint) g_rand_int_range (rng, 1, 9);

      g_byte_array_append (buf, (const guint8 *) base, (guint) strlen (base));
      for (guint m = 0; m < n; m++)
        mutate (rng, buf, seeds);
      target->run_one (buf->data, buf->len);
      runs++;
    }
  reached = target->report != NULL ? target->report () : g_strdup ("");
  g_print ("%s: %" G_GUINT64_FORMAT " inputs in %.0f s (seed %" G_GINT64_FORMAT "): %s%sno crash\n",
           target->name, runs, seconds, seed, reached, *reached ? "; " : "");
  if (target->finish != NULL)
    target->finish ();
  return 0;
}
