/* store_steps.c: see store_steps.h. */
#include <pthread.h>
#include "store_steps.h"

#define COUNTER_KEY "store_steps.counter"

static void counter_free(void *p)
{
    store_counter *c = p;
    tf_handle_unref(c->h);
    tf_runtime_free(c->rt);
    g_free(c);
}

store_counter *store_counter_start(tf_world *world, const char *key, gint value, GError **error)
{
    store_counter *c = g_new0(store_counter, 1);
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 1000;
    tf_source *src = counter_source_new("n0", &c->cell);
    c->rt = tf_runtime_new(&cfg, &counter_observer, NULL,
                           tf_source_provider_new_static(&src, 1), error);
    tf_source_unref(src);
    if (!c->rt || !tf_world_journal_runtime(world, c->rt, "counter", error)) {
        counter_free(c);
        return NULL;
    }
    c->h = tf_runtime_handle(c->rt);
    tf_world_set(world, key, c, counter_free);
    g_atomic_int_set(&c->cell.value, value);
    return tf_runtime_start(c->rt, error) ? c : NULL;
}

static gboolean shows_value(const tf_snapshot *snap, void *data)
{
    const counter_snapshot *cs = tf_snapshot_data(snap);
    return counter_snapshot_value(cs, "n0") == GPOINTER_TO_INT(data);
}

/* Sets the counter to v and waits until the runtime has published it. */
static gboolean change_to(store_counter *c, gint v, GError **error)
{
    g_atomic_int_set(&c->cell.value, v);
    tf_handle_wake(c->h);
    tf_snapshot *s = tf_handle_wait(c->h, shows_value, GINT_TO_POINTER(v), "the new value",
                                    10 * G_USEC_PER_SEC, error);
    tf_snapshot_unref(s);
    return s != NULL;
}

static tf_step_status given_changes(tf_step *step, GError **error)
{
    store_counter *c = store_counter_start(tf_step_world(step), COUNTER_KEY, 0, error);
    if (!c || !change_to(c, 0, error))
        return TF_STEP_FAILED;
    for (gint i = 1; i <= tf_step_arg_int(step, 0); i++)
        if (!change_to(c, i, error))
            return TF_STEP_FAILED;
    return TF_STEP_PASSED;
}

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *seen; /* pickle ids that already failed once in this process */

static tf_step_status then_fails_first(tf_step *step, GError **error)
{
    const char *id = tf_world_pickle(tf_step_world(step))->id;
    pthread_mutex_lock(&seen_lock);
    if (!seen)
        seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean first = g_hash_table_add(seen, g_strdup(id));
    pthread_mutex_unlock(&seen_lock);
    return first ? TF_FAIL(error, "first attempt fails as asked") : TF_STEP_PASSED;
}

/* Runs first among the world's cleanups (stored last), while the runtime still runs. */
static void late_change(void *p)
{
    store_counter *c = p;
    GError *err = NULL;
    if (!change_to(c, g_atomic_int_get(&c->cell.value) + 1, &err)) {
        g_printerr("store_steps: late change: %s\n", err->message);
        g_error_free(err);
    }
}

static tf_step_status then_late(tf_step *step, GError **error)
{
    tf_world *w = tf_step_world(step);
    store_counter *c = tf_world_get(w, COUNTER_KEY);
    if (!c)
        return TF_FAIL(error, "no observed counter in this scenario");
    tf_world_set(w, "store_steps.late", c, late_change);
    return TF_STEP_PASSED;
}

gboolean store_steps_register(tf_registry *reg, GError **error)
{
    TF_GIVEN("an observed counter that changes {int} times", given_changes);
    TF_THEN("it fails on the first attempt", then_fails_first);
    TF_THEN("the counter changes once more as the scenario ends", then_late);
    return TRUE;
}
