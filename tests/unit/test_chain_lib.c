/* test_chain_lib.c: the block graph's finality side against the chain simulator: LIB for
 * several k with lagging and offline nodes, bounded pruning, the majority public target,
 * tx inclusion across reorgs, and a randomized property over many seeds where the
 * simulator (naive parent walks) is the reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "chain_sim_fixture.h"

/* ---- LIB ---------------------------------------------------------------------------- */

static gint64 lib_height(const fx *f)
{
    const chain_block *lib = chain_graph_lib(f->g);
    return lib ? chain_block_height(lib) : -1;
}

static void check_lib(guint k, gint64 synced, gint64 lagging, gint64 advanced, gint64 offline)
{
    fx *f = fx_new(20 + k, 3, k, 1000);
    chain_sim_mine(f->sim, 0, 20);
    fx_cycle(f);
    assert_int_equal(lib_height(f), synced);
    chain_sim_set_lagging(f->sim, 2, TRUE);
    chain_sim_mine(f->sim, 0, 10);
    fx_cycle(f);
    assert_int_equal(chain_sim_head_height(f->sim, 2), 20);
    assert_int_equal(lib_height(f), lagging);
    chain_sim_advance(f->sim, 2, 7);
    fx_cycle(f);
    assert_int_equal(chain_sim_head_height(f->sim, 2), 27);
    assert_int_equal(lib_height(f), advanced);
    chain_sim_set_online(f->sim, 2, FALSE); /* unreachable nodes do not hold LIB back */
    fx_cycle(f);
    assert_int_equal(lib_height(f), offline);
    /* A node on its own branch pins LIB at the fork point (height 30). */
    guint split[] = {0, 1, 2};
    chain_sim_partition(f->sim, split);
    chain_sim_mine(f->sim, 1, 2);
    chain_sim_mine(f->sim, 0, 10);
    fx_cycle(f);
    assert_int_equal(lib_height(f), 30);
    assert_true(chain_graph_is_ancestor(f->g, chain_graph_lib(f->g), chain_graph_head(f->g, "node1")));
    fx_free(f);
}

static void test_lib_k0(void **unused) { check_lib(0, 20, 20, 27, 30); }
static void test_lib_k1(void **unused) { check_lib(1, 20, 20, 27, 30); }
static void test_lib_k6(void **unused) { check_lib(6, 15, 20, 25, 25); }

/* ---- pruning ------------------------------------------------------------------------ */

static void test_prune_bounded(void **unused)
{
    fx *f = fx_new(77, 3, 6, 50);
    GRand *r = g_rand_new_with_seed(77);
    guint max_kept = 0, dropped = 0;
    const char *tx = "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a";
    while (chain_sim_block_count(f->sim) < 10000) {
        if (g_rand_int_range(r, 0, 100) < 3) { /* a short-lived split: stale branches */
            guint split[] = {0, 1, 1};
            chain_sim_partition(f->sim, split);
            chain_sim_mine(f->sim, 1, (guint)g_rand_int_range(r, 1, 4));
            chain_sim_mine(f->sim, 0, 4);
            fx_cycle(f);
            chain_sim_heal(f->sim);
        } else {
            chain_sim_mine(f->sim, (guint)g_rand_int_range(r, 0, 3), 1);
        }
        if (chain_sim_block_count(f->sim) > 9960 && chain_sim_block_count(f->sim) < 9965) {
            const char *txs[] = {tx, NULL};
            chain_sim_mine_block(f->sim, 0, 2, txs);
        }
        fx_cycle(f);
        g_ptr_array_set_size(f->events, 0);
        dropped += chain_graph_prune(f->g);
        max_kept = MAX(max_kept, chain_graph_block_count(f->g));
    }
    chain_sim_mine(f->sim, 0, 10);
    fx_cycle(f);
    chain_graph_prune(f->g);
    const chain_block *tip = chain_graph_canonical_tip(f->g);
    gint64 th = chain_block_height(tip), floor = chain_graph_floor(f->g);
    printf("pruning: %u blocks mined, %u dropped, at most %u kept, floor %" G_GINT64_FORMAT
           ", tip %" G_GINT64_FORMAT "\n", chain_sim_block_count(f->sim), dropped, max_kept, floor, th);
    /* Window: retained 50 + 6 confirmations + the block in flight, plus stale blocks of
     * at most one live split (3) and the cycle's split blocks. */
    assert_true(max_kept <= 50 + 6 + 1 + 3 + 8);
    assert_int_equal(floor, th - 6 + 1 - 50);
    /* The canonical window plus recent stale branches, none forking below the floor. */
    GPtrArray *forks = chain_graph_forks(f->g);
    gint64 stale = 0;
    for (guint i = 0; i < forks->len; i++) {
        const chain_fork *fk = forks->pdata[i];
        assert_true(fk->fork_height >= floor);
        stale += fk->length;
    }
    g_ptr_array_free(forks, TRUE);
    assert_int_equal(chain_graph_block_count(f->g), th - floor + 1 + stale);
    assert_string_equal(tip_hash(f), chain_sim_best_tip(f->sim));
    for (gint64 h = floor; h <= th; h++) {
        char *want = sim_hash_at(f, 0, h);
        assert_string_equal(canon_hash(f, h), want);
        g_free(want);
    }
    assert_null(chain_graph_canonical_at(f->g, floor - 1));
    const chain_block *low = chain_graph_canonical_at(f->g, floor);
    assert_true(chain_graph_is_ancestor(f->g, low, tip));
    assert_ptr_equal(chain_graph_common_ancestor(f->g, low, tip), low);
    GPtrArray *path = chain_graph_canonical_path(f->g, 0, th);
    assert_int_equal(path->len, th - floor + 1);
    g_ptr_array_free(path, TRUE);
    assert_true(chain_graph_tx_included(f->g, tx, 6));
    /* A header below the floor is ignored; a head below it is simply unknown. */
    json_t *old = chain_sim_header_json(f->sim, 5);
    add_json(f->g, old, CHAIN_ADD_BELOW_FLOOR, NULL);
    g_rand_free(r);
    fx_free(f);
}

/* ---- the majority public target ------------------------------------------------------ */

/* node0 is local and mines; public nodes 1..n stop at heights 10 + 2i. */
static void check_public_target(guint n)
{
    fx *f = fx_new(30 + n, n + 1, 1, 1000);
    chain_sim_mine(f->sim, 0, 10);
    for (guint i = 1; i <= n; i++)
        chain_sim_set_lagging(f->sim, i, TRUE);
    chain_sim_mine(f->sim, 0, 2 * n + 3);
    for (guint i = 1; i <= n; i++)
        chain_sim_advance(f->sim, i, 2 * i);
    fx_cycle(f);
    for (guint i = 1; i <= n; i++)
        chain_graph_set_public(f->g, chain_sim_node_name(f->sim, i), TRUE);
    /* Heights sorted high to low: 10+2n, ..., 12; a strict majority holds the
     * (n/2+1)-th highest. */
    const chain_block *t = chain_graph_public_target(f->g);
    assert_non_null(t);
    assert_int_equal(chain_block_height(t), 10 + 2 * (n - n / 2));
    char *want = sim_hash_at(f, 0, chain_block_height(t));
    assert_string_equal(chain_block_hash(t), want);
    g_free(want);
    /* The highest public peer goes unreachable: the majority is taken over n-1. */
    chain_sim_set_online(f->sim, n, FALSE);
    fx_cycle(f);
    t = chain_graph_public_target(f->g);
    if (n == 1) {
        assert_null(t);
    } else {
        guint m = n - 1;
        assert_int_equal(chain_block_height(t), 10 + 2 * (m - m / 2));
    }
    fx_free(f);
}

static void test_public_target_1_to_5(void **unused)
{
    for (guint n = 1; n <= 5; n++)
        check_public_target(n);
}

/* Majority on a branch that is not canonical: the target follows the peers. */
static void test_public_target_on_fork(void **unused)
{
    fx *f = fx_new(40, 4, 1, 1000);
    chain_sim_mine(f->sim, 0, 10);
    guint split[] = {0, 1, 1, 3};
    chain_sim_partition(f->sim, split);
    chain_sim_mine(f->sim, 1, 5);          /* nodes 1, 2 at 15 on branch A */
    chain_sim_mine(f->sim, 3, 8);          /* node 3 at 18 on branch B (canonical) */
    fx_cycle(f);
    for (guint i = 1; i <= 3; i++)
        chain_graph_set_public(f->g, chain_sim_node_name(f->sim, i), TRUE);
    const chain_block *t = chain_graph_public_target(f->g);
    assert_string_equal(chain_block_hash(t), chain_sim_head(f->sim, 1));
    assert_string_not_equal(tip_hash(f), chain_sim_head(f->sim, 1));
    GPtrArray *names = chain_graph_block_nodes(f->g, t);
    assert_int_equal(names->len, 2);
    assert_string_equal(names->pdata[0], "node1");
    assert_string_equal(names->pdata[1], "node2");
    g_ptr_array_free(names, TRUE);
    fx_free(f);
}

/* ---- tx inclusion ------------------------------------------------------------------- */

static void test_tx_inclusion_across_reorg(void **unused)
{
    const char *tx = "abababababababababababababababababababababababababababababababab";
    const char *txs[] = {tx, NULL};
    fx *f = fx_new(50, 2, 1, 1000);
    chain_sim_mine(f->sim, 0, 3);
    guint split[] = {0, 1};
    chain_sim_partition(f->sim, split);
    chain_sim_mine_block(f->sim, 1, 2, txs);
    chain_sim_mine(f->sim, 1, 5);
    fx_cycle(f);
    char where[CHAIN_HASH_BUF];
    assert_int_equal(chain_graph_tx_confirmations(f->g, tx, where), 6);
    assert_int_equal(chain_block_height(chain_graph_block(f->g, where)), 4);
    assert_true(chain_graph_tx_included(f->g, tx, 6));
    assert_false(chain_graph_tx_included(f->g, tx, 7));
    chain_sim_mine(f->sim, 0, 8);          /* the other side wins: the tx falls out */
    chain_sim_heal(f->sim);
    fx_cycle(f);
    assert_true(f->last[1].reorg);
    assert_int_equal(f->last[1].depth, 6);
    assert_int_equal(chain_graph_tx_confirmations(f->g, tx, where), 0);
    assert_string_equal(where, "");
    assert_false(chain_graph_tx_included(f->g, tx, 0));
    chain_sim_mine_block(f->sim, 0, 2, txs); /* re-mined on the winning chain */
    chain_sim_mine(f->sim, 1, 1);
    fx_cycle(f);
    assert_int_equal(chain_graph_tx_confirmations(f->g, tx, where), 2);
    assert_int_equal(chain_block_height(chain_graph_block(f->g, where)), 12);
    assert_true(chain_graph_tx_included(f->g, tx, 2));
    assert_false(chain_graph_tx_included(f->g, tx, 3));
    assert_false(chain_graph_tx_included(f->g, "00", 0));
    fx_free(f);
}

/* ---- randomized property ------------------------------------------------------------ */

static guint run_property(guint32 seed, guint steps, gboolean prune, gint64 *max_depth)
{
    fx *f = fx_new(seed, 4, 2, 20);
    GRand *r = g_rand_new_with_seed(seed * 7919u);
    guint reorgs = 0;
    for (guint step = 0; step < steps; step++) {
        gint roll = g_rand_int_range(r, 0, 100);
        guint node = (guint)g_rand_int_range(r, 0, 4);
        if (roll < 65) {
            chain_sim_mine(f->sim, node, (guint)g_rand_int_range(r, 1, 4));
        } else if (roll < 72) {
            guint groups[4];
            for (guint i = 0; i < 4; i++)
                groups[i] = (guint)g_rand_int_range(r, 0, 3);
            chain_sim_partition(f->sim, groups);
        } else if (roll < 80) {
            chain_sim_heal(f->sim);
        } else if (roll < 88) {
            chain_sim_set_lagging(f->sim, node, g_rand_boolean(r));
        } else if (roll < 93) {
            chain_sim_advance(f->sim, node, (guint)g_rand_int_range(r, 1, 5));
        } else if (!prune) {
            chain_sim_set_online(f->sim, node, g_rand_boolean(r));
        } else {
            /* No offline nodes with pruning: LIB ignores unreachable nodes by definition,
             * so a branch one of them extends later may already be pruned (see
             * test_unreachable_branch_pruned); the simulator would then disagree. */
            chain_sim_set_lagging(f->sim, node, g_rand_boolean(r));
        }
        /* Old heads as the graph knew them, to check reorgs against the simulator. */
        char old[4][CHAIN_HASH_BUF];
        gboolean old_known[4];
        for (guint i = 0; i < 4; i++) {
            const chain_block *h = chain_graph_head(f->g, chain_sim_node_name(f->sim, i));
            old_known[i] = h != NULL;
            g_strlcpy(old[i], h ? chain_block_hash(h) : "", sizeof old[i]);
        }
        fx_cycle(f);
        assert_string_equal(tip_hash(f), chain_sim_best_tip(f->sim));
        for (guint i = 0; i < 4; i++) {
            const chain_head_change *c = &f->last[i];
            if (!c->head_changed || !old_known[i])
                continue;
            const char *ca = NULL;
            gint64 depth = chain_sim_reorg_depth(f->sim, old[i], c->new_tip, &ca);
            assert_int_equal(c->reorg, depth > 0);
            if (c->reorg) {
                reorgs++;
                assert_int_equal(c->depth, depth);
                *max_depth = MAX(*max_depth, depth);
                assert_string_equal(c->common_ancestor, ca);
            }
        }
        const chain_block *lib = chain_graph_lib(f->g);
        for (guint i = 0; i < 4 && lib; i++) {
            const chain_block *h = chain_graph_head(f->g, chain_sim_node_name(f->sim, i));
            if (f->counted[i])
                assert_true(chain_graph_is_ancestor(f->g, lib, h));
        }
        GPtrArray *forks = chain_graph_forks(f->g);
        for (guint i = 0; i < forks->len; i++) {
            const chain_fork *fk = forks->pdata[i];
            const chain_block *tip = chain_graph_block(f->g, fk->tip);
            assert_non_null(tip);
            assert_ptr_not_equal(chain_graph_canonical_at(f->g, fk->tip_height), tip);
            assert_ptr_equal(chain_graph_canonical_at(f->g, fk->fork_height),
                             chain_graph_block(f->g, fk->fork_point));
        }
        g_ptr_array_free(forks, TRUE);
        chain_graph_update_forks(f->g, f->cycle, f->events);
        g_ptr_array_set_size(f->events, 0);
        if (prune)
            chain_graph_prune(f->g);
    }
    g_rand_free(r);
    fx_free(f);
    return reorgs;
}

static void test_property_random_seeds(void **unused)
{
    guint reorgs = 0;
    gint64 max_depth = 0;
    for (guint32 seed = 1; seed <= 40; seed++)
        reorgs += run_property(seed, 250, seed % 2 == 0, &max_depth);
    printf("property: 40 seeds x 250 steps, %u reorgs checked, deepest %" G_GINT64_FORMAT "\n",
           reorgs, max_depth);
    assert_true(reorgs >= 40 && max_depth >= 3); /* the walk does exercise reorgs */
}

/* LIB ignores unreachable nodes, so the branch of a node that was away can be pruned:
 * its head is then refused (the observer reports the node) and its blocks never connect. */
static void test_unreachable_branch_pruned(void **unused)
{
    fx *f = fx_new(90, 2, 1, 5);
    chain_sim_mine(f->sim, 0, 3);
    guint split[] = {0, 1};
    chain_sim_partition(f->sim, split);
    chain_sim_mine(f->sim, 1, 2);
    fx_cycle(f);
    chain_sim_set_online(f->sim, 1, FALSE);
    chain_sim_mine(f->sim, 0, 20);
    fx_cycle(f);
    assert_true(chain_graph_prune(f->g) > 0);
    assert_int_equal(chain_graph_floor(f->g), 23 - 5);
    assert_null(chain_graph_head(f->g, "node1")); /* its head went with its branch */
    assert_null(chain_graph_block(f->g, chain_sim_head(f->sim, 1)));
    chain_sim_set_online(f->sim, 1, TRUE);
    GError *err = NULL;
    assert_false(chain_graph_set_head(f->g, "node1", chain_sim_head(f->sim, 1), 9, NULL, NULL, &err));
    assert_non_null(strstr(err->message, "node1"));
    g_clear_error(&err);
    const char *next = chain_sim_mine(f->sim, 1, 1);
    add_json(f->g, chain_sim_header_json(f->sim, (guint)chain_sim_block_index(f->sim, next)),
             CHAIN_ADD_BELOW_FLOOR, NULL);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lib_k0),
        cmocka_unit_test(test_lib_k1),
        cmocka_unit_test(test_lib_k6),
        cmocka_unit_test(test_prune_bounded),
        cmocka_unit_test(test_public_target_1_to_5),
        cmocka_unit_test(test_public_target_on_fork),
        cmocka_unit_test(test_tx_inclusion_across_reorg),
        cmocka_unit_test(test_property_random_seeds),
        cmocka_unit_test(test_unreachable_branch_pruned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
