/* graph_prune.c: bounded memory for the block graph, and the tx index it must keep in
 * step. Pruning raises the floor to LIB - retained depth and frees, per height bucket,
 * only what lies below it, plus branches that fork below it (dead once LIB passed them). */
#include "chain/graph_priv.h"

#include <string.h>

void chain_tx_unindex(chain_graph *g, chain_block *b)
{
    for (char **t = b->txids; t && *t; t++) {
        GPtrArray *holders = g_hash_table_lookup(g->tx_index, *t);
        if (!holders)
            continue;
        g_ptr_array_remove_fast(holders, b);
        if (holders->len == 0)
            g_hash_table_remove(g->tx_index, *t);
    }
}

void chain_block_destroy(chain_graph *g, chain_block *b, gboolean unbucket)
{
    if (b->head_refs) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, g->nodes);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            chain_node *n = v;
            if (n->head == b)
                n->head = NULL; /* the hash and height stay: the node's last known head */
        }
    }
    if (unbucket) {
        chain_bucket *bk = g_hash_table_lookup(g->by_height, &b->height);
        if (bk) {
            g_ptr_array_remove_fast(bk->blocks, b);
            if (bk->blocks->len == 0)
                g_hash_table_remove(g->by_height, &b->height);
        }
    }
    chain_tx_unindex(g, b);
    g_hash_table_remove(g->tips, b);
    g_hash_table_remove(g->blocks, b->hash); /* frees b */
}

/* Frees the branch ending at stale tip t down to new_floor, stopping where another
 * branch still hangs on. */
static guint drop_stale_branch(chain_graph *g, chain_block *t, gint64 new_floor)
{
    guint dropped = 0;
    chain_block *cur = t;
    while (cur && cur != g->best && cur->height >= new_floor && cur->n_children == 0) {
        chain_block *parent = cur->height - 1 >= g->floor ? cur->parent : NULL;
        chain_block_destroy(g, cur, TRUE);
        dropped++;
        if (parent && --parent->n_children == 0)
            g_hash_table_add(g->tips, parent);
        cur = parent;
    }
    return dropped;
}

guint chain_graph_prune(chain_graph *g)
{
    const chain_block *lib = chain_graph_lib(g);
    if (!lib)
        return 0;
    gint64 new_floor = lib->height - (gint64)g->cfg.retained_depth;
    if (new_floor <= g->floor)
        return 0;
    guint dropped = 0;

    /* Branches forking below the new floor: no reachable head is on them (LIB is an
     * ancestor of all), so they can never win; without this they would outlive the floor
     * as rootless fragments. Fork points are found before any height is freed. */
    GPtrArray *stale = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, g->tips);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        chain_block *t = k;
        if (t == g->best)
            continue;
        const chain_block *root;
        const chain_block *fp = chain_stale_fork_point(g, t, &root);
        if (!fp || fp->height < new_floor)
            g_ptr_array_add(stale, t);
    }
    for (guint i = 0; i < stale->len; i++)
        dropped += drop_stale_branch(g, stale->pdata[i], new_floor);
    g_ptr_array_free(stale, TRUE);

    for (gint64 h = g->floor; h < new_floor; h++) {
        chain_bucket *bk = g_hash_table_lookup(g->by_height, &h);
        if (!bk)
            continue;
        for (guint i = 0; i < bk->blocks->len; i++) {
            chain_block_destroy(g, bk->blocks->pdata[i], FALSE);
            dropped++;
        }
        g_hash_table_remove(g->by_height, &h);
    }
    g->floor = new_floor;

    /* Orphans at or below the floor would need a pruned parent: they can never connect. */
    GPtrArray *dead = g_ptr_array_new();
    for (GList *l = g->orphan_order.head; l; l = l->next) {
        chain_pending *p = l->data;
        if (p->height <= new_floor)
            g_ptr_array_add(dead, p);
    }
    for (guint i = 0; i < dead->len; i++)
        chain_pending_drop(g, dead->pdata[i]);
    g_ptr_array_free(dead, TRUE);
    return dropped;
}

gint64 chain_graph_tx_confirmations(const chain_graph *g, const char *txid,
                                    char block_hash[CHAIN_HASH_BUF])
{
    if (block_hash)
        block_hash[0] = '\0';
    if (!txid || !g->best)
        return 0;
    char *lower = g_ascii_strdown(txid, -1);
    GPtrArray *holders = g_hash_table_lookup(g->tx_index, lower);
    g_free(lower);
    for (guint i = 0; holders && i < holders->len; i++) {
        const chain_block *b = holders->pdata[i];
        if (chain_is_canonical(g, b)) {
            if (block_hash)
                memcpy(block_hash, b->hash, CHAIN_HASH_BUF);
            return g->best->height - b->height + 1;
        }
    }
    return 0;
}

gboolean chain_graph_tx_included(const chain_graph *g, const char *txid, guint k)
{
    gint64 conf = chain_graph_tx_confirmations(g, txid, NULL);
    return conf > 0 && conf >= (gint64)k;
}
