/* observer_snapshot.c: what the chain observer publishes (node views, canonical tip, LIB,
 * forks, public target, recent canonical blocks), its JSON, and the by-hash graph queries
 * projections use. Snapshots copy what they show: readers never touch the live graph. */
#include <string.h>
#include "chain/observer_priv.h"

static gint cmp_view(gconstpointer a, gconstpointer b)
{
    return strcmp(((const chain_node_view *)a)->name, ((const chain_node_view *)b)->name);
}

static void set_hash(char out[CHAIN_HASH_BUF], gint64 *height, const chain_block *b)
{
    g_strlcpy(out, b ? chain_block_hash(b) : "", CHAIN_HASH_BUF);
    *height = b ? chain_block_height(b) : -1;
}

chain_snapshot *chain_state_snapshot(chain_state *st)
{
    const chain_graph *g = st->graph;
    chain_snapshot *s = g_new0(chain_snapshot, 1);
    s->n_nodes = g_hash_table_size(st->nodes);
    s->nodes = g_new0(chain_node_view, s->n_nodes);
    const chain_block *tip = chain_graph_canonical_tip(g);
    GHashTableIter it;
    gpointer value;
    guint i = 0;
    g_hash_table_iter_init(&it, st->nodes);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const chain_cnode *n = value;
        chain_node_view *v = &s->nodes[i++];
        v->name = g_strdup(n->name);
        v->is_public = n->is_public;
        v->reachable = n->reachable;
        v->error = g_strdup(n->error);
        v->reorgs = n->reorgs;
        v->last_reorg = n->last_reorg;
        v->last_reorg_cycle = n->last_reorg_cycle;
        const chain_block *head = chain_graph_head(g, n->name);
        set_hash(v->head, &v->height, head);
        v->canonical = head && tip && chain_graph_is_ancestor(g, head, tip);
        if (v->is_public) {
            s->n_public++;
            s->n_public_reachable += v->reachable;
        } else {
            s->n_local++;
            s->n_local_reachable += v->reachable;
        }
    }
    if (s->n_nodes) /* qsort's base may not be NULL, even for zero elements */
        qsort(s->nodes, s->n_nodes, sizeof *s->nodes, (int (*)(const void *, const void *))cmp_view);
    set_hash(s->tip, &s->tip_height, tip);
    set_hash(s->lib, &s->lib_height, chain_graph_lib(g));
    set_hash(s->target, &s->target_height, chain_graph_public_target(g));
    s->forks = chain_graph_forks(g);
    for (guint k = 0; k < s->forks->len; k++) {
        const chain_fork *f = s->forks->pdata[k];
        s->live_forks += f->nodes && f->nodes[0];
    }
    s->blocks = chain_graph_block_count(g);
    s->orphans = chain_graph_orphan_count(g);
    s->floor = chain_graph_floor(g);
    s->requests = st->requests;
    s->reorgs = st->reorgs;
    if (tip && st->cfg.snapshot_blocks) {
        s->recent = g_new0(chain_recent_block, st->cfg.snapshot_blocks);
        for (const chain_block *b = tip; b && s->n_recent < st->cfg.snapshot_blocks;
             b = chain_graph_canonical_at(g, chain_block_height(b) - 1)) {
            chain_recent_block *r = &s->recent[s->n_recent++];
            set_hash(r->hash, &r->height, b);
            r->txids = g_strdupv((char **)chain_block_txids(b));
            if (chain_block_height(b) == 0)
                break;
        }
    }
    return s;
}

void chain_snapshot_free(chain_snapshot *s)
{
    if (!s)
        return;
    for (guint i = 0; i < s->n_nodes; i++) {
        g_free(s->nodes[i].name);
        g_free(s->nodes[i].error);
    }
    g_free(s->nodes);
    if (s->forks)
        g_ptr_array_unref(s->forks);
    for (guint i = 0; i < s->n_recent; i++)
        g_strfreev(s->recent[i].txids);
    g_free(s->recent);
    g_free(s);
}

const chain_node_view *chain_snapshot_node(const chain_snapshot *s, const char *name)
{
    for (guint i = 0; i < s->n_nodes; i++)
        if (!strcmp(s->nodes[i].name, name))
            return &s->nodes[i];
    return NULL;
}

gint64 chain_snapshot_tx_confirmations(const chain_snapshot *s, const char *txid,
                                       char block_hash[CHAIN_HASH_BUF])
{
    if (block_hash)
        block_hash[0] = '\0';
    for (guint i = 0; i < s->n_recent; i++)
        for (char **t = s->recent[i].txids; t && *t; t++)
            if (!g_ascii_strcasecmp(*t, txid)) {
                if (block_hash)
                    g_strlcpy(block_hash, s->recent[i].hash, CHAIN_HASH_BUF);
                return s->tip_height - s->recent[i].height + 1;
            }
    return 0;
}

static json_t *hash_json(const char *hash)
{
    return hash[0] ? json_string(hash) : json_null();
}

static json_t *strv_json(char **v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *view_json(const chain_node_view *v)
{
    json_t *j = json_pack("{s:s, s:s, s:b, s:o, s:I, s:b, s:I}", "name", v->name, "role",
                          v->is_public ? "public" : "local", "reachable", v->reachable, "head",
                          hash_json(v->head), "height", (json_int_t)v->height, "canonical",
                          v->canonical, "reorgs", (json_int_t)v->reorgs);
    if (v->reorgs)
        json_object_set_new(j, "last_reorg",
                            json_pack("{s:o, s:o, s:o, s:I, s:I}", "old_tip", hash_json(v->last_reorg.old_tip),
                                      "new_tip", hash_json(v->last_reorg.new_tip), "common_ancestor",
                                      hash_json(v->last_reorg.common_ancestor), "depth",
                                      (json_int_t)v->last_reorg.depth, "cycle",
                                      (json_int_t)v->last_reorg_cycle));
    if (v->error)
        json_object_set_new(j, "error", json_string(v->error));
    return j;
}

json_t *chain_snapshot_to_json(const chain_snapshot *s)
{
    json_t *nodes = json_array(), *local = json_array(), *pub = json_array();
    for (guint i = 0; i < s->n_nodes; i++) {
        json_array_append_new(nodes, view_json(&s->nodes[i]));
        json_array_append_new(s->nodes[i].is_public ? pub : local, json_string(s->nodes[i].name));
    }
    json_t *forks = json_array();
    for (guint i = 0; s->forks && i < s->forks->len; i++) {
        const chain_fork *f = s->forks->pdata[i];
        json_array_append_new(forks, json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:o}", "branch_root",
                                               f->branch_root, "tip", f->tip, "tip_height",
                                               (json_int_t)f->tip_height, "fork_point", f->fork_point,
                                               "fork_height", (json_int_t)f->fork_height, "length",
                                               (json_int_t)f->length, "nodes", strv_json(f->nodes)));
    }
    return json_pack("{s:o, s:o, s:o, s:{s:o, s:I}, s:{s:o, s:I}, s:{s:o, s:I, s:i, s:i}, s:o, "
                     "s:i, s:{s:i, s:i, s:I}, s:I, s:I}",
                     "nodes", nodes, "local", local, "public", pub,
                     "tip", "hash", hash_json(s->tip), "height", (json_int_t)s->tip_height,
                     "lib", "hash", hash_json(s->lib), "height", (json_int_t)s->lib_height,
                     "public_target", "hash", hash_json(s->target), "height",
                     (json_int_t)s->target_height, "public_peers", (int)s->n_public, "reachable",
                     (int)s->n_public_reachable,
                     "forks", forks, "live_forks", (int)s->live_forks,
                     "graph", "blocks", (int)s->blocks, "orphans", (int)s->orphans, "floor",
                     (json_int_t)s->floor,
                     "requests", (json_int_t)s->requests, "reorgs", (json_int_t)s->reorgs);
}

/* ---- queries by hash ---------------------------------------------------------------- */

gboolean chain_state_is_ancestor(const chain_state *st, const char *a, const char *b)
{
    const chain_block *ba = chain_graph_block(st->graph, a), *bb = chain_graph_block(st->graph, b);
    return ba && bb && chain_graph_is_ancestor(st->graph, ba, bb);
}

gint64 chain_state_common_ancestor(const chain_state *st, const char *a, const char *b,
                                   char out[CHAIN_HASH_BUF])
{
    const chain_block *ba = chain_graph_block(st->graph, a), *bb = chain_graph_block(st->graph, b);
    const chain_block *c = ba && bb ? chain_graph_common_ancestor(st->graph, ba, bb) : NULL;
    gint64 h;
    set_hash(out, &h, c);
    return h;
}

GPtrArray *chain_state_canonical_path(const chain_state *st, gint64 from, gint64 to)
{
    GPtrArray *blocks = chain_graph_canonical_path(st->graph, from, to);
    GPtrArray *out = g_ptr_array_new_full(blocks->len, g_free);
    for (guint i = 0; i < blocks->len; i++)
        g_ptr_array_add(out, g_strdup(chain_block_hash(blocks->pdata[i])));
    g_ptr_array_unref(blocks);
    return out;
}

gboolean chain_state_tx_included(const chain_state *st, const char *txid, guint k)
{
    return chain_graph_tx_included(st->graph, txid, k);
}
