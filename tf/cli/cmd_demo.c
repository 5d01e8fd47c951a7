/* cmd_demo.c: `tf demo`: the runtime observing a local HTTP source, end to end.
 * A toy three-node service (an in-process libmicrohttpd server whose counters move at
 * random times) is observed; a wait replaces the usual poll loop, the recorded event
 * batches are printed, an action is followed by a wait for a snapshot begun after it
 * (fresh_after), and, with one node failing, a deliberate timeout shows what a failed
 * expectation explains (what was awaited, the last snapshot, the last error). */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include "cli_priv.h"
#include "httpjson/httpjson.h"
#include "runner/options.h"
#include "tf/handle.h"
#include "tf/runtime.h"
#include "tf/snapshot.h"

#define DEMO_NODES 3

static const tf_opt_cmd demo_cmd = {
    .prog = "tf demo",
    .preamble =
        "Starts a toy 3-node HTTP service in process, observes it with the runtime and prints\n"
        "what a scenario step would see: a wait instead of a poll loop, the recorded event\n"
        "batches, a wait for a snapshot taken after an action (fresh_after) and, with one\n"
        "node failing, the explanation a timed-out expectation gives. Takes about 2 seconds.\n",
    .epilogue = "exit: 0 the demo ran as described, 1 it did not, 2 usage errors\n",
};

typedef struct {
    gint values[DEMO_NODES]; /* atomic */
    gint failing;            /* atomic: this node + 1 answers 503, 0 for none */
    gint stop;               /* atomic */
} demo_service;

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *data,
                             size_t *size, void **state)
{
    demo_service *svc = cls;
    unsigned i = DEMO_NODES;
    if (sscanf(url, "/node/%u", &i) != 1 || i >= DEMO_NODES)
        i = DEMO_NODES;
    unsigned status = i < DEMO_NODES ? 200 : 404;
    char *body = i < DEMO_NODES ? g_strdup_printf("{\"node\":%u,\"value\":%d}", i,
                                                  g_atomic_int_get(&svc->values[i]))
                                : g_strdup("{\"error\":\"no such node\"}");
    if (i < DEMO_NODES && (gint)i + 1 == g_atomic_int_get(&svc->failing)) {
        g_free(body);
        body = g_strdup("{\"error\":\"disk full\"}");
        status = 503;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The simulated system moves on its own; only the demo's fake cluster sleeps. */
static gpointer churn(gpointer data)
{
    demo_service *svc = data;
    GRand *rnd = g_rand_new_with_seed(42);
    while (!g_atomic_int_get(&svc->stop)) {
        g_usleep(g_rand_int_range(rnd, 10000, 60000));
        g_atomic_int_inc(&svc->values[g_rand_int_range(rnd, 0, DEMO_NODES)]);
    }
    g_rand_free(rnd);
    return NULL;
}

static gboolean all_at_least(const tf_snapshot *snap, void *data)
{
    const httpjson_snapshot *s = tf_snapshot_data(snap);
    if (s->up < DEMO_NODES)
        return FALSE;
    for (guint i = 0; i < s->n; i++) {
        json_t *v = httpjson_node_field(&s->nodes[i], "value");
        if (!json_is_integer(v) || json_integer_value(v) < GPOINTER_TO_INT(data))
            return FALSE;
    }
    return TRUE;
}

static char *progress(const tf_snapshot *snap, void *data)
{
    const httpjson_snapshot *s = tf_snapshot_data(snap);
    GString *p = g_string_new(NULL);
    g_string_append_printf(p, "%u/%u up, values", s->up, DEMO_NODES);
    for (guint i = 0; i < s->n; i++) {
        json_t *v = httpjson_node_field(&s->nodes[i], "value");
        g_string_append_printf(p, " %" JSON_INTEGER_FORMAT, v ? json_integer_value(v) : -1);
    }
    return g_string_free(p, FALSE);
}

static void print_json(const char *label, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    printf("%s %s\n", label, text);
    free(text);
    json_decref(j);
}

static json_int_t node_value(const tf_snapshot *snap, const char *name)
{
    const httpjson_node *n = httpjson_snapshot_node(tf_snapshot_data(snap), name);
    json_t *v = n ? httpjson_node_field(n, "value") : NULL;
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

int tf_cmd_demo(int argc, char **argv)
{
    int code = tf_opt_parse_or_exit(&demo_cmd, argc, argv, NULL);
    if (code >= 0)
        return code;
    demo_service svc;
    memset(&svc, 0, sizeof svc);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, serve, &svc,
        MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "tf demo: cannot start the local HTTP service\n");
        return 1;
    }
    guint16 port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    tf_source *sources[DEMO_NODES];
    for (guint i = 0; i < DEMO_NODES; i++) {
        char name[8], url[64];
        g_snprintf(name, sizeof name, "n%u", i);
        g_snprintf(url, sizeof url, "http://127.0.0.1:%u/node/%u", port, i);
        sources[i] = tf_source_new(name, url, NULL, NULL, NULL);
    }
    printf("demo: 3-node toy service on 127.0.0.1:%u; observing it every 50 ms\n", port);

    static const char *const fields[] = {"value", NULL};
    httpjson_config hcfg = {.path = "", .fields = fields};
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 50000;
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&cfg, &httpjson_observer, &hcfg,
                                    tf_source_provider_new_static(sources, DEMO_NODES), &err);
    for (guint i = 0; i < DEMO_NODES; i++)
        tf_source_unref(sources[i]);
    if (!rt || !tf_runtime_start(rt, &err)) {
        fprintf(stderr, "tf demo: %s\n", err->message);
        g_clear_error(&err);
        tf_runtime_free(rt);
        MHD_stop_daemon(d);
        return 1;
    }
    tf_handle *h = tf_runtime_handle(rt);
    GThread *actor = g_thread_new("demo-churn", churn, &svc);

    /* The step "every node's value reaches 5 within 10 s", without a poll loop. */
    tf_wait w = {.pred = all_at_least, .data = GINT_TO_POINTER(5),
                 .what = "every node's value reaches 5", .timeout_us = 10 * G_USEC_PER_SEC,
                 .progress = progress};
    int rc = 0;
    tf_snapshot *snap = tf_handle_wait_for(h, &w, &err);
    if (snap) {
        char *p = progress(snap, NULL);
        printf("demo: condition held at cycle %" G_GUINT64_FORMAT ": %s\n",
               tf_snapshot_cycle(snap), p);
        g_free(p);
        print_json("snapshot", tf_snapshot_to_json(snap));
        tf_snapshot_unref(snap);
    } else {
        fprintf(stderr, "demo: %s\n", err->message);
        g_clear_error(&err);
        rc = 1;
    }
    GPtrArray *hist = tf_handle_batches(h);
    printf("demo: %u event batches recorded; the first three:\n", hist->len);
    for (guint i = 0; i < hist->len && i < 3; i++)
        print_json("batch", tf_batch_to_json(hist->pdata[i]));
    g_ptr_array_unref(hist);

    /* An action, then a read that must reflect it: only a snapshot whose cycle began
     * after the action counts (an older one still shows the counter before the reset). */
    snap = tf_handle_latest(h);
    json_int_t before = snap ? node_value(snap, "n1") : -1;
    if (snap)
        tf_snapshot_unref(snap);
    gint64 acted_at = g_get_monotonic_time();
    g_atomic_int_set(&svc.values[1], 0);
    snap = tf_handle_wait_fresh(h, acted_at, 5 * G_USEC_PER_SEC, &err);
    if (snap && tf_snapshot_cycle_started(snap) > acted_at) {
        printf("demo: action: n1's counter reset to 0 (it read %" JSON_INTEGER_FORMAT "); "
               "tf_handle_wait_fresh (fresh_after the action) returned cycle %" G_GUINT64_FORMAT
               ", which began after the action: n1 = %" JSON_INTEGER_FORMAT "\n",
               before, tf_snapshot_cycle(snap), node_value(snap, "n1"));
    } else {
        fprintf(stderr, "demo: no snapshot begun after the action: %s\n",
                err ? err->message : "an older one was returned");
        g_clear_error(&err);
        rc = 1;
    }
    if (snap)
        tf_snapshot_unref(snap);

    /* A wait that cannot succeed, with one node failing, to show what a timeout explains. */
    g_atomic_int_set(&svc.failing, 3); /* n2 */
    printf("demo: n2 now answers HTTP 503\n");
    w.data = GINT_TO_POINTER(1000000);
    w.what = "every node's value reaches 1000000";
    w.timeout_us = 300000;
    snap = tf_handle_wait_for(h, &w, &err);
    if (snap) {
        tf_snapshot_unref(snap);
        rc = 1;
    } else {
        printf("demo: an expectation that fails explains itself:\n%s\n", err->message);
        g_clear_error(&err);
    }
    g_atomic_int_set(&svc.stop, 1);
    g_thread_join(actor);
    tf_handle_unref(h);
    tf_runtime_free(rt);
    MHD_stop_daemon(d);
    return rc;
}
