/* journal.c: the append-only event journal, because a bounded ring is a summary, not a
 * ledger. Each append commits the batch and the stream's last sequence number in one
 * transaction, so the stored sequence is gapless after any crash and a number is never
 * handed out twice, even once old batches were pruned. A stream belongs to one execution
 * (or is a stream of its own name), so concurrent runs and workers never share one; a
 * journal remembers the first batch it failed to record, so a loss is never silent. */
#include <string.h>
#include "durable_priv.h"

struct tf_journal {
    gint refs;
    tf_store *store;
    char *key;       /* streams.name: the name, or "@<execution>/<name>" */
    char *name;      /* as opened */
    gint64 run;      /* the run appends belong to (0 = none) */
    gint64 execution;
    char *failure;   /* the first append or flush that failed (store lock) */
};

/* Registers the stream (a no-op when it exists) and makes the journal. */
static tf_journal *journal_new(tf_store *s, const char *key, const char *name, gint64 run,
                               gint64 execution, GError **error)
{
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "INSERT INTO streams(name, last_seq, execution, label)"
                                     " VALUES (?1, 0, ?2, ?3) ON CONFLICT(name) DO NOTHING",
                                     error);
    gboolean ok = st != NULL;
    if (ok) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (execution) {
            sqlite3_bind_int64(st, 2, execution);
            sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        }
        ok = tf_store_step_done(s, st, "open journal", error);
    }
    tf_mutex_unlock(&s->lock);
    if (!ok)
        return NULL;
    tf_journal *j = g_new0(tf_journal, 1);
    j->refs = 1;
    j->store = tf_store_ref(s);
    j->key = g_strdup(key);
    j->name = g_strdup(name);
    j->run = run;
    j->execution = execution;
    return j;
}

static gboolean check_name(tf_store *s, const char *stream, GError **error)
{
    if (stream && *stream)
        return TRUE;
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "store %s: journal: empty stream name",
                s->path);
    return FALSE;
}

tf_journal *tf_journal_open(tf_store *s, const char *stream, gint64 run, GError **error)
{
    if (!check_name(s, stream, error))
        return NULL;
    if (stream[0] == '@') {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "store %s: journal '%s': names beginning with '@' are reserved for the "
                    "streams of scenario executions",
                    s->path, stream);
        return NULL;
    }
    return journal_new(s, stream, stream, run, 0, error);
}

tf_journal *tf_journal_open_execution(tf_store *s, gint64 execution, const char *stream,
                                      GError **error)
{
    if (!check_name(s, stream, error))
        return NULL;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s, "SELECT run FROM executions WHERE id = ?1", error);
    int rc = SQLITE_ERROR;
    gint64 run = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, execution);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            run = sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_DONE)
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "store %s: journal %s: no execution %" G_GINT64_FORMAT, s->path, stream,
                        execution);
        else
            tf_store_set_error(s, error, "open journal");
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    if (rc != SQLITE_ROW)
        return NULL;
    char *key = g_strdup_printf("@%" G_GINT64_FORMAT "/%s", execution, stream);
    tf_journal *j = journal_new(s, key, stream, run, execution, error);
    g_free(key);
    return j;
}

tf_journal *tf_journal_ref(tf_journal *j)
{
    g_atomic_int_inc(&j->refs);
    return j;
}

void tf_journal_unref(tf_journal *j)
{
    if (!j || !g_atomic_int_dec_and_test(&j->refs))
        return;
    tf_store_unref(j->store);
    g_free(j->key);
    g_free(j->name);
    g_free(j->failure);
    g_free(j);
}

const char *tf_journal_stream(const tf_journal *j) { return j->name; }
tf_store *tf_journal_store(const tf_journal *j) { return j->store; }
gint64 tf_journal_execution(const tf_journal *j) { return j->execution; }

/* An error message minus its "store PATH: " prefix: a loss is reported under the store's
 * name already. */
static const char *without_store(const tf_store *s, const char *msg)
{
    char *prefix = g_strdup_printf("store %s: ", s->path);
    const char *rest = g_str_has_prefix(msg, prefix) ? msg + strlen(prefix) : msg;
    g_free(prefix);
    return rest;
}

/* Remembers the first failure (lock held). */
static void note_failure_locked(tf_journal *j, char *why)
{
    if (!j->failure)
        j->failure = why;
    else
        g_free(why);
}

char *tf_journal_failure(tf_journal *j)
{
    tf_mutex_lock(&j->store->lock);
    char *why = g_strdup(j->failure);
    tf_mutex_unlock(&j->store->lock);
    return why;
}

/* Lock held. */
static gboolean last_seq_locked(tf_journal *j, guint64 *out, GError **error)
{
    tf_store *s = j->store;
    *out = 0;
    sqlite3_stmt *st = tf_store_stmt(s, "SELECT last_seq FROM streams WHERE name = ?1", error);
    if (!st)
        return FALSE;
    sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    gboolean ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (rc == SQLITE_ROW)
        *out = (guint64)sqlite3_column_int64(st, 0);
    if (!ok)
        tf_store_set_error(s, error, "journal last seq");
    sqlite3_reset(st);
    return ok;
}

gboolean tf_journal_last_seq(tf_journal *j, guint64 *seq, GError **error)
{
    tf_mutex_lock(&j->store->lock);
    gboolean ok = last_seq_locked(j, seq, error);
    tf_mutex_unlock(&j->store->lock);
    return ok;
}

tf_lookup tf_journal_next_stored(tf_journal *j, guint64 seq, guint64 *found, GError **error)
{
    tf_store *s = j->store;
    tf_lookup out = TF_LOOKUP_FAILED;
    *found = 0;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st =
        tf_store_stmt(s, "SELECT min(seq) FROM journal WHERE stream = ?1 AND seq >= ?2", error);
    if (st) {
        sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *found = (guint64)sqlite3_column_int64(st, 0); /* NULL (none) reads as 0 */
            out = *found ? TF_LOOKUP_FOUND : TF_LOOKUP_ABSENT;
        } else {
            tf_store_set_error(s, error, "journal next stored");
        }
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return out;
}

/* The append proper; lock held, inside no transaction. */
static gboolean append_locked(tf_journal *j, guint64 seq, guint64 cycle, gint64 wall_time,
                              const char *text, GError **error)
{
    tf_store *s = j->store;
    if (!tf_store_begin(s, error))
        return FALSE;
    guint64 last;
    if (!last_seq_locked(j, &last, error))
        goto fail;
    if (seq != last + 1) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "store %s: journal %s: append seq %" G_GUINT64_FORMAT
                    " would leave a gap or reuse a number (last is %" G_GUINT64_FORMAT ")",
                    s->path, j->name, seq, last);
        goto fail;
    }
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "INSERT INTO journal(stream, seq, run, cycle, wall_time, batch)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                     error);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    if (j->run > 0)
        sqlite3_bind_int64(st, 3, j->run);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cycle);
    sqlite3_bind_int64(st, 5, wall_time);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    if (!tf_store_step_done(s, st, "journal append", error))
        goto fail;
    st = tf_store_stmt(s, "UPDATE streams SET last_seq = ?2 WHERE name = ?1", error);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    if (!tf_store_step_done(s, st, "journal seq", error))
        goto fail;
    return tf_store_commit(s, error);
fail:
    tf_store_rollback(s);
    return FALSE;
}

gboolean tf_journal_append(tf_journal *j, guint64 seq, guint64 cycle, gint64 wall_time,
                           json_t *batch_json, GError **error)
{
    tf_store *s = j->store;
    char *text = tf_json_canonical(batch_json);
    GError *err = NULL;
    tf_mutex_lock(&s->lock);
    gboolean ok = append_locked(j, seq, cycle, wall_time, text, &err);
    if (!ok)
        note_failure_locked(j, g_strdup_printf("batch %" G_GUINT64_FORMAT " not recorded: %s",
                                               seq, without_store(s, err->message)));
    else if (++s->appends >= 1000)
        tf_store_prune_locked(s, NULL); /* best effort: the append itself is committed */
    tf_mutex_unlock(&s->lock);
    if (err)
        g_propagate_error(error, err);
    g_free(text);
    return ok;
}

gboolean tf_journal_flush(tf_journal *j, GError **error)
{
    GError *err = NULL;
    if (tf_store_flush(j->store, &err))
        return TRUE;
    tf_mutex_lock(&j->store->lock);
    note_failure_locked(j, g_strdup_printf("flush failed: %s", without_store(j->store, err->message)));
    tf_mutex_unlock(&j->store->lock);
    g_propagate_error(error, err);
    return FALSE;
}

tf_lookup tf_journal_read(tf_journal *j, guint64 seq, json_t **batch, GError **error)
{
    tf_store *s = j->store;
    tf_lookup out = TF_LOOKUP_FAILED;
    *batch = NULL;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st =
        tf_store_stmt(s, "SELECT batch FROM journal WHERE stream = ?1 AND seq = ?2", error);
    if (st) {
        sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            json_error_t jerr;
            *batch = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY, &jerr);
            if (*batch)
                out = TF_LOOKUP_FOUND;
            else
                g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT,
                            "store %s: journal %s seq %" G_GUINT64_FORMAT ": bad JSON: %s",
                            s->path, j->name, seq, jerr.text);
        } else if (rc == SQLITE_DONE) {
            out = TF_LOOKUP_ABSENT;
        } else {
            tf_store_set_error(s, error, "journal read");
        }
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return out;
}

/* One export line; the columns are those of the export query below. */
static json_t *export_line(sqlite3_stmt *st, gint64 run)
{
    json_t *batch = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
    json_t *line = json_pack("{s:I}", "run", (json_int_t)run);
    if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
        json_object_set_new(line, "execution", json_integer(sqlite3_column_int64(st, 5)));
        json_object_set_new(line, "scenario", json_string((const char *)sqlite3_column_text(st, 6)));
        json_object_set_new(line, "pickle", json_string((const char *)sqlite3_column_text(st, 7)));
        json_object_set_new(line, "attempt", json_integer(sqlite3_column_int64(st, 8)));
    }
    json_object_set_new(line, "stream", json_string((const char *)sqlite3_column_text(st, 0)));
    json_object_set_new(line, "seq", json_integer(sqlite3_column_int64(st, 1)));
    json_object_set_new(line, "cycle", json_integer(sqlite3_column_int64(st, 2)));
    json_t *events = batch ? json_object_get(batch, "events") : NULL;
    json_object_set(line, "events", events ? events : json_null());
    json_t *wall = batch ? json_object_get(batch, "wall_time") : NULL;
    json_object_set_new(line, "wall_time",
                        wall ? json_incref(wall) : json_integer(sqlite3_column_int64(st, 3)));
    if (!batch)
        json_object_set_new(line, "error", json_string("stored batch is not valid JSON"));
    json_decref(batch);
    return line;
}

gint64 tf_store_export_journal(tf_store *s, gint64 run, const char *stream, FILE *out,
                               GError **error)
{
    if (run == 0) {
        switch (tf_store_run_latest(s, &run, error)) {
        case TF_LOOKUP_FOUND:
            break;
        case TF_LOOKUP_ABSENT:
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "store %s: no run recorded", s->path);
            return -1;
        case TF_LOOKUP_FAILED:
            return -1;
        }
    }
    gint64 lines = 0;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "SELECT coalesce(st.label, j.stream), j.seq, j.cycle,"
                                     " j.wall_time, j.batch, e.id, e.name, e.pickle, e.attempt"
                                     " FROM journal j"
                                     " LEFT JOIN streams st ON st.name = j.stream"
                                     " LEFT JOIN executions e ON e.id = st.execution"
                                     " WHERE j.run = ?1"
                                     " AND (?2 IS NULL OR coalesce(st.label, j.stream) = ?2)"
                                     " ORDER BY e.id, 1, j.seq",
                                     error);
    if (!st) {
        tf_mutex_unlock(&s->lock);
        return -1;
    }
    sqlite3_bind_int64(st, 1, run);
    if (stream)
        sqlite3_bind_text(st, 2, stream, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *line = export_line(st, run);
        char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fprintf(out, "%s\n", text);
        free(text);
        json_decref(line);
        lines++;
    }
    if (rc != SQLITE_DONE) {
        tf_store_set_error(s, error, "export journal");
        lines = -1;
    }
    sqlite3_reset(st);
    tf_mutex_unlock(&s->lock);
    return lines;
}
