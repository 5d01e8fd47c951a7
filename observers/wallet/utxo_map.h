/* utxo_map.h: a persistent (immutable, structure-sharing) map of a wallet's unspent
 * outputs keyed by (txid, vout): a hash array mapped trie. Adding or removing an output
 * makes a new version that copies only the path to it (at most 7 small nodes), so a
 * block's state costs its delta, not the size of the set, and every older version stays
 * valid. Within one edit (the projection's: the changes of up to 32 blocks), the nodes
 * that edit created are changed in place, so an edit touching one subtree four times
 * copies its path once.
 * Nodes are atomically refcounted: finished versions may be read from any thread. */
#ifndef WALLET_UTXO_MAP_H
#define WALLET_UTXO_MAP_H

#include <glib.h>
#include "wallet/projection.h"

G_BEGIN_DECLS

/* One version of the map; NULL is the empty map. */
typedef struct utxo_map utxo_map;

/* Adds a reference to m (NULL-safe); returns m. */
utxo_map *utxo_map_ref(utxo_map *m);
/* Drops a reference; the last one releases nodes and outputs no other version holds. */
void utxo_map_unref(utxo_map *m);
/* The output (txid, vout) in m, or NULL (borrowed: lives as long as m). */
const wallet_utxo *utxo_map_lookup(const utxo_map *m, const char *txid, guint32 vout);
/* utxo_map_lookup with h = utxo_map_key_hash(txid, vout) already known. */
const wallet_utxo *utxo_map_lookup_hashed(const utxo_map *m, const char *txid, guint32 vout, guint32 h);
/* A new version of m with u added (u's reference is taken); an output with the same key
 * is replaced and returned in *old (a new reference, may be NULL). m is unchanged. */
utxo_map *utxo_map_insert(const utxo_map *m, wallet_utxo *u, wallet_utxo **old);
/* A new version of m without (txid, vout); *removed (a new reference) gets the output or
 * NULL if absent (then the result is simply another reference to m). m is unchanged. */
utxo_map *utxo_map_remove(const utxo_map *m, const char *txid, guint32 vout, wallet_utxo **removed);
/* Calls fn on every output, in no particular order. */
void utxo_map_foreach(const utxo_map *m, void (*fn)(const wallet_utxo *u, void *data), void *data);

/* The edit forms: they take the caller's reference to m and return the new version's.
 * `edit` (non-zero, unique per edit for the map's whole life) marks the nodes they create;
 * a node of the same edit that nothing else references is changed in place instead of
 * copied. Versions published (referenced elsewhere) before an edit ends are not changed:
 * a node another reference holds is copied as usual. h is utxo_map_key_hash of the key;
 * *old / *removed as above (NULL when absent; then remove returns m unchanged). */
utxo_map *utxo_map_insert_edit(utxo_map *m, wallet_utxo *u, guint32 h, wallet_utxo **old, guint64 edit);
utxo_map *utxo_map_remove_edit(utxo_map *m, const char *txid, guint32 vout, guint32 h,
                               wallet_utxo **removed, guint64 edit);

/* The 32-bit hash that places (txid, vout) in the trie (for tests of full collisions). */
guint32 utxo_map_key_hash(const char *txid, guint32 vout);
/* A hash of a NUL-terminated string read 8 bytes at a time (block hashes and txids are
 * 64 hex digits: g_str_hash takes a multiply per byte). GHashFunc-compatible. */
guint wallet_str_hash(gconstpointer s);

/* A new output (one reference; the address is copied into it and lives as long as it). */
wallet_utxo *wallet_utxo_new(const char *txid, guint32 vout, gint64 amount, const char *address,
                             gint64 height, gboolean coinbase, guint64 wallets);
/* Atomic refcounting of outputs made by wallet_utxo_new. */
wallet_utxo *wallet_utxo_ref(wallet_utxo *u);
void wallet_utxo_unref(wallet_utxo *u);

G_END_DECLS

#endif
