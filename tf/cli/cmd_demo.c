/* cmd_demo.c: `tf demo`: the runtime observing a local HTTP source, end to end.
 * A toy three-node service (an in-process libmicrohttpd server whose counters move at
 * random times) is observed; a wait replaces the usual poll loop, and a deliberate
 * timeout shows what a failed expectation explains. */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "httpjson/httpjson.h"

#define DEMO_NODES 3

typedef struct {
    gint values[DEMO_NODES]; /* atomic */
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
    char *body = i < DEMO_NODES ? g_strdup_printf("{\"node\":%u,\"value\":%d}", i,
                                                  g_atomic_int_get(&svc->values[i]))
                                : g_strdup("{\"error\":\"no such node\"}");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, i < DEMO_NODES ? 200 : 404, r);
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

int tf_cmd_demo(int argc, char **argv)
{
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
    GPtrArray *hist = tf_handle_history(h);
    printf("demo: %u event batches recorded; the first three:\n", hist->len);
    for (guint i = 0; i < hist->len && i < 3; i++)
        print_json("batch", tf_batch_to_json(hist->pdata[i]));
    g_ptr_array_unref(hist);

    /* A wait that cannot succeed, to show what a timeout explains. */
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
