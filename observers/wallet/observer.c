/* observer.c: the wallet observer's cycle. Unconfirmed transactions are read first (so a
 * transaction mined meanwhile shows as confirmed rather than vanishing for a cycle), then
 * the embedded chain state polls, then every header between a node's head and the
 * projection is fetched once (getblock verbosity 2, batched per node, nodes concurrently)
 * and added lowest first; the canonical tip moves, events go out, and LIB folds. */
#include <string.h>
#include <tf/error.h>
#include "wallet/observer.h"
#include "wallet/cache.h"
#include "chain/rpc.h"

void wallet_observer_config_init(wallet_observer_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    chain_observer_config_init(&cfg->chain);
    wallet_projection_config_init(&cfg->projection);
    cfg->coinbase_maturity = 100;
    cfg->track_unconfirmed = TRUE;
    cfg->wallet_names = g_ptr_array_new_with_free_func(g_free);
    cfg->wallet_addresses = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
}

void wallet_observer_config_add_wallet(wallet_observer_config *cfg, const char *name,
                                       const char *const *addresses)
{
    g_ptr_array_add(cfg->wallet_names, g_strdup(name));
    g_ptr_array_add(cfg->wallet_addresses, g_strdupv((char **)(addresses ? addresses : (const char *const[]){NULL})));
}

gboolean wallet_observer_config_add_address(wallet_observer_config *cfg, const char *name,
                                            const char *address)
{
    for (guint i = 0; i < cfg->wallet_names->len; i++) {
        if (strcmp(cfg->wallet_names->pdata[i], name))
            continue;
        char **old = cfg->wallet_addresses->pdata[i];
        guint n = g_strv_length(old);
        char **nv = g_new0(char *, n + 2);
        for (guint j = 0; j < n; j++)
            nv[j] = old[j];
        nv[n] = g_strdup(address);
        g_free(old);
        cfg->wallet_addresses->pdata[i] = nv;
        return TRUE;
    }
    return FALSE;
}

void wallet_observer_config_clear(wallet_observer_config *cfg)
{
    g_clear_pointer(&cfg->wallet_names, g_ptr_array_unref);
    g_clear_pointer(&cfg->wallet_addresses, g_ptr_array_unref);
}

/* One source's endpoint, rebuilt when the source changes. */
typedef struct {
    tf_source *src;
    chain_rpc *rpc;
} wo_node;

typedef struct {
    wallet_observer_config cfg;   /* wallet arrays not kept (the projection has them) */
    chain_state *chain;
    wallet_projection *proj;
    GHashTable *nodes;            /* source name -> wo_node* */
    GHashTable *mempool;          /* txid -> wallet_tx* (owned) */
    guint64 requests, blocks_fetched;
    wallet_cache *cache;          /* NULL without a store */
    char origin[CHAIN_HASH_BUF];  /* the projection's first block ("" before it): part of cache keys */
    guint64 blocks_cached, cache_errors;
} wo_state;

static void wo_node_free(gpointer p)
{
    wo_node *n = p;
    chain_rpc_free(n->rpc);
    tf_source_unref(n->src);
    g_free(n);
}

static void mempool_tx_free(gpointer p)
{
    wallet_tx_clear(p);
    g_free(p);
}

static void wo_free_state(void *state)
{
    wo_state *st = state;
    wallet_cache_free(st->cache);
    chain_state_free(st->chain);
    wallet_projection_free(st->proj);
    g_hash_table_unref(st->nodes);
    g_hash_table_unref(st->mempool);
    g_free(st);
}

static void *wo_init(const void *config, GError **error)
{
    const wallet_observer_config *cfg = config;
    if (!cfg || !cfg->wallet_names || !cfg->wallet_names->len) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "wallet observer: no wallet to track");
        return NULL;
    }
    wo_state *st = g_new0(wo_state, 1);
    st->cfg = *cfg;
    st->cfg.wallet_names = st->cfg.wallet_addresses = NULL;
    st->chain = chain_state_new(&cfg->chain, error);
    st->proj = wallet_projection_new(&cfg->projection);
    st->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, wo_node_free);
    st->mempool = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, mempool_tx_free);
    gboolean ok = st->chain != NULL;
    for (guint i = 0; ok && i < cfg->wallet_names->len; i++)
        ok = wallet_projection_add_wallet(st->proj, cfg->wallet_names->pdata[i],
                                          (const char *const *)cfg->wallet_addresses->pdata[i], error);
    if (ok && cfg->store) {
        GError *fe = NULL;
        char *chain_fp = chain_observer_fingerprint(&cfg->chain, &fe);
        if (!chain_fp)
            g_message("wallet observer: no projection cache: chain fingerprint: %s", fe->message);
        g_clear_error(&fe);
        st->cache = wallet_cache_new(cfg->store, cfg->run, chain_fp, cfg->wallet_names, cfg->wallet_addresses);
        g_free(chain_fp);
    }
    st->cfg.store = NULL; /* the cache holds the reference */
    if (!ok) {
        wo_free_state(st);
        return NULL;
    }
    return st;
}

/* The running sources of this cycle with their endpoints (new array of borrowed wo_node*). */
static GPtrArray *running_nodes(wo_state *st, tf_poll_ctx *ctx)
{
    GPtrArray *out = g_ptr_array_new();
    GPtrArray *sources = tf_poll_sources(ctx);
    GHashTable *present = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < sources->len; i++) {
        tf_source *src = sources->pdata[i];
        const char *name = tf_source_name(src);
        g_hash_table_add(present, (char *)name);
        wo_node *n = g_hash_table_lookup(st->nodes, name);
        if (!n || !tf_source_equal(n->src, src)) {
            n = g_new0(wo_node, 1);
            n->src = tf_source_ref(src);
            n->rpc = chain_rpc_from_source(src, NULL);
            g_hash_table_replace(st->nodes, g_strdup(name), n);
        }
        const char *state = tf_source_attr_str(src, "state");
        if (n->rpc && (!state || !strcmp(state, "running")))
            g_ptr_array_add(out, n);
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, st->nodes);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(present, key))
            g_hash_table_iter_remove(&it);
    g_hash_table_unref(present);
    return out;
}

/* Runs one batch per node concurrently (NULL entries skipped). */
static void run_all(wo_state *st, tf_poll_ctx *ctx, chain_rpc_batch **b, guint n)
{
    st->requests += chain_rpc_run(tf_poll_http(ctx), b, n, tf_poll_request_timeout(ctx));
}

/* The union of the nodes' mempools, as wallet_tx, kept between cycles: only new txids
 * are fetched. A node that fails leaves its previous contribution out this cycle. */
static void poll_unconfirmed(wo_state *st, tf_poll_ctx *ctx, GPtrArray *nodes)
{
    guint n = nodes->len;
    chain_rpc_batch **b = g_new0(chain_rpc_batch *, n + 1);
    for (guint i = 0; i < n; i++) {
        b[i] = chain_rpc_batch_new(((wo_node *)nodes->pdata[i])->rpc, NULL);
        chain_rpc_batch_add(b[i], "getrawmempool", NULL);
    }
    run_all(st, ctx, b, n);
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    chain_rpc_batch **tb = g_new0(chain_rpc_batch *, n + 1);
    for (guint i = 0; i < n; i++) {
        json_t *ids = chain_rpc_batch_result(b[i], 0, NULL);
        for (gsize j = 0; json_is_array(ids) && j < json_array_size(ids); j++) {
            const char *txid = json_string_value(json_array_get(ids, j));
            if (!txid || g_hash_table_contains(seen, txid))
                continue;
            g_hash_table_add(seen, (char *)txid);
            if (!g_hash_table_contains(st->mempool, txid)) {
                if (!tb[i])
                    tb[i] = chain_rpc_batch_new(((wo_node *)nodes->pdata[i])->rpc, NULL);
                chain_rpc_batch_add(tb[i], "getrawtransaction", json_pack("[s, b]", txid, 1));
            }
        }
    }
    run_all(st, ctx, tb, n);
    for (guint i = 0; i < n; i++)
        for (guint j = 0; tb[i] && j < chain_rpc_batch_len(tb[i]); j++) {
            json_t *r = chain_rpc_batch_result(tb[i], j, NULL);
            wallet_tx *tx = g_new0(wallet_tx, 1);
            if (r && wallet_tx_from_json(r, tx, NULL))
                g_hash_table_replace(st->mempool, g_strdup(tx->txid), tx);
            else
                g_free(tx); /* left the mempool meanwhile, or unparsable: not a spend we know */
        }
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, st->mempool);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(seen, key))
            g_hash_table_iter_remove(&it);
    GPtrArray *txs = g_ptr_array_new();
    g_hash_table_iter_init(&it, st->mempool);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(txs, value);
    wallet_projection_set_unconfirmed(st->proj, (const wallet_tx *const *)txs->pdata, txs->len);
    g_ptr_array_unref(txs);
    /* seen borrows strings from the batch results: free it before them. */
    g_hash_table_unref(seen);
    for (guint i = 0; i < n; i++) {
        chain_rpc_batch_free(b[i]);
        chain_rpc_batch_free(tb[i]);
    }
    g_free(b);
    g_free(tb);
}

static gint cmp_block_height(gconstpointer a, gconstpointer b)
{
    const wallet_block *x = *(wallet_block *const *)a, *y = *(wallet_block *const *)b;
    return (x->height > y->height) - (x->height < y->height);
}

/* With a cache: takes every header of want that the store has a usable delta for out of
 * want and into blocks (no request for those); the others stay to be fetched. */
static void take_cached(wo_state *st, const chain_graph *g, guint n, GPtrArray **want, GPtrArray *blocks,
                        GHashTable *from_cache)
{
    for (guint i = 0; st->cache && i < n; i++)
        for (guint j = 0; j < want[i]->len;) {
            gboolean corrupt = FALSE;
            wallet_block *b = wallet_cache_lookup(st->cache, st->origin, g, want[i]->pdata[j], &corrupt);
            st->cache_errors += corrupt;
            if (!b) {
                j++;
                continue;
            }
            g_ptr_array_add(blocks, b);
            g_hash_table_add(from_cache, b);
            st->blocks_cached++;
            g_ptr_array_remove_index(want[i], j);
        }
}

/* Adds one block; with a cache a fetched block's delta is stored once it is projected. */
static void add_block(wo_state *st, const wallet_block *b, gboolean cached)
{
    json_t *delta = st->cache && !cached ? wallet_cache_delta(st->cache, st->proj, b) : NULL;
    if (wallet_projection_add_block(st->proj, b, NULL) && delta) /* a failed parent: next cycle */
        wallet_cache_put(st->cache, st->origin, b->hash, delta);
    if (!st->origin[0] && wallet_projection_size(st->proj))
        g_strlcpy(st->origin, wallet_projection_root(st->proj), CHAIN_HASH_BUF);
    json_decref(delta);
}

/* Fetches the bodies of `want` (per node: hashes to ask it for; cached ones are not
 * asked for) and adds them lowest first. */
static void fetch_blocks(wo_state *st, tf_poll_ctx *ctx, const chain_graph *g, GPtrArray *nodes,
                         GPtrArray **want)
{
    guint n = nodes->len, max = MAX(1u, st->cfg.chain.max_batch);
    GPtrArray *blocks = g_ptr_array_new_with_free_func((GDestroyNotify)wallet_block_free);
    GHashTable *from_cache = g_hash_table_new(NULL, NULL);
    take_cached(st, g, n, want, blocks, from_cache);
    for (guint at = 0;; at += max) {
        chain_rpc_batch **b = g_new0(chain_rpc_batch *, n + 1);
        gboolean any = FALSE;
        for (guint i = 0; i < n; i++)
            for (guint j = at; j < want[i]->len && j < at + max; j++) {
                if (!b[i])
                    b[i] = chain_rpc_batch_new(((wo_node *)nodes->pdata[i])->rpc, NULL);
                chain_rpc_batch_add(b[i], "getblock", json_pack("[s, i]", (char *)want[i]->pdata[j], 2));
                any = TRUE;
            }
        if (any)
            run_all(st, ctx, b, n);
        for (guint i = 0; i < n; i++) {
            for (guint j = 0; b[i] && j < chain_rpc_batch_len(b[i]); j++) {
                GError *err = NULL;
                json_t *r = chain_rpc_batch_result(b[i], j, &err);
                wallet_block *blk = r ? wallet_block_from_json(r, &err) : NULL;
                if (blk) {
                    g_ptr_array_add(blocks, blk);
                    st->blocks_fetched++;
                } else {
                    g_prefix_error(&err, "wallet: ");
                    tf_poll_source_failed(ctx, ((wo_node *)nodes->pdata[i])->src, err->message);
                    g_clear_error(&err);
                }
            }
            chain_rpc_batch_free(b[i]);
        }
        g_free(b);
        if (!any)
            break;
    }
    g_ptr_array_sort(blocks, cmp_block_height);
    for (guint i = 0; i < blocks->len; i++)
        add_block(st, blocks->pdata[i], g_hash_table_contains(from_cache, blocks->pdata[i]));
    g_hash_table_unref(from_cache);
    g_ptr_array_unref(blocks);
}

/* Hashes from b down to the first header the projection holds (exclusive), appended to
 * out unless already scheduled. A branch that does not reach a held header (it forks
 * below the checkpoint, or the graph pruned its base) is left out: it could never connect. */
static void missing_below(wo_state *st, const chain_graph *g, const chain_block *b,
                          GHashTable *scheduled, GPtrArray *out)
{
    gint64 root_h = wallet_projection_root_height(st->proj);
    GPtrArray *walk = g_ptr_array_new();
    while (b && !wallet_projection_has(st->proj, chain_block_hash(b)) && chain_block_height(b) > root_h &&
           !g_hash_table_contains(scheduled, chain_block_hash(b))) {
        g_ptr_array_add(walk, (char *)chain_block_hash(b));
        b = chain_graph_block(g, chain_block_parent_hash(b));
    }
    gboolean connects = b && (wallet_projection_has(st->proj, chain_block_hash(b)) ||
                              g_hash_table_contains(scheduled, chain_block_hash(b)));
    for (guint i = 0; connects && i < walk->len; i++) {
        g_hash_table_add(scheduled, walk->pdata[i]);
        g_ptr_array_add(out, walk->pdata[i]);
    }
    g_ptr_array_unref(walk);
}

static gboolean wo_poll(void *state, tf_poll_ctx *ctx, GError **error)
{
    wo_state *st = state;
    GPtrArray *nodes = running_nodes(st, ctx);
    if (st->cfg.track_unconfirmed && nodes->len)
        poll_unconfirmed(st, ctx, nodes);
    GPtrArray *cevents = g_ptr_array_new();
    gboolean ok = chain_state_poll_collect(st->chain, ctx, cevents, error);
    const chain_graph *g = chain_state_graph(st->chain);
    GPtrArray *wevents = g_ptr_array_new();
    if (ok && nodes->len) {
        GPtrArray **want = g_new0(GPtrArray *, nodes->len);
        GHashTable *scheduled = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < nodes->len; i++)
            want[i] = g_ptr_array_new();
        if (!wallet_projection_size(st->proj)) {
            const chain_block *root = chain_graph_canonical_at(g, st->cfg.start_height);
            if (root) {
                g_ptr_array_add(want[0], (char *)chain_block_hash(root));
                fetch_blocks(st, ctx, g, nodes, want);
                g_ptr_array_set_size(want[0], 0);
            } else if (chain_graph_floor(g) > st->cfg.start_height) {
                /* Catch-up and pruning ran in this same cycle: without this the projection
                 * would wait forever for a root the graph no longer holds. */
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                            "wallet: the projection's root (height %" G_GINT64_FORMAT ") is below "
                            "the block graph's floor (height %" G_GINT64_FORMAT "), pruned before "
                            "the projection began: raise start_height or keep more blocks "
                            "(chain.graph.retained_depth, chain.prune)",
                            st->cfg.start_height, chain_graph_floor(g));
                ok = FALSE;
            }
        }
        if (wallet_projection_size(st->proj)) {
            for (guint i = 0; i < nodes->len; i++) {
                const chain_block *head = chain_graph_head(g, tf_source_name(((wo_node *)nodes->pdata[i])->src));
                missing_below(st, g, head, scheduled, want[i]);
            }
            fetch_blocks(st, ctx, g, nodes, want);
            const chain_block *tip = chain_graph_canonical_tip(g);
            if (tip && wallet_projection_has(st->proj, chain_block_hash(tip)))
                wallet_projection_set_tip(st->proj, chain_block_hash(tip), wevents, NULL);
            const chain_block *lib = chain_graph_lib(g);
            if (lib)
                wallet_projection_fold(st->proj, chain_block_hash(lib));
        }
        g_hash_table_unref(scheduled);
        for (guint i = 0; i < nodes->len; i++)
            g_ptr_array_unref(want[i]);
        g_free(want);
    }
    for (guint i = 0; i < cevents->len; i++)
        tf_poll_emit(ctx, wallet_event_wrap_chain(cevents->pdata[i]));
    for (guint i = 0; i < wevents->len; i++)
        tf_poll_emit(ctx, wevents->pdata[i]);
    g_ptr_array_unref(cevents);
    g_ptr_array_unref(wevents);
    g_ptr_array_unref(nodes);
    return ok;
}

static void *wo_snapshot(void *state)
{
    wo_state *st = state;
    wallet_snapshot *s = g_new0(wallet_snapshot, 1);
    s->chain = chain_state_snapshot(st->chain);
    g_strlcpy(s->tip, wallet_projection_tip(st->proj), CHAIN_HASH_BUF);
    s->tip_height = wallet_projection_tip_height(st->proj);
    g_strlcpy(s->root, wallet_projection_root(st->proj), CHAIN_HASH_BUF);
    s->root_height = wallet_projection_root_height(st->proj);
    s->headers = wallet_projection_size(st->proj);
    s->coinbase_maturity = st->cfg.coinbase_maturity;
    s->n_wallets = wallet_projection_n_wallets(st->proj);
    s->wallets = g_new0(wallet_view, s->n_wallets);
    wallet_rule rule = {st->cfg.coinbase_maturity, wallet_projection_pending_spends(st->proj)};
    for (guint w = 0; w < s->n_wallets; w++) {
        wallet_view *v = &s->wallets[w];
        v->name = g_strdup(wallet_projection_wallet_name(st->proj, w));
        wallet_state *ws = s->tip[0] ? wallet_projection_state(st->proj, s->tip, w) : NULL;
        if (ws) {
            v->state = wallet_state_ref(ws);
            v->listed = wallet_state_list(ws, s->tip_height, &rule, &v->balance, &v->immature, &v->pending);
        } else {
            v->listed = g_ptr_array_new();
        }
    }
    s->states = wallet_projection_states_copy(st->proj);
    s->tx_conf = wallet_projection_canonical_txs(st->proj);
    s->n_unconfirmed = g_hash_table_size(st->mempool);
    s->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, wallet_projection_pending_spends(st->proj));
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_hash_table_add(s->pending, g_strdup(key));
    s->blocks_fetched = st->blocks_fetched;
    s->blocks_cached = st->blocks_cached;
    s->cache_errors = st->cache_errors;
    s->requests = st->requests + chain_state_requests(st->chain);
    return s;
}

static void wo_free_snapshot(void *s) { wallet_snapshot_free(s); }
static json_t *wo_snapshot_json(const void *s) { return wallet_snapshot_to_json(s); }
static json_t *wo_event_json(const void *e) { return wallet_event_to_json(e); }

const tf_observer wallet_observer = {
    .name = "wallet",
    .version = 1,
    .init = wo_init,
    .poll = wo_poll,
    .snapshot = wo_snapshot,
    .free_state = wo_free_state,
    .free_snapshot = wo_free_snapshot,
    .free_event = wallet_event_free,
    .snapshot_to_json = wo_snapshot_json,
    .event_to_json = wo_event_json,
};
