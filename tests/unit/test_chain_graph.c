/* test_chain_graph.c: the fork-aware block graph against the deterministic chain
 * simulator: chainwork, growth, forks and reorgs of exact depth, orphans, bad input,
 * event JSON and the simulator's RPC face. LIB, pruning, the public target, tx inclusion
 * and the randomized property are in test_chain_lib.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "chain_sim_fixture.h"

/* ---- chainwork ---------------------------------------------------------------------- */

static void test_work_big_numbers(void **unused)
{
    chain_work a, b, c;
    assert_true(chain_work_parse("100000000000000000000", &a)); /* 2^80 */
    assert_true(chain_work_parse("ffffffffffffffff", &b));
    assert_true(chain_work_cmp(&a, &b) > 0);
    assert_true(chain_work_parse("00000000000000000000000000000000000000000000000000000000000000ff", &c));
    assert_true(chain_work_parse("0xFF", &b));
    assert_int_equal(chain_work_cmp(&b, &c), 0);
    char out[65];
    chain_work_format(&a, out);
    assert_string_equal(out, "0000000000000000000000000000000000000000000100000000000000000000");
    assert_true(chain_work_parse("ffffffffffffffff", &b));
    chain_work one;
    chain_work_from_u64(&one, 1);
    chain_work_add(&b, &one); /* carries into the second limb */
    assert_true(chain_work_parse("10000000000000000", &c));
    assert_int_equal(chain_work_cmp(&b, &c), 0);
    assert_false(chain_work_parse("", &c));
    assert_false(chain_work_parse("12g4", &c));
    assert_false(chain_work_parse("00000000000000000000000000000000000000000000000000000000000000001", &c));
    /* Top limb decides even against a full lower part. */
    assert_true(chain_work_parse("1000000000000000000000000000000000000000000000000000000000000000", &a));
    assert_true(chain_work_parse("0fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", &b));
    assert_true(chain_work_cmp(&a, &b) > 0 && chain_work_cmp(&b, &a) < 0);
}

/* ---- growth, forks, reorgs ---------------------------------------------------------- */

static void test_linear_growth(void **unused)
{
    fx *f = fx_new(1, 3, 6, 1000);
    for (int round = 0; round < 10; round++) {
        chain_sim_mine(f->sim, (guint)round % 3, 10);
        fx_cycle(f);
        assert_string_equal(tip_hash(f), chain_sim_best_tip(f->sim));
    }
    assert_int_equal(chain_block_height(chain_graph_canonical_tip(f->g)), 100);
    assert_int_equal(chain_graph_block_count(f->g), 101);
    assert_int_equal(count_events(f, CHAIN_EVENT_BLOCK_DISCOVERED), 101);
    assert_int_equal(count_events(f, CHAIN_EVENT_HEAD_CHANGED), 3 * 10);
    assert_int_equal(count_events(f, CHAIN_EVENT_REORG), 0);
    for (gint64 h = 0; h <= 100; h += 7) {
        char *want = sim_hash_at(f, 1, h);
        assert_string_equal(canon_hash(f, h), want);
        g_free(want);
    }
    assert_null(chain_graph_canonical_at(f->g, 101));
    const chain_block *gen = chain_graph_canonical_at(f->g, 0), *tip = chain_graph_canonical_tip(f->g);
    assert_true(chain_graph_is_ancestor(f->g, gen, tip));
    assert_false(chain_graph_is_ancestor(f->g, tip, gen));
    assert_ptr_equal(chain_graph_common_ancestor(f->g, tip, chain_graph_canonical_at(f->g, 40)),
                     chain_graph_canonical_at(f->g, 40));
    GPtrArray *path = chain_graph_canonical_path(f->g, 10, 20);
    assert_int_equal(path->len, 11);
    for (guint i = 0; i < path->len; i++)
        assert_int_equal(chain_block_height(path->pdata[i]), 10 + i);
    g_ptr_array_free(path, TRUE);
    GPtrArray *forks = chain_graph_forks(f->g);
    assert_int_equal(forks->len, 0);
    g_ptr_array_free(forks, TRUE);
    assert_int_equal(chain_graph_lib(f->g) ? chain_block_height(chain_graph_lib(f->g)) : -1, 95);
    fx_free(f);
}

/* Two sides after 5 shared blocks: node1 mines d, node0 mines d + 1; the heal makes
 * node1 drop exactly d blocks down to the block at height 5. */
static void check_fork_and_reorg(guint d)
{
    fx *f = fx_new(10 + d, 2, 1, 1000);
    chain_sim_mine(f->sim, 0, 5);
    fx_cycle(f);
    char *fork_point = g_strdup(tip_hash(f));
    guint split[] = {0, 1};
    chain_sim_partition(f->sim, split);
    chain_sim_mine(f->sim, 1, d);
    chain_sim_mine(f->sim, 0, d + 1);
    fx_cycle(f);
    GPtrArray *forks = chain_graph_forks(f->g);
    assert_int_equal(forks->len, 1);
    chain_fork *fk = forks->pdata[0];
    assert_int_equal(fk->length, d);
    assert_string_equal(fk->fork_point, fork_point);
    assert_string_equal(fk->tip, chain_sim_head(f->sim, 1));
    assert_string_equal(fk->nodes[0], "node1");
    assert_null(fk->nodes[1]);
    g_ptr_array_free(forks, TRUE);
    /* The node's own getchaintips agrees on the branch length. */
    json_t *tips = chain_sim_rpc(f->sim, 0, "getchaintips", NULL, NULL);
    assert_int_equal(json_array_size(tips), 1); /* node0 has not seen node1's branch */
    json_decref(tips);
    g_ptr_array_set_size(f->events, 0);
    assert_int_equal(chain_graph_update_forks(f->g, f->cycle, f->events), 1);
    assert_int_equal(((chain_event *)f->events->pdata[0])->kind, CHAIN_EVENT_FORK_DETECTED);
    assert_int_equal(chain_graph_update_forks(f->g, f->cycle, NULL), 0); /* no change */

    chain_sim_heal(f->sim);
    g_ptr_array_set_size(f->events, 0);
    fx_cycle(f);
    assert_true(f->last[1].reorg);
    assert_int_equal(f->last[1].depth, d);
    assert_int_equal(f->last[1].added, d + 1);
    assert_string_equal(f->last[1].common_ancestor, fork_point);
    assert_false(f->last[0].head_changed);
    assert_int_equal(count_events(f, CHAIN_EVENT_REORG), 1);
    tips = chain_sim_rpc(f->sim, 1, "getchaintips", NULL, NULL);
    json_t *t;
    size_t i;
    gboolean seen_fork = FALSE;
    json_array_foreach(tips, i, t)
        if (strcmp(json_string_value(json_object_get(t, "status")), "valid-fork") == 0) {
            assert_int_equal(json_integer_value(json_object_get(t, "branchlen")), d);
            seen_fork = TRUE;
        }
    assert_true(seen_fork);
    json_decref(tips);
    g_ptr_array_set_size(f->events, 0);
    assert_int_equal(chain_graph_update_forks(f->g, f->cycle, f->events), 1);
    chain_event *e = f->events->pdata[0];
    assert_int_equal(e->kind, CHAIN_EVENT_FORK_RESOLVED);
    assert_string_equal(e->u.fork.resolution, "abandoned");
    assert_int_equal(e->u.fork.length, d);
    g_free(fork_point);
    fx_free(f);
}

static void test_fork_depth_1(void **unused) { check_fork_and_reorg(1); }
static void test_fork_depth_2(void **unused) { check_fork_and_reorg(2); }
static void test_fork_depth_10(void **unused) { check_fork_and_reorg(10); }

static void test_three_way_fork(void **unused)
{
    fx *f = fx_new(3, 3, 1, 1000);
    chain_sim_mine(f->sim, 0, 3);
    fx_cycle(f);
    guint alone[] = {0, 1, 2};
    chain_sim_partition(f->sim, alone);
    chain_sim_mine(f->sim, 0, 3);
    chain_sim_mine(f->sim, 1, 2);
    chain_sim_mine(f->sim, 2, 1);
    fx_cycle(f);
    assert_string_equal(tip_hash(f), chain_sim_head(f->sim, 0));
    GPtrArray *forks = chain_graph_forks(f->g);
    assert_int_equal(forks->len, 2);
    for (guint i = 0; i < 2; i++) {
        chain_fork *fk = forks->pdata[i];
        assert_int_equal(fk->fork_height, 3);
        assert_int_equal(fk->length, strcmp(fk->nodes[0], "node1") == 0 ? 2 : 1);
    }
    g_ptr_array_free(forks, TRUE);
    g_ptr_array_set_size(f->events, 0);
    assert_int_equal(chain_graph_update_forks(f->g, f->cycle, f->events), 2);

    /* node2's branch overtakes: it becomes canonical, node0's becomes a fork. */
    chain_sim_mine(f->sim, 2, 5);
    fx_cycle(f);
    assert_string_equal(tip_hash(f), chain_sim_head(f->sim, 2));
    g_ptr_array_set_size(f->events, 0);
    assert_int_equal(chain_graph_update_forks(f->g, f->cycle, f->events), 2);
    guint detected = 0, resolved = 0;
    for (guint i = 0; i < f->events->len; i++) {
        chain_event *e = f->events->pdata[i];
        if (e->kind == CHAIN_EVENT_FORK_DETECTED) {
            detected++;
            assert_string_equal(e->u.fork.nodes[0], "node0");
            assert_int_equal(e->u.fork.length, 3);
        } else {
            resolved++;
            assert_string_equal(e->u.fork.resolution, "canonical");
        }
    }
    assert_int_equal(detected, 1);
    assert_int_equal(resolved, 1);

    chain_sim_heal(f->sim);
    fx_cycle(f);
    assert_true(f->last[0].reorg && f->last[0].depth == 3);
    assert_true(f->last[1].reorg && f->last[1].depth == 2);
    assert_false(f->last[2].head_changed);
    g_ptr_array_set_size(f->events, 0);
    assert_int_equal(chain_graph_update_forks(f->g, f->cycle, f->events), 2);
    for (guint i = 0; i < f->events->len; i++)
        assert_string_equal(((chain_event *)f->events->pdata[i])->u.fork.resolution, "abandoned");
    forks = chain_graph_forks(f->g); /* stale tips stay listed, with no node on them */
    assert_int_equal(forks->len, 2);
    assert_null(((chain_fork *)forks->pdata[0])->nodes[0]);
    g_ptr_array_free(forks, TRUE);
    fx_free(f);
}

/* ---- orphans ------------------------------------------------------------------------ */

static void test_orphans_before_parents(void **unused)
{
    chain_sim *sim = chain_sim_new(5, 1);
    chain_sim_mine(sim, 0, 50);
    GPtrArray *ev = g_ptr_array_new_with_free_func(chain_event_free);
    /* Auto root: genesis first, then the rest newest first. */
    chain_graph *g = chain_graph_new(NULL);
    add_json(g, chain_sim_header_json(sim, 0), CHAIN_ADD_CONNECTED, ev);
    for (guint i = 50; i >= 2; i--)
        add_json(g, chain_sim_header_json(sim, i), CHAIN_ADD_ORPHAN, ev);
    assert_int_equal(chain_graph_orphan_count(g), 49);
    add_json(g, chain_sim_header_json(sim, 30), CHAIN_ADD_DUPLICATE, ev);
    add_json(g, chain_sim_header_json(sim, 1), CHAIN_ADD_CONNECTED, ev);
    assert_int_equal(chain_graph_orphan_count(g), 0);
    assert_int_equal(ev->len, 51);
    for (guint i = 0; i < ev->len; i++) /* discovered in height order once connected */
        assert_int_equal(((chain_event *)ev->pdata[i])->u.block.height, i);
    assert_string_equal(chain_block_hash(chain_graph_canonical_tip(g)), chain_sim_best_tip(sim));
    chain_graph_free(g);

    /* Fixed base height 0: a shuffled stream, genesis anywhere. */
    chain_graph_config cfg;
    chain_graph_config_init(&cfg);
    cfg.base_height = 0;
    g = chain_graph_new(&cfg);
    GRand *r = g_rand_new_with_seed(99);
    guint order[51];
    for (guint i = 0; i <= 50; i++)
        order[i] = i;
    for (guint i = 50; i > 0; i--) {
        guint j = (guint)g_rand_int_range(r, 0, (gint32)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (guint i = 0; i <= 50; i++) {
        json_t *j = chain_sim_header_json(sim, order[i]);
        chain_header h;
        assert_true(chain_header_from_json(j, &h, NULL));
        assert_true(chain_graph_add_header(g, &h, i, "n", NULL, NULL, NULL));
        json_decref(j);
    }
    assert_int_equal(chain_graph_block_count(g), 51);
    assert_int_equal(chain_graph_orphan_count(g), 0);
    assert_string_equal(chain_block_hash(chain_graph_canonical_tip(g)), chain_sim_best_tip(sim));
    g_rand_free(r);
    chain_graph_free(g);

    /* The orphan pool is bounded: the oldest go first. */
    cfg.max_orphans = 10;
    g = chain_graph_new(&cfg);
    for (guint i = 50; i >= 21; i--)
        add_json(g, chain_sim_header_json(sim, i), CHAIN_ADD_ORPHAN, NULL);
    assert_int_equal(chain_graph_orphan_count(g), 10);
    for (guint i = 0; i <= 20; i++)
        add_json(g, chain_sim_header_json(sim, i), CHAIN_ADD_CONNECTED, NULL);
    assert_int_equal(chain_block_height(chain_graph_canonical_tip(g)), 30); /* 21..30 kept */
    chain_graph_free(g);
    g_ptr_array_unref(ev);
    chain_sim_free(sim);
}

static void test_bad_input(void **unused)
{
    chain_sim *sim = chain_sim_new(8, 1);
    chain_sim_mine(sim, 0, 3);
    chain_graph *g = chain_graph_new(NULL);
    GError *err = NULL;
    chain_header h = {.hash = "xyz", .height = 0, .chainwork = "2"};
    assert_false(chain_graph_add_header(g, &h, 1, "n", NULL, NULL, &err));
    assert_non_null(err);
    g_clear_error(&err);
    for (guint i = 0; i <= 3; i++)
        add_json(g, chain_sim_header_json(sim, i), CHAIN_ADD_CONNECTED, NULL);
    json_t *j = chain_sim_header_json(sim, 3);
    json_object_set_new(j, "hash", json_string("ab00000000000000000000000000000000000000000000000000000000000000"));
    json_object_set_new(j, "height", json_integer(7)); /* parent (height 2) says 3 */
    assert_true(chain_header_from_json(j, &h, NULL));
    assert_false(chain_graph_add_header(g, &h, 1, "n", NULL, NULL, &err));
    assert_non_null(strstr(err->message, "parent is at 2"));
    g_clear_error(&err);
    json_object_del(j, "chainwork");
    assert_false(chain_header_from_json(j, &h, &err));
    g_clear_error(&err);
    json_decref(j);
    assert_false(chain_graph_set_head(g, "n", "ab00000000000000000000000000000000000000000000000000000000000000", 1, NULL, NULL, &err));
    g_clear_error(&err);
    assert_false(chain_graph_set_txids(g, "ab", NULL, 0, &err));
    g_clear_error(&err);
    assert_int_equal(chain_graph_block_count(g), 4);
    chain_graph_free(g);
    chain_sim_free(sim);
}

/* ---- events and the simulator's RPC face ------------------------------------------- */

static void test_event_json(void **unused)
{
    fx *f = fx_new(60, 2, 1, 1000);
    chain_sim_mine(f->sim, 0, 2);
    fx_cycle(f);
    guint split[] = {0, 1};
    chain_sim_partition(f->sim, split);
    chain_sim_mine(f->sim, 0, 2);
    chain_sim_mine(f->sim, 1, 1);
    fx_cycle(f);
    chain_graph_update_forks(f->g, f->cycle, f->events);
    chain_sim_heal(f->sim);
    fx_cycle(f);
    chain_graph_update_forks(f->g, f->cycle, f->events);
    const char *want[] = {"block_discovered", "head_changed", "reorg", "fork_detected", "fork_resolved"};
    for (guint k = 0; k < G_N_ELEMENTS(want); k++) {
        json_t *found = NULL;
        for (guint i = 0; i < f->events->len && !found; i++) {
            json_t *j = chain_event_to_json(f->events->pdata[i]);
            if (strcmp(json_string_value(json_object_get(j, "type")), want[k]) == 0)
                found = j;
            else
                json_decref(j);
        }
        assert_non_null(found);
        if (k == 2) {
            assert_string_equal(json_string_value(json_object_get(found, "node")), "node1");
            assert_int_equal(json_integer_value(json_object_get(found, "depth")), 1);
            assert_int_equal(json_integer_value(json_object_get(found, "ancestor_height")), 2);
        }
        if (k == 0)
            assert_int_equal(strlen(json_string_value(json_object_get(found, "chainwork"))), 64);
        if (k == 4)
            assert_string_equal(json_string_value(json_object_get(found, "resolution")), "abandoned");
        json_decref(found);
    }
    fx_free(f);
}

static void test_sim_rpc(void **unused)
{
    chain_sim *s = chain_sim_new(70, 2);
    chain_sim *again = chain_sim_new(70, 2);
    chain_sim_mine(s, 0, 4);
    chain_sim_mine(again, 0, 4);
    assert_string_equal(chain_sim_head(s, 1), chain_sim_head(again, 1)); /* deterministic */
    GError *err = NULL;
    json_t *p = json_pack("[s]", chain_sim_block_hash(s, 2));
    json_t *h = chain_sim_rpc(s, 1, "getblockheader", p, &err);
    assert_int_equal(json_integer_value(json_object_get(h, "confirmations")), 3);
    assert_string_equal(json_string_value(json_object_get(h, "nextblockhash")), chain_sim_block_hash(s, 3));
    assert_string_equal(json_string_value(json_object_get(h, "chainwork")),
                        "0000000000000000000000000000000000000000000000000000000000000006");
    json_decref(h);
    h = chain_sim_rpc(s, 1, "getblock", p, &err);
    assert_int_equal(json_array_size(json_object_get(h, "tx")), 1);
    json_decref(h);
    json_decref(p);
    p = json_pack("[i]", 5);
    assert_null(chain_sim_rpc(s, 0, "getblockhash", p, &err));
    assert_non_null(strstr(err->message, "out of range"));
    g_clear_error(&err);
    json_decref(p);
    assert_null(chain_sim_rpc(s, 0, "nosuch", NULL, &err));
    g_clear_error(&err);
    chain_sim_set_online(s, 1, FALSE);
    assert_null(chain_sim_rpc(s, 1, "getbestblockhash", NULL, &err));
    assert_non_null(strstr(err->message, "node1"));
    g_clear_error(&err);
    json_t *n = chain_sim_rpc(s, 0, "getblockcount", NULL, NULL);
    assert_int_equal(json_integer_value(n), 4);
    json_decref(n);
    chain_sim_free(again);
    chain_sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_big_numbers),
        cmocka_unit_test(test_linear_growth),
        cmocka_unit_test(test_fork_depth_1),
        cmocka_unit_test(test_fork_depth_2),
        cmocka_unit_test(test_fork_depth_10),
        cmocka_unit_test(test_three_way_fork),
        cmocka_unit_test(test_orphans_before_parents),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_event_json),
        cmocka_unit_test(test_sim_rpc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
