/* chain_world.c: the chain scenario world: clusters and runtime lifetime, a source provider
 * that lists the nodes of every cluster the scenario started (local and public ones),
 * per-node RPC endpoints and wallets. Clusters may be added while the runtime runs. */
#include <string.h>
#include "chain_world.h"

struct ch_sources {
    GMutex lock;               /* guards providers: steps add, the runtime lists */
    GPtrArray *providers;      /* tf_source_provider* (owned) */
};

static gboolean sources_list(void *self, GPtrArray *out, GError **error)
{
    ch_sources *s = self;
    gboolean ok = TRUE;
    g_mutex_lock(&s->lock);
    for (guint i = 0; ok && i < s->providers->len; i++)
        ok = tf_source_provider_list(s->providers->pdata[i], out, error);
    g_mutex_unlock(&s->lock);
    return ok;
}

static void sources_free(void *self)
{
    ch_sources *s = self;
    g_ptr_array_unref(s->providers);
    g_mutex_clear(&s->lock);
    g_free(s);
}

static const tf_source_provider_vtable sources_vt = {"chain-clusters", sources_list, sources_free};

static void ch_world_free(void *p)
{
    ch_world *ch = p;
    tf_handle_unref(ch->h);
    tf_runtime_free(ch->rt);   /* stop observing (and long-polling) before nodes go away */
    for (guint i = 0; i < ch->n_clusters; i++)
        if (ch->owned[i])
            tf_cluster_free(ch->clusters[i]);
    tf_http_free(ch->http);
    g_hash_table_unref(ch->rpcs);
    g_hash_table_unref(ch->addresses);
    g_hash_table_unref(ch->partitioned);
    g_hash_table_unref(ch->reorg_base);
    g_free(ch->txid);
    g_free(ch->tx_sender);
    g_free(ch);
}

ch_world *ch_world_ensure(tf_world *world, GError **error)
{
    ch_world *ch = tf_world_get(world, "chain");
    if (ch)
        return ch;
    chain_observer_config cfg;
    chain_observer_config_init(&cfg);
    cfg.fetch_txids = TRUE;        /* tx inclusion steps need them; regtest blocks are small */
    cfg.long_poll = TRUE;          /* a new block is seen as soon as a node has it */
    cfg.long_poll_ms = 1000;
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.interval_us = 100 * 1000;
    rc.request_timeout_us = 5 * G_USEC_PER_SEC; /* generatetoaddress may keep a node busy */
    rc.stale_after_us = 10 * G_USEC_PER_SEC;
    rc.snapshot_history = 600;
    rc.event_history = 4096;
    ch_sources *src = g_new0(ch_sources, 1);
    g_mutex_init(&src->lock);
    src->providers = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_provider_free);
    tf_runtime *rt = tf_runtime_new(&rc, &chain_observer, &cfg,
                                    tf_source_provider_new(&sources_vt, src), error);
    if (!rt || !tf_world_journal_runtime(world, rt, "chain", error)) {
        tf_runtime_free(rt);
        return NULL;
    }
    ch = g_new0(ch_world, 1);
    ch->sources = src;
    ch->rt = rt;
    ch->h = tf_runtime_handle(rt);
    ch->http = tf_http_new();
    ch->rpcs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)chain_rpc_free);
    ch->addresses = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ch->partitioned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ch->reorg_base = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ch->mined_height = -1;
    tf_world_set(world, "chain", ch, ch_world_free);
    if (!tf_runtime_start(rt, error))
        return NULL;
    return ch;
}

void ch_world_add_cluster(ch_world *ch, tf_cluster *c, gboolean owned)
{
    g_assert(ch->n_clusters < G_N_ELEMENTS(ch->clusters));
    ch->owned[ch->n_clusters] = owned;
    ch->clusters[ch->n_clusters++] = c;
    g_mutex_lock(&ch->sources->lock);
    g_ptr_array_add(ch->sources->providers, tf_cluster_provider(c));
    g_mutex_unlock(&ch->sources->lock);
    tf_handle_wake(ch->h);
}

void ch_world_acted(ch_world *ch)
{
    ch->acted_at = g_get_monotonic_time();
    tf_handle_wake(ch->h);
}

ch_world *ch_world_get(tf_step *step, GError **error)
{
    ch_world *ch = tf_world_get(tf_step_world(step), "chain");
    if (!ch || !ch->n_clusters) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "no litecoin cluster in this scenario: start one with "
                    "\"Given a 3-node litecoin regtest cluster is running\"");
        return NULL;
    }
    return ch;
}

gboolean ch_node(ch_world *ch, const char *name, tf_cluster **c, guint *i, GError **error)
{
    GString *known = g_string_new(NULL);
    for (guint k = 0; k < ch->n_clusters; k++) {
        gint idx = tf_cluster_node_index(ch->clusters[k], name);
        if (idx >= 0) {
            *c = ch->clusters[k];
            *i = (guint)idx;
            g_string_free(known, TRUE);
            return TRUE;
        }
        for (guint j = 0; j < tf_cluster_size(ch->clusters[k]); j++)
            g_string_append_printf(known, "%s%s", known->len ? ", " : "",
                                   tf_cluster_node_name(ch->clusters[k], j));
    }
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "no node named %s (nodes: %s)", name, known->str);
    g_string_free(known, TRUE);
    return FALSE;
}

chain_rpc *ch_rpc(ch_world *ch, const char *name, GError **error)
{
    chain_rpc *rpc = g_hash_table_lookup(ch->rpcs, name);
    if (rpc)
        return rpc;
    tf_cluster *c;
    guint i;
    if (!ch_node(ch, name, &c, &i, error))
        return NULL;
    tf_source *src = tf_cluster_node_source(c, i);
    rpc = chain_rpc_from_source(src, error);
    tf_source_unref(src);
    if (rpc)
        g_hash_table_insert(ch->rpcs, g_strdup(name), rpc);
    return rpc;
}

json_t *ch_call(ch_world *ch, const char *name, const char *path, const char *method,
                json_t *params, GError **error)
{
    chain_rpc *rpc = ch_rpc(ch, name, error);
    if (!rpc) {
        json_decref(params);
        return NULL;
    }
    /* generatetoaddress of a hundred blocks takes a few seconds on a small machine. */
    return chain_rpc_call(rpc, ch->http, path, method, params, 120 * G_USEC_PER_SEC, error);
}

const char *ch_address(ch_world *ch, const char *name, GError **error)
{
    const char *addr = g_hash_table_lookup(ch->addresses, name);
    if (addr)
        return addr;
    GError *err = NULL;
    json_t *r = ch_call(ch, name, NULL, "createwallet", json_pack("[s]", "tf"), &err);
    if (!r) {
        /* Already there (a restarted node): load it instead. */
        g_clear_error(&err);
        r = ch_call(ch, name, NULL, "loadwallet", json_pack("[s]", "tf"), &err);
        if (!r && !strstr(err->message, "already loaded")) {
            g_propagate_error(error, err);
            return NULL;
        }
        g_clear_error(&err);
    }
    json_decref(r);
    /* The wallet's first "tf" address if it has one (an earlier world used this node),
     * else a new one with that label. */
    r = ch_call(ch, name, "/wallet/tf", "getaddressesbylabel", json_pack("[s]", "tf"), &err);
    const char *first = NULL, *a;
    json_t *v;
    json_object_foreach(r, a, v)
        if (!first || strcmp(a, first) < 0)
            first = a;
    if (first) {
        g_hash_table_insert(ch->addresses, g_strdup(name), g_strdup(first));
        json_decref(r);
        return g_hash_table_lookup(ch->addresses, name);
    }
    json_decref(r);
    if (err && !strstr(err->message, "No addresses with label")) {
        g_propagate_error(error, err);
        return NULL;
    }
    g_clear_error(&err);
    r = ch_call(ch, name, "/wallet/tf", "getnewaddress", json_pack("[s]", "tf"), error);
    if (!json_is_string(r)) {
        json_decref(r);
        return NULL;
    }
    g_hash_table_insert(ch->addresses, g_strdup(name), g_strdup(json_string_value(r)));
    json_decref(r);
    return g_hash_table_lookup(ch->addresses, name);
}

char *ch_progress(const tf_snapshot *snap, void *unused)
{
    const chain_snapshot *s = tf_snapshot_data(snap);
    GString *p = g_string_new(NULL);
    for (guint i = 0; i < s->n_nodes; i++) {
        const chain_node_view *v = &s->nodes[i];
        if (v->reachable)
            g_string_append_printf(p, "%s h=%" G_GINT64_FORMAT " %.8s, ", v->name, v->height, v->head);
        else
            g_string_append_printf(p, "%s down, ", v->name);
    }
    g_string_append_printf(p, "tip %" G_GINT64_FORMAT ", lib %" G_GINT64_FORMAT ", %u live fork(s)",
                           s->tip_height, s->lib_height, s->live_forks);
    if (s->n_public)
        g_string_append_printf(p, ", public target %" G_GINT64_FORMAT, s->target_height);
    return g_string_free(p, FALSE);
}
