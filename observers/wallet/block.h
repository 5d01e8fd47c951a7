/* block.h: the parts of a block the wallet projection reads: per transaction its txid,
 * whether it is a coinbase, the outpoints it spends and its outputs (amount in integer
 * satoshis/litoshis, address). Parsed from getblock (verbosity 2) and getrawtransaction
 * (verbose) answers, or built by hand in tests. */
#ifndef WALLET_BLOCK_H
#define WALLET_BLOCK_H

#include <glib.h>
#include <jansson.h>
#include "chain/events.h"

G_BEGIN_DECLS

/* An output being spent: (txid, vout). */
typedef struct {
    char txid[CHAIN_HASH_BUF];
    guint32 vout;
} wallet_outpoint;

/* One output: its amount in satoshis and its address (owned; NULL when the script has
 * none, e.g. OP_RETURN or bare multisig: never tracked). */
typedef struct {
    gint64 amount;
    char *address;
} wallet_txout;

/* One transaction. Owned by its block (or by the caller for mempool transactions). */
typedef struct {
    char txid[CHAIN_HASH_BUF];
    gboolean coinbase;
    guint n_in;
    wallet_outpoint *in;   /* owned; empty for a coinbase */
    guint n_out;
    wallet_txout *out;     /* owned; index = vout */
} wallet_tx;

/* One block: header fields and its transactions in block order. */
typedef struct {
    char hash[CHAIN_HASH_BUF];
    char parent[CHAIN_HASH_BUF]; /* "" for genesis */
    gint64 height;
    guint n_tx;
    wallet_tx *tx;         /* owned */
} wallet_block;

/* A decimal coin amount (as JSON shows it: 8 decimals) to integer satoshis, rounding to
 * the nearest; FALSE when it is not a non-negative number. */
gboolean wallet_amount_from_json(const json_t *v, gint64 *out);
/* Fills *tx (zeroed first; free its contents with wallet_tx_clear) from a verbose
 * transaction object (txid, vin[] with txid/vout or coinbase, vout[] with n, value and
 * scriptPubKey.address or .addresses[0]). FALSE + error naming the field. */
gboolean wallet_tx_from_json(const json_t *obj, wallet_tx *tx, GError **error);
/* Frees what *tx owns (not tx itself). */
void wallet_tx_clear(wallet_tx *tx);
/* A new block from a getblock verbosity 2 answer (hash, previousblockhash, height, tx[]),
 * or NULL + error. Free with wallet_block_free. */
wallet_block *wallet_block_from_json(const json_t *obj, GError **error);
/* A new empty block (no transactions); parent may be NULL. Add transactions with
 * wallet_block_add_tx. Used by tests and the simulator-driven paths. */
wallet_block *wallet_block_new(const char *hash, const char *parent, gint64 height);
/* Appends a transaction: txid; coinbase flag; n_in outpoints "txid:vout" strings;
 * n_out outputs given as parallel arrays (addresses may hold NULL). Returns the tx (borrowed). */
wallet_tx *wallet_block_add_tx(wallet_block *b, const char *txid, gboolean coinbase,
                               const char *const *inputs, guint n_in,
                               const char *const *addresses, const gint64 *amounts,
                               guint n_out);
/* Frees a block and its transactions. NULL is a no-op. */
void wallet_block_free(wallet_block *b);

G_END_DECLS

#endif
