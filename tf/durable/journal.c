/* journal.c: the append-only event journal, because a bounded ring is a summary, not a
 * ledger. Each append commits the batch and the stream's last sequence number in one
 * transaction, so the stored sequence is gapless after any crash and a number is never
 * handed out twice, even once old batches were pruned. */
#include <string.h>
#include "durable_priv.h"

struct tf_journal {
    gint refs;
    tf_store *store;
    char *stream;
    gint64 run;
};

tf_journal *tf_journal_open(tf_store *s, const char *stream, gint64 run, GError **error)
{
    if (!stream || !*stream) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "store %s: journal: empty stream name",
                    s->path);
        return NULL;
    }
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(
        s, "INSERT INTO streams(name, last_seq) VALUES (?1, 0) ON CONFLICT(name) DO NOTHING",
        error);
    gboolean ok = st != NULL;
    if (ok) {
        sqlite3_bind_text(st, 1, stream, -1, SQLITE_TRANSIENT);
        ok = tf_store_step_done(s, st, "open journal", error);
    }
    tf_mutex_unlock(&s->lock);
    if (!ok)
        return NULL;
    tf_journal *j = g_new0(tf_journal, 1);
    j->refs = 1;
    j->store = tf_store_ref(s);
    j->stream = g_strdup(stream);
    j->run = run;
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
    g_free(j->stream);
    g_free(j);
}

const char *tf_journal_stream(const tf_journal *j) { return j->stream; }
tf_store *tf_journal_store(const tf_journal *j) { return j->store; }

/* Lock held. */
static gboolean last_seq_locked(tf_journal *j, guint64 *out, GError **error)
{
    tf_store *s = j->store;
    sqlite3_stmt *st = tf_store_stmt(s, "SELECT last_seq FROM streams WHERE name = ?1", error);
    if (!st)
        return FALSE;
    sqlite3_bind_text(st, 1, j->stream, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    gboolean ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    *out = rc == SQLITE_ROW ? (guint64)sqlite3_column_int64(st, 0) : 0;
    if (!ok)
        tf_store_set_error(s, error, "journal last seq");
    sqlite3_reset(st);
    return ok;
}

guint64 tf_journal_last_seq(tf_journal *j, GError **error)
{
    guint64 seq = 0;
    tf_mutex_lock(&j->store->lock);
    last_seq_locked(j, &seq, error);
    tf_mutex_unlock(&j->store->lock);
    return seq;
}

guint64 tf_journal_next_stored(tf_journal *j, guint64 seq, GError **error)
{
    tf_store *s = j->store;
    guint64 found = 0;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st =
        tf_store_stmt(s, "SELECT min(seq) FROM journal WHERE stream = ?1 AND seq >= ?2", error);
    if (st) {
        sqlite3_bind_text(st, 1, j->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
        if (sqlite3_step(st) == SQLITE_ROW)
            found = (guint64)sqlite3_column_int64(st, 0); /* NULL reads as 0 */
        else
            tf_store_set_error(s, error, "journal next stored");
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return found;
}

gboolean tf_journal_append(tf_journal *j, guint64 seq, guint64 cycle, gint64 wall_time,
                           json_t *batch_json, GError **error)
{
    tf_store *s = j->store;
    char *text = tf_json_canonical(batch_json);
    gboolean ok = FALSE;
    tf_mutex_lock(&s->lock);
    if (!tf_store_begin(s, error))
        goto out;
    guint64 last;
    if (!last_seq_locked(j, &last, error))
        goto fail;
    if (seq != last + 1) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "store %s: journal %s: append seq %" G_GUINT64_FORMAT
                    " would leave a gap or reuse a number (last is %" G_GUINT64_FORMAT ")",
                    s->path, j->stream, seq, last);
        goto fail;
    }
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "INSERT INTO journal(stream, seq, run, cycle, wall_time, batch)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                     error);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, j->stream, -1, SQLITE_STATIC);
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
    sqlite3_bind_text(st, 1, j->stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    if (!tf_store_step_done(s, st, "journal seq", error) || !tf_store_commit(s, error))
        goto out;
    ok = TRUE;
    if (++s->appends >= 1000 && (s->retention.max_batches || s->retention.max_age_us))
        tf_store_prune_locked(s, NULL); /* best effort: the append itself is committed */
    goto out;
fail:
    tf_store_rollback(s);
out:
    tf_mutex_unlock(&s->lock);
    g_free(text);
    return ok;
}

gboolean tf_journal_append_batch(tf_journal *j, const tf_batch *b, GError **error)
{
    json_t *v = tf_batch_to_json(b);
    gboolean ok = tf_journal_append(j, tf_batch_seq(b), tf_batch_cycle(b),
                                    tf_batch_wall_time(b), v, error);
    json_decref(v);
    return ok;
}

json_t *tf_journal_read(tf_journal *j, guint64 seq, GError **error)
{
    tf_store *s = j->store;
    json_t *v = NULL;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st =
        tf_store_stmt(s, "SELECT batch FROM journal WHERE stream = ?1 AND seq = ?2", error);
    if (st) {
        sqlite3_bind_text(st, 1, j->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            json_error_t jerr;
            v = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY, &jerr);
            if (!v)
                g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT,
                            "store %s: journal %s seq %" G_GUINT64_FORMAT ": bad JSON: %s",
                            s->path, j->stream, seq, jerr.text);
        } else if (rc != SQLITE_DONE) {
            tf_store_set_error(s, error, "journal read");
        }
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return v;
}

gint64 tf_store_export_journal(tf_store *s, gint64 run, const char *stream, FILE *out,
                               GError **error)
{
    if (run == 0) {
        run = tf_store_run_latest(s, error);
        if (run == 0) {
            if (error && !*error)
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "store %s: no run recorded",
                            s->path);
            return -1;
        }
    }
    gint64 lines = 0;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "SELECT stream, seq, cycle, wall_time, batch FROM journal"
                                     " WHERE run = ?1 AND (?2 IS NULL OR stream = ?2)"
                                     " ORDER BY stream, seq",
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
        json_t *batch = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
        json_t *events = batch ? json_object_get(batch, "events") : NULL;
        json_t *line = json_pack("{s:I, s:s, s:I, s:I, s:O?}", "run", (json_int_t)run, "stream",
                                 (const char *)sqlite3_column_text(st, 0), "seq",
                                 (json_int_t)sqlite3_column_int64(st, 1), "cycle",
                                 (json_int_t)sqlite3_column_int64(st, 2), "events", events);
        json_t *wall = batch ? json_object_get(batch, "wall_time") : NULL;
        json_object_set_new(line, "wall_time",
                            wall ? json_incref(wall) : json_integer(sqlite3_column_int64(st, 3)));
        if (!batch)
            json_object_set_new(line, "error", json_string("stored batch is not valid JSON"));
        char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fprintf(out, "%s\n", text);
        free(text);
        json_decref(line);
        json_decref(batch);
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
