/* events.h: what the chain observer reports happening between two cycles.
 * Plain C structs (one tagged union) built by the block graph and turned into JSON for
 * the runtime's journal and reports; the observer publishes them with tf_poll_emit. */
#ifndef CHAIN_EVENTS_H
#define CHAIN_EVENTS_H

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

/* Block hashes are 64 hex digits; every hash field is NUL-terminated, "" when absent. */
#define CHAIN_HASH_BUF 65

typedef enum {
    CHAIN_EVENT_BLOCK_DISCOVERED, /* a header connected to the graph */
    CHAIN_EVENT_HEAD_CHANGED,     /* a node's best block changed */
    CHAIN_EVENT_REORG,            /* a node's new head does not descend from its old head */
    CHAIN_EVENT_FORK_DETECTED,    /* a branch off the canonical chain gained a reachable node */
    CHAIN_EVENT_FORK_RESOLVED,    /* a live fork has no reachable node off the canonical chain any more */
} chain_event_kind;

/* block_discovered: the block as the node reported it. */
typedef struct {
    char hash[CHAIN_HASH_BUF];
    char parent_hash[CHAIN_HASH_BUF];
    gint64 height;
    gint64 time;
    char chainwork[CHAIN_HASH_BUF];
} chain_event_block;

/* head_changed and reorg. For reorg, depth = blocks removed from the old branch
 * (old height - ancestor height) and added = blocks of the new branch; when the
 * ancestor fell below the prune floor it is "" and depth/added are -1. */
typedef struct {
    char old_tip[CHAIN_HASH_BUF]; /* "" on a node's first head */
    gint64 old_height;            /* -1 on a node's first head */
    char new_tip[CHAIN_HASH_BUF];
    gint64 new_height;
    char common_ancestor[CHAIN_HASH_BUF];
    gint64 ancestor_height;
    gint64 depth;
    gint64 added;
} chain_event_head;

/* fork_detected and fork_resolved. A fork is named by its branch root: the first block
 * after the fork point, so a growing branch stays the same fork. */
typedef struct {
    char branch_root[CHAIN_HASH_BUF];
    char tip[CHAIN_HASH_BUF];
    gint64 tip_height;
    char fork_point[CHAIN_HASH_BUF];
    gint64 fork_height;
    gint64 length;      /* tip height - fork point height */
    char **nodes;       /* NULL-terminated, owned: reachable nodes whose head is on the branch */
    const char *resolution; /* fork_resolved only: "canonical", "abandoned" or "pruned" (static) */
} chain_event_fork;

/* One event. node is owned (NULL for fork events); the union member matches kind. */
typedef struct {
    chain_event_kind kind;
    guint64 cycle;
    char *node;
    union {
        chain_event_block block;
        chain_event_head head;
        chain_event_fork fork;
    } u;
} chain_event;

/* A zeroed event of `kind` for `node` (copied, may be NULL); free with chain_event_free. */
chain_event *chain_event_new(chain_event_kind kind, guint64 cycle, const char *node);
/* Frees an event and everything it owns. NULL is a no-op. GDestroyNotify-compatible. */
void chain_event_free(void *event);
/* Stable lowercase name of a kind: "block_discovered", "head_changed", "reorg", ... (static). */
const char *chain_event_kind_name(chain_event_kind kind);
/* New JSON object describing the event (caller owns the reference). */
json_t *chain_event_to_json(const chain_event *event);

G_END_DECLS

#endif
