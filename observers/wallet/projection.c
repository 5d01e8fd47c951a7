/* projection.c: per-header wallet states. A header's outputs are a persistent map plus a
 * short chain of the changes of the blocks since that map was made (wp_delta): a new block
 * costs its own changes (outputs created and spent, transaction by transaction, so outputs
 * created and spent inside one block are handled), and only every WP_CHAIN_MAX-th header
 * of a branch applies the chain to a new map version, in one edit (the persistent map's
 * path copies are the costly part: one edit shares them between all its blocks). The
 * changes are also kept per wallet as "touches" so moving the canonical tip reports
 * events without recomputing anything. Headers form a tree (children linked) so folding
 * below LIB drops exactly the headers it drops. */
#include <string.h>
#include "wallet/projection.h"
#include "wallet/utxo_map.h"
#include <tf/error.h>

/* One change of a block to its header's outputs: an output created, or one spent (u is
 * the output the spend removed; an output replacing one of the same key (pre-BIP30) is
 * a spend of the old one, then a creation). */
typedef struct {
    guint32 h;          /* utxo_map_key_hash of u's key */
    gboolean spent;
    wallet_utxo *u;     /* ref */
} wp_change;

/* The changes of one block, linked to those of the blocks before it back to the header
 * whose map they apply to. Immutable, atomically refcounted (the states holding it may be
 * released on any thread). */
typedef struct wp_delta {
    gint ref;
    guint len;                /* deltas in the chain, this one included */
    guint n_chain;            /* changes in the chain, this delta's included */
    struct wp_delta *parent;  /* ref; NULL: the map comes next */
    guint64 filter[4];        /* bit h & 255 of each change: most lookups skip the delta */
    guint64 chain[16];        /* bit (h >> 8) & 1023 of each change of the chain: most lookups
                                 of an output the chain did not touch skip it whole */
    guint n;
    wp_change c[];            /* block order */
} wp_delta;

/* A branch applies its chain of deltas to a new map version at this many deltas or
 * WP_CHAIN_CHANGES changes: a lookup scans at most that many filters and changes. */
#define WP_CHAIN_MAX 32
#define WP_CHAIN_CHANGES 512

typedef struct wp_states wp_states;

struct wallet_state {
    wp_states *hdr;     /* its header's states: their reference count is the state's */
    gint64 total;
    guint n;
    guint64 bit;        /* this wallet's bit in each output's wallet mask */
};

/* Every wallet's state at one header: one allocation and one (atomic) reference count, so
 * a new block allocates and a fold frees one, and the outputs are held once. */
struct wp_states {
    gint ref;
    char block[CHAIN_HASH_BUF];
    gint64 height;
    utxo_map *map;      /* every tracked wallet's outputs at the header, but for the changes
                           of `delta` (persistent: it shares unchanged nodes with others) */
    wp_delta *delta;    /* ref; NULL when map is the header's own */
    wallet_state s[];   /* one per wallet */
};

typedef enum { TOUCH_CREATED, TOUCH_SPENT } touch_kind;

typedef struct {
    guint wallet;
    touch_kind kind;
    wallet_utxo *utxo;  /* ref */
} wp_touch;

typedef struct {
    guint wallet;
    char txid[CHAIN_HASH_BUF];
    gint64 net;         /* received - spent, satoshis */
} wp_wtx;

typedef struct wp_node {
    char hash[CHAIN_HASH_BUF];
    gint64 height;
    struct wp_node *parent;   /* NULL for the root */
    struct wp_node *child;    /* first child; the others follow by sibling */
    struct wp_node *sibling;
    wp_states *states;        /* ref */
    wp_touch *touches;        /* block order; in the node's allocation, after it */
    guint n_touches;
    guint n_wtxs;
    wp_wtx *wtxs;             /* block order; in the node's allocation, after the touches */
} wp_node;

struct wallet_projection {
    wallet_projection_config cfg;
    GPtrArray *names;         /* char* */
    GHashTable *addr_mask;    /* address -> guint64* bitmask of wallets */
    GHashTable *nodes;        /* hash -> wp_node* (owned) */
    wp_node *root, *tip;
    GArray *folded;           /* wp_folded: wallet txs folded into the checkpoint, in fold order */
    GHashTable *pending;      /* "txid:vout" set */
    guint64 edits;            /* the utxo_map edit of the last chain applied to a map */
    wp_change *changes;       /* scratch: the block being applied (moved to its delta) */
    guint n_changes, cap_changes;
    wp_touch *touches;        /* scratch: the block being applied (copied to its node) */
    guint n_touches, cap_touches;
    wp_wtx *wtxs;
    guint n_wtxs, cap_wtxs;
};

/* A wallet transaction folded below the root, and its height. */
typedef struct {
    gint64 height;
    char txid[CHAIN_HASH_BUF];
} wp_folded;

/* Copies a NUL-terminated hash or txid (at most CHAIN_HASH_BUF - 1 characters). */
static inline void copy_id(char *dst, const char *src)
{
    gsize len = strnlen(src, CHAIN_HASH_BUF - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* ---- outputs, changes and states ------------------------------------------------------ */

static void utxo_unref(gpointer u)
{
    wallet_utxo_unref(u);
}

static wp_delta *delta_ref(wp_delta *d)
{
    if (d)
        g_atomic_int_inc(&d->ref);
    return d;
}

static void delta_unref(wp_delta *d)
{
    while (d && g_atomic_int_dec_and_test(&d->ref)) {
        wp_delta *parent = d->parent;
        for (guint i = 0; i < d->n; i++)
            wallet_utxo_unref(d->c[i].u);
        g_free(d);
        d = parent;
    }
}

static inline gboolean filter_has(const guint64 *filter, guint32 h)
{
    return (filter[(h >> 6) & 3] >> (h & 63)) & 1;
}

static inline void filter_add(guint64 *filter, guint32 h)
{
    filter[(h >> 6) & 3] |= G_GUINT64_CONSTANT(1) << (h & 63);
}

static inline gboolean chain_has(const guint64 *chain, guint32 h)
{
    return (chain[(h >> 14) & 15] >> ((h >> 8) & 63)) & 1;
}

/* The latest of n changes to (txid, vout) (hash h): TRUE and *u, NULL when it was spent;
 * FALSE when none changes it. */
static gboolean changes_find(const wp_change *c, guint n, const char *txid, guint32 vout, guint32 h,
                             wallet_utxo **u)
{
    for (guint i = n; i-- > 0;)
        if (c[i].h == h && c[i].u->vout == vout && !strcmp(c[i].u->txid, txid)) {
            *u = c[i].spent ? NULL : c[i].u;
            return TRUE;
        }
    return FALSE;
}

/* The output (txid, vout) (hash h) of map changed by the chain d, or NULL. */
static wallet_utxo *view_lookup(const utxo_map *map, const wp_delta *d, const char *txid, guint32 vout,
                                guint32 h)
{
    wallet_utxo *u;
    if (d && !chain_has(d->chain, h))
        d = NULL;
    for (; d; d = d->parent)
        if (filter_has(d->filter, h) && changes_find(d->c, d->n, txid, vout, h, &u))
            return u;
    return (wallet_utxo *)utxo_map_lookup_hashed(map, txid, vout, h);
}

/* The nw wallets' states at a header whose outputs are map changed by delta (references
 * taken); totals and counts are the caller's to fill. */
static wp_states *states_new(const char *block, gint64 height, guint nw, utxo_map *map, wp_delta *delta)
{
    wp_states *h = g_malloc(sizeof *h + nw * sizeof(wallet_state));
    h->ref = 1;
    memcpy(h->block, block, CHAIN_HASH_BUF);
    h->height = height;
    h->map = utxo_map_ref(map);
    h->delta = delta_ref(delta);
    for (guint w = 0; w < nw; w++)
        h->s[w] = (wallet_state){.hdr = h, .bit = G_GUINT64_CONSTANT(1) << w};
    return h;
}

static void states_unref(wp_states *h)
{
    if (h && g_atomic_int_dec_and_test(&h->ref)) {
        utxo_map_unref(h->map);
        delta_unref(h->delta);
        g_free(h);
    }
}

wallet_state *wallet_state_ref(wallet_state *s)
{
    g_atomic_int_inc(&s->hdr->ref);
    return s;
}

void wallet_state_unref(wallet_state *s)
{
    if (s)
        states_unref(s->hdr);
}

const char *wallet_state_block(const wallet_state *s) { return s->hdr->block; }
gint64 wallet_state_height(const wallet_state *s) { return s->hdr->height; }
guint wallet_state_n_utxos(const wallet_state *s) { return s->n; }
gint64 wallet_state_total(const wallet_state *s) { return s->total; }

const wallet_utxo *wallet_state_lookup(const wallet_state *s, const char *txid, guint32 vout)
{
    const wallet_utxo *u = view_lookup(s->hdr->map, s->hdr->delta, txid, vout, utxo_map_key_hash(txid, vout));
    return u && (u->wallets & s->bit) ? u : NULL;
}

static gint cmp_utxo(gconstpointer a, gconstpointer b)
{
    const wallet_utxo *x = *(wallet_utxo *const *)a, *y = *(wallet_utxo *const *)b;
    int c = strcmp(x->txid, y->txid);
    return c ? c : (x->vout > y->vout) - (x->vout < y->vout);
}

/* A set of outputs by address (open addressing, at most half full): the outputs a state's
 * chain spent, which its listing skips. */
typedef struct {
    const wallet_utxo **slot;   /* NULL: no set */
    guint mask;
} utxo_set;

static inline guint utxo_set_at(const utxo_set *set, const wallet_utxo *u)
{
    return (guint)((((guint64)(guintptr)u >> 4) * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15)) >> 40) & set->mask;
}

static void utxo_set_add(utxo_set *set, const wallet_utxo *u)
{
    guint i = utxo_set_at(set, u);
    while (set->slot[i] && set->slot[i] != u)
        i = (i + 1) & set->mask;
    set->slot[i] = u;
}

static gboolean utxo_set_has(const utxo_set *set, const wallet_utxo *u)
{
    for (guint i = utxo_set_at(set, u); set->slot[i]; i = (i + 1) & set->mask)
        if (set->slot[i] == u)
            return TRUE;
    return FALSE;
}

typedef struct {
    gint64 tip_height, bal, imm, pend;
    guint64 bit;
    guint maturity;
    GHashTable *spends;
    utxo_set gone;      /* outputs the state's chain spent */
    GPtrArray *out;
} list_ctx;

static void list_one(const wallet_utxo *u, void *data)
{
    list_ctx *c = data;
    if (!(u->wallets & c->bit) || (c->gone.slot && utxo_set_has(&c->gone, u)))
        return;
    if (u->coinbase && c->tip_height - u->height + 1 < (gint64)c->maturity + 1) {
        c->imm += u->amount;
        return;
    }
    if (c->spends) {
        char key[CHAIN_HASH_BUF + 16];
        g_snprintf(key, sizeof key, "%s:%u", u->txid, u->vout);
        if (g_hash_table_contains(c->spends, key)) {
            c->pend += u->amount;
            return;
        }
    }
    c->bal += u->amount;
    g_ptr_array_add(c->out, (gpointer)u);
}

GPtrArray *wallet_state_list(const wallet_state *s, gint64 tip_height, const wallet_rule *rule,
                             gint64 *balance, gint64 *immature, gint64 *pending)
{
    list_ctx c = {.tip_height = tip_height, .bit = s->bit, .maturity = rule ? rule->coinbase_maturity : 100,
                  .spends = rule ? rule->pending_spends : NULL, .out = g_ptr_array_sized_new(s->n)};
    if (c.spends && !g_hash_table_size(c.spends))
        c.spends = NULL;
    /* An output object is created once and spent at most once along a chain, so the chain's
     * outputs are those it created that it did not spend, and the map's those it did not. */
    const wp_delta *chain = s->hdr->delta;
    guint n_spent = 0;
    for (const wp_delta *d = chain; d; d = d->parent)
        for (guint i = 0; i < d->n; i++)
            n_spent += d->c[i].spent;
    if (n_spent) {
        c.gone.mask = 15;
        while (c.gone.mask + 1 < 2 * n_spent)
            c.gone.mask = 2 * c.gone.mask + 1;
        c.gone.slot = g_new0(const wallet_utxo *, c.gone.mask + 1);
        for (const wp_delta *d = chain; d; d = d->parent)
            for (guint i = 0; i < d->n; i++)
                if (d->c[i].spent)
                    utxo_set_add(&c.gone, d->c[i].u);
    }
    for (const wp_delta *d = chain; d; d = d->parent)
        for (guint i = 0; i < d->n; i++)
            if (!d->c[i].spent)
                list_one(d->c[i].u, &c);
    utxo_map_foreach(s->hdr->map, list_one, &c);
    g_free(c.gone.slot);
    g_ptr_array_sort(c.out, cmp_utxo);
    if (balance)
        *balance = c.bal;
    if (immature)
        *immature = c.imm;
    if (pending)
        *pending = c.pend;
    return c.out;
}

gboolean wallet_state_balance_at_least(const wallet_state *s, gint64 tip_height,
                                       const wallet_rule *rule, gint64 amount)
{
    gint64 bal = 0;
    g_ptr_array_unref(wallet_state_list(s, tip_height, rule, &bal, NULL, NULL));
    return bal >= amount;
}

/* ---- the projection ------------------------------------------------------------------- */

void wallet_projection_config_init(wallet_projection_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->fold_depth = 100;
}

static void node_free(gpointer p)
{
    wp_node *n = p;
    for (guint i = 0; i < n->n_touches; i++)
        utxo_unref(n->touches[i].utxo);
    states_unref(n->states);
    g_free(n);
}

wallet_projection *wallet_projection_new(const wallet_projection_config *cfg)
{
    wallet_projection *p = g_new0(wallet_projection, 1);
    if (cfg)
        p->cfg = *cfg;
    else
        wallet_projection_config_init(&p->cfg);
    p->names = g_ptr_array_new_with_free_func(g_free);
    p->addr_mask = g_hash_table_new_full(wallet_str_hash, g_str_equal, g_free, g_free);
    p->nodes = g_hash_table_new(wallet_str_hash, g_str_equal);
    p->folded = g_array_new(FALSE, FALSE, sizeof(wp_folded));
    p->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return p;
}

void wallet_projection_free(wallet_projection *p)
{
    if (!p)
        return;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, p->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v))
        node_free(v);
    g_hash_table_unref(p->nodes);
    g_ptr_array_unref(p->names);
    g_hash_table_unref(p->addr_mask);
    g_free(p->changes);
    g_free(p->touches);
    g_free(p->wtxs);
    g_array_unref(p->folded);
    g_hash_table_unref(p->pending);
    g_free(p);
}

gboolean wallet_projection_add_wallet(wallet_projection *p, const char *name,
                                      const char *const *addresses, GError **error)
{
    if (g_hash_table_size(p->nodes)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "wallet %s: wallets are added before the first block (a later one would need a rescan)", name);
        return FALSE;
    }
    if (wallet_projection_wallet_index(p, name) >= 0 || p->names->len >= WALLET_MAX_WALLETS) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "wallet %s: %s", name,
                    p->names->len >= WALLET_MAX_WALLETS ? "too many wallets (64 at most)" : "already tracked");
        return FALSE;
    }
    guint w = p->names->len;
    g_ptr_array_add(p->names, g_strdup(name));
    for (const char *const *a = addresses; a && *a; a++) {
        guint64 *mask = g_hash_table_lookup(p->addr_mask, *a);
        if (!mask) {
            mask = g_new0(guint64, 1);
            g_hash_table_insert(p->addr_mask, g_strdup(*a), mask);
        }
        *mask |= G_GUINT64_CONSTANT(1) << w;
    }
    return TRUE;
}

guint wallet_projection_n_wallets(const wallet_projection *p) { return p->names->len; }

const char *wallet_projection_wallet_name(const wallet_projection *p, guint i)
{
    return i < p->names->len ? p->names->pdata[i] : NULL;
}

gint wallet_projection_wallet_index(const wallet_projection *p, const char *name)
{
    for (guint i = 0; i < p->names->len; i++)
        if (!strcmp(p->names->pdata[i], name))
            return (gint)i;
    return -1;
}

/* A block being applied: the parent's outputs (map and chain, borrowed), the filter of
 * the block's changes so far, and each wallet's count and total. */
typedef struct {
    utxo_map *map;
    wp_delta *delta;
    guint64 filter[4];
    gint64 height;
    gint64 total[WALLET_MAX_WALLETS];
    guint n[WALLET_MAX_WALLETS];
} wp_apply;

/* The output (txid, vout) (hash h) as the block being applied has left it, or NULL. */
static wallet_utxo *apply_lookup(const wallet_projection *p, const wp_apply *a, const char *txid,
                                 guint32 vout, guint32 h)
{
    wallet_utxo *u;
    if (filter_has(a->filter, h) && changes_find(p->changes, p->n_changes, txid, vout, h, &u))
        return u;
    return view_lookup(a->map, a->delta, txid, vout, h);
}

/* Records a change of the block being applied (a reference to u is taken). */
static void change(wallet_projection *p, wp_apply *a, guint32 h, gboolean spent, wallet_utxo *u)
{
    if (p->n_changes == p->cap_changes) {
        p->cap_changes = MAX(32u, 2 * p->cap_changes);
        p->changes = g_renew(wp_change, p->changes, p->cap_changes);
    }
    p->changes[p->n_changes++] = (wp_change){h, spent, wallet_utxo_ref(u)};
    filter_add(a->filter, h);
}

/* map (a reference is taken) with n changes applied under edit; returns the new version. */
static utxo_map *map_apply(utxo_map *map, const wp_change *c, guint n, guint64 edit)
{
    for (guint i = 0; i < n; i++)
        map = c[i].spent ? utxo_map_remove_edit(map, c[i].u->txid, c[i].u->vout, c[i].h, NULL, edit)
                         : utxo_map_insert_edit(map, wallet_utxo_ref(c[i].u), c[i].h, NULL, edit);
    return map;
}

static void touch(wallet_projection *p, guint w, touch_kind kind, wallet_utxo *u)
{
    if (p->n_touches == p->cap_touches) {
        p->cap_touches = MAX(32u, 2 * p->cap_touches);
        p->touches = g_renew(wp_touch, p->touches, p->cap_touches);
    }
    p->touches[p->n_touches++] = (wp_touch){w, kind, wallet_utxo_ref(u)};
}

/* Applies one transaction to the block being applied. */
static void apply_tx(wallet_projection *p, wp_apply *a, const wallet_tx *tx)
{
    guint64 touched = 0;
    gint64 net[WALLET_MAX_WALLETS];
    for (guint i = 0; i < tx->n_in; i++) {
        guint32 h = utxo_map_key_hash(tx->in[i].txid, tx->in[i].vout);
        wallet_utxo *u = apply_lookup(p, a, tx->in[i].txid, tx->in[i].vout, h);
        if (!u)
            continue;
        change(p, a, h, TRUE, u);
        for (guint64 bits = u->wallets; bits; bits &= bits - 1) {
            guint w = (guint)__builtin_ctzll(bits);
            if (!(touched & (G_GUINT64_CONSTANT(1) << w)))
                net[w] = 0;
            touch(p, w, TOUCH_SPENT, u);
            net[w] -= u->amount;
            a->total[w] -= u->amount;
            a->n[w]--;
        }
        touched |= u->wallets;
    }
    for (guint o = 0; o < tx->n_out; o++) {
        const wallet_txout *out = &tx->out[o];
        guint64 *mask = out->address ? g_hash_table_lookup(p->addr_mask, out->address) : NULL;
        if (!mask)
            continue;
        wallet_utxo *u = wallet_utxo_new(tx->txid, o, out->amount, out->address, a->height, tx->coinbase, *mask);
        guint32 h = utxo_map_key_hash(tx->txid, o);
        /* A duplicate txid:vout replaces the older output. Only coinbases are looked up: the
         * duplicates in bitcoin's history (before BIP30) are coinbases, and BIP30 forbids a
         * transaction whose txid has an unspent output. */
        wallet_utxo *old = tx->coinbase ? apply_lookup(p, a, tx->txid, o, h) : NULL;
        if (old) {
            change(p, a, h, TRUE, old);
            for (guint64 bits = old->wallets; bits; bits &= bits - 1) {
                guint w = (guint)__builtin_ctzll(bits);
                a->total[w] -= old->amount;
                a->n[w]--;
            }
        }
        change(p, a, h, FALSE, u);
        for (guint64 bits = *mask; bits; bits &= bits - 1) {
            guint w = (guint)__builtin_ctzll(bits);
            if (!(touched & (G_GUINT64_CONSTANT(1) << w)))
                net[w] = 0;
            touch(p, w, TOUCH_CREATED, u);
            net[w] += out->amount;
            a->total[w] += out->amount;
            a->n[w]++;
        }
        touched |= *mask;
        wallet_utxo_unref(u);
    }
    for (guint64 bits = touched; bits; bits &= bits - 1) {
        guint w = (guint)__builtin_ctzll(bits);
        if (p->n_wtxs == p->cap_wtxs) {
            p->cap_wtxs = MAX(16u, 2 * p->cap_wtxs);
            p->wtxs = g_renew(wp_wtx, p->wtxs, p->cap_wtxs);
        }
        wp_wtx *x = &p->wtxs[p->n_wtxs++];
        x->wallet = w;
        x->net = net[w];
        memcpy(x->txid, tx->txid, CHAIN_HASH_BUF);
    }
}

gboolean wallet_projection_add_block(wallet_projection *p, const wallet_block *b, GError **error)
{
    if (g_hash_table_contains(p->nodes, b->hash))
        return TRUE;
    wp_node *parent = NULL;
    if (p->root) {
        parent = g_hash_table_lookup(p->nodes, b->parent);
        if (!parent) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "wallet projection: block %s at height %" G_GINT64_FORMAT
                        ": parent %s is not held (add parents first; is it below the checkpoint?)",
                        b->hash, b->height, b->parent[0] ? b->parent : "(none)");
            return FALSE;
        }
        if (b->height != parent->height + 1) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "wallet projection: block %s: height %" G_GINT64_FORMAT " does not follow its "
                        "parent's %" G_GINT64_FORMAT, b->hash, b->height, parent->height);
            return FALSE;
        }
    }
    guint nw = p->names->len;
    wp_apply a = {.height = b->height};
    if (parent && nw) {
        a.map = parent->states->map;
        a.delta = parent->states->delta;
    }
    for (guint w = 0; parent && w < nw; w++) {
        a.total[w] = parent->states->s[w].total;
        a.n[w] = parent->states->s[w].n;
    }
    for (guint i = 0; i < b->n_tx; i++)
        apply_tx(p, &a, &b->tx[i]);
    utxo_map *map;
    wp_delta *delta;
    guint len = a.delta ? a.delta->len : 0, n_chain = a.delta ? a.delta->n_chain : 0;
    if (!p->n_changes) { /* nothing changed: the parent's outputs */
        map = utxo_map_ref(a.map);
        delta = delta_ref(a.delta);
    } else if (len + 1 >= WP_CHAIN_MAX || n_chain + p->n_changes >= WP_CHAIN_CHANGES) {
        /* The chain, oldest first, and this block go into a new map version in one edit:
         * the nodes it copies change in place for the rest of it. */
        const wp_delta *chain[WP_CHAIN_MAX];
        guint k = 0;
        for (const wp_delta *d = a.delta; d; d = d->parent)
            chain[k++] = d;
        p->edits++;
        map = utxo_map_ref(a.map);
        while (k-- > 0)
            map = map_apply(map, chain[k]->c, chain[k]->n, p->edits);
        map = map_apply(map, p->changes, p->n_changes, p->edits);
        delta = NULL;
        for (guint i = 0; i < p->n_changes; i++)
            wallet_utxo_unref(p->changes[i].u);
    } else { /* the block's changes join the chain (their references move to it) */
        map = utxo_map_ref(a.map);
        delta = g_malloc(sizeof *delta + p->n_changes * sizeof(wp_change));
        delta->ref = 1;
        delta->len = len + 1;
        delta->n_chain = n_chain + p->n_changes;
        delta->parent = delta_ref(a.delta);
        memcpy(delta->filter, a.filter, sizeof delta->filter);
        for (guint i = 0; i < G_N_ELEMENTS(delta->chain); i++)
            delta->chain[i] = a.delta ? a.delta->chain[i] : 0;
        delta->n = p->n_changes;
        memcpy(delta->c, p->changes, p->n_changes * sizeof(wp_change));
        for (guint i = 0; i < delta->n; i++) {
            guint32 h = delta->c[i].h;
            delta->chain[(h >> 14) & 15] |= G_GUINT64_CONSTANT(1) << ((h >> 8) & 63);
        }
    }
    p->n_changes = 0;
    /* The node with its touches and wallet transactions after it: one allocation. */
    G_STATIC_ASSERT(sizeof(wp_node) % 8 == 0 && sizeof(wp_touch) % 8 == 0);
    wp_node *n = g_malloc(sizeof *n + p->n_touches * sizeof(wp_touch) + p->n_wtxs * sizeof(wp_wtx));
    copy_id(n->hash, b->hash);
    n->height = b->height;
    n->parent = parent;
    n->child = n->sibling = NULL;
    if (parent) {
        n->sibling = parent->child;
        parent->child = n;
    }
    n->states = states_new(n->hash, n->height, nw, map, delta);
    for (guint w = 0; w < nw; w++) {
        n->states->s[w].total = a.total[w];
        n->states->s[w].n = a.n[w];
    }
    utxo_map_unref(map);
    delta_unref(delta);
    n->n_touches = p->n_touches;
    n->touches = (wp_touch *)(n + 1);
    n->n_wtxs = p->n_wtxs;
    n->wtxs = (wp_wtx *)(n->touches + p->n_touches);
    if (p->n_touches) /* (the scratch arrays are NULL until first used) */
        memcpy(n->touches, p->touches, p->n_touches * sizeof(wp_touch));
    if (p->n_wtxs)
        memcpy(n->wtxs, p->wtxs, p->n_wtxs * sizeof(wp_wtx));
    p->n_touches = p->n_wtxs = 0;
    g_hash_table_insert(p->nodes, n->hash, n);
    if (!p->root)
        p->root = n;
    return TRUE;
}

gboolean wallet_projection_has(const wallet_projection *p, const char *hash)
{
    return g_hash_table_contains(p->nodes, hash);
}

const char *wallet_projection_root(const wallet_projection *p) { return p->root ? p->root->hash : ""; }
gint64 wallet_projection_root_height(const wallet_projection *p) { return p->root ? p->root->height : -1; }
guint wallet_projection_size(const wallet_projection *p) { return g_hash_table_size(p->nodes); }
const char *wallet_projection_tip(const wallet_projection *p) { return p->tip ? p->tip->hash : ""; }
gint64 wallet_projection_tip_height(const wallet_projection *p) { return p->tip ? p->tip->height : -1; }

wallet_state *wallet_projection_state(const wallet_projection *p, const char *hash, guint wallet)
{
    wp_node *n = hash ? g_hash_table_lookup(p->nodes, hash) : NULL;
    return n && wallet < p->names->len ? &n->states->s[wallet] : NULL;
}

/* ---- moving the tip --------------------------------------------------------------------- */

/* Slot i of batch b as an event of `kind` for wallet w in block n. */
static wallet_event *event_at(wallet_event_batch *b, guint i, wallet_event_kind kind, guint w,
                              const wp_node *n)
{
    wallet_event *ev = wallet_event_batch_take(b, i, kind, w);
    memcpy(ev->block, n->hash, CHAIN_HASH_BUF);
    ev->height = n->height;
    return ev;
}

/* Room for k more events at the end of events: the slots to fill. */
static gpointer *events_grow(GPtrArray *events, guint k)
{
    guint at = events->len;
    g_ptr_array_set_size(events, at + k);
    return &events->pdata[at];
}

/* The events of one block, in one allocation: k of them (> 0), to be taken in order. */
static wallet_event_batch *events_batch(const wallet_projection *p, guint k)
{
    return wallet_event_batch_new(k, (const char *const *)p->names->pdata, p->names->len);
}

static void emit_disconnect(wallet_projection *p, const wp_node *n, GPtrArray *events)
{
    guint k = n->n_wtxs;
    for (guint i = 0; i < n->n_touches; i++)
        k += n->touches[i].kind == TOUCH_CREATED;
    if (!k)
        return;
    wallet_event_batch *b = events_batch(p, k);
    gpointer *slot = events_grow(events, k);
    guint at = 0;
    for (guint i = n->n_touches; i-- > 0;) {
        const wp_touch *t = &n->touches[i];
        if (t->kind != TOUCH_CREATED)
            continue;
        wallet_event *ev = event_at(b, at++, WALLET_EVENT_UTXO_REVERTED_BY_REORG, t->wallet, n);
        memcpy(ev->txid, t->utxo->txid, CHAIN_HASH_BUF);
        ev->vout = t->utxo->vout;
        ev->amount = t->utxo->amount;
        *slot++ = ev;
    }
    for (guint i = n->n_wtxs; i-- > 0;) {
        const wp_wtx *x = &n->wtxs[i];
        wallet_event *ev = event_at(b, at++, WALLET_EVENT_TX_DROPPED_BY_REORG, x->wallet, n);
        memcpy(ev->txid, x->txid, CHAIN_HASH_BUF);
        ev->amount = x->net;
        *slot++ = ev;
    }
}

static void emit_connect(wallet_projection *p, const wp_node *n, GPtrArray *events)
{
    guint k = n->n_wtxs + n->n_touches, at = 0;
    if (!k)
        return;
    wallet_event_batch *b = events_batch(p, k);
    gpointer *slot = events_grow(events, k);
    for (guint i = 0; i < n->n_wtxs; i++) {
        const wp_wtx *x = &n->wtxs[i];
        wallet_event *ev = event_at(b, at++, WALLET_EVENT_TX_INCLUDED, x->wallet, n);
        memcpy(ev->txid, x->txid, CHAIN_HASH_BUF);
        ev->amount = x->net;
        *slot++ = ev;
    }
    for (guint i = 0; i < n->n_touches; i++) {
        const wp_touch *t = &n->touches[i];
        wallet_event *ev = event_at(b, at++, t->kind == TOUCH_CREATED ? WALLET_EVENT_UTXO_CREATED
                                                                      : WALLET_EVENT_UTXO_SPENT, t->wallet, n);
        memcpy(ev->txid, t->utxo->txid, CHAIN_HASH_BUF);
        ev->vout = t->utxo->vout;
        ev->amount = t->utxo->amount;
        *slot++ = ev;
    }
}

gboolean wallet_projection_set_tip(wallet_projection *p, const char *hash, GPtrArray *events,
                                   GError **error)
{
    wp_node *to = g_hash_table_lookup(p->nodes, hash);
    if (!to) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "wallet projection: tip %s is not held", hash);
        return FALSE;
    }
    wp_node *from = p->tip;
    if (from == to)
        return TRUE;
    if (from && to->parent == from) { /* the common case: one block on top */
        if (events)
            emit_connect(p, to, events);
        p->tip = to;
        return TRUE;
    }
    /* Walk both sides down to the common ancestor (NULL: below the root). */
    wp_node *a = from, *b = to;
    GPtrArray *down = g_ptr_array_new(), *up = g_ptr_array_new();
    while (a && b && a != b) {
        if (a->height >= b->height) {
            g_ptr_array_add(down, a);
            a = a->parent;
        } else {
            g_ptr_array_add(up, b);
            b = b->parent;
        }
    }
    if (!a) /* no old tip (or it forked below the root): the new chain from the root */
        while (b) {
            g_ptr_array_add(up, b);
            b = b->parent;
        }
    if (events) {
        for (guint i = 0; i < down->len; i++)
            emit_disconnect(p, down->pdata[i], events);
        for (guint i = up->len; i-- > 0;)
            emit_connect(p, up->pdata[i], events);
    }
    g_ptr_array_unref(down);
    g_ptr_array_unref(up);
    p->tip = to;
    return TRUE;
}

/* ---- unconfirmed transactions ---------------------------------------------------------- */

void wallet_projection_set_unconfirmed(wallet_projection *p, const wallet_tx *const *txs, guint n)
{
    g_hash_table_remove_all(p->pending);
    for (guint i = 0; i < n; i++)
        for (guint j = 0; j < txs[i]->n_in; j++)
            g_hash_table_add(p->pending, g_strdup_printf("%s:%u", txs[i]->in[j].txid, txs[i]->in[j].vout));
}

GHashTable *wallet_projection_pending_spends(const wallet_projection *p)
{
    return p->pending;
}

/* ---- queries ------------------------------------------------------------------------------ */

gint64 wallet_projection_tx_confirmations(const wallet_projection *p, const char *tip,
                                          const char *txid)
{
    wp_node *t = g_hash_table_lookup(p->nodes, tip);
    if (!t)
        return -1;
    /* A walk over the held chain (no index to keep up per block: this is a query). */
    for (const wp_node *n = t; n; n = n->parent)
        for (guint i = 0; i < n->n_wtxs; i++)
            if (!strcmp(n->wtxs[i].txid, txid))
                return t->height - n->height + 1;
    for (guint i = p->folded->len; i-- > 0;) { /* the latest fold of a txid counts */
        const wp_folded *f = &g_array_index(p->folded, wp_folded, i);
        if (!strcmp(f->txid, txid))
            return t->height - f->height + 1;
    }
    return 0;
}

gboolean wallet_projection_tx_included(const wallet_projection *p, const char *txid, guint k)
{
    if (!p->tip)
        return FALSE;
    gint64 c = wallet_projection_tx_confirmations(p, p->tip->hash, txid);
    return c >= 1 && c >= (gint64)k;
}

static void states_array_free(gpointer p)
{
    for (wallet_state **s = p; *s; s++)
        wallet_state_unref(*s);
    g_free(p);
}

GHashTable *wallet_projection_states_copy(const wallet_projection *p)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, states_array_free);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, p->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const wp_node *n = v;
        wallet_state **arr = g_new0(wallet_state *, p->names->len + 1);
        for (guint w = 0; w < p->names->len; w++)
            arr[w] = wallet_state_ref(&n->states->s[w]);
        g_hash_table_insert(t, g_strdup(n->hash), arr);
    }
    return t;
}

static void put_conf(GHashTable *t, const char *txid, gint64 conf)
{
    if (g_hash_table_contains(t, txid))
        return;
    gint64 *c = g_new(gint64, 1);
    *c = conf;
    g_hash_table_insert(t, g_strdup(txid), c);
}

GHashTable *wallet_projection_canonical_txs(const wallet_projection *p)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!p->tip)
        return t;
    for (const wp_node *n = p->tip; n; n = n->parent)
        for (guint i = 0; i < n->n_wtxs; i++)
            put_conf(t, n->wtxs[i].txid, p->tip->height - n->height + 1);
    for (guint i = p->folded->len; i-- > 0;) { /* latest first: put_conf keeps the first */
        const wp_folded *f = &g_array_index(p->folded, wp_folded, i);
        put_conf(t, f->txid, p->tip->height - f->height + 1);
    }
    return t;
}

/* ---- folding ------------------------------------------------------------------------------- */

/* Forgets node n (not yet freed): a dropped tip is unset. */
static void node_unlink(wallet_projection *p, wp_node *n)
{
    if (p->tip == n)
        p->tip = NULL;
    g_hash_table_remove(p->nodes, n->hash);
}

/* Drops n and every header above it; returns how many. */
static guint drop_subtree(wallet_projection *p, wp_node *n)
{
    guint dropped = 0;
    GPtrArray *stack = g_ptr_array_new();
    g_ptr_array_add(stack, n);
    while (stack->len) {
        wp_node *x = g_ptr_array_steal_index_fast(stack, stack->len - 1);
        for (wp_node *c = x->child; c; c = c->sibling)
            g_ptr_array_add(stack, c);
        node_unlink(p, x);
        node_free(x);
        dropped++;
    }
    g_ptr_array_unref(stack);
    return dropped;
}

guint wallet_projection_fold(wallet_projection *p, const char *lib)
{
    wp_node *l = lib ? g_hash_table_lookup(p->nodes, lib) : NULL;
    if (!l || l->height - (gint64)p->cfg.fold_depth <= p->root->height)
        return 0;
    gint64 target = l->height - (gint64)p->cfg.fold_depth;
    /* Up from the root while it has one child (every held header then descends from that
     * child, lib too): the usual fold, one block at a time, is one step. Else down from lib. */
    wp_node *root = p->root;
    while (root->height < target && root->child && !root->child->sibling)
        root = root->child;
    if (root->height != target)
        for (root = l; root->height > target;)
            root = root->parent;
    /* Below the new root every header goes: the old canonical path (its transactions keep
     * their height) and each branch off it other than the one leading to the new root.
     * Every held header descends from the old root, so nothing else goes. */
    guint dropped = 0;
    GPtrArray *path = g_ptr_array_new(); /* freed last: each is the kept child one step down */
    for (wp_node *keep = root, *n = root->parent; n; keep = n, n = n->parent) {
        guint at = p->folded->len;
        g_array_set_size(p->folded, at + n->n_wtxs);
        for (guint i = 0; i < n->n_wtxs; i++) {
            wp_folded *f = &g_array_index(p->folded, wp_folded, at + i);
            f->height = n->height;
            memcpy(f->txid, n->wtxs[i].txid, CHAIN_HASH_BUF);
        }
        for (wp_node *c = n->child, *next; c; c = next) {
            next = c->sibling;
            if (c != keep)
                dropped += drop_subtree(p, c);
        }
        node_unlink(p, n);
        g_ptr_array_add(path, n);
    }
    for (guint i = 0; i < path->len; i++)
        node_free(path->pdata[i]);
    dropped += path->len;
    g_ptr_array_unref(path);
    root->parent = NULL;
    root->sibling = NULL;
    p->root = root;
    return dropped;
}
