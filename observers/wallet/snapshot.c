/* snapshot.c: the wallet observer's published view: per wallet the listed outputs on the
 * canonical tip (the node's listunspent rule), every held header's states for questions
 * about other branches, the wallet transactions' confirmations, and JSON for reports. */
#include <string.h>
#include "wallet/observer.h"

const wallet_view *wallet_snapshot_wallet(const wallet_snapshot *s, const char *name)
{
    for (guint i = 0; s && name && i < s->n_wallets; i++)
        if (!strcmp(s->wallets[i].name, name))
            return &s->wallets[i];
    return NULL;
}

wallet_state *wallet_snapshot_state_at(const wallet_snapshot *s, const char *hash, const char *name)
{
    wallet_state **arr = s && hash ? g_hash_table_lookup(s->states, hash) : NULL;
    for (guint i = 0; arr && i < s->n_wallets; i++)
        if (!strcmp(s->wallets[i].name, name))
            return arr[i];
    return NULL;
}

GPtrArray *wallet_snapshot_list_at(const wallet_snapshot *s, const char *hash, const char *name,
                                   gint64 *balance)
{
    wallet_state *st = wallet_snapshot_state_at(s, hash, name);
    if (!st)
        return NULL;
    wallet_rule rule = {s->coinbase_maturity, s->pending};
    return wallet_state_list(st, wallet_state_height(st), &rule, balance, NULL, NULL);
}

gint64 wallet_snapshot_tx_confirmations(const wallet_snapshot *s, const char *txid)
{
    gint64 *c = s && txid ? g_hash_table_lookup(s->tx_conf, txid) : NULL;
    return c ? *c : 0;
}

gboolean wallet_snapshot_tx_included(const wallet_snapshot *s, const char *txid, guint k)
{
    gint64 c = wallet_snapshot_tx_confirmations(s, txid);
    return c >= 1 && c >= (gint64)k;
}

gboolean wallet_snapshot_balance_at_least(const wallet_snapshot *s, const char *name, gint64 amount)
{
    const wallet_view *v = wallet_snapshot_wallet(s, name);
    return v && v->state && v->balance >= amount;
}

void wallet_snapshot_free(wallet_snapshot *s)
{
    if (!s)
        return;
    for (guint i = 0; i < s->n_wallets; i++) {
        g_free(s->wallets[i].name);
        wallet_state_unref(s->wallets[i].state);
        g_ptr_array_unref(s->wallets[i].listed);
    }
    g_free(s->wallets);
    if (s->states)
        g_hash_table_unref(s->states);
    if (s->tx_conf)
        g_hash_table_unref(s->tx_conf);
    if (s->pending)
        g_hash_table_unref(s->pending);
    chain_snapshot_free(s->chain);
    g_free(s);
}

json_t *wallet_snapshot_to_json(const wallet_snapshot *s)
{
    json_t *wallets = json_array();
    for (guint i = 0; i < s->n_wallets; i++) {
        const wallet_view *v = &s->wallets[i];
        json_t *utxos = json_array();
        for (guint j = 0; j < v->listed->len; j++) {
            const wallet_utxo *u = v->listed->pdata[j];
            json_array_append_new(utxos, json_pack("{s:s, s:i, s:I, s:s, s:I}", "txid", u->txid, "vout",
                                                   (int)u->vout, "amount", (json_int_t)u->amount,
                                                   "address", u->address, "height", (json_int_t)u->height));
        }
        json_array_append_new(wallets, json_pack("{s:s, s:I, s:I, s:I, s:i, s:o}", "name", v->name,
                                                 "balance", (json_int_t)v->balance,
                                                 "immature", (json_int_t)v->immature,
                                                 "pending", (json_int_t)v->pending,
                                                 "outputs", (int)(v->state ? wallet_state_n_utxos(v->state) : 0),
                                                 "listed", utxos));
    }
    return json_pack("{s:s, s:I, s:s, s:I, s:i, s:i, s:i, s:I, s:I, s:o, s:o}", "tip", s->tip,
                     "tip_height", (json_int_t)s->tip_height, "root", s->root,
                     "root_height", (json_int_t)s->root_height, "headers", (int)s->headers,
                     "unconfirmed", (int)s->n_unconfirmed, "coinbase_maturity", (int)s->coinbase_maturity,
                     "blocks_fetched", (json_int_t)s->blocks_fetched, "requests", (json_int_t)s->requests,
                     "wallets", wallets, "chain", s->chain ? chain_snapshot_to_json(s->chain) : json_null());
}
