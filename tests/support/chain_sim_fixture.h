/* chain_sim_fixture.h: a chain simulator mirrored into a block graph the way the chain
 * observer feeds it, for the graph's unit tests (test_chain_graph, test_chain_lib). */
#ifndef TF_TEST_CHAIN_SIM_FIXTURE_H
#define TF_TEST_CHAIN_SIM_FIXTURE_H

#include "chain/graph.h"
#include "chain/sim.h"

typedef struct {
    chain_sim *sim;
    chain_graph *g;
    guint fed;            /* sim blocks already given to the graph */
    guint64 cycle;
    GPtrArray *events;    /* every event since the last fx_clear_events */
    chain_head_change last[CHAIN_SIM_MAX_NODES];
    gboolean counted[CHAIN_SIM_MAX_NODES]; /* reachable with a head the graph accepted */
} fx;

/* A simulator of `nodes` nodes (seed) and a graph with LIB k and retained depth. */
fx *fx_new(guint32 seed, guint nodes, guint k, guint retained);
void fx_free(fx *f);
/* Gives the graph every new block (in mining order) with its txids. */
void fx_feed(fx *f);
/* One observer cycle: new headers, then each node's head over the simulated RPC. */
void fx_cycle(fx *f);
/* Events of kind among f->events. */
guint count_events(const fx *f, chain_event_kind kind);
/* The graph's canonical tip hash (borrowed). */
const char *tip_hash(const fx *f);
/* The graph's canonical hash at height h (borrowed) or NULL. */
const char *canon_hash(const fx *f, gint64 h);
/* The hash node reports at height h (getblockhash), as an independent reference (g_free). */
char *sim_hash_at(fx *f, guint node, gint64 h);
/* Adds the header JSON j (taken) to g and checks the outcome is want. */
void add_json(chain_graph *g, json_t *j, chain_add_status want, GPtrArray *events);

#endif
