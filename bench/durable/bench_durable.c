/* bench_durable.c: what the durable store buys and costs.
 * 1. Restart of the chain observer on a 5,000-block chain (a simulated node answering
 *    JSON-RPC over local HTTP), with pruning (the default: ~106 blocks kept) and without
 *    (every block kept and checkpointed). While the observer is down the chain grows by
 *    50 blocks; the restart from the checkpoint must catch them up, and it is timed
 *    against a full catch-up of the same chain. The answer check: the restarted graph
 *    (every kept block, the floor, the node's head, as its checkpoint holds them) equals
 *    the graph of a full scan, and both reach the node's tip.
 * 2. Journal appends per second at batch sizes 1 and 100 (one commit per batch), and
 *    runtime cycles per second with and without a journal; the journals must hold every
 *    batch appended.
 * Usage: bench_durable [--small]  (small: a 500-block chain). Exits 1 on a wrong answer;
 * never on time. */
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

#define REPS 3

static guint chain_len = 5000;   /* blocks mined before the first start */
static guint growth = 50;        /* blocks mined while the observer is down, per restart */

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

/* What a run ended with: the snapshot's view of the graph. */
typedef struct {
    char tip[CHAIN_HASH_BUF], lib[CHAIN_HASH_BUF];
    gint64 tip_height, floor;
    guint blocks, forks;
    guint64 requests;
    gboolean reached;          /* the tip is the node's */
    char *why;                 /* the observer's checkpoint decision, as it logged it */
} graph_view;

static char *last_message; /* the last g_message (the observer logs its checkpoint decision) */

static void keep_message(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    g_free(last_message);
    last_message = g_strdup(msg);
}

static void sim_tip(char tip[CHAIN_HASH_BUF], gint64 *height)
{
    g_mutex_lock(&sim_lock);
    g_strlcpy(tip, chain_sim_head(sim, 0), CHAIN_HASH_BUF);
    *height = chain_sim_head_height(sim, 0);
    g_mutex_unlock(&sim_lock);
}

static void observer_config(chain_observer_config *cfg, tf_store *store, gboolean prune)
{
    chain_observer_config_init(cfg);
    cfg->prune = prune;
    cfg->store = store;
    cfg->checkpoint_name = prune ? "bench-pruned" : "bench-full";
}

/* Starts an observer (with a store or not) and runs cycles until it sees the node's tip;
 * the time includes creating the state (so restoring the checkpoint), not freeing it
 * (the final checkpoint save: *free_s). */
static double observe(tf_store *store, gboolean prune, graph_view *view, double *free_s)
{
    chain_observer_config cfg;
    observer_config(&cfg, store, prune);
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.request_timeout_us = 60 * G_USEC_PER_SEC;
    char want[CHAIN_HASH_BUF];
    gint64 want_height;
    sim_tip(want, &want_height);
    gint64 t0 = g_get_monotonic_time();
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&rc, &chain_observer, &cfg,
                                    tf_source_provider_new_static(&source, 1), &err);
    if (!rt)
        bench_die("%s", err->message);
    tf_handle *h = tf_runtime_handle(rt);
    const chain_snapshot *cs = NULL;
    tf_snapshot *snap = NULL;
    for (int i = 0; i < 10; i++) {
        if (!tf_runtime_cycle(rt, &err))
            bench_die("cycle: %s", err->message);
        tf_snapshot_unref(snap);
        snap = tf_handle_latest(h);
        cs = tf_snapshot_data(snap);
        if (cs->tip_height == want_height)
            break;
    }
    double run_s = (g_get_monotonic_time() - t0) / 1e6;
    g_free(view->why);
    memset(view, 0, sizeof *view);
    view->why = g_strdup(last_message ? last_message : "");
    view->reached = !strcmp(cs->tip, want);
    g_strlcpy(view->tip, cs->tip, sizeof view->tip);
    g_strlcpy(view->lib, cs->lib, sizeof view->lib);
    view->tip_height = cs->tip_height;
    view->floor = cs->floor;
    view->blocks = cs->blocks;
    view->forks = cs->forks ? cs->forks->len : 0;
    view->requests = cs->requests;
    if (!view->reached)
        printf("the observer stopped at %" G_GINT64_FORMAT " %s, the node is at %" G_GINT64_FORMAT " %s\n",
               cs->tip_height, cs->tip, want_height, want);
    tf_snapshot_unref(snap);
    tf_handle_unref(h);
    gint64 t1 = g_get_monotonic_time();
    tf_runtime_free(rt);
    *free_s = (g_get_monotonic_time() - t1) / 1e6;
    return run_s;
}

/* The graph a store's checkpoint holds (new ref; the observer saves it when freed). */
static json_t *saved_graph(tf_store *store, gboolean prune)
{
    chain_observer_config cfg;
    observer_config(&cfg, store, prune);
    GError *err = NULL;
    char *fp = chain_observer_fingerprint(&cfg, &err), *why = NULL;
    if (!fp)
        bench_die("%s", err->message);
    json_t *state = NULL;
    tf_checkpoint_status st = tf_checkpoint_load(store, cfg.checkpoint_name, fp, &state, &why, &err);
    if (st != TF_CHECKPOINT_VALID)
        bench_die("no usable checkpoint in %s: %s", tf_store_path(store), why ? why : err->message);
    g_free(why);
    g_free(fp);
    return state;
}

/* Checks a restarted observer's graph against a full scan's of the same chain. */
static void check_graphs(json_t *restored, json_t *scanned, const graph_view *r, const graph_view *f,
                         const char *what)
{
    char *label = g_strdup_printf("%s: both reach the node's tip", what);
    bench_check(r->reached && f->reached, label, "restarted at %" G_GINT64_FORMAT ", full scan at %"
                G_GINT64_FORMAT, r->tip_height, f->tip_height);
    g_free(label);
    label = g_strdup_printf("%s: restarted graph = full scan's (blocks, floor, head)", what);
    json_t *rb = json_object_get(restored, "blocks"), *fb = json_object_get(scanned, "blocks");
    char *rs = json_dumps(restored, JSON_COMPACT | JSON_SORT_KEYS);
    char *fs = json_dumps(scanned, JSON_COMPACT | JSON_SORT_KEYS);
    gsize at = 0; /* where the two texts part */
    while (rs[at] && rs[at] == fs[at])
        at++;
    bench_check(json_equal(restored, scanned), label,
                "%zu blocks from %" JSON_INTEGER_FORMAT " against %zu from %" JSON_INTEGER_FORMAT
                "; they differ at byte %zu: restarted ...%.80s, full scan ...%.80s",
                json_array_size(rb), json_integer_value(json_object_get(restored, "floor")),
                json_array_size(fb), json_integer_value(json_object_get(scanned, "floor")), at,
                rs + at, fs + at);
    free(rs);
    free(fs);
    g_free(label);
    label = g_strdup_printf("%s: restarted snapshot = full scan's (tip, LIB, floor, blocks, forks)", what);
    bench_check(!strcmp(r->tip, f->tip) && !strcmp(r->lib, f->lib) && r->floor == f->floor &&
                    r->blocks == f->blocks && r->forks == f->forks, label,
                "restarted tip %s lib %s floor %" G_GINT64_FORMAT " %u blocks %u forks; full scan tip %s "
                "lib %s floor %" G_GINT64_FORMAT " %u blocks %u forks", r->tip, r->lib, r->floor, r->blocks,
                r->forks, f->tip, f->lib, f->floor, f->blocks, f->forks);
    g_free(label);
}

static void mine(guint n)
{
    g_mutex_lock(&sim_lock);
    chain_sim_mine(sim, 0, n);
    g_mutex_unlock(&sim_lock);
}

static void chain_restart(const char *dir, gboolean prune)
{
    double full[REPS], restart[REPS], save = 0, fs;
    guint64 req_full = 0, req_restart = 0;
    graph_view rv = {0}, fv = {0}, refv = {0};
    char *path = g_strdup_printf("%s/chain-%d.db", dir, prune);
    GError *err = NULL;
    tf_store *store = tf_store_open(path, &err);
    if (!store)
        bench_die("%s", err->message);
    observe(store, prune, &rv, &save); /* bootstrap: full scan, checkpoint saved at stop */
    gint64 start_height = rv.tip_height;
    for (int r = 0; r < REPS; r++) {
        mine(growth); /* the chain grows while no observer runs */
        restart[r] = observe(store, prune, &rv, &fs);
        full[r] = observe(NULL, prune, &fv, &fs);
        req_restart = rv.requests;
        req_full = fv.requests;
        /* The answer: the restarted graph against a full scan's, each as its checkpoint
         * holds it (the timed full scan above runs without a store, so that it pays no
         * checkpoint save: this scan is its twin, untimed, into a fresh store). */
        char *ref_path = g_strdup_printf("%s/reference-%d-%d.db", dir, prune, r);
        tf_store *ref = tf_store_open(ref_path, &err);
        if (!ref)
            bench_die("%s", err->message);
        observe(ref, prune, &refv, &fs);
        json_t *restored = saved_graph(store, prune), *scanned = saved_graph(ref, prune);
        char *what = g_strdup_printf("%s, restart %d at %" G_GINT64_FORMAT, prune ? "pruned" : "unpruned",
                                     r + 1, rv.tip_height);
        refv.tip_height = fv.tip_height; /* the twin must reach the tip too */
        fv.reached = fv.reached && refv.reached;
        check_graphs(restored, scanned, &rv, &fv, what);
        g_free(what);
        json_decref(restored);
        json_decref(scanned);
        tf_store_unref(ref);
        g_free(ref_path);
    }
    tf_store_unref(store);
    struct stat st;
    long kib = g_stat(path, &st) == 0 ? (long)(st.st_size / 1024) : -1;
    double full_med = bench_median(full, REPS), restart_med = bench_median(restart, REPS);
    printf("\nrestart on a %" G_GINT64_FORMAT "-block chain grown by %u blocks while down, %s "
           "(%u blocks kept; median of %d restarts)\n", start_height + 1, growth,
           prune ? "pruned (default)" : "unpruned", rv.blocks, REPS);
    printf("  full catch-up          : %8.1f ms  %4" G_GUINT64_FORMAT " HTTP requests\n",
           full_med * 1e3, req_full);
    printf("  from the checkpoint    : %8.1f ms  %4" G_GUINT64_FORMAT " HTTP requests\n",
           restart_med * 1e3, req_restart);
    printf("  ratio                  : %8.1fx faster\n", full_med / restart_med);
    printf("  checkpoint save at stop: %8.1f ms (fsync included); store %ld KiB\n",
           save * 1e3, kib);
    printf("  the last restart logged: %s\n", rv.why);
    g_free(rv.why);
    g_free(fv.why);
    g_free(refv.why);
    g_free(path);
}

static void journal_rate(const char *dir, guint batch, guint n)
{
    char *path = g_strdup_printf("%s/journal-%u.db", dir, batch);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    tf_journal *j = s ? tf_journal_open(s, "bench", 0, &err) : NULL;
    if (!j)
        bench_die("%s", err->message);
    json_t *events = json_array();
    for (guint i = 0; i < batch; i++)
        json_array_append_new(events, json_pack("{s:s, s:s, s:i, s:i}", "type", "changed",
                                                "source", "n0", "old", i, "new", i + 1));
    json_t *b = json_pack("{s:I, s:I, s:s, s:o}", "seq", (json_int_t)0, "cycle", (json_int_t)0,
                          "wall_time", "2026-01-01T00:00:00.000Z", "events", events);
    gint64 t0 = g_get_monotonic_time();
    for (guint i = 1; i <= n; i++) {
        json_object_set_new(b, "seq", json_integer(i));
        if (!tf_journal_append(j, i, i, g_get_real_time(), b, &err))
            bench_die("%s", err->message);
    }
    double s_el = (g_get_monotonic_time() - t0) / 1e6;
    printf("  batch size %3u : %8.0f appends/s  %9.0f events/s  (%u appends, %.2f s)\n", batch,
           n / s_el, n * (double)batch / s_el, n, s_el);
    /* The answer: every append is there, the last one as it was written. */
    guint64 last = 0, first = 0;
    json_t *back = NULL;
    tf_journal_last_seq(j, &last, NULL);
    tf_journal_next_stored(j, 1, &first, NULL);
    tf_journal_read(j, n, &back, NULL);
    char *what = g_strdup_printf("journal of batch size %u holds batches 1..%u, the last intact", batch, n);
    bench_check(first == 1 && last == n && back && json_equal(json_object_get(back, "events"), events),
                what, "first stored %" G_GUINT64_FORMAT ", last %" G_GUINT64_FORMAT ", last batch %s",
                first, last, back ? "differs" : "missing");
    g_free(what);
    json_decref(back);
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
    if (j && !tf_runtime_set_journal(rt, j, &err))
        bench_die("%s", err->message);
    gint64 t0 = g_get_monotonic_time();
    for (guint i = 0; i < n; i++) {
        g_atomic_int_inc(&cell.value);
        if (!tf_runtime_cycle(rt, &err))
            bench_die("cycle: %s", err->message);
    }
    double el = (g_get_monotonic_time() - t0) / 1e6;
    tf_handle *h = tf_runtime_handle(rt);
    guint64 batches = tf_handle_last_seq(h);
    tf_handle_unref(h);
    tf_runtime_free(rt); /* stops and flushes the journal */
    char *what = g_strdup_printf("%s: one batch per changing cycle", j ? "with a journal" : "without");
    bench_check(batches == n, what, "%" G_GUINT64_FORMAT " batches in %u cycles", batches, n);
    g_free(what);
    if (j) {
        guint64 last = 0;
        tf_journal_last_seq(j, &last, NULL);
        bench_check(last == batches, "the journal holds every batch of the runtime",
                    "journal ends at %" G_GUINT64_FORMAT ", the runtime published %" G_GUINT64_FORMAT,
                    last, batches);
    }
    tf_journal_unref(j);
    return n / el;
}

int main(int argc, char **argv)
{
    bench_init("bench_durable", &argc, argv);
    g_log_set_handler(NULL, G_LOG_LEVEL_MESSAGE, keep_message, NULL);
    guint appends = 5000, appends_100 = 2000, cycles = 5000;
    if (bench_small()) {
        chain_len = 500;
        growth = 20;
        appends = 500;
        appends_100 = 200;
        cycles = 500;
    }
    char *dir = g_dir_make_tmp("tf-bench-durable-XXXXXX", NULL);
    if (!dir)
        bench_die("no temporary directory");
    sim = chain_sim_new(5, 1);
    chain_sim_mine(sim, 0, chain_len);
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
    journal_rate(dir, 1, appends);
    journal_rate(dir, 100, appends_100);
    char *cpath = g_strdup_printf("%s/cycles.db", dir);
    tf_store *cs = tf_store_open(cpath, NULL);
    double bare = cycles_per_s(NULL, cycles), journaled = cycles_per_s(cs, cycles);
    tf_store_unref(cs);
    g_free(cpath);
    printf("\nruntime cycles that record one batch each (counter observer, 1 source)\n");
    printf("  without a journal : %8.0f cycles/s\n", bare);
    printf("  with a journal    : %8.0f cycles/s (%.1fx the cost; a 100 ms interval needs 10/s)\n",
           journaled, bare / journaled);
    tf_source_unref(source);
    fixture_http_free(server);
    chain_sim_free(sim);
    bench_rm_rf(dir);
    g_free(dir);
    g_free(last_message);
    return bench_finish();
}
