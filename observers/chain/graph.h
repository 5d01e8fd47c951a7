/* graph.h: the fork-aware block graph of a bitcoin-family cluster, pure logic.
 * It holds every header the nodes reported (hash -> height, parent, chainwork, time, first
 * cycle seen), each node's head, and answers fork-choice questions (canonical tip, forks,
 * reorgs, LIB, majority public target, tx inclusion) in O(log n) or O(fork depth) per call
 * via an ancestor skip list, while pruning below LIB keeps memory bounded. Not thread-safe:
 * one observer state owns one graph. */
#ifndef CHAIN_GRAPH_H
#define CHAIN_GRAPH_H

#include <glib.h>
#include <jansson.h>
#include "chain/events.h"
#include "chain/work.h"

G_BEGIN_DECLS

typedef struct chain_graph chain_graph;
/* A block of the graph; owned by the graph, valid until the next chain_graph_prune. */
typedef struct chain_block chain_block;

/* Graph settings; fill with chain_graph_config_init, then change fields. */
typedef struct {
    /* LIB needs at least this many confirmations on the canonical chain, counted as
     * bitcoin does (the tip has 1), so k = 0 and k = 1 mean the same. */
    guint lib_confirmations;
    /* Blocks kept below LIB: the prune floor is LIB height - retained_depth. */
    guint retained_depth;
    /* Height of the root block (0: genesis). < 0: the first header added becomes the root. */
    gint64 base_height;
    /* Headers waiting for their parent, at most; the oldest is dropped first. */
    guint max_orphans;
} chain_graph_config;

/* Defaults: lib_confirmations 6, retained_depth 100, base_height -1, max_orphans 4096. */
void chain_graph_config_init(chain_graph_config *config);

/* A header as getblockheader reports it. All strings borrowed; parent_hash NULL or "" for
 * a chain's first block. Hashes are 64 hex digits; chainwork is hex (1 to 64 digits). */
typedef struct {
    const char *hash;
    const char *parent_hash;
    gint64 height;
    const char *chainwork;
    gint64 time;
} chain_header;

/* Fills *out from a getblockheader/getblock result object (hash, height,
 * previousblockhash, chainwork, time); strings borrowed from obj. FALSE + error if a field
 * is missing or malformed. */
gboolean chain_header_from_json(const json_t *obj, chain_header *out, GError **error);

/* What chain_graph_add_header did with a header. */
typedef enum {
    CHAIN_ADD_CONNECTED,   /* joined the graph (and possibly connected waiting orphans) */
    CHAIN_ADD_ORPHAN,      /* parent unknown: kept pending until the parent arrives */
    CHAIN_ADD_DUPLICATE,   /* already known (connected or pending): nothing changed */
    CHAIN_ADD_BELOW_FLOOR, /* at or below the prune floor: can never connect, ignored */
} chain_add_status;

/* A node's head update, as returned by chain_graph_set_head. Hashes "" when absent. */
typedef struct {
    gboolean head_changed;
    gboolean reorg;          /* the new head does not descend from the old one */
    char old_tip[CHAIN_HASH_BUF];
    gint64 old_height;       /* -1 when the node had no head */
    char new_tip[CHAIN_HASH_BUF];
    gint64 new_height;
    char common_ancestor[CHAIN_HASH_BUF]; /* reorg only; "" if below the prune floor */
    gint64 ancestor_height;  /* reorg only; -1 if unknown */
    gint64 depth;            /* reorg only: blocks removed from the old branch; -1 if unknown */
    gint64 added;            /* reorg only: blocks on the new branch; -1 if unknown */
} chain_head_change;

/* A branch off the canonical chain (see chain_graph_forks). */
typedef struct {
    char branch_root[CHAIN_HASH_BUF]; /* first block after the fork point: the fork's name */
    char tip[CHAIN_HASH_BUF];         /* the branch's most-work tip */
    gint64 tip_height;
    char fork_point[CHAIN_HASH_BUF];  /* last block shared with the canonical chain */
    gint64 fork_height;
    gint64 length;                    /* tip height - fork height */
    char **nodes;                     /* NULL-terminated, owned: reachable nodes whose head is on it */
} chain_fork;

/* Frees a chain_fork and its nodes. GDestroyNotify-compatible. */
void chain_fork_free(void *fork);

/* A new empty graph with a copy of *config (NULL: defaults). Free with chain_graph_free. */
chain_graph *chain_graph_new(const chain_graph_config *config);
/* Frees the graph and every block. NULL is a no-op. */
void chain_graph_free(chain_graph *g);

/* Adds a header seen by `node` (borrowed, may be NULL) in `cycle`. Every block that
 * connects (this one and orphans waiting on it) appends a block_discovered event to
 * `events` (may be NULL; the array must free with chain_event_free). FALSE + error when
 * the header is malformed or contradicts its parent (height) or the root. */
gboolean chain_graph_add_header(chain_graph *g, const chain_header *h, guint64 cycle,
                                const char *node, chain_add_status *status,
                                GPtrArray *events, GError **error);
/* chain_graph_add_header with the header's chainwork already parsed (work; h->chainwork
 * is not read, may be NULL): for headers whose chainwork was summed, not read as text. */
gboolean chain_graph_add_header_work(chain_graph *g, const chain_header *h, const chain_work *work,
                                     guint64 cycle, const char *node, chain_add_status *status,
                                     GPtrArray *events, GError **error);
/* Stores the txids of a connected block (copied), replacing any earlier list, for tx
 * inclusion queries. FALSE + error if the block is unknown. */
gboolean chain_graph_set_txids(chain_graph *g, const char *hash, const char *const *txids,
                               gsize n_txids, GError **error);

/* Sets `node`'s head to the connected block `hash` (creating the node, reachable and
 * local, on first use). Fills *change (may be NULL) and appends head_changed and reorg
 * events to `events` (may be NULL). FALSE + error if the block is not connected. */
gboolean chain_graph_set_head(chain_graph *g, const char *node, const char *hash,
                              guint64 cycle, chain_head_change *change, GPtrArray *events,
                              GError **error);
/* Marks a node reachable or not (created if unknown). Unreachable nodes keep their last
 * head but count for neither LIB, forks nor the public target. */
void chain_graph_set_reachable(chain_graph *g, const char *node, gboolean reachable);
/* Tags a node public (a peer of the wider network) or local (created if unknown). */
void chain_graph_set_public(chain_graph *g, const char *node, gboolean is_public);
/* Forgets a node. Unknown names are a no-op. */
void chain_graph_remove_node(chain_graph *g, const char *node);
/* The node's head block, or NULL if it has none or it was pruned (borrowed). */
const chain_block *chain_graph_head(const chain_graph *g, const char *node);
/* Names of all nodes, sorted (new array of borrowed strings, valid until the node goes). */
GPtrArray *chain_graph_nodes(const chain_graph *g);
/* Names of reachable nodes whose head has `b` as ancestor-or-self, sorted (new array of
 * borrowed strings). */
GPtrArray *chain_graph_block_nodes(const chain_graph *g, const chain_block *b);

/* A connected block by hash, or NULL (borrowed). */
const chain_block *chain_graph_block(const chain_graph *g, const char *hash);
/* Connected blocks kept / headers waiting for a parent. */
guint chain_graph_block_count(const chain_graph *g);
guint chain_graph_orphan_count(const chain_graph *g);
/* The lowest height still held (-1 while empty); nothing below it is answered. */
gint64 chain_graph_floor(const chain_graph *g);

/* The tip with the most chainwork; ties go to the first seen, then the smaller hash.
 * NULL while empty (borrowed). */
const chain_block *chain_graph_canonical_tip(const chain_graph *g);
/* The canonical block at `height`, or NULL above the tip or below the floor (borrowed). */
const chain_block *chain_graph_canonical_at(const chain_graph *g, gint64 height);
/* Canonical blocks from height `from` to `to` inclusive, ascending (new array of borrowed
 * blocks); heights outside [floor, tip] are left out. */
GPtrArray *chain_graph_canonical_path(const chain_graph *g, gint64 from, gint64 to);
/* TRUE if a is an ancestor of b or b itself. O(log n). */
gboolean chain_graph_is_ancestor(const chain_graph *g, const chain_block *a,
                                 const chain_block *b);
/* The highest common ancestor-or-self of a and b, or NULL if it is below the floor. */
const chain_block *chain_graph_common_ancestor(const chain_graph *g, const chain_block *a,
                                               const chain_block *b);

/* The highest canonical block that is an ancestor-or-self of every reachable node's head
 * and has at least lib_confirmations confirmations; NULL without reachable heads. */
const chain_block *chain_graph_lib(const chain_graph *g);
/* The highest block that is ancestor-or-self of the heads of a strict majority of the
 * reachable public nodes; NULL if there are none or they agree on nothing (borrowed). */
const chain_block *chain_graph_public_target(const chain_graph *g);
/* Branches off the canonical chain, one per branch root, with their most-work tip, sorted
 * by branch root (new array of chain_fork, freeing them). */
GPtrArray *chain_graph_forks(const chain_graph *g);
/* Compares the live forks (those with a reachable node on them) with the previous call
 * and appends fork_detected / fork_resolved events to `events` (may be NULL).
 * Returns the number of events appended. */
guint chain_graph_update_forks(chain_graph *g, guint64 cycle, GPtrArray *events);

/* Confirmations of txid on the canonical chain (tip = 1), 0 if no canonical block holds
 * it; fills block_hash (may be NULL) with the including block or "". Blocks pruned below
 * the floor are forgotten. */
gint64 chain_graph_tx_confirmations(const chain_graph *g, const char *txid,
                                    char block_hash[CHAIN_HASH_BUF]);
/* TRUE if txid is in the canonical chain with at least k confirmations. */
gboolean chain_graph_tx_included(const chain_graph *g, const char *txid, guint k);

/* Raises the floor to LIB height - retained_depth (never lowers it) and drops every block
 * below it, every branch that forks below it and every orphan at or below it.
 * Returns the number of blocks dropped. Blocks and heads above the floor stay valid. */
guint chain_graph_prune(chain_graph *g);

/* Block fields (the block is borrowed; strings live as long as the block). */
const char *chain_block_hash(const chain_block *b);
/* The parent's hash ("" for the root, even once the parent is pruned it is kept). */
const char *chain_block_parent_hash(const chain_block *b);
gint64 chain_block_height(const chain_block *b);
const chain_work *chain_block_work(const chain_block *b);
gint64 chain_block_time(const chain_block *b);
/* The cycle in which the header was first added (as an orphan or connected). */
guint64 chain_block_first_cycle(const chain_block *b);
/* The stored txids (NULL-terminated, borrowed) or NULL if none were given. */
const char *const *chain_block_txids(const chain_block *b);

G_END_DECLS

#endif
