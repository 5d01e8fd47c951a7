/* bench_failover.c: time from killing the etcd leader to a waiter seeing the new leader,
 * and status requests sent, for tf (one runtime at interval I, woken by the action, K
 * handle waits) against K naive loops (fetch every member's status, check, sleep I).
 * A real 3-node etcd cluster on loopback; the killed member is restarted between rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"
#include "raftkv/raftkv.h"

#define ROUNDS 5
#define INTERVAL_US 100000

typedef struct {
    tf_cluster *c;
    tf_runtime *rt;
    tf_handle *h;
    const char *old_leader;
    guint64 old_term;
    gint64 killed_at;
    double latency_ms;
    guint64 requests;
} ctx;

static gboolean new_leader(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    const ctx *c = data;
    return s->leader && s->quorum && strcmp(s->leader, c->old_leader) && s->leader_term > c->old_term;
}

static gboolean all_up(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    return s->reachable == s->n && s->leader && s->quorum;
}

static gpointer tf_waiter(gpointer data)
{
    ctx *c = data;
    tf_snapshot *s = tf_handle_wait(c->h, new_leader, c, "new leader", 30 * G_USEC_PER_SEC, NULL);
    c->latency_ms = (g_get_monotonic_time() - c->killed_at) / 1000.0;
    tf_snapshot_unref(s);
    return NULL;
}

/* What a step did before tf: poll every member's status until a majority agrees. */
static gpointer naive_waiter(gpointer data)
{
    ctx *c = data;
    tf_http *http = tf_http_new();
    guint n = tf_cluster_size(c->c);
    for (;;) {
        GHashTable *votes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        guint reachable = 0;
        gboolean done = FALSE;
        for (guint i = 0; i < n; i++) {
            char *url = g_strconcat(tf_cluster_node_url(c->c, i), "/v3/maintenance/status", NULL);
            json_t *body = json_object();
            json_t *r = tf_http_json(http, "naive", url, body, 300000, NULL);
            c->requests++;
            raftkv_status st;
            if (r && raftkv_parse_etcd(r, &st, NULL)) {
                reachable++;
                if (st.leader && st.term > c->old_term) {
                    char *k = g_strdup(st.leader);
                    g_hash_table_insert(votes, k, GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(votes, k)) + 1));
                }
                raftkv_status_clear(&st);
            }
            json_decref(r);
            json_decref(body);
            g_free(url);
        }
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, votes);
        while (g_hash_table_iter_next(&it, NULL, &v))
            done |= GPOINTER_TO_UINT(v) * 2 > reachable && reachable * 2 > n;
        g_hash_table_unref(votes);
        if (done)
            break;
        g_usleep(INTERVAL_US); /* the loop being replaced */
    }
    c->latency_ms = (g_get_monotonic_time() - c->killed_at) / 1000.0;
    tf_http_free(http);
    return NULL;
}

static void run(tf_cluster *cl, tf_handle *h, tf_runtime *rt, guint k, gboolean use_tf,
                double *lat, guint64 *requests)
{
    *requests = 0;
    for (int r = 0; r < ROUNDS; r++) {
        tf_snapshot *s = tf_handle_wait(h, all_up, NULL, "all up", 60 * G_USEC_PER_SEC, NULL);
        const raftkv_snapshot *rs = tf_snapshot_data(s);
        char *leader = g_strdup(rs->leader);
        guint64 term = rs->leader_term;
        tf_snapshot_unref(s);
        gint li = tf_cluster_node_index(cl, leader);
        ctx *cs = g_new0(ctx, k);
        GThread **ts = g_new0(GThread *, k);
        guint64 cycle0 = 0;
        tf_snapshot *before = tf_handle_latest(h);
        cycle0 = tf_snapshot_cycle(before);
        tf_snapshot_unref(before);
        gint64 killed_at = g_get_monotonic_time();
        tf_cluster_node_kill(cl, (guint)li, NULL);
        if (use_tf)
            tf_runtime_wake(rt);
        for (guint i = 0; i < k; i++) {
            cs[i] = (ctx){.c = cl, .rt = rt, .h = h, .old_leader = leader, .old_term = term, .killed_at = killed_at};
            ts[i] = g_thread_new("waiter", use_tf ? tf_waiter : naive_waiter, &cs[i]);
        }
        for (guint i = 0; i < k; i++) {
            g_thread_join(ts[i]);
            lat[r * k + i] = cs[i].latency_ms;
            *requests += cs[i].requests;
        }
        if (use_tf) { /* every cycle until the last waiter returned sent one request per member */
            tf_snapshot *after = tf_handle_latest(h);
            *requests += (tf_snapshot_cycle(after) - cycle0) * tf_cluster_size(cl);
            tf_snapshot_unref(after);
        }
        tf_cluster_node_start(cl, (guint)li, NULL);
        g_free(cs);
        g_free(ts);
        g_free(leader);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    GError *err = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(TF_SOURCE_DIR "/scenarios/clusters/etcd-3.json", &err);
    tf_cluster *cl = spec ? tf_cluster_new(spec, 3, &err) : NULL;
    if (!cl || !tf_cluster_start(cl, &err)) {
        fprintf(stderr, "bench/failover: %s\n", err->message);
        return 1;
    }
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = INTERVAL_US;
    cfg.request_timeout_us = 300000;
    tf_runtime *rt = tf_runtime_new(&cfg, &raftkv_observer, NULL, tf_cluster_provider(cl), &err);
    tf_runtime_start(rt, NULL);
    tf_handle *h = tf_runtime_handle(rt);
    printf("bench/failover: 3-node etcd (election timeout 250 ms), status interval %d ms, %d leader kills per row\n",
           INTERVAL_US / 1000, ROUNDS);
    printf("latency: from SIGKILL of the leader to the waiter seeing a new leader with a higher term\n\n");
    printf("%4s %-6s %9s %9s %12s\n", "K", "how", "p50 ms", "p99 ms", "requests");
    static const guint ks[] = {1, 20};
    for (guint i = 0; i < G_N_ELEMENTS(ks); i++) {
        guint k = ks[i];
        double *lt = g_new0(double, k * ROUNDS), *ln = g_new0(double, k * ROUNDS);
        guint64 rq_t, rq_n;
        run(cl, h, rt, k, TRUE, lt, &rq_t);
        run(cl, h, rt, k, FALSE, ln, &rq_n);
        double t50 = bench_percentile(lt, k * ROUNDS, 50), t99 = bench_percentile(lt, k * ROUNDS, 99);
        double n50 = bench_percentile(ln, k * ROUNDS, 50), n99 = bench_percentile(ln, k * ROUNDS, 99);
        printf("%4u %-6s %9.0f %9.0f %12" G_GUINT64_FORMAT "\n", k, "tf", t50, t99, rq_t);
        printf("%4u %-6s %9.0f %9.0f %12" G_GUINT64_FORMAT "\n", k, "naive", n50, n99, rq_n);
        printf("%4s ratio naive/tf: requests %.1fx, p50 latency %.2fx\n\n", "",
               (double)rq_n / MAX(rq_t, 1), n50 / MAX(t50, 1e-6));
        g_free(lt);
        g_free(ln);
    }
    tf_handle_unref(h);
    tf_runtime_free(rt);
    tf_cluster_free(cl);
    tf_cluster_spec_free(spec);
    return 0;
}
