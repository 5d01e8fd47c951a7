/* world_store.c: how steps find the durable store without a global: it lives in the
 * scenario's world, put there by the runner or opened from TF_STORE on first use.
 * Steps that take claims (idempotent effects) call tf_world_store and skip claims on NULL. */
#include <stdlib.h>
#include "durable_priv.h"
#include "tf/steps.h"

#define WORLD_STORE_KEY "tf.store"
#define WORLD_OWNER_KEY "tf.claim_owner"
#define WORLD_RUN_KEY "tf.run"

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

void tf_world_use_store(tf_world *world, tf_store *s, gint64 run)
{
    tf_world_set(world, WORLD_STORE_KEY, tf_store_ref(s), (GDestroyNotify)tf_store_unref);
    tf_world_set(world, WORLD_RUN_KEY, g_memdup2(&run, sizeof run), g_free);
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

/* Ends the run a world began, with the world's outcome. */
typedef struct {
    tf_world *world;
    tf_store *store;
    gint64 run;
} world_run;

static void world_run_end(gpointer p)
{
    world_run *r = p;
    const char *status = tf_world_interrupted(r->world)                  ? "interrupted"
                         : tf_world_status(r->world) == TF_STATUS_PASSED ? "passed"
                                                                         : "failed";
    GError *err = NULL;
    if (!tf_store_run_end(r->store, r->run, status, &err)) {
        g_warning("%s", err->message);
        g_error_free(err);
    }
    tf_store_unref(r->store);
    g_free(r);
}

gint64 tf_world_run(tf_world *world, GError **error)
{
    gint64 *given = tf_world_get(world, WORLD_RUN_KEY);
    if (given)
        return *given;
    world_run *r = tf_world_get(world, WORLD_RUN_KEY ".own");
    if (r)
        return r->run;
    tf_store *s = tf_world_store(world, error);
    if (!s)
        return 0;
    const tf_gherkin_pickle *p = tf_world_pickle(world);
    gint64 run = tf_store_run_begin(s, p ? p->name : "", error);
    if (!run)
        return 0;
    r = g_new0(world_run, 1);
    r->world = world;
    r->store = tf_store_ref(s);
    r->run = run;
    tf_world_set(world, WORLD_RUN_KEY ".own", r, world_run_end);
    return run;
}

tf_journal *tf_world_journal(tf_world *world, const char *stream, GError **error)
{
    tf_store *s = tf_world_store(world, error);
    if (!s)
        return NULL;
    gint64 run = tf_world_run(world, error);
    return run ? tf_journal_open(s, stream, run, error) : NULL;
}

gboolean tf_world_journal_runtime(tf_world *world, tf_runtime *rt, const char *stream,
                                  GError **error)
{
    GError *err = NULL;
    if (!tf_world_store(world, &err)) {
        if (!err)
            return TRUE; /* durability is opt-in */
        g_propagate_error(error, err);
        return FALSE;
    }
    const tf_gherkin_pickle *p = tf_world_pickle(world);
    char *name = g_strdup_printf("%s/%s", stream, p ? p->name : "");
    tf_journal *j = tf_world_journal(world, name, error);
    g_free(name);
    gboolean ok = j && tf_runtime_set_journal(rt, j, error);
    tf_journal_unref(j);
    return ok;
}
