/* projection.h: the fork-aware multi-wallet UTXO projection, pure logic (no I/O).
 * Wallets are sets of addresses. For every block header it is given, it keeps each
 * wallet's UTXO set and balance as an immutable state: the parent's state plus the block's
 * delta. States are keyed by header hash, so a state on any branch is a lookup, never a
 * rescan; headers below LIB minus a depth are folded into one checkpoint. Moving the
 * canonical tip yields per-wallet events. Not thread-safe; states are (read-only) shareable. */
#ifndef WALLET_PROJECTION_H
#define WALLET_PROJECTION_H

#include <glib.h>
#include "wallet/block.h"
#include "wallet/events.h"

G_BEGIN_DECLS

/* Most wallets one projection tracks. */
#define WALLET_MAX_WALLETS 64

/* An unspent output of a wallet. Immutable, shared by every state that holds it. */
typedef struct {
    char txid[CHAIN_HASH_BUF];
    guint32 vout;
    gint64 amount;             /* satoshis */
    const char *address;       /* lives as long as the utxo */
    gint64 height;             /* of the block that created it */
    gboolean coinbase;
    guint64 wallets;           /* bit w: tracked wallet w owns it (its address is wallet w's) */
} wallet_utxo;

/* One wallet's UTXO set at one header. Immutable once built; atomically refcounted, so a
 * snapshot may hold it and any thread may read it. The wallets of one header share one map
 * of every tracked output (listing a wallet visits the others' outputs too) and one
 * reference count (a held state keeps its header's other states). */
typedef struct wallet_state wallet_state;

wallet_state *wallet_state_ref(wallet_state *s);
void wallet_state_unref(wallet_state *s);
/* The header the state belongs to, its height. */
const char *wallet_state_block(const wallet_state *s);
gint64 wallet_state_height(const wallet_state *s);
/* Every unspent output (confirmed in this header's chain), coinbases of any depth. */
guint wallet_state_n_utxos(const wallet_state *s);
/* Sum of every unspent output in satoshis (immature coinbases included). */
gint64 wallet_state_total(const wallet_state *s);
/* The output txid:vout, or NULL (borrowed, lives as long as the state). */
const wallet_utxo *wallet_state_lookup(const wallet_state *s, const char *txid, guint32 vout);

/* The rule a wallet reports unspent outputs by, as Bitcoin Core's listunspent (default
 * minconf 1) does: confirmed outputs only; a coinbase output once its depth (tip = 1)
 * reaches maturity + 1; nothing spent by a confirmed or an unconfirmed transaction. */
typedef struct {
    guint coinbase_maturity;   /* 100, as on every bitcoin-family chain */
    GHashTable *pending_spends; /* "txid:vout" set spent by unconfirmed txs (borrowed), or NULL */
} wallet_rule;

/* The listed outputs of s as seen from tip height tip_height (>= the state's height),
 * sorted by txid then vout (new array of borrowed utxos). *balance (may be NULL) gets
 * their sum; *immature (may be NULL) the coinbase outputs not yet mature; *pending (may
 * be NULL) the confirmed outputs hidden because an unconfirmed transaction spends them. */
GPtrArray *wallet_state_list(const wallet_state *s, gint64 tip_height, const wallet_rule *rule,
                             gint64 *balance, gint64 *immature, gint64 *pending);
/* TRUE if the listed balance under rule is at least amount satoshis. */
gboolean wallet_state_balance_at_least(const wallet_state *s, gint64 tip_height,
                                       const wallet_rule *rule, gint64 amount);

/* Projection settings. */
typedef struct {
    guint fold_depth;          /* headers kept below LIB (100) */
} wallet_projection_config;

void wallet_projection_config_init(wallet_projection_config *cfg);

typedef struct wallet_projection wallet_projection;

/* A new projection (cfg copied; NULL: defaults). Free with wallet_projection_free. */
wallet_projection *wallet_projection_new(const wallet_projection_config *cfg);
void wallet_projection_free(wallet_projection *p);

/* Tracks a wallet `name` owning `addresses` (NULL-terminated, copied). Only before the
 * first block: a wallet added later would need a rescan. FALSE + error on a duplicate
 * name, too many wallets, or blocks already added. */
gboolean wallet_projection_add_wallet(wallet_projection *p, const char *name,
                                      const char *const *addresses, GError **error);
guint wallet_projection_n_wallets(const wallet_projection *p);
/* Wallet i's name (borrowed), or its index by name (-1 when unknown). */
const char *wallet_projection_wallet_name(const wallet_projection *p, guint i);
gint wallet_projection_wallet_index(const wallet_projection *p, const char *name);

/* Adds a block: the first block becomes the root (applied to empty wallets); every later
 * one needs its parent already added. Duplicates are a no-op. The block is borrowed. FALSE
 * + error when the parent is unknown or the height does not follow it. */
gboolean wallet_projection_add_block(wallet_projection *p, const wallet_block *b, GError **error);
/* TRUE if the header's state is held. */
gboolean wallet_projection_has(const wallet_projection *p, const char *hash);
/* The held header with the lowest height (the checkpoint), its height; "" / -1 while empty. */
const char *wallet_projection_root(const wallet_projection *p);
gint64 wallet_projection_root_height(const wallet_projection *p);
/* Headers held. */
guint wallet_projection_size(const wallet_projection *p);

/* Makes `hash` (held) the canonical tip and appends to events (may be NULL; new
 * wallet_event, free with wallet_event_free) what changed for each wallet: for blocks
 * leaving the canonical chain (highest first) utxo_reverted_by_reorg and
 * tx_dropped_by_reorg, then for blocks joining it (lowest first) tx_included,
 * utxo_spent, utxo_created. FALSE + error if the header is not held. */
gboolean wallet_projection_set_tip(wallet_projection *p, const char *hash, GPtrArray *events,
                                   GError **error);
/* The canonical tip ("" before set_tip) and its height (-1). */
const char *wallet_projection_tip(const wallet_projection *p);
gint64 wallet_projection_tip_height(const wallet_projection *p);

/* Replaces the unconfirmed transactions (borrowed, only read now): their inputs become
 * the pending spends of the rule (wallet_projection_pending_spends). */
void wallet_projection_set_unconfirmed(wallet_projection *p, const wallet_tx *const *txs, guint n);
/* The "txid:vout" set spent by the unconfirmed transactions (borrowed). */
GHashTable *wallet_projection_pending_spends(const wallet_projection *p);

/* Wallet `wallet`'s state at header `hash` (borrowed), or NULL if either is unknown. */
wallet_state *wallet_projection_state(const wallet_projection *p, const char *hash, guint wallet);
/* Confirmations (tip = 1) of txid in the chain ending at header `tip`, 0 when no block of
 * that chain holds it (only transactions touching a tracked wallet are known; those
 * folded below the checkpoint keep their height). -1 if tip is unknown. A query: it walks
 * the held headers below tip (nothing is indexed per block for it). */
gint64 wallet_projection_tx_confirmations(const wallet_projection *p, const char *tip,
                                          const char *txid);
/* TRUE if txid has at least k confirmations on the canonical tip. */
gboolean wallet_projection_tx_included(const wallet_projection *p, const char *txid, guint k);

/* Every held header's states: new table of header hash (copied) -> NULL-terminated array
 * of wallet_state refs, one per wallet; the table frees both. For snapshots. */
GHashTable *wallet_projection_states_copy(const wallet_projection *p);
/* Confirmations on the canonical tip of every transaction touching a tracked wallet: new
 * table of txid (copied) -> gint64* (owned). Empty before set_tip. */
GHashTable *wallet_projection_canonical_txs(const wallet_projection *p);

/* Folds every header below height(lib) - fold_depth into one checkpoint: the ancestor of
 * lib at that height becomes the root and keeps its state; lower headers and every branch
 * that does not descend from the new root are dropped. Unknown lib: no-op. Returns the
 * number of headers dropped. */
guint wallet_projection_fold(wallet_projection *p, const char *lib);

G_END_DECLS

#endif
