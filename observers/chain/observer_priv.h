/* observer_priv.h: the chain observer's private state, shared by observer.c (polling,
 * catch-up), observer_snapshot.c (snapshots, JSON, queries) and longpoll.c. Not installed. */
#ifndef CHAIN_OBSERVER_PRIV_H
#define CHAIN_OBSERVER_PRIV_H

#include "chain/observer.h"
#include "chain/rpc.h"

/* A thread per source blocked in waitfornewblock that wakes the runtime on a new block. */
typedef struct chain_longpoll chain_longpoll;

/* Starts a long-poll thread on its own copy of the endpoint (src borrowed; waker taken). */
chain_longpoll *chain_longpoll_start(const tf_source *src, tf_waker *waker, guint timeout_ms);
/* Stops it promptly (interrupts the request in flight), joins and frees it. NULL: no-op. */
void chain_longpoll_stop(chain_longpoll *lp);
/* Times the thread saw a new block and woke the runtime. */
guint64 chain_longpoll_wakes(chain_longpoll *lp);

/* What the state knows of one source. */
typedef struct {
    char *name;
    tf_source *src;                /* ref; replaced when the source changes */
    chain_rpc *rpc;
    gboolean is_public;
    gboolean reachable;
    char *error;
    guint64 reorgs;
    chain_event_head last_reorg;
    guint64 last_reorg_cycle;
    chain_longpoll *lp;
    int rest;                      /* its REST interface: 0 not tried yet, 1 answers, -1
                                      answered 404 (JSON-RPC only until the source changes) */
} chain_cnode;

/* The durable checkpoint of a state (checkpoint.c); only with cfg.store. */
typedef struct chain_ckpt chain_ckpt;

struct chain_state {
    chain_observer_config cfg;
    chain_graph *graph;
    GHashTable *nodes;             /* name -> chain_cnode* (owned) */
    guint64 requests;
    guint64 reorgs;
    chain_ckpt *ckpt;              /* NULL without a store */
};

/* Loads the checkpoint into st (a valid one replaces the graph) and logs the decision;
 * NULL (logged) when no fingerprint can be made. */
chain_ckpt *chain_ckpt_open(chain_state *st);
/* After each poll: notes bootstrap and saves every checkpoint_every cycles. */
void chain_ckpt_after_poll(chain_state *st, chain_ckpt *ck);
/* Saves a last time and frees ck. NULL is a no-op. */
void chain_ckpt_close(chain_state *st, chain_ckpt *ck);
void chain_ckpt_free(chain_ckpt *ck);

#endif
