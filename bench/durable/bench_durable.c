/* bench_durable.c: what the durable store buys and costs.
 * 1. Restart of the chain observer on a 5,000-block chain (simulated nodes answering
 *    JSON-RPC over local HTTP): from a checkpoint against a full catch-up, with pruning
 *    (the default: ~106 blocks kept) and without (all 5,001 kept and checkpointed).
 * 2. Journal appends per second at batch sizes 1 and 100 (one commit per batch), and
 *    runtime cycles per second with and without a journal.
 * Prints figures and ratios; never passes or fails on time. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <tf/tf.h>
#include "bench_util.h"
#include "chain/observer.h"
#include "chain/sim.h"
#include "counter_observer.h"
#include "fixture_http.h"

#define CHAIN_LEN 5000
#define REPS 3

static chain_sim *sim;
static GMutex sim_lock;
static fixture_http *server;
static tf_source *source;

static json_t *answer(json_t *call)
{
    const char *method = json_string_value(json_object_get(call, "method"));
    json_t *id = json_object_get(call, "id");
    GError *err = NULL;
    g_mutex_lock(&sim_lock);
    json_t *res = chain_sim_rpc(sim, 0, method ? method : "", json_object_get(call, "params"), &err);
    g_mutex_unlock(&sim_lock);
    if (res)
        return json_pack("{s:o, s:n, s:O}", "result", res, "error", "id", id ? id : json_null());
    json_t *ans = json_pack("{s:n, s:{s:i, s:s}, s:O}", "result", "error", "code", -1, "message",
                            err->message, "id", id ? id : json_null());
    g_error_free(err);
    return ans;
}

static void handler(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL), *out;
    if (json_is_array(body)) {
        out = json_array();
        size_t i;
        json_t *call;
        json_array_foreach(body, i, call)
            json_array_append_new(out, answer(call));
    } else {
        out = answer(body);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    g_string_append(resp->body, text);
    free(text);
    json_decref(out);
    json_decref(body);
}

/* Starts an observer (with store or not), runs cycles until it sees the sim's tip; the
 * time includes creating the state (so restoring the checkpoint) and freeing it (so the
 * final checkpoint save). */
static double observe(tf_store *store, gboolean prune, guint64 *requests, guint *blocks,
                      double *free_s)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.prune = prune;
    cfg.store = store;
    cfg.checkpoint_name = prune ? "bench-pruned" : "bench-full";
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.request_timeout_us = 60 * G_USEC_PER_SEC;
    gint64 t0 = g_get_monotonic_time();
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&rc, &chain_observer, &cfg,
                                    tf_source_provider_new_static(&source, 1), &err);
    if (!rt) {
        fprintf(stderr, "bench_durable: %s\n", err->message);
        exit(1);
    }
    tf_handle *h = tf_runtime_handle(rt);
    const chain_snapshot *cs = NULL;
    tf_snapshot *snap = NULL;
    for (int i = 0; i < 10; i++) {
        if (!tf_runtime_cycle(rt, &err)) {
            fprintf(stderr, "bench_durable: cycle: %s\n", err->message);
            exit(1);
        }
        tf_snapshot_unref(snap);
        snap = tf_handle_latest(h);
        cs = tf_snapshot_data(snap);
        if (cs->tip_height == CHAIN_LEN)
            break;
    }
    double run_s = (g_get_monotonic_time() - t0) / 1e6;
    if (cs->tip_height != CHAIN_LEN) {
        fprintf(stderr, "bench_durable: the observer reached %" G_GINT64_FORMAT "\n", cs->tip_height);
        exit(1);
    }
    *requests = cs->requests;
    *blocks = cs->blocks;
    tf_snapshot_unref(snap);
    tf_handle_unref(h);
    gint64 t1 = g_get_monotonic_time();
    tf_runtime_free(rt);
    *free_s = (g_get_monotonic_time() - t1) / 1e6;
    return run_s;
}

static void chain_restart(const char *dir, gboolean prune)
{
    double full = 1e9, restart = 1e9, save = 0;
    guint64 req_full = 0, req_restart = 0;
    guint blocks = 0;
    for (int r = 0; r < REPS; r++) {
        double fs;
        guint64 rq;
        double t = observe(NULL, prune, &rq, &blocks, &fs);
        if (t < full) {
            full = t;
            req_full = rq;
        }
    }
    char *path = g_strdup_printf("%s/chain-%d.db", dir, prune);
    GError *err = NULL;
    tf_store *store = tf_store_open(path, &err);
    double fs;
    guint64 rq;
    observe(store, prune, &rq, &blocks, &save); /* bootstrap: full scan, checkpoint saved */
    for (int r = 0; r < REPS; r++) {
        double t = observe(store, prune, &rq, &blocks, &fs);
        if (t < restart) {
            restart = t;
            req_restart = rq;
        }
    }
    tf_store_unref(store);
    struct stat st;
    long kib = g_stat(path, &st) == 0 ? (long)(st.st_size / 1024) : -1;
    printf("\nrestart on a %d-block chain, %s (%u blocks kept; best of %d)\n", CHAIN_LEN,
           prune ? "pruned (default)" : "unpruned", blocks, REPS);
    printf("  full catch-up          : %8.1f ms  %4" G_GUINT64_FORMAT " HTTP requests\n",
           full * 1e3, req_full);
    printf("  from the checkpoint    : %8.1f ms  %4" G_GUINT64_FORMAT " HTTP requests\n",
           restart * 1e3, req_restart);
    printf("  ratio                  : %8.1fx faster\n", full / restart);
    printf("  checkpoint save at stop: %8.1f ms (fsync included); store %ld KiB\n",
           save * 1e3, kib);
    g_free(path);
}

static void journal_rate(const char *dir, guint batch, guint n)
{
    char *path = g_strdup_printf("%s/journal-%u.db", dir, batch);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    tf_journal *j = tf_journal_open(s, "bench", 0, &err);
    json_t *events = json_array();
    for (guint i = 0; i < batch; i++)
        json_array_append_new(events, json_pack("{s:s, s:s, s:i, s:i}", "type", "changed",
                                                "source", "n0", "old", i, "new", i + 1));
    json_t *b = json_pack("{s:I, s:I, s:s, s:o}", "seq", (json_int_t)0, "cycle", (json_int_t)0,
                          "wall_time", "2026-01-01T00:00:00.000Z", "events", events);
    gint64 t0 = g_get_monotonic_time();
    for (guint i = 1; i <= n; i++) {
        json_object_set_new(b, "seq", json_integer(i));
        if (!tf_journal_append(j, i, i, g_get_real_time(), b, &err)) {
            fprintf(stderr, "bench_durable: %s\n", err->message);
            exit(1);
        }
    }
    double s_el = (g_get_monotonic_time() - t0) / 1e6;
    printf("  batch size %3u : %8.0f appends/s  %9.0f events/s  (%u appends, %.2f s)\n", batch,
           n / s_el, n * (double)batch / s_el, n, s_el);
    json_decref(b);
    tf_journal_unref(j);
    tf_store_unref(s);
    g_free(path);
}

/* Changing cycles of a one-source runtime, each recording one batch: journal or not. */
static double cycles_per_s(tf_store *store, guint n)
{
    counter_cell cell = {0};
    tf_source *src = counter_source_new("n0", &cell);
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&rc, &counter_observer, NULL,
                                    tf_source_provider_new_static(&src, 1), &err);
    tf_source_unref(src);
    tf_journal *j = store ? tf_journal_open(store, "cycles", 0, &err) : NULL;
    if (j)
        tf_runtime_set_journal(rt, j, &err);
    gint64 t0 = g_get_monotonic_time();
    for (guint i = 0; i < n; i++) {
        g_atomic_int_inc(&cell.value);
        tf_runtime_cycle(rt, NULL);
    }
    double el = (g_get_monotonic_time() - t0) / 1e6;
    tf_runtime_free(rt);
    tf_journal_unref(j);
    return n / el;
}

int main(void)
{
    char *dir = g_dir_make_tmp("tf-bench-durable-XXXXXX", NULL);
    sim = chain_sim_new(5, 1);
    chain_sim_mine(sim, 0, CHAIN_LEN);
    server = fixture_http_start();
    fixture_http_route_handler(server, "/node0/", handler, NULL);
    char *url = fixture_http_url(server, "/node0");
    source = tf_source_new("node0", url, json_pack("{s:s, s:s}", "rpc_user", "u", "rpc_password", "p"),
                           NULL, NULL);
    g_free(url);
    printf("bench_durable: durable store (SQLite WAL) on %s\n", dir);
    chain_restart(dir, TRUE);
    chain_restart(dir, FALSE);
    printf("\njournal appends, one committed transaction each (synchronous=NORMAL, WAL)\n");
    journal_rate(dir, 1, 5000);
    journal_rate(dir, 100, 2000);
    char *cpath = g_strdup_printf("%s/cycles.db", dir);
    tf_store *cs = tf_store_open(cpath, NULL);
    double bare = cycles_per_s(NULL, 5000), journaled = cycles_per_s(cs, 5000);
    tf_store_unref(cs);
    g_free(cpath);
    printf("\nruntime cycles that record one batch each (counter observer, 1 source)\n");
    printf("  without a journal : %8.0f cycles/s\n", bare);
    printf("  with a journal    : %8.0f cycles/s (%.1fx the cost; a 100 ms interval needs 10/s)\n",
           journaled, bare / journaled);
    tf_source_unref(source);
    fixture_http_free(server);
    chain_sim_free(sim);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
    g_free(dir);
    return 0;
}
