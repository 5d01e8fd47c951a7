/* sim.c: the deterministic chain simulator. Knowledge is one 64-bit mask per block (bit
 * i: node i has it), always closed under ancestry as in headers-first sync, so syncing a
 * group is a single pass over blocks in mining order (parents before children). */
#include "chain/sim.h"

#include <string.h>
#include "chain/rest.h"
#include "chain/work.h"
#include "tf/error.h"

typedef struct {
    char hash[65];
    gint parent;        /* index, -1 for genesis */
    gint64 height;
    chain_work chainwork;
    gint64 time;
    guint32 nonce;
    guint32 bits;       /* the compact target of its work */
    guint8 raw[CHAIN_HEADER_BYTES]; /* the serialized header; hash = its SHA-256d */
    char **txids;       /* coinbase first */
    guint64 known;      /* node bitmask */
} sim_block;

typedef struct {
    char name[16];
    guint head;
    guint group;
    gboolean lagging;
    gboolean online;
} sim_node;

struct chain_sim {
    guint32 seed;
    GRand *rand;
    GArray *blocks;     /* sim_block */
    sim_node nodes[CHAIN_SIM_MAX_NODES];
    guint n_nodes;
    guint best;
};

#define BLK(s, i) (&g_array_index((s)->blocks, sim_block, (i)))

static gboolean active(const sim_node *n)
{
    return n->online && !n->lagging;
}

/* a beats b for a node that holds b: strictly more work (a tie keeps the first). */
static gboolean more_work(const chain_sim *s, guint a, guint b)
{
    return chain_work_cmp(&BLK(s, a)->chainwork, &BLK(s, b)->chainwork) > 0;
}

static guint add_block(chain_sim *s, gint parent, guint64 work, const char *const *txids)
{
    sim_block b = {0};
    guint idx = s->blocks->len;
    b.parent = parent;
    chain_work w;
    b.bits = chain_work_to_bits(work);
    chain_work_from_bits(b.bits, &w); /* what the header's target is worth, as a node sums it */
    if (parent >= 0) {
        const sim_block *p = BLK(s, parent);
        b.height = p->height + 1;
        b.chainwork = p->chainwork;
        b.time = p->time + 150 + g_rand_int_range(s->rand, 0, 30);
    } else {
        b.time = 1296688602;
    }
    chain_work_add(&b.chainwork, &w);
    b.nonce = g_rand_int(s->rand);
    guint n_tx = 0;
    while (txids && txids[n_tx])
        n_tx++;
    b.txids = g_new0(char *, n_tx + 2);
    char *cb = g_strdup_printf("coinbase:%u:%u:%s:%u", s->seed, idx,
                               parent >= 0 ? BLK(s, parent)->hash : "genesis", b.nonce);
    b.txids[0] = g_compute_checksum_for_string(G_CHECKSUM_SHA256, cb, -1);
    g_free(cb);
    for (guint i = 0; i < n_tx; i++)
        b.txids[i + 1] = g_strdup(txids[i]);
    /* A real header: its hash is what a node computes, so REST readers can check it. */
    char *merkle = g_compute_checksum_for_string(G_CHECKSUM_SHA256, b.txids[0], -1);
    chain_bin_header_build(b.raw, 0x20000000, parent >= 0 ? BLK(s, parent)->hash : NULL, merkle,
                           (guint32)b.time, b.bits, b.nonce, b.hash);
    g_free(merkle);
    g_array_append_val(s->blocks, b);
    if (idx > 0 && more_work(s, idx, s->best))
        s->best = idx;
    return idx;
}

/* Gives block idx and all its ancestors to node i; moves its head if it is better. */
static void deliver(chain_sim *s, guint node, guint idx)
{
    guint64 bit = G_GUINT64_CONSTANT(1) << node;
    for (gint i = (gint)idx; i >= 0 && !(BLK(s, i)->known & bit); i = BLK(s, i)->parent)
        BLK(s, i)->known |= bit;
    if (more_work(s, idx, s->nodes[node].head))
        s->nodes[node].head = idx;
}

/* Shares every block among the active nodes of each group, in mining order. */
static void sync_groups(chain_sim *s)
{
    for (guint gi = 0; gi < s->n_nodes; gi++) {
        guint64 mask = 0;
        for (guint i = 0; i < s->n_nodes; i++)
            if (s->nodes[i].group == gi && active(&s->nodes[i]))
                mask |= G_GUINT64_CONSTANT(1) << i;
        if (!mask)
            continue;
        for (guint b = 0; b < s->blocks->len; b++) {
            sim_block *blk = BLK(s, b);
            guint64 newly = mask & ~blk->known;
            if (!(blk->known & mask) || !newly)
                continue;
            blk->known |= mask;
            for (guint i = 0; i < s->n_nodes; i++)
                if ((newly >> i) & 1 && more_work(s, b, s->nodes[i].head))
                    s->nodes[i].head = b;
        }
    }
}

chain_sim *chain_sim_new(guint32 seed, guint n_nodes)
{
    g_return_val_if_fail(n_nodes >= 1 && n_nodes <= CHAIN_SIM_MAX_NODES, NULL);
    chain_sim *s = g_new0(chain_sim, 1);
    s->seed = seed;
    s->rand = g_rand_new_with_seed(seed);
    s->blocks = g_array_new(FALSE, TRUE, sizeof(sim_block));
    s->n_nodes = n_nodes;
    add_block(s, -1, 2, NULL);
    BLK(s, 0)->known = n_nodes == 64 ? ~G_GUINT64_CONSTANT(0)
                                     : (G_GUINT64_CONSTANT(1) << n_nodes) - 1;
    for (guint i = 0; i < n_nodes; i++) {
        g_snprintf(s->nodes[i].name, sizeof s->nodes[i].name, "node%u", i);
        s->nodes[i].online = TRUE;
    }
    return s;
}

void chain_sim_free(chain_sim *s)
{
    if (!s)
        return;
    for (guint i = 0; i < s->blocks->len; i++)
        g_strfreev(BLK(s, i)->txids);
    g_array_free(s->blocks, TRUE);
    g_rand_free(s->rand);
    g_free(s);
}

guint chain_sim_n_nodes(const chain_sim *s) { return s->n_nodes; }

const char *chain_sim_node_name(const chain_sim *s, guint node)
{
    return node < s->n_nodes ? s->nodes[node].name : NULL;
}

const char *chain_sim_mine_block(chain_sim *s, guint node, guint64 work,
                                 const char *const *txids)
{
    g_return_val_if_fail(node < s->n_nodes && work > 0, NULL);
    sim_node *n = &s->nodes[node];
    if (!n->online)
        return NULL;
    guint idx = add_block(s, (gint)n->head, work, txids);
    deliver(s, node, idx);
    if (!n->lagging)
        for (guint i = 0; i < s->n_nodes; i++)
            if (i != node && s->nodes[i].group == n->group && active(&s->nodes[i]))
                deliver(s, i, idx);
    return BLK(s, idx)->hash;
}

const char *chain_sim_mine(chain_sim *s, guint node, guint n)
{
    const char *last = NULL;
    for (guint i = 0; i < n; i++)
        last = chain_sim_mine_block(s, node, 2, NULL);
    return last;
}

void chain_sim_partition(chain_sim *s, const guint *group_of)
{
    for (guint i = 0; i < s->n_nodes; i++)
        s->nodes[i].group = MIN(group_of[i], s->n_nodes - 1);
    sync_groups(s);
}

void chain_sim_heal(chain_sim *s)
{
    for (guint i = 0; i < s->n_nodes; i++)
        s->nodes[i].group = 0;
    sync_groups(s);
}

void chain_sim_set_lagging(chain_sim *s, guint node, gboolean lagging)
{
    g_return_if_fail(node < s->n_nodes);
    s->nodes[node].lagging = lagging;
    if (!lagging)
        sync_groups(s);
}

void chain_sim_set_online(chain_sim *s, guint node, gboolean online)
{
    g_return_if_fail(node < s->n_nodes);
    s->nodes[node].online = online;
    if (online)
        sync_groups(s);
}

static gint ancestor_at(const chain_sim *s, gint idx, gint64 height)
{
    while (idx >= 0 && BLK(s, idx)->height > height)
        idx = BLK(s, idx)->parent;
    return idx;
}

void chain_sim_advance(chain_sim *s, guint node, guint n)
{
    g_return_if_fail(node < s->n_nodes);
    sim_node *me = &s->nodes[node];
    gint target = -1;
    for (guint i = 0; i < s->n_nodes; i++) {
        if (i == node || s->nodes[i].group != me->group || !active(&s->nodes[i]))
            continue;
        if (target < 0 || more_work(s, s->nodes[i].head, (guint)target))
            target = (gint)s->nodes[i].head;
    }
    if (target < 0)
        return;
    gint64 h = MIN(BLK(s, target)->height, BLK(s, me->head)->height + (gint64)n);
    deliver(s, node, (guint)ancestor_at(s, target, h));
}

guint chain_sim_block_count(const chain_sim *s) { return s->blocks->len; }

const char *chain_sim_block_hash(const chain_sim *s, guint idx)
{
    return idx < s->blocks->len ? BLK(s, idx)->hash : NULL;
}

gint chain_sim_block_index(const chain_sim *s, const char *hash)
{
    /* Linear on purpose: the simulator is the slow, obviously right reference. */
    for (guint i = 0; hash && i < s->blocks->len; i++)
        if (strcmp(BLK(s, i)->hash, hash) == 0)
            return (gint)i;
    return -1;
}

gint64 chain_sim_block_height(const chain_sim *s, guint idx)
{
    return idx < s->blocks->len ? BLK(s, idx)->height : -1;
}

const char *const *chain_sim_block_txids(const chain_sim *s, guint idx)
{
    return idx < s->blocks->len ? (const char *const *)BLK(s, idx)->txids : NULL;
}

const char *chain_sim_head(const chain_sim *s, guint node)
{
    return node < s->n_nodes ? BLK(s, s->nodes[node].head)->hash : NULL;
}

gint64 chain_sim_head_height(const chain_sim *s, guint node)
{
    return node < s->n_nodes ? BLK(s, s->nodes[node].head)->height : -1;
}

const char *chain_sim_best_tip(const chain_sim *s)
{
    return BLK(s, s->best)->hash;
}

gint64 chain_sim_reorg_depth(const chain_sim *s, const char *old_hash, const char *new_hash,
                             const char **ancestor)
{
    gint a = chain_sim_block_index(s, old_hash), b = chain_sim_block_index(s, new_hash);
    if (a < 0 || b < 0)
        return -1;
    gint64 old_height = BLK(s, a)->height;
    while (a != b) {
        if (BLK(s, a)->height >= BLK(s, b)->height)
            a = BLK(s, a)->parent;
        else
            b = BLK(s, b)->parent;
    }
    if (ancestor)
        *ancestor = BLK(s, a)->hash;
    return old_height - BLK(s, a)->height;
}

/* ---- JSON-RPC views ---------------------------------------------------------------- */

static json_t *header_fields(const chain_sim *s, guint idx)
{
    const sim_block *b = BLK(s, idx);
    char work_hex[65], merkle[65];
    chain_work_format(&b->chainwork, work_hex);
    char *m = g_compute_checksum_for_string(G_CHECKSUM_SHA256, b->txids[0], -1);
    memcpy(merkle, m, 65);
    g_free(m);
    json_t *o = json_object();
    json_object_set_new(o, "hash", json_string(b->hash));
    json_object_set_new(o, "height", json_integer(b->height));
    json_object_set_new(o, "version", json_integer(536870912));
    json_object_set_new(o, "versionHex", json_string("20000000"));
    json_object_set_new(o, "merkleroot", json_string(merkle));
    json_object_set_new(o, "time", json_integer(b->time));
    json_object_set_new(o, "mediantime", json_integer(b->time));
    json_object_set_new(o, "nonce", json_integer(b->nonce));
    char bits[9];
    g_snprintf(bits, sizeof bits, "%08x", b->bits);
    json_object_set_new(o, "bits", json_string(bits));
    json_object_set_new(o, "difficulty", json_real(4.656542373906925e-10));
    json_object_set_new(o, "chainwork", json_string(work_hex));
    json_object_set_new(o, "nTx", json_integer((json_int_t)g_strv_length(b->txids)));
    if (b->parent >= 0)
        json_object_set_new(o, "previousblockhash", json_string(BLK(s, b->parent)->hash));
    return o;
}

json_t *chain_sim_header_json(const chain_sim *s, guint idx)
{
    return idx < s->blocks->len ? header_fields(s, idx) : NULL;
}

/* Block idx as node sees it: confirmations on its active chain (-1 off it) and next. */
static json_t *node_header(const chain_sim *s, guint node, guint idx)
{
    json_t *o = header_fields(s, idx);
    guint head = s->nodes[node].head;
    gint64 hh = BLK(s, head)->height, bh = BLK(s, idx)->height;
    gboolean active_chain = bh <= hh && ancestor_at(s, (gint)head, bh) == (gint)idx;
    json_object_set_new(o, "confirmations", json_integer(active_chain ? hh - bh + 1 : -1));
    if (active_chain && bh < hh) {
        gint next = ancestor_at(s, (gint)head, bh + 1);
        json_object_set_new(o, "nextblockhash", json_string(BLK(s, next)->hash));
    }
    return o;
}

static gboolean param_hash(const chain_sim *s, guint node, const json_t *params, guint *idx,
                           GError **error)
{
    const char *hash = json_string_value(json_array_get(params, 0));
    gint i = hash ? chain_sim_block_index(s, hash) : -1;
    if (i < 0 || !(BLK(s, i)->known >> node & 1)) {
        g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: RPC error -5: Block not found",
                    s->nodes[node].name);
        return FALSE;
    }
    *idx = (guint)i;
    return TRUE;
}

static json_t *chain_tips(const chain_sim *s, guint node)
{
    guint64 bit = G_GUINT64_CONSTANT(1) << node;
    gboolean *has_child = g_new0(gboolean, s->blocks->len);
    for (guint i = 1; i < s->blocks->len; i++)
        if (BLK(s, i)->known & bit)
            has_child[BLK(s, i)->parent] = TRUE;
    guint head = s->nodes[node].head;
    json_t *tips = json_array();
    for (guint i = 0; i < s->blocks->len; i++) {
        if (!(BLK(s, i)->known & bit) || has_child[i])
            continue;
        /* Fork point: walk down until the block is on the active chain. */
        gint f = (gint)i;
        while (ancestor_at(s, (gint)head, BLK(s, f)->height) != f)
            f = BLK(s, f)->parent;
        json_t *t = json_object();
        json_object_set_new(t, "height", json_integer(BLK(s, i)->height));
        json_object_set_new(t, "hash", json_string(BLK(s, i)->hash));
        json_object_set_new(t, "branchlen", json_integer(BLK(s, i)->height - BLK(s, f)->height));
        json_object_set_new(t, "status", json_string(i == head ? "active" : "valid-fork"));
        json_array_append_new(tips, t);
    }
    g_free(has_child);
    return tips;
}

json_t *chain_sim_rpc(chain_sim *s, guint node, const char *method, const json_t *params,
                      GError **error)
{
    if (node >= s->n_nodes) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "chain sim: no node %u", node);
        return NULL;
    }
    const sim_node *n = &s->nodes[node];
    if (!n->online) {
        g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: connection refused (node offline)",
                    n->name);
        return NULL;
    }
    guint idx;
    if (g_strcmp0(method, "getbestblockhash") == 0)
        return json_string(BLK(s, n->head)->hash);
    if (g_strcmp0(method, "getblockcount") == 0)
        return json_integer(BLK(s, n->head)->height);
    if (g_strcmp0(method, "getblockhash") == 0) {
        json_t *h = json_array_get(params, 0);
        if (!json_is_integer(h) || json_integer_value(h) < 0 ||
            json_integer_value(h) > BLK(s, n->head)->height) {
            g_set_error(error, TF_ERROR, TF_ERROR_SOURCE,
                        "%s: RPC error -8: Block height out of range", n->name);
            return NULL;
        }
        return json_string(BLK(s, ancestor_at(s, (gint)n->head, json_integer_value(h)))->hash);
    }
    if (g_strcmp0(method, "getblockheader") == 0) {
        if (!param_hash(s, node, params, &idx, error))
            return NULL;
        return node_header(s, node, idx);
    }
    if (g_strcmp0(method, "getblock") == 0) {
        if (!param_hash(s, node, params, &idx, error))
            return NULL;
        json_t *o = node_header(s, node, idx);
        json_t *tx = json_array();
        for (char **t = BLK(s, idx)->txids; *t; t++)
            json_array_append_new(tx, json_string(*t));
        json_object_set_new(o, "tx", tx);
        json_object_set_new(o, "size", json_integer(250 * (json_int_t)json_array_size(tx)));
        return o;
    }
    if (g_strcmp0(method, "getchaintips") == 0)
        return chain_tips(s, node);
    g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: RPC error -32601: Method not found (%s)",
                n->name, method ? method : "(null)");
    return NULL;
}

gboolean chain_sim_rest_headers(chain_sim *s, guint node, const char *hash, guint count, GByteArray *out,
                                GError **error)
{
    g_return_val_if_fail(node < s->n_nodes, FALSE);
    const sim_node *n = &s->nodes[node];
    if (!n->online) {
        g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: connection refused (node offline)", n->name);
        return FALSE;
    }
    gint idx = chain_sim_block_index(s, hash);
    if (idx < 0 || !(BLK(s, idx)->known & (G_GUINT64_CONSTANT(1) << node)) || !count)
        return TRUE; /* a block the node does not know: no headers */
    gint64 from = BLK(s, idx)->height, to = BLK(s, n->head)->height;
    if (ancestor_at(s, (gint)n->head, from) != idx) { /* off its active chain: that block only */
        g_byte_array_append(out, BLK(s, idx)->raw, CHAIN_HEADER_BYTES);
        return TRUE;
    }
    to = MIN(to, from + (gint64)count - 1);
    GArray *path = g_array_sized_new(FALSE, FALSE, sizeof(gint), (guint)(to - from + 1));
    for (gint i = ancestor_at(s, (gint)n->head, to); i >= 0 && BLK(s, i)->height >= from; i = BLK(s, i)->parent)
        g_array_append_val(path, i);
    for (guint k = path->len; k-- > 0;)
        g_byte_array_append(out, BLK(s, g_array_index(path, gint, k))->raw, CHAIN_HEADER_BYTES);
    g_array_unref(path);
    return TRUE;
}
