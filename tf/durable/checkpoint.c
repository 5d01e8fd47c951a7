/* checkpoint.c: observer checkpoints that know when the logic changed. A checkpoint is
 * trusted only if bootstrap had finished, its checksum verifies and its fingerprint equals
 * the current one; every other case is a full scan, and the caller gets a log line saying
 * which case it was. */
#include <string.h>
#include "durable_priv.h"

const char *tf_checkpoint_status_name(tf_checkpoint_status st)
{
    switch (st) {
    case TF_CHECKPOINT_VALID: return "valid";
    case TF_CHECKPOINT_MISSING: return "missing";
    case TF_CHECKPOINT_MISMATCH: return "mismatch";
    case TF_CHECKPOINT_INCOMPLETE: return "incomplete";
    case TF_CHECKPOINT_CORRUPT: return "corrupt";
    case TF_CHECKPOINT_ERROR: return "error";
    }
    return "unknown";
}

gboolean tf_checkpoint_save(tf_store *s, const char *name, const char *fingerprint,
                            gboolean bootstrapped, json_t *state, GError **error)
{
    char *text = tf_json_canonical(state);
    char *sum = tf_sha256_hex(text, strlen(text));
    gboolean ok = FALSE;
    tf_mutex_lock(&s->lock);
    /* A checkpoint lets a restart skip work: it must reach the disk, not only the OS. */
    if (!tf_store_exec(s, "PRAGMA synchronous=FULL", error))
        goto out;
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "INSERT OR REPLACE INTO checkpoints(name, fingerprint,"
                                     " bootstrapped, saved, checksum, state)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                     error);
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, bootstrapped ? 1 : 0);
        sqlite3_bind_int64(st, 4, g_get_real_time());
        sqlite3_bind_text(st, 5, sum, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
        ok = tf_store_step_done(s, st, "save checkpoint", error);
    }
    tf_store_exec(s, "PRAGMA synchronous=NORMAL", NULL);
out:
    tf_mutex_unlock(&s->lock);
    g_free(sum);
    g_free(text);
    return ok;
}

static char *short_fp(const char *fp)
{
    return g_strndup(fp ? fp : "", 12);
}

tf_checkpoint_status tf_checkpoint_load(tf_store *s, const char *name,
                                        const char *fingerprint, json_t **state, char **why,
                                        GError **error)
{
    *state = NULL;
    tf_checkpoint_status out;
    char *reason = NULL;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "SELECT fingerprint, bootstrapped, checksum, state"
                                     " FROM checkpoints WHERE name = ?1",
                                     error);
    int rc = st ? (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC), sqlite3_step(st))
                : SQLITE_ERROR;
    if (rc == SQLITE_DONE) {
        out = TF_CHECKPOINT_MISSING;
        reason = g_strdup("none stored");
    } else if (rc != SQLITE_ROW) {
        out = TF_CHECKPOINT_ERROR;
        if (st)
            tf_store_set_error(s, error, "load checkpoint");
        reason = g_strdup_printf("unreadable: %s", error && *error ? (*error)->message : "?");
    } else {
        const char *stored_fp = (const char *)sqlite3_column_text(st, 0);
        gboolean boot = sqlite3_column_int(st, 1) != 0;
        const char *sum = (const char *)sqlite3_column_text(st, 2);
        const char *text = (const char *)sqlite3_column_text(st, 3);
        int len = sqlite3_column_bytes(st, 3);
        char *actual = text ? tf_sha256_hex(text, (gsize)len) : NULL;
        json_error_t jerr;
        if (!text || !sum || g_strcmp0(actual, sum) != 0) {
            out = TF_CHECKPOINT_CORRUPT;
            reason = g_strdup("corrupt: its checksum does not match its content");
        } else if (g_strcmp0(stored_fp, fingerprint) != 0) {
            out = TF_CHECKPOINT_MISMATCH;
            char *a = short_fp(stored_fp), *b = short_fp(fingerprint);
            reason = g_strdup_printf("fingerprint mismatch (stored %s.., now %s..: the "
                                     "observer's version, config or code changed)",
                                     a, b);
            g_free(a);
            g_free(b);
        } else if (!boot) {
            out = TF_CHECKPOINT_INCOMPLETE;
            reason = g_strdup("saved before its bootstrap finished");
        } else if (!(*state = json_loads(text, JSON_DECODE_ANY, &jerr))) {
            out = TF_CHECKPOINT_CORRUPT;
            reason = g_strdup_printf("corrupt: its JSON does not parse (%s)", jerr.text);
        } else {
            out = TF_CHECKPOINT_VALID;
            reason = g_strdup("valid: the full catch-up is skipped");
        }
        g_free(actual);
    }
    if (st)
        sqlite3_reset(st);
    tf_mutex_unlock(&s->lock);
    if (why)
        *why = g_strdup_printf("checkpoint of %s: %s%s", name, reason,
                               out == TF_CHECKPOINT_VALID ? "" : ": full scan");
    g_free(reason);
    return out;
}
