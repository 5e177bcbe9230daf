/* dvsmgr's persistent store: a small key-value interface that SQLite
 * implements today and a manager cluster's etcd will implement later
 * (docs/dvsmgr-store.md).
 *
 * The model is a set of JSON objects, each named by a kind ("switch",
 * "portgroup", "port", "port_state", "host", "network", "meta") and a key
 * unique within its kind.  Every change goes through a DvsMgrTxn: a batch of
 * puts and deletes that commits all or nothing (one SQLite transaction; one
 * etcd txn).  A crash at any moment leaves either the whole batch or none of
 * it.  Reads happen at start-up (dvs_mgr_store_load); the manager keeps its
 * working model in memory and writes through.
 *
 * Threading: one thread (the manager's main loop). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define DVS_MGR_STORE_ERROR (dvs_mgr_store_error_quark ())
GQuark dvs_mgr_store_error_quark (void);

typedef enum {
  DVS_MGR_STORE_ERROR_OPEN,      /* cannot open/create/lock the store */
  DVS_MGR_STORE_ERROR_VERSION,   /* written by a newer dvsmgr: refuse */
  DVS_MGR_STORE_ERROR_CORRUPT,   /* a row is not valid JSON, integrity check failed */
  DVS_MGR_STORE_ERROR_IO,        /* write failed (disk full, read-only, ...) */
} DvsMgrStoreError;

typedef struct _DvsMgrStore DvsMgrStore;
typedef struct _DvsMgrTxn DvsMgrTxn;

/* Called for each object of a kind, in key order.  @value is borrowed. */
typedef void (*DvsMgrStoreRowFunc) (const gchar *kind, const gchar *key,
                                    JsonNode *value, gpointer user_data);

/* The backend vtable.  Contract:
 * - open: creates the store if missing, upgrades an older schema in one
 *   transaction (logged: from, to), refuses a newer one (ERROR_VERSION).
 * - load: calls @func for every object of @kind; a row that does not parse
 *   fails the load with ERROR_CORRUPT naming kind and key.
 * - commit: applies every operation of @txn in order, all or nothing;
 *   durable when it returns TRUE (SQLite: WAL + synchronous=FULL).  On
 *   failure nothing of @txn is applied.  @txn is not consumed.
 * - close: frees the store; NULL-safe at the wrapper level.
 * No member may be NULL. */
typedef struct {
  const gchar *name;   /* "sqlite" */
  DvsMgrStore *(*open) (const gchar *location, GError **error);
  gboolean (*load) (DvsMgrStore *store, const gchar *kind,
                    DvsMgrStoreRowFunc func, gpointer user_data,
                    GError **error);
  gboolean (*commit) (DvsMgrStore *store, DvsMgrTxn *txn, GError **error);
  void (*close) (DvsMgrStore *store);
} DvsMgrStoreBackend;

/* Every store starts with this (backends embed it first). */
struct _DvsMgrStore {
  const DvsMgrStoreBackend *backend;
  gchar *location;
};

extern const DvsMgrStoreBackend dvs_mgr_store_sqlite;

/* The schema version this build writes (SQLite: PRAGMA user_version). */
#define DVS_MGR_STORE_SCHEMA_VERSION 2

/* Opens @uri: "sqlite:PATH" or a plain PATH (SQLite).  Unknown schemes fail
 * with ERROR_OPEN naming the scheme. */
DvsMgrStore *dvs_mgr_store_open (const gchar *uri, GError **error);
void dvs_mgr_store_close (DvsMgrStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsMgrStore, dvs_mgr_store_close)

gboolean dvs_mgr_store_load (DvsMgrStore *store, const gchar *kind,
                             DvsMgrStoreRowFunc func, gpointer user_data,
                             GError **error);
gboolean dvs_mgr_store_commit (DvsMgrStore *store, DvsMgrTxn *txn,
                               GError **error);

DvsMgrTxn *dvs_mgr_txn_new (void);
void dvs_mgr_txn_free (DvsMgrTxn *txn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsMgrTxn, dvs_mgr_txn_free)
/* @value is referenced (not consumed). */
void dvs_mgr_txn_put (DvsMgrTxn *txn, const gchar *kind, const gchar *key,
                      JsonNode *value);
void dvs_mgr_txn_delete (DvsMgrTxn *txn, const gchar *kind, const gchar *key);
guint dvs_mgr_txn_length (DvsMgrTxn *txn);

/* Iteration over a transaction's operations, for backends: @value is NULL
 * for a delete. */
typedef void (*DvsMgrTxnOpFunc) (const gchar *kind, const gchar *key,
                                 JsonNode *value, gpointer user_data);
void dvs_mgr_txn_foreach (DvsMgrTxn *txn, DvsMgrTxnOpFunc func,
                          gpointer user_data);

G_END_DECLS
