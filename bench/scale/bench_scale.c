/* bench_scale.c: one runtime over 1,000 sources at 10 Hz.
 * Part 1: 1,000 HTTP sources on a local server in a child process (bench_server), the
 * runtime running at a 100 ms interval: cycle time (poll + publish) p50/p99 against the
 * 100 ms budget, and the runtime's CPU per cycle (this process's: the server is not in
 * it) and as a share of one core.
 * Part 2: 1,000 in-process sources, 100,000 cycles as fast as they run: cycle time, CPU,
 * and RSS after 10k and 100k cycles (flat: history and snapshots are bounded rings).
 * The answer check: in every measured HTTP cycle every source is up with its own answer
 * (node s0017 holds path /s/17); in-process, one batch per changing cycle and a last
 * snapshot holding every source's final value. Exits 1 on a wrong answer, never on time.
 * Usage: bench_scale [--small] [HTTP_CYCLES [CYCLES]]  (small: 200 sources, 5 and 2,000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"
#include "bench_server.h"
#include "counter_observer.h"
#include "httpjson/httpjson.h"

static guint n_sources = 1000;

/* In the server process: /s/I answers its own path and the second it is in. */
static void serve(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    g_string_printf(resp->body, "{\"path\":\"%s\",\"value\":%u}", req->path,
                    (guint)(g_get_monotonic_time() / 1000000));
}

static void server_setup(fixture_http *fx, void *shared)
{
    for (guint i = 0; i < n_sources; i++) {
        char path[32];
        g_snprintf(path, sizeof path, "/s/%u", i);
        fixture_http_route_handler(fx, path, serve, NULL);
    }
}

static gboolean cycle_past(const tf_snapshot *snap, void *data)
{
    return tf_snapshot_cycle(snap) > *(guint64 *)data;
}

/* How many nodes of an HTTP snapshot are not up with their own source's answer. */
static guint wrong_nodes(const httpjson_snapshot *s, char **first)
{
    guint wrong = s->n == n_sources ? 0 : n_sources;
    for (guint i = 0; i < s->n; i++) {
        const httpjson_node *node = &s->nodes[i];
        unsigned idx = 0;
        json_t *path = httpjson_node_field(node, "path");
        char want[32] = "";
        if (sscanf(node->name, "s%u", &idx) == 1)
            g_snprintf(want, sizeof want, "/s/%u", idx);
        if (node->up && path && !g_strcmp0(json_string_value(path), want))
            continue;
        if (!wrong++ && first && !*first)
            *first = g_strdup_printf("%s: %s, path %s", node->name, node->up ? "up" : node->error,
                                     path ? json_string_value(path) : "(none)");
    }
    return wrong;
}

static void part_http(bench_server *fx, guint cycles)
{
    tf_source **src = g_new0(tf_source *, n_sources);
    for (guint i = 0; i < n_sources; i++) {
        char name[16], path[32];
        g_snprintf(name, sizeof name, "s%04u", i);
        g_snprintf(path, sizeof path, "/s/%u", i);
        char *url = bench_server_url(fx, path);
        src[i] = tf_source_new(name, url, NULL, NULL, NULL);
        g_free(url);
    }
    static const char *const fields[] = {"value", "path", NULL};
    httpjson_config hc = {.path = "", .fields = fields};
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 100000;
    tf_runtime *rt = tf_runtime_new(&cfg, &httpjson_observer, &hc,
                                    tf_source_provider_new_static(src, n_sources), NULL);
    for (guint i = 0; i < n_sources; i++)
        tf_source_unref(src[i]);
    g_free(src);
    tf_handle *h = tf_runtime_handle(rt);
    double *ms = g_new0(double, cycles);
    tf_runtime_start(rt, NULL);
    guint64 seen = 1; /* skip the first cycle: it opens 1,000 connections */
    tf_snapshot_unref(tf_handle_wait(h, cycle_past, &(guint64){0}, "first cycle", 60 * G_USEC_PER_SEC, NULL));
    double cpu0 = bench_cpu_seconds();
    gint64 wall0 = g_get_monotonic_time();
    bench_server_stats st0 = bench_server_stats_get(fx);
    guint n = 0, up = 0, bad_cycles = 0;
    char *first_wrong = NULL;
    while (n < cycles) {
        tf_snapshot *s = tf_handle_wait(h, cycle_past, &seen, "next cycle", 60 * G_USEC_PER_SEC, NULL);
        if (!s)
            break;
        seen = tf_snapshot_cycle(s);
        ms[n++] = (tf_snapshot_time(s) - tf_snapshot_cycle_started(s)) / 1000.0;
        up = ((const httpjson_snapshot *)tf_snapshot_data(s))->up;
        bad_cycles += wrong_nodes(tf_snapshot_data(s), &first_wrong) > 0;
        tf_snapshot_unref(s);
    }
    double cpu = bench_cpu_seconds() - cpu0;
    double wall = (g_get_monotonic_time() - wall0) / 1e6;
    bench_server_stats st1 = bench_server_stats_get(fx);
    guint64 reqs = st1.requests - st0.requests, conns = st1.connections - st0.connections;
    tf_runtime_stop(rt);
    printf("part 1: %u HTTP sources, interval 100 ms (10 Hz), %u cycles measured, %u sources up\n",
           n_sources, n, up);
    printf("  cycle time p50 %.1f ms, p99 %.1f ms (budget 100 ms: p99 uses %.0f%%)\n",
           bench_percentile(ms, n, 50), bench_percentile(ms, n, 99),
           bench_percentile(ms, n, 99));
    printf("  runtime CPU %.1f ms per cycle, %.1f%% of one core (this process; goal: under 25%%)\n",
           cpu * 1000 / MAX(n, 1), 100 * cpu / MAX(wall, 1e-9));
    printf("  server process CPU %.1f ms per cycle (not counted above)\n",
           (st1.cpu_s - st0.cpu_s) * 1000 / MAX(n, 1));
    printf("  %" G_GUINT64_FORMAT " requests over %" G_GUINT64_FORMAT
           " new connections (connections are kept between cycles)\n", reqs, conns);
    bench_check(n == cycles && bad_cycles == 0, "every source up with its own answer in every cycle",
                "%u of %u cycles seen, %u with a wrong node; the first: %s", n, cycles, bad_cycles,
                first_wrong ? first_wrong : "-");
    g_free(first_wrong);
    g_free(ms);
    tf_handle_unref(h);
    tf_runtime_free(rt);
}

static void part_inprocess(guint cycles)
{
    counter_cell *cells = g_new0(counter_cell, n_sources);
    tf_source **src = g_new0(tf_source *, n_sources);
    for (guint i = 0; i < n_sources; i++) {
        char name[16];
        g_snprintf(name, sizeof name, "s%04u", i);
        src[i] = counter_source_new(name, &cells[i]);
    }
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    tf_runtime *rt = tf_runtime_new(&cfg, &counter_observer, NULL,
                                    tf_source_provider_new_static(src, n_sources), NULL);
    for (guint i = 0; i < n_sources; i++)
        tf_source_unref(src[i]);
    g_free(src);
    tf_handle *h = tf_runtime_handle(rt);
    double *us = g_new0(double, cycles);
    long rss_start = bench_rss_kib(), rss_10k = 0;
    guint mark = cycles / 10; /* 10k of 100k */
    double cpu0 = bench_cpu_seconds();
    for (guint c = 0; c < cycles; c++) {
        cells[c % n_sources].value++; /* one change, one event batch, every cycle */
        gint64 t0 = g_get_monotonic_time();
        tf_runtime_cycle(rt, NULL);
        us[c] = (double)(g_get_monotonic_time() - t0);
        if (c + 1 == mark)
            rss_10k = bench_rss_kib();
    }
    double cpu = bench_cpu_seconds() - cpu0;
    long rss_end = bench_rss_kib();
    printf("part 2: %u in-process sources, %u cycles back to back (event ring %u, snapshot ring %u)\n",
           n_sources, cycles, cfg.event_history, cfg.snapshot_history);
    printf("  cycle time p50 %.0f us, p99 %.0f us; CPU %.0f us per cycle\n",
           bench_percentile(us, cycles, 50), bench_percentile(us, cycles, 99),
           cpu * 1e6 / cycles);
    printf("  RSS: start %ld KiB, after %u cycles %ld KiB, after %u cycles %ld KiB (%+.1f%% from %u)\n",
           rss_start, mark, rss_10k, cycles, rss_end, 100.0 * (rss_end - rss_10k) / MAX(rss_10k, 1), mark);
    guint64 last_seq = tf_handle_last_seq(h);
    printf("  last batch sequence %" G_GUINT64_FORMAT "\n", last_seq);
    bench_check(last_seq == cycles, "one batch per changing cycle", "%" G_GUINT64_FORMAT " batches in %u cycles",
                last_seq, cycles);
    tf_snapshot *last = tf_handle_latest(h);
    const counter_snapshot *cs = last ? tf_snapshot_data(last) : NULL;
    guint wrong = cs && cs->n == n_sources ? 0 : n_sources;
    for (guint i = 0; cs && i < cs->n && i < n_sources; i++)
        wrong += cs->values[i] != g_atomic_int_get(&cells[i].value);
    bench_check(wrong == 0, "the last snapshot holds every source's final value", "%u of %u sources differ",
                wrong, n_sources);
    tf_snapshot_unref(last);
    g_free(us);
    tf_handle_unref(h);
    tf_runtime_free(rt);
    g_free(cells);
}

int main(int argc, char **argv)
{
    bench_init("bench_scale", &argc, argv);
    if (bench_small())
        n_sources = 200;
    bench_server *fx = bench_server_fork(0, server_setup); /* before any thread exists */
    guint http_cycles = argc > 1 ? (guint)atoi(argv[1]) : bench_small() ? 5 : 50;
    guint cycles = argc > 2 ? (guint)atoi(argv[2]) : bench_small() ? 2000 : 100000;
    printf("bench/scale: one runtime, %u sources\n", n_sources);
    part_http(fx, http_cycles);
    bench_server_free(fx);
    part_inprocess(cycles);
    return bench_finish();
}
