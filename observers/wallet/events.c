/* events.c: wallet events: construction, names, JSON for the runtime's journal and
 * reports. Amounts go out as integer satoshis: reports never round. */
#include <string.h>
#include "wallet/events.h"

wallet_event *wallet_event_new(wallet_event_kind kind, const char *wallet)
{
    /* One allocation, not zero-filled (the id buffers are cleared by their first byte):
     * a projection emits an event per output it touches. */
    gsize len = wallet ? strlen(wallet) + 1 : 0;
    wallet_event *ev = g_malloc(sizeof *ev + len);
    ev->kind = kind;
    ev->wallet = wallet ? memcpy(ev + 1, wallet, len) : NULL;
    ev->txid[0] = ev->block[0] = '\0';
    ev->vout = 0;
    ev->amount = 0;
    ev->height = -1;
    ev->chain = NULL;
    return ev;
}

wallet_event *wallet_event_wrap_chain(chain_event *cev)
{
    wallet_event *ev = wallet_event_new(WALLET_EVENT_CHAIN, NULL);
    ev->chain = cev;
    return ev;
}

void wallet_event_free(void *event)
{
    wallet_event *ev = event;
    if (!ev)
        return;
    chain_event_free(ev->chain);
    if (ev->wallet != (char *)(ev + 1))
        g_free(ev->wallet);
    g_free(ev);
}

const char *wallet_event_kind_name(wallet_event_kind kind)
{
    switch (kind) {
    case WALLET_EVENT_UTXO_CREATED: return "utxo_created";
    case WALLET_EVENT_UTXO_SPENT: return "utxo_spent";
    case WALLET_EVENT_UTXO_REVERTED_BY_REORG: return "utxo_reverted_by_reorg";
    case WALLET_EVENT_TX_INCLUDED: return "tx_included";
    case WALLET_EVENT_TX_DROPPED_BY_REORG: return "tx_dropped_by_reorg";
    case WALLET_EVENT_CHAIN: return "chain";
    }
    return "unknown";
}

json_t *wallet_event_to_json(const wallet_event *ev)
{
    if (ev->kind == WALLET_EVENT_CHAIN)
        return chain_event_to_json(ev->chain);
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "kind", wallet_event_kind_name(ev->kind),
                          "wallet", ev->wallet ? ev->wallet : "", "txid", ev->txid,
                          "amount", (json_int_t)ev->amount, "block", ev->block,
                          "height", (json_int_t)ev->height);
    if (ev->kind <= WALLET_EVENT_UTXO_REVERTED_BY_REORG)
        json_object_set_new(o, "vout", json_integer(ev->vout));
    return o;
}
