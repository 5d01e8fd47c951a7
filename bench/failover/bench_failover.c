/* bench_failover.c: time from killing the etcd leader to a waiter seeing the new leader,
 * and status requests sent, for tf (one runtime at interval I, woken by the action, K
 * handle waits) against K naive loops (fetch every member's status, check, sleep I).
 * A real 3-node etcd cluster on loopback; the killed member is restarted between rounds.
 * The answer check, per round: every waiter of both kinds returned a leader that is not
 * the killed one, with a higher term; waiters that saw the same term saw the same leader;
 * and a leader of the term the surviving members report now is that term's leader. Exits
 * 1 on a wrong answer, never on time; 77 without etcd (1 under CI=true).
 * Usage: bench_failover [--small]  (small: K = 1 and 5, 2 kills per row). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"
#include "raftkv/raftkv.h"
#include "tf/tf.h"

#define INTERVAL_US 100000
#define WAIT_US (30 * G_USEC_PER_SEC)

static int rounds = 5;

typedef struct {
    tf_cluster *c;
    tf_runtime *rt;
    tf_handle *h;
    const char *old_leader;
    guint64 old_term;
    gint64 killed_at;
    double latency_ms;
    guint64 requests;
    /* the answer: the new leader's member id and term; done = not timed out */
    char *leader_id;
    guint64 term;
    gboolean done;
} ctx;

/* The member id of the leader a snapshot agrees on (it names it by source name when it
 * knows the member, else by id), or NULL (new string). */
static char *leader_id_of(const raftkv_snapshot *s)
{
    if (!s->leader)
        return NULL;
    const raftkv_node *n = raftkv_snapshot_node(s, s->leader);
    return g_strdup(n && n->id ? n->id : s->leader);
}

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
    tf_snapshot *s = tf_handle_wait(c->h, new_leader, c, "new leader", WAIT_US, NULL);
    c->latency_ms = (g_get_monotonic_time() - c->killed_at) / 1000.0;
    if (s) {
        const raftkv_snapshot *rs = tf_snapshot_data(s);
        c->done = TRUE;
        c->leader_id = leader_id_of(rs);
        c->term = rs->leader_term;
    }
    tf_snapshot_unref(s);
    return NULL;
}

/* What a step did before tf: poll every member's status until a majority agrees. */
static gpointer naive_waiter(gpointer data)
{
    ctx *c = data;
    tf_http *http = tf_http_new();
    guint n = tf_cluster_size(c->c);
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    while (g_get_monotonic_time() < deadline) {
        GHashTable *votes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GHashTable *terms = g_hash_table_new(g_str_hash, g_str_equal); /* leader -> its term */
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
                    g_hash_table_insert(terms, k, GSIZE_TO_POINTER((gsize)st.term));
                }
                raftkv_status_clear(&st);
            }
            json_decref(r);
            json_decref(body);
            g_free(url);
        }
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, votes);
        while (!done && g_hash_table_iter_next(&it, &k, &v)) {
            done = GPOINTER_TO_UINT(v) * 2 > reachable && reachable * 2 > n;
            if (done) {
                c->done = TRUE;
                c->leader_id = g_strdup(k);
                c->term = (guint64)GPOINTER_TO_SIZE(g_hash_table_lookup(terms, k));
            }
        }
        g_hash_table_unref(terms);
        g_hash_table_unref(votes);
        if (done)
            break;
        g_usleep(INTERVAL_US); /* the loop being replaced */
    }
    c->latency_ms = (g_get_monotonic_time() - c->killed_at) / 1000.0;
    tf_http_free(http);
    return NULL;
}

/* What the surviving members (all but `killed`) report now: the highest term any of them
 * knows a leader in, and that leader's id (new string), or NULL. */
static char *members_leader(tf_cluster *cl, guint killed, guint64 *term)
{
    tf_http *http = tf_http_new();
    char *leader = NULL;
    *term = 0;
    for (guint i = 0; i < tf_cluster_size(cl); i++) {
        if (i == killed)
            continue;
        char *url = g_strconcat(tf_cluster_node_url(cl, i), "/v3/maintenance/status", NULL);
        json_t *body = json_object();
        json_t *r = tf_http_json(http, "truth", url, body, 1000000, NULL);
        raftkv_status st;
        if (r && raftkv_parse_etcd(r, &st, NULL)) {
            if (st.leader && st.term > *term) {
                g_free(leader);
                leader = g_strdup(st.leader);
                *term = st.term;
            }
            raftkv_status_clear(&st);
        }
        json_decref(r);
        json_decref(body);
        g_free(url);
    }
    tf_http_free(http);
    return leader;
}

typedef struct {
    guint waits, right;
    char *wrong; /* the first wrong answer, described */
} verdict;

/* Checks one round's answers (see the top comment). */
static void judge_round(verdict *v, ctx *cs, guint k, const char *old_id, guint64 old_term,
                        const char *now_id, guint64 now_term)
{
    for (guint i = 0; i < k; i++) {
        const ctx *c = &cs[i];
        const char *why = NULL;
        if (!c->done || !c->leader_id)
            why = "timed out";
        else if (!g_strcmp0(c->leader_id, old_id))
            why = "the killed leader";
        else if (c->term <= old_term)
            why = "no newer term";
        else if (c->term == now_term && g_strcmp0(c->leader_id, now_id))
            why = "not the members' leader of that term";
        for (guint j = 0; !why && j < i; j++)
            if (cs[j].done && cs[j].term == c->term && g_strcmp0(cs[j].leader_id, c->leader_id))
                why = "another waiter saw another leader in the same term";
        v->waits++;
        v->right += !why;
        if (why && !v->wrong)
            v->wrong = g_strdup_printf("%s: leader %s term %" G_GUINT64_FORMAT " (killed %s term %"
                                       G_GUINT64_FORMAT "; members now %s term %" G_GUINT64_FORMAT ")",
                                       why, c->leader_id ? c->leader_id : "-", c->term, old_id, old_term,
                                       now_id ? now_id : "-", now_term);
    }
}

static void run(tf_cluster *cl, tf_handle *h, tf_runtime *rt, guint k, gboolean use_tf,
                double *lat, guint64 *requests, verdict *v)
{
    *requests = 0;
    for (int r = 0; r < rounds; r++) {
        tf_snapshot *s = tf_handle_wait(h, all_up, NULL, "all up", 60 * G_USEC_PER_SEC, NULL);
        if (!s)
            bench_die("the cluster did not come back with a leader within 60 s");
        const raftkv_snapshot *rs = tf_snapshot_data(s);
        char *leader = g_strdup(rs->leader), *leader_id = leader_id_of(rs);
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
        guint64 now_term;
        char *now_id = members_leader(cl, (guint)li, &now_term);
        judge_round(v, cs, k, leader_id, term, now_id, now_term);
        g_free(now_id);
        tf_cluster_node_start(cl, (guint)li, NULL);
        for (guint i = 0; i < k; i++)
            g_free(cs[i].leader_id);
        g_free(cs);
        g_free(ts);
        g_free(leader_id);
        g_free(leader);
    }
}

static void check(verdict *v, guint k, const char *how)
{
    char *what = g_strdup_printf("K=%u %s: every waiter saw the new leader", k, how);
    bench_check(v->right == v->waits, what, "%u of %u waits wrong; the first: %s", v->waits - v->right,
                v->waits, v->wrong);
    g_free(what);
    g_free(v->wrong);
}

int main(int argc, char **argv)
{
    bench_init("bench_failover", &argc, argv);
    static const guint full[] = {1, 20}, small[] = {1, 5};
    const guint *ks = bench_small() ? small : full;
    guint n_ks = bench_small() ? G_N_ELEMENTS(small) : G_N_ELEMENTS(full);
    if (bench_small())
        rounds = 2;
    const char *spec_path = TF_SOURCE_DIR "/scenarios/clusters/etcd-3.json";
    bench_need_cluster_binary(spec_path);
    GError *err = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(spec_path, &err);
    tf_cluster *cl = spec ? tf_cluster_new(spec, 3, &err) : NULL;
    if (!cl)
        bench_die("%s", err->message);
    if (!tf_cluster_start(cl, &err))
        bench_die("%s", err->message);
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = INTERVAL_US;
    cfg.request_timeout_us = 300000;
    tf_runtime *rt = tf_runtime_new(&cfg, &raftkv_observer, NULL, tf_cluster_provider(cl), &err);
    if (!rt || !tf_runtime_start(rt, &err))
        bench_die("%s", err->message);
    tf_handle *h = tf_runtime_handle(rt);
    printf("bench/failover: 3-node etcd (election timeout 250 ms), status interval %d ms, %d leader kills per row\n",
           INTERVAL_US / 1000, rounds);
    printf("latency: from SIGKILL of the leader to the waiter seeing a new leader with a higher term\n\n");
    printf("%4s %-6s %9s %9s %12s\n", "K", "how", "p50 ms", "p99 ms", "requests");
    for (guint i = 0; i < n_ks; i++) {
        guint k = ks[i];
        double *lt = g_new0(double, k * rounds), *ln = g_new0(double, k * rounds);
        guint64 rq_t, rq_n;
        verdict vt = {0}, vn = {0};
        run(cl, h, rt, k, TRUE, lt, &rq_t, &vt);
        run(cl, h, rt, k, FALSE, ln, &rq_n, &vn);
        double t50 = bench_percentile(lt, k * rounds, 50), t99 = bench_percentile(lt, k * rounds, 99);
        double n50 = bench_percentile(ln, k * rounds, 50), n99 = bench_percentile(ln, k * rounds, 99);
        printf("%4u %-6s %9.0f %9.0f %12" G_GUINT64_FORMAT "\n", k, "tf", t50, t99, rq_t);
        printf("%4u %-6s %9.0f %9.0f %12" G_GUINT64_FORMAT "\n", k, "naive", n50, n99, rq_n);
        printf("%4s ratio naive/tf: requests %.1fx, p50 latency %.2fx\n", "",
               (double)rq_n / MAX(rq_t, 1), n50 / MAX(t50, 1e-6));
        check(&vt, k, "tf");
        check(&vn, k, "naive");
        printf("\n");
        g_free(lt);
        g_free(ln);
    }
    tf_handle_unref(h);
    tf_runtime_free(rt);
    tf_cluster_free(cl);
    tf_cluster_spec_free(spec);
    return bench_finish();
}
