/* claim.c: durable claims that make effects idempotent across retries and restarts.
 * A step takes the claim keyed by its effect before acting and records the result after;
 * a completed effect is never repeated, and a claim whose lease ran out (its runner died)
 * can be taken over. BEGIN IMMEDIATE makes the check-and-take atomic across processes. */
#include <string.h>
#include <unistd.h>
#include "durable_priv.h"

char *tf_claim_owner_new(void)
{
    return g_strdup_printf("%s:%d:%08x", g_get_host_name(), (int)getpid(), g_random_int());
}

static tf_claim_status claim_locked(tf_store *s, const char *key, const char *owner,
                                    gint64 lease_us, json_t **result, gboolean *taken_over,
                                    GError **error)
{
    gint64 now = g_get_real_time();
    sqlite3_stmt *st = tf_store_stmt(
        s, "SELECT owner, state, lease_until, result FROM claims WHERE key = ?1", error);
    if (!st)
        return TF_CLAIM_ERROR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        tf_store_set_error(s, error, "claim");
        sqlite3_reset(st);
        return TF_CLAIM_ERROR;
    }
    gboolean exists = rc == SQLITE_ROW;
    char *cur_owner = exists ? g_strdup((const char *)sqlite3_column_text(st, 0)) : NULL;
    gboolean done = exists && !g_strcmp0((const char *)sqlite3_column_text(st, 1), "done");
    gint64 lease_until = exists ? sqlite3_column_int64(st, 2) : 0;
    char *stored = exists && sqlite3_column_type(st, 3) != SQLITE_NULL
                       ? g_strdup((const char *)sqlite3_column_text(st, 3))
                       : NULL;
    sqlite3_reset(st);

    tf_claim_status out;
    if (done) {
        if (result)
            *result = stored ? json_loads(stored, JSON_DECODE_ANY, NULL) : json_null();
        out = TF_CLAIM_DONE;
    } else if (exists && g_strcmp0(cur_owner, owner) != 0 && lease_until > now) {
        out = TF_CLAIM_BUSY;
    } else {
        gboolean takeover = exists && g_strcmp0(cur_owner, owner) != 0;
        st = tf_store_stmt(s,
                           "INSERT INTO claims(key, owner, state, lease_until, acquired, attempts)"
                           " VALUES (?1, ?2, 'held', ?3, ?4, 1) ON CONFLICT(key) DO UPDATE SET"
                           " owner = ?2, lease_until = ?3, acquired = ?4, attempts = attempts + ?5",
                           error);
        if (!st) {
            out = TF_CLAIM_ERROR;
        } else {
            sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, now + lease_us);
            sqlite3_bind_int64(st, 4, now);
            sqlite3_bind_int(st, 5, takeover ? 1 : 0);
            out = tf_store_step_done(s, st, "claim", error) ? TF_CLAIM_ACQUIRED : TF_CLAIM_ERROR;
        }
        if (out == TF_CLAIM_ACQUIRED && taken_over)
            *taken_over = takeover;
    }
    g_free(cur_owner);
    g_free(stored);
    return out;
}

tf_claim_status tf_claim_acquire(tf_store *s, const char *key, const char *owner,
                                 gint64 lease_us, json_t **result, gboolean *taken_over,
                                 GError **error)
{
    if (result)
        *result = NULL;
    if (taken_over)
        *taken_over = FALSE;
    if (!key || !owner || lease_us <= 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "store %s: claim: key, owner and a positive lease are required", s->path);
        return TF_CLAIM_ERROR;
    }
    tf_mutex_lock(&s->lock);
    tf_claim_status st = TF_CLAIM_ERROR;
    if (tf_store_begin(s, error)) {
        st = claim_locked(s, key, owner, lease_us, result, taken_over, error);
        if (st == TF_CLAIM_ERROR)
            tf_store_rollback(s);
        else if (!tf_store_commit(s, error))
            st = TF_CLAIM_ERROR;
        if (st == TF_CLAIM_ERROR && result && *result)
            g_clear_pointer(result, json_decref);
    }
    tf_mutex_unlock(&s->lock);
    return st;
}

/* Runs an owner-checked update; FALSE + TF_ERROR_INVALID when the claim is not ours. */
static gboolean owner_update(tf_store *s, const char *sql, const char *key, const char *owner,
                             const char *result, const char *what, GError **error)
{
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s, sql, error);
    gboolean ok = FALSE;
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
        if (result)
            sqlite3_bind_text(st, 3, result, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, g_get_real_time());
        ok = tf_store_step_done(s, st, what, error);
        if (ok && sqlite3_changes(s->db) == 0) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "store %s: %s of '%s': not held by %s (its lease expired and another "
                        "runner took it over, or it was never taken)",
                        s->path, what, key, owner);
            ok = FALSE;
        }
    }
    tf_mutex_unlock(&s->lock);
    return ok;
}

gboolean tf_claim_complete(tf_store *s, const char *key, const char *owner, json_t *result,
                           GError **error)
{
    char *text = tf_json_canonical(result);
    gboolean ok = owner_update(s,
                               "UPDATE claims SET state = 'done', result = ?3, completed = ?4"
                               " WHERE key = ?1 AND owner = ?2 AND state = 'held'",
                               key, owner, text, "complete claim", error);
    g_free(text);
    return ok;
}

gboolean tf_claim_release(tf_store *s, const char *key, const char *owner, GError **error)
{
    return owner_update(s,
                        "DELETE FROM claims WHERE key = ?1 AND owner = ?2 AND state = 'held'"
                        " AND ?4 IS NOT NULL",
                        key, owner, NULL, "release claim", error);
}
