/* test_chain_observer.c: the chain observer end to end against fake nodes: each node is a
 * fixture_http route answering JSON-RPC (single and batched) from the deterministic
 * chain simulator, and its REST interface (binary headers) unless a test turns it off.
 * Proves catch-up with batched requests over REST and over JSON-RPC (a node without REST
 * answers 404 and is caught up over JSON-RPC, in that cycle and after) with the same graph,
 * chainwork from the headers' targets, reorg events with exact depth,
 * lagging nodes and LIB, the public majority target, tx inclusion, failures that name the
 * node and method without credentials, and the long-poll waking the runtime and stopping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <pthread.h>
#include <glib/gstdio.h>
#include <tf/tf.h>
#include "chain/observer.h"
#include "chain/rpc.h"
#include "chain/sim.h"
#include "fixture_http.h"

#define PASSWORD "s3cr3t-pw-do-not-print"

typedef struct {
    pthread_mutex_t lock; /* guards sim and closing, with cond */
    pthread_cond_t cond;
    chain_sim *sim;
    gboolean closing;
    fixture_http *http;
    guint n;
    guint getblock_calls;  /* getblock calls answered (under lock) */
    tf_runtime *rt;
    tf_handle *h;
} env;

typedef struct {
    env *e;
    guint node;
} route;
static route routes[CHAIN_SIM_MAX_NODES];
/* Whether env_new serves /nodeN/rest/headers/ (a node started with -rest). */
static gboolean serve_rest = TRUE;
/* The runtimes' request timeout; batches of 2,000 JSON-RPC calls to the simulated node
 * take seconds under ThreadSanitizer. */
static gint64 request_timeout_us = 5 * G_USEC_PER_SEC;

static json_t *answer(env *e, guint node, json_t *call)
{
    const char *method = json_string_value(json_object_get(call, "method"));
    json_t *params = json_object_get(call, "params");
    json_t *id = json_object_get(call, "id");
    json_t *res = NULL;
    GError *err = NULL;
    pthread_mutex_lock(&e->lock);
    if (method && !strcmp(method, "waitfornewblock")) {
        /* Blocks until the node's head changes or the timeout passes, like bitcoind. */
        gint64 ms = json_integer_value(json_array_get(params, 0));
        char *was = g_strdup(chain_sim_head(e->sim, node));
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        gint64 until = ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000 + ms * 1000;
        ts.tv_sec = until / G_USEC_PER_SEC;
        ts.tv_nsec = (until % G_USEC_PER_SEC) * 1000;
        while (!e->closing && !strcmp(was, chain_sim_head(e->sim, node)) &&
               pthread_cond_timedwait(&e->cond, &e->lock, &ts) == 0)
            ;
        res = json_pack("{s:s, s:I}", "hash", chain_sim_head(e->sim, node), "height",
                        (json_int_t)chain_sim_head_height(e->sim, node));
        g_free(was);
    } else {
        res = chain_sim_rpc(e->sim, node, method ? method : "", params, &err);
        e->getblock_calls += method && !strcmp(method, "getblock");
    }
    pthread_mutex_unlock(&e->lock);
    if (res)
        return json_pack("{s:o, s:n, s:O}", "result", res, "error", "id", id ? id : json_null());
    int code = strstr(err->message, "-32601") ? -32601 : strstr(err->message, "-5") ? -5 : -1;
    json_t *ans = json_pack("{s:n, s:{s:i, s:s}, s:O}", "result", "error", "code", code, "message",
                            err->message, "id", id ? id : json_null());
    g_error_free(err);
    return ans;
}

static void handler(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    route *r = user;
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
    json_t *out;
    if (json_is_array(body)) {
        out = json_array();
        size_t i;
        json_t *call;
        json_array_foreach(body, i, call)
            json_array_append_new(out, answer(r->e, r->node, call));
    } else if (json_is_object(body)) {
        out = answer(r->e, r->node, body);
        if (!json_is_null(json_object_get(out, "error")))
            resp->status = 500; /* bitcoind answers a failed single call with HTTP 500 */
    } else {
        resp->status = 400;
        out = json_pack("{s:s}", "error", "bad body");
    }
    char *text = json_dumps(out, JSON_COMPACT);
    g_string_append(resp->body, text);
    free(text);
    json_decref(out);
    json_decref(body);
}

/* GET /nodeN/rest/headers/COUNT/HASH.bin, as litecoind -rest answers it. */
static void rest_handler(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    route *r = user;
    const char *at = strstr(req->path, "/rest/headers/");
    guint count = 0;
    char hash[65] = "";
    if (!at || sscanf(at, "/rest/headers/%u/%64[0-9a-f].bin", &count, hash) != 2 || !count || count > 2000) {
        resp->status = 400;
        resp->content_type = "text/plain";
        g_string_append(resp->body, "bad request");
        return;
    }
    GByteArray *out = g_byte_array_new();
    GError *err = NULL;
    pthread_mutex_lock(&r->e->lock);
    gboolean ok = chain_sim_rest_headers(r->e->sim, r->node, hash, count, out, &err);
    pthread_mutex_unlock(&r->e->lock);
    resp->content_type = "application/octet-stream";
    if (ok) {
        g_string_append_len(resp->body, (const char *)out->data, (gssize)out->len);
    } else {
        resp->status = 503;
        g_string_append(resp->body, err->message);
        g_error_free(err);
    }
    g_byte_array_unref(out);
}

/* Starts n sim nodes behind one fixture server and a (stopped) runtime over them; nodes
 * listed in public_mask are tagged role=public. */
static env *env_new(guint n, guint64 public_mask, const chain_observer_config *cfg,
                    gboolean start, gint64 interval_us)
{
    env *e = g_new0(env, 1);
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cond, &attr);
    pthread_condattr_destroy(&attr);
    e->sim = chain_sim_new(7, n);
    e->n = n;
    e->http = fixture_http_start();
    tf_source **src = g_new0(tf_source *, n);
    for (guint i = 0; i < n; i++) {
        routes[i] = (route){e, i};
        char *path = g_strdup_printf("/node%u/", i);
        fixture_http_route_handler(e->http, path, handler, &routes[i]);
        if (serve_rest) {
            char *rest = g_strdup_printf("/node%u/rest/headers/*", i);
            fixture_http_route_handler(e->http, rest, rest_handler, &routes[i]);
            g_free(rest);
        }
        path[strlen(path) - 1] = '\0';
        char *url = fixture_http_url(e->http, path);
        json_t *attrs = json_pack("{s:s, s:s}", "rpc_user", "tf", "rpc_password", PASSWORD);
        if (public_mask & (1u << i))
            json_object_set_new(attrs, "role", json_string("public"));
        src[i] = tf_source_new(chain_sim_node_name(e->sim, i), url, attrs, NULL, NULL);
        g_free(url);
        g_free(path);
    }
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.interval_us = interval_us;
    rc.request_timeout_us = request_timeout_us;
    GError *err = NULL;
    e->rt = tf_runtime_new(&rc, &chain_observer, cfg, tf_source_provider_new_static(src, n), &err);
    if (!e->rt)
        fail_msg("runtime: %s", err->message);
    for (guint i = 0; i < n; i++)
        tf_source_unref(src[i]);
    g_free(src);
    e->h = tf_runtime_handle(e->rt);
    if (start)
        assert_true(tf_runtime_start(e->rt, NULL));
    return e;
}

static void env_free(env *e)
{
    pthread_mutex_lock(&e->lock);
    e->closing = TRUE;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    tf_handle_unref(e->h);
    tf_runtime_free(e->rt);
    fixture_http_free(e->http);
    chain_sim_free(e->sim);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->cond);
    g_free(e);
}

/* Runs one cycle and returns its snapshot (new ref). */
static tf_snapshot *cycle(env *e)
{
    GError *err = NULL;
    if (!tf_runtime_cycle(e->rt, &err))
        fail_msg("cycle: %s", err->message);
    return tf_handle_latest(e->h);
}

static const chain_snapshot *data(tf_snapshot *s)
{
    return tf_snapshot_data(s);
}

/* Events of the last recorded batch of kind k (new array of borrowed events). */
static GPtrArray *last_events(env *e, chain_event_kind k, guint64 cycle_no)
{
    GPtrArray *out = g_ptr_array_new();
    GPtrArray *hist = tf_handle_batches(e->h);
    for (guint i = 0; i < hist->len; i++) {
        tf_batch *b = hist->pdata[i];
        if (tf_batch_cycle(b) != cycle_no)
            continue;
        for (guint j = 0; j < tf_batch_len(b); j++) {
            const chain_event *ev = tf_batch_event(b, j);
            if (ev->kind == k)
                g_ptr_array_add(out, (void *)ev);
        }
    }
    g_ptr_array_unref(hist); /* batches stay alive in the runtime's ring */
    return out;
}

static void sim_lock(env *e) { pthread_mutex_lock(&e->lock); }
static void sim_unlock(env *e)
{
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
}

static void test_catch_up_batched(void **unused)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.prune = FALSE;
    env *e = env_new(3, 0, &cfg, FALSE, G_USEC_PER_SEC);
    sim_lock(e);
    chain_sim_mine(e->sim, 1, 3000);
    sim_unlock(e);
    tf_snapshot *snap = cycle(e);
    const chain_snapshot *s = data(snap);
    assert_int_equal(s->tip_height, 3000);
    assert_string_equal(s->tip, chain_sim_best_tip(e->sim));
    assert_int_equal(s->blocks, 3001);
    assert_int_equal(s->orphans, 0);
    for (guint i = 0; i < 3; i++) {
        assert_string_equal(s->nodes[i].head, chain_sim_head(e->sim, i));
        assert_true(s->nodes[i].reachable);
        assert_true(s->nodes[i].canonical);
    }
    /* 3 best-hash + 3 header requests, then for one node the start hashes of its two
     * REST requests (heights 0 and 2000) in one batch, the first request alone (the node's
     * first: does it have REST?) and the second. */
    assert_int_equal(s->requests, 9);
    assert_int_equal(s->requests, fixture_http_requests(e->http));
    GPtrArray *disc = last_events(e, CHAIN_EVENT_BLOCK_DISCOVERED, tf_snapshot_cycle(snap));
    assert_int_equal(disc->len, 3001);
    g_ptr_array_unref(disc);
    char *auth = fixture_http_last_header(e->http, "/node0/", "Authorization");
    assert_non_null(auth);
    assert_true(g_str_has_prefix(auth, "Basic "));
    g_free(auth);
    guint64 before = s->requests;
    tf_snapshot_unref(snap);
    /* Steady state: a known tip costs one request per node; a new block one more. */
    snap = cycle(e);
    assert_int_equal(data(snap)->requests - before, 3);
    before = data(snap)->requests;
    tf_snapshot_unref(snap);
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 1);
    sim_unlock(e);
    snap = cycle(e);
    assert_int_equal(data(snap)->tip_height, 3001);
    assert_int_equal(data(snap)->requests - before, 6);
    tf_snapshot_unref(snap);
    env_free(e);
}

static void test_reorg_exact_depth(void **unused)
{
    env *e = env_new(3, 0, NULL, FALSE, G_USEC_PER_SEC);
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 10);
    sim_unlock(e);
    tf_snapshot_unref(cycle(e));
    sim_lock(e);
    guint groups[] = {0, 1, 1};
    chain_sim_partition(e->sim, groups);
    chain_sim_mine(e->sim, 0, 2);
    chain_sim_mine(e->sim, 1, 3);
    char *old_tip = g_strdup(chain_sim_head(e->sim, 0));
    sim_unlock(e);
    tf_snapshot *snap = cycle(e);
    const chain_snapshot *s = data(snap);
    assert_int_equal(s->live_forks, 1);
    assert_int_equal(s->tip_height, 13);
    assert_false(chain_snapshot_node(s, "node0")->canonical);
    GPtrArray *forks = last_events(e, CHAIN_EVENT_FORK_DETECTED, tf_snapshot_cycle(snap));
    assert_int_equal(forks->len, 1);
    const chain_event *fe = forks->pdata[0];
    assert_int_equal(fe->u.fork.fork_height, 10);
    assert_int_equal(fe->u.fork.length, 2);
    g_ptr_array_unref(forks);
    tf_snapshot_unref(snap);

    sim_lock(e);
    chain_sim_heal(e->sim);
    const char *anc = NULL;
    gint64 depth = chain_sim_reorg_depth(e->sim, old_tip, chain_sim_head(e->sim, 0), &anc);
    char *ancestor = g_strdup(anc);
    sim_unlock(e);
    assert_int_equal(depth, 2);
    snap = cycle(e);
    s = data(snap);
    GPtrArray *reorgs = last_events(e, CHAIN_EVENT_REORG, tf_snapshot_cycle(snap));
    assert_int_equal(reorgs->len, 1);
    const chain_event *re = reorgs->pdata[0];
    assert_string_equal(re->node, "node0");
    assert_int_equal(re->u.head.depth, depth);
    assert_int_equal(re->u.head.added, 3);
    assert_string_equal(re->u.head.old_tip, old_tip);
    assert_string_equal(re->u.head.common_ancestor, ancestor);
    const chain_node_view *v = chain_snapshot_node(s, "node0");
    assert_int_equal(v->reorgs, 1);
    assert_int_equal(v->last_reorg.depth, 2);
    assert_true(v->canonical);
    assert_int_equal(s->live_forks, 0);
    GPtrArray *resolved = last_events(e, CHAIN_EVENT_FORK_RESOLVED, tf_snapshot_cycle(snap));
    assert_int_equal(resolved->len, 1);
    g_ptr_array_unref(resolved);
    g_ptr_array_unref(reorgs);
    json_t *j = chain_snapshot_to_json(s);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "tip"), "height")), 13);
    json_decref(j);
    tf_snapshot_unref(snap);
    g_free(old_tip);
    g_free(ancestor);
    env_free(e);
}

static void test_lagging_node_and_lib(void **unused)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.graph.lib_confirmations = 3;
    env *e = env_new(3, 0, &cfg, FALSE, G_USEC_PER_SEC);
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 20);
    chain_sim_set_lagging(e->sim, 2, TRUE);
    chain_sim_mine(e->sim, 0, 10);
    sim_unlock(e);
    tf_snapshot *snap = cycle(e);
    const chain_snapshot *s = data(snap);
    assert_int_equal(s->tip_height, 30);
    assert_int_equal(chain_snapshot_node(s, "node2")->height, 20);
    assert_true(chain_snapshot_node(s, "node2")->canonical);
    assert_int_equal(s->lib_height, 20); /* the laggard holds LIB back (>= 3 confirmations) */
    tf_snapshot_unref(snap);
    sim_lock(e);
    chain_sim_advance(e->sim, 2, 5);
    sim_unlock(e);
    snap = cycle(e);
    s = data(snap);
    assert_int_equal(chain_snapshot_node(s, "node2")->height, 25);
    assert_int_equal(s->lib_height, 25);
    assert_int_equal(s->reorgs, 0);
    GPtrArray *heads = last_events(e, CHAIN_EVENT_HEAD_CHANGED, tf_snapshot_cycle(snap));
    assert_int_equal(heads->len, 1);
    assert_string_equal(((const chain_event *)heads->pdata[0])->node, "node2");
    g_ptr_array_unref(heads);
    tf_snapshot_unref(snap);
    env_free(e);
}

static void test_public_majority_target(void **unused)
{
    /* node0 local; node1..node3 public; node3 lags, so 2 of 3 public peers agree. */
    env *e = env_new(4, 0xE, NULL, FALSE, G_USEC_PER_SEC);
    sim_lock(e);
    chain_sim_mine(e->sim, 1, 5);
    chain_sim_set_lagging(e->sim, 3, TRUE);
    chain_sim_set_lagging(e->sim, 0, TRUE);
    chain_sim_mine(e->sim, 1, 7);
    sim_unlock(e);
    tf_snapshot *snap = cycle(e);
    const chain_snapshot *s = data(snap);
    assert_int_equal(s->n_public, 3);
    assert_int_equal(s->n_local, 1);
    assert_int_equal(s->target_height, 12);
    assert_string_equal(s->target, chain_sim_head(e->sim, 1));
    assert_int_equal(chain_snapshot_node(s, "node0")->height, 5); /* local not there yet */
    json_t *j = chain_snapshot_to_json(s);
    assert_int_equal(json_array_size(json_object_get(j, "public")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "local")), 1);
    json_decref(j);
    tf_snapshot_unref(snap);
    sim_lock(e);
    chain_sim_set_lagging(e->sim, 0, FALSE);
    sim_unlock(e);
    snap = cycle(e);
    s = data(snap);
    assert_string_equal(chain_snapshot_node(s, "node0")->head, s->target);
    tf_snapshot_unref(snap);
    env_free(e);
}

static void test_tx_inclusion(void **unused)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.fetch_txids = TRUE;
    env *e = env_new(2, 0, &cfg, FALSE, G_USEC_PER_SEC);
    const char *txid = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11";
    const char *const txs[] = {txid, NULL};
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 3);
    chain_sim_mine_block(e->sim, 0, 2, txs);
    sim_unlock(e);
    tf_snapshot *snap = cycle(e);
    char block[CHAIN_HASH_BUF];
    assert_int_equal(chain_snapshot_tx_confirmations(data(snap), txid, block), 1);
    tf_snapshot_unref(snap);
    sim_lock(e);
    chain_sim_mine(e->sim, 1, 2);
    sim_unlock(e);
    snap = cycle(e);
    assert_int_equal(chain_snapshot_tx_confirmations(data(snap), txid, NULL), 3);
    assert_int_equal(chain_snapshot_tx_confirmations(data(snap), "bb", NULL), 0);
    tf_snapshot_unref(snap);
    env_free(e);
}

/* A pruning catch-up of 3,000 blocks asks txids only of the blocks it keeps (LIB 6 plus
 * the retained 100 below it, plus the blocks above LIB), in one request. */
static void test_txids_only_for_kept_blocks(void **unused)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.fetch_txids = TRUE;
    cfg.snapshot_blocks = 200;
    env *e = env_new(1, 0, &cfg, FALSE, G_USEC_PER_SEC);
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 3000);
    sim_unlock(e);
    guint64 before = fixture_http_requests(e->http);
    tf_snapshot *snap = cycle(e);
    const chain_snapshot *s = data(snap);
    assert_int_equal(s->tip_height, 3000);
    assert_int_equal(s->blocks, 106);
    sim_lock(e);
    guint calls = e->getblock_calls;
    sim_unlock(e);
    assert_int_equal(calls, s->blocks);
    /* best + header + start hashes + 2 REST (the first alone) + 1 getblock batch */
    assert_int_equal(fixture_http_requests(e->http) - before, 6);
    for (guint i = 0; i < s->n_recent; i++) /* every kept block has its txids */
        assert_non_null(s->recent[i].txids);
    tf_snapshot_unref(snap);
    env_free(e);
}

static void test_failures_name_node_not_password(void **unused)
{
    env *e = env_new(2, 0, NULL, FALSE, G_USEC_PER_SEC);
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 4);
    chain_sim_set_online(e->sim, 1, FALSE);
    sim_unlock(e);
    tf_snapshot *snap = cycle(e);
    const chain_node_view *v = chain_snapshot_node(data(snap), "node1");
    assert_false(v->reachable);
    assert_non_null(strstr(v->error, "node1: getbestblockhash: RPC error"));
    assert_null(strstr(v->error, PASSWORD));
    json_t *j = chain_snapshot_to_json(data(snap));
    char *text = json_dumps(j, 0);
    assert_null(strstr(text, PASSWORD));
    free(text);
    json_decref(j);
    tf_snapshot_unref(snap);

    /* Direct batch: one bad call fails alone, with its method and code. */
    char *url = fixture_http_url(e->http, "/node0");
    chain_rpc *rpc = chain_rpc_new("node0", url, "tf", PASSWORD, NULL);
    tf_http *http = tf_http_new();
    chain_rpc_batch *b = chain_rpc_batch_new(rpc, NULL);
    chain_rpc_batch_add(b, "getblockcount", NULL);
    chain_rpc_batch_add(b, "nosuchmethod", NULL);
    chain_rpc_batch_add(b, "getbestblockhash", NULL);
    assert_int_equal(chain_rpc_run(http, &b, 1, G_USEC_PER_SEC), 1);
    GError *err = NULL;
    assert_int_equal(json_integer_value(chain_rpc_batch_result(b, 0, &err)), 4);
    assert_null(chain_rpc_batch_result(b, 1, &err));
    assert_non_null(strstr(err->message, "node0: nosuchmethod: RPC error -32601"));
    assert_int_equal(chain_rpc_batch_error_code(b, 1), -32601);
    g_clear_error(&err);
    assert_true(json_is_string(chain_rpc_batch_result(b, 2, NULL)));
    chain_rpc_batch_free(b);
    /* A refused connection names node and method, never the password. */
    char *dead = g_strdup_printf("http://127.0.0.1:%u", fixture_http_closed_port());
    chain_rpc *gone = chain_rpc_new("ghost", dead, "tf", PASSWORD, NULL);
    assert_null(chain_rpc_call(gone, http, NULL, "getblockcount", NULL, G_USEC_PER_SEC, &err));
    assert_true(g_str_has_prefix(err->message, "ghost: getblockcount: "));
    assert_null(strstr(err->message, PASSWORD));
    g_clear_error(&err);
    /* Cookie auth: user:password read from the file at each request. */
    char *dir = g_dir_make_tmp("tf-cookie-XXXXXX", NULL);
    char *cookie = g_build_filename(dir, ".cookie", NULL);
    assert_true(g_file_set_contents(cookie, "__cookie__:abc123", -1, NULL));
    chain_rpc *ck = chain_rpc_new("node0", url, NULL, NULL, cookie);
    json_t *r = chain_rpc_call(ck, http, NULL, "getblockcount", NULL, G_USEC_PER_SEC, &err);
    assert_non_null(r);
    json_decref(r);
    char *hdr = fixture_http_last_header(e->http, "/node0/", "Authorization");
    char *want = g_base64_encode((const guchar *)"__cookie__:abc123", 17);
    assert_non_null(strstr(hdr, want));
    g_free(want);
    g_free(hdr);
    remove(cookie);
    assert_null(chain_rpc_call(ck, http, NULL, "getblockcount", NULL, G_USEC_PER_SEC, &err));
    assert_non_null(strstr(err->message, "cookie file"));
    g_clear_error(&err);
    g_rmdir(dir);
    g_free(cookie);
    g_free(dir);
    chain_rpc_free(ck);
    chain_rpc_free(gone);
    g_free(dead);
    tf_http_free(http);
    chain_rpc_free(rpc);
    g_free(url);
    env_free(e);
}

static gboolean at_height(const tf_snapshot *snap, void *want)
{
    return data((tf_snapshot *)snap)->tip_height >= *(gint64 *)want;
}

static void test_long_poll_wakes_and_stops(void **unused)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.long_poll = TRUE;
    cfg.long_poll_ms = 300;
    /* A one-minute interval: only the long-poll can make the block show up quickly. */
    env *e = env_new(2, 0, &cfg, TRUE, 60 * G_USEC_PER_SEC);
    gint64 want = 0;
    GError *err = NULL;
    tf_snapshot *snap = tf_handle_wait(e->h, at_height, &want, "first cycle", 10 * G_USEC_PER_SEC, &err);
    assert_non_null(snap);
    tf_snapshot_unref(snap);
    /* Let both long-poll threads block in waitfornewblock before the block comes. */
    assert_true(fixture_http_wait_in_flight(e->http, 2, 5000));
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 1);
    sim_unlock(e);
    want = 1;
    snap = tf_handle_wait(e->h, at_height, &want, "the new block", 20 * G_USEC_PER_SEC, &err);
    if (!snap)
        fail_msg("%s", err->message);
    tf_snapshot_unref(snap);
    /* Freeing the runtime joins the threads; their requests are interrupted, not waited out. */
    tf_runtime_free(e->rt);
    e->rt = NULL;
    env_free(e);
}

/* Both snapshots hold the same canonical chain, block by block (a from REST headers, b
 * from getblockheader), and the same graph size. */
static void assert_same_chain(const chain_snapshot *a, const chain_snapshot *b)
{
    assert_int_equal(a->blocks, b->blocks);
    assert_int_equal(a->orphans, 0);
    assert_int_equal(b->orphans, 0);
    assert_int_equal(a->floor, b->floor);
    assert_int_equal(a->n_recent, b->n_recent);
    assert_int_equal(a->n_recent, a->blocks);
    for (guint i = 0; i < a->n_recent; i++) {
        assert_int_equal(a->recent[i].height, b->recent[i].height);
        assert_string_equal(a->recent[i].hash, b->recent[i].hash);
    }
}

/* A node without REST (404) is caught up over JSON-RPC in the same cycle, is not asked
 * over REST again, and both paths build the same chain, with exact request counts. */
static void test_rest_and_json_paths_agree(void **unused)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.prune = FALSE;
    cfg.snapshot_blocks = 10000; /* every block, for the comparison */
    request_timeout_us = 120 * G_USEC_PER_SEC;
    env *rest = env_new(1, 0, &cfg, FALSE, G_USEC_PER_SEC);
    serve_rest = FALSE;
    env *json = env_new(1, 0, &cfg, FALSE, G_USEC_PER_SEC);
    serve_rest = TRUE;
    request_timeout_us = 5 * G_USEC_PER_SEC;
    for (guint round = 0; round < 3; round++) {
        guint n = round == 0 ? 4500 : round == 1 ? 37 : 2100; /* from empty; small; big gap */
        sim_lock(rest);
        chain_sim_mine(rest->sim, 0, n);
        sim_unlock(rest);
        sim_lock(json);
        chain_sim_mine(json->sim, 0, n);
        sim_unlock(json);
        assert_string_equal(chain_sim_head(rest->sim, 0), chain_sim_head(json->sim, 0)); /* same seed */
        guint64 r0 = fixture_http_requests(rest->http), j0 = fixture_http_requests(json->http);
        tf_snapshot *a = cycle(rest), *b = cycle(json);
        assert_string_equal(data(a)->tip, chain_sim_head(rest->sim, 0));
        assert_same_chain(data(a), data(b));
        guint64 r = fixture_http_requests(rest->http) - r0, j = fixture_http_requests(json->http) - j0;
        print_message("round %u (%u blocks): REST %" G_GUINT64_FORMAT " requests, JSON-RPC %" G_GUINT64_FORMAT
                      "\n", round, n, r, j);
        if (round == 0) {
            /* best + header + start hashes (0, 2000, 4000) + the first REST request alone
             * (the node's first), then the other two at once */
            assert_int_equal(r, 6);
            /* the same start hashes and first request (404), then over JSON-RPC the hashes
             * of heights 1..4499 in 3 batches at once and their headers in 3 */
            assert_int_equal(j, 2 + 2 + 3 + 3);
        } else if (round == 1) {
            /* best + header + one window (which finds the graph's top) + one REST request */
            assert_int_equal(r, 4);
            /* best + header + the window + the hashes + the headers: no REST asked again */
            assert_int_equal(j, 5);
        } else {
            /* the window also asked the second start hash: the two requests at once */
            assert_int_equal(r, 5);
            assert_int_equal(j, 2 + 1 + 2 + 2);
        }
        tf_snapshot_unref(a);
        tf_snapshot_unref(b);
    }
    env_free(rest);
    env_free(json);
}

/* A REST catch-up whose headers stop short of the tip (the node reorganised between the
 * calls) fails the cycle with a message saying so, and the next cycle recovers. */
static void test_rest_chain_changed_midway(void **unused)
{
    env *e = env_new(1, 0, NULL, FALSE, G_USEC_PER_SEC);
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 50);
    sim_unlock(e);
    tf_snapshot_unref(cycle(e));
    /* Route REST to a handler that answers one header too few. */
    fixture_http_route(e->http, "/node0/rest/headers/*", 200, "application/octet-stream", "", 0, 0);
    sim_lock(e);
    chain_sim_mine(e->sim, 0, 30);
    sim_unlock(e);
    tf_snapshot *snap = cycle(e);
    const chain_node_view *v = chain_snapshot_node(data(snap), "node0");
    assert_false(v->reachable);
    assert_non_null(strstr(v->error, "changed during the catch-up"));
    tf_snapshot_unref(snap);
    fixture_http_route_handler(e->http, "/node0/rest/headers/*", rest_handler, &routes[0]);
    snap = cycle(e);
    assert_string_equal(data(snap)->tip, chain_sim_head(e->sim, 0));
    assert_true(chain_snapshot_node(data(snap), "node0")->reachable);
    tf_snapshot_unref(snap);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catch_up_batched),
        cmocka_unit_test(test_rest_and_json_paths_agree),
        cmocka_unit_test(test_rest_chain_changed_midway),
        cmocka_unit_test(test_reorg_exact_depth),
        cmocka_unit_test(test_lagging_node_and_lib),
        cmocka_unit_test(test_public_majority_target),
        cmocka_unit_test(test_tx_inclusion),
        cmocka_unit_test(test_txids_only_for_kept_blocks),
        cmocka_unit_test(test_failures_name_node_not_password),
        cmocka_unit_test(test_long_poll_wakes_and_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
