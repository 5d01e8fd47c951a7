/* test_durable_chain.c: the chain observer's durable checkpoint over simulated nodes. A
 * restart with a valid checkpoint reconnects with a handful of requests and ends in the
 * same state as a full catch-up; a changed config falls back to a full scan and says so;
 * a node that reorganised while the observer was down is reported as a reorg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <glib/gstdio.h>
#include "chain/observer.h"
#include "chain/sim.h"
#include "fixture_http.h"
#include "rt_fixture.h"

typedef struct {
    GMutex lock; /* guards sim */
    chain_sim *sim;
    fixture_http *http;
    tf_source *src[2];
    char *dir, *path;
} env;

typedef struct {
    env *e;
    guint node;
} route;
static route routes[2];

static json_t *answer(env *e, guint node, json_t *call)
{
    const char *method = json_string_value(json_object_get(call, "method"));
    json_t *id = json_object_get(call, "id");
    GError *err = NULL;
    g_mutex_lock(&e->lock);
    json_t *res = chain_sim_rpc(e->sim, node, method ? method : "", json_object_get(call, "params"),
                                &err);
    g_mutex_unlock(&e->lock);
    if (res)
        return json_pack("{s:o, s:n, s:O}", "result", res, "error", "id", id ? id : json_null());
    json_t *ans = json_pack("{s:n, s:{s:i, s:s}, s:O}", "result", "error", "code", -1, "message",
                            err->message, "id", id ? id : json_null());
    g_error_free(err);
    return ans;
}

static void handler(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    route *r = user;
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL), *out;
    if (json_is_array(body)) {
        out = json_array();
        size_t i;
        json_t *call;
        json_array_foreach(body, i, call)
            json_array_append_new(out, answer(r->e, r->node, call));
    } else {
        out = answer(r->e, r->node, body);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    g_string_append(resp->body, text);
    free(text);
    json_decref(out);
    json_decref(body);
}

static int setup(void **state)
{
    env *e = g_new0(env, 1);
    g_mutex_init(&e->lock);
    e->sim = chain_sim_new(11, 2);
    e->http = fixture_http_start();
    for (guint i = 0; i < 2; i++) {
        routes[i] = (route){e, i};
        char *path = g_strdup_printf("/node%u/", i);
        fixture_http_route_handler(e->http, path, handler, &routes[i]);
        path[strlen(path) - 1] = '\0';
        char *url = fixture_http_url(e->http, path);
        json_t *attrs = json_pack("{s:s, s:s}", "rpc_user", "tf", "rpc_password", "pw");
        e->src[i] = tf_source_new(chain_sim_node_name(e->sim, i), url, attrs, NULL, NULL);
        g_free(url);
        g_free(path);
    }
    e->dir = g_dir_make_tmp("tf-chainck-XXXXXX", NULL);
    e->path = g_build_filename(e->dir, "state.db", NULL);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    for (guint i = 0; i < 2; i++)
        tf_source_unref(e->src[i]);
    fixture_http_free(e->http);
    chain_sim_free(e->sim);
    g_mutex_clear(&e->lock);
    GDir *d = g_dir_open(e->dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(e->dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(e->dir);
    g_free(e->dir);
    g_free(e->path);
    g_free(e);
    return 0;
}

/* One observer run: a runtime with the store, one cycle; returns the snapshot's JSON and
 * the requests it took, and the events of that cycle as JSON. */
typedef struct {
    json_t *snap;
    guint64 requests;
    json_t *events;
} run_result;

static run_result observe_once(env *e, tf_store *store, guint lib_k)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.graph.lib_confirmations = lib_k;
    cfg.store = store;
    cfg.checkpoint_name = "sim";
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&rc, &chain_observer, &cfg,
                                    tf_source_provider_new_static(e->src, 2), &err);
    assert_no_gerror(err);
    tf_handle *h = tf_runtime_handle(rt);
    if (!tf_runtime_cycle(rt, &err))
        fail_msg("cycle: %s", err->message);
    tf_snapshot *snap = tf_handle_latest(h);
    const chain_snapshot *cs = tf_snapshot_data(snap);
    run_result r = {json_pack("{s:s, s:I, s:s, s:I, s:I, s:I}", "tip", cs->tip, "height",
                              (json_int_t)cs->tip_height, "lib", cs->lib, "lib_height",
                              (json_int_t)cs->lib_height, "blocks", (json_int_t)cs->blocks,
                              "floor", (json_int_t)cs->floor),
                    cs->requests, json_array()};
    GPtrArray *hist = tf_handle_batches(h);
    for (guint i = 0; i < hist->len; i++) {
        json_t *b = tf_batch_to_json(hist->pdata[i]);
        json_array_extend(r.events, json_object_get(b, "events"));
        json_decref(b);
    }
    g_ptr_array_unref(hist);
    tf_snapshot_unref(snap);
    tf_handle_unref(h);
    tf_runtime_free(rt); /* saves the final checkpoint */
    return r;
}

static guint count_events(json_t *events, const char *type)
{
    guint n = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) n += !g_strcmp0(json_string_value(json_object_get(ev, "type")), type);
    return n;
}

static void run_result_clear(run_result *r)
{
    json_decref(r->snap);
    json_decref(r->events);
}

static void test_restart_from_checkpoint(void **state)
{
    env *e = *state;
    GError *err = NULL;
    g_mutex_lock(&e->lock);
    chain_sim_mine(e->sim, 0, 600);
    g_mutex_unlock(&e->lock);

    tf_store *store = tf_store_open(e->path, &err);
    assert_no_gerror(err);
    run_result full = observe_once(e, store, 6);
    assert_int_equal(json_integer_value(json_object_get(full.snap, "height")), 600);
    assert_true(count_events(full.events, "block_discovered") >= 100);

    /* The decision is visible on the state. */
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.store = store;
    cfg.checkpoint_name = "sim";
    chain_state *st = chain_state_new(&cfg, &err);
    assert_true(chain_state_checkpoint_restored(st));
    assert_non_null(strstr(chain_state_checkpoint_why(st), "checkpoint of sim: valid"));
    char *fp = chain_observer_fingerprint(&cfg, &err);
    assert_string_equal(fp, chain_state_fingerprint(st));
    g_free(fp);
    chain_state_free(st);

    /* While "down", 5 more blocks. The restart fetches only those. */
    g_mutex_lock(&e->lock);
    chain_sim_mine(e->sim, 1, 5);
    g_mutex_unlock(&e->lock);
    run_result again = observe_once(e, store, 6);
    assert_int_equal(json_integer_value(json_object_get(again.snap, "height")), 605);
    assert_int_equal(count_events(again.events, "block_discovered"), 5);
    fprintf(stderr, "full catch-up: %" G_GUINT64_FORMAT " requests; restart: %" G_GUINT64_FORMAT
                    "\n", full.requests, again.requests);
    /* Requests no longer tell the two apart (a catch-up of 600 blocks is a few batches,
     * like one of 5); the 5 block_discovered events above say only the new blocks came. */
    assert_true(again.requests <= full.requests);

    /* Same state as a full scan of the same chain (a fresh store). */
    char *other = g_build_filename(e->dir, "fresh.db", NULL);
    tf_store *fresh = tf_store_open(other, &err);
    run_result scan = observe_once(e, fresh, 6);
    assert_true(json_equal(scan.snap, again.snap));
    tf_store_unref(fresh);
    g_unlink(other);
    g_free(other);

    /* A changed config: full scan, and the log line says why. */
    cfg.graph.lib_confirmations = 3;
    st = chain_state_new(&cfg, &err);
    assert_false(chain_state_checkpoint_restored(st));
    assert_non_null(strstr(chain_state_checkpoint_why(st), "fingerprint mismatch"));
    assert_non_null(strstr(chain_state_checkpoint_why(st), "full scan"));
    chain_state_free(st); /* saves nothing: an empty graph */
    run_result changed = observe_once(e, store, 3);
    assert_true(count_events(changed.events, "block_discovered") >= 100);

    run_result_clear(&full);
    run_result_clear(&again);
    run_result_clear(&scan);
    run_result_clear(&changed);
    tf_store_unref(store);
}

static void test_reorg_while_down(void **state)
{
    env *e = *state;
    GError *err = NULL;
    g_mutex_lock(&e->lock);
    chain_sim_mine(e->sim, 0, 50);
    g_mutex_unlock(&e->lock);
    tf_store *store = tf_store_open(e->path, &err);
    run_result first = observe_once(e, store, 6);
    /* Down: node1 mines a longer branch apart, then the nodes meet: node0 reorganises. */
    g_mutex_lock(&e->lock);
    guint groups[2] = {0, 1};
    chain_sim_partition(e->sim, groups);
    chain_sim_mine(e->sim, 0, 2);
    chain_sim_mine(e->sim, 1, 4);
    chain_sim_heal(e->sim);
    g_mutex_unlock(&e->lock);
    run_result after = observe_once(e, store, 6);
    assert_int_equal(json_integer_value(json_object_get(after.snap, "height")), 54);
    assert_int_equal(count_events(after.events, "reorg"), 0); /* node0's old head: 50, not 52 */
    /* The restored head of node0 was 50 (an ancestor): no reorg; now make a real one. */
    g_mutex_lock(&e->lock);
    chain_sim_partition(e->sim, groups);
    chain_sim_mine(e->sim, 0, 1);
    g_mutex_unlock(&e->lock);
    run_result_clear(&after);
    after = observe_once(e, store, 6); /* node0 at 55 on its own branch: saved as its head */
    g_mutex_lock(&e->lock);
    chain_sim_mine(e->sim, 1, 3);
    chain_sim_heal(e->sim);
    g_mutex_unlock(&e->lock);
    run_result_clear(&after);
    after = observe_once(e, store, 6);
    assert_int_equal(count_events(after.events, "reorg"), 1);
    run_result_clear(&first);
    run_result_clear(&after);
    tf_store_unref(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart_from_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reorg_while_down, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
