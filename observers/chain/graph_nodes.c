/* graph_nodes.c: what the graph derives from the nodes' heads: head changes and reorgs,
 * LIB, the strict-majority public target and the forks (tips off the canonical chain).
 * Each answer costs O(nodes x log n) or O(fork depth), never a walk of the whole chain. */
#include "chain/graph_priv.h"

#include <string.h>
#include "tf/error.h"

static chain_node *node_get(chain_graph *g, const char *name)
{
    chain_node *n = g_hash_table_lookup(g->nodes, name);
    if (!n) {
        n = g_new0(chain_node, 1);
        n->name = g_strdup(name);
        n->head_height = -1;
        n->reachable = TRUE;
        g_hash_table_insert(g->nodes, n->name, n);
    }
    return n;
}

static void fill_head_event(chain_event *e, const chain_head_change *c)
{
    chain_event_head *h = &e->u.head;
    memcpy(h->old_tip, c->old_tip, CHAIN_HASH_BUF);
    h->old_height = c->old_height;
    memcpy(h->new_tip, c->new_tip, CHAIN_HASH_BUF);
    h->new_height = c->new_height;
    memcpy(h->common_ancestor, c->common_ancestor, CHAIN_HASH_BUF);
    h->ancestor_height = c->ancestor_height;
    h->depth = c->depth;
    h->added = c->added;
}

gboolean chain_graph_set_head(chain_graph *g, const char *node, const char *hash,
                              guint64 cycle, chain_head_change *change, GPtrArray *events,
                              GError **error)
{
    chain_head_change local;
    chain_head_change *c = change ? change : &local;
    memset(c, 0, sizeof *c);
    c->old_height = c->ancestor_height = c->depth = c->added = -1;
    chain_block *b = (chain_block *)chain_graph_block(g, hash);
    if (!b) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: head %s: block not in the graph (add its header first)", node,
                    hash ? hash : "(null)");
        return FALSE;
    }
    chain_node *n = node_get(g, node);
    memcpy(c->new_tip, b->hash, CHAIN_HASH_BUF);
    c->new_height = b->height;
    memcpy(c->old_tip, n->head_hash, CHAIN_HASH_BUF);
    c->old_height = n->head_hash[0] ? n->head_height : -1;
    if (n->head == b)
        return TRUE;
    c->head_changed = TRUE;
    chain_block *old = n->head;
    /* An old head that was pruned lies below the floor, under the new head: catch-up. */
    if (old && !chain_graph_is_ancestor(g, old, b)) {
        c->reorg = TRUE;
        const chain_block *ca = chain_graph_common_ancestor(g, old, b);
        if (ca) {
            memcpy(c->common_ancestor, ca->hash, CHAIN_HASH_BUF);
            c->ancestor_height = ca->height;
            c->depth = old->height - ca->height;
            c->added = b->height - ca->height;
        }
    }
    if (old)
        old->head_refs--;
    b->head_refs++;
    n->head = b;
    memcpy(n->head_hash, b->hash, CHAIN_HASH_BUF);
    n->head_height = b->height;
    if (events) {
        chain_event *e = chain_event_new(CHAIN_EVENT_HEAD_CHANGED, cycle, node);
        fill_head_event(e, c);
        g_ptr_array_add(events, e);
        if (c->reorg) {
            e = chain_event_new(CHAIN_EVENT_REORG, cycle, node);
            fill_head_event(e, c);
            g_ptr_array_add(events, e);
        }
    }
    return TRUE;
}

void chain_graph_set_reachable(chain_graph *g, const char *node, gboolean reachable)
{
    node_get(g, node)->reachable = reachable;
}

void chain_graph_set_public(chain_graph *g, const char *node, gboolean is_public)
{
    node_get(g, node)->is_public = is_public;
}

void chain_graph_remove_node(chain_graph *g, const char *node)
{
    chain_node *n = g_hash_table_lookup(g->nodes, node);
    if (!n)
        return;
    if (n->head)
        n->head->head_refs--;
    g_hash_table_remove(g->nodes, node);
}

const chain_block *chain_graph_head(const chain_graph *g, const char *node)
{
    chain_node *n = g_hash_table_lookup(g->nodes, node);
    return n ? n->head : NULL;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *chain_graph_nodes(const chain_graph *g)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, g->nodes);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(out, k);
    g_ptr_array_sort(out, cmp_str);
    return out;
}

GPtrArray *chain_graph_block_nodes(const chain_graph *g, const chain_block *b)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, g->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        chain_node *n = v;
        if (n->reachable && chain_graph_is_ancestor(g, b, n->head))
            g_ptr_array_add(out, n->name);
    }
    g_ptr_array_sort(out, cmp_str);
    return out;
}

/* ---- LIB and the public target ----------------------------------------------------- */

const chain_block *chain_graph_lib(const chain_graph *g)
{
    const chain_block *ca = NULL;
    gboolean any = FALSE;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, g->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        chain_node *n = v;
        if (!n->reachable || !n->head)
            continue;
        ca = any ? chain_graph_common_ancestor(g, ca, n->head) : n->head;
        any = TRUE;
        if (!ca)
            return NULL;
    }
    if (!any || !g->best)
        return NULL;
    ca = chain_graph_common_ancestor(g, ca, g->best); /* LIB must be canonical */
    if (!ca)
        return NULL;
    gint64 k = MAX(1, (gint64)g->cfg.lib_confirmations);
    gint64 limit = g->best->height - k + 1;
    if (ca->height > limit)
        ca = chain_ancestor(g, g->best, limit);
    return ca;
}

const chain_block *chain_graph_public_target(const chain_graph *g)
{
    GPtrArray *heads = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, g->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        chain_node *n = v;
        if (n->reachable && n->is_public && n->head)
            g_ptr_array_add(heads, n->head);
    }
    guint need = heads->len / 2 + 1;
    const chain_block *best = NULL;
    /* Along one head's chain, the number of heads sharing the ancestor at height x only
     * falls as x rises, so the highest majority height on that chain is a bisection. */
    for (guint i = 0; i < heads->len; i++) {
        const chain_block *hi_head = heads->pdata[i];
        gint64 lo = g->floor - 1, hi = hi_head->height; /* find max x in [floor, hi] agreeing */
        while (lo < hi) {
            gint64 mid = lo + (hi - lo + 1) / 2;
            const chain_block *a = chain_ancestor(g, hi_head, mid);
            guint count = 0;
            for (guint j = 0; j < heads->len; j++)
                if (chain_ancestor(g, heads->pdata[j], mid) == a)
                    count++;
            if (count >= need)
                lo = mid;
            else
                hi = mid - 1;
        }
        if (lo >= g->floor && (!best || lo > best->height))
            best = chain_ancestor(g, hi_head, lo);
    }
    g_ptr_array_free(heads, TRUE);
    return best;
}

/* ---- forks ----------------------------------------------------------------------- */

const chain_block *chain_stale_fork_point(const chain_graph *g, const chain_block *b,
                                          const chain_block **root)
{
    chain_block *mb = (chain_block *)b; /* the cache is not part of the graph's state */
    /* A block is never freed before its descendants except below the floor, so a cached
     * fork point at or above the floor is still alive. */
    if (mb->fork_point && mb->fork_height >= g->floor && chain_is_canonical(g, mb->fork_point) &&
        !chain_is_canonical(g, mb->branch_root)) {
        *root = mb->branch_root;
        return mb->fork_point;
    }
    const chain_block *fp = chain_graph_common_ancestor(g, b, g->best);
    if (!fp || fp == b)
        return NULL;
    mb->fork_point = (chain_block *)fp;
    mb->fork_height = fp->height;
    mb->branch_root = chain_ancestor(g, b, fp->height + 1);
    *root = mb->branch_root;
    return fp;
}

/* The fork containing b (b off the canonical chain): its branch root and fork point. */
static const chain_block *branch_root(const chain_graph *g, const chain_block *b,
                                      const chain_block **fork_point)
{
    const chain_block *root = NULL;
    *fork_point = chain_stale_fork_point(g, b, &root);
    return *fork_point ? root : NULL;
}

static gint cmp_fork(gconstpointer a, gconstpointer b)
{
    const chain_fork *fa = *(chain_fork *const *)a, *fb = *(chain_fork *const *)b;
    return strcmp(fa->branch_root, fb->branch_root);
}

GPtrArray *chain_graph_forks(const chain_graph *g)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(chain_fork_free);
    if (!g->best)
        return out;
    GHashTable *by_root = g_hash_table_new(g_direct_hash, g_direct_equal); /* root -> tip */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, g->tips);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        const chain_block *t = k, *fp;
        if (t == g->best)
            continue;
        const chain_block *root = branch_root(g, t, &fp);
        if (!root)
            continue;
        const chain_block *cur = g_hash_table_lookup(by_root, root);
        if (!cur || chain_block_better(t, cur))
            g_hash_table_insert(by_root, (gpointer)root, (gpointer)t);
    }
    GHashTable *names = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                              (GDestroyNotify)g_ptr_array_unref);
    g_hash_table_iter_init(&it, g->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        chain_node *n = v;
        const chain_block *fp;
        if (!n->reachable || !n->head || chain_is_canonical(g, n->head))
            continue;
        const chain_block *root = branch_root(g, n->head, &fp);
        if (!root || !g_hash_table_contains(by_root, root))
            continue;
        GPtrArray *list = g_hash_table_lookup(names, root);
        if (!list) {
            list = g_ptr_array_new();
            g_hash_table_insert(names, (gpointer)root, list);
        }
        g_ptr_array_add(list, n->name);
    }
    g_hash_table_iter_init(&it, by_root);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const chain_block *root = k, *tip = v;
        chain_fork *f = g_new0(chain_fork, 1);
        memcpy(f->branch_root, root->hash, CHAIN_HASH_BUF);
        memcpy(f->tip, tip->hash, CHAIN_HASH_BUF);
        f->tip_height = tip->height;
        memcpy(f->fork_point, root->parent_hash, CHAIN_HASH_BUF);
        f->fork_height = root->height - 1;
        f->length = tip->height - f->fork_height;
        GPtrArray *list = g_hash_table_lookup(names, root);
        guint nn = list ? list->len : 0;
        if (list)
            g_ptr_array_sort(list, cmp_str);
        f->nodes = g_new0(char *, nn + 1);
        for (guint i = 0; i < nn; i++)
            f->nodes[i] = g_strdup(list->pdata[i]);
        g_ptr_array_add(out, f);
    }
    g_hash_table_destroy(names);
    g_hash_table_destroy(by_root);
    g_ptr_array_sort(out, cmp_fork);
    return out;
}

static void fill_fork_event(chain_event *e, const chain_fork *f)
{
    chain_event_fork *ef = &e->u.fork;
    memcpy(ef->branch_root, f->branch_root, CHAIN_HASH_BUF);
    memcpy(ef->tip, f->tip, CHAIN_HASH_BUF);
    ef->tip_height = f->tip_height;
    memcpy(ef->fork_point, f->fork_point, CHAIN_HASH_BUF);
    ef->fork_height = f->fork_height;
    ef->length = f->length;
    ef->nodes = g_strdupv(f->nodes);
}

/* The live forks from the reachable nodes' heads alone, O(nodes x log n) however many
 * stale tips the graph holds: branch root hash -> chain_fork whose tip is the most-work
 * head on the branch. */
static GHashTable *live_forks(const chain_graph *g)
{
    GHashTable *live = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, chain_fork_free);
    GHashTable *tips = g_hash_table_new(g_str_hash, g_str_equal); /* root -> best head */
    GPtrArray *names = chain_graph_nodes(g); /* sorted, so node lists come out sorted */
    for (guint i = 0; i < names->len; i++) {
        chain_node *n = g_hash_table_lookup(g->nodes, names->pdata[i]);
        const chain_block *fp;
        if (!n->reachable || !n->head || chain_is_canonical(g, n->head))
            continue;
        const chain_block *root = branch_root(g, n->head, &fp);
        if (!root)
            continue;
        chain_fork *f = g_hash_table_lookup(live, root->hash);
        const chain_block *best = g_hash_table_lookup(tips, root->hash);
        if (!f) {
            f = g_new0(chain_fork, 1);
            memcpy(f->branch_root, root->hash, CHAIN_HASH_BUF);
            memcpy(f->fork_point, fp->hash, CHAIN_HASH_BUF);
            f->fork_height = fp->height;
            f->nodes = g_new0(char *, 1);
            g_hash_table_insert(live, f->branch_root, f);
        }
        if (!best || chain_block_better(n->head, best)) {
            g_hash_table_insert(tips, f->branch_root, n->head);
            memcpy(f->tip, n->head->hash, CHAIN_HASH_BUF);
            f->tip_height = n->head->height;
            f->length = f->tip_height - f->fork_height;
        }
        guint len = g_strv_length(f->nodes);
        f->nodes = g_renew(char *, f->nodes, len + 2);
        f->nodes[len] = g_strdup(n->name);
        f->nodes[len + 1] = NULL;
    }
    g_ptr_array_free(names, TRUE);
    g_hash_table_destroy(tips);
    return live;
}

guint chain_graph_update_forks(chain_graph *g, guint64 cycle, GPtrArray *events)
{
    guint emitted = 0;
    GHashTable *live = live_forks(g);
    GPtrArray *fresh = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, live);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!g_hash_table_contains(g->live_forks, k))
            g_ptr_array_add(fresh, v);
    g_ptr_array_sort(fresh, cmp_fork);
    for (guint i = 0; i < fresh->len; i++) {
        emitted++;
        if (events) {
            chain_event *e = chain_event_new(CHAIN_EVENT_FORK_DETECTED, cycle, NULL);
            fill_fork_event(e, fresh->pdata[i]);
            g_ptr_array_add(events, e);
        }
    }
    g_ptr_array_free(fresh, TRUE);
    GPtrArray *gone = g_ptr_array_new();
    g_hash_table_iter_init(&it, g->live_forks);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!g_hash_table_contains(live, k))
            g_ptr_array_add(gone, v);
    g_ptr_array_sort(gone, cmp_fork);
    for (guint i = 0; i < gone->len; i++) {
        const chain_fork *f = gone->pdata[i];
        emitted++;
        if (!events)
            continue;
        chain_event *e = chain_event_new(CHAIN_EVENT_FORK_RESOLVED, cycle, NULL);
        fill_fork_event(e, f);
        const chain_block *root = chain_graph_block(g, f->branch_root);
        e->u.fork.resolution = !root ? "pruned"
                               : chain_is_canonical(g, root) ? "canonical" : "abandoned";
        g_ptr_array_add(events, e);
    }
    g_ptr_array_free(gone, TRUE);
    g_hash_table_destroy(g->live_forks);
    g->live_forks = live;
    return emitted;
}
