/* chain_sim_fixture.c: the simulator-into-graph fixture of the chain graph tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "chain_sim_fixture.h"

fx *fx_new(guint32 seed, guint nodes, guint k, guint retained)
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

void fx_free(fx *f)
{
    g_ptr_array_unref(f->events);
    chain_graph_free(f->g);
    chain_sim_free(f->sim);
    g_free(f);
}

/* Gives the graph every new block (in mining order) with its txids. */
void fx_feed(fx *f)
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
void fx_cycle(fx *f)
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

guint count_events(const fx *f, chain_event_kind kind)
{
    guint n = 0;
    for (guint i = 0; i < f->events->len; i++)
        n += ((chain_event *)f->events->pdata[i])->kind == kind;
    return n;
}

const char *tip_hash(const fx *f)
{
    return chain_block_hash(chain_graph_canonical_tip(f->g));
}

const char *canon_hash(const fx *f, gint64 h)
{
    const chain_block *b = chain_graph_canonical_at(f->g, h);
    return b ? chain_block_hash(b) : NULL;
}

/* The hash node reports at height h (getblockhash), as an independent reference. */
char *sim_hash_at(fx *f, guint node, gint64 h)
{
    json_t *p = json_pack("[I]", (json_int_t)h);
    json_t *r = chain_sim_rpc(f->sim, node, "getblockhash", p, NULL);
    char *out = r ? g_strdup(json_string_value(r)) : NULL;
    json_decref(r);
    json_decref(p);
    return out;
}

void add_json(chain_graph *g, json_t *j, chain_add_status want, GPtrArray *events)
{
    chain_header h;
    chain_add_status st;
    assert_true(chain_header_from_json(j, &h, NULL));
    assert_true(chain_graph_add_header(g, &h, 1, "n", &st, events, NULL));
    assert_int_equal(st, want);
    json_decref(j);
}
