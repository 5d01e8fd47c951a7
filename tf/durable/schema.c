/* schema.c: the store's schema as the list of migrations that build it. A new store and
 * an old one brought up to date run the same statements, so both end up with the same
 * schema by construction; PRAGMA user_version counts the migrations applied. */
#include "durable_priv.h"

static const char *const migrations[] = {
    /* 1: runs, the journal, claims, checkpoints and the projection cache. */
    "CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " label TEXT NOT NULL, started INTEGER NOT NULL, ended INTEGER, status TEXT);"
    "CREATE TABLE IF NOT EXISTS streams(name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS journal(stream TEXT NOT NULL, seq INTEGER NOT NULL,"
    " run INTEGER, cycle INTEGER NOT NULL, wall_time INTEGER NOT NULL, batch TEXT NOT NULL,"
    " PRIMARY KEY(stream, seq)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS journal_run ON journal(run);"
    "CREATE TABLE IF NOT EXISTS claims(key TEXT PRIMARY KEY, owner TEXT, state TEXT NOT NULL,"
    " lease_until INTEGER, acquired INTEGER, completed INTEGER, result TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS checkpoints(name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
    " bootstrapped INTEGER NOT NULL, saved INTEGER NOT NULL, checksum TEXT NOT NULL,"
    " state TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS cache(kind TEXT NOT NULL, key TEXT NOT NULL,"
    " result TEXT NOT NULL, input TEXT NOT NULL, run INTEGER, time INTEGER NOT NULL,"
    " PRIMARY KEY(kind, key)) WITHOUT ROWID;",
    /* 2: executions (one attempt of one pickle in a run). A scenario's stream is keyed
     * "@<execution>/<name>" (streams.name) and says whose it is (execution, label), so
     * runs, same-named scenarios, retries and worker processes never share one. */
    "CREATE TABLE executions(id INTEGER PRIMARY KEY AUTOINCREMENT, run INTEGER,"
    " pickle TEXT NOT NULL, attempt INTEGER NOT NULL, uri TEXT NOT NULL,"
    " line INTEGER NOT NULL, name TEXT NOT NULL, started INTEGER NOT NULL, ended INTEGER,"
    " status TEXT, journal_error TEXT);"
    "CREATE INDEX executions_run ON executions(run);"
    "ALTER TABLE streams ADD COLUMN execution INTEGER;"
    "ALTER TABLE streams ADD COLUMN label TEXT;"
    "CREATE INDEX streams_execution ON streams(execution);",
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == TF_STORE_SCHEMA);

gboolean tf_store_migrate_locked(tf_store *s, gint64 from, GError **error)
{
    for (gint64 v = from; v < TF_STORE_SCHEMA; v++) {
        char *what = g_strdup_printf("migrate schema %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                                     v, v + 1);
        if (sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
            tf_store_set_error(s, error, what);
            g_free(what);
            return FALSE;
        }
        g_free(what);
    }
    char *ids = g_strdup_printf("PRAGMA application_id=%d; PRAGMA user_version=%d;",
                                TF_STORE_APP_ID, TF_STORE_SCHEMA);
    gboolean ok = tf_store_exec(s, ids, error);
    g_free(ids);
    return ok;
}

/* A store of an older schema opened read-only cannot be migrated: temp objects of the
 * current shape (which shadow main's for unqualified names) let the same queries read it. */
static const char *const readers[] = {
    /* read as schema 1: no executions; every stream is a stream of its own name. */
    "CREATE TEMP TABLE executions(id INTEGER PRIMARY KEY, run INTEGER, pickle TEXT,"
    " attempt INTEGER, uri TEXT, line INTEGER, name TEXT, started INTEGER, ended INTEGER,"
    " status TEXT, journal_error TEXT);"
    "CREATE TEMP VIEW streams AS SELECT name, last_seq, NULL AS execution, NULL AS label"
    " FROM main.streams;",
};

G_STATIC_ASSERT(G_N_ELEMENTS(readers) == TF_STORE_SCHEMA - 1);

gboolean tf_store_read_as_current(tf_store *s, gint64 version, GError **error)
{
    if (version >= TF_STORE_SCHEMA)
        return TRUE;
    g_assert(version == 1); /* schema 0 is an empty file, never read */
    return tf_store_exec(s, readers[version - 1], error);
}
