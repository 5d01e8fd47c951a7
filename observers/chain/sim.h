/* sim.h: a deterministic in-process bitcoin-family cluster for tests of the chain logic.
 * N nodes share a genesis block; blocks are mined on one node and spread at once to the
 * nodes it is connected to (same partition group, online, not lagging). Nodes follow
 * bitcoin's fork choice (most work; on a tie keep the block received first), and answer
 * JSON-RPC calls with the same fields litecoind/bitcoind return, and REST header requests
 * with real 80-byte headers (a block's hash is its header's SHA-256d, its work what its
 * compact target is worth). Same seed, same chain. */
#ifndef CHAIN_SIM_H
#define CHAIN_SIM_H

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

typedef struct chain_sim chain_sim;

/* Most nodes a simulator can hold. */
#define CHAIN_SIM_MAX_NODES 64

/* A cluster of n_nodes (1..64) named "node0", "node1", ... all at genesis, in one group,
 * online. Work per block is 2, as on regtest. Free with chain_sim_free. */
chain_sim *chain_sim_new(guint32 seed, guint n_nodes);
void chain_sim_free(chain_sim *s);

guint chain_sim_n_nodes(const chain_sim *s);
/* The node's name (borrowed, lives as long as s). */
const char *chain_sim_node_name(const chain_sim *s, guint node);

/* Mines n blocks on node's head, one after another; each reaches the node's connected
 * peers at once. Returns the last block's hash (borrowed), NULL if the node is offline. */
const char *chain_sim_mine(chain_sim *s, guint node, guint n);
/* Mines one block of `work` (> 0; regtest's is 2; rounded up to what a compact target
 * holds) with a coinbase and txids
 * (NULL-terminated, copied, may be NULL). Returns its hash (borrowed) or NULL if offline. */
const char *chain_sim_mine_block(chain_sim *s, guint node, guint64 work,
                                 const char *const *txids);

/* Puts node i in group group_of[i] (n_nodes entries): only nodes of one group exchange
 * blocks. Groups that now hold nodes with different blocks sync at once. */
void chain_sim_partition(chain_sim *s, const guint *group_of);
/* Puts every node back in one group and syncs them. */
void chain_sim_heal(chain_sim *s);
/* A lagging node neither receives nor sends blocks; un-lagging syncs it with its group. */
void chain_sim_set_lagging(chain_sim *s, guint node, gboolean lagging);
/* An offline node answers no RPC and exchanges nothing; back online it syncs. */
void chain_sim_set_online(chain_sim *s, guint node, gboolean online);
/* Lets a lagging node advance at most n blocks along its group's best chain. */
void chain_sim_advance(chain_sim *s, guint node, guint n);

/* Blocks mined so far, genesis included; index 0 is genesis, then in mining order. */
guint chain_sim_block_count(const chain_sim *s);
/* The hash of block idx (borrowed), or NULL out of range. */
const char *chain_sim_block_hash(const chain_sim *s, guint idx);
/* The index of a block by hash, or -1. */
gint chain_sim_block_index(const chain_sim *s, const char *hash);
gint64 chain_sim_block_height(const chain_sim *s, guint idx);
/* The block's txids, coinbase first (NULL-terminated, borrowed). */
const char *const *chain_sim_block_txids(const chain_sim *s, guint idx);
/* Block idx as getblockheader reports it outside any node's view (no confirmations,
 * no nextblockhash). New reference. */
json_t *chain_sim_header_json(const chain_sim *s, guint idx);

/* The node's head hash / height (borrowed). */
const char *chain_sim_head(const chain_sim *s, guint node);
gint64 chain_sim_head_height(const chain_sim *s, guint node);
/* The most-work block mined so far; ties go to the first mined (borrowed). */
const char *chain_sim_best_tip(const chain_sim *s);
/* Blocks removed going from head old_hash to new_hash (0 if new descends from old),
 * counted by walking parents one by one; *ancestor (may be NULL) gets the common
 * ancestor's hash (borrowed). -1 if a hash is unknown. */
gint64 chain_sim_reorg_depth(const chain_sim *s, const char *old_hash, const char *new_hash,
                             const char **ancestor);

/* Answers a JSON-RPC call as the node would: getbestblockhash, getblockcount,
 * getblockhash [h], getblockheader [hash], getblock [hash] (verbosity 1: txids),
 * getchaintips. params is borrowed (array or NULL). Returns the "result" value (new
 * reference) or NULL + error (offline node, unknown method, unknown block, bad height). */
json_t *chain_sim_rpc(chain_sim *s, guint node, const char *method, const json_t *params,
                      GError **error);

/* Answers GET /rest/headers/COUNT/HASH.bin as the node would: up to count serialized
 * 80-byte headers of its active chain from hash upwards, appended to out; nothing for a
 * block it does not know, that block alone for one off its active chain. FALSE + error
 * when the node is offline. */
gboolean chain_sim_rest_headers(chain_sim *s, guint node, const char *hash, guint count, GByteArray *out,
                                GError **error);

G_END_DECLS

#endif
