/* graph.c: the block graph's headers and ancestry: adding headers (with orphans kept
 * until their parent arrives), the skip-list ancestor walk that keeps is_ancestor and
 * common_ancestor O(log n), and the canonical-chain queries built on it. */
#include "chain/graph_priv.h"

#include <string.h>
#include "tf/error.h"

void chain_graph_config_init(chain_graph_config *c)
{
    c->lib_confirmations = 6;
    c->retained_depth = 100;
    c->base_height = -1;
    c->max_orphans = 4096;
}

static void bucket_free(void *p)
{
    chain_bucket *bk = p;
    g_ptr_array_free(bk->blocks, TRUE);
    g_free(bk);
}

static void block_free(void *p)
{
    chain_block *b = p;
    g_strfreev(b->txids);
    g_free(b);
}

static void pending_free(void *p)
{
    chain_pending *o = p;
    g_free(o->node);
    g_free(o);
}

static void node_free(void *p)
{
    chain_node *n = p;
    g_free(n->name);
    g_free(n);
}

chain_graph *chain_graph_new(const chain_graph_config *config)
{
    chain_graph *g = g_new0(chain_graph, 1);
    if (config)
        g->cfg = *config;
    else
        chain_graph_config_init(&g->cfg);
    g->blocks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, block_free);
    g->by_height = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, bucket_free);
    g->tips = g_hash_table_new(g_direct_hash, g_direct_equal);
    g->floor = -1;
    g->orphans = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, pending_free);
    g->orphans_by_parent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                 (GDestroyNotify)g_ptr_array_unref);
    g_queue_init(&g->orphan_order);
    g->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, node_free);
    g->tx_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_ptr_array_unref);
    g->live_forks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, chain_fork_free);
    return g;
}

void chain_graph_free(chain_graph *g)
{
    if (!g)
        return;
    g_hash_table_destroy(g->live_forks);
    g_hash_table_destroy(g->tx_index);
    g_hash_table_destroy(g->nodes);
    g_hash_table_destroy(g->orphans_by_parent);
    g_queue_clear(&g->orphan_order);
    g_hash_table_destroy(g->orphans);
    g_hash_table_destroy(g->tips);
    g_hash_table_destroy(g->by_height);
    g_hash_table_destroy(g->blocks);
    g_free(g);
}

void chain_fork_free(void *p)
{
    chain_fork *f = p;
    if (!f)
        return;
    g_strfreev(f->nodes);
    g_free(f);
}

/* ---- headers ---------------------------------------------------------------------- */

static gboolean is_hash(const char *s)
{
    if (!s || strlen(s) != 64)
        return FALSE;
    for (int i = 0; i < 64; i++)
        if (!g_ascii_isxdigit(s[i]))
            return FALSE;
    return TRUE;
}

gboolean chain_header_from_json(const json_t *obj, chain_header *out, GError **error)
{
    if (!json_is_object(obj)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "chain header: not a JSON object");
        return FALSE;
    }
    const char *str_fields[] = {"hash", "chainwork"};
    for (int i = 0; i < 2; i++) {
        if (!json_is_string(json_object_get(obj, str_fields[i]))) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                        "chain header: field '%s': missing or not a string", str_fields[i]);
            return FALSE;
        }
    }
    const char *int_fields[] = {"height", "time"};
    for (int i = 0; i < 2; i++) {
        if (!json_is_integer(json_object_get(obj, int_fields[i]))) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                        "chain header: field '%s': missing or not an integer", int_fields[i]);
            return FALSE;
        }
    }
    json_t *prev = json_object_get(obj, "previousblockhash");
    if (prev && !json_is_string(prev) && !json_is_null(prev)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                    "chain header: field 'previousblockhash': not a string");
        return FALSE;
    }
    out->hash = json_string_value(json_object_get(obj, "hash"));
    out->chainwork = json_string_value(json_object_get(obj, "chainwork"));
    out->height = json_integer_value(json_object_get(obj, "height"));
    out->time = json_integer_value(json_object_get(obj, "time"));
    out->parent_hash = json_is_string(prev) ? json_string_value(prev) : NULL;
    return TRUE;
}

/* Bitcoin's skip-height schedule: every block jumps to a height with its low bits
 * cleared, which makes any ancestor reachable in O(log n) hops. */
static gint64 invert_lowest_one(gint64 n)
{
    return n & (n - 1);
}

static gint64 skip_height(gint64 h)
{
    if (h < 2)
        return 0;
    return (h & 1) ? invert_lowest_one(invert_lowest_one(h - 1)) + 1 : invert_lowest_one(h);
}

chain_block *chain_ancestor(const chain_graph *g, const chain_block *b, gint64 height)
{
    if (!b || height > b->height || height < g->floor)
        return NULL;
    const chain_block *walk = b;
    gint64 hw = b->height;
    while (hw > height) {
        gint64 hs = skip_height(hw);
        gint64 hsp = skip_height(hw - 1);
        /* Follow skip only if the parent's skip is not the better hop (bitcoin's rule).
         * hs >= height >= floor, so a followed skip is never a freed block. */
        if (walk->skip && (hs == height || (hs > height && !(hsp < hs - 2 && hsp >= height)))) {
            walk = walk->skip;
            hw = hs;
        } else {
            if (!walk->parent)
                return NULL;
            walk = walk->parent;
            hw--;
        }
    }
    return (chain_block *)walk;
}

gboolean chain_block_better(const chain_block *a, const chain_block *b)
{
    int c = chain_work_cmp(&a->work, &b->work);
    if (c != 0)
        return c > 0;
    if (a->seq != b->seq)
        return a->seq < b->seq;
    return strcmp(a->hash, b->hash) < 0;
}

gboolean chain_is_canonical(const chain_graph *g, const chain_block *b)
{
    return g->best && chain_ancestor(g, g->best, b->height) == b;
}

static chain_bucket *bucket_get(chain_graph *g, gint64 height)
{
    chain_bucket *bk = g_hash_table_lookup(g->by_height, &height);
    if (!bk) {
        bk = g_new0(chain_bucket, 1);
        bk->height = height;
        bk->blocks = g_ptr_array_new();
        g_hash_table_insert(g->by_height, &bk->height, bk);
    }
    return bk;
}

/* Links a validated header under parent (NULL only for the root). */
static chain_block *connect_block(chain_graph *g, const chain_pending *h, chain_block *parent,
                                  GPtrArray *events)
{
    chain_block *b = g_new0(chain_block, 1);
    memcpy(b->hash, h->hash, sizeof b->hash);
    memcpy(b->parent_hash, h->parent_hash, sizeof b->parent_hash);
    b->height = h->height;
    b->work = h->work;
    b->time = h->time;
    b->first_cycle = h->cycle;
    b->seq = h->seq;
    b->parent = parent;
    if (parent) {
        gint64 hs = skip_height(b->height);
        b->skip = hs >= g->floor ? chain_ancestor(g, parent, hs) : NULL;
        if (parent->n_children++ == 0)
            g_hash_table_remove(g->tips, parent);
    }
    g_hash_table_insert(g->blocks, b->hash, b);
    g_ptr_array_add(bucket_get(g, b->height)->blocks, b);
    g_hash_table_add(g->tips, b);
    if (!g->best || chain_block_better(b, g->best))
        g->best = b;
    if (events) {
        chain_event *e = chain_event_new(CHAIN_EVENT_BLOCK_DISCOVERED, h->cycle, h->node);
        memcpy(e->u.block.hash, b->hash, CHAIN_HASH_BUF);
        memcpy(e->u.block.parent_hash, b->parent_hash, CHAIN_HASH_BUF);
        e->u.block.height = b->height;
        e->u.block.time = b->time;
        chain_work_format(&b->work, e->u.block.chainwork);
        g_ptr_array_add(events, e);
    }
    return b;
}

void chain_pending_drop(chain_graph *g, chain_pending *p)
{
    GPtrArray *siblings = g_hash_table_lookup(g->orphans_by_parent, p->parent_hash);
    if (siblings) {
        g_ptr_array_remove_fast(siblings, p);
        if (siblings->len == 0)
            g_hash_table_remove(g->orphans_by_parent, p->parent_hash);
    }
    g_queue_delete_link(&g->orphan_order, p->order_link);
    g_hash_table_remove(g->orphans, p->hash); /* frees p */
}

static void orphan_keep(chain_graph *g, const chain_pending *h)
{
    if (g->cfg.max_orphans == 0)
        return;
    while (g_hash_table_size(g->orphans) >= g->cfg.max_orphans)
        chain_pending_drop(g, g_queue_peek_head(&g->orphan_order));
    chain_pending *p = g_new(chain_pending, 1);
    *p = *h;
    p->node = g_strdup(h->node);
    g_queue_push_tail(&g->orphan_order, p);
    p->order_link = g_queue_peek_tail_link(&g->orphan_order);
    g_hash_table_insert(g->orphans, p->hash, p);
    GPtrArray *siblings = g_hash_table_lookup(g->orphans_by_parent, p->parent_hash);
    if (!siblings) {
        siblings = g_ptr_array_new();
        g_hash_table_insert(g->orphans_by_parent, g_strdup(p->parent_hash), siblings);
    }
    g_ptr_array_add(siblings, p);
}

/* Connects every orphan that descends from `b`, breadth first. A waiting header whose
 * height contradicts its parent is dropped: it was malformed. */
static void connect_waiting(chain_graph *g, chain_block *b, GPtrArray *events)
{
    GQueue todo = G_QUEUE_INIT;
    g_queue_push_tail(&todo, b);
    chain_block *parent;
    while ((parent = g_queue_pop_head(&todo))) {
        GPtrArray *waiting = g_hash_table_lookup(g->orphans_by_parent, parent->hash);
        if (!waiting)
            continue;
        /* Copy out first: dropping the pendings edits the array. */
        GPtrArray *copy = g_ptr_array_copy(waiting, NULL, NULL);
        for (guint i = 0; i < copy->len; i++) {
            chain_pending p = *(chain_pending *)copy->pdata[i];
            p.node = g_strdup(p.node);
            chain_pending_drop(g, copy->pdata[i]);
            if (p.height == parent->height + 1)
                g_queue_push_tail(&todo, connect_block(g, &p, parent, events));
            g_free(p.node);
        }
        g_ptr_array_free(copy, TRUE);
    }
}

gboolean chain_graph_add_header(chain_graph *g, const chain_header *h, guint64 cycle,
                                const char *node, chain_add_status *status,
                                GPtrArray *events, GError **error)
{
    return chain_graph_add_header_work(g, h, NULL, cycle, node, status, events, error);
}

gboolean chain_graph_add_header_work(chain_graph *g, const chain_header *h, const chain_work *work,
                                     guint64 cycle, const char *node, chain_add_status *status,
                                     GPtrArray *events, GError **error)
{
    const char *parent_hash = h->parent_hash ? h->parent_hash : "";
    chain_pending p = {0};
    if (!is_hash(h->hash) || (parent_hash[0] && !is_hash(parent_hash))) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: header at height %" G_GINT64_FORMAT ": malformed hash",
                    node ? node : "chain", h->height);
        return FALSE;
    }
    if (work)
        p.work = *work;
    if (h->height < 0 || (!work && !chain_work_parse(h->chainwork, &p.work))) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: header %s: bad height or chainwork", node ? node : "chain", h->hash);
        return FALSE;
    }
    chain_add_status st;
    if (!status)
        status = &st;
    for (int i = 0; i < 64; i++) { /* hex digits: only A-F need lowering */
        char c = h->hash[i], q = parent_hash[0] ? parent_hash[i] : '\0';
        p.hash[i] = c >= 'A' && c <= 'F' ? (char)(c + 32) : c;
        p.parent_hash[i] = q >= 'A' && q <= 'F' ? (char)(q + 32) : q;
    }
    p.height = h->height;
    p.time = h->time;
    p.cycle = cycle;
    p.node = (char *)node;
    if (g_hash_table_contains(g->blocks, p.hash) || g_hash_table_contains(g->orphans, p.hash)) {
        *status = CHAIN_ADD_DUPLICATE;
        return TRUE;
    }
    chain_block *parent = parent_hash[0] ? g_hash_table_lookup(g->blocks, p.parent_hash) : NULL;
    if (parent && p.height != parent->height + 1) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: header %s: height %" G_GINT64_FORMAT " but parent is at %" G_GINT64_FORMAT,
                    node ? node : "chain", p.hash, p.height, parent->height);
        return FALSE;
    }
    if (!parent_hash[0] && g->has_root) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: header %s: no parent, but the graph already has a root",
                    node ? node : "chain", p.hash);
        return FALSE;
    }
    p.seq = g->next_seq++;
    chain_block *b;
    if (parent) {
        b = connect_block(g, &p, parent, events);
    } else if (!g->has_root && (g->cfg.base_height < 0 || p.height == g->cfg.base_height)) {
        g->has_root = TRUE;
        g->floor = p.height;
        b = connect_block(g, &p, NULL, events);
    } else if ((g->has_root && p.height <= g->floor) ||
               (!g->has_root && p.height < g->cfg.base_height)) {
        *status = CHAIN_ADD_BELOW_FLOOR;
        return TRUE;
    } else {
        orphan_keep(g, &p);
        *status = CHAIN_ADD_ORPHAN;
        return TRUE;
    }
    connect_waiting(g, b, events);
    *status = CHAIN_ADD_CONNECTED;
    return TRUE;
}

gboolean chain_graph_set_txids(chain_graph *g, const char *hash, const char *const *txids,
                               gsize n_txids, GError **error)
{
    chain_block *b = (chain_block *)chain_graph_block(g, hash);
    if (!b) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "chain: txids for %s: block unknown",
                    hash ? hash : "(null)");
        return FALSE;
    }
    chain_tx_unindex(g, b);
    g_strfreev(b->txids);
    b->txids = g_new0(char *, n_txids + 1);
    for (gsize i = 0; i < n_txids; i++) {
        b->txids[i] = g_ascii_strdown(txids[i], -1);
        GPtrArray *holders = g_hash_table_lookup(g->tx_index, b->txids[i]);
        if (!holders) {
            holders = g_ptr_array_new();
            g_hash_table_insert(g->tx_index, g_strdup(b->txids[i]), holders);
        }
        if (holders->len == 0 || holders->pdata[holders->len - 1] != b)
            g_ptr_array_add(holders, b);
    }
    return TRUE;
}

/* ---- queries ---------------------------------------------------------------------- */

const chain_block *chain_graph_block(const chain_graph *g, const char *hash)
{
    if (!hash || strlen(hash) != 64)
        return NULL;
    char lower[CHAIN_HASH_BUF];
    for (int i = 0; i <= 64; i++)
        lower[i] = g_ascii_tolower(hash[i]);
    return g_hash_table_lookup(g->blocks, lower);
}

guint chain_graph_block_count(const chain_graph *g)
{
    return g_hash_table_size(g->blocks);
}

guint chain_graph_orphan_count(const chain_graph *g)
{
    return g_hash_table_size(g->orphans);
}

gint64 chain_graph_floor(const chain_graph *g)
{
    return g->floor;
}

const chain_block *chain_graph_canonical_tip(const chain_graph *g)
{
    return g->best;
}

const chain_block *chain_graph_canonical_at(const chain_graph *g, gint64 height)
{
    return chain_ancestor(g, g->best, height);
}

GPtrArray *chain_graph_canonical_path(const chain_graph *g, gint64 from, gint64 to)
{
    GPtrArray *out = g_ptr_array_new();
    if (!g->best)
        return out;
    from = MAX(from, g->floor);
    to = MIN(to, g->best->height);
    if (from > to)
        return out;
    g_ptr_array_set_size(out, (guint)(to - from + 1));
    chain_block *b = chain_ancestor(g, g->best, to);
    for (gint64 h = to; h >= from; h--) {
        out->pdata[h - from] = b;
        if (h > from)
            b = b->parent;
    }
    return out;
}

gboolean chain_graph_is_ancestor(const chain_graph *g, const chain_block *a,
                                 const chain_block *b)
{
    return a && b && a->height <= b->height && chain_ancestor(g, b, a->height) == a;
}

const chain_block *chain_graph_common_ancestor(const chain_graph *g, const chain_block *a,
                                               const chain_block *b)
{
    if (!a || !b)
        return NULL;
    gint64 h = MIN(a->height, b->height);
    a = chain_ancestor(g, a, h);
    b = chain_ancestor(g, b, h);
    /* Forks are usually shallow: walk a few steps in lockstep, then bisect on height,
     * which costs O(log^2 n) however deep the fork is. */
    for (int step = 0; step < 16; step++) {
        if (!a || !b)
            return NULL;
        if (a == b)
            return a;
        if (h - 1 < g->floor)
            return NULL;
        a = a->parent;
        b = b->parent;
        h--;
    }
    if (!a || !b)
        return NULL;
    if (a == b)
        return a;
    gint64 lo = g->floor, hi = h; /* answer in [lo, hi); none if they differ at lo */
    if (chain_ancestor(g, a, lo) != chain_ancestor(g, b, lo))
        return NULL;
    while (hi - lo > 1) {
        gint64 mid = lo + (hi - lo) / 2;
        if (chain_ancestor(g, a, mid) == chain_ancestor(g, b, mid))
            lo = mid;
        else
            hi = mid;
    }
    return chain_ancestor(g, a, lo);
}

/* ---- block fields ----------------------------------------------------------------- */

const char *chain_block_hash(const chain_block *b) { return b->hash; }
const char *chain_block_parent_hash(const chain_block *b) { return b->parent_hash; }
gint64 chain_block_height(const chain_block *b) { return b->height; }
const chain_work *chain_block_work(const chain_block *b) { return &b->work; }
gint64 chain_block_time(const chain_block *b) { return b->time; }
guint64 chain_block_first_cycle(const chain_block *b) { return b->first_cycle; }
const char *const *chain_block_txids(const chain_block *b) { return (const char *const *)b->txids; }
