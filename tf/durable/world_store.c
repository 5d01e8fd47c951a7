/* world_store.c: how steps find the durable store without a global: it lives in the
 * scenario's world, put there by the runner or opened from TF_STORE on first use.
 * Steps that take claims (idempotent effects) call tf_world_store and skip claims on NULL. */
#include <stdlib.h>
#include "durable_priv.h"
#include "tf/steps.h"

#define WORLD_STORE_KEY "tf.store"
#define WORLD_OWNER_KEY "tf.claim_owner"

tf_store *tf_world_store(tf_world *world, GError **error)
{
    tf_store *s = tf_world_get(world, WORLD_STORE_KEY);
    if (s)
        return s;
    const char *path = g_getenv("TF_STORE");
    if (!path || !*path)
        return NULL;
    s = tf_store_open(path, error);
    if (s)
        tf_world_set(world, WORLD_STORE_KEY, s, (GDestroyNotify)tf_store_unref);
    return s;
}

const char *tf_world_claim_owner(tf_world *world)
{
    const char *owner = tf_world_get(world, WORLD_OWNER_KEY);
    if (!owner) {
        char *fresh = tf_claim_owner_new();
        tf_world_set(world, WORLD_OWNER_KEY, fresh, g_free);
        owner = fresh;
    }
    return owner;
}
