/* wallet_nodes.c: the simulated nodes the wallet observer's unit tests run against. */
#include <string.h>
#include <stdlib.h>
#include "wallet_nodes.h"

struct wallet_nodes_route {
    wallet_nodes *w;
    guint node;
};

static json_t *coinbase_json(wallet_nodes *w, const char *txid)
{
    const char *addr = g_hash_table_lookup(w->cb_addr, txid);
    return json_pack("{s:s, s:[{s:s}], s:[{s:f, s:i, s:{s:[s]}}]}", "txid", txid, "vin", "coinbase", "00",
                     "vout", "value", 50.0, "n", 0, "scriptPubKey", "addresses", addr ? addr : "nobody");
}

static json_t *answer(wallet_nodes *w, guint node, json_t *call)
{
    const char *method = json_string_value(json_object_get(call, "method"));
    json_t *params = json_object_get(call, "params");
    json_t *id = json_object_get(call, "id");
    json_t *res = NULL;
    GError *err = NULL;
    pthread_mutex_lock(&w->lock);
    if (!g_strcmp0(method, "getblock") && json_integer_value(json_array_get(params, 1)) == 2) {
        w->getblocks++;
        json_t *p1 = json_pack("[O]", json_array_get(params, 0));
        res = w->fail_getblock ? NULL : chain_sim_rpc(w->sim, node, "getblock", p1, &err);
        if (w->fail_getblock)
            g_set_error(&err, TF_ERROR, TF_ERROR_SOURCE, "-1: disk trouble");
        json_decref(p1);
        json_t *ids = res ? json_object_get(res, "tx") : NULL, *full = json_array();
        for (gsize i = 0; ids && i < json_array_size(ids); i++) {
            const char *txid = json_string_value(json_array_get(ids, i));
            json_t *tx = g_hash_table_lookup(w->txs, txid);
            json_array_append_new(full, tx ? json_deep_copy(tx) : coinbase_json(w, txid));
        }
        if (res)
            json_object_set(res, "tx", full);
        json_decref(full);
    } else if (!g_strcmp0(method, "getrawmempool")) {
        res = json_array();
        for (guint i = 0; i < w->mempool[node]->len; i++)
            json_array_append_new(res, json_string(w->mempool[node]->pdata[i]));
    } else if (!g_strcmp0(method, "getrawtransaction")) {
        json_t *tx = g_hash_table_lookup(w->txs, json_string_value(json_array_get(params, 0)));
        if (tx)
            res = json_deep_copy(tx);
        else
            g_set_error(&err, TF_ERROR, TF_ERROR_SOURCE, "-5: No such mempool transaction");
    } else {
        res = chain_sim_rpc(w->sim, node, method ? method : "", params, &err);
    }
    pthread_mutex_unlock(&w->lock);
    if (res)
        return json_pack("{s:o, s:n, s:O}", "result", res, "error", "id", id ? id : json_null());
    json_t *ans = json_pack("{s:n, s:{s:i, s:s}, s:O}", "result", "error", "code", -5, "message", err->message,
                            "id", id ? id : json_null());
    g_error_free(err);
    return ans;
}

static void handler(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    wallet_nodes_route *r = user;
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL), *out;
    if (json_is_array(body)) {
        out = json_array();
        size_t i;
        json_t *call;
        json_array_foreach(body, i, call) json_array_append_new(out, answer(r->w, r->node, call));
    } else {
        out = answer(r->w, r->node, body);
        if (!json_is_null(json_object_get(out, "error")))
            resp->status = 500;
    }
    char *text = json_dumps(out, JSON_COMPACT);
    g_string_append(resp->body, text);
    free(text);
    json_decref(out);
    json_decref(body);
}

wallet_nodes *wallet_nodes_new(guint32 seed, guint n)
{
    wallet_nodes *w = g_new0(wallet_nodes, 1);
    pthread_mutex_init(&w->lock, NULL);
    w->sim = chain_sim_new(seed, n);
    w->n = n;
    w->txs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref);
    w->cb_addr = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    w->http = fixture_http_start();
    w->routes = g_new0(wallet_nodes_route, n);
    for (guint i = 0; i < n; i++) {
        w->mempool[i] = g_ptr_array_new_with_free_func(g_free);
        w->routes[i] = (wallet_nodes_route){w, i};
        char *path = g_strdup_printf("/node%u/", i);
        fixture_http_route_handler(w->http, path, handler, &w->routes[i]);
        path[strlen(path) - 1] = '\0';
        char *url = fixture_http_url(w->http, path);
        w->src[i] = tf_source_new(chain_sim_node_name(w->sim, i), url,
                                  json_pack("{s:s, s:s}", "rpc_user", "u", "rpc_password", "p"), NULL, NULL);
        g_free(url);
        g_free(path);
    }
    return w;
}

void wallet_nodes_free(wallet_nodes *w)
{
    fixture_http_free(w->http); /* no handler runs after this */
    for (guint i = 0; i < w->n; i++) {
        tf_source_unref(w->src[i]);
        g_ptr_array_unref(w->mempool[i]);
    }
    chain_sim_free(w->sim);
    g_hash_table_unref(w->txs);
    g_hash_table_unref(w->cb_addr);
    pthread_mutex_destroy(&w->lock);
    g_free(w->routes);
    g_free(w);
}

const char *wallet_nodes_mine(wallet_nodes *w, guint node, const char *addr, const char *const *txids)
{
    pthread_mutex_lock(&w->lock);
    const char *hash = chain_sim_mine_block(w->sim, node, 2, txids);
    const char *cb = chain_sim_block_txids(w->sim, (guint)chain_sim_block_index(w->sim, hash))[0];
    g_hash_table_replace(w->cb_addr, g_strdup(cb), g_strdup(addr));
    pthread_mutex_unlock(&w->lock);
    return hash;
}

char *wallet_nodes_coinbase(wallet_nodes *w, const char *hash)
{
    pthread_mutex_lock(&w->lock);
    char *cb = g_strdup(chain_sim_block_txids(w->sim, (guint)chain_sim_block_index(w->sim, hash))[0]);
    pthread_mutex_unlock(&w->lock);
    return cb;
}
