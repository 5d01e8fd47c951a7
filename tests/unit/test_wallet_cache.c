/* test_wallet_cache.c: the wallet observer's cached projections over simulated nodes. An
 * observer with a store fetches every body once and stores each header's delta; a restarted
 * one on the same store fetches only the new blocks and ends with the same UTXO sets as an
 * observer without a store; another wallet set or chain config changes the key, so
 * everything is fetched again; a corrupt row is logged and recomputed; both branches of
 * a fork come back from the cache. getblock requests
 * are counted on the simulated nodes, not only by the observer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <pthread.h>
#include <sqlite3.h>
#include <glib/gstdio.h>
#include <tf/tf.h>
#include <tf/durable.h>
#include "wallet_nodes.h"
#include "wallet/observer.h"

#define COIN G_GINT64_CONSTANT(100000000)
#define N_NODES 2

typedef struct {
    wallet_nodes *n;           /* simulated nodes; n->getblocks counts bodies they served */
    char *dir, *path;
} env;

static guint getblocks(env *e)
{
    pthread_mutex_lock(&e->n->lock);
    guint n = e->n->getblocks;
    pthread_mutex_unlock(&e->n->lock);
    return n;
}

/* Mines a block on node 0 whose coinbase pays addr and which holds txids; returns the
 * coinbase txid (new string). */
static char *mine(env *e, const char *addr, const char *const *txids)
{
    return wallet_nodes_coinbase(e->n, wallet_nodes_mine(e->n, 0, addr, txids));
}

/* A transaction spending `in` ("txid" vout 0 each) with outputs (address, coins). */
static void add_tx(env *e, const char *txid, const char *in_txid, guint in_vout, const char *addr1,
                   double v1, const char *addr2, double v2)
{
    json_t *tx = json_pack("{s:s, s:[{s:s, s:i}], s:[{s:f, s:i, s:{s:s}}, {s:f, s:i, s:{s:s}}]}", "txid", txid,
                           "vin", "txid", in_txid, "vout", (int)in_vout, "vout", "value", v1, "n", 0,
                           "scriptPubKey", "address", addr1, "value", v2, "n", 1, "scriptPubKey", "address",
                           addr2);
    pthread_mutex_lock(&e->n->lock);
    g_hash_table_replace(e->n->txs, g_strdup(txid), tx);
    pthread_mutex_unlock(&e->n->lock);
}

/* The chain every test starts from: 20 blocks on genesis. Block 1 pays A; block 2 holds
 * t1 (A's coinbase to B and back to A) and t2 (spends t1's output to B inside the same
 * block, to C and B); blocks 3.. pay A, B and nobody in turn. */
static void build_chain(env *e, guint n)
{
    char *cb1 = mine(e, "addrA", NULL);
    const char *t1 = "7100000000000000000000000000000000000000000000000000000000000001";
    const char *t2 = "7200000000000000000000000000000000000000000000000000000000000002";
    add_tx(e, t1, cb1, 0, "addrB", 10.0, "addrA", 39.99999);
    add_tx(e, t2, t1, 0, "addrC", 4.0, "addrB", 5.99);
    g_free(mine(e, "addrB", (const char *const[]){t1, t2, NULL}));
    for (guint i = 2; i < n; i++)
        g_free(mine(e, (const char *[]){"addrA", "addrB", "nobody"}[i % 3], NULL));
    g_free(cb1);
}

static int setup(void **state)
{
    env *e = g_new0(env, 1);
    e->n = wallet_nodes_new(7, N_NODES);
    e->dir = g_dir_make_tmp("tf-wcache-XXXXXX", NULL);
    e->path = g_build_filename(e->dir, "state.db", NULL);
    build_chain(e, 20);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    wallet_nodes_free(e->n);
    GDir *d = g_dir_open(e->dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(e->dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(e->dir);
    g_free(e->dir);
    g_free(e->path);
    g_free(e);
    return 0;
}

/* What one observer run saw. */
typedef struct {
    char *states;          /* every held header's wallet outputs, canonical text */
    char *tip;
    guint headers;
    guint fetched;         /* getblock calls the nodes answered during the run */
    guint64 blocks_fetched, blocks_cached, cache_errors;
} run_result;

static void run_result_clear(run_result *r)
{
    g_free(r->states);
    g_free(r->tip);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every held header, sorted, with each wallet's full output set (all coinbases listed). */
static char *states_text(const wallet_snapshot *ws)
{
    GPtrArray *hashes = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, ws->states);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(hashes, k);
    g_ptr_array_sort(hashes, cmp_str);
    GString *out = g_string_new(NULL);
    wallet_rule all = {0, NULL};
    for (guint i = 0; i < hashes->len; i++) {
        g_string_append_printf(out, "%s\n", (char *)hashes->pdata[i]);
        for (guint w = 0; w < ws->n_wallets; w++) {
            wallet_state *st = wallet_snapshot_state_at(ws, hashes->pdata[i], ws->wallets[w].name);
            GPtrArray *l = wallet_state_list(st, wallet_state_height(st) + 1000, &all, NULL, NULL, NULL);
            g_string_append_printf(out, " %s total %" G_GINT64_FORMAT ":", ws->wallets[w].name,
                                   wallet_state_total(st));
            for (guint j = 0; j < l->len; j++) {
                const wallet_utxo *u = l->pdata[j];
                g_string_append_printf(out, " %s:%u=%" G_GINT64_FORMAT "@%" G_GINT64_FORMAT "%s", u->txid,
                                       u->vout, u->amount, u->height, u->coinbase ? "cb" : "");
            }
            g_string_append_c(out, '\n');
            g_ptr_array_unref(l);
        }
    }
    g_ptr_array_unref(hashes);
    return g_string_free(out, FALSE);
}

/* One observer over the nodes until its tip is the simulator's best block: with store (may
 * be NULL), wallets A (addrA) and B (addrB) plus C (addrC) when with_c, the chain's LIB
 * depth lib_k. */
static run_result observe(env *e, tf_store *store, gboolean with_c, guint lib_k)
{
    wallet_observer_config cfg;
    wallet_observer_config_init(&cfg);
    cfg.track_unconfirmed = FALSE;
    cfg.chain.graph.lib_confirmations = lib_k;
    cfg.store = store;
    cfg.run = 7;
    wallet_observer_config_add_wallet(&cfg, "A", (const char *[]){"addrA", NULL});
    wallet_observer_config_add_wallet(&cfg, "B", (const char *[]){"addrB", NULL});
    if (with_c)
        wallet_observer_config_add_wallet(&cfg, "C", (const char *[]){"addrC", NULL});
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    GError *err = NULL;
    guint before = getblocks(e);
    tf_runtime *rt = tf_runtime_new(&rc, &wallet_observer, &cfg, tf_source_provider_new_static(e->n->src, N_NODES),
                                    &err);
    wallet_observer_config_clear(&cfg);
    if (!rt)
        fail_msg("runtime: %s", err->message);
    tf_handle *h = tf_runtime_handle(rt);
    pthread_mutex_lock(&e->n->lock);
    char *best = g_strdup(chain_sim_best_tip(e->n->sim));
    pthread_mutex_unlock(&e->n->lock);
    tf_snapshot *s = NULL;
    const wallet_snapshot *ws = NULL;
    /* A long catch-up may take a few cycles (the chain observer bounds each one). */
    for (guint c = 0; c < 50 && (!ws || strcmp(ws->tip, best)); c++) {
        if (!tf_runtime_cycle(rt, &err))
            fail_msg("cycle: %s", err->message);
        tf_snapshot_unref(s);
        s = tf_handle_latest(h);
        ws = tf_snapshot_data(s);
    }
    assert_string_equal(ws->tip, best);
    g_free(best);
    run_result r = {states_text(ws), g_strdup(ws->tip), ws->headers, getblocks(e) - before,
                    ws->blocks_fetched, ws->blocks_cached, ws->cache_errors};
    tf_snapshot_unref(s);
    tf_handle_unref(h);
    tf_runtime_free(rt);
    return r;
}

static tf_store *open_store(env *e)
{
    GError *err = NULL;
    tf_store *s = tf_store_open(e->path, &err);
    if (!s)
        fail_msg("store: %s", err->message);
    return s;
}

/* Rows of the wallet cache in the store. */
static gint64 cache_rows(tf_store *s)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(tf_store_path(s), &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM cache WHERE kind = 'wallet'", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    gint64 n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The provenance of header hash's row: its run and its input's header and root. */
static void check_provenance(tf_store *s, const char *hash, const char *root)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(tf_store_path(s), &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT run, time, json_extract(input, '$.root'),"
                                        " json_array_length(input, '$.wallets') FROM cache"
                                        " WHERE kind = 'wallet' AND json_extract(input, '$.header') = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 7);
    assert_true(sqlite3_column_int64(st, 1) > 0);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), root);
    assert_int_equal(sqlite3_column_int64(st, 3), 2);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* (1) first run, (2) restart with M new blocks, (3) another wallet set / chain config. */
static void test_restart_fetches_only_new_blocks(void **state)
{
    env *e = *state;
    const guint n = 21; /* genesis + 20 */
    run_result plain = observe(e, NULL, FALSE, 6);
    assert_int_equal(plain.fetched, n);
    assert_int_equal(plain.headers, n);
    assert_int_equal(plain.blocks_cached, 0);

    tf_store *store = open_store(e);
    run_result first = observe(e, store, FALSE, 6);
    assert_int_equal(first.fetched, n);
    assert_int_equal(first.blocks_fetched, n);
    assert_int_equal(first.blocks_cached, 0);
    assert_string_equal(first.states, plain.states);
    assert_int_equal(cache_rows(store), n);
    pthread_mutex_lock(&e->n->lock);
    char *genesis = g_strdup(chain_sim_block_hash(e->n->sim, 0));
    char *h2 = g_strdup(chain_sim_block_hash(e->n->sim, 2));
    pthread_mutex_unlock(&e->n->lock);
    check_provenance(store, h2, genesis);
    check_provenance(store, genesis, genesis);
    g_free(genesis);
    g_free(h2);
    /* The intra-block spend and the spend of A's coinbase are in the states compared. */
    assert_non_null(strstr(first.states, "7200000000000000000000000000000000000000000000000000000000000002:1="));
    assert_null(strstr(first.states, "7100000000000000000000000000000000000000000000000000000000000001:0="));

    /* (2) Restart on the same store after M = 5 new blocks, one spending from B. */
    const guint m = 5;
    const char *t3 = "7300000000000000000000000000000000000000000000000000000000000003";
    add_tx(e, t3, "7200000000000000000000000000000000000000000000000000000000000002", 1, "addrA", 1.0,
           "nobody", 4.98);
    g_free(mine(e, "addrB", (const char *const[]){t3, NULL}));
    for (guint i = 1; i < m; i++)
        g_free(mine(e, "addrA", NULL));
    run_result plain2 = observe(e, NULL, FALSE, 6);
    assert_int_equal(plain2.fetched, n + m);
    run_result second = observe(e, store, FALSE, 6);
    assert_int_equal(second.fetched, m);
    assert_int_equal(second.blocks_fetched, m);
    assert_int_equal(second.blocks_cached, n);
    assert_int_equal(second.cache_errors, 0);
    assert_string_equal(second.states, plain2.states);
    assert_string_not_equal(second.states, first.states);
    assert_int_equal(cache_rows(store), n + m);

    /* (3) Another wallet set: every key changes, every body is fetched again. */
    run_result other = observe(e, store, TRUE, 6);
    assert_int_equal(other.fetched, n + m);
    assert_int_equal(other.blocks_cached, 0);
    assert_non_null(strstr(other.states, " C total 400000000:"));
    assert_int_equal(cache_rows(store), 2 * (n + m));
    /* ... and another chain config (its fingerprint is part of the wallet's). */
    run_result rechained = observe(e, store, FALSE, 3);
    assert_int_equal(rechained.fetched, n + m);
    assert_int_equal(rechained.blocks_cached, 0);
    assert_string_equal(rechained.states, plain2.states);
    /* The original set is still cached: nothing to fetch. */
    run_result again = observe(e, store, FALSE, 6);
    assert_int_equal(again.fetched, 0);
    assert_int_equal(again.blocks_cached, n + m);
    assert_string_equal(again.states, plain2.states);
    print_message("bodies fetched: no store %u; first run %u; restart +%u blocks %u (%" G_GUINT64_FORMAT
                  " cached); other wallet set %u; other chain config %u; unchanged %u\n",
                  plain.fetched, first.fetched, m, second.fetched, second.blocks_cached, other.fetched,
                  rechained.fetched, again.fetched);
    run_result *all[] = {&plain, &first, &plain2, &second, &other, &rechained, &again};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        run_result_clear(all[i]);
    tf_store_unref(store);
}

/* Both branches of a fork are cached: a restart rebuilds either without a request. */
static void test_fork_branches_are_cached(void **state)
{
    env *e = *state;
    pthread_mutex_lock(&e->n->lock);
    chain_sim_partition(e->n->sim, (const guint[]){0, 1});
    pthread_mutex_unlock(&e->n->lock);
    for (guint i = 0; i < 3; i++)
        g_free(mine(e, "addrA", NULL));
    for (guint i = 0; i < 2; i++)
        wallet_nodes_mine(e->n, 1, "addrB", NULL);
    tf_store *store = open_store(e);
    run_result plain = observe(e, NULL, FALSE, 6);
    assert_int_equal(plain.headers, 21 + 3 + 2);
    run_result first = observe(e, store, FALSE, 6);
    assert_int_equal(first.fetched, 21 + 3 + 2);
    run_result second = observe(e, store, FALSE, 6);
    assert_int_equal(second.fetched, 0);
    assert_int_equal(second.blocks_cached, 21 + 3 + 2);
    assert_int_equal(second.headers, 21 + 3 + 2);
    assert_string_equal(second.states, plain.states);
    run_result *all[] = {&plain, &first, &second};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        run_result_clear(all[i]);
    tf_store_unref(store);
}

/* Sets the cached result of header `hash` to `garbage` directly in SQLite; returns rows. */
static int corrupt_row(tf_store *s, const char *hash, const char *garbage)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(tf_store_path(s), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "UPDATE cache SET result = ?1 WHERE kind = 'wallet'"
                                        " AND json_extract(input, '$.header') = ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, garbage, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    int n = sqlite3_changes(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* (4) Corrupt rows (unreadable JSON; readable but not this header's delta) are recomputed. */
static void test_corrupt_row_is_recomputed(void **state)
{
    env *e = *state;
    tf_store *store = open_store(e);
    run_result plain = observe(e, NULL, FALSE, 6);
    run_result first = observe(e, store, FALSE, 6);
    assert_int_equal(first.fetched, plain.fetched);
    char *h2, *h5;
    pthread_mutex_lock(&e->n->lock);
    h2 = g_strdup(chain_sim_block_hash(e->n->sim, 2)); /* holds t1 and t2 */
    h5 = g_strdup(chain_sim_block_hash(e->n->sim, 5));
    pthread_mutex_unlock(&e->n->lock);
    assert_int_equal(corrupt_row(store, h2, "{not json"), 1);
    assert_int_equal(corrupt_row(store, h5, "{\"hash\":\"elsewhere\",\"parent\":\"\",\"height\":5,\"tx\":[]}"), 1);
    run_result second = observe(e, store, FALSE, 6);
    assert_int_equal(second.fetched, 2);
    assert_int_equal(second.cache_errors, 2);
    assert_int_equal(second.blocks_cached, plain.fetched - 2);
    assert_string_equal(second.states, plain.states);
    /* Recomputing rewrote the rows. */
    run_result third = observe(e, store, FALSE, 6);
    assert_int_equal(third.fetched, 0);
    assert_int_equal(third.cache_errors, 0);
    assert_string_equal(third.states, plain.states);
    print_message("corrupt rows: 2; restart fetched %u, %" G_GUINT64_FORMAT " cached\n", second.fetched,
                  second.blocks_cached);
    g_free(h2);
    g_free(h5);
    run_result *all[] = {&plain, &first, &second, &third};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        run_result_clear(all[i]);
    tf_store_unref(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart_fetches_only_new_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_row_is_recomputed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_branches_are_cached, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
