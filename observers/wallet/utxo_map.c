/* utxo_map.c: the persistent UTXO map. Each trie node holds up to 32 entries chosen by 5
 * bits of the key's hash; an entry is an output (leaf) or a child node. Updates copy the
 * nodes on the path and share everything else. Below 32 bits of hash a "collision" node
 * holds outputs whose hashes are fully equal, searched linearly. */
#include <string.h>
#include "wallet/utxo_map.h"

struct utxo_map {
    gint ref;
    guint32 bitmap;      /* slots present (unused in a collision node) */
    guint32 leafmap;     /* present slots holding an output rather than a child */
    guint16 n;           /* entries */
    gboolean collision;
    gpointer e[];        /* entries, in slot order */
};

wallet_utxo *wallet_utxo_ref(wallet_utxo *u)
{
    return g_atomic_rc_box_acquire(u);
}

void wallet_utxo_unref(wallet_utxo *u)
{
    g_atomic_rc_box_release(u);
}

static guint32 key_hash(const char *txid, guint32 vout)
{
    guint32 h = 2166136261u;
    for (const char *p = txid; *p; p++) {
        h ^= (guint8)*p;
        h *= 16777619u;
    }
    h ^= vout * 0x9e3779b9u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

guint32 utxo_map_key_hash(const char *txid, guint32 vout)
{
    return key_hash(txid, vout);
}

static gboolean key_equal(const wallet_utxo *u, const char *txid, guint32 vout)
{
    return u->vout == vout && !strcmp(u->txid, txid);
}

static utxo_map *node_new(guint n)
{
    utxo_map *m = g_malloc0(sizeof *m + n * sizeof(gpointer));
    m->ref = 1;
    m->n = (guint16)n;
    return m;
}

/* Which entries of m are outputs (rather than child nodes), by position. */
static void leaf_flags(const utxo_map *m, gboolean *leaf)
{
    guint32 bits = m->bitmap;
    for (guint i = 0; i < m->n; i++) {
        leaf[i] = m->collision || (m->leafmap & (bits & -bits));
        bits &= bits - 1;
    }
}

static void entry_ref(gpointer e, gboolean leaf)
{
    if (leaf)
        wallet_utxo_ref(e);
    else
        utxo_map_ref(e);
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
    gboolean *leaf = g_newa(gboolean, MAX(m->n, 1));
    if (m->collision)
        for (guint i = 0; i < m->n; i++)
            leaf[i] = TRUE;
    else
        leaf_flags(m, leaf);
    for (guint i = 0; i < m->n; i++) {
        if (leaf[i])
            wallet_utxo_unref(m->e[i]);
        else
            utxo_map_unref(m->e[i]);
    }
    g_free(m);
}

const wallet_utxo *utxo_map_lookup(const utxo_map *m, const char *txid, guint32 vout)
{
    guint32 h = key_hash(txid, vout);
    for (guint shift = 0; m; shift += 5) {
        if (m->collision) {
            for (guint i = 0; i < m->n; i++)
                if (key_equal(m->e[i], txid, vout))
                    return m->e[i];
            return NULL;
        }
        guint32 bit = 1u << ((h >> shift) & 31);
        if (!(m->bitmap & bit))
            return NULL;
        guint pos = (guint)__builtin_popcount(m->bitmap & (bit - 1));
        if (m->leafmap & bit)
            return key_equal(m->e[pos], txid, vout) ? m->e[pos] : NULL;
        m = m->e[pos];
    }
    return NULL;
}

/* A copy of m with `grow` more or fewer entries: entries before `at` are kept in place,
 * entries from `at` (skipping `drop` of them) shift by grow; every kept entry gains a ref. */
static utxo_map *node_splice(const utxo_map *m, guint at, guint drop, guint add)
{
    utxo_map *c = node_new(m->n - drop + add);
    c->bitmap = m->bitmap;
    c->leafmap = m->leafmap;
    c->collision = m->collision;
    gboolean *leaf = g_newa(gboolean, MAX(m->n, 1));
    if (m->collision)
        for (guint i = 0; i < m->n; i++)
            leaf[i] = TRUE;
    else
        leaf_flags(m, leaf);
    for (guint i = 0; i < at; i++) {
        c->e[i] = m->e[i];
        entry_ref(m->e[i], leaf[i]);
    }
    for (guint i = at + drop; i < m->n; i++) {
        c->e[i - drop + add] = m->e[i];
        entry_ref(m->e[i], leaf[i]);
    }
    return c;
}

/* A node at `shift` holding the two outputs a and b (both references taken). */
static utxo_map *pair_node(wallet_utxo *a, guint32 ha, wallet_utxo *b, guint32 hb, guint shift)
{
    if (shift >= 32) {
        utxo_map *c = node_new(2);
        c->collision = TRUE;
        c->e[0] = a;
        c->e[1] = b;
        return c;
    }
    guint ia = (ha >> shift) & 31, ib = (hb >> shift) & 31;
    if (ia == ib) {
        utxo_map *c = node_new(1);
        c->bitmap = 1u << ia;
        c->e[0] = pair_node(a, ha, b, hb, shift + 5);
        return c;
    }
    utxo_map *c = node_new(2);
    c->bitmap = c->leafmap = (1u << ia) | (1u << ib);
    c->e[ia < ib ? 0 : 1] = a;
    c->e[ia < ib ? 1 : 0] = b;
    return c;
}

static utxo_map *insert_at(const utxo_map *m, wallet_utxo *u, guint32 h, guint shift, wallet_utxo **old)
{
    if (!m) {
        utxo_map *c = node_new(1);
        c->bitmap = c->leafmap = 1u << ((h >> shift) & 31);
        c->e[0] = u;
        return c;
    }
    if (m->collision) {
        for (guint i = 0; i < m->n; i++)
            if (key_equal(m->e[i], u->txid, u->vout)) {
                utxo_map *c = node_splice(m, i, 1, 1);
                *old = wallet_utxo_ref(m->e[i]);
                c->e[i] = u;
                return c;
            }
        utxo_map *c = node_splice(m, m->n, 0, 1);
        c->e[m->n] = u;
        return c;
    }
    guint32 bit = 1u << ((h >> shift) & 31);
    guint pos = (guint)__builtin_popcount(m->bitmap & (bit - 1));
    if (!(m->bitmap & bit)) {
        utxo_map *c = node_splice(m, pos, 0, 1);
        c->bitmap |= bit;
        c->leafmap |= bit;
        c->e[pos] = u;
        return c;
    }
    utxo_map *c = node_splice(m, pos, 1, 1);
    if (m->leafmap & bit) {
        wallet_utxo *have = m->e[pos];
        if (key_equal(have, u->txid, u->vout)) {
            *old = wallet_utxo_ref(have);
            c->e[pos] = u;
        } else {
            c->e[pos] = pair_node(wallet_utxo_ref(have), key_hash(have->txid, have->vout), u, h, shift + 5);
            c->leafmap &= ~bit;
        }
    } else {
        c->e[pos] = insert_at(m->e[pos], u, h, shift + 5, old);
    }
    return c;
}

utxo_map *utxo_map_insert(const utxo_map *m, wallet_utxo *u, wallet_utxo **old)
{
    wallet_utxo *dummy = NULL;
    utxo_map *r = insert_at(m, u, key_hash(u->txid, u->vout), 0, old ? old : &dummy);
    if (dummy)
        wallet_utxo_unref(dummy);
    return r;
}

/* The new version of m without the key, or NULL when it became empty. */
static utxo_map *remove_at(const utxo_map *m, const char *txid, guint32 vout, guint32 h, guint shift,
                           wallet_utxo **removed)
{
    if (m->collision) {
        for (guint i = 0; i < m->n; i++)
            if (key_equal(m->e[i], txid, vout)) {
                *removed = wallet_utxo_ref(m->e[i]);
                return m->n == 1 ? NULL : node_splice(m, i, 1, 0);
            }
        return utxo_map_ref((utxo_map *)m);
    }
    guint32 bit = 1u << ((h >> shift) & 31);
    if (!(m->bitmap & bit))
        return utxo_map_ref((utxo_map *)m);
    guint pos = (guint)__builtin_popcount(m->bitmap & (bit - 1));
    if (m->leafmap & bit) {
        if (!key_equal(m->e[pos], txid, vout))
            return utxo_map_ref((utxo_map *)m);
        *removed = wallet_utxo_ref(m->e[pos]);
        if (m->n == 1)
            return NULL;
        utxo_map *c = node_splice(m, pos, 1, 0);
        c->bitmap &= ~bit;
        c->leafmap &= ~bit;
        return c;
    }
    utxo_map *child = remove_at(m->e[pos], txid, vout, h, shift + 5, removed);
    if (child == m->e[pos]) { /* absent below: unchanged */
        utxo_map_unref(child);
        return utxo_map_ref((utxo_map *)m);
    }
    if (!child) {
        if (m->n == 1)
            return NULL;
        utxo_map *c = node_splice(m, pos, 1, 0);
        c->bitmap &= ~bit;
        return c;
    }
    utxo_map *c = node_splice(m, pos, 1, 1);
    c->e[pos] = child;
    return c;
}

utxo_map *utxo_map_remove(const utxo_map *m, const char *txid, guint32 vout, wallet_utxo **removed)
{
    wallet_utxo *got = NULL;
    utxo_map *r = m ? remove_at(m, txid, vout, key_hash(txid, vout), 0, &got) : NULL;
    if (removed)
        *removed = got;
    else if (got)
        wallet_utxo_unref(got);
    return r;
}

void utxo_map_foreach(const utxo_map *m, void (*fn)(const wallet_utxo *u, void *data), void *data)
{
    if (!m)
        return;
    gboolean *leaf = g_newa(gboolean, MAX(m->n, 1));
    if (m->collision)
        for (guint i = 0; i < m->n; i++)
            leaf[i] = TRUE;
    else
        leaf_flags(m, leaf);
    for (guint i = 0; i < m->n; i++) {
        if (leaf[i])
            fn(m->e[i], data);
        else
            utxo_map_foreach(m->e[i], fn, data);
    }
}
