/* observer.h: the chain observer: a tf_observer over bitcoin-family nodes (litecoind
 * regtest here) feeding one shared block graph. Each cycle it asks every node for its best
 * block, walks back to the known graph with batched requests, fetches the missing headers
 * (binary over REST where the node has it, else batched JSON-RPC), and publishes node
 * heads, canonical tip, LIB, forks, the public majority target and events. The same
 * state (chain_state) can be embedded by projections (wallets) that need graph queries. */
#ifndef CHAIN_OBSERVER_H
#define CHAIN_OBSERVER_H

#include <glib.h>
#include <jansson.h>
#include <tf/durable.h>
#include <tf/observer.h>
#include <tf/snapshot.h>
#include "chain/events.h"
#include "chain/graph.h"

G_BEGIN_DECLS

/* Observer settings; fill with chain_observer_config_init, then change fields. */
typedef struct {
    chain_graph_config graph;      /* LIB k, retained depth, base height, orphan cap */
    gboolean prune;                /* prune below LIB - retained depth each cycle (TRUE) */
    gboolean fetch_txids;          /* getblock (verbosity 1) for every new block the graph
                                      keeps after pruning (FALSE) */
    guint max_batch;               /* most calls in one HTTP request (2000) */
    gboolean rest;                 /* catch up on binary headers from the node's REST
                                      interface (-rest), falling back to JSON-RPC where it
                                      answers 404 (TRUE) */
    gboolean long_poll;            /* a waitfornewblock thread per source (FALSE) */
    guint long_poll_ms;            /* its timeout per call, in ms (1000) */
    guint snapshot_blocks;         /* canonical blocks (with txids) in each snapshot (32) */
    /* Durable checkpoint (checkpoint.c): with a store, a restart restores the block graph
     * if the checkpoint's fingerprint matches and catches up only the new blocks. */
    tf_store *store;               /* NULL: no checkpoints (a reference is taken) */
    const char *checkpoint_name;   /* one per observed network ("chain"); borrowed */
    guint checkpoint_every;        /* cycles between saves after bootstrap (10); also on free */
} chain_observer_config;

/* Defaults as above; graph defaults except base_height 0 (the whole chain from genesis). */
void chain_observer_config_init(chain_observer_config *cfg);

/* One node as a snapshot shows it. */
typedef struct {
    char *name;
    gboolean is_public;            /* source attribute "role" is "public" */
    gboolean reachable;            /* answered this cycle */
    char head[CHAIN_HASH_BUF];     /* "" before its first answer */
    gint64 height;                 /* -1 before its first answer */
    gboolean canonical;            /* its head is on the canonical chain */
    guint64 reorgs;                /* reorg events seen on it so far */
    chain_event_head last_reorg;   /* meaningful when reorgs > 0 */
    guint64 last_reorg_cycle;
    char *error;                   /* why it is unreachable; NULL when reachable */
} chain_node_view;

/* A canonical block near the tip, as a snapshot keeps it. */
typedef struct {
    char hash[CHAIN_HASH_BUF];
    gint64 height;
    char **txids;                  /* NULL-terminated, owned; NULL when not fetched */
} chain_recent_block;

/* The published view. Immutable; owned by the runtime's tf_snapshot. */
typedef struct {
    guint n_nodes;
    chain_node_view *nodes;        /* sorted by name, local and public mixed */
    char tip[CHAIN_HASH_BUF];      /* canonical tip ("" while empty) */
    gint64 tip_height;             /* -1 while empty */
    char lib[CHAIN_HASH_BUF];      /* "" without one */
    gint64 lib_height;             /* -1 without one */
    char target[CHAIN_HASH_BUF];   /* majority public target, "" without one */
    gint64 target_height;          /* -1 without one */
    guint n_public, n_public_reachable, n_local, n_local_reachable;
    GPtrArray *forks;              /* chain_fork (graph.h), every branch off the canonical chain */
    guint live_forks;              /* forks with at least one reachable node on them */
    guint blocks, orphans;         /* graph size */
    gint64 floor;                  /* lowest height held (-1 while empty) */
    guint n_recent;
    chain_recent_block *recent;    /* canonical blocks, tip first */
    guint64 requests;              /* HTTP requests the observer sent so far */
    guint64 reorgs;                /* reorg events so far, all nodes */
} chain_snapshot;

/* The observer (static vtable). Config: a chain_observer_config or NULL for defaults.
 * Sources: url = the node's RPC base URL; attributes rpc_user/rpc_password or
 * rpc_cookie_file; "role": "public" or "local" (default); "state" (as the cluster
 * provider sets it): a node not "running" is reported unreachable without a request. */
extern const tf_observer chain_observer;

/* The node called name in a snapshot, or NULL (borrowed). */
const chain_node_view *chain_snapshot_node(const chain_snapshot *s, const char *name);
/* Confirmations of txid among the snapshot's recent canonical blocks (tip = 1), 0 when
 * none of them holds it; block_hash (may be NULL) gets the block or "". */
gint64 chain_snapshot_tx_confirmations(const chain_snapshot *s, const char *txid,
                                       char block_hash[CHAIN_HASH_BUF]);
/* Frees a snapshot. NULL is a no-op. */
void chain_snapshot_free(chain_snapshot *s);
/* New JSON of a snapshot: nodes, local/public views, tip, lib, target, forks, graph size. */
json_t *chain_snapshot_to_json(const chain_snapshot *s);

/* The fingerprint of the chain observer's logic under cfg (NULL = defaults): what a
 * projection built on it passes as a dependency (new string; NULL + error without a
 * build-id). */
char *chain_observer_fingerprint(const chain_observer_config *cfg, GError **error);

/* ---- the state, for projections that embed the chain observer ---------------------- */

/* The observer's state: the graph, the sources, their long-poll threads. Runtime-thread only. */
typedef struct chain_state chain_state;

/* A new state (config borrowed, copied; NULL = defaults). NULL + error on a bad config. */
chain_state *chain_state_new(const chain_observer_config *cfg, GError **error);
/* Stops and joins every long-poll thread, frees everything. NULL is a no-op. */
void chain_state_free(chain_state *st);
/* One cycle: sources, heads, catch-up, txids, forks, pruning; events go to tf_poll_emit. */
gboolean chain_state_poll(chain_state *st, tf_poll_ctx *ctx, GError **error);
/* The same cycle, but the events are appended to `out` (taken: free them with
 * chain_event_free) instead of emitted, for a projection that emits its own event type. */
gboolean chain_state_poll_collect(chain_state *st, tf_poll_ctx *ctx, GPtrArray *out,
                                  GError **error);
/* A new snapshot of the state (caller owns: chain_snapshot_free). */
chain_snapshot *chain_state_snapshot(chain_state *st);
/* The graph (borrowed; valid until the next poll or free). */
const chain_graph *chain_state_graph(const chain_state *st);
/* HTTP requests sent so far (catch-up, heads, txids). */
guint64 chain_state_requests(const chain_state *st);

/* The checkpoint decision logged at start ("checkpoint of chain: valid..." or why it
 * was a full scan), or NULL without a store (borrowed). */
const char *chain_state_checkpoint_why(const chain_state *st);
/* TRUE if the state started from a checkpoint instead of a full scan. */
gboolean chain_state_checkpoint_restored(const chain_state *st);
/* The observer's fingerprint as used for its checkpoint, NULL without a store (borrowed). */
const char *chain_state_fingerprint(const chain_state *st);
/* The state as checkpoint JSON (new ref) / replaces the graph from one (FALSE + error,
 * state unchanged, when it does not connect). For tools and tests; the hook uses them. */
json_t *chain_state_checkpoint_json(const chain_state *st);
gboolean chain_state_restore_json(chain_state *st, json_t *cp, GError **error);

/* Queries by hash for projections (unknown or pruned hashes answer FALSE / -1 / NULL). */
/* TRUE if block a is an ancestor of block b or b itself. */
gboolean chain_state_is_ancestor(const chain_state *st, const char *a, const char *b);
/* The highest common ancestor of a and b into out; its height, or -1 if unknown. */
gint64 chain_state_common_ancestor(const chain_state *st, const char *a, const char *b,
                                   char out[CHAIN_HASH_BUF]);
/* Canonical hashes from height `from` to `to`, ascending (new array of new strings). */
GPtrArray *chain_state_canonical_path(const chain_state *st, gint64 from, gint64 to);
/* TRUE if txid is in a canonical block with at least k confirmations (needs fetch_txids). */
gboolean chain_state_tx_included(const chain_state *st, const char *txid, guint k);

G_END_DECLS

#endif
