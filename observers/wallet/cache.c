/* cache.c: cached wallet projections. What is stored per header is its DELTA, not its
 * state: the block's transactions that touch a tracked wallet, each with its wallet
 * outputs (vout, amount, address; coinbase flag and height come with it) and the inputs
 * that may spend a wallet output. Fed to the projection in place of the full body it
 * yields the same states, touches and transactions, so a cached header costs no request
 * and no change to projection.c. A delta depends on the parent's state, i.e. on the
 * header's ancestry (its hash), the wallet set and the block the projection started from:
 * all three are in the key, with the fingerprint (which includes the chain observer's). */
#include <string.h>
#include "wallet/cache.h"
#include "wallet/observer.h"

#define CACHE_KIND "wallet"
#define CACHE_FORMAT 1
#define MAX_VOUT 100000 /* sanity bound on a cached vout index (rebuilding allocates up to it) */

struct wallet_cache {
    tf_store *store;
    gint64 run;
    char *fingerprint;
    json_t *wallets;      /* [{"name","addresses":[sorted]}], in projection order */
    GHashTable *addrs;    /* every tracked address (owned) */
};

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

wallet_cache *wallet_cache_new(tf_store *store, gint64 run, const char *chain_fingerprint,
                               GPtrArray *names, GPtrArray *addresses)
{
    wallet_cache *c = g_new0(wallet_cache, 1);
    c->run = run;
    c->wallets = json_array();
    c->addrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < names->len; i++) {
        GPtrArray *sorted = g_ptr_array_new();
        for (char **a = addresses->pdata[i]; a && *a; a++) {
            g_ptr_array_add(sorted, *a);
            g_hash_table_add(c->addrs, g_strdup(*a));
        }
        g_ptr_array_sort(sorted, cmp_str);
        json_t *arr = json_array();
        for (guint j = 0; j < sorted->len; j++)
            if (!j || strcmp(sorted->pdata[j], sorted->pdata[j - 1]))
                json_array_append_new(arr, json_string(sorted->pdata[j]));
        g_ptr_array_unref(sorted);
        json_array_append_new(c->wallets, json_pack("{s:s, s:o}", "name", (char *)names->pdata[i],
                                                    "addresses", arr));
    }
    json_t *config = json_pack("{s:i, s:O}", "cache_format", CACHE_FORMAT, "wallets", c->wallets);
    const char *deps[] = {chain_fingerprint, NULL};
    GError *err = NULL;
    c->fingerprint = chain_fingerprint ? tf_fingerprint_observer(&wallet_observer, config, deps, &err)
                                       : NULL;
    json_decref(config);
    if (!c->fingerprint) {
        g_message("wallet observer: no projection cache: %s",
                  err ? err->message : "the chain observer has no fingerprint");
        g_clear_error(&err);
        wallet_cache_free(c);
        return NULL;
    }
    c->store = tf_store_ref(store);
    return c;
}

void wallet_cache_free(wallet_cache *c)
{
    if (!c)
        return;
    tf_store_unref(c->store);
    g_free(c->fingerprint);
    json_decref(c->wallets);
    g_hash_table_unref(c->addrs);
    g_free(c);
}

const char *wallet_cache_fingerprint(const wallet_cache *c) { return c->fingerprint; }

/* The key's input: the header, the wallet set and the projection's start block. */
static json_t *key_input(wallet_cache *c, const char *origin, const char *hash)
{
    return json_pack("{s:s, s:s, s:O}", "header", hash, "root", origin && origin[0] ? origin : hash,
                     "wallets", c->wallets);
}

/* ---- the delta ------------------------------------------------------------------------- */

json_t *wallet_cache_delta(wallet_cache *c, const wallet_projection *p, const wallet_block *b)
{
    guint nw = wallet_projection_n_wallets(p);
    gboolean root = wallet_projection_size(p) == 0;
    if (!root && !wallet_projection_has(p, b->parent))
        return NULL;
    /* Wallet outputs created earlier in this block: a later transaction may spend them. */
    GHashTable *made = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    json_t *txs = json_array();
    for (guint t = 0; t < b->n_tx; t++) {
        const wallet_tx *tx = &b->tx[t];
        json_t *in = json_array(), *out = json_array();
        for (guint i = 0; i < tx->n_in; i++) {
            char *op = g_strdup_printf("%s:%u", tx->in[i].txid, tx->in[i].vout);
            /* A superset is harmless: the projection ignores inputs no wallet holds. */
            gboolean mine = g_hash_table_contains(made, op);
            for (guint w = 0; !mine && !root && w < nw; w++)
                mine = wallet_state_lookup(wallet_projection_state(p, b->parent, w), tx->in[i].txid,
                                           tx->in[i].vout) != NULL;
            if (mine)
                json_array_append_new(in, json_string(op));
            g_free(op);
        }
        for (guint o = 0; o < tx->n_out; o++) {
            const wallet_txout *x = &tx->out[o];
            if (!x->address || !g_hash_table_contains(c->addrs, x->address))
                continue;
            json_array_append_new(out, json_pack("[i, I, s]", (int)o, (json_int_t)x->amount, x->address));
            g_hash_table_add(made, g_strdup_printf("%s:%u", tx->txid, o));
        }
        if (json_array_size(in) || json_array_size(out))
            json_array_append_new(txs, json_pack("{s:s, s:b, s:o, s:o}", "txid", tx->txid, "coinbase",
                                                 tx->coinbase, "in", in, "out", out));
        else {
            json_decref(in);
            json_decref(out);
        }
    }
    g_hash_table_unref(made);
    return json_pack("{s:s, s:s, s:I, s:o}", "hash", b->hash, "parent", b->parent, "height",
                     (json_int_t)b->height, "tx", txs);
}

/* One cached transaction appended to b; FALSE + *why (static) when malformed. */
static gboolean add_cached_tx(wallet_block *b, json_t *tx, const char **why)
{
    const char *txid = json_string_value(json_object_get(tx, "txid"));
    json_t *in = json_object_get(tx, "in"), *out = json_object_get(tx, "out");
    json_t *cb = json_object_get(tx, "coinbase");
    if (!txid || strlen(txid) >= CHAIN_HASH_BUF || !json_is_boolean(cb) || !json_is_array(in) ||
        !json_is_array(out)) {
        *why = "a transaction lacks txid, coinbase, in or out";
        return FALSE;
    }
    guint n_in = (guint)json_array_size(in), n_out = 0;
    const char **inputs = g_new0(const char *, n_in + 1);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < n_in; i++) {
        inputs[i] = json_string_value(json_array_get(in, i));
        const char *colon = inputs[i] ? strrchr(inputs[i], ':') : NULL;
        ok = colon && colon - inputs[i] < CHAIN_HASH_BUF;
    }
    for (gsize i = 0; ok && i < json_array_size(out); i++) {
        json_t *o = json_array_get(out, i);
        json_int_t n = json_integer_value(json_array_get(o, 0));
        ok = json_is_integer(json_array_get(o, 0)) && n >= 0 && n < MAX_VOUT &&
             json_is_integer(json_array_get(o, 1)) && json_integer_value(json_array_get(o, 1)) >= 0 &&
             json_is_string(json_array_get(o, 2));
        n_out = ok ? MAX(n_out, (guint)n + 1) : n_out;
    }
    if (!ok) {
        *why = "an input or output is malformed";
        g_free(inputs);
        return FALSE;
    }
    /* Outputs keep their vout: the ones no wallet owns are left without an address. */
    const char **addrs = g_new0(const char *, n_out + 1);
    gint64 *amounts = g_new0(gint64, n_out + 1);
    for (gsize i = 0; i < json_array_size(out); i++) {
        json_t *o = json_array_get(out, i);
        guint n = (guint)json_integer_value(json_array_get(o, 0));
        addrs[n] = json_string_value(json_array_get(o, 2));
        amounts[n] = json_integer_value(json_array_get(o, 1));
    }
    wallet_block_add_tx(b, txid, json_is_true(cb), inputs, n_in, addrs, amounts, n_out);
    g_free(inputs);
    g_free(addrs);
    g_free(amounts);
    return TRUE;
}

/* The block a cached delta describes, checked against the graph's header. */
static wallet_block *block_from_delta(json_t *d, const chain_graph *g, const char *hash,
                                      const char **why)
{
    const chain_block *h = chain_graph_block(g, hash);
    json_t *txs = json_object_get(d, "tx"), *height = json_object_get(d, "height");
    const char *dh = json_string_value(json_object_get(d, "hash"));
    const char *parent = json_string_value(json_object_get(d, "parent"));
    if (!json_is_object(d) || !dh || !parent || !json_is_integer(height) || !json_is_array(txs)) {
        *why = "not a delta (hash, parent, height or tx missing)";
        return NULL;
    }
    if (strcmp(dh, hash) || (h && (strcmp(parent, chain_block_parent_hash(h)) ||
                                   json_integer_value(height) != chain_block_height(h)))) {
        *why = "it names another header, parent or height";
        return NULL;
    }
    wallet_block *b = wallet_block_new(hash, parent, json_integer_value(height));
    for (gsize i = 0; i < json_array_size(txs); i++)
        if (!add_cached_tx(b, json_array_get(txs, i), why)) {
            wallet_block_free(b);
            return NULL;
        }
    return b;
}

wallet_block *wallet_cache_lookup(wallet_cache *c, const char *origin, const chain_graph *g,
                                  const char *hash, gboolean *corrupt)
{
    *corrupt = FALSE;
    json_t *input = key_input(c, origin, hash);
    char *key = tf_cache_key(c->fingerprint, input);
    json_decref(input);
    GError *err = NULL;
    json_t *d = NULL;
    tf_cache_get(c->store, CACHE_KIND, key, &d, NULL, &err); /* FAILED sets err */
    const char *why = NULL;
    wallet_block *b = d ? block_from_delta(d, g, hash, &why) : NULL;
    if (err || why) {
        *corrupt = TRUE;
        g_message("wallet observer: cached projection of header %s unusable (%s): fetching its body",
                  hash, err ? err->message : why);
    }
    g_clear_error(&err);
    json_decref(d);
    g_free(key);
    return b;
}

void wallet_cache_put(wallet_cache *c, const char *origin, const char *hash, json_t *delta)
{
    json_t *input = key_input(c, origin, hash);
    char *key = tf_cache_key(c->fingerprint, input);
    GError *err = NULL;
    if (!tf_cache_put(c->store, CACHE_KIND, key, input, delta, c->run, &err)) {
        g_message("wallet observer: projection of header %s not cached: %s", hash, err->message);
        g_error_free(err);
    }
    g_free(key);
    json_decref(input);
}
