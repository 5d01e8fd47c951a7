/* cache.h: the wallet observer's cached projections. With a tf_store, what a header did
 * to the tracked wallets is stored under a hash of everything it was computed from, so a
 * restarted observer rebuilds known headers from the store instead of fetching their
 * bodies again. Internal to the wallet observer; runtime-thread only. */
#ifndef WALLET_CACHE_H
#define WALLET_CACHE_H

#include <glib.h>
#include <jansson.h>
#include <tf/durable.h>
#include "chain/graph.h"
#include "wallet/block.h"
#include "wallet/projection.h"

G_BEGIN_DECLS

typedef struct wallet_cache wallet_cache;

/* A cache over store (a reference is taken) for wallets names[i] owning addresses[i]
 * (NULL-terminated; both borrowed), recording entries under run. Its fingerprint is the
 * wallet observer's (config: the wallet set) built on chain_fingerprint. NULL (and a log
 * line saying why) when the fingerprint cannot be computed: the observer then runs
 * without a cache. */
wallet_cache *wallet_cache_new(tf_store *store, gint64 run, const char *chain_fingerprint,
                               GPtrArray *names, GPtrArray *addresses);
/* NULL is a no-op. */
void wallet_cache_free(wallet_cache *c);
/* The fingerprint the keys are built on (borrowed). */
const char *wallet_cache_fingerprint(const wallet_cache *c);

/* The block `hash` (the graph's header: its parent and height must match) rebuilt from
 * the cache as the projection needs it, for a projection whose start block is origin
 * ("" while it is empty: hash is then the start block). NULL on a miss; NULL with
 * *corrupt TRUE (and a log line naming the header and why) when a row exists but cannot
 * be used. New block (wallet_block_free). */
wallet_block *wallet_cache_lookup(wallet_cache *c, const char *origin, const chain_graph *g,
                                  const char *hash, gboolean *corrupt);
/* The delta of full block b against projection p (call before adding b): the block's
 * transactions that touch a tracked wallet, with only their wallet outputs and the
 * inputs that may spend a wallet output (new JSON), or NULL when b's parent is not held. */
json_t *wallet_cache_delta(wallet_cache *c, const wallet_projection *p, const wallet_block *b);
/* Stores a delta (borrowed) for b's header under origin, with provenance. Failures are
 * logged: the cache is an optimisation, never a reason to fail a cycle. */
void wallet_cache_put(wallet_cache *c, const char *origin, const char *hash, json_t *delta);

G_END_DECLS

#endif
