/* events.c: wallet events: construction, names, JSON for the runtime's journal and
 * reports. Amounts go out as integer satoshis: reports never round. */
#include <string.h>
#include "wallet/events.h"

/* An empty event in memory not zero-filled (the id buffers are cleared by their first
 * byte): a projection emits an event per output it touches. */
static wallet_event *event_init(wallet_event *ev, wallet_event_kind kind, char *wallet,
                                struct wallet_event_batch *batch)
{
    ev->kind = kind;
    ev->wallet = wallet;
    ev->txid[0] = ev->block[0] = '\0';
    ev->vout = 0;
    ev->amount = 0;
    ev->height = -1;
    ev->chain = NULL;
    ev->batch = batch;
    return ev;
}

wallet_event *wallet_event_new(wallet_event_kind kind, const char *wallet)
{
    gsize len = wallet ? strlen(wallet) + 1 : 0; /* the name in the same allocation */
    wallet_event *ev = g_malloc(sizeof *ev + len);
    return event_init(ev, kind, wallet ? memcpy(ev + 1, wallet, len) : NULL, NULL);
}

struct wallet_event_batch {
    gint ref;              /* events not yet freed */
    guint n;
    wallet_event *ev;      /* n events, after the header */
    const char **names;    /* n_names pointers into the copies after the events */
};

wallet_event_batch *wallet_event_batch_new(guint n, const char *const *names, guint n_names)
{
    g_assert(n > 0); /* else nothing would ever free it */
    gsize text = 0;
    for (guint w = 0; w < n_names; w++)
        text += strlen(names[w]) + 1;
    G_STATIC_ASSERT(sizeof(wallet_event_batch) % 8 == 0 && sizeof(wallet_event) % 8 == 0);
    wallet_event_batch *b = g_malloc(sizeof *b + n * sizeof(wallet_event) + n_names * sizeof(char *) + text);
    b->ref = (gint)n;
    b->n = n;
    b->ev = (wallet_event *)(b + 1);
    b->names = (const char **)(b->ev + n);
    char *at = (char *)(b->names + n_names);
    for (guint w = 0; w < n_names; w++) {
        gsize len = strlen(names[w]) + 1;
        b->names[w] = memcpy(at, names[w], len);
        at += len;
    }
    return b;
}

wallet_event *wallet_event_batch_take(wallet_event_batch *b, guint i, wallet_event_kind kind, guint w)
{
    g_assert(i < b->n);
    return event_init(&b->ev[i], kind, (char *)b->names[w], b);
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
    if (ev->batch) {
        if (g_atomic_int_dec_and_test(&ev->batch->ref))
            g_free(ev->batch);
        return;
    }
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
