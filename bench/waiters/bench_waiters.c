/* bench_waiters.c: K steps waiting for the same condition over M HTTP sources.
 * tf: one runtime polls the sources and K threads block in tf_handle_wait. Naive: K
 * threads each run the fetch-check-sleep loop a step would hide, at the same interval.
 * The HTTP server runs in a child process (bench_server), so the CPU figures are this
 * process's alone: the runtime or the loops. Prints requests sent, detection latency
 * p50/p99, CPU, and naive/tf ratios. The answer check: every waiter of both kinds
 * returned having seen every node at the round's value (none timed out).
 * Usage: bench_waiters [--small]  (small: K = 1 and 10, 3 rounds). */
#include <stdio.h>
#include <string.h>
#include "bench_server.h"
#include "bench_util.h"
#include "httpjson/httpjson.h"
#include "tf/tf.h"

#define M 5
#define INTERVAL_US 20000
#define WAIT_US (30 * G_USEC_PER_SEC)

static guint rounds = 10;

/* The system under test, in memory shared with the server process. */
typedef struct {
    gint values[M];   /* atomic: what each node answers */
    gint64 true_at;   /* monotonic µs at which the condition became true (atomic) */
} service;

/* In the server process: node i answers {"value": values[i]}. */
static void serve_node(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    service *svc = user;
    unsigned i = 0;
    sscanf(req->path, "/node/%u", &i);
    g_string_printf(resp->body, "{\"value\":%d}", g_atomic_int_get(&svc->values[i % M]));
}

static void server_setup(fixture_http *fx, void *shared)
{
    for (int i = 0; i < M; i++) {
        char *path = g_strdup_printf("/node/%d", i);
        fixture_http_route_handler(fx, path, serve_node, shared);
        g_free(path);
    }
}

/* The system under test changes: each node moves to `target` at a random time. */
static void change_all(service *svc, GRand *rnd, gint target)
{
    g_usleep(g_rand_int_range(rnd, 20000, 60000));
    for (int i = 0; i < M; i++) {
        g_usleep(g_rand_int_range(rnd, 0, 4000));
        if (i == M - 1)
            __atomic_store_n(&svc->true_at, g_get_monotonic_time(), __ATOMIC_SEQ_CST);
        g_atomic_int_set(&svc->values[i], target);
    }
}

typedef struct {
    service *svc;
    tf_handle *h;       /* tf */
    char *urls[M];      /* naive */
    gint target;
    double latency_ms;
    gint seen;          /* the lowest value among the nodes when the waiter returned */
    gboolean done;      /* it saw the condition (did not time out) */
} waiter;

/* The lowest "value" among a snapshot's nodes (G_MININT when one is missing). */
static gint lowest_value(const httpjson_snapshot *s)
{
    gint low = s->up < M ? G_MININT : G_MAXINT;
    for (guint i = 0; i < s->n; i++) {
        json_t *v = httpjson_node_field(&s->nodes[i], "value");
        low = MIN(low, v ? (gint)json_integer_value(v) : G_MININT);
    }
    return low;
}

static gboolean all_reached(const tf_snapshot *snap, void *data)
{
    const httpjson_snapshot *s = tf_snapshot_data(snap);
    if (s->up < M)
        return FALSE;
    for (guint i = 0; i < s->n; i++) {
        json_t *v = httpjson_node_field(&s->nodes[i], "value");
        if (!v || json_integer_value(v) < GPOINTER_TO_INT(data))
            return FALSE;
    }
    return TRUE;
}

static gpointer tf_waiter(gpointer data)
{
    waiter *w = data;
    tf_snapshot *s = tf_handle_wait(w->h, all_reached, GINT_TO_POINTER(w->target),
                                    "every node reaches the target", WAIT_US, NULL);
    w->latency_ms = (g_get_monotonic_time() - __atomic_load_n(&w->svc->true_at, __ATOMIC_SEQ_CST)) / 1000.0;
    w->done = s != NULL;
    w->seen = s ? lowest_value(tf_snapshot_data(s)) : G_MININT;
    tf_snapshot_unref(s);
    return NULL;
}

/* The loop every step used to contain. */
static gpointer naive_waiter(gpointer data)
{
    waiter *w = data;
    tf_http *http = tf_http_new();
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    while (g_get_monotonic_time() < deadline) {
        gboolean all = TRUE;
        gint low = G_MAXINT;
        for (int i = 0; i < M && all; i++) {
            json_t *j = tf_http_json(http, "naive", w->urls[i], NULL, G_USEC_PER_SEC, NULL);
            gint v = j ? (gint)json_integer_value(json_object_get(j, "value")) : G_MININT;
            all = j && v >= w->target;
            low = MIN(low, v);
            json_decref(j);
        }
        if (all) {
            w->done = TRUE;
            w->seen = low;
            break;
        }
        g_usleep(INTERVAL_US);
    }
    w->latency_ms = (g_get_monotonic_time() - __atomic_load_n(&w->svc->true_at, __ATOMIC_SEQ_CST)) / 1000.0;
    tf_http_free(http);
    return NULL;
}

typedef struct {
    guint64 requests;
    double p50, p99, cpu, server_cpu;
    guint waits, right; /* waits made, waits that saw every node at the round's value */
} result;

static result run(bench_server *fx, service *svc, guint k, gboolean use_tf, gint *target)
{
    GRand *rnd = g_rand_new_with_seed(7 + k);
    double *lat = g_new0(double, k * rounds);
    tf_runtime *rt = NULL;
    tf_handle *h = NULL;
    result res = {0};
    bench_server_stats st0 = bench_server_stats_get(fx);
    double cpu0 = bench_cpu_seconds();
    if (use_tf) {
        tf_source *src[M];
        for (int i = 0; i < M; i++) {
            char name[8];
            g_snprintf(name, sizeof name, "n%d", i);
            char *path = g_strdup_printf("/node/%d", i);
            char *url = bench_server_url(fx, path);
            src[i] = tf_source_new(name, url, NULL, NULL, NULL);
            g_free(url);
            g_free(path);
        }
        static const char *const fields[] = {"value", NULL};
        httpjson_config hc = {.path = "", .fields = fields};
        tf_runtime_config cfg;
        tf_runtime_config_init(&cfg);
        cfg.interval_us = INTERVAL_US;
        rt = tf_runtime_new(&cfg, &httpjson_observer, &hc, tf_source_provider_new_static(src, M), NULL);
        for (int i = 0; i < M; i++)
            tf_source_unref(src[i]);
        tf_runtime_start(rt, NULL);
        h = tf_runtime_handle(rt);
    }
    for (guint r = 0; r < rounds; r++) {
        (*target)++;
        waiter *ws = g_new0(waiter, k);
        GThread **ts = g_new0(GThread *, k);
        for (guint i = 0; i < k; i++) {
            ws[i].svc = svc;
            ws[i].h = h;
            ws[i].target = *target;
            for (int j = 0; j < M; j++) {
                char *path = g_strdup_printf("/node/%d", j);
                ws[i].urls[j] = bench_server_url(fx, path);
                g_free(path);
            }
            ts[i] = g_thread_new("waiter", use_tf ? tf_waiter : naive_waiter, &ws[i]);
        }
        change_all(svc, rnd, *target);
        for (guint i = 0; i < k; i++) {
            g_thread_join(ts[i]);
            lat[r * k + i] = ws[i].latency_ms;
            res.waits++;
            res.right += ws[i].done && ws[i].seen == *target;
            for (int j = 0; j < M; j++)
                g_free(ws[i].urls[j]);
        }
        g_free(ws);
        g_free(ts);
    }
    tf_handle_unref(h);
    tf_runtime_free(rt);
    res.cpu = bench_cpu_seconds() - cpu0;
    bench_server_stats st1 = bench_server_stats_get(fx);
    res.requests = st1.requests - st0.requests;
    res.server_cpu = st1.cpu_s - st0.cpu_s;
    res.p50 = bench_percentile(lat, k * rounds, 50);
    res.p99 = bench_percentile(lat, k * rounds, 99);
    g_free(lat);
    g_rand_free(rnd);
    return res;
}

static void check(const result *r, guint k, const char *how)
{
    char *what = g_strdup_printf("K=%u %s: every waiter saw every node at the round's value", k, how);
    bench_check(r->right == r->waits, what, "%u of %u waits timed out or saw another value",
                r->waits - r->right, r->waits);
    g_free(what);
}

int main(int argc, char **argv)
{
    bench_init("bench_waiters", &argc, argv);
    /* First, before any thread: the server process. */
    bench_server *fx = bench_server_fork(sizeof(service), server_setup);
    service *svc = bench_server_shared(fx);
    static const guint full[] = {1, 10, 100}, small[] = {1, 10};
    const guint *ks = bench_small() ? small : full;
    guint n_ks = bench_small() ? G_N_ELEMENTS(small) : G_N_ELEMENTS(full);
    if (bench_small())
        rounds = 3;
    printf("bench/waiters: M=%d HTTP sources (libmicrohttpd in a child process), interval %d ms, %u rounds;\n"
           "each round every source moves to a new value at a random time; latency is from\n"
           "the moment the condition became true to the moment each waiter saw it. cpu s is\n"
           "this process's (the runtime or the loops), the server's is shown apart.\n\n",
           M, INTERVAL_US / 1000, rounds);
    printf("%5s %-6s %10s %9s %9s %8s %10s\n", "K", "how", "requests", "p50 ms", "p99 ms", "cpu s",
           "server s");
    gint target = 0;
    for (guint i = 0; i < n_ks; i++) {
        result t = run(fx, svc, ks[i], TRUE, &target);
        result n = run(fx, svc, ks[i], FALSE, &target);
        printf("%5u %-6s %10" G_GUINT64_FORMAT " %9.1f %9.1f %8.3f %10.3f\n", ks[i], "tf", t.requests, t.p50,
               t.p99, t.cpu, t.server_cpu);
        printf("%5u %-6s %10" G_GUINT64_FORMAT " %9.1f %9.1f %8.3f %10.3f\n", ks[i], "naive", n.requests,
               n.p50, n.p99, n.cpu, n.server_cpu);
        printf("%5s ratio naive/tf: requests %.1fx, cpu %.1fx, p50 latency %.2fx\n", "",
               (double)n.requests / MAX(t.requests, 1), n.cpu / MAX(t.cpu, 1e-6),
               n.p50 / MAX(t.p50, 1e-6));
        check(&t, ks[i], "tf");
        check(&n, ks[i], "naive");
        printf("\n");
    }
    bench_server_free(fx);
    return bench_finish();
}
