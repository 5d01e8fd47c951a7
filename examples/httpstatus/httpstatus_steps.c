/* httpstatus_steps.c: steps over a web cluster watched by the httpstatus observer, as a
 * plug-in: `tf run --plugin ./libhttpstatus_steps.so web.feature`. The Given step starts
 * the nodes the cluster spec clusters/web.json describes and a runtime over them; the
 * When steps act on one node; the Then step waits on the runtime's handle (no sleep, no
 * retry loop: the wait is woken by every published snapshot). */
#include <string.h>
#include "httpstatus.h"

/* What the scenario keeps in its world under "web" (the cluster is kept apart, under
 * "web.cluster", so that it is stored first and therefore freed last). */
typedef struct {
    tf_runtime *rt;
    tf_handle *h;
    gint64 acted_at; /* monotonic µs when the last When step finished: Then reads after it */
} web;

static void web_free(void *p)
{
    web *w = p;
    tf_handle_unref(w->h);
    tf_runtime_free(w->rt); /* stops polling before the cluster goes */
    g_free(w);
}

static gboolean n_up(const tf_snapshot *snap, void *want)
{
    const httpstatus_snapshot *s = tf_snapshot_data(snap);
    return s->n_up == GPOINTER_TO_UINT(want);
}

/* "2/3 up: n1 up, n2 down, n3 up": what the live status line and a timeout show. */
static char *progress(const tf_snapshot *snap, void *unused)
{
    const httpstatus_snapshot *s = tf_snapshot_data(snap);
    GString *p = g_string_new(NULL);
    g_string_append_printf(p, "%u/%u up:", s->n_up, s->n_nodes);
    for (guint i = 0; i < s->n_nodes; i++)
        g_string_append_printf(p, "%s %s %s", i ? "," : "", s->nodes[i].name,
                               s->nodes[i].up ? "up" : "down");
    return g_string_free(p, FALSE);
}

/* Waits until exactly `want` nodes answer, on snapshots taken after the last action. */
static tf_step_status wait_up(tf_step *step, web *w, guint want, double seconds, GError **error)
{
    char *what = g_strdup_printf("%u web node%s answer%s", want, want == 1 ? "" : "s",
                                 want == 1 ? "s" : "");
    gint64 timeout = (gint64)(seconds * G_USEC_PER_SEC);
    if (tf_step_timeout(step) > 0)
        timeout = MIN(timeout, tf_step_timeout(step)); /* never outlive the runner's patience */
    tf_wait wait = {.pred = n_up, .data = GUINT_TO_POINTER(want), .what = what,
                    .timeout_us = MAX(timeout, 1), .fresh_after = w->acted_at,
                    .progress = progress};
    tf_snapshot *snap = tf_handle_wait_for(w->h, &wait, error);
    g_free(what);
    tf_snapshot_unref(snap);
    return snap ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status given_cluster(tf_step *step, GError **error)
{
    tf_world *world = tf_step_world(step);
    gint64 n = tf_step_arg_int(step, 0);
    if (n < 1 || n > 64)
        return TF_FAIL(error, "a web cluster has 1 to 64 nodes, not %" G_GINT64_FORMAT, n);
    /* clusters/web.json next to the feature (or above it), or $TF_CLUSTERS/web.json */
    const tf_gherkin_pickle *p = tf_world_pickle(world);
    tf_cluster_spec *spec = tf_cluster_spec_load_named("web", p ? p->uri : NULL, error);
    if (!spec || !tf_cluster_spec_require_url(spec, "the httpstatus observer", error)) {
        tf_cluster_spec_free(spec);
        return TF_STEP_FAILED;
    }
    tf_cluster *c = tf_cluster_new(spec, (guint)n, error);
    tf_cluster_spec_free(spec); /* the cluster keeps its own reference */
    if (!c)
        return TF_STEP_FAILED;
    /* From here the world frees the cluster (killing its nodes), however the scenario ends. */
    tf_world_set(world, "web.cluster", c, (GDestroyNotify)tf_cluster_free);
    if (!tf_cluster_start(c, error)) /* every node passed the spec's readiness probe */
        return TF_STEP_FAILED;

    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 50 * 1000;
    cfg.request_timeout_us = G_USEC_PER_SEC;
    httpstatus_config hc = {.path = "/"};
    tf_runtime *rt = tf_runtime_new(&cfg, &httpstatus_observer, &hc, tf_cluster_provider(c), error);
    if (!rt)
        return TF_STEP_FAILED;
    /* With --store, every event batch is journaled (tf history export): set up before the
     * runtime is stored, so the world ends the run after the runtime is flushed. */
    if (!tf_world_journal_runtime(world, rt, "httpstatus", error)) {
        tf_runtime_free(rt);
        return TF_STEP_FAILED;
    }
    web *w = g_new0(web, 1);
    w->rt = rt;
    w->h = tf_runtime_handle(rt);
    tf_world_set(world, "web", w, web_free);
    if (!tf_runtime_start(rt, error))
        return TF_STEP_FAILED;
    /* "Given" holds once tf sees every node answer, not merely once they were started. */
    return wait_up(step, w, (guint)n, 10, error);
}

/* The cluster and the world's web, or FALSE + an error saying which step is missing. */
static gboolean get_web(tf_step *step, tf_cluster **c, web **w, GError **error)
{
    *c = tf_world_get(tf_step_world(step), "web.cluster");
    *w = tf_world_get(tf_step_world(step), "web");
    if (*c && *w)
        return TRUE;
    g_set_error(error, TF_ERROR, TF_ERROR_FAILED,
                "no web cluster in this scenario: start one with \"Given a 3-node web cluster is running\"");
    return FALSE;
}

/* A fault on one node: tf_cluster_node_kill, tf_cluster_node_start... */
typedef gboolean (*node_action)(tf_cluster *c, guint i, GError **error);

/* Applies fn to the node named by the step's first argument and notes when it ended. */
static tf_step_status act_on_node(tf_step *step, node_action fn, GError **error)
{
    tf_cluster *c;
    web *w;
    if (!get_web(step, &c, &w, error))
        return TF_STEP_FAILED;
    const char *name = tf_step_arg_str(step, 0);
    gint i = tf_cluster_node_index(c, name);
    if (i < 0)
        return TF_FAIL(error, "web node %s: no such node (n1 to n%u)", name, tf_cluster_size(c));
    if (!fn(c, (guint)i, error))
        return TF_STEP_FAILED;
    w->acted_at = g_get_monotonic_time();
    return TF_STEP_PASSED;
}

static tf_step_status when_killed(tf_step *step, GError **error)
{
    return act_on_node(step, tf_cluster_node_kill, error);
}

static tf_step_status when_started(tf_step *step, GError **error)
{
    return act_on_node(step, tf_cluster_node_start, error); /* Then waits for it to answer */
}

static tf_step_status then_answer(tf_step *step, GError **error)
{
    tf_cluster *c;
    web *w;
    if (!get_web(step, &c, &w, error))
        return TF_STEP_FAILED;
    gint64 want = tf_step_arg_int(step, 0);
    if (want < 0 || want > tf_cluster_size(c))
        return TF_FAIL(error, "the web cluster has %u nodes, so %" G_GINT64_FORMAT " cannot answer",
                       tf_cluster_size(c), want);
    return wait_up(step, w, (guint)want, tf_step_arg_double(step, 1), error);
}

/* The steps; TF_PLUGIN_DEFINE below exports them as the entry point `tf run --plugin`
 * looks up, beside the record of the tf this was built against. */
static gboolean httpstatus_steps_register(tf_registry *reg, GError **error)
{
    TF_GIVEN("a {int}-node web cluster is running", given_cluster);
    TF_WHEN("web node {word} is killed", when_killed);
    TF_WHEN("web node {word} is started again", when_started);
    TF_THEN("{int} web node(s) answer(s) within {float} seconds", then_answer);
    return TRUE;
}

TF_PLUGIN_DEFINE(httpstatus_steps_register)
