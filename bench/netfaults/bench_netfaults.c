/* bench_netfaults.c: how long after a network fault the observer sees its effect, and how
 * long after healing it sees the cluster converge, beside the same figures for a kill.
 * Real peers in network namespaces (tf_cluster_new_network): a 3-node etcd cluster (the
 * leader isolated / killed: a new leader; healed / restarted: every member following one
 * leader again) and 3 litecoind regtest nodes (n3 isolated while both sides mine: the
 * fork; healed: every node on the longer branch; n3 killed, restarted: it catches up).
 * Each event is watched at once by a tf handle wait (runtime every 100 ms, woken by the
 * fault) and by the loop a user would write instead (fetch every member's status, check,
 * sleep 100 ms), both timed from the moment the fault was in effect everywhere (its
 * journal time) or the kill/restart returned. Answer checks, per event: both saw the same
 * thing, and it is what the members say (the leader of that term; the block hashes the
 * mining calls returned). Exits 1 on a wrong answer, never on time; 77 without root-like
 * rights to make namespaces or without etcd/litecoind (1 under CI=true).
 * Usage: bench_netfaults [--small]   (full: 20 events of each kind; small: 2 and 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tf/tf.h>
#include "bench_util.h"
#include "chain/observer.h"
#include "chain/rpc.h"
#include "raftkv/raftkv.h"

#define INTERVAL_US 100000
#define WAIT_US (60 * G_USEC_PER_SEC)

static guint rounds = 20;

/* ---- shared: timing two watchers of one event ------------------------------------------ */

typedef struct watch watch;
typedef gboolean (*naive_check)(watch *w, tf_http *http);

/* One watcher of one event: tf (a handle wait) or naive (a poll loop). */
struct watch {
    tf_handle *h;
    tf_predicate pred;   /* tf */
    naive_check check;   /* naive: one pass over the members; TRUE when it holds */
    void *data;          /* the event's parameters (shared by both watchers) */
    gint64 t0;           /* when the fault was in effect (µs) */
    double ms;
    gboolean done;
    char *answer;        /* what it saw (compared between the watchers) */
    char *(*describe)(const tf_snapshot *snap, void *data); /* tf's answer from its snapshot */
};

static gpointer tf_watch(gpointer p)
{
    watch *w = p;
    tf_snapshot *s = tf_handle_wait(w->h, w->pred, w->data, "effect", WAIT_US, NULL);
    w->ms = (g_get_monotonic_time() - w->t0) / 1000.0;
    w->done = s != NULL;
    w->answer = s ? w->describe(s, w->data) : NULL;
    tf_snapshot_unref(s);
    return NULL;
}

static gpointer naive_watch(gpointer p)
{
    watch *w = p;
    tf_http *http = tf_http_new();
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    while (!w->done && g_get_monotonic_time() < deadline) {
        w->done = w->check(w, http);
        if (!w->done)
            g_usleep(INTERVAL_US); /* the loop being replaced */
    }
    w->ms = (g_get_monotonic_time() - w->t0) / 1000.0;
    tf_http_free(http);
    return NULL;
}

/* Latencies of one row, tf and naive. */
typedef struct {
    const char *what;
    double *tf, *naive;
    guint n;
    guint wrong;
    char *first_wrong;
} row;

static void row_init(row *r, const char *what)
{
    *r = (row){0};
    r->what = what;
    r->tf = g_new0(double, rounds);
    r->naive = g_new0(double, rounds);
}

/* What the members say now, read after both watchers returned, and whether an answer
 * agrees with it (NULL: equal strings). */
typedef struct {
    char *(*read)(void *data);
    gboolean (*agrees)(const char *answer, const char *now);
} oracle;

/* Runs both watchers on one event; `truth` (may be NULL) is what the members say. */
static void measure(row *r, tf_handle *h, tf_runtime *rt, tf_predicate pred, naive_check check,
                    char *(*describe)(const tf_snapshot *, void *), void *data, gint64 t0,
                    const oracle *truth)
{
    watch wt = {.h = h, .pred = pred, .data = data, .t0 = t0, .describe = describe};
    watch wn = {.check = check, .data = data, .t0 = t0};
    tf_runtime_wake(rt);
    GThread *a = g_thread_new("tf", tf_watch, &wt), *b = g_thread_new("naive", naive_watch, &wn);
    g_thread_join(a);
    g_thread_join(b);
    char *now = truth ? truth->read(data) : NULL;
    gboolean agrees = !now || (truth->agrees ? truth->agrees(wt.answer, now) : !g_strcmp0(wt.answer, now));
    const char *why = !wt.done ? "tf timed out" : !wn.done ? "the naive loop timed out"
                      : g_strcmp0(wt.answer, wn.answer) ? "tf and the naive loop saw different things"
                      : !agrees ? "not what the members say"
                                : NULL;
    if (why) {
        r->wrong++;
        if (!r->first_wrong)
            r->first_wrong = g_strdup_printf("%s: tf %s, naive %s, members %s", why,
                                             wt.answer ? wt.answer : "-", wn.answer ? wn.answer : "-",
                                             now ? now : "-");
    }
    r->tf[r->n] = wt.ms;
    r->naive[r->n] = wn.ms;
    r->n++;
    g_free(now);
    g_free(wt.answer);
    g_free(wn.answer);
}

/* A measure running on its own thread, for two effects of one fault at once. */
typedef struct {
    row *r;
    tf_handle *h;
    tf_runtime *rt;
    tf_predicate pred;
    naive_check check;
    char *(*describe)(const tf_snapshot *, void *);
    void *data;
    gint64 t0;
    GThread *thread;
} pending;

static gpointer pending_main(gpointer p)
{
    pending *m = p;
    measure(m->r, m->h, m->rt, m->pred, m->check, m->describe, m->data, m->t0, NULL);
    return NULL;
}

static void row_print(row *r)
{
    double tmax = 0, nmax = 0;
    for (guint i = 0; i < r->n; i++)
        tmax = MAX(tmax, r->tf[i]), nmax = MAX(nmax, r->naive[i]);
    double t50 = bench_median(r->tf, r->n), n50 = bench_median(r->naive, r->n);
    printf("%-44s %3u %8.0f %8.0f %8.0f %8.0f\n", r->what, r->n, t50, tmax, n50, nmax);
    char *what = g_strdup_printf("%s: tf and the naive loop saw the same, and it is right", r->what);
    bench_check(r->wrong == 0, what, "%u of %u wrong; the first: %s", r->wrong, r->n, r->first_wrong);
    g_free(what);
    g_free(r->first_wrong);
    g_free(r->tf);
    g_free(r->naive);
}

static gint64 last_fault_time(tf_cluster *c)
{
    json_t *log = tf_cluster_faults(c);
    gint64 t = json_integer_value(json_object_get(json_array_get(log, json_array_size(log) - 1), "time"));
    json_decref(log);
    return t;
}

/* ---- etcd ---------------------------------------------------------------------------------- */

typedef struct {
    tf_cluster *c;
    const char *old;     /* the faulted member's name */
    char *old_id;        /* its member id */
    guint64 old_term;
    gboolean convergence; /* converged (every member follows one leader, old among them)
                           * rather than a new leader */
} rk_event;

/* "LEADER_ID@TERM" */
static char *rk_describe(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    const raftkv_node *l = raftkv_snapshot_node(s, s->leader);
    return g_strdup_printf("%s@%" G_GUINT64_FORMAT, l && l->id ? l->id : s->leader, s->leader_term);
}

static gboolean rk_effect(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    const rk_event *e = data;
    if (!s->leader || !s->quorum || s->leader_term <= e->old_term)
        return FALSE;
    if (!e->convergence)
        return strcmp(s->leader, e->old) != 0;
    for (guint i = 0; i < s->n; i++)
        if (!s->nodes[i].reachable || g_strcmp0(s->nodes[i].leader, s->leader))
            return FALSE;
    return TRUE;
}

/* One pass of the naive loop: every member's GET /debug/vars. */
static gboolean rk_naive(watch *w, tf_http *http)
{
    rk_event *e = w->data;
    guint n = tf_cluster_size(e->c), reachable = 0;
    raftkv_status *st = g_new0(raftkv_status, n);
    gboolean *ok = g_new0(gboolean, n);
    for (guint i = 0; i < n; i++) {
        char *url = g_strconcat(tf_cluster_node_url(e->c, i), "/debug/vars", NULL);
        json_t *r = tf_http_json(http, "naive", url, NULL, 300000, NULL);
        ok[i] = r && raftkv_parse_etcd_vars(r, &st[i], NULL);
        reachable += ok[i];
        json_decref(r);
        g_free(url);
    }
    /* a leader named by a majority of all members in a term above the old one */
    const char *leader = NULL;
    guint64 term = 0;
    for (guint i = 0; i < n && !leader; i++) {
        guint votes = 0;
        for (guint j = 0; ok[i] && st[i].leader && j < n; j++)
            votes += ok[j] && !g_strcmp0(st[j].leader, st[i].leader) && st[j].term == st[i].term;
        if (ok[i] && st[i].leader && votes * 2 > n && st[i].term > e->old_term) {
            leader = st[i].leader;
            term = st[i].term;
        }
    }
    gboolean done = leader && (e->convergence ? TRUE : g_strcmp0(leader, e->old_id) != 0);
    for (guint i = 0; done && e->convergence && i < n; i++)
        done = ok[i] && !g_strcmp0(st[i].leader, leader);
    if (done)
        w->answer = g_strdup_printf("%s@%" G_GUINT64_FORMAT, leader, term);
    for (guint i = 0; i < n; i++)
        if (ok[i])
            raftkv_status_clear(&st[i]);
    g_free(st);
    g_free(ok);
    return done;
}

/* The faulted member no longer says it leads. */
static gboolean rk_stepped_down(const tf_snapshot *snap, void *data)
{
    const rk_event *e = data;
    const raftkv_node *n = raftkv_snapshot_node(tf_snapshot_data(snap), e->old);
    return n && n->reachable && !n->is_leader;
}

static char *rk_describe_down(const tf_snapshot *snap, void *data)
{
    return g_strdup_printf("%s stepped down", ((const rk_event *)data)->old);
}

static gboolean rk_naive_down(watch *w, tf_http *http)
{
    rk_event *e = w->data;
    char *url = g_strconcat(tf_cluster_node_url(e->c, (guint)tf_cluster_node_index(e->c, e->old)),
                            "/debug/vars", NULL);
    json_t *r = tf_http_json(http, "naive", url, NULL, 300000, NULL);
    raftkv_status st;
    gboolean down = r && raftkv_parse_etcd_vars(r, &st, NULL);
    if (down) {
        down = g_strcmp0(st.leader, st.id) != 0;
        raftkv_status_clear(&st);
    }
    if (down)
        w->answer = g_strdup_printf("%s stepped down", e->old);
    json_decref(r);
    g_free(url);
    return down;
}

/* What the members say now: "ID@TERM" of the leader a majority of them names, or NULL. */
static char *rk_truth(void *data)
{
    rk_event *e = data;
    tf_http *http = tf_http_new();
    watch w = {.data = e};
    rk_event any = *e;
    any.convergence = FALSE;
    any.old_term = 0;
    any.old_id = "";
    w.data = &any;
    rk_naive(&w, http);
    tf_http_free(http);
    return w.answer;
}

/* An answer agrees with the members when they still have that term's leader, or have
 * moved on to a later term (another election since); never an earlier one. */
static gboolean rk_agrees(const char *answer, const char *now)
{
    const char *a = answer ? strrchr(answer, '@') : NULL, *b = now ? strrchr(now, '@') : NULL;
    if (!a || !b)
        return !now;
    guint64 ta = g_ascii_strtoull(a + 1, NULL, 10), tb = g_ascii_strtoull(b + 1, NULL, 10);
    return tb > ta || (tb == ta && !strcmp(answer, now));
}

static const oracle rk_oracle = {rk_truth, rk_agrees};

static void rk_rounds(tf_cluster *c, tf_handle *h, tf_runtime *rt, gboolean kill, row *effect,
                      row *down, row *back)
{
    for (guint r = 0; r < rounds; r++) {
        rk_event e = {.c = c};
        tf_snapshot *s = tf_handle_wait(h, rk_effect, &(rk_event){.old = "", .old_term = 0, .convergence = TRUE},
                                        "every member follows one leader", WAIT_US, NULL);
        if (!s)
            bench_die("etcd: no stable leader within 60 s");
        const raftkv_snapshot *rs = tf_snapshot_data(s);
        gint li = tf_cluster_node_index(c, rs->leader);
        e.old = tf_cluster_node_name(c, (guint)li);
        e.old_id = g_strdup(raftkv_snapshot_node(rs, rs->leader)->id);
        e.old_term = rs->leader_term;
        tf_snapshot_unref(s);
        GError *err = NULL;
        gint64 t0;
        if (kill) {
            if (!tf_cluster_node_kill(c, (guint)li, &err))
                bench_die("kill: %s", err->message);
            t0 = g_get_monotonic_time();
        } else {
            if (!tf_cluster_node_isolate(c, (guint)li, &err))
                bench_die("isolate: %s", err->message);
            t0 = last_fault_time(c);
        }
        /* an isolated leader steps down on its own: watched at the same time */
        pending stepdown = {down, h, rt, rk_stepped_down, rk_naive_down, rk_describe_down, &e, t0};
        if (down)
            stepdown.thread = g_thread_new("step-down", pending_main, &stepdown);
        measure(effect, h, rt, rk_effect, rk_naive, rk_describe, &e, t0, &rk_oracle);
        if (down)
            g_thread_join(stepdown.thread);
        if (kill) {
            if (!tf_cluster_node_start(c, (guint)li, &err))
                bench_die("restart: %s", err->message);
            t0 = g_get_monotonic_time();
        } else {
            if (!tf_cluster_heal(c, &err))
                bench_die("heal: %s", err->message);
            t0 = last_fault_time(c);
        }
        e.convergence = TRUE;
        measure(back, h, rt, rk_effect, rk_naive, rk_describe, &e, t0, &rk_oracle);
        g_free(e.old_id);
    }
}

static void bench_etcd(void)
{
    const char *spec_path = TF_SOURCE_DIR "/scenarios/clusters/etcd-3.json";
    bench_need_cluster_binary(spec_path);
    GError *err = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(spec_path, &err);
    tf_cluster *c = spec ? tf_cluster_new_network(spec, 3, TF_CLUSTER_NET_NAMESPACES, &err) : NULL;
    if (!c || !tf_cluster_start(c, &err))
        bench_die("etcd: %s", err->message);
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = INTERVAL_US;
    cfg.request_timeout_us = 250000;
    tf_runtime *rt = tf_runtime_new(&cfg, &raftkv_observer, NULL, tf_cluster_provider(c), &err);
    if (!rt || !tf_runtime_start(rt, &err))
        bench_die("%s", err->message);
    tf_handle *h = tf_runtime_handle(rt);
    row iso, stepped, heal, kill, restart;
    row_init(&iso, "etcd: leader isolated -> new leader seen");
    row_init(&stepped, "etcd: leader isolated -> it stops leading");
    row_init(&heal, "etcd: healed -> all follow one leader");
    row_init(&kill, "etcd: leader killed -> new leader seen");
    row_init(&restart, "etcd: restarted -> all follow one leader");
    rk_rounds(c, h, rt, FALSE, &iso, &stepped, &heal);
    rk_rounds(c, h, rt, TRUE, &kill, NULL, &restart);
    row_print(&iso);
    row_print(&stepped);
    row_print(&heal);
    row_print(&kill);
    row_print(&restart);
    tf_handle_unref(h);
    tf_runtime_free(rt);
    tf_cluster_free(c);
    tf_cluster_spec_free(spec);
}

/* ---- litecoind ------------------------------------------------------------------------------ */

typedef struct {
    tf_cluster *c;
    chain_rpc **rpc;     /* per node */
    guint n;
    char **want;         /* per node: the head it must report ("" = any) */
    gboolean down;       /* the effect is node `down_node` unreachable */
    guint down_node;
} ch_event;

/* "n1=HEAD n2=HEAD n3=HEAD" of the nodes with a wanted head (or "n3 down"). */
static char *ch_text(ch_event *e, const char *const *heads)
{
    if (e->down)
        return g_strdup_printf("%s down", tf_cluster_node_name(e->c, e->down_node));
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < e->n; i++)
        if (*e->want[i])
            g_string_append_printf(s, "%s%s=%.12s", s->len ? " " : "", tf_cluster_node_name(e->c, i), heads[i]);
    return g_string_free(s, FALSE);
}

static gboolean ch_effect(const tf_snapshot *snap, void *data)
{
    const chain_snapshot *s = tf_snapshot_data(snap);
    ch_event *e = data;
    for (guint i = 0; i < e->n; i++) {
        const chain_node_view *v = chain_snapshot_node(s, tf_cluster_node_name(e->c, i));
        if (e->down && i == e->down_node) {
            if (!v || v->reachable)
                return FALSE;
        } else if (!e->down && *e->want[i] && (!v || strcmp(v->head, e->want[i]))) {
            return FALSE;
        }
    }
    return TRUE;
}

static char *ch_describe(const tf_snapshot *snap, void *data)
{
    const chain_snapshot *s = tf_snapshot_data(snap);
    ch_event *e = data;
    const char **heads = g_new0(const char *, e->n);
    for (guint i = 0; i < e->n; i++) {
        const chain_node_view *v = chain_snapshot_node(s, tf_cluster_node_name(e->c, i));
        heads[i] = v ? v->head : "";
    }
    char *t = ch_text(e, heads);
    g_free(heads);
    return t;
}

static gboolean ch_naive(watch *w, tf_http *http)
{
    ch_event *e = w->data;
    char **heads = g_new0(char *, e->n + 1);
    gboolean done = TRUE;
    for (guint i = 0; i < e->n; i++) {
        json_t *r = chain_rpc_call(e->rpc[i], http, NULL, "getbestblockhash", NULL, 1000000, NULL);
        heads[i] = g_strdup(json_is_string(r) ? json_string_value(r) : "");
        if (e->down && i == e->down_node)
            done = done && !r;
        else if (!e->down && *e->want[i])
            done = done && !strcmp(heads[i], e->want[i]);
        json_decref(r);
    }
    if (done)
        w->answer = ch_text(e, (const char *const *)heads);
    g_strfreev(heads);
    return done;
}

/* The members' own answer: what each node says its best block is now. */
static char *ch_read(void *data)
{
    ch_event *e = data;
    if (e->down)
        return NULL;
    tf_http *http = tf_http_new();
    char **heads = g_new0(char *, e->n + 1);
    for (guint i = 0; i < e->n; i++) {
        json_t *r = chain_rpc_call(e->rpc[i], http, NULL, "getbestblockhash", NULL, 2000000, NULL);
        heads[i] = g_strdup(json_is_string(r) ? json_string_value(r) : "");
        json_decref(r);
    }
    char *t = ch_text(e, (const char *const *)heads);
    g_strfreev(heads);
    tf_http_free(http);
    return t;
}

static const oracle ch_truth = {ch_read, NULL};

/* Mines k blocks on node i; returns the last block's hash (new string). */
static char *mine(ch_event *e, guint i, const char *addr, guint k)
{
    tf_http *http = tf_http_new();
    GError *err = NULL;
    json_t *r = chain_rpc_call(e->rpc[i], http, NULL, "generatetoaddress", json_pack("[i, s]", (int)k, addr),
                               30 * G_USEC_PER_SEC, &err);
    if (!r || json_array_size(r) != k)
        bench_die("mine on n%u: %s", i + 1, err ? err->message : "unexpected answer");
    char *hash = g_strdup(json_string_value(json_array_get(r, k - 1)));
    json_decref(r);
    tf_http_free(http);
    return hash;
}

static char *new_address(chain_rpc *rpc)
{
    tf_http *http = tf_http_new();
    GError *err = NULL;
    json_decref(chain_rpc_call(rpc, http, NULL, "createwallet", json_pack("[s]", "tf"), 30 * G_USEC_PER_SEC, NULL));
    json_t *r = chain_rpc_call(rpc, http, "/wallet/tf", "getnewaddress", NULL, 10 * G_USEC_PER_SEC, &err);
    if (!json_is_string(r))
        bench_die("getnewaddress: %s", err ? err->message : "unexpected answer");
    char *a = g_strdup(json_string_value(r));
    json_decref(r);
    tf_http_free(http);
    return a;
}

static void bench_chain(void)
{
    const char *spec_path = TF_SOURCE_DIR "/scenarios/clusters/litecoin-3.json";
    bench_need_cluster_binary(spec_path);
    GError *err = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(spec_path, &err);
    tf_cluster *c = spec ? tf_cluster_new_network(spec, 3, TF_CLUSTER_NET_NAMESPACES, &err) : NULL;
    if (!c || !tf_cluster_start(c, &err))
        bench_die("litecoind: %s", err->message);
    ch_event e = {.c = c, .n = 3};
    e.rpc = g_new0(chain_rpc *, e.n);
    e.want = g_new0(char *, e.n + 1);
    for (guint i = 0; i < e.n; i++) {
        tf_source *src = tf_cluster_node_source(c, i);
        e.rpc[i] = chain_rpc_from_source(src, &err);
        tf_source_unref(src);
        if (!e.rpc[i])
            bench_die("%s", err->message);
        e.want[i] = g_strdup("");
    }
    char *a1 = new_address(e.rpc[0]), *a3 = new_address(e.rpc[2]);
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.long_poll = TRUE; /* as the chain steps run it */
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.interval_us = INTERVAL_US;
    rc.request_timeout_us = 5 * G_USEC_PER_SEC;
    tf_runtime *rt = tf_runtime_new(&rc, &chain_observer, &cfg, tf_cluster_provider(c), &err);
    if (!rt || !tf_runtime_start(rt, &err))
        bench_die("%s", err->message);
    tf_handle *h = tf_runtime_handle(rt);
    row fork, heal, kill, restart;
    row_init(&fork, "chain: n3 isolated, both mine -> fork seen");
    row_init(&heal, "chain: healed -> all on the longer branch");
    row_init(&kill, "chain: n3 killed -> n3 down seen");
    row_init(&restart, "chain: n1 mined, n3 restarted -> caught up");
    char *tip = mine(&e, 0, a1, 1); /* everyone on one chain first */
    for (guint i = 0; i < e.n; i++)
        g_free(e.want[i]), e.want[i] = g_strdup(tip);
    gint64 t = g_get_monotonic_time();
    row warm;
    row_init(&warm, "warm-up");
    measure(&warm, h, rt, ch_effect, ch_naive, ch_describe, &e, t, &ch_truth);
    g_free(warm.tf), g_free(warm.naive), g_free(warm.first_wrong);
    for (guint r = 0; r < rounds; r++) {
        /* the fault, then both sides mine: the fork exists once both calls returned */
        if (!tf_cluster_node_isolate(c, 2, &err))
            bench_die("isolate: %s", err->message);
        char *side = mine(&e, 2, a3, 1), *longer = mine(&e, 0, a1, 2);
        for (guint i = 0; i < e.n; i++)
            g_free(e.want[i]), e.want[i] = g_strdup(i == 2 ? side : i == 0 ? longer : "");
        measure(&fork, h, rt, ch_effect, ch_naive, ch_describe, &e, g_get_monotonic_time(), &ch_truth);
        if (!tf_cluster_heal(c, &err))
            bench_die("heal: %s", err->message);
        for (guint i = 0; i < e.n; i++)
            g_free(e.want[i]), e.want[i] = g_strdup(longer);
        measure(&heal, h, rt, ch_effect, ch_naive, ch_describe, &e, last_fault_time(c), &ch_truth);
        g_free(side);
        g_free(longer);
    }
    for (guint r = 0; r < rounds; r++) {
        if (!tf_cluster_node_kill(c, 2, &err))
            bench_die("kill: %s", err->message);
        e.down = TRUE;
        e.down_node = 2;
        measure(&kill, h, rt, ch_effect, ch_naive, ch_describe, &e, g_get_monotonic_time(), NULL);
        e.down = FALSE;
        char *longer = mine(&e, 0, a1, 2);
        if (!tf_cluster_node_start(c, 2, &err))
            bench_die("restart: %s", err->message);
        for (guint i = 0; i < e.n; i++)
            g_free(e.want[i]), e.want[i] = g_strdup(longer);
        measure(&restart, h, rt, ch_effect, ch_naive, ch_describe, &e, g_get_monotonic_time(), &ch_truth);
        g_free(longer);
    }
    row_print(&fork);
    row_print(&heal);
    row_print(&kill);
    row_print(&restart);
    tf_handle_unref(h);
    tf_runtime_free(rt);
    for (guint i = 0; i < e.n; i++)
        chain_rpc_free(e.rpc[i]);
    g_free(e.rpc);
    g_strfreev(e.want);
    g_free(a1);
    g_free(a3);
    g_free(tip);
    tf_cluster_free(c);
    tf_cluster_spec_free(spec);
}

int main(int argc, char **argv)
{
    bench_init("bench_netfaults", &argc, argv);
    static const char *const tools[][2] = {{"ip", "the members' links (iproute2)"},
                                           {"iptables-restore", "the faults (iptables)"}};
    for (guint i = 0; i < G_N_ELEMENTS(tools); i++) { /* PATH, then where root's tools live */
        gchar *p = g_find_program_in_path(tools[i][0]);
        gchar *sbin = g_build_filename("/usr/sbin", tools[i][0], NULL);
        bench_need(p || g_file_test(sbin, G_FILE_TEST_IS_EXECUTABLE), tools[i][1],
                   "not on PATH nor in /usr/sbin");
        g_free(p);
        g_free(sbin);
    }
    GError *err = NULL;
    if (!tf_cluster_network_usable(&err)) { /* privileges: nothing installs them */
        printf("%s: SKIPPED: %s\n", bench_name(), err->message);
        return 77;
    }
    rounds = bench_small() ? 2 : 20;
    printf("bench/netfaults: real peers in network namespaces; tf (runtime every %d ms, woken by\n"
           "the fault) beside a naive loop (every member's status, check, sleep %d ms); %u events\n"
           "per row; from the fault in effect everywhere (or the kill/restart returning) to the\n"
           "watcher seeing its effect\n\n", INTERVAL_US / 1000, INTERVAL_US / 1000, rounds);
    printf("%-44s %3s %8s %8s %8s %8s\n", "event", "n", "tf p50", "tf max", "loop p50", "loop max");
    bench_etcd();
    if (bench_small())
        rounds = 1;
    bench_chain();
    return bench_finish();
}
