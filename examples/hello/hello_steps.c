/* hello_steps.c: a user's step module, built two ways: as a plug-in for
 * `tf run --plugin libhello_steps.so` and into a user's own runner (runner.c).
 * It observes a tiny in-process "service" through a tf runtime, so the steps wait on a
 * handle exactly as real ones do. Only the public API (pkg-config tf) is used. */
#include <stdatomic.h>
#include <tf/tf.h>

typedef struct {
    atomic_int value; /* the "service" state the scenario changes */
    tf_runtime *rt;
    tf_handle *h;
} hello;

/* ---- the observer: snapshot = the service's value --------------------------------- */

static void *obs_init(const void *cfg, GError **e) { return (void *)cfg; }
static gboolean obs_poll(void *state, tf_poll_ctx *ctx, GError **e) { return TRUE; }
static void *obs_snapshot(void *state)
{
    return GINT_TO_POINTER(atomic_load(&((hello *)state)->value) + 1); /* +1: never NULL */
}
static void obs_nop(void *p) {}
static json_t *obs_json(const void *s) { return json_integer(GPOINTER_TO_INT(s) - 1); }

static const tf_observer hello_observer = {
    .name = "hello", .version = 1, .init = obs_init, .poll = obs_poll,
    .snapshot = obs_snapshot, .free_state = obs_nop, .free_snapshot = obs_nop,
    .free_event = obs_nop, .snapshot_to_json = obs_json, .event_to_json = obs_json,
};

static void hello_free(void *p)
{
    hello *h = p;
    tf_handle_unref(h->h);
    tf_runtime_free(h->rt);
    g_free(h);
}

/* ---- steps ------------------------------------------------------------------------- */

static gboolean any_snapshot(const tf_snapshot *snap, void *unused) { return TRUE; }

static tf_step_status given_service(tf_step *step, GError **error)
{
    hello *h = g_new0(hello, 1);
    atomic_store(&h->value, (int)tf_step_arg_int(step, 0));
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 10000;
    h->rt = tf_runtime_new(&cfg, &hello_observer, h, tf_source_provider_new_static(NULL, 0), error);
    if (!h->rt) {
        g_free(h);
        return TF_STEP_FAILED;
    }
    h->h = tf_runtime_handle(h->rt);
    tf_world_set(tf_step_world(step), "hello", h, hello_free);
    if (!tf_runtime_start(h->rt, error))
        return TF_STEP_FAILED;
    /* "Given" ends once the service is observed, not merely started. */
    tf_snapshot *s = tf_handle_wait(h->h, any_snapshot, NULL, "the service is observed",
                                    5 * G_USEC_PER_SEC, error);
    tf_snapshot_unref(s);
    return s ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status when_add(tf_step *step, GError **error)
{
    hello *h = tf_world_get(tf_step_world(step), "hello");
    atomic_fetch_add(&h->value, (int)tf_step_arg_int(step, 0));
    return TF_STEP_PASSED;
}

static gboolean value_is(const tf_snapshot *snap, void *want)
{
    return GPOINTER_TO_INT(tf_snapshot_data(snap)) - 1 == GPOINTER_TO_INT(want);
}

static tf_step_status then_value(tf_step *step, GError **error)
{
    hello *h = tf_world_get(tf_step_world(step), "hello");
    gint want = (gint)tf_step_arg_int(step, 0);
    char *what = g_strdup_printf("the service shows %d", want);
    tf_snapshot *s = tf_handle_wait(h->h, value_is, GINT_TO_POINTER(want), what,
                                    (gint64)(tf_step_arg_double(step, 1) * G_USEC_PER_SEC), error);
    g_free(what);
    tf_snapshot_unref(s);
    return s ? TF_STEP_PASSED : TF_STEP_FAILED;
}

/* The step module: runner.c registers it; as a plug-in, TF_PLUGIN_DEFINE exports it. */
gboolean hello_steps_register(tf_registry *reg, GError **error)
{
    TF_GIVEN("a service starting at {int}", given_service);
    TF_WHEN("I add {int}", when_add);
    TF_THEN("the service shows {int} within {float} seconds", then_value);
    return TRUE;
}

/* The plug-in's entry point and the record of the tf it was built against. */
TF_PLUGIN_DEFINE(hello_steps_register)
