/* cache.c: cached projection results with provenance. A result is stored under a hash of
 * everything it was computed from (the projection's fingerprint and its input), so a
 * restart reuses results for inputs it has seen and computes only new ones; each entry
 * says which run made it, when, and from what input. */
#include <string.h>
#include "durable_priv.h"

char *tf_cache_key(const char *fingerprint, json_t *input)
{
    char *canon = tf_json_canonical(input);
    char *text = g_strconcat(fingerprint ? fingerprint : "", "\n", canon, NULL);
    char *key = tf_sha256_hex(text, strlen(text));
    g_free(text);
    g_free(canon);
    return key;
}

gboolean tf_cache_put(tf_store *s, const char *kind, const char *key, json_t *input,
                      json_t *result, gint64 run, GError **error)
{
    char *in = tf_json_canonical(input), *res = tf_json_canonical(result);
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(s,
                                     "INSERT OR REPLACE INTO cache(kind, key, result, input, run, time)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                     error);
    gboolean ok = FALSE;
    if (st) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, res, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, in, -1, SQLITE_STATIC);
        if (run > 0)
            sqlite3_bind_int64(st, 5, run);
        sqlite3_bind_int64(st, 6, g_get_real_time());
        ok = tf_store_step_done(s, st, "cache put", error);
    }
    tf_mutex_unlock(&s->lock);
    g_free(in);
    g_free(res);
    return ok;
}

tf_lookup tf_cache_get(tf_store *s, const char *kind, const char *key, json_t **result,
                       json_t **provenance, GError **error)
{
    tf_lookup out = TF_LOOKUP_FAILED;
    *result = NULL;
    if (provenance)
        *provenance = NULL;
    tf_mutex_lock(&s->lock);
    sqlite3_stmt *st = tf_store_stmt(
        s, "SELECT result, input, run, time FROM cache WHERE kind = ?1 AND key = ?2", error);
    if (st) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            json_t *res = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY, NULL);
            json_t *input = json_loads((const char *)sqlite3_column_text(st, 1), JSON_DECODE_ANY, NULL);
            if (!res || !input) {
                g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT,
                            "store %s: cache %s/%s: stored JSON is unreadable", s->path, kind, key);
                json_decref(res);
            } else {
                *result = res;
                out = TF_LOOKUP_FOUND;
                if (provenance) {
                    json_t *run = sqlite3_column_type(st, 2) == SQLITE_NULL
                                      ? json_null()
                                      : json_integer(sqlite3_column_int64(st, 2));
                    *provenance = json_pack("{s:o, s:I, s:O}", "run", run, "time",
                                            (json_int_t)sqlite3_column_int64(st, 3), "input", input);
                }
            }
            json_decref(input);
        } else if (rc == SQLITE_DONE) {
            out = TF_LOOKUP_ABSENT;
        } else {
            tf_store_set_error(s, error, "cache get");
        }
        sqlite3_reset(st);
    }
    tf_mutex_unlock(&s->lock);
    return out;
}
