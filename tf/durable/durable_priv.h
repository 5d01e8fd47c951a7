/* durable_priv.h: what the store's files share: the store struct, its lock and the
 * statement cache. Every statement runs with the store lock held, so one SQLite
 * connection serves every thread; other processes are kept apart by SQLite's own locks. */
#ifndef TF_DURABLE_PRIV_H
#define TF_DURABLE_PRIV_H

#include <sqlite3.h>
#include "tf/durable.h"
#include "tf/error.h"
#include "util/sync.h"

/* "tfDB": marks a SQLite file as a tf store (PRAGMA application_id). */
#define TF_STORE_APP_ID 0x74664442
/* Schema version (PRAGMA user_version): the number of migrations in schema.c. An older
 * store is migrated when opened to write; a newer one is refused, never rewritten. */
#define TF_STORE_SCHEMA 2

struct tf_store {
    gint refs;
    tf_mutex lock;
    sqlite3 *db;
    char *path;
    GHashTable *stmts; /* sql (static string) -> sqlite3_stmt* */
    gboolean readonly; /* tf_store_open_readonly */
    GHashTable *losses; /* run (gint64*) -> first journal loss (char*) seen by this process */
    tf_retention retention;
    guint appends; /* since the last automatic prune */
};

/* The cached prepared statement for sql (a string literal); reset and unbound. Lock held.
 * NULL + error on failure. */
sqlite3_stmt *tf_store_stmt(tf_store *s, const char *sql, GError **error);
/* Runs sql (no results). Lock held. */
gboolean tf_store_exec(tf_store *s, const char *sql, GError **error);
/* Sets error from the connection's last error: "store PATH: what: sqlite message". */
void tf_store_set_error(tf_store *s, GError **error, const char *what);
/* Runs one step of a prepared statement that returns no row; FALSE + error otherwise. */
gboolean tf_store_step_done(tf_store *s, sqlite3_stmt *st, const char *what, GError **error);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Lock held. */
gboolean tf_store_begin(tf_store *s, GError **error);
gboolean tf_store_commit(tf_store *s, GError **error);
void tf_store_rollback(tf_store *s);
/* Applies the migrations from schema `from` to TF_STORE_SCHEMA and stamps the file as a
 * tf store of that schema. Lock held, inside the caller's write transaction. */
gboolean tf_store_migrate_locked(tf_store *s, gint64 from, GError **error);
/* Lets a read-only connection to a store of schema `version` be queried as the current
 * schema (temp views; nothing is written to the file). */
gboolean tf_store_read_as_current(tf_store *s, gint64 version, GError **error);
/* Prunes per the retention; lock held and inside no transaction. */
gint64 tf_store_prune_locked(tf_store *s, GError **error);
/* Canonical compact JSON text (sorted keys) of v (new string); "null" for NULL. */
char *tf_json_canonical(json_t *v);
/* Hex SHA-256 of len bytes (new string). */
char *tf_sha256_hex(const void *data, gsize len);

#endif
