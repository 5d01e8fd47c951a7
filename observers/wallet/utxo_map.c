/* utxo_map.c: the persistent UTXO map. Each trie node holds up to 32 entries chosen by 5
 * bits of the key's hash; an entry is an output (leaf) or a child node. Updates copy the
 * nodes on the path and share everything else; inside an edit, a node that edit created
 * and only its parent references is changed in place (a transient, as in Clojure's maps),
 * and a node is only ever edited below an edited parent, so a version someone else holds
 * is never changed. Below 32 bits of hash a "collision" node (bitmap 0) holds outputs
 * whose hashes are fully equal, searched linearly. */
#include <string.h>
#include "wallet/utxo_map.h"

struct utxo_map {
    gint ref;
    guint32 bitmap;      /* slots present; 0 in a collision node */
    guint32 leafmap;     /* present slots holding an output rather than a child */
    guint16 n;           /* entries */
    guint16 cap;         /* entries allocated */
    guint64 edit;        /* the edit that made it (0: none) */
    gpointer e[];        /* entries, in slot order */
};

/* An output and its reference count, in one allocation with the address after it (the
 * count is inline: a path copy takes a reference on every output of the copied node). */
typedef struct {
    gint ref;
    wallet_utxo u;
} utxo_box;

#define BOX_OF(u) ((utxo_box *)((char *)(u) - G_STRUCT_OFFSET(utxo_box, u)))

wallet_utxo *wallet_utxo_new(const char *txid, guint32 vout, gint64 amount, const char *address,
                             gint64 height, gboolean coinbase, guint64 wallets)
{
    gsize alen = strlen(address) + 1, tlen = strnlen(txid, CHAIN_HASH_BUF - 1);
    utxo_box *b = g_malloc(sizeof *b + alen);
    wallet_utxo *u = &b->u;
    b->ref = 1;
    memcpy(u->txid, txid, tlen);
    u->txid[tlen] = '\0';
    u->vout = vout;
    u->amount = amount;
    u->address = memcpy(b + 1, address, alen);
    u->height = height;
    u->coinbase = coinbase;
    u->wallets = wallets;
    return u;
}

static inline void utxo_ref(wallet_utxo *u)
{
    g_atomic_int_inc(&BOX_OF(u)->ref);
}

static inline void utxo_unref(wallet_utxo *u)
{
    utxo_box *b = BOX_OF(u);
    if (g_atomic_int_dec_and_test(&b->ref))
        g_free(b);
}

wallet_utxo *wallet_utxo_ref(wallet_utxo *u)
{
    utxo_ref(u);
    return u;
}

void wallet_utxo_unref(wallet_utxo *u)
{
    if (u)
        utxo_unref(u);
}

/* ---- hashing ---------------------------------------------------------------------------- */

static inline guint64 rotl64(guint64 x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline guint64 fmix64(guint64 h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Every byte of s counts (bench txids differ only in their last digits): a multiply per
 * 8 bytes, then a full avalanche. Not keyed: txids and block hashes are SHA-256 outputs
 * nobody chooses, and a full 32-bit collision only makes a collision node. */
static guint64 hash_bytes(const char *s, gsize len, guint64 seed)
{
    guint64 h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
    for (; len >= 8; len -= 8, s += 8) {
        guint64 w;
        memcpy(&w, s, 8);
        h = (rotl64(h, 5) ^ w) * 0x517cc1b727220a95ULL;
    }
    if (len) {
        guint64 w = 0;
        memcpy(&w, s, len);
        h = (rotl64(h, 5) ^ w) * 0x517cc1b727220a95ULL;
    }
    return fmix64(h);
}

static guint32 key_hash(const char *txid, guint32 vout)
{
    return (guint32)hash_bytes(txid, strlen(txid), (guint64)vout + 1);
}

guint32 utxo_map_key_hash(const char *txid, guint32 vout)
{
    return key_hash(txid, vout);
}

guint wallet_str_hash(gconstpointer s)
{
    return (guint)hash_bytes(s, strlen(s), 0);
}

static gboolean key_equal(const wallet_utxo *u, const char *txid, guint32 vout)
{
    return u->vout == vout && !strcmp(u->txid, txid);
}

/* Set bits of x (a libgcc call on x86-64 without -mpopcnt: too slow for every step). */
static inline guint popcount32(guint32 x)
{
#ifdef __POPCNT__
    return (guint)__builtin_popcount(x);
#else
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0fu;
    return (x * 0x01010101u) >> 24;
#endif
}

/* ---- nodes ------------------------------------------------------------------------------ */

static utxo_map *node_alloc(guint n, guint cap, guint64 edit)
{
    utxo_map *m = g_malloc(sizeof *m + cap * sizeof(gpointer));
    m->ref = 1;
    m->bitmap = m->leafmap = 0;
    m->n = (guint16)n;
    m->cap = (guint16)cap;
    m->edit = edit;
    return m;
}

/* Whether entry i of m is an output; `bits` walks the bitmap alongside i. */
#define ENTRY_IS_LEAF(m, bits) (!(m)->bitmap || ((m)->leafmap & (bits) & -(bits)))

/* Whether m may change in place: this edit made it and nothing else references it. */
static inline gboolean editable(const utxo_map *m, guint64 edit)
{
    return edit && m->edit == edit && g_atomic_int_get(&m->ref) == 1;
}

utxo_map *utxo_map_ref(utxo_map *m)
{
    if (m)
        g_atomic_int_inc(&m->ref);
    return m;
}

void utxo_map_unref(utxo_map *m)
{
    if (!m || !g_atomic_int_dec_and_test(&m->ref))
        return;
    guint32 bits = m->bitmap;
    for (guint i = 0; i < m->n; i++, bits &= bits - 1) {
        if (ENTRY_IS_LEAF(m, bits))
            utxo_unref(m->e[i]);
        else
            utxo_map_unref(m->e[i]);
    }
    g_free(m);
}

/* A new node of `edit` copying m with the `drop` entries at `at` replaced by `add` slots
 * (left unset); every kept entry gains a reference. An edit's node gets room to grow. */
static utxo_map *node_splice(const utxo_map *m, guint at, guint drop, guint add, guint64 edit)
{
    guint n = m->n - drop + add;
    utxo_map *c = node_alloc(n, edit ? n + 2 : n, edit);
    c->bitmap = m->bitmap;
    c->leafmap = m->leafmap;
    guint32 bits = m->bitmap;
    for (guint i = 0; i < m->n; i++, bits &= bits - 1) {
        if (i >= at && i < at + drop)
            continue;
        gpointer e = m->e[i];
        c->e[i < at ? i : i - drop + add] = e;
        if (ENTRY_IS_LEAF(m, bits))
            utxo_ref(e);
        else
            utxo_map_ref(e);
    }
    return c;
}

/* Opens an unset slot at `at` in an editable node (which may move). */
static utxo_map *node_open(utxo_map *m, guint at)
{
    if (m->n == m->cap) {
        m->cap = (guint16)(m->n + 4);
        m = g_realloc(m, sizeof *m + m->cap * sizeof(gpointer));
    }
    memmove(&m->e[at + 1], &m->e[at], (m->n - at) * sizeof(gpointer));
    m->n++;
    return m;
}

/* Closes the slot at `at` of an editable node (its entry's reference is the caller's). */
static void node_close(utxo_map *m, guint at)
{
    memmove(&m->e[at], &m->e[at + 1], (m->n - at - 1) * sizeof(gpointer));
    m->n--;
}

const wallet_utxo *utxo_map_lookup(const utxo_map *m, const char *txid, guint32 vout)
{
    return utxo_map_lookup_hashed(m, txid, vout, key_hash(txid, vout));
}

const wallet_utxo *utxo_map_lookup_hashed(const utxo_map *m, const char *txid, guint32 vout, guint32 h)
{
    for (guint shift = 0; m; shift += 5) {
        if (!m->bitmap) {
            for (guint i = 0; i < m->n; i++)
                if (key_equal(m->e[i], txid, vout))
                    return m->e[i];
            return NULL;
        }
        guint32 bit = 1u << ((h >> shift) & 31);
        if (!(m->bitmap & bit))
            return NULL;
        guint pos = popcount32(m->bitmap & (bit - 1));
        if (m->leafmap & bit)
            return key_equal(m->e[pos], txid, vout) ? m->e[pos] : NULL;
        m = m->e[pos];
    }
    return NULL;
}

/* A node at `shift` holding the two outputs a and b (both references taken). */
static utxo_map *pair_node(wallet_utxo *a, guint32 ha, wallet_utxo *b, guint32 hb, guint shift, guint64 edit)
{
    if (shift >= 32) {
        utxo_map *c = node_alloc(2, 2, edit);
        c->e[0] = a;
        c->e[1] = b;
        return c;
    }
    guint ia = (ha >> shift) & 31, ib = (hb >> shift) & 31;
    if (ia == ib) {
        utxo_map *c = node_alloc(1, 1, edit);
        c->bitmap = 1u << ia;
        c->e[0] = pair_node(a, ha, b, hb, shift + 5, edit);
        return c;
    }
    utxo_map *c = node_alloc(2, 2, edit);
    c->bitmap = c->leafmap = (1u << ia) | (1u << ib);
    c->e[ia < ib ? 0 : 1] = a;
    c->e[ia < ib ? 1 : 0] = b;
    return c;
}

/* ---- insert ------------------------------------------------------------------------------- */

/* m (borrowed; NULL: empty) at `shift` with u added. When ed, m changes in place and is
 * returned (perhaps moved); otherwise the result is a new node and m is untouched. */
static utxo_map *ins(utxo_map *m, gboolean ed, wallet_utxo *u, guint32 h, guint shift, wallet_utxo **old,
                     guint64 edit)
{
    if (!m) {
        utxo_map *c = node_alloc(1, edit ? 2 : 1, edit);
        c->bitmap = c->leafmap = 1u << ((h >> shift) & 31);
        c->e[0] = u;
        return c;
    }
    guint pos;
    guint32 bit = 0;
    if (!m->bitmap) { /* collision node */
        for (pos = 0; pos < m->n && !key_equal(m->e[pos], u->txid, u->vout); pos++)
            ;
        if (pos == m->n) {
            utxo_map *c = ed ? node_open(m, pos) : node_splice(m, pos, 0, 1, edit);
            c->e[pos] = u;
            return c;
        }
    } else {
        bit = 1u << ((h >> shift) & 31);
        pos = popcount32(m->bitmap & (bit - 1));
        if (!(m->bitmap & bit)) {
            utxo_map *c = ed ? node_open(m, pos) : node_splice(m, pos, 0, 1, edit);
            c->bitmap |= bit;
            c->leafmap |= bit;
            c->e[pos] = u;
            return c;
        }
        if (!(m->leafmap & bit)) {
            utxo_map *child = m->e[pos];
            gboolean child_ed = ed && editable(child, edit);
            utxo_map *nc = ins(child, child_ed, u, h, shift + 5, old, edit);
            utxo_map *c = ed ? m : node_splice(m, pos, 1, 1, edit);
            if (ed && !child_ed)
                utxo_map_unref(child); /* m's reference to the old child */
            c->e[pos] = nc;
            return c;
        }
        wallet_utxo *have = m->e[pos];
        if (!key_equal(have, u->txid, u->vout)) { /* two outputs in one slot: a child */
            utxo_map *c = ed ? m : node_splice(m, pos, 1, 1, edit);
            if (!ed)
                wallet_utxo_ref(have); /* in place, m's reference moves to the pair */
            c->e[pos] = pair_node(have, key_hash(have->txid, have->vout), u, h, shift + 5, edit);
            c->leafmap &= ~bit;
            return c;
        }
    }
    /* The same key at pos: replace it. */
    wallet_utxo *have = m->e[pos];
    *old = ed ? have : wallet_utxo_ref(have);
    utxo_map *c = ed ? m : node_splice(m, pos, 1, 1, edit);
    c->e[pos] = u;
    return c;
}

utxo_map *utxo_map_insert_edit(utxo_map *m, wallet_utxo *u, guint32 h, wallet_utxo **old, guint64 edit)
{
    wallet_utxo *replaced = NULL;
    gboolean ed = m && editable(m, edit);
    utxo_map *r = ins(m, ed, u, h, 0, &replaced, edit);
    if (!ed)
        utxo_map_unref(m);
    if (old)
        *old = replaced;
    else if (replaced)
        wallet_utxo_unref(replaced);
    return r;
}

utxo_map *utxo_map_insert(const utxo_map *m, wallet_utxo *u, wallet_utxo **old)
{
    return utxo_map_insert_edit(utxo_map_ref((utxo_map *)m), u, key_hash(u->txid, u->vout), old, 0);
}

/* ---- remove ------------------------------------------------------------------------------- */

/* m (borrowed, not NULL) at `shift` without the key. *removed gets the output (in place,
 * m's reference moves to it; else a new one); it stays NULL when the key is absent, and
 * then m is returned unchanged. NULL when the node became empty (an edited m is freed). */
static utxo_map *rem(utxo_map *m, gboolean ed, const char *txid, guint32 vout, guint32 h, guint shift,
                     wallet_utxo **removed, guint64 edit)
{
    guint pos;
    guint32 bit = 0;
    if (!m->bitmap) {
        for (pos = 0; pos < m->n && !key_equal(m->e[pos], txid, vout); pos++)
            ;
        if (pos == m->n)
            return m;
        *removed = ed ? m->e[pos] : wallet_utxo_ref(m->e[pos]);
    } else {
        bit = 1u << ((h >> shift) & 31);
        if (!(m->bitmap & bit))
            return m;
        pos = popcount32(m->bitmap & (bit - 1));
        if (m->leafmap & bit) {
            if (!key_equal(m->e[pos], txid, vout))
                return m;
            *removed = ed ? m->e[pos] : wallet_utxo_ref(m->e[pos]);
        } else {
            utxo_map *child = m->e[pos];
            gboolean child_ed = ed && editable(child, edit);
            utxo_map *nc = rem(child, child_ed, txid, vout, h, shift + 5, removed, edit);
            if (!*removed)
                return m;
            if (ed && !child_ed)
                utxo_map_unref(child); /* m's reference to the old child */
            if (nc) {
                utxo_map *c = ed ? m : node_splice(m, pos, 1, 1, edit);
                c->e[pos] = nc;
                return c;
            }
            /* The child became empty: its slot goes as a leaf's would. */
        }
    }
    if (m->n == 1) {
        if (ed)
            g_free(m);
        return NULL;
    }
    utxo_map *c = m;
    if (ed)
        node_close(m, pos);
    else
        c = node_splice(m, pos, 1, 0, edit);
    c->bitmap &= ~bit;
    c->leafmap &= ~bit;
    return c;
}

utxo_map *utxo_map_remove_edit(utxo_map *m, const char *txid, guint32 vout, guint32 h,
                               wallet_utxo **removed, guint64 edit)
{
    wallet_utxo *got = NULL;
    utxo_map *r = m;
    if (m) {
        gboolean ed = editable(m, edit);
        r = rem(m, ed, txid, vout, h, 0, &got, edit);
        if (got && !ed)
            utxo_map_unref(m);
    }
    if (removed)
        *removed = got;
    else if (got)
        wallet_utxo_unref(got);
    return r;
}

utxo_map *utxo_map_remove(const utxo_map *m, const char *txid, guint32 vout, wallet_utxo **removed)
{
    return utxo_map_remove_edit(utxo_map_ref((utxo_map *)m), txid, vout, key_hash(txid, vout), removed, 0);
}

void utxo_map_foreach(const utxo_map *m, void (*fn)(const wallet_utxo *u, void *data), void *data)
{
    if (!m)
        return;
    guint32 bits = m->bitmap;
    for (guint i = 0; i < m->n; i++, bits &= bits - 1) {
        if (ENTRY_IS_LEAF(m, bits))
            fn(m->e[i], data);
        else
            utxo_map_foreach(m->e[i], fn, data);
    }
}
