/* The backend-independent part of the manager's store: choosing a backend
 * from the URI, the wrappers over the vtable, and transactions. */
#define G_LOG_DOMAIN "dvsmgr-store"

#include "mgr-store.h"

#include <string.h>

G_DEFINE_QUARK (dvs-mgr-store-error-quark, dvs_mgr_store_error)

/* The backends this build has, by URI scheme. */
static const DvsMgrStoreBackend *const backends[] = {
  &dvs_mgr_store_sqlite,
};

/* One operation of a transaction; @value is NULL for a delete. */
typedef struct {
  gchar *kind;
  gchar *key;
  JsonNode *value;
} TxnOp;

struct _DvsMgrTxn {
  GArray *ops;   /* of TxnOp, in the order they were added */
};

/* Splits "SCHEME:REST" when @uri starts with an RFC 3986 scheme
 * (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":").  Anything else — an
 * absolute or relative path, even one with a colon further on — is a path
 * and yields FALSE. */
static gboolean
split_scheme (const gchar *uri, gchar **scheme, const gchar **rest)
{
  const gchar *p = uri;

  if (!g_ascii_isalpha (*p))
    return FALSE;
  while (g_ascii_isalnum (*p) || *p == '+' || *p == '-' || *p == '.')
    p++;
  if (*p != ':')
    return FALSE;
  *scheme = g_ascii_strdown (uri, p - uri);
  *rest = p + 1;
  return TRUE;
}

DvsMgrStore *
dvs_mgr_store_open (const gchar *uri, GError **error)
{
  g_autofree gchar *scheme = NULL;
  const DvsMgrStoreBackend *backend = NULL;
  const gchar *location = uri;

  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (split_scheme (uri, &scheme, &location))
    {
      for (gsize i = 0; i < G_N_ELEMENTS (backends); i++)
        if (g_str_equal (backends[i]->name, scheme))
          backend = backends[i];
      if (backend == NULL)
        {
          g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                       "Unknown store scheme \"%s\" in \"%s\": this dvsmgr "
                       "supports sqlite:PATH (or a plain PATH).",
                       scheme, uri);
          return NULL;
        }
    }
  else
    backend = &dvs_mgr_store_sqlite;

  if (*location == '\0')
    {
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                   "Store URI \"%s\" names no location: give sqlite:PATH "
                   "or a plain PATH.", uri);
      return NULL;
    }

  return backend->open (location, error);
}

void
dvs_mgr_store_close (DvsMgrStore *store)
{
  if (store == NULL)
    return;
  store->backend->close (store);
}

gboolean
dvs_mgr_store_load (DvsMgrStore *store, const gchar *kind,
                    DvsMgrStoreRowFunc func, gpointer user_data,
                    GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (kind != NULL && *kind != '\0', FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return store->backend->load (store, kind, func, user_data, error);
}

gboolean
dvs_mgr_store_commit (DvsMgrStore *store, DvsMgrTxn *txn, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (txn != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (txn->ops->len == 0)
    return TRUE;
  return store->backend->commit (store, txn, error);
}

static void
txn_op_clear (gpointer data)
{
  TxnOp *op = data;

  g_free (op->kind);
  g_free (op->key);
  g_clear_pointer (&op->value, json_node_unref);
}

DvsMgrTxn *
dvs_mgr_txn_new (void)
{
  DvsMgrTxn *txn = g_new0 (DvsMgrTxn, 1);

  txn->ops = g_array_new (FALSE, TRUE, sizeof (TxnOp));
  g_array_set_clear_func (txn->ops, txn_op_clear);
  return txn;
}

void
dvs_mgr_txn_free (DvsMgrTxn *txn)
{
  if (txn == NULL)
    return;
  g_array_unref (txn->ops);
  g_free (txn);
}

static void
txn_append (DvsMgrTxn *txn, const gchar *kind, const gchar *key,
            JsonNode *value)
{
  TxnOp op = {
    .kind = g_strdup (kind),
    .key = g_strdup (key),
    .value = value != NULL ? json_node_ref (value) : NULL,
  };

  g_array_append_val (txn->ops, op);
}

void
dvs_mgr_txn_put (DvsMgrTxn *txn, const gchar *kind, const gchar *key,
                 JsonNode *value)
{
  g_return_if_fail (txn != NULL);
  g_return_if_fail (kind != NULL && *kind != '\0');
  g_return_if_fail (key != NULL && *key != '\0');
  g_return_if_fail (value != NULL);

  txn_append (txn, kind, key, value);
}

void
dvs_mgr_txn_delete (DvsMgrTxn *txn, const gchar *kind, const gchar *key)
{
  g_return_if_fail (txn != NULL);
  g_return_if_fail (kind != NULL && *kind != '\0');
  g_return_if_fail (key != NULL && *key != '\0');

  txn_append (txn, kind, key, NULL);
}

guint
dvs_mgr_txn_length (DvsMgrTxn *txn)
{
  g_return_val_if_fail (txn != NULL, 0);

  return txn->ops->len;
}

void
dvs_mgr_txn_foreach (DvsMgrTxn *txn, DvsMgrTxnOpFunc func, gpointer user_data)
{
  g_return_if_fail (txn != NULL);
  g_return_if_fail (func != NULL);

  for (guint i = 0; i < txn->ops->len; i++)
    {
      const TxnOp *op = &g_array_index (txn->ops, TxnOp, i);

      func (op->kind, op->key, op->value, user_data);
    }
}
