/* world_effect.c: a step's side effect done at most once. Retried scenarios and
 * restarted runners replay the recorded result of a completed effect instead of
 * repeating it; the store's claim (tf_claim_acquire) is keyed by the effect's kind, its
 * input and the scenario's place. */
#include "tf/error.h"
#include "tf/world_store.h"

json_t *tf_world_effect_once(tf_world *world, const char *kind, json_t *input, gint64 lease_us,
                             tf_effect_fn fn, void *data, gboolean *replayed, GError **error)
{
    *replayed = FALSE;
    tf_store *store;
    switch (tf_world_store(world, &store, error)) {
    case TF_LOOKUP_ABSENT:
        return fn(data, error); /* durability is opt-in */
    case TF_LOOKUP_FAILED:
        return NULL;
    case TF_LOOKUP_FOUND:
        break;
    }
    const tf_gherkin_pickle *p = tf_world_pickle(world);
    json_t *keyed = json_pack("{s:s, s:i, s:O}", "uri", p ? p->uri : "",
                              "line", p ? (int)p->location.line : 0, "input", input);
    char *hash = tf_cache_key(kind, keyed);
    char *key = g_strdup_printf("%s:%s", kind, hash);
    g_free(hash);
    json_decref(keyed);
    const char *owner = tf_world_claim_owner(world);
    json_t *result = NULL;
    switch (tf_claim_acquire(store, key, owner, lease_us, &result, NULL, error)) {
    case TF_CLAIM_ACQUIRED:
        result = fn(data, error);
        if (!result)
            tf_claim_release(store, key, owner, NULL); /* not done: a retry may act */
        else if (!tf_claim_complete(store, key, owner, result, error))
            g_clear_pointer(&result, json_decref);
        break;
    case TF_CLAIM_DONE:
        *replayed = TRUE;
        if (!result)
            g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT, "%s: completed without a result", key);
        break;
    case TF_CLAIM_BUSY:
        g_set_error(error, TF_ERROR, TF_ERROR_FAILED,
                    "%s: another runner is doing this now (its lease has not expired)", key);
        break;
    case TF_CLAIM_ERROR:
        break;
    }
    g_free(key);
    return result;
}
