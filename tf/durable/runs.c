/* runs.c: runs, the executions in them and the journal's retention. A run is one
 * invocation (`tf run`, a `tf wire` session); an execution is one attempt of one pickle in
 * it, and owns its journal streams. A run in which a journal lost a batch cannot end as
 * passed: the store says so when the run ends. */
#include <string.h>
#include "durable_priv.h"

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

/* The first journal loss of run and how many executions had one: what this process saw
 * (even when it could not write it) and what every process recorded. Lock held. */
static guint run_losses_locked(tf_store *s, gint64 run, char **first)
{
    const char *mine = g_hash_table_lookup(s->losses, &run);
    guint n = 0;
    *first = g_strdup(mine);
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "SELECT count(*), min(journal_error) FROM executions"
                                     " WHERE run = ?1 AND journal_error IS NOT NULL",
                                     NULL);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        if (sqlite3_step(st) == SQLITE_ROW) {
            n = (guint)sqlite3_column_int64(st, 0);
            if (!*first && sqlite3_column_type(st, 1) != SQLITE_NULL)
                *first = g_strdup((const char *)sqlite3_column_text(st, 1));
        }
        sqlite3_reset(st);
    }
    return MAX(n, mine ? 1u : 0u);
}

gboolean tf_store_run_end(tf_store *s, gint64 run, const char *status, GError **error)
{
    tf_mutex_lock(&s->lock);
    char *loss = NULL;
    guint losses = run_losses_locked(s, run, &loss);
    if (losses && g_strcmp0(status, "interrupted") != 0)
        status = "failed"; /* batches were lost: the run cannot pass */
    sqlite3_stmt *st =
        tf_store_stmt(s, "UPDATE runs SET ended = ?2, status = ?3 WHERE id = ?1", error);
    gboolean ok = FALSE;
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, g_get_real_time());
        sqlite3_bind_text(st, 3, status ? status : "", -1, SQLITE_TRANSIENT);
        ok = tf_store_step_done(s, st, "end run", error);
        if (ok && sqlite3_changes(s->db) == 0) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "store %s: end run: no run %" G_GINT64_FORMAT, s->path, run);
            ok = FALSE;
        }
    }
    if (ok && losses) {
        g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT,
                    "store %s: run %" G_GINT64_FORMAT ": %u scenario execution%s lost journal "
                    "batches, so the run is recorded failed; first: %s",
                    s->path, run, losses, losses == 1 ? "" : "s", loss);
        ok = FALSE;
    }
    g_free(loss);
    tf_mutex_unlock(&s->lock);
    return ok;
}

tf_lookup tf_store_run_latest(tf_store *s, gint64 *run, GError **error)
{
    *run = 0;
    tf_lookup out = TF_LOOKUP_FAILED;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s, "SELECT max(id) FROM runs", error);
    if (st) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            *run = sqlite3_column_int64(st, 0); /* NULL (no run) reads as 0 */
            out = *run ? TF_LOOKUP_FOUND : TF_LOOKUP_ABSENT;
        } else {
            tf_store_set_error(s, error, "latest run");
        }
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return out;
}

static json_t *int_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? json_null()
                                                        : json_integer(sqlite3_column_int64(st, col));
}

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL
               ? json_null()
               : json_string((const char *)sqlite3_column_text(st, col));
}

json_t *tf_store_runs(tf_store *s, GError **error)
{
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(
        s,
        "SELECT id, label, started, ended, status,"
        " (SELECT count(*) FROM journal j WHERE j.run = runs.id),"
        " (SELECT count(*) FROM executions e WHERE e.run = runs.id),"
        " (SELECT count(*) FROM executions e WHERE e.run = runs.id"
        "  AND e.journal_error IS NOT NULL)"
        " FROM runs ORDER BY id DESC",
        error);
    json_t *arr = NULL;
    if (st) {
        arr = json_array();
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(
                arr, json_pack("{s:I, s:s, s:I, s:o, s:o, s:I, s:I, s:I}", "run",
                               (json_int_t)sqlite3_column_int64(st, 0), "label",
                               (const char *)sqlite3_column_text(st, 1), "started",
                               (json_int_t)sqlite3_column_int64(st, 2), "ended",
                               int_or_null(st, 3), "status", text_or_null(st, 4), "batches",
                               (json_int_t)sqlite3_column_int64(st, 5), "executions",
                               (json_int_t)sqlite3_column_int64(st, 6), "journal_errors",
                               (json_int_t)sqlite3_column_int64(st, 7)));
        if (rc != SQLITE_DONE) {
            tf_store_set_error(s, error, "list runs");
            g_clear_pointer(&arr, json_decref);
        }
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return arr;
}

/* ---- executions --------------------------------------------------------------------- */

gint64 tf_store_execution_begin(tf_store *s, gint64 run, const tf_execution *e, GError **error)
{
    gint64 id = 0;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "INSERT INTO executions(run, pickle, attempt, uri, line,"
                                     " name, started) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                     error);
    if (st) {
        if (run > 0)
            sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_text(st, 2, e->pickle ? e->pickle : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, e->attempt);
        sqlite3_bind_text(st, 4, e->uri ? e->uri : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, e->line);
        sqlite3_bind_text(st, 6, e->name ? e->name : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, g_get_real_time());
        if (tf_store_step_done(s, st, "begin execution", error))
            id = sqlite3_last_insert_rowid(s->db);
    }
    tf_mutex_unlock(&s->lock);
    return id;
}

gboolean tf_store_execution_end(tf_store *s, gint64 execution, const char *status,
                                const char *journal_error, GError **error)
{
    tf_mutex_lock(&s->lock);
    gboolean ok = FALSE;
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "UPDATE executions SET ended = ?2, status = ?3,"
                                     " journal_error = coalesce(journal_error, ?4)"
                                     " WHERE id = ?1 RETURNING run",
                                     error);
    if (st) {
        sqlite3_bind_int64(st, 1, execution);
        sqlite3_bind_int64(st, 2, g_get_real_time());
        sqlite3_bind_text(st, 3, status ? status : "", -1, SQLITE_STATIC);
        if (journal_error)
            sqlite3_bind_text(st, 4, journal_error, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        gboolean found = rc == SQLITE_ROW;
        gint64 run = found ? sqlite3_column_int64(st, 0) : 0; /* NULL: outside any run */
        if (found)
            rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            tf_store_set_error(s, error, "end execution");
        else if (!found)
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "store %s: end execution: no execution %" G_GINT64_FORMAT, s->path,
                        execution);
        else
            ok = TRUE;
        sqlite3_reset(st);
        /* Remembered in memory too: the run must not pass even if the store could not
         * record the loss (a full disk is a likely reason for one). */
        if (journal_error && run > 0 && !g_hash_table_contains(s->losses, &run))
            g_hash_table_insert(s->losses, g_memdup2(&run, sizeof run), g_strdup(journal_error));
    }
    tf_mutex_unlock(&s->lock);
    return ok;
}

json_t *tf_store_executions(tf_store *s, gint64 run, GError **error)
{
    tf_mutex_lock(&s->lock);
    json_t *arr = json_array();
    GHashTable *by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "SELECT id, pickle, attempt, uri, line, name, status,"
                                     " journal_error FROM executions WHERE run = ?1 ORDER BY id",
                                     error);
    int rc = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            json_t *e = json_pack("{s:I, s:s, s:I, s:s, s:I, s:s, s:o, s:o, s:{}}", "execution",
                                  (json_int_t)sqlite3_column_int64(st, 0), "pickle",
                                  (const char *)sqlite3_column_text(st, 1), "attempt",
                                  (json_int_t)sqlite3_column_int64(st, 2), "uri",
                                  (const char *)sqlite3_column_text(st, 3), "line",
                                  (json_int_t)sqlite3_column_int64(st, 4), "scenario",
                                  (const char *)sqlite3_column_text(st, 5), "status",
                                  text_or_null(st, 6), "journal_error", text_or_null(st, 7),
                                  "streams");
            json_array_append_new(arr, e);
            gint64 id = sqlite3_column_int64(st, 0);
            g_hash_table_insert(by_id, g_memdup2(&id, sizeof id), e);
        }
        sqlite3_reset(st);
    }
    if (rc == SQLITE_DONE)
        st = tf_store_stmt(s,
                           "SELECT st.execution, st.label, (SELECT count(*) FROM journal j"
                           " WHERE j.stream = st.name) FROM streams st WHERE st.execution IN"
                           " (SELECT id FROM executions WHERE run = ?1)",
                           error);
    if (rc == SQLITE_DONE && st) {
        sqlite3_bind_int64(st, 1, run);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            gint64 id = sqlite3_column_int64(st, 0);
            json_t *e = g_hash_table_lookup(by_id, &id);
            if (e)
                json_object_set_new(json_object_get(e, "streams"),
                                    (const char *)sqlite3_column_text(st, 1),
                                    json_integer(sqlite3_column_int64(st, 2)));
        }
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE) {
        if (st)
            tf_store_set_error(s, error, "list executions");
        g_clear_pointer(&arr, json_decref);
    }
    g_hash_table_unref(by_id);
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

/* Runs one DELETE bound to n and counts its rows into *removed (when counted). */
static gboolean delete_bound(tf_store *s, const char *sql, gint64 n, const char *what,
                             gint64 *removed, GError **error)
{
    sqlite3_stmt *st = tf_store_stmt(s, sql, error);
    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, n);
    if (!tf_store_step_done(s, st, what, error))
        return FALSE;
    if (removed)
        *removed += sqlite3_changes(s->db);
    return TRUE;
}

gint64 tf_store_prune_locked(tf_store *s, GError **error)
{
    gint64 removed = 0;
    s->appends = 0;
    if (!tf_store_begin(s, error))
        return -1;
    const tf_retention *r = &s->retention;
    gboolean ok = TRUE;
    if (r->keep_runs) {
        ok = delete_bound(s,
                          "DELETE FROM journal WHERE run IS NOT NULL AND run <= "
                          "(SELECT max(id) FROM runs) - ?1",
                          r->keep_runs, "prune runs", &removed, error) &&
             /* The bookkeeping of streams no one appends to any more: those of executions
              * in runs that ended. Their executions stay, as the record of what ran. */
             delete_bound(s,
                          "DELETE FROM streams WHERE execution IN (SELECT e.id FROM executions e"
                          " JOIN runs r ON r.id = e.run WHERE r.ended IS NOT NULL"
                          " AND r.id <= (SELECT max(id) FROM runs) - ?1)",
                          r->keep_runs, "prune streams", NULL, error);
    }
    if (ok && r->max_batches)
        ok = delete_bound(s,
                          "DELETE FROM journal WHERE seq <= (SELECT last_seq FROM streams"
                          " WHERE name = journal.stream) - ?1",
                          (gint64)r->max_batches, "prune batches", &removed, error);
    if (ok && r->max_age_us > 0)
        ok = delete_bound(s, "DELETE FROM journal WHERE wall_time < ?1",
                          g_get_real_time() - r->max_age_us, "prune by age", &removed, error);
    if (!ok) {
        tf_store_rollback(s);
        return -1;
    }
    return tf_store_commit(s, error) ? removed : -1;
}

gint64 tf_store_prune(tf_store *s, GError **error)
{
    tf_mutex_lock(&s->lock);
    gint64 n = tf_store_prune_locked(s, error);
    tf_mutex_unlock(&s->lock);
    return n;
}
