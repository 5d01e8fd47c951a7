/* observer.h: the wallet observer: a tf_observer that embeds the chain observer's state
 * (block graph over every node) and feeds the wallet projection with the body of every
 * new block (getblock verbosity 2) and the nodes' unconfirmed transactions. Snapshots show
 * each wallet's listed UTXOs and balance on the canonical tip and keep every held header's
 * states, so a step can ask about any branch without a request. */
#ifndef WALLET_OBSERVER_H
#define WALLET_OBSERVER_H

#include <glib.h>
#include <jansson.h>
#include <tf/durable.h>
#include <tf/observer.h>
#include <tf/snapshot.h>
#include "chain/observer.h"
#include "wallet/projection.h"

G_BEGIN_DECLS

/* Observer settings; fill with wallet_observer_config_init, add wallets, then hand to the
 * runtime (copied at init). Free what it owns with wallet_observer_config_clear. */
typedef struct {
    chain_observer_config chain;            /* the embedded chain observer (defaults) */
    wallet_projection_config projection;    /* fold depth below LIB (100) */
    guint coinbase_maturity;                /* 100 */
    gboolean track_unconfirmed;             /* getrawmempool on every node each cycle (TRUE) */
    gint64 start_height;                    /* the projection's root: canonical block at this height (0) */
    GPtrArray *wallet_names;                /* char* (owned) */
    GPtrArray *wallet_addresses;            /* char** NULL-terminated (owned) */
    /* Cached projections (cache.c): with a store, each header's wallet delta is stored
     * under a hash of (header, wallet set, start block, fingerprint incl. the chain
     * observer's), so a restart reuses it instead of fetching the block body again. */
    tf_store *store;                        /* NULL: no cache (borrowed; init takes a reference) */
    gint64 run;                             /* the run cache entries are recorded under (0: none) */
} wallet_observer_config;

void wallet_observer_config_init(wallet_observer_config *cfg);
/* Adds a wallet: name and addresses (NULL-terminated) are copied. */
void wallet_observer_config_add_wallet(wallet_observer_config *cfg, const char *name,
                                       const char *const *addresses);
/* Adds one address to an added wallet; FALSE if no wallet has that name. */
gboolean wallet_observer_config_add_address(wallet_observer_config *cfg, const char *name,
                                            const char *address);
void wallet_observer_config_clear(wallet_observer_config *cfg);

/* One wallet on the canonical tip, as the node's listunspent shows it. */
typedef struct {
    char *name;
    wallet_state *state;      /* ref: every output at the tip (immature, pending included) */
    GPtrArray *listed;        /* borrowed wallet_utxo* from state, sorted by txid, vout */
    gint64 balance;           /* sum of listed, satoshis */
    gint64 immature;          /* coinbase outputs below maturity */
    gint64 pending;           /* confirmed outputs spent by unconfirmed transactions */
} wallet_view;

/* The published view. Immutable; owned by the runtime's tf_snapshot. */
typedef struct {
    chain_snapshot *chain;    /* the embedded chain observer's snapshot (owned) */
    char tip[CHAIN_HASH_BUF]; /* the projection's canonical tip, "" before the first block */
    gint64 tip_height;
    char root[CHAIN_HASH_BUF];/* the checkpoint everything below was folded into */
    gint64 root_height;
    guint headers;            /* headers held */
    guint n_wallets;
    wallet_view *wallets;
    GHashTable *states;       /* header hash -> wallet_state*[n_wallets] (refs) */
    GHashTable *tx_conf;      /* wallet txid -> gint64* confirmations on the tip */
    guint n_unconfirmed;      /* unconfirmed transactions seen */
    GHashTable *pending;      /* "txid:vout" spent by them (owned copy) */
    guint coinbase_maturity;
    guint64 blocks_fetched;   /* block bodies fetched so far */
    guint64 blocks_cached;    /* headers projected from the store's cache instead of a fetch */
    guint64 cache_errors;     /* cache rows that could not be used (recomputed; logged) */
    guint64 requests;         /* HTTP requests so far (chain and wallet) */
} wallet_snapshot;

/* The observer (static vtable). Config: a wallet_observer_config (required). Sources as
 * for chain_observer. */
extern const tf_observer wallet_observer;

/* The wallet called name, or NULL (borrowed). */
const wallet_view *wallet_snapshot_wallet(const wallet_snapshot *s, const char *name);
/* The wallet's state at header hash (borrowed), or NULL if either is unknown. */
wallet_state *wallet_snapshot_state_at(const wallet_snapshot *s, const char *hash, const char *name);
/* The wallet's outputs at header hash as listunspent on a node with that tip would list
 * them (maturity from that header's height, the snapshot's unconfirmed spends): new array
 * of borrowed wallet_utxo* sorted by txid, vout; *balance (may be NULL) gets their sum.
 * NULL if the header or wallet is unknown. */
GPtrArray *wallet_snapshot_list_at(const wallet_snapshot *s, const char *hash, const char *name,
                                   gint64 *balance);
/* Confirmations (tip = 1) of a transaction touching a tracked wallet; 0 if not on the
 * canonical chain. */
gint64 wallet_snapshot_tx_confirmations(const wallet_snapshot *s, const char *txid);
/* TRUE if txid has at least k (>= 1) confirmations on the canonical tip. */
gboolean wallet_snapshot_tx_included(const wallet_snapshot *s, const char *txid, guint k);
/* TRUE if the wallet's listed balance is at least amount satoshis (FALSE for unknown wallets). */
gboolean wallet_snapshot_balance_at_least(const wallet_snapshot *s, const char *name, gint64 amount);
void wallet_snapshot_free(wallet_snapshot *s);
/* New JSON: tip, root, per wallet balance/immature/pending and listed outputs, chain view. */
json_t *wallet_snapshot_to_json(const wallet_snapshot *s);

G_END_DECLS

#endif
