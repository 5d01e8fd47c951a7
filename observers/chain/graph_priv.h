/* graph_priv.h: the block graph's private structures, shared by graph.c (headers and
 * ancestry), graph_nodes.c (heads, LIB, forks, public target) and graph_prune.c (pruning,
 * tx index). Not installed; nothing outside observers/chain includes it. */
#ifndef CHAIN_GRAPH_PRIV_H
#define CHAIN_GRAPH_PRIV_H

#include "chain/graph.h"

/* A connected block. parent and skip are only followed to heights >= the floor: blocks
 * below it are freed, so those pointers may dangle by design (see chain_ancestor). */
struct chain_block {
    char hash[CHAIN_HASH_BUF];
    char parent_hash[CHAIN_HASH_BUF];
    gint64 height;
    chain_work work;
    gint64 time;
    guint64 first_cycle;
    guint64 seq;          /* arrival order: the "first seen" of fork choice */
    chain_block *parent;
    chain_block *skip;    /* ancestor at chain_skip_height(height), bitcoin's pskip */
    guint n_children;
    guint head_refs;      /* nodes whose head is this block */
    char **txids;
    /* Cache for stale tips: last computed fork point with the canonical chain and the
     * branch's first block; rechecked in O(log n), recomputed only after a reorg. */
    chain_block *fork_point;
    chain_block *branch_root;
    gint64 fork_height;   /* read before fork_point: below the floor, it may be freed */
};

/* A header waiting for its parent. */
typedef struct {
    char hash[CHAIN_HASH_BUF];
    char parent_hash[CHAIN_HASH_BUF];
    gint64 height;
    chain_work work;
    gint64 time;
    guint64 cycle;
    guint64 seq;
    char *node;
    GList *order_link;    /* its link in chain_graph.orphan_order */
} chain_pending;

/* All blocks at one height: pruning frees heights in order without scanning the graph. */
typedef struct {
    gint64 height;        /* the hash key points here */
    GPtrArray *blocks;
} chain_bucket;

typedef struct {
    char *name;
    char head_hash[CHAIN_HASH_BUF];
    gint64 head_height;
    chain_block *head;    /* NULL if no head or the head was pruned */
    gboolean reachable;
    gboolean is_public;
} chain_node;

struct chain_graph {
    chain_graph_config cfg;
    GHashTable *blocks;     /* hash -> chain_block* (owned) */
    GHashTable *by_height;  /* &height -> chain_bucket* (owned) */
    GHashTable *tips;       /* chain_block* set: blocks without children */
    chain_block *best;      /* canonical tip */
    gboolean has_root;
    gint64 floor;           /* -1 until the root arrives */
    guint64 next_seq;
    GHashTable *orphans;           /* hash -> chain_pending* (owned) */
    GHashTable *orphans_by_parent; /* parent hash -> GPtrArray of chain_pending* (borrowed) */
    GQueue orphan_order;           /* chain_pending*, oldest first */
    GHashTable *nodes;      /* name -> chain_node* (owned) */
    GHashTable *tx_index;   /* txid -> GPtrArray of chain_block* (borrowed) */
    GHashTable *live_forks; /* branch root hash -> chain_fork* (owned), from the last update */
};

/* The ancestor of b at `height`, or NULL if height is above b or below the floor. */
chain_block *chain_ancestor(const chain_graph *g, const chain_block *b, gint64 height);
/* TRUE if a beats b in fork choice: more work, then first seen, then smaller hash. */
gboolean chain_block_better(const chain_block *a, const chain_block *b);
/* TRUE if b is on the canonical chain. */
gboolean chain_is_canonical(const chain_graph *g, const chain_block *b);
/* The fork point of b (off the canonical chain) and, in *root, the first block of its
 * branch; NULL if the fork point is below the floor. Cached on b. */
const chain_block *chain_stale_fork_point(const chain_graph *g, const chain_block *b,
                                          const chain_block **root);
/* Unlinks b from every index (blocks, tips, bucket if unbucket, tx index, node heads)
 * and frees it. Does not touch its parent's child count. */
void chain_block_destroy(chain_graph *g, chain_block *b, gboolean unbucket);
/* Removes b's txids from the tx index. */
void chain_tx_unindex(chain_graph *g, chain_block *b);
/* Frees a pending header after unlinking it from the orphan indexes. */
void chain_pending_drop(chain_graph *g, chain_pending *p);

#endif
