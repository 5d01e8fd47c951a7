/* test_chain_graph.c: the fork-aware block graph against the deterministic chain
 * simulator: growth, forks and reorgs of exact depth, orphans, LIB, pruning, the majority
 * public target, tx inclusion across reorgs, and a randomized property over many seeds
 * where the simulator (naive parent walks) is the reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "chain/graph.h"
#include "chain/sim.h"

/* ---- fixture: a simulator mirrored into a graph, as the observer will do ------------ */

typedef struct {
    chain_sim *sim;
    chain_graph *g;
    guint fed;            /* sim blocks already given to the graph */
    guint64 cycle;
    GPtrArray *events;    /* every event since the last fx_clear_events */
    chain_head_change last[CHAIN_SIM_MAX_NODES];
    gboolean counted[CHAIN_SIM_MAX_NODES]; /* reachable with a head the graph accepted */
} fx;

static fx *fx_new(guint32 seed, guint nodes, guint k, guint retained)
{
    fx *f = g_new0(fx, 1);
    f->sim = chain_sim_new(seed, nodes);
    chain_graph_config cfg;
    chain_graph_config_init(&cfg);
    cfg.lib_confirmations = k;
    cfg.retained_depth = retained;
    f->g = chain_graph_new(&cfg);
    f->events = g_ptr_array_new_with_free_func(chain_event_free);
    return f;
}

static void fx_free(fx *f)
{
    g_ptr_array_unref(f->events);
    chain_graph_free(f->g);
    chain_sim_free(f->sim);
    g_free(f);
}

/* Gives the graph every new block (in mining order) with its txids. */
static void fx_feed(fx *f)
{
    for (; f->fed < chain_sim_block_count(f->sim); f->fed++) {
        json_t *j = chain_sim_header_json(f->sim, f->fed);
        chain_header h;
        GError *err = NULL;
        chain_add_status st;
        assert_true(chain_header_from_json(j, &h, &err));
        assert_true(chain_graph_add_header(f->g, &h, f->cycle, "node0", &st, f->events, &err));
        assert_null(err);
        assert_int_equal(st, CHAIN_ADD_CONNECTED);
        const char *const *tx = chain_sim_block_txids(f->sim, f->fed);
        assert_true(chain_graph_set_txids(f->g, h.hash, tx, g_strv_length((char **)tx), NULL));
        json_decref(j);
    }
}

/* One observer cycle: new headers, then each node's head asked over the simulated RPC
 * (an offline node fails the call and becomes unreachable). */
static void fx_cycle(fx *f)
{
    f->cycle++;
    fx_feed(f);
    for (guint i = 0; i < chain_sim_n_nodes(f->sim); i++) {
        const char *name = chain_sim_node_name(f->sim, i);
        GError *err = NULL;
        json_t *best = chain_sim_rpc(f->sim, i, "getbestblockhash", NULL, &err);
        memset(&f->last[i], 0, sizeof f->last[i]);
        f->counted[i] = FALSE;
        if (!best) {
            assert_non_null(err);
            g_clear_error(&err);
            chain_graph_set_reachable(f->g, name, FALSE);
            continue;
        }
        chain_graph_set_reachable(f->g, name, TRUE);
        assert_true(chain_graph_set_head(f->g, name, json_string_value(best), f->cycle,
                                         &f->last[i], f->events, &err));
        f->counted[i] = TRUE;
        json_decref(best);
    }
}

static guint count_events(const fx *f, chain_event_kind kind)
{
    guint n = 0;
    for (guint i = 0; i < f->events->len; i++)
        n += ((chain_event *)f->events->pdata[i])->kind == kind;
    return n;
}

static const char *tip_hash(const fx *f)
{
    return chain_block_hash(chain_graph_canonical_tip(f->g));
}

static const char *canon_hash(const fx *f, gint64 h)
{
    const chain_block *b = chain_graph_canonical_at(f->g, h);
    return b ? chain_block_hash(b) : NULL;
}

/* The hash node reports at height h (getblockhash), as an independent reference. */
static char *sim_hash_at(fx *f, guint node, gint64 h)
{
    json_t *p = json_pack("[I]", (json_int_t)h);
    json_t *r = chain_sim_rpc(f->sim, node, "getblockhash", p, NULL);
    char *out = r ? g_strdup(json_string_value(r)) : NULL;
    json_decref(r);
    json_decref(p);
    return out;
}

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

static void add_json(chain_graph *g, json_t *j, chain_add_status want, GPtrArray *events)
{
    chain_header h;
    chain_add_status st;
    assert_true(chain_header_from_json(j, &h, NULL));
    assert_true(chain_graph_add_header(g, &h, 1, "n", &st, events, NULL));
    assert_int_equal(st, want);
    json_decref(j);
}

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
        cmocka_unit_test(test_lib_k0),
        cmocka_unit_test(test_lib_k1),
        cmocka_unit_test(test_lib_k6),
        cmocka_unit_test(test_prune_bounded),
        cmocka_unit_test(test_public_target_1_to_5),
        cmocka_unit_test(test_public_target_on_fork),
        cmocka_unit_test(test_tx_inclusion_across_reorg),
        cmocka_unit_test(test_property_random_seeds),
        cmocka_unit_test(test_unreachable_branch_pruned),
        cmocka_unit_test(test_event_json),
        cmocka_unit_test(test_sim_rpc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
