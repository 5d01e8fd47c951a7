/* bench_chain.c: the chain observer against a real litecoind regtest node (-rest on).
 * 1. Catch-up of a 5,000-block chain: the observer (binary headers over REST, 2,000 a
 *    request, all at once; and again with REST off: getblockhash windows and getblockheader
 *    batches over JSON-RPC) against a naive per-height loop (one getblockhash + one
 *    getblockheader request per block): wall time, this process's CPU, HTTP requests; and
 *    the node's own limit: the same headers fetched over REST with nothing done to them.
 * 2. Ingestion cost per new block with 1k and 5k blocks in the graph (should stay flat).
 * 3. Blocks kept and RSS growth with and without pruning after the same catch-up.
 * The answer check: both observers reach the node's best block, every block the pruned
 * one holds (floor to tip) is the naive loop's block at that height, and the observer
 * follows each newly mined block. Exits 1 on a wrong answer, never on time; exits 77
 * (1 under CI=true) without litecoind. Usage: bench_chain [--small] (small: 300 blocks). */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <tf/cluster.h>
#include <tf/tf.h>
#include "bench_util.h"
#include "chain/observer.h"
#include "chain/rest.h"
#include "chain/rpc.h"

static gint64 chain_len = 5000;       /* blocks at the catch-up */
static gint64 first_len = 1000;       /* blocks at the first ingestion figure */
static int per_block_samples = 20;

static tf_cluster *cluster;
static tf_http *http;
static chain_rpc *rpc;
static char *address;

static json_t *call(const char *path, const char *method, json_t *params)
{
    GError *err = NULL;
    json_t *r = chain_rpc_call(rpc, http, path, method, params, 300 * G_USEC_PER_SEC, &err);
    if (!r)
        bench_die("%s: %s", method, err->message);
    return r;
}

static gint64 height(void)
{
    json_t *r = call(NULL, "getblockcount", NULL);
    gint64 h = json_integer_value(r);
    json_decref(r);
    return h;
}

/* Litecoin 0.21 activates MWEB at regtest height 432, and its first MWEB block must
 * hold a peg-in (else generatetoaddress fails with bad-txns-vin-empty): mine to 431,
 * send coins to an MWEB address, then go on. */
#define MWEB_HEIGHT 431

static void mine(gint64 n)
{
    gint64 h = height();
    while (n > 0) {
        gint64 step = MIN(500, n);
        if (h < MWEB_HEIGHT && h + step > MWEB_HEIGHT)
            step = MWEB_HEIGHT - h;
        json_decref(call(NULL, "generatetoaddress", json_pack("[I, s]", (json_int_t)step, address)));
        h += step;
        n -= step;
        if (h == MWEB_HEIGHT) {
            json_t *mweb = call("/wallet/bench", "getnewaddress", json_pack("[s, s]", "", "mweb"));
            json_decref(call("/wallet/bench", "sendtoaddress", json_pack("[O, f]", mweb, 1.0)));
            json_decref(mweb);
        }
    }
}

static char *best_hash(void)
{
    json_t *r = call(NULL, "getbestblockhash", NULL);
    char *h = g_strdup(json_string_value(r));
    json_decref(r);
    return h;
}

/* A stopped runtime over the one node (cycles run on this thread); its snapshots list
 * `recent` canonical blocks; rest FALSE: JSON-RPC only. */
static tf_runtime *observer_new(gboolean prune, guint recent, gboolean rest)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.prune = prune;
    cfg.rest = rest;
    cfg.snapshot_blocks = recent;
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.request_timeout_us = 60 * G_USEC_PER_SEC;
    rc.event_history = 0; /* keep no event batch: a catch-up emits 5,000 events */
    rc.snapshot_history = 0;
    tf_source *src = tf_cluster_node_source(cluster, 0);
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&rc, &chain_observer, &cfg, tf_source_provider_new_static(&src, 1), &err);
    tf_source_unref(src);
    if (!rt)
        bench_die("%s", err->message);
    return rt;
}

/* Runs one cycle; returns its snapshot (caller unrefs) and its request count, tip
 * height and blocks held (each may be NULL). */
static tf_snapshot *cycle_snap(tf_runtime *rt, guint64 *requests, gint64 *tip, guint *blocks)
{
    GError *err = NULL;
    if (!tf_runtime_cycle(rt, &err))
        bench_die("cycle: %s", err->message);
    tf_handle *h = tf_runtime_handle(rt);
    tf_snapshot *snap = tf_handle_latest(h);
    const chain_snapshot *s = tf_snapshot_data(snap);
    if (requests)
        *requests = s->requests;
    if (tip)
        *tip = s->tip_height;
    if (blocks)
        *blocks = s->blocks;
    tf_handle_unref(h);
    return snap;
}

static void cycle(tf_runtime *rt, guint64 *requests, gint64 *tip, guint *blocks)
{
    tf_snapshot_unref(cycle_snap(rt, requests, tip, blocks));
}

/* Checks that rt's last snapshot stands at the node's best block. */
static void check_at_tip(tf_runtime *rt, const char *what)
{
    tf_handle *h = tf_runtime_handle(rt);
    tf_snapshot *snap = tf_handle_latest(h);
    const chain_snapshot *s = tf_snapshot_data(snap);
    char *best = best_hash();
    bench_check(!strcmp(s->tip, best), what, "observer at %" G_GINT64_FORMAT " %s, node's best %s",
                s->tip_height, s->tip, best);
    g_free(best);
    tf_snapshot_unref(snap);
    tf_handle_unref(h);
}

/* The naive catch-up: per height, getblockhash then getblockheader, one request each.
 * Returns its graph in *out (caller frees). */
static double naive_catch_up(gint64 tip, guint64 *requests, chain_graph **out)
{
    chain_graph_config gc;
    chain_graph_config_init(&gc);
    gc.base_height = 0;
    chain_graph *g = chain_graph_new(&gc);
    guint64 before = tf_http_requests_sent(http);
    gint64 t0 = g_get_monotonic_time();
    for (gint64 h = 0; h <= tip; h++) {
        json_t *hash = call(NULL, "getblockhash", json_pack("[I]", (json_int_t)h));
        json_t *hdr = call(NULL, "getblockheader", json_pack("[O]", hash));
        chain_header ch;
        if (!chain_header_from_json(hdr, &ch, NULL) ||
            !chain_graph_add_header(g, &ch, 1, "n1", NULL, NULL, NULL))
            bench_die("naive: bad header at %" G_GINT64_FORMAT, h);
        json_decref(hdr);
        json_decref(hash);
    }
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    *requests = tf_http_requests_sent(http) - before;
    *out = g;
    return secs;
}

/* Mean wall time (ms) and requests of the cycle that ingests one freshly mined block;
 * the observer must stand at each new block after its cycle. */
static void per_block(tf_runtime *rt, double *ms, double *reqs, const char *what)
{
    double total = 0;
    guint64 r0, r1;
    guint followed = 0;
    cycle(rt, &r0, NULL, NULL);
    for (int i = 0; i < per_block_samples; i++) {
        mine(1);
        char *best = best_hash();
        gint64 t0 = g_get_monotonic_time();
        tf_snapshot *snap = cycle_snap(rt, NULL, NULL, NULL);
        total += (g_get_monotonic_time() - t0) / 1e3;
        followed += !strcmp(((const chain_snapshot *)tf_snapshot_data(snap))->tip, best);
        tf_snapshot_unref(snap);
        g_free(best);
    }
    cycle(rt, &r1, NULL, NULL);
    *ms = total / per_block_samples;
    *reqs = (double)(r1 - r0 - 1) / per_block_samples; /* the final idle cycle costs 1 */
    bench_check(followed == (guint)per_block_samples, what, "the observer stood at %u of %d new blocks",
                followed, per_block_samples);
}

/* The node's own limit: every header from genesis to tip over REST, 2,000 a request, all
 * requests at once, with nothing done to them but reading (the start hashes are asked
 * first, untimed). Returns seconds; *requests gets the REST requests. */
static double rest_floor(gint64 tip, guint *requests)
{
    guint n = (guint)(tip / CHAIN_REST_MAX_HEADERS + 1);
    chain_rest_req *reqs = g_new0(chain_rest_req, n);
    for (guint j = 0; j < n; j++) {
        json_t *h = call(NULL, "getblockhash", json_pack("[I]", (json_int_t)j * CHAIN_REST_MAX_HEADERS));
        g_strlcpy(reqs[j].start, json_string_value(h), CHAIN_HASH_BUF);
        reqs[j].count = (guint)MIN(CHAIN_REST_MAX_HEADERS, tip + 1 - (gint64)j * CHAIN_REST_MAX_HEADERS);
        json_decref(h);
    }
    gint64 t0 = g_get_monotonic_time();
    *requests = chain_rest_headers_run(http, "n1", chain_rpc_url(rpc), reqs, n, 60 * G_USEC_PER_SEC);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    guint got = 0;
    for (guint j = 0; j < n; j++) {
        if (reqs[j].error)
            bench_die("REST headers: %s", reqs[j].error);
        got += reqs[j].n;
    }
    if (got != tip + 1)
        bench_die("REST headers: %u of %" G_GINT64_FORMAT, got, tip + 1);
    chain_rest_reqs_clear(reqs, n);
    g_free(reqs);
    return secs;
}

/* Checks the pruned observer's canonical blocks (floor to tip, from its snapshot) against
 * the naive loop's graph, height by height. */
static void check_against_naive(const chain_snapshot *s, const chain_graph *naive, const char *who)
{
    guint same = 0;
    char *diff = NULL;
    for (guint i = 0; i < s->n_recent; i++) {
        const chain_block *b = chain_graph_canonical_at(naive, s->recent[i].height);
        if (b && !strcmp(chain_block_hash(b), s->recent[i].hash))
            same++;
        else if (!diff)
            diff = g_strdup_printf("at %" G_GINT64_FORMAT " the observer holds %s, the naive loop %s",
                                   s->recent[i].height, s->recent[i].hash, b ? chain_block_hash(b) : "nothing");
    }
    const chain_block *tip = chain_graph_canonical_tip(naive);
    char *what = g_strdup_printf("%s's blocks = the naive loop's", who);
    bench_check(!diff && s->n_recent == s->blocks && s->n_recent > 0 && tip &&
                    !strcmp(chain_block_hash(tip), s->tip), what,
                "%u of %u held blocks agree (%u listed)%s%s", same, s->blocks, s->n_recent, diff ? "; " : "",
                diff ? diff : "");
    g_free(what);
    g_free(diff);
}

int main(int argc, char **argv)
{
    bench_init("bench_chain", &argc, argv);
    if (bench_small()) {
        chain_len = 300; /* below MWEB's activation */
        first_len = 150;
        per_block_samples = 5;
    }
    const char *spec_path = TF_SOURCE_DIR "/scenarios/clusters/litecoin-3.json";
    bench_need_cluster_binary(spec_path);
    GError *err = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(spec_path, &err);
    cluster = spec ? tf_cluster_new(spec, 1, &err) : NULL;
    tf_cluster_spec_free(spec);
    if (!cluster)
        bench_die("%s", err->message);
    if (!tf_cluster_start(cluster, &err)) {
        tf_cluster_free(cluster);
        bench_die("cannot start litecoind: %s", err->message);
    }
    http = tf_http_new();
    tf_source *src = tf_cluster_node_source(cluster, 0);
    rpc = chain_rpc_from_source(src, NULL);
    tf_source_unref(src);
    json_decref(call(NULL, "createwallet", json_pack("[s]", "bench")));
    json_t *a = call("/wallet/bench", "getnewaddress", NULL);
    address = g_strdup(json_string_value(a));
    json_decref(a);

    printf("bench_chain: chain observer on one litecoind regtest node\n");
    gint64 t0 = g_get_monotonic_time();
    mine(first_len);
    printf("mined %" G_GINT64_FORMAT " blocks in %.1f s\n", first_len, (g_get_monotonic_time() - t0) / 1e6);

    /* Ingestion at the first size, then grow the same graph to the full one and measure again. */
    tf_runtime *inc = observer_new(FALSE, 32, TRUE);
    cycle(inc, NULL, NULL, NULL);
    double ms1k, rq1k, ms5k, rq5k;
    per_block(inc, &ms1k, &rq1k, "the observer follows each new block (first size)");
    t0 = g_get_monotonic_time();
    mine(chain_len - height());
    printf("mined up to %" G_GINT64_FORMAT " blocks in %.1f s\n", height(), (g_get_monotonic_time() - t0) / 1e6);
    cycle(inc, NULL, NULL, NULL);
    per_block(inc, &ms5k, &rq5k, "the observer follows each new block (full size)");
    tf_runtime_free(inc);
    gint64 tip = height();

    /* Catch-up from empty: batched observer vs naive loop. Heap in use (mallinfo2) goes
     * down when memory is freed, unlike RSS, so it shows what each graph keeps. The pruned
     * observer lists all its blocks in its snapshot, for the answer check. */
    long rss0 = bench_rss_kib();
    size_t heap0 = mallinfo2().uordblks;
    tf_runtime *pruned = observer_new(TRUE, 1000, TRUE);
    t0 = g_get_monotonic_time();
    double cpu0 = bench_cpu_seconds();
    guint64 req_b;
    gint64 got;
    guint kept_pruned;
    tf_snapshot *pruned_snap = cycle_snap(pruned, &req_b, &got, &kept_pruned);
    double batched = (g_get_monotonic_time() - t0) / 1e6, batched_cpu = bench_cpu_seconds() - cpu0;
    long rss_pruned = bench_rss_kib() - rss0;
    long heap_pruned = (long)(mallinfo2().uordblks - heap0) / 1024;
    long rss1 = bench_rss_kib();
    size_t heap1 = mallinfo2().uordblks;
    tf_runtime *full = observer_new(FALSE, 32, TRUE);
    guint kept_full;
    cycle(full, NULL, NULL, &kept_full);
    long rss_full = bench_rss_kib() - rss1;
    long heap_full = (long)(mallinfo2().uordblks - heap1) / 1024;
    /* The same catch-up with REST off: JSON-RPC windows and header batches. */
    tf_runtime *json_rt = observer_new(TRUE, 1000, FALSE);
    t0 = g_get_monotonic_time();
    cpu0 = bench_cpu_seconds();
    guint64 req_j;
    tf_snapshot *json_snap = cycle_snap(json_rt, &req_j, NULL, NULL);
    double json_secs = (g_get_monotonic_time() - t0) / 1e6, json_cpu = bench_cpu_seconds() - cpu0;
    guint req_floor;
    double floor_secs = rest_floor(tip, &req_floor);
    guint64 req_n;
    chain_graph *naive_graph = NULL;
    cpu0 = bench_cpu_seconds();
    double naive = naive_catch_up(tip, &req_n, &naive_graph), naive_cpu = bench_cpu_seconds() - cpu0;

    printf("\ncatch-up of %" G_GINT64_FORMAT " blocks (tip %" G_GINT64_FORMAT ")\n", tip + 1, got);
    printf("  observer, REST headers  : %8.3f s  %6" G_GUINT64_FORMAT " HTTP requests  (CPU here %.3f s)\n",
           batched, req_b, batched_cpu);
    printf("  observer, JSON-RPC only : %8.3f s  %6" G_GUINT64_FORMAT " HTTP requests  (CPU here %.3f s)\n",
           json_secs, req_j, json_cpu);
    printf("  naive per height        : %8.3f s  %6" G_GUINT64_FORMAT " HTTP requests  (CPU here %.3f s)\n",
           naive, req_n, naive_cpu);
    printf("  node's limit (REST only): %8.3f s  %6u HTTP requests  (the headers read, nothing done)\n",
           floor_secs, req_floor);
    printf("  ratio                   : %8.1fx faster than the naive loop (JSON-RPC only: %.1fx), "
           "%.0fx fewer requests; %.2fx the node's limit\n", naive / batched, naive / json_secs,
           (double)req_n / (double)req_b, batched / floor_secs);
    check_at_tip(pruned, "the pruned observer reaches the node's best block");
    check_at_tip(full, "the unpruned observer reaches the node's best block");
    check_at_tip(json_rt, "the JSON-RPC observer reaches the node's best block");
    check_against_naive(tf_snapshot_data(pruned_snap), naive_graph, "the pruned observer");
    check_against_naive(tf_snapshot_data(json_snap), naive_graph, "the JSON-RPC observer");
    bench_check(kept_full == (guint)tip + 1, "the unpruned observer holds every block", "%u of %" G_GINT64_FORMAT,
                kept_full, tip + 1);
    printf("\ningestion per new block (mean of %d, RPC round trips included)\n", per_block_samples);
    printf("  graph at ~%" G_GINT64_FORMAT " blocks: %6.2f ms/block  %.1f requests/block\n", first_len, ms1k, rq1k);
    printf("  graph at ~%" G_GINT64_FORMAT " blocks: %6.2f ms/block  %.1f requests/block\n", chain_len, ms5k, rq5k);
    printf("  ratio big/small    : %6.2f\n", ms5k / ms1k);
    printf("\nmemory after the catch-up (LIB k=6, retained depth 100)\n");
    printf("  pruned   : %5u blocks kept, heap in use +%ld KiB, RSS +%ld KiB\n", kept_pruned,
           heap_pruned, rss_pruned);
    printf("  unpruned : %5u blocks kept, heap in use +%ld KiB, RSS +%ld KiB\n", kept_full,
           heap_full, rss_full);
    printf("  ratio    : %.1fx less heap with pruning\n", (double)heap_full / (double)MAX(heap_pruned, 1));
    printf("  (RSS includes the catch-up's transient JSON, which both runs parse in full; the\n"
           "   pruned run goes first, since RSS never shrinks)\n");

    chain_graph_free(naive_graph);
    tf_snapshot_unref(json_snap);
    tf_runtime_free(json_rt);
    tf_snapshot_unref(pruned_snap);
    tf_runtime_free(full);
    tf_runtime_free(pruned);
    chain_rpc_free(rpc);
    tf_http_free(http);
    g_free(address);
    tf_cluster_free(cluster);
    return bench_finish();
}
