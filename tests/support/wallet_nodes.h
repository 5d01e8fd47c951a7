/* wallet_nodes.h: simulated bitcoin-family nodes for the wallet observer's unit tests.
 * The chain simulator answers the chain calls over JSON-RPC (single and batched) on a
 * fixture HTTP server; the test gives each block's transactions their inputs and outputs
 * (getblock verbosity 2) and each node a mempool (getrawmempool, getrawtransaction). */
#ifndef TF_TEST_WALLET_NODES_H
#define TF_TEST_WALLET_NODES_H

#include <pthread.h>
#include <tf/tf.h>
#include "chain/sim.h"
#include "fixture_http.h"

typedef struct wallet_nodes_route wallet_nodes_route;

typedef struct {
    pthread_mutex_t lock;     /* guards everything below against the server threads */
    chain_sim *sim;
    guint n;
    GHashTable *txs;          /* txid -> json tx (vin/vout), for blocks and mempools */
    GHashTable *cb_addr;      /* coinbase txid -> address it pays */
    GPtrArray *mempool[CHAIN_SIM_MAX_NODES]; /* txids per node */
    gboolean fail_getblock;   /* getblock verbosity 2 answers an error */
    guint getblocks;          /* getblock verbosity 2 calls asked, every node */
    fixture_http *http;
    tf_source *src[CHAIN_SIM_MAX_NODES];   /* node i's source (owned) */
    wallet_nodes_route *routes;
} wallet_nodes;

/* n nodes over a simulator seeded with seed, serving at once. Free with wallet_nodes_free. */
wallet_nodes *wallet_nodes_new(guint32 seed, guint n);
void wallet_nodes_free(wallet_nodes *w);
/* Mines a block on node whose coinbase pays addr and which holds txids; its hash (borrowed
 * from the simulator). */
const char *wallet_nodes_mine(wallet_nodes *w, guint node, const char *addr, const char *const *txids);
/* The coinbase txid of block hash (new string). */
char *wallet_nodes_coinbase(wallet_nodes *w, const char *hash);

#endif
