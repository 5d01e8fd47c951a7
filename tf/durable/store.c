/* store.c: opening the durable store safely, its statement cache and the runs table.
 * Opening checks before it writes: a file that is not SQLite, belongs to another
 * application, has a newer schema or fails SQLite's quick_check is refused with an error
 * that says which, and is left byte-for-byte untouched. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <glib/gstdio.h>
#include "durable_priv.h"

static const char schema_sql[] =
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
    " PRIMARY KEY(kind, key)) WITHOUT ROWID;";

void tf_store_set_error(tf_store *s, GError **error, const char *what)
{
    int code = sqlite3_extended_errcode(s->db);
    int prim = code & 0xff;
    g_set_error(error, TF_ERROR,
                prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB ? TF_ERROR_CORRUPT : TF_ERROR_IO,
                "store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *tf_store_stmt(tf_store *s, const char *sql, GError **error)
{
    sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        tf_store_set_error(s, error, "prepare");
        return NULL;
    }
    g_hash_table_insert(s->stmts, (gpointer)sql, st);
    return st;
}

gboolean tf_store_exec(tf_store *s, const char *sql, GError **error)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        tf_store_set_error(s, error, sql);
        return FALSE;
    }
    return TRUE;
}

gboolean tf_store_step_done(tf_store *s, sqlite3_stmt *st, const char *what, GError **error)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        tf_store_set_error(s, error, what);
        sqlite3_reset(st);
        return FALSE;
    }
    sqlite3_reset(st);
    return TRUE;
}

gboolean tf_store_begin(tf_store *s, GError **error)
{
    return tf_store_exec(s, "BEGIN IMMEDIATE", error);
}

gboolean tf_store_commit(tf_store *s, GError **error)
{
    if (tf_store_exec(s, "COMMIT", error))
        return TRUE;
    tf_store_rollback(s);
    return FALSE;
}

void tf_store_rollback(tf_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- opening ------------------------------------------------------------------------ */

static gboolean refuse(GError **error, const char *path, const char *why)
{
    g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT,
                "store %s: not a usable tf store: %s (the file was left untouched)", path, why);
    return FALSE;
}

/* Checks the raw header before SQLite ever opens the file. */
static gboolean check_header(const char *path, GError **error)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return TRUE; /* created below */
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "store %s: open: %s", path, g_strerror(errno));
        return FALSE;
    }
    unsigned char head[100];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 0)
        return TRUE; /* an empty file is a new database */
    if (n < 16 || memcmp(head, "SQLite format 3", 16) != 0)
        return refuse(error, path, "it is not an SQLite database (unknown file header)");
    if (n < sizeof head)
        return refuse(error, path, "the SQLite header is truncated");
    return TRUE;
}

static gint64 pragma_int(tf_store *s, const char *sql, gboolean *ok)
{
    sqlite3_stmt *st = NULL;
    gint64 v = -1;
    *ok = FALSE;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        *ok = TRUE;
    }
    sqlite3_finalize(st);
    return v;
}

/* Reads identity and integrity; nothing is written before these pass. */
static gboolean check_identity(tf_store *s, gboolean *fresh, GError **error)
{
    gboolean ok1, ok2, ok3;
    gint64 app = pragma_int(s, "PRAGMA application_id", &ok1);
    gint64 ver = pragma_int(s, "PRAGMA user_version", &ok2);
    gint64 tables = pragma_int(s, "SELECT count(*) FROM sqlite_master", &ok3);
    if (!ok1 || !ok2 || !ok3) {
        char *why = g_strdup_printf("SQLite cannot read it: %s", sqlite3_errmsg(s->db));
        refuse(error, s->path, why);
        g_free(why);
        return FALSE;
    }
    *fresh = app == 0 && tables == 0;
    if (*fresh)
        return TRUE;
    if (app != TF_STORE_APP_ID) {
        char *why = g_strdup_printf("it is an SQLite database of another application "
                                    "(application_id 0x%08" G_GINT64_MODIFIER "x, %" G_GINT64_FORMAT
                                    " schema objects)",
                                    app, tables);
        refuse(error, s->path, why);
        g_free(why);
        return FALSE;
    }
    if (ver > TF_STORE_SCHEMA) {
        char *why = g_strdup_printf("it was written by a newer tf (schema %" G_GINT64_FORMAT
                                    ", this tf reads up to %d)",
                                    ver, TF_STORE_SCHEMA);
        refuse(error, s->path, why);
        g_free(why);
        return FALSE;
    }
    sqlite3_stmt *st = NULL;
    GString *bad = g_string_new(NULL);
    if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(5)", -1, &st, NULL) != SQLITE_OK) {
        g_string_append(bad, sqlite3_errmsg(s->db));
    } else {
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *line = (const char *)sqlite3_column_text(st, 0);
            if (line && strcmp(line, "ok") != 0)
                g_string_append_printf(bad, "%s%s", bad->len ? "; " : "", line);
        }
        if (rc != SQLITE_DONE)
            g_string_append_printf(bad, "%s%s", bad->len ? "; " : "", sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(st);
    if (bad->len) {
        char *why = g_strdup_printf("integrity check failed: %s", bad->str);
        refuse(error, s->path, why);
        g_free(why);
        g_string_free(bad, TRUE);
        return FALSE;
    }
    g_string_free(bad, TRUE);
    return TRUE;
}

static gboolean init_schema(tf_store *s, GError **error)
{
    if (!tf_store_begin(s, error))
        return FALSE;
    char *ids = g_strdup_printf("PRAGMA application_id=%d; PRAGMA user_version=%d;",
                                TF_STORE_APP_ID, TF_STORE_SCHEMA);
    gboolean ok = tf_store_exec(s, schema_sql, error) && tf_store_exec(s, ids, error);
    g_free(ids);
    return ok ? tf_store_commit(s, error) : (tf_store_rollback(s), FALSE);
}

static void finalize_stmt(gpointer p) { sqlite3_finalize(p); }

tf_store *tf_store_open(const char *path, GError **error)
{
    if (!path || !*path)
        path = TF_STORE_DEFAULT_PATH;
    char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "store %s: cannot create directory %s: %s",
                    path, dir, g_strerror(errno));
        g_free(dir);
        return NULL;
    }
    g_free(dir);
    if (!check_header(path, error))
        return NULL;
    tf_store *s = g_new0(tf_store, 1);
    s->refs = 1;
    tf_mutex_init(&s->lock);
    s->path = g_strdup(path);
    s->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, finalize_stmt);
    s->retention.keep_runs = 20;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        tf_store_set_error(s, error, "open");
        tf_store_unref(s);
        return NULL;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Other processes (a racing runner) hold locks briefly: SQLite's busy handler waits. */
    sqlite3_busy_timeout(s->db, 10000);
    gboolean fresh = FALSE;
    if (!check_identity(s, &fresh, error)) {
        tf_store_unref(s);
        return NULL;
    }
    /* WAL: readers never block the writer; NORMAL sync survives any process crash (a
     * power loss may drop the newest commits, never corrupt); checkpoints sync fully. */
    if (!tf_store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error) ||
        (fresh && !init_schema(s, error))) {
        tf_store_unref(s);
        return NULL;
    }
    return s;
}

tf_store *tf_store_ref(tf_store *s)
{
    g_atomic_int_inc(&s->refs);
    return s;
}

void tf_store_unref(tf_store *s)
{
    if (!s || !g_atomic_int_dec_and_test(&s->refs))
        return;
    g_hash_table_unref(s->stmts);
    if (s->db)
        sqlite3_close(s->db);
    tf_mutex_clear(&s->lock);
    g_free(s->path);
    g_free(s);
}

const char *tf_store_path(const tf_store *s) { return s->path; }

gboolean tf_store_flush(tf_store *s, GError **error)
{
    tf_mutex_lock(&s->lock);
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL);
    gboolean ok = rc == SQLITE_OK;
    if (rc == SQLITE_BUSY) {
        /* A reader in another process holds old pages: the commits stay in the WAL, so
         * that file is what must reach the disk. */
        char *wal = g_strconcat(s->path, "-wal", NULL);
        int fd = open(wal, O_RDONLY);
        ok = fd >= 0 && fsync(fd) == 0;
        if (!ok)
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "store %s: flush: fsync %s: %s", s->path,
                        wal, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        g_free(wal);
    } else if (!ok) {
        tf_store_set_error(s, error, "flush");
    }
    tf_mutex_unlock(&s->lock);
    return ok;
}

/* ---- runs --------------------------------------------------------------------------- */

gint64 tf_store_run_begin(tf_store *s, const char *label, GError **error)
{
    gint64 id = 0;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st =
        tf_store_stmt(s, "INSERT INTO runs(label, started) VALUES (?1, ?2)", error);
    if (st) {
        sqlite3_bind_text(st, 1, label ? label : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, g_get_real_time());
        if (tf_store_step_done(s, st, "begin run", error))
            id = sqlite3_last_insert_rowid(s->db);
    }
    if (id && tf_store_prune_locked(s, error) < 0)
        id = 0;
    tf_mutex_unlock(&s->lock);
    return id;
}

gboolean tf_store_run_end(tf_store *s, gint64 run, const char *status, GError **error)
{
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st =
        tf_store_stmt(s, "UPDATE runs SET ended = ?2, status = ?3 WHERE id = ?1", error);
    gboolean ok = FALSE;
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, g_get_real_time());
        sqlite3_bind_text(st, 3, status ? status : "", -1, SQLITE_TRANSIENT);
        ok = tf_store_step_done(s, st, "end run", error);
        if (ok && sqlite3_changes(s->db) == 0) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "store %s: end run: no run %" G_GINT64_FORMAT,
                        s->path, run);
            ok = FALSE;
        }
    }
    tf_mutex_unlock(&s->lock);
    return ok;
}

gint64 tf_store_run_latest(tf_store *s, GError **error)
{
    gint64 id = 0;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s, "SELECT max(id) FROM runs", error);
    if (st) {
        if (sqlite3_step(st) == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
        else
            tf_store_set_error(s, error, "latest run");
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return id;
}

json_t *tf_store_runs(tf_store *s, GError **error)
{
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(
        s,
        "SELECT id, label, started, ended, status,"
        " (SELECT count(*) FROM journal j WHERE j.run = runs.id) FROM runs ORDER BY id DESC",
        error);
    json_t *arr = NULL;
    if (st) {
        arr = json_array();
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            json_t *ended = sqlite3_column_type(st, 3) == SQLITE_NULL
                                ? json_null()
                                : json_integer(sqlite3_column_int64(st, 3));
            json_t *status = sqlite3_column_type(st, 4) == SQLITE_NULL
                                 ? json_null()
                                 : json_string((const char *)sqlite3_column_text(st, 4));
            json_array_append_new(
                arr, json_pack("{s:I, s:s, s:I, s:o, s:o, s:I}", "run",
                               (json_int_t)sqlite3_column_int64(st, 0), "label",
                               (const char *)sqlite3_column_text(st, 1), "started",
                               (json_int_t)sqlite3_column_int64(st, 2), "ended", ended, "status",
                               status, "batches", (json_int_t)sqlite3_column_int64(st, 5)));
        }
        if (rc != SQLITE_DONE) {
            tf_store_set_error(s, error, "list runs");
            g_clear_pointer(&arr, json_decref);
        }
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return arr;
}

/* ---- retention ---------------------------------------------------------------------- */

void tf_store_set_retention(tf_store *s, const tf_retention *r)
{
    tf_mutex_lock(&s->lock);
    s->retention = *r;
    tf_mutex_unlock(&s->lock);
}

gint64 tf_store_prune_locked(tf_store *s, GError **error)
{
    gint64 removed = 0;
    s->appends = 0;
    if (!tf_store_begin(s, error))
        return -1;
    sqlite3_stmt *st;
    if (s->retention.keep_runs) {
        st = tf_store_stmt(s,
                           "DELETE FROM journal WHERE run IS NOT NULL AND run <= "
                           "(SELECT max(id) FROM runs) - ?1",
                           error);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, s->retention.keep_runs);
        if (!tf_store_step_done(s, st, "prune runs", error))
            goto fail;
        removed += sqlite3_changes(s->db);
    }
    if (s->retention.max_batches) {
        st = tf_store_stmt(s,
                           "DELETE FROM journal WHERE seq <= (SELECT last_seq FROM streams"
                           " WHERE name = journal.stream) - ?1",
                           error);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)s->retention.max_batches);
        if (!tf_store_step_done(s, st, "prune batches", error))
            goto fail;
        removed += sqlite3_changes(s->db);
    }
    if (s->retention.max_age_us > 0) {
        st = tf_store_stmt(s, "DELETE FROM journal WHERE wall_time < ?1", error);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, g_get_real_time() - s->retention.max_age_us);
        if (!tf_store_step_done(s, st, "prune by age", error))
            goto fail;
        removed += sqlite3_changes(s->db);
    }
    if (!tf_store_commit(s, error))
        return -1;
    return removed;
fail:
    tf_store_rollback(s);
    return -1;
}

gint64 tf_store_prune(tf_store *s, GError **error)
{
    tf_mutex_lock(&s->lock);
    gint64 n = tf_store_prune_locked(s, error);
    tf_mutex_unlock(&s->lock);
    return n;
}

/* ---- helpers ------------------------------------------------------------------------ */

char *tf_json_canonical(json_t *v)
{
    if (!v)
        return g_strdup("null");
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *copy = g_strdup(text ? text : "null");
    free(text);
    return copy;
}

char *tf_sha256_hex(const void *data, gsize len)
{
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
}
