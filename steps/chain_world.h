/* chain_world.h: what a chain scenario keeps in its world: the local litecoind cluster
 * (and optionally a "public" one), one chain observer runtime over all their nodes, RPC
 * endpoints and mining wallets per node, and what the last actions expect.
 * Shared by the chain step files; not a public API. */
#ifndef TF_STEPS_CHAIN_WORLD_H
#define TF_STEPS_CHAIN_WORLD_H

#include <tf/cluster.h>
#include <tf/steps.h>
#include <tf/tf.h>
#include "chain/observer.h"
#include "chain/rpc.h"

/* The sources the runtime observes: every node of every cluster of the scenario. */
typedef struct ch_sources ch_sources;

typedef struct {
    tf_cluster *clusters[4];
    gboolean owned[4];       /* clusters[i] is freed with the world */
    guint n_clusters;
    ch_sources *sources;     /* borrowed: owned by the runtime's provider */
    tf_runtime *rt;
    tf_handle *h;
    tf_http *http;           /* the step thread's client */
    GHashTable *rpcs;        /* node name -> chain_rpc* */
    GHashTable *addresses;   /* node name -> mining address (its wallet "tf") */
    GHashTable *partitioned; /* node names cut off from every other node by a network fault */
    GHashTable *reorg_base;  /* node name -> reorg count when the partition healed */
    gint64 acted_at;         /* monotonic µs of the last action */
    gint64 mined_height;     /* highest tip any mining step produced */
    char *txid;              /* the last transaction sent */
    char *tx_sender;
} ch_world;

/* Records an action now (any step module that changes the chain calls it), so the
 * next "Then" waits for a snapshot taken after it; wakes the runtime. */
void ch_world_acted(ch_world *ch);
/* The scenario's chain world, or NULL + error telling how to start a cluster. */
ch_world *ch_world_get(tf_step *step, GError **error);
/* The world, creating it (and its runtime) on first use. */
ch_world *ch_world_ensure(tf_world *world, GError **error);
/* Adds a cluster to the world and to the observed sources. owned: taken, freed with the
 * world (one the scenario started); else borrowed: a network that outlives the scenario
 * (started in a BeforeAll hook, say, and shared by scenarios and retried attempts). */
void ch_world_add_cluster(ch_world *ch, tf_cluster *c, gboolean owned);
/* The node's address in its wallet "tf" (creating or loading the wallet first): the same
 * address every time on the same node (the first one labelled "tf"), so effects keyed by
 * addresses are the same effect in every world over that node. */
/* Finds node `name` in any cluster: its cluster and index. FALSE + error naming the known nodes. */
gboolean ch_node(ch_world *ch, const char *name, tf_cluster **c, guint *i, GError **error);
/* The node's RPC endpoint (borrowed; lives as long as the world). */
chain_rpc *ch_rpc(ch_world *ch, const char *name, GError **error);
/* One RPC call on node `name` (path NULL or "/wallet/tf"); params taken. New ref or NULL + error. */
json_t *ch_call(ch_world *ch, const char *name, const char *path, const char *method,
                json_t *params, GError **error);
const char *ch_address(ch_world *ch, const char *name, GError **error);
/* "n1 h=12 3f2a1b.., n2 h=12 .., tip 12, lib 6, 0 live forks" for wait progress lines. */
char *ch_progress(const tf_snapshot *snap, void *unused);

#endif
