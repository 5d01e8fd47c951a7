/* bench_scale.c: one runtime over 1,000 sources at 10 Hz.
 * Part 1: 1,000 HTTP sources on a local server in a child process (bench_server), the
 * runtime running at a 100 ms interval: cycle time (poll + publish) p50/p99 against the
 * 100 ms budget, and the runtime's CPU per cycle (this process's: the server is not in
 * it) and as a share of one core; beside it the libcurl loop a user would write (the
 * baseline), and the floor: the same requests over raw keep-alive sockets with no HTTP
 * library, which is what the kernel's loopback TCP and the JSON parse cost alone.
 * Part 2: 1,000 in-process sources, 100,000 cycles as fast as they run: cycle time, CPU,
 * and RSS after 10k and 100k cycles (flat: history and snapshots are bounded rings).
 * The answer check: in every measured HTTP cycle every source is up with its own answer
 * (node s0017 holds path /s/17); in-process, one batch per changing cycle and a last
 * snapshot holding every source's final value. Exits 1 on a wrong answer, never on time.
 * Usage: bench_scale [--small] [--server poll|threads] [HTTP_CYCLES [CYCLES]]  (small: 200
 * sources, 5 and 2,000; the server: two polling threads (default) or a thread per
 * connection). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <curl/curl.h>
#include <string.h>
#include "bench_util.h"
#include "bench_server.h"
#include "counter_observer.h"
#include "httpjson/httpjson.h"

static guint n_sources = 1000;
static guint server_threads = 2; /* the server's polling threads; 0: a thread per connection */

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

static double loadavg1(void)
{
    double l[1] = {-1};
    return getloadavg(l, 1) == 1 ? l[0] : -1;
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

/* What one side of part 1 measured over its cycles. */
typedef struct {
    const char *name;
    guint cycles, bad_cycles;   /* cycles measured; those with a node not up with its answer */
    char *first_wrong;
    double *ms;                 /* cycle times */
    double cpu, user, sys, wall; /* this process, seconds, over the measured cycles */
    guint64 requests, connections; /* as the server counted them */
    double server_cpu;
} http_side;

/* Starts the measured span of a side (after its warm-up cycle: that one connects). */
static void span_begin(http_side *f, bench_server *fx)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    f->user = -(ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6);
    f->sys = -(ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    f->wall = -g_get_monotonic_time() / 1e6;
    bench_server_stats st = bench_server_stats_get(fx);
    f->requests = -st.requests;
    f->connections = -st.connections;
    f->server_cpu = -st.cpu_s;
}

static void span_end(http_side *f, bench_server *fx)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    f->user += ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    f->sys += ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    f->cpu = f->user + f->sys;
    f->wall += g_get_monotonic_time() / 1e6;
    bench_server_stats st = bench_server_stats_get(fx);
    f->requests += st.requests;
    f->connections += st.connections;
    f->server_cpu += st.cpu_s;
}

static void side_print(http_side *f)
{
    guint n = MAX(f->cycles, 1);
    printf("  %-22s cycle p50 %5.1f ms  p99 %5.1f ms  CPU %5.1f ms/cycle (user %.1f, system %.1f), "
           "%4.1f%% of a core; %" G_GUINT64_FORMAT " requests, %" G_GUINT64_FORMAT
           " new connections; server %.1f ms/cycle\n",
           f->name, bench_percentile(f->ms, f->cycles, 50), bench_percentile(f->ms, f->cycles, 99),
           f->cpu * 1000 / n, f->user * 1000 / n, f->sys * 1000 / n,
           100 * f->cpu / MAX(f->wall, 1e-9), f->requests, f->connections,
           f->server_cpu * 1000 / n);
}

/* tf: one runtime with the httpjson observer over the sources, interval 100 ms. */
static void part_http_tf(bench_server *fx, http_side *f)
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
    tf_runtime_start(rt, NULL);
    guint64 seen = 1; /* skip the first cycle: it opens 1,000 connections */
    tf_snapshot_unref(tf_handle_wait(h, cycle_past, &(guint64){0}, "first cycle", 60 * G_USEC_PER_SEC, NULL));
    span_begin(f, fx);
    guint n = 0;
    while (n < f->cycles) {
        tf_snapshot *s = tf_handle_wait(h, cycle_past, &seen, "next cycle", 60 * G_USEC_PER_SEC, NULL);
        if (!s)
            break;
        seen = tf_snapshot_cycle(s);
        f->ms[n++] = (tf_snapshot_time(s) - tf_snapshot_cycle_started(s)) / 1000.0;
        f->bad_cycles += wrong_nodes(tf_snapshot_data(s), &f->first_wrong) > 0;
        tf_snapshot_unref(s);
    }
    span_end(f, fx);
    f->bad_cycles += f->cycles - n; /* cycles that never came */
    tf_runtime_stop(rt);
    tf_handle_unref(h);
    tf_runtime_free(rt);
}

/* Cycle c of a side's loop (0 warms up, unmeasured; the span starts with 1), started
 * on the 100 ms beat kept in *next: its start time. */
static gint64 cycle_begin(http_side *f, bench_server *fx, guint c, gint64 *next)
{
    if (c == 1)
        span_begin(f, fx);
    gint64 now = g_get_monotonic_time();
    if (*next > now)
        g_usleep((gulong)(*next - now));
    gint64 t0 = g_get_monotonic_time();
    *next = t0 + 100000;
    return t0;
}

/* Records cycle c (begun at t0) with its count of wrong answers. */
static void cycle_end(http_side *f, guint c, gint64 t0, guint wrong)
{
    if (c == 0)
        return;
    f->ms[c - 1] = (g_get_monotonic_time() - t0) / 1000.0;
    f->bad_cycles += wrong > 0;
}

/* 1 when body (len bytes; 0: no answer to parse) is not source i's own answer, the first
 * such remembered in f; else 0. The answer check of the sides without tf. */
static guint answer_wrong(http_side *f, guint i, const char *body, gsize len)
{
    json_t *v = len ? json_loadb(body, len, 0, NULL) : NULL;
    char want[32];
    g_snprintf(want, sizeof want, "/s/%u", i);
    gboolean ok = v && !g_strcmp0(json_string_value(json_object_get(v, "path")), want);
    json_decref(v);
    if (!ok && !f->first_wrong)
        f->first_wrong = g_strdup_printf("s%04u answered %.60s", i, body);
    return !ok;
}

/* The baseline: what a user writes without tf, and the fast way at that: one easy handle
 * per source, configured once, all re-added to one curl multi each cycle and driven
 * with curl_multi_perform/curl_multi_poll; each body parsed with jansson and checked. */
static size_t curl_body(char *data, size_t size, size_t n, void *user)
{
    g_string_append_len(user, data, (gssize)(size * n));
    return size * n;
}

static void part_http_curl(bench_server *fx, http_side *f)
{
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)n_sources);
    CURL **easy = g_new0(CURL *, n_sources);
    GString **body = g_new0(GString *, n_sources);
    for (guint i = 0; i < n_sources; i++) {
        char path[32];
        g_snprintf(path, sizeof path, "/s/%u", i);
        char *url = bench_server_url(fx, path);
        body[i] = g_string_new(NULL);
        easy[i] = curl_easy_init();
        curl_easy_setopt(easy[i], CURLOPT_URL, url);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, curl_body);
        curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, body[i]);
        curl_easy_setopt(easy[i], CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
        g_free(url);
    }
    gint64 next = g_get_monotonic_time();
    for (guint c = 0; c <= f->cycles; c++) { /* cycle 0 connects: not measured */
        gint64 t0 = cycle_begin(f, fx, c, &next);
        for (guint i = 0; i < n_sources; i++) {
            g_string_truncate(body[i], 0);
            curl_multi_add_handle(multi, easy[i]);
        }
        int running = 1;
        while (running) {
            curl_multi_perform(multi, &running);
            if (running)
                curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
        guint wrong = 0;
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)))
            if (m->msg == CURLMSG_DONE)
                wrong += m->data.result != CURLE_OK;
        for (guint i = 0; i < n_sources; i++) {
            curl_multi_remove_handle(multi, easy[i]);
            wrong += answer_wrong(f, i, body[i]->str, body[i]->len);
        }
        cycle_end(f, c, t0, wrong);
    }
    span_end(f, fx);
    for (guint i = 0; i < n_sources; i++) {
        curl_easy_cleanup(easy[i]);
        g_string_free(body[i], TRUE);
    }
    g_free(easy);
    g_free(body);
    curl_multi_cleanup(multi);
}

/* The floor, not a baseline: what the same requests cost with no HTTP library at all. One
 * keep-alive socket per source, the request bytes written once per cycle, epoll for the
 * answers, a response read as "Content-Length: N" headers plus N bytes (what the fixture
 * server sends; anything else counts as a wrong answer), each body parsed with jansson
 * and checked as the libcurl loop does. No timeouts, errors or redirects handled: it
 * shows the share of the cycle that is the kernel's loopback TCP and the parse. */
typedef struct {
    int fd;
    GString *in;      /* the answer read so far */
    gssize want;      /* header + body length once the headers are in, else -1 */
} raw_conn;

/* The end of the headers and the content length in c->in, once complete. */
static void raw_headers(raw_conn *c)
{
    const char *end = g_strstr_len(c->in->str, (gssize)c->in->len, "\r\n\r\n");
    if (!end)
        return;
    gsize head = (gsize)(end - c->in->str) + 4;
    c->want = (gssize)head; /* no length header: the body is empty (a wrong answer) */
    for (const char *l = c->in->str; l < end; l = strstr(l, "\r\n") + 2)
        if (!g_ascii_strncasecmp(l, "Content-Length:", 15)) {
            c->want = (gssize)(head + g_ascii_strtoull(l + 15, NULL, 10));
            break;
        }
}

/* Sends req on c and reads its whole answer, blocking (at most 5 s). */
static void raw_exchange(raw_conn *c, const char *req)
{
    gsize len = strlen(req);
    if (send(c->fd, req, len, MSG_NOSIGNAL) != (gssize)len)
        bench_die("raw side: send: %s", g_strerror(errno));
    g_string_truncate(c->in, 0);
    c->want = -1;
    char buf[4096];
    while (c->want < 0 || (gssize)c->in->len < c->want) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        gssize got = poll(&p, 1, 5000) == 1 ? recv(c->fd, buf, sizeof buf, 0) : -1;
        if (got <= 0)
            bench_die("raw side: no answer to the first request in 5 s");
        g_string_append_len(c->in, buf, got);
        if (c->want < 0)
            raw_headers(c);
    }
}

static void part_http_raw(bench_server *fx, http_side *f)
{
    char *url = bench_server_url(fx, "/");
    guint port = 0;
    if (sscanf(url, "http://127.0.0.1:%u/", &port) != 1)
        bench_die("bench_server_url: %s: not http://127.0.0.1:PORT/", url);
    g_free(url);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((guint16)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ep = epoll_create1(EPOLL_CLOEXEC);
    raw_conn *conn = g_new0(raw_conn, n_sources);
    char **req = g_new0(char *, n_sources);
    for (guint i = 0; i < n_sources; i++) {
        conn[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(conn[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (conn[i].fd < 0 || connect(conn[i].fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            bench_die("raw side: connect to 127.0.0.1:%u: %s", port, g_strerror(errno));
        conn[i].in = g_string_sized_new(256);
        req[i] = g_strdup_printf("GET /s/%u HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nAccept: */*\r\n\r\n", i, port);
        /* One exchange per connection before the next is made, so the first cycle is
         * not 1,000 connects in a burst. */
        raw_exchange(&conn[i], req[i]);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, conn[i].fd, &ev);
    }
    gint64 next = g_get_monotonic_time();
    struct epoll_event evs[256];
    char buf[16384];
    for (guint c = 0; c <= f->cycles; c++) { /* cycle 0 warms up: not measured */
        gint64 t0 = cycle_begin(f, fx, c, &next);
        for (guint i = 0; i < n_sources; i++) {
            g_string_truncate(conn[i].in, 0);
            conn[i].want = -1;
            gsize len = strlen(req[i]);
            if (send(conn[i].fd, req[i], len, MSG_NOSIGNAL) != (gssize)len)
                bench_die("raw side: send: %s", g_strerror(errno));
        }
        guint pending = n_sources, wrong = 0;
        while (pending > 0) {
            int n = epoll_wait(ep, evs, G_N_ELEMENTS(evs), 5000);
            if (n <= 0)
                bench_die("raw side: no answer in 5 s (%u of %u pending)", pending, n_sources);
            for (int k = 0; k < n; k++) {
                raw_conn *rc = &conn[evs[k].data.u32];
                gssize got = recv(rc->fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got <= 0)
                    bench_die("raw side: recv: %s", got ? g_strerror(errno) : "connection closed");
                if (rc->want >= 0 && (gssize)rc->in->len >= rc->want)
                    bench_die("raw side: more bytes than one answer");
                g_string_append_len(rc->in, buf, got);
                if (rc->want < 0)
                    raw_headers(rc);
                if (rc->want >= 0 && (gssize)rc->in->len >= rc->want)
                    pending--;
            }
        }
        for (guint i = 0; i < n_sources; i++) {
            raw_conn *rc = &conn[i];
            const char *body = strstr(rc->in->str, "\r\n\r\n") + 4; /* raw_headers found it */
            wrong += g_str_has_prefix(rc->in->str, "HTTP/1.1 200 ")
                         ? answer_wrong(f, i, body, rc->in->len - (gsize)(body - rc->in->str))
                         : answer_wrong(f, i, rc->in->str, 0);
        }
        cycle_end(f, c, t0, wrong);
    }
    span_end(f, fx);
    for (guint i = 0; i < n_sources; i++) {
        close(conn[i].fd);
        g_string_free(conn[i].in, TRUE);
        g_free(req[i]);
    }
    close(ep);
    g_free(conn);
    g_free(req);
}

static void part_http(bench_server *fx, guint cycles)
{
    http_side sides[] = {{.name = "tf runtime + httpjson"}, {.name = "libcurl multi loop"},
                         {.name = "raw sockets (floor)"}};
    void (*run[])(bench_server *, http_side *) = {part_http_tf, part_http_curl, part_http_raw};
    printf("part 1: %u HTTP sources at 10 Hz (interval 100 ms), %u cycles measured a side; "
           "server in its own process, %s (load average %.2f)\n", n_sources, cycles,
           server_threads ? "two polling threads" : "a thread per connection", loadavg1());
    for (guint i = 0; i < G_N_ELEMENTS(sides); i++) {
        sides[i].cycles = cycles;
        sides[i].ms = g_new0(double, cycles);
        run[i](fx, &sides[i]);
        side_print(&sides[i]);
        char *what = g_strdup_printf("%s: every source up with its own answer in every cycle",
                                     sides[i].name);
        bench_check(sides[i].bad_cycles == 0, what, "%u of %u cycles had a wrong node; the first: %s",
                    sides[i].bad_cycles, cycles, sides[i].first_wrong ? sides[i].first_wrong : "-");
        g_free(what);
    }
    printf("  goal: p99 under 50 ms, runtime CPU under 25 ms a cycle (25%% of a core at 10 Hz); "
           "tf/baseline CPU %.2fx; the libcurl loop / the floor %.2fx (load average %.2f)\n",
           sides[0].cpu / MAX(sides[1].cpu, 1e-9), sides[1].cpu / MAX(sides[2].cpu, 1e-9), loadavg1());
    for (guint i = 0; i < G_N_ELEMENTS(sides); i++) {
        g_free(sides[i].ms);
        g_free(sides[i].first_wrong);
    }
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
    /* The server: event-driven, two polling threads, as etcd or a node's RPC server is;
     * or (--server threads) a thread per connection, 1,000 threads on these cores. */
    guint threads = 2;
    if (argc > 2 && !strcmp(argv[1], "--server")) {
        if (strcmp(argv[2], "poll") && strcmp(argv[2], "threads"))
            bench_die("--server %s: poll or threads", argv[2]);
        threads = !strcmp(argv[2], "poll") ? 2 : 0;
        server_threads = threads;
        argc -= 2;
        argv += 2;
    }
    bench_server *fx = bench_server_fork_pooled(0, server_setup, threads); /* before any thread exists */
    guint http_cycles = argc > 1 ? (guint)atoi(argv[1]) : bench_small() ? 5 : 50;
    guint cycles = argc > 2 ? (guint)atoi(argv[2]) : bench_small() ? 2000 : 100000;
    printf("bench/scale: one runtime, %u sources\n", n_sources);
    part_http(fx, http_cycles);
    bench_server_free(fx);
    part_inprocess(cycles);
    return bench_finish();
}
