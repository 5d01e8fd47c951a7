/* events.h: what the wallet projection reports when the canonical chain moves: per wallet,
 * outputs created, spent, reverted by a reorg, its transactions included or dropped by a
 * reorg. The wallet observer also forwards the chain observer's own events, wrapped, so a
 * handle subscriber sees both in cycle order. */
#ifndef WALLET_EVENTS_H
#define WALLET_EVENTS_H

#include <glib.h>
#include <jansson.h>
#include "chain/events.h"

G_BEGIN_DECLS

typedef enum {
    WALLET_EVENT_UTXO_CREATED,            /* an output to the wallet joined the canonical chain */
    WALLET_EVENT_UTXO_SPENT,              /* a canonical transaction spent a wallet output */
    WALLET_EVENT_UTXO_REVERTED_BY_REORG,  /* a wallet output's block left the canonical chain */
    WALLET_EVENT_TX_INCLUDED,             /* a transaction touching the wallet joined the canonical chain */
    WALLET_EVENT_TX_DROPPED_BY_REORG,     /* ... and left it again in a reorg */
    WALLET_EVENT_CHAIN,                   /* a chain observer event (chain != NULL) */
} wallet_event_kind;

/* A spend undone by a reorg has no event of its own: the spending transaction's
 * tx_dropped_by_reorg says it, and the output is unspent again in the new tip's state.
 * One event. wallet lives with the event (NULL for chain events). For utxo events txid:vout is the
 * output; for tx events vout is 0 and amount is the wallet's net change in satoshis
 * (received minus spent). block/height: the block holding it (for reverts: the block
 * that left the chain). */
typedef struct {
    wallet_event_kind kind;
    char *wallet;
    char txid[CHAIN_HASH_BUF];
    guint32 vout;
    gint64 amount;
    char block[CHAIN_HASH_BUF];
    gint64 height;
    chain_event *chain;   /* owned; WALLET_EVENT_CHAIN only */
    struct wallet_event_batch *batch; /* the allocation it was carved from; NULL: its own */
} wallet_event;

/* Events carved from one allocation: a projection emits an event per output a block
 * touches, and a malloc per event was most of what emitting them cost. */
typedef struct wallet_event_batch wallet_event_batch;

/* An empty event of `kind` (ids "", numbers 0, height -1) for `wallet` (copied, may be NULL);
 * free with wallet_event_free. */
wallet_event *wallet_event_new(wallet_event_kind kind, const char *wallet);
/* Room for n (> 0) events in one allocation, with one copy of the n_names wallet names
 * their wallet fields point into. Each of the n must be taken exactly once. */
wallet_event_batch *wallet_event_batch_new(guint n, const char *const *names, guint n_names);
/* Event i (< n) of the batch, empty as wallet_event_new makes it, of `kind` for wallet
 * names[w]. It is the caller's as any event: wallet_event_free frees it, and the batch's
 * allocation goes with the last of its events. */
wallet_event *wallet_event_batch_take(wallet_event_batch *b, guint i, wallet_event_kind kind, guint w);
/* Wraps a chain event (taken) in a new wallet event. */
wallet_event *wallet_event_wrap_chain(chain_event *ev);
/* Frees the event and what it owns. NULL is a no-op. GDestroyNotify-compatible. */
void wallet_event_free(void *event);
/* "utxo_created", "utxo_spent", "utxo_reverted_by_reorg", "tx_included",
 * "tx_dropped_by_reorg", "chain" (static). */
const char *wallet_event_kind_name(wallet_event_kind kind);
/* New JSON object for the event (a chain event shows as the chain observer's JSON). */
json_t *wallet_event_to_json(const wallet_event *ev);

G_END_DECLS

#endif
