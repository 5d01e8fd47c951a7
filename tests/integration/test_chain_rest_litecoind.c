/* test_chain_rest_litecoind.c: the chain observer's two catch-up paths against real litecoind.
 * With -rest (the cluster spec as shipped): every header /rest/headers serves hashes to
 * the hash getblockhash gives at its height and sums, from the targets, to the chainwork
 * getblockheader reports, block by block; the observer catches up in 6 requests and holds
 * the node's chain. Without -rest (the same spec minus that flag): the node answers 404,
 * the observer catches up over JSON-RPC in the same cycle and holds the same chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <tf/tf.h>
#include "chain/observer.h"
#include "chain/rest.h"
#include "chain/rpc.h"
#include "chain/work.h"

#define BLOCKS 430 /* below litecoin's MWEB activation (432), which needs a peg-in */

typedef struct {
    tf_cluster *c;
    tf_http *http;
    chain_rpc *rpc;
} node;

static json_t *call(node *n, const char *path, const char *method, json_t *params)
{
    GError *err = NULL;
    json_t *r = chain_rpc_call(n->rpc, n->http, path, method, params, 120 * G_USEC_PER_SEC, &err);
    if (!r)
        fail_msg("%s: %s", method, err->message);
    return r;
}

/* One litecoind from litecoin-3.json, with "-rest" dropped from its argv unless rest;
 * BLOCKS blocks mined. */
static node *node_start(gboolean rest)
{
    node *n = g_new0(node, 1);
    GError *err = NULL;
    json_t *root = json_load_file(TF_SOURCE_DIR "/scenarios/clusters/litecoin-3.json", 0, NULL);
    assert_non_null(root);
    json_t *argv = json_object_get(root, "argv");
    gboolean had = FALSE;
    for (size_t i = json_array_size(argv); i-- > 0;)
        if (!g_strcmp0(json_string_value(json_array_get(argv, i)), "-rest")) {
            had = TRUE;
            if (!rest)
                json_array_remove(argv, i);
        }
    assert_true(had); /* the shipped spec turns REST on */
    tf_cluster_spec *spec = tf_cluster_spec_from_json(root, "litecoin-3.json", &err);
    json_decref(root);
    if (!spec)
        fail_msg("%s", err->message);
    n->c = tf_cluster_new(spec, 1, &err);
    tf_cluster_spec_free(spec);
    if (!n->c || !tf_cluster_start(n->c, &err))
        fail_msg("litecoind: %s", err->message);
    n->http = tf_http_new();
    tf_source *src = tf_cluster_node_source(n->c, 0);
    n->rpc = chain_rpc_from_source(src, &err);
    tf_source_unref(src);
    assert_non_null(n->rpc);
    json_decref(call(n, NULL, "createwallet", json_pack("[s]", "w")));
    json_t *a = call(n, "/wallet/w", "getnewaddress", NULL);
    json_decref(call(n, NULL, "generatetoaddress", json_pack("[i, O]", BLOCKS, a)));
    json_decref(a);
    return n;
}

static void node_free(node *n)
{
    chain_rpc_free(n->rpc);
    tf_http_free(n->http);
    tf_cluster_free(n->c);
    g_free(n);
}

/* One cycle of a fresh, unpruned observer on the node: its snapshot (every block listed). */
static tf_snapshot *observe(node *n, tf_runtime **rt_out)
{
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.prune = FALSE;
    cfg.snapshot_blocks = BLOCKS + 1;
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.request_timeout_us = 60 * G_USEC_PER_SEC;
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&rc, &chain_observer, &cfg, tf_cluster_provider(n->c), &err);
    if (!rt || !tf_runtime_cycle(rt, &err))
        fail_msg("observer: %s", err->message);
    tf_handle *h = tf_runtime_handle(rt);
    tf_snapshot *snap = tf_handle_latest(h);
    tf_handle_unref(h);
    *rt_out = rt;
    return snap;
}

/* The observer holds the node's chain: every height's hash is getblockhash's. */
static void assert_holds_node_chain(node *n, const chain_snapshot *s)
{
    assert_int_equal(s->tip_height, BLOCKS);
    assert_int_equal(s->blocks, BLOCKS + 1);
    assert_int_equal(s->n_recent, BLOCKS + 1);
    chain_rpc_batch *b = chain_rpc_batch_new(n->rpc, NULL);
    for (guint i = 0; i < s->n_recent; i++)
        chain_rpc_batch_add(b, "getblockhash", json_pack("[I]", (json_int_t)s->recent[i].height));
    chain_rpc_run(n->http, &b, 1, 60 * G_USEC_PER_SEC);
    for (guint i = 0; i < s->n_recent; i++)
        assert_string_equal(s->recent[i].hash, json_string_value(chain_rpc_batch_result(b, i, NULL)));
    chain_rpc_batch_free(b);
    const chain_node_view *v = &s->nodes[0];
    assert_true(v->reachable);
    assert_null(v->error);
}

static void test_rest_headers_match_getblockheader(void **unused)
{
    node *n = node_start(TRUE);
    /* Every header over REST against getblockheader: hash, parent, time, bits, chainwork. */
    json_t *g = call(n, NULL, "getblockhash", json_pack("[i]", 0));
    chain_rest_req req = {.count = BLOCKS + 1};
    g_strlcpy(req.start, json_string_value(g), CHAIN_HASH_BUF);
    json_decref(g);
    assert_int_equal(chain_rest_headers_run(n->http, "n1", chain_rpc_url(n->rpc), &req, 1, 60 * G_USEC_PER_SEC), 1);
    assert_null(req.error);
    assert_int_equal(req.status, 200);
    assert_int_equal(req.n, BLOCKS + 1);
    chain_rpc_batch *b = chain_rpc_batch_new(n->rpc, NULL);
    for (guint i = 0; i < req.n; i++)
        chain_rpc_batch_add(b, "getblockheader", json_pack("[s]", req.headers[i].hash));
    chain_rpc_run(n->http, &b, 1, 60 * G_USEC_PER_SEC);
    chain_work sum = {{0, 0, 0, 0}};
    for (guint i = 0; i < req.n; i++) {
        const chain_bin_header *h = &req.headers[i];
        GError *err = NULL;
        json_t *j = chain_rpc_batch_result(b, i, &err);
        if (!j)
            fail_msg("header %u (%s): %s", i, h->hash, err->message);
        assert_string_equal(json_string_value(json_object_get(j, "hash")), h->hash);
        assert_int_equal(json_integer_value(json_object_get(j, "height")), i);
        assert_int_equal(json_integer_value(json_object_get(j, "time")), h->time);
        char bits[9];
        g_snprintf(bits, sizeof bits, "%08x", h->bits);
        assert_string_equal(json_string_value(json_object_get(j, "bits")), bits);
        if (i)
            assert_string_equal(json_string_value(json_object_get(j, "previousblockhash")), h->parent);
        else
            assert_true(chain_bin_header_is_genesis(h));
        chain_work w, want;
        chain_work_from_bits(h->bits, &w);
        chain_work_add(&sum, &w);
        assert_true(chain_work_parse(json_string_value(json_object_get(j, "chainwork")), &want));
        assert_int_equal(chain_work_cmp(&sum, &want), 0);
    }
    chain_rpc_batch_free(b);
    chain_rest_reqs_clear(&req, 1);
    /* The observer: best + header + start hash + one REST request... and the whole chain. */
    tf_runtime *rt;
    tf_snapshot *snap = observe(n, &rt);
    const chain_snapshot *s = tf_snapshot_data(snap);
    assert_holds_node_chain(n, s);
    assert_int_equal(s->requests, 4);
    tf_snapshot_unref(snap);
    tf_runtime_free(rt);
    node_free(n);
}

static void test_without_rest_json_rpc_catches_up(void **unused)
{
    node *n = node_start(FALSE);
    /* What a node without -rest answers. */
    json_t *g = call(n, NULL, "getblockhash", json_pack("[i]", 0));
    chain_rest_req req = {.count = 10};
    g_strlcpy(req.start, json_string_value(g), CHAIN_HASH_BUF);
    json_decref(g);
    chain_rest_headers_run(n->http, "n1", chain_rpc_url(n->rpc), &req, 1, 60 * G_USEC_PER_SEC);
    assert_int_equal(req.status, 404);
    assert_non_null(req.error);
    chain_rest_reqs_clear(&req, 1);
    tf_runtime *rt;
    tf_snapshot *snap = observe(n, &rt);
    const chain_snapshot *s = tf_snapshot_data(snap);
    assert_holds_node_chain(n, s);
    /* best + header + start hash + the REST request (404), then over JSON-RPC the hashes
     * of heights 0..429 and their headers */
    assert_int_equal(s->requests, 4 + 2);
    tf_snapshot_unref(snap);
    tf_runtime_free(rt);
    node_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rest_headers_match_getblockheader),
        cmocka_unit_test(test_without_rest_json_rpc_catches_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
