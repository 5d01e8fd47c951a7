/* store.c: opening the durable store safely, and the statement helpers every file uses.
 * Opening checks before it writes: a file that is not SQLite, belongs to another
 * application, has a newer schema or fails SQLite's quick_check is refused with an error
 * that says which, and is left byte-for-byte untouched. Creating and migrating happen
 * under SQLite's write lock, after the identity is read again under it, so processes
 * opening one new or old store at once all see it whole. Read-only opens write nothing. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <glib/gstdio.h>
#include "durable_priv.h"

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

/* Checks the raw header before SQLite ever opens the file. *empty: the file is missing
 * or has no byte yet (a new database). */
static gboolean check_header(const char *path, gboolean *empty, GError **error)
{
    *empty = FALSE;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return *empty = TRUE;
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "store %s: open: %s", path, g_strerror(errno));
        return FALSE;
    }
    unsigned char head[100];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 0)
        return *empty = TRUE;
    if (n < 16 || memcmp(head, "SQLite format 3", 16) != 0)
        return refuse(error, path, "it is not an SQLite database (unknown file header)");
    if (n < sizeof head)
        return refuse(error, path, "the SQLite header is truncated");
    return TRUE;
}

/* What the file says it is, read in one statement (one consistent snapshot). */
typedef struct {
    gint64 app, version, objects;
} identity;

static gboolean read_identity(tf_store *s, identity *id)
{
    sqlite3_stmt *st = NULL;
    gboolean ok = sqlite3_prepare_v2(s->db,
                                     "SELECT (SELECT application_id FROM pragma_application_id),"
                                     " (SELECT user_version FROM pragma_user_version),"
                                     " (SELECT count(*) FROM sqlite_master)",
                                     -1, &st, NULL) == SQLITE_OK &&
                  sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        id->app = sqlite3_column_int64(st, 0);
        id->version = sqlite3_column_int64(st, 1);
        id->objects = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return ok;
}

static gboolean is_fresh(const identity *id) { return id->app == 0 && id->objects == 0; }

/* Refuses what is not a tf store this tf can use; a fresh file passes. */
static gboolean judge(tf_store *s, const identity *id, GError **error)
{
    char *why = NULL;
    if (is_fresh(id))
        return TRUE;
    if (id->app != TF_STORE_APP_ID)
        why = g_strdup_printf("it is an SQLite database of another application "
                              "(application_id 0x%08" G_GINT64_MODIFIER "x, %" G_GINT64_FORMAT
                              " schema objects)",
                              id->app, id->objects);
    else if (id->version > TF_STORE_SCHEMA)
        why = g_strdup_printf("it was written by a newer tf (schema %" G_GINT64_FORMAT
                              ", this tf reads up to %d)",
                              id->version, TF_STORE_SCHEMA);
    else if (id->version < 1)
        why = g_strdup("it is marked as a tf store but has no schema version");
    if (!why)
        return TRUE;
    refuse(error, s->path, why);
    g_free(why);
    return FALSE;
}

static gboolean quick_check(tf_store *s, GError **error)
{
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
    gboolean ok = bad->len == 0;
    if (!ok) {
        char *why = g_strdup_printf("integrity check failed: %s", bad->str);
        refuse(error, s->path, why);
        g_free(why);
    }
    g_string_free(bad, TRUE);
    return ok;
}

static gboolean unreadable(tf_store *s, GError **error)
{
    char *why = g_strdup_printf("SQLite cannot read it: %s", sqlite3_errmsg(s->db));
    refuse(error, s->path, why);
    g_free(why);
    return FALSE;
}

/* Creates or migrates the schema: under the write lock, the identity is read again (a
 * racing process may have created or migrated it meanwhile) and only what is still
 * missing is done, in one transaction. */
static gboolean bring_up_to_date(tf_store *s, GError **error)
{
    if (!tf_store_begin(s, error))
        return FALSE;
    identity id;
    gboolean ok;
    if (!read_identity(s, &id))
        ok = unreadable(s, error);
    else
        ok = judge(s, &id, error) &&
             (id.version == TF_STORE_SCHEMA ||
              tf_store_migrate_locked(s, is_fresh(&id) ? 0 : id.version, error));
    return ok ? tf_store_commit(s, error) : (tf_store_rollback(s), FALSE);
}

/* WAL: readers never block the writer; NORMAL sync survives any process crash (a power
 * loss may drop the newest commits, never corrupt); checkpoints sync fully. Two processes
 * switching a new file at once: SQLite refuses one at once (SQLITE_BUSY without calling
 * the busy handler, as waiting there could deadlock); BEGIN IMMEDIATE then waits through
 * the busy handler until the other is done, and the switch is asked again (a no-op now). */
static gboolean use_wal(tf_store *s, GError **error)
{
    for (int attempt = 0;; attempt++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        gboolean wal = rc == SQLITE_ROW &&
                       !g_ascii_strcasecmp((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        if (wal)
            break;
        if ((rc & 0xff) != SQLITE_BUSY || attempt == 8 ||
            !tf_store_exec(s, "BEGIN IMMEDIATE; COMMIT", NULL)) {
            if (rc == SQLITE_ROW)
                g_set_error(error, TF_ERROR, TF_ERROR_IO,
                            "store %s: SQLite would not switch it to WAL mode", s->path);
            else
                tf_store_set_error(s, error, "switch to WAL mode");
            return FALSE;
        }
    }
    return tf_store_exec(s, "PRAGMA synchronous=NORMAL", error);
}

static void finalize_stmt(gpointer p) { sqlite3_finalize(p); }

static tf_store *store_new(const char *path, gboolean readonly)
{
    tf_store *s = g_new0(tf_store, 1);
    s->refs = 1;
    tf_mutex_init(&s->lock);
    s->path = g_strdup(path);
    s->readonly = readonly;
    s->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, finalize_stmt);
    s->losses = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    s->retention.keep_runs = 20;
    return s;
}

static gboolean sqlite_open(tf_store *s, const char *name, int flags, GError **error)
{
    if (s->db) {
        sqlite3_close(s->db);
        s->db = NULL;
    }
    if (sqlite3_open_v2(name, &s->db, flags, NULL) != SQLITE_OK) {
        tf_store_set_error(s, error, "open");
        return FALSE;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Other processes (racing runners, workers of one run) hold locks briefly: SQLite's
     * busy handler waits for them. */
    sqlite3_busy_timeout(s->db, 10000);
    return TRUE;
}

static gboolean check_path(const char *path, GError **error)
{
    if (*path)
        return TRUE;
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                "store: the path is empty (name a file, or give no store to run without one)");
    return FALSE;
}

tf_store *tf_store_open(const char *path, GError **error)
{
    if (!path)
        path = TF_STORE_DEFAULT_PATH;
    if (!check_path(path, error))
        return NULL;
    char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "store %s: cannot create directory %s: %s",
                    path, dir, g_strerror(errno));
        g_free(dir);
        return NULL;
    }
    g_free(dir);
    gboolean empty;
    if (!check_header(path, &empty, error))
        return NULL;
    tf_store *s = store_new(path, FALSE);
    identity id;
    gboolean ok = sqlite_open(s, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error);
    if (ok && !read_identity(s, &id))
        ok = unreadable(s, error);
    /* Nothing is written before the file proved to be ours (or new) and whole. */
    ok = ok && judge(s, &id, error) && (is_fresh(&id) || quick_check(s, error));
    if (ok && id.version != TF_STORE_SCHEMA)
        ok = bring_up_to_date(s, error);
    ok = ok && use_wal(s, error);
    if (!ok) {
        tf_store_unref(s);
        return NULL;
    }
    return s;
}

/* "file:PATH?mode=ro" (and "&immutable=1"): SQLite decodes %HH in a URI's path. */
static char *readonly_uri(const char *path, gboolean immutable)
{
    char *esc = g_uri_escape_string(path, "/", TRUE);
    char *uri = g_strconcat("file:", esc, "?mode=ro", immutable ? "&immutable=1" : "", NULL);
    g_free(esc);
    return uri;
}

/* TRUE when nothing committed can be waiting in a write-ahead log beside path. */
static gboolean wal_is_empty(const char *path)
{
    char *wal = g_strconcat(path, "-wal", NULL);
    GStatBuf st;
    gboolean empty = g_stat(wal, &st) != 0 || st.st_size == 0;
    g_free(wal);
    return empty;
}

tf_store *tf_store_open_readonly(const char *path, GError **error)
{
    if (!path)
        path = TF_STORE_DEFAULT_PATH;
    if (!check_path(path, error))
        return NULL;
    gboolean empty;
    if (!check_header(path, &empty, error))
        return NULL;
    if (empty) {
        if (g_file_test(path, G_FILE_TEST_EXISTS))
            refuse(error, path, "it is empty (no tf store was ever created in it)");
        else
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "store %s: no such file", path);
        return NULL;
    }
    tf_store *s = store_new(path, TRUE);
    identity id;
    char *uri = readonly_uri(path, FALSE);
    gboolean ok = sqlite_open(s, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, error);
    g_free(uri);
    if (ok && !read_identity(s, &id)) {
        /* A WAL store in a read-only directory: SQLite cannot make the -shm index it
         * reads the WAL through. With no WAL content, everything is in the main file, and
         * reading it as immutable (no locks, no WAL) sees all of it. */
        if (!wal_is_empty(path)) {
            char *why = g_strdup_printf(
                "its write-ahead log %s-wal holds commits SQLite cannot read here (%s): "
                "copy the store with its -wal file to a writable directory",
                path, sqlite3_errmsg(s->db));
            refuse(error, path, why);
            g_free(why);
            ok = FALSE;
        } else {
            uri = readonly_uri(path, TRUE);
            ok = sqlite_open(s, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, error);
            g_free(uri);
            if (ok && !read_identity(s, &id))
                ok = unreadable(s, error);
        }
    }
    if (ok && is_fresh(&id))
        ok = refuse(error, path, "it is an empty SQLite database (no tf store was created in it)");
    ok = ok && judge(s, &id, error) && quick_check(s, error) &&
         tf_store_read_as_current(s, id.version, error);
    if (!ok) {
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
    g_hash_table_unref(s->losses);
    if (s->db)
        sqlite3_close(s->db);
    tf_mutex_clear(&s->lock);
    g_free(s->path);
    g_free(s);
}

const char *tf_store_path(const tf_store *s) { return s->path; }

gboolean tf_store_flush(tf_store *s, GError **error)
{
    if (s->readonly)
        return TRUE;
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
