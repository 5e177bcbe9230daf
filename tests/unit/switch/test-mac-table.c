/* The MAC learning table: learn, refresh, move, lookup, aging, eviction,
 * flush, dump. */
#include <glib.h>
#include "classes/mac-table.h"

static const guint8 mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const guint8 mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

static void
test_learn_lookup (void)
{
  struct mac_table t;

  g_assert_cmpint (mac_table_init (&t, 64, 300), ==, 0);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_a, 0), 10), ==, -1);
  mac_table_learn (&t, mac_table_key (mac_a, 0), 3, 10);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_a, 0), 10), ==, 3);
  /* The same MAC on another VLAN is another entry. */
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_a, 10), 10), ==, -1);
  /* A move: the MAC shows up behind another port. */
  mac_table_learn (&t, mac_table_key (mac_a, 0), 5, 11);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_a, 0), 11), ==, 5);
  g_assert_cmpuint (mac_table_count (&t, 11), ==, 1);
  mac_table_fini (&t);
}

static void
test_aging (void)
{
  struct mac_table t;

  g_assert_cmpint (mac_table_init (&t, 64, 300), ==, 0);
  mac_table_learn (&t, mac_table_key (mac_a, 0), 1, 100);
  mac_table_learn (&t, mac_table_key (mac_b, 0), 2, 350);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_a, 0), 400), ==, 1);
  /* 301 s after it was last seen, A is dead for lookups at once... */
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_a, 0), 401), ==, -1);
  g_assert_cmpuint (mac_table_count (&t, 401), ==, 1);
  /* ...and removed by the periodic expiry; B stays. */
  g_assert_cmpuint (mac_table_expire (&t, 401), ==, 1);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_b, 0), 401), ==, 2);
  /* Traffic refreshes an entry. */
  mac_table_learn (&t, mac_table_key (mac_b, 0), 2, 640);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_b, 0), 900), ==, 2);
  mac_table_fini (&t);
}

static void
test_full_bucket_evicts_stalest (void)
{
  struct mac_table t;
  guint8 mac[6] = { 0x02, 0, 0, 0, 0, 0 };

  /* One bucket of four entries: the fifth address replaces the stalest. */
  g_assert_cmpint (mac_table_init (&t, 4, 300), ==, 0);
  g_assert_cmpuint (t.n_buckets, ==, 1);
  for (int i = 0; i < 4; i++)
    {
      mac[5] = (guint8) i;
      mac_table_learn (&t, mac_table_key (mac, 0), (guint16) i, (guint32) (10 + i));
    }
  mac[5] = 9;
  mac_table_learn (&t, mac_table_key (mac, 0), 9, 20);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac, 0), 20), ==, 9);
  mac[5] = 0;   /* learned at 10: the stalest */
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac, 0), 20), ==, -1);
  mac[5] = 1;
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac, 0), 20), ==, 1);
  mac_table_fini (&t);
}

static void
test_flush_and_dump (void)
{
  struct mac_table t;
  struct dvs_mac_entry out[8];

  g_assert_cmpint (mac_table_init (&t, 64, 300), ==, 0);
  mac_table_learn (&t, mac_table_key (mac_a, 7), 1, 5);
  mac_table_learn (&t, mac_table_key (mac_b, 0), 2, 8);
  g_assert_cmpuint (mac_table_dump (&t, 10, out, 8), ==, 2);
  for (int i = 0; i < 2; i++)
    {
      const guint8 *want = out[i].port == 1 ? mac_a : mac_b;
      g_assert_cmpmem (out[i].mac, 6, want, 6);
      g_assert_cmpuint (out[i].vlan, ==, out[i].port == 1 ? 7 : 0);
      g_assert_cmpuint (out[i].age, ==, out[i].port == 1 ? 5 : 2);
    }
  g_assert_cmpuint (mac_table_dump (&t, 10, out, 1), ==, 1);   /* capacity respected */
  g_assert_cmpuint (mac_table_flush (&t, 1), ==, 1);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_a, 7), 10), ==, -1);
  g_assert_cmpint (mac_table_lookup (&t, mac_table_key (mac_b, 0), 10), ==, 2);
  g_assert_cmpuint (mac_table_flush (&t, -1), ==, 1);
  g_assert_cmpuint (mac_table_count (&t, 10), ==, 0);
  mac_table_fini (&t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mac-table/learn-lookup", test_learn_lookup);
  g_test_add_func ("/mac-table/aging", test_aging);
  g_test_add_func ("/mac-table/full-bucket", test_full_bucket_evicts_stalest);
  g_test_add_func ("/mac-table/flush-dump", test_flush_and_dump);
  return g_test_run ();
}
