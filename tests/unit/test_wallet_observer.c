/* test_wallet_observer.c: the wallet observer end to end against simulated nodes
 * (tests/support/wallet_nodes), whose blocks and mempools the test fills. Proves
 * maturity, unconfirmed spends, a reorg seen as events while the other branch's state
 * stays a lookup, re-mining, folding below LIB, a failed getblock retried on the next
 * cycle, and a root already pruned reported as an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <pthread.h>
#include <tf/tf.h>
#include "wallet_nodes.h"
#include "wallet/observer.h"

#define COIN G_GINT64_CONSTANT(100000000)

typedef struct {
    wallet_nodes *n;           /* three simulated nodes */
    tf_runtime *rt;
    tf_handle *h;
} env;

static env *env_new(guint fold_depth)
{
    env *e = g_new0(env, 1);
    e->n = wallet_nodes_new(11, 3);
    wallet_observer_config cfg;
    wallet_observer_config_init(&cfg);
    cfg.projection.fold_depth = fold_depth;
    wallet_observer_config_add_wallet(&cfg, "A", (const char *[]){"addrA", NULL});
    wallet_observer_config_add_wallet(&cfg, "B", (const char *[]){"addrB", NULL});
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.event_history = 4096;
    GError *err = NULL;
    e->rt = tf_runtime_new(&rc, &wallet_observer, &cfg, tf_source_provider_new_static(e->n->src, 3), &err);
    wallet_observer_config_clear(&cfg);
    if (!e->rt)
        fail_msg("runtime: %s", err->message);
    e->h = tf_runtime_handle(e->rt);
    return e;
}

static void env_free(env *e)
{
    tf_handle_unref(e->h);
    tf_runtime_free(e->rt);
    wallet_nodes_free(e->n);
    g_free(e);
}

static tf_snapshot *cycle(env *e)
{
    GError *err = NULL;
    if (!tf_runtime_cycle(e->rt, &err))
        fail_msg("cycle: %s", err->message);
    return tf_handle_latest(e->h);
}

static const char *mine(env *e, guint node, const char *addr, const char *const *txids)
{
    return wallet_nodes_mine(e->n, node, addr, txids);
}

static char *coinbase_of(env *e, const char *hash) { return wallet_nodes_coinbase(e->n, hash); }

/* Events of `kind` for `txid` (NULL: any) recorded in cycles >= since. */
static guint events(env *e, wallet_event_kind kind, const char *wallet, const char *txid, guint64 since)
{
    GPtrArray *hist = tf_handle_batches(e->h);
    guint n = 0;
    for (guint b = 0; b < hist->len; b++) {
        if (tf_batch_cycle(hist->pdata[b]) < since)
            continue;
        for (guint i = 0; i < tf_batch_len(hist->pdata[b]); i++) {
            const wallet_event *ev = tf_batch_event(hist->pdata[b], i);
            n += ev->kind == kind && (!wallet || !g_strcmp0(ev->wallet, wallet)) &&
                 (!txid || !strcmp(ev->txid, txid));
        }
    }
    g_ptr_array_unref(hist);
    return n;
}

static const wallet_view *view(tf_snapshot *s, const char *name)
{
    return wallet_snapshot_wallet(tf_snapshot_data(s), name);
}

static void test_maturity_mempool_reorg_fold(void **unused)
{
    env *e = env_new(20);
    char *first_hash = NULL; /* copied at once: the simulator's storage moves as it grows */
    for (guint i = 0; i < 101; i++) {
        const char *h = mine(e, 0, "addrA", NULL);
        if (!first_hash)
            first_hash = g_strdup(h);
    }
    tf_snapshot *s = cycle(e);
    const wallet_snapshot *ws = tf_snapshot_data(s);
    assert_int_equal(ws->tip_height, 101);
    assert_int_equal(view(s, "A")->balance, 50 * COIN);      /* only block 1's coinbase is mature */
    assert_int_equal(view(s, "A")->immature, 100 * 50 * COIN);
    assert_int_equal(view(s, "B")->balance, 0);
    assert_int_equal(events(e, WALLET_EVENT_UTXO_CREATED, "A", NULL, 0), 101);
    assert_int_equal(ws->blocks_fetched, 102);                /* genesis + 101, each once */
    tf_snapshot_unref(s);

    /* A pays B from block 1's coinbase; unconfirmed on node0. */
    char *cb1 = coinbase_of(e, first_hash);
    const char *t1 = "7100000000000000000000000000000000000000000000000000000000000001";
    pthread_mutex_lock(&e->n->lock);
    g_hash_table_replace(e->n->txs, g_strdup(t1),
                         json_pack("{s:s, s:[{s:s, s:i}], s:[{s:f, s:i, s:{s:s}}, {s:f, s:i, s:{s:s}}]}",
                                   "txid", t1, "vin", "txid", cb1, "vout", 0, "vout", "value", 10.0, "n", 0,
                                   "scriptPubKey", "address", "addrB", "value", 39.99999, "n", 1, "scriptPubKey",
                                   "address", "addrA"));
    g_ptr_array_add(e->n->mempool[0], g_strdup(t1));
    pthread_mutex_unlock(&e->n->lock);
    s = cycle(e);
    assert_int_equal(view(s, "A")->balance, 0);
    assert_int_equal(view(s, "A")->pending, 50 * COIN);
    assert_int_equal(view(s, "B")->balance, 0);               /* unconfirmed outputs are not listed */
    assert_int_equal(((const wallet_snapshot *)tf_snapshot_data(s))->n_unconfirmed, 1);
    tf_snapshot_unref(s);

    /* node2 is cut off; node0 mines the payment, node2 then mines a longer branch. */
    chain_sim_partition(e->n->sim, (const guint[]){0, 0, 1});
    pthread_mutex_lock(&e->n->lock);
    g_ptr_array_set_size(e->n->mempool[0], 0);
    pthread_mutex_unlock(&e->n->lock);
    const char *with_t1 = mine(e, 0, "nobody", (const char *const[]){t1, NULL});
    char *with_t1_hash = g_strdup(with_t1);
    guint64 c0 = tf_snapshot_cycle(s = cycle(e));
    assert_true(wallet_snapshot_tx_included(tf_snapshot_data(s), t1, 1));
    assert_int_equal(view(s, "B")->balance, 10 * COIN);
    assert_int_equal(events(e, WALLET_EVENT_TX_INCLUDED, "B", t1, c0), 1);
    tf_snapshot_unref(s);
    mine(e, 2, "nobody", NULL);
    mine(e, 2, "addrB", NULL);
    s = cycle(e);
    ws = tf_snapshot_data(s);
    assert_int_equal(ws->tip_height, 103);
    assert_int_equal(events(e, WALLET_EVENT_TX_DROPPED_BY_REORG, "B", t1, c0 + 1), 1);
    assert_int_equal(events(e, WALLET_EVENT_TX_DROPPED_BY_REORG, "A", t1, c0 + 1), 1);
    assert_int_equal(events(e, WALLET_EVENT_UTXO_REVERTED_BY_REORG, "B", t1, c0 + 1), 1);
    assert_int_equal(wallet_snapshot_tx_confirmations(ws, t1), 0);
    assert_int_equal(view(s, "B")->balance, 0);
    assert_int_equal(view(s, "A")->balance, 3 * 50 * COIN); /* tip 103: blocks 1-3 mature, none spent */
    /* node0's branch is still a lookup away. */
    gint64 bal = -1;
    GPtrArray *at0 = wallet_snapshot_list_at(ws, with_t1_hash, "B", &bal);
    assert_non_null(at0);
    assert_int_equal(bal, 10 * COIN);
    g_ptr_array_unref(at0);
    assert_null(wallet_snapshot_list_at(ws, "00", "B", NULL));
    tf_snapshot_unref(s);

    /* Healed: the payment is back in node0's mempool, then mined again. */
    chain_sim_heal(e->n->sim);
    pthread_mutex_lock(&e->n->lock);
    g_ptr_array_add(e->n->mempool[0], g_strdup(t1));
    pthread_mutex_unlock(&e->n->lock);
    s = cycle(e);
    assert_int_equal(view(s, "A")->pending, 50 * COIN);
    tf_snapshot_unref(s);
    pthread_mutex_lock(&e->n->lock);
    g_ptr_array_set_size(e->n->mempool[0], 0);
    pthread_mutex_unlock(&e->n->lock);
    mine(e, 0, "nobody", (const char *const[]){t1, NULL});
    c0 = tf_snapshot_cycle(s = cycle(e));
    assert_int_equal(events(e, WALLET_EVENT_TX_INCLUDED, "B", t1, c0), 1);
    assert_int_equal(view(s, "B")->balance, 10 * COIN);
    tf_snapshot_unref(s);

    /* 60 more blocks: LIB moves, everything below LIB - 20 folds into the checkpoint. */
    for (guint i = 0; i < 60; i++)
        mine(e, i % 3, "nobody", NULL);
    s = cycle(e);
    ws = tf_snapshot_data(s);
    assert_int_equal(ws->tip_height, 164);
    assert_true(ws->root_height > 100);
    assert_true(ws->headers <= 20 + 6 + 2);
    assert_int_equal(wallet_snapshot_tx_confirmations(ws, t1), 164 - 104 + 1);
    assert_true(wallet_snapshot_balance_at_least(ws, "B", 10 * COIN));
    assert_true(wallet_snapshot_balance_at_least(ws, "A", 60 * 50 * COIN));
    json_t *j = wallet_snapshot_to_json(ws);
    assert_int_equal(json_integer_value(json_object_get(j, "tip_height")), 164);
    assert_int_equal(json_array_size(json_object_get(j, "wallets")), 2);
    json_decref(j);
    print_message("tip %" G_GINT64_FORMAT ", checkpoint %" G_GINT64_FORMAT ", %u headers held, %" G_GUINT64_FORMAT
                  " block bodies fetched, %" G_GUINT64_FORMAT " requests\n", ws->tip_height, ws->root_height,
                  ws->headers, ws->blocks_fetched, ws->requests);
    tf_snapshot_unref(s);
    g_free(cb1);
    g_free(first_hash);
    g_free(with_t1_hash);
    env_free(e);
}

static void test_failed_getblock_is_retried(void **unused)
{
    env *e = env_new(100);
    for (guint i = 0; i < 5; i++)
        mine(e, 1, "addrB", NULL);
    tf_snapshot_unref(cycle(e));
    pthread_mutex_lock(&e->n->lock);
    e->n->fail_getblock = TRUE;
    pthread_mutex_unlock(&e->n->lock);
    mine(e, 1, "addrB", NULL);
    tf_snapshot *s = cycle(e);
    assert_int_equal(((const wallet_snapshot *)tf_snapshot_data(s))->tip_height, 5);
    tf_failure *f = tf_handle_last_error(e->h);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "wallet:"));
    assert_non_null(strstr(f->message, "getblock"));
    tf_failure_free(f);
    tf_snapshot_unref(s);
    pthread_mutex_lock(&e->n->lock);
    e->n->fail_getblock = FALSE;
    pthread_mutex_unlock(&e->n->lock);
    s = cycle(e);
    assert_int_equal(((const wallet_snapshot *)tf_snapshot_data(s))->tip_height, 6);
    assert_int_equal(view(s, "B")->immature, 6 * 50 * COIN);
    tf_snapshot_unref(s);
    env_free(e);
}

/* Started on a chain taller than what pruning keeps, the projection's root is gone: a
 * clear error naming both heights, not a projection that never starts. */
static void test_root_below_floor_is_an_error(void **unused)
{
    env *e = env_new(100);
    for (guint i = 0; i < 150; i++)
        mine(e, 1, "addrB", NULL);
    GError *err = NULL;
    assert_false(tf_runtime_cycle(e->rt, &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, "wallet: the projection's root (height 0) is below the block graph's floor (height "));
    assert_non_null(strstr(err->message, "raise start_height or keep more blocks"));
    g_error_free(err);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maturity_mempool_reorg_fold),
        cmocka_unit_test(test_failed_getblock_is_retried),
        cmocka_unit_test(test_root_below_floor_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
