/* block.c: getblock (verbosity 2) and getrawtransaction (verbose) answers to the few
 * fields the wallet projection needs. Amounts become integer satoshis here, once, so no
 * sum anywhere is made of doubles. */
#include <math.h>
#include <string.h>
#include "wallet/block.h"
#include <tf/error.h>

gboolean wallet_amount_from_json(const json_t *v, gint64 *out)
{
    if (!json_is_number(v))
        return FALSE;
    double d = json_number_value(v);
    /* 8 decimals, below 2^53 satoshis: the nearest double times 1e8 rounds back exactly. */
    if (!(d >= 0) || d > 9.0e7)
        return FALSE;
    *out = (gint64)llround(d * 1e8);
    return TRUE;
}

static gboolean copy_hash(char dst[CHAIN_HASH_BUF], const json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) != 64)
        return FALSE;
    memcpy(dst, json_string_value(v), 65);
    return TRUE;
}

gboolean wallet_tx_from_json(const json_t *obj, wallet_tx *tx, GError **error)
{
    memset(tx, 0, sizeof *tx);
    const json_t *vin = json_object_get(obj, "vin"), *vout = json_object_get(obj, "vout");
    if (!copy_hash(tx->txid, json_object_get(obj, "txid")) || !json_is_array(vin) ||
        !json_is_array(vout)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "transaction: txid, vin or vout missing");
        return FALSE;
    }
    tx->in = g_new0(wallet_outpoint, json_array_size(vin) + 1);
    for (gsize i = 0; i < json_array_size(vin); i++) {
        const json_t *in = json_array_get(vin, i);
        if (json_object_get(in, "coinbase")) {
            tx->coinbase = TRUE;
            continue;
        }
        const json_t *n = json_object_get(in, "vout");
        if (!copy_hash(tx->in[tx->n_in].txid, json_object_get(in, "txid")) || !json_is_integer(n) ||
            json_integer_value(n) < 0) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "transaction %s: vin %zu: txid or vout missing",
                        tx->txid, i);
            wallet_tx_clear(tx);
            return FALSE;
        }
        tx->in[tx->n_in++].vout = (guint32)json_integer_value(n);
    }
    tx->n_out = (guint)json_array_size(vout);
    tx->out = g_new0(wallet_txout, tx->n_out + 1);
    for (gsize i = 0; i < json_array_size(vout); i++) {
        const json_t *o = json_array_get(vout, i);
        const json_t *n = json_object_get(o, "n");
        gsize at = json_is_integer(n) ? (gsize)json_integer_value(n) : i;
        if (at >= tx->n_out || !wallet_amount_from_json(json_object_get(o, "value"), &tx->out[at].amount)) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "transaction %s: vout %zu: bad n or value",
                        tx->txid, i);
            wallet_tx_clear(tx);
            return FALSE;
        }
        const json_t *spk = json_object_get(o, "scriptPubKey");
        const json_t *addr = json_object_get(spk, "address");
        if (!json_is_string(addr))
            addr = json_array_get(json_object_get(spk, "addresses"), 0);
        if (json_is_string(addr))
            tx->out[at].address = g_strdup(json_string_value(addr));
    }
    return TRUE;
}

void wallet_tx_clear(wallet_tx *tx)
{
    for (guint i = 0; tx->out && i < tx->n_out; i++)
        g_free(tx->out[i].address);
    g_free(tx->out);
    g_free(tx->in);
    memset(tx, 0, sizeof *tx);
}

wallet_block *wallet_block_new(const char *hash, const char *parent, gint64 height)
{
    wallet_block *b = g_new0(wallet_block, 1);
    g_strlcpy(b->hash, hash, CHAIN_HASH_BUF);
    g_strlcpy(b->parent, parent ? parent : "", CHAIN_HASH_BUF);
    b->height = height;
    return b;
}

wallet_tx *wallet_block_add_tx(wallet_block *b, const char *txid, gboolean coinbase,
                               const char *const *inputs, guint n_in,
                               const char *const *addresses, const gint64 *amounts,
                               guint n_out)
{
    b->tx = g_renew(wallet_tx, b->tx, b->n_tx + 1);
    wallet_tx *tx = &b->tx[b->n_tx++];
    memset(tx, 0, sizeof *tx);
    g_strlcpy(tx->txid, txid, CHAIN_HASH_BUF);
    tx->coinbase = coinbase;
    tx->in = g_new0(wallet_outpoint, n_in + 1);
    for (guint i = 0; i < n_in; i++) {
        const char *colon = strrchr(inputs[i], ':');
        gsize len = colon ? (gsize)(colon - inputs[i]) : strlen(inputs[i]);
        memcpy(tx->in[i].txid, inputs[i], MIN(len, (gsize)64));
        tx->in[i].vout = colon ? (guint32)g_ascii_strtoull(colon + 1, NULL, 10) : 0;
    }
    tx->n_in = n_in;
    tx->out = g_new0(wallet_txout, n_out + 1);
    for (guint i = 0; i < n_out; i++) {
        tx->out[i].amount = amounts[i];
        tx->out[i].address = g_strdup(addresses[i]);
    }
    tx->n_out = n_out;
    return tx;
}

wallet_block *wallet_block_from_json(const json_t *obj, GError **error)
{
    const json_t *txs = json_object_get(obj, "tx"), *height = json_object_get(obj, "height");
    const json_t *parent = json_object_get(obj, "previousblockhash");
    char hash[CHAIN_HASH_BUF];
    if (!copy_hash(hash, json_object_get(obj, "hash")) || !json_is_integer(height) ||
        !json_is_array(txs)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "getblock: hash, height or tx missing");
        return NULL;
    }
    wallet_block *b = wallet_block_new(hash, json_is_string(parent) ? json_string_value(parent) : "",
                                       json_integer_value(height));
    b->tx = g_new0(wallet_tx, json_array_size(txs) + 1);
    for (gsize i = 0; i < json_array_size(txs); i++) {
        if (!wallet_tx_from_json(json_array_get(txs, i), &b->tx[b->n_tx], error)) {
            g_prefix_error(error, "getblock %s: ", hash);
            wallet_block_free(b);
            return NULL;
        }
        b->n_tx++;
    }
    return b;
}

void wallet_block_free(wallet_block *b)
{
    if (!b)
        return;
    for (guint i = 0; i < b->n_tx; i++)
        wallet_tx_clear(&b->tx[i]);
    g_free(b->tx);
    g_free(b);
}
