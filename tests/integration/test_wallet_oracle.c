/* test_wallet_oracle.c: the wallet projection against litecoind's own wallets. Three
 * regtest nodes, one wallet each (createwallet), random transfers between them (fixed,
 * printed seed), mining on two sides of a partition to fork, healing to reorg. After every
 * step each wallet's outputs in the projection, at the head of the node that holds the
 * wallet, equal that node's listunspent exactly (txid, vout, amount in litoshis). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <tf/tf.h>
#include "chain/rpc.h"
#include "wallet/observer.h"
#include "skip.h"

#define N 3
#define K 4             /* tracked addresses per wallet: receive and change go to these */
#define WAIT (30 * G_USEC_PER_SEC)

typedef struct {
    tf_cluster *c;
    tf_runtime *rt;
    tf_handle *h;
    tf_http *http;
    chain_rpc *rpc[N];
    char *addr[N][K];
    char wpath[N][32];
    GRand *rng;
    guint32 seed;
    guint group[N];        /* partition group per node */
    gint64 balance[N];     /* listed balance at the last check */
    char best[N][CHAIN_HASH_BUF];
    guint checks, compared_outputs, transfers, forks;
} fx;

static json_t *call(fx *f, guint node, const char *path, const char *method, json_t *params)
{
    GError *err = NULL;
    json_t *r = chain_rpc_call(f->rpc[node], f->http, path, method, params, 120 * G_USEC_PER_SEC, &err);
    if (!r)
        fail_msg("seed %u: n%u %s: %s", f->seed, node, method, err->message);
    return r;
}

static void connect_all(fx *f, guint i)
{
    for (guint j = 0; j < N; j++) {
        if (j == i)
            continue;
        tf_source *src = tf_cluster_node_source(f->c, j);
        GError *err = NULL;
        json_t *r = chain_rpc_call(f->rpc[i], f->http, NULL, "addnode",
                                   json_pack("[s, s]", tf_source_attr_str(src, "p2p"), "onetry"),
                                   30 * G_USEC_PER_SEC, &err);
        tf_source_unref(src);
        json_decref(r);
        g_clear_error(&err); /* "already connected" is fine */
    }
}

/* ---- waiting on the projection ------------------------------------------------------------ */

/* Every node of a group has the same head, every head's state is held. */
static gboolean converged(const tf_snapshot *snap, void *data)
{
    fx *f = data;
    const wallet_snapshot *s = tf_snapshot_data(snap);
    char head[N][CHAIN_HASH_BUF];
    for (guint i = 0; i < N; i++) {
        const chain_node_view *v = chain_snapshot_node(s->chain, tf_cluster_node_name(f->c, i));
        if (!v || !v->reachable || !v->head[0] || !g_hash_table_contains(s->states, v->head))
            return FALSE;
        memcpy(head[i], v->head, CHAIN_HASH_BUF);
    }
    for (guint i = 0; i < N; i++)
        for (guint j = 0; j < N; j++)
            if (f->group[i] == f->group[j] && strcmp(head[i], head[j]))
                return FALSE;
    return TRUE;
}

/* Every node's head is the best block it reported, and its state is held. */
static gboolean at_best(const tf_snapshot *snap, void *data)
{
    fx *f = data;
    const wallet_snapshot *s = tf_snapshot_data(snap);
    for (guint i = 0; i < N; i++) {
        const chain_node_view *v = chain_snapshot_node(s->chain, tf_cluster_node_name(f->c, i));
        if (!v || strcmp(v->head, f->best[i]) || !g_hash_table_contains(s->states, f->best[i]))
            return FALSE;
    }
    return TRUE;
}

static char *progress(const tf_snapshot *snap, void *data)
{
    const wallet_snapshot *s = tf_snapshot_data(snap);
    GString *p = g_string_new(NULL);
    for (guint i = 0; i < s->chain->n_nodes; i++)
        g_string_append_printf(p, "%s h=%" G_GINT64_FORMAT " %.8s, ", s->chain->nodes[i].name,
                               s->chain->nodes[i].height, s->chain->nodes[i].head);
    g_string_append_printf(p, "projection tip %" G_GINT64_FORMAT ", %u headers", s->tip_height, s->headers);
    return g_string_free(p, FALSE);
}

static tf_snapshot *wait_for(fx *f, tf_predicate pred, const char *what, gint64 fresh_after)
{
    tf_wait w = {.pred = pred, .data = f, .what = what, .timeout_us = WAIT,
                 .fresh_after = fresh_after, .progress = progress};
    GError *err = NULL;
    tf_snapshot *snap = tf_handle_wait_for(f->h, &w, &err);
    if (!snap)
        fail_msg("seed %u: %s", f->seed, err->message);
    return snap;
}

/* ---- the oracle ------------------------------------------------------------------------------ */

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *lines_join(GPtrArray *lines)
{
    g_ptr_array_sort(lines, cmp_str);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < lines->len; i++)
        g_string_append_printf(s, "  %s\n", (char *)lines->pdata[i]);
    return g_string_free(s, FALSE);
}

/* Waits until the nodes settled, asks each node for its best block and its wallet's
 * listunspent, waits for a projection snapshot taken after that, and compares. */
static void check(fx *f, const char *what)
{
    /* Fresh: a snapshot from before the last action could look settled on the old chain. */
    tf_snapshot_unref(wait_for(f, converged, "every partition's nodes on one head, states held",
                               g_get_monotonic_time()));
    gint64 asked = g_get_monotonic_time();
    char *want[N];
    gint64 want_bal[N];
    for (guint i = 0; i < N; i++) {
        json_t *best = call(f, i, NULL, "getbestblockhash", NULL);
        g_strlcpy(f->best[i], json_string_value(best), CHAIN_HASH_BUF);
        json_decref(best);
        /* The wallet hears of blocks through the validation queue: let it catch up. */
        json_decref(call(f, i, NULL, "syncwithvalidationinterfacequeue", NULL));
        json_t *lu = call(f, i, f->wpath[i], "listunspent", NULL);
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        want_bal[i] = 0;
        for (gsize k = 0; k < json_array_size(lu); k++) {
            json_t *u = json_array_get(lu, k);
            gint64 amount = -1;
            assert_true(wallet_amount_from_json(json_object_get(u, "amount"), &amount));
            want_bal[i] += amount;
            g_ptr_array_add(lines, g_strdup_printf("%s:%d %" G_GINT64_FORMAT,
                                                   json_string_value(json_object_get(u, "txid")),
                                                   (int)json_integer_value(json_object_get(u, "vout")), amount));
        }
        want[i] = lines_join(lines);
        g_ptr_array_unref(lines);
        json_decref(lu);
    }
    tf_snapshot *snap = wait_for(f, at_best, "every node's reported best block in the projection", asked);
    const wallet_snapshot *s = tf_snapshot_data(snap);
    gboolean all_same = TRUE;
    for (guint i = 0; i < N; i++) {
        char name[8];
        g_snprintf(name, sizeof name, "w%u", i);
        gint64 bal = -1;
        GPtrArray *got = wallet_snapshot_list_at(s, f->best[i], name, &bal);
        assert_non_null(got);
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        for (guint k = 0; k < got->len; k++) {
            const wallet_utxo *u = got->pdata[k];
            g_ptr_array_add(lines, g_strdup_printf("%s:%u %" G_GINT64_FORMAT, u->txid, u->vout, u->amount));
        }
        char *have = lines_join(lines);
        if (strcmp(want[i], have))
            fail_msg("seed %u, check %u (%s): wallet %s at n%u's head %s:\nlistunspent:\n%sprojection:\n%s",
                     f->seed, f->checks + 1, what, name, i, f->best[i], want[i], have);
        assert_int_equal(bal, want_bal[i]);
        f->balance[i] = bal;
        f->compared_outputs += got->len;
        all_same = all_same && !strcmp(f->best[i], f->best[0]);
        g_ptr_array_unref(lines);
        g_ptr_array_unref(got);
        g_free(have);
    }
    /* Nodes agree: the canonical view is the same answer. */
    if (all_same) {
        assert_string_equal(s->tip, f->best[0]);
        for (guint i = 0; i < N; i++)
            assert_int_equal(s->wallets[i].balance, want_bal[i]);
    }
    f->checks++;
    print_message("check %2u %-34s h=%" G_GINT64_FORMAT " %s balances %.8f %.8f %.8f, %u unconfirmed\n",
                  f->checks, what, s->tip_height, all_same ? "agreed" : "forked", want_bal[0] / 1e8,
                  want_bal[1] / 1e8, want_bal[2] / 1e8, s->n_unconfirmed);
    tf_snapshot_unref(snap);
    for (guint i = 0; i < N; i++)
        g_free(want[i]);
}

/* ---- actions ---------------------------------------------------------------------------------- */

static void mine(fx *f, guint node, guint n)
{
    const char *to = f->addr[node][g_rand_int_range(f->rng, 0, K)];
    json_decref(call(f, node, NULL, "generatetoaddress", json_pack("[i, s]", (int)n, to)));
}

/* Wallet i pays a random amount to a random tracked address of wallet j, change to one of
 * its own tracked addresses. FALSE when i has too little. */
static gboolean transfer_amount(fx *f, guint i, guint j, gint64 amount)
{
    if (f->balance[i] < G_GINT64_CONSTANT(50000000))
        return FALSE;
    if (!amount)
        amount = g_rand_int_range(f->rng, 1000, 100000) * G_GINT64_CONSTANT(1000) +
                 g_rand_int_range(f->rng, 0, 1000); /* litoshi precision */
    amount = MIN(amount, f->balance[i] / 3);
    char value[32];
    g_snprintf(value, sizeof value, "%" G_GINT64_FORMAT ".%08" G_GINT64_FORMAT, amount / 100000000,
               amount % 100000000);
    json_t *outputs = json_array();
    json_array_append_new(outputs, json_pack("{s:s}", f->addr[j][g_rand_int_range(f->rng, 0, K)], value));
    json_t *opts = json_pack("{s:s}", "change_address", f->addr[i][g_rand_int_range(f->rng, 0, K)]);
    json_t *r = call(f, i, f->wpath[i], "send", json_pack("[o, n, s, n, o]", outputs, "unset", opts));
    assert_true(json_is_true(json_object_get(r, "complete")));
    json_decref(r);
    f->balance[i] -= amount;
    f->transfers++;
    return TRUE;
}

static gboolean transfer(fx *f, guint i, guint j)
{
    return transfer_amount(f, i, j, 0);
}

static void random_transfers(fx *f, guint n, gint only_group)
{
    for (guint k = 0; k < n; k++) {
        guint i = g_rand_int_range(f->rng, 0, N), j = g_rand_int_range(f->rng, 0, N);
        if (only_group >= 0 && f->group[i] != (guint)only_group)
            continue;
        transfer(f, i, j);
    }
}

static void set_network(fx *f, guint node, gboolean on)
{
    json_decref(call(f, node, NULL, "setnetworkactive", json_pack("[b]", on)));
    if (on) {
        connect_all(f, node);
        return;
    }
    /* The node drops connections in its socket thread a moment later; a block mined at
     * once could still leave. Disconnecting each peer by id takes effect at once. */
    json_t *peers = call(f, node, NULL, "getpeerinfo", NULL);
    for (gsize i = 0; i < json_array_size(peers); i++) {
        GError *err = NULL;
        json_decref(chain_rpc_call(f->rpc[node], f->http, NULL, "disconnectnode",
                                   json_pack("[s, O]", "", json_object_get(json_array_get(peers, i), "id")),
                                   30 * G_USEC_PER_SEC, &err));
        g_clear_error(&err); /* already gone: fine */
    }
    json_decref(peers);
}

/* ---- fixture ---------------------------------------------------------------------------------- */

static int setup(void **state)
{
    fx *f = g_new0(fx, 1);
    const char *env = g_getenv("TF_WALLET_SEED");
    f->seed = env ? (guint32)g_ascii_strtoull(env, NULL, 10) : 8;
    f->rng = g_rand_new_with_seed(f->seed);
    print_message("wallet oracle seed %u (set TF_WALLET_SEED to replay another)\n", f->seed);
    GError *err = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(TF_SOURCE_DIR "/scenarios/clusters/litecoin-3.json", &err);
    if (!spec)
        fail_msg("%s", err->message);
    f->c = tf_cluster_new(spec, N, &err);
    tf_cluster_spec_free(spec);
    if (!f->c || !tf_cluster_start(f->c, &err))
        fail_msg("litecoin cluster: %s", err->message);
    f->http = tf_http_new();
    for (guint i = 0; i < N; i++) {
        tf_source *src = tf_cluster_node_source(f->c, i);
        f->rpc[i] = chain_rpc_from_source(src, &err);
        tf_source_unref(src);
        assert_non_null(f->rpc[i]);
    }
    wallet_observer_config cfg;
    wallet_observer_config_init(&cfg);
    cfg.chain.long_poll = TRUE;
    for (guint i = 0; i < N; i++) {
        connect_all(f, i);
        char name[8];
        g_snprintf(name, sizeof name, "w%u", i);
        g_snprintf(f->wpath[i], sizeof f->wpath[i], "/wallet/%s", name);
        json_decref(call(f, i, NULL, "createwallet", json_pack("[s]", name)));
        wallet_observer_config_add_wallet(&cfg, name, NULL);
        for (guint k = 0; k < K; k++) {
            json_t *a = call(f, i, f->wpath[i], "getnewaddress", NULL);
            f->addr[i][k] = g_strdup(json_string_value(a));
            json_decref(a);
            assert_true(wallet_observer_config_add_address(&cfg, name, f->addr[i][k]));
        }
    }
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.interval_us = 100 * 1000;
    rc.request_timeout_us = 10 * G_USEC_PER_SEC;
    rc.stale_after_us = 20 * G_USEC_PER_SEC;
    rc.event_history = 8192;
    rc.snapshot_history = 8;
    f->rt = tf_runtime_new(&rc, &wallet_observer, &cfg, tf_cluster_provider(f->c), &err);
    wallet_observer_config_clear(&cfg);
    if (!f->rt || !tf_runtime_start(f->rt, &err))
        fail_msg("runtime: %s", err->message);
    f->h = tf_runtime_handle(f->rt);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tf_handle_unref(f->h);
    tf_runtime_free(f->rt);
    tf_cluster_free(f->c);
    for (guint i = 0; i < N; i++) {
        chain_rpc_free(f->rpc[i]);
        for (guint k = 0; k < K; k++)
            g_free(f->addr[i][k]);
    }
    tf_http_free(f->http);
    g_rand_free(f->rng);
    g_free(f);
    return 0;
}

/* Events seen so far of a kind (optionally for one txid). */
static guint count_events(fx *f, wallet_event_kind kind, GHashTable *txids)
{
    GPtrArray *hist = tf_handle_batches(f->h);
    guint n = 0;
    for (guint b = 0; b < hist->len; b++)
        for (guint i = 0; i < tf_batch_len(hist->pdata[b]); i++) {
            const wallet_event *ev = tf_batch_event(hist->pdata[b], i);
            if (ev->kind == kind) {
                n++;
                if (txids)
                    g_hash_table_add(txids, g_strdup(ev->txid));
            }
        }
    g_ptr_array_unref(hist);
    return n;
}

static void test_wallets_follow_the_nodes_through_reorgs(void **state)
{
    fx *f = *state;
    check(f, "empty wallets at genesis");
    mine(f, 0, 101);
    check(f, "w0 coinbase matured (101 blocks)");
    assert_true(f->balance[0] > 0);
    transfer_amount(f, 0, 1, G_GINT64_CONSTANT(1000000000));
    transfer_amount(f, 0, 2, G_GINT64_CONSTANT(1000000000));
    check(f, "two payments unconfirmed");
    mine(f, 0, 1);
    check(f, "payments confirmed");
    guint rounds = 4;
    for (guint r = 0; r < rounds; r++) {
        random_transfers(f, 3, -1);
        check(f, "random transfers");
        guint k = g_rand_int_range(f->rng, 0, N);
        for (guint i = 0; i < N; i++)
            f->group[i] = i == k ? 1 : 0;
        set_network(f, k, FALSE);
        guint other = (k + 1 + g_rand_int_range(f->rng, 0, N - 1)) % N;
        /* A clear winner: the lone node wins every other round. The losing side's miner
         * pays someone first, so its branch holds a wallet payment the reorg reverts. */
        gboolean lone_wins = r % 2;
        guint loser = lone_wins ? other : k;
        transfer(f, loser, g_rand_int_range(f->rng, 0, N));
        random_transfers(f, 2, -1);
        check(f, "partitioned, transfers on both sides");
        /* The losing side mines first, so its branch is canonical for a while and the
         * winner's longer branch then reorganises the projection too. */
        guint winner = lone_wins ? k : other;
        mine(f, loser, 1);
        check(f, "forked: the losing side mined");
        mine(f, winner, lone_wins ? 3 : 2);
        f->forks++;
        check(f, "forked: the winning side mined more");
        set_network(f, k, TRUE);
        for (guint i = 0; i < N; i++)
            f->group[i] = 0;
        check(f, "healed: reorg");
        mine(f, loser, 1); /* the reverted payments are back in its mempool */
        check(f, "reverted payments re-mined");
    }
    /* The reorgs happened and showed up as events. */
    tf_snapshot *snap = tf_handle_latest(f->h);
    const wallet_snapshot *s = tf_snapshot_data(snap);
    assert_true(s->chain->reorgs >= rounds);
    guint64 reorgs = s->chain->reorgs;
    tf_snapshot_unref(snap);
    GHashTable *dropped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *included = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint n_dropped = count_events(f, WALLET_EVENT_TX_DROPPED_BY_REORG, dropped);
    guint n_reverted = count_events(f, WALLET_EVENT_UTXO_REVERTED_BY_REORG, NULL);
    count_events(f, WALLET_EVENT_TX_INCLUDED, included);
    assert_true(n_dropped > 0);
    assert_true(n_reverted > 0);
    GHashTableIter it;
    gpointer txid;
    g_hash_table_iter_init(&it, dropped);
    guint remined = 0;
    while (g_hash_table_iter_next(&it, &txid, NULL))
        remined += g_hash_table_contains(included, txid);
    assert_true(remined > 0);
    print_message("seed %u: %u checks, %u outputs compared, %u transfers, %u forks, %" G_GUINT64_FORMAT
                  " node reorgs, %u tx_dropped_by_reorg (%u re-included), %u utxo_reverted_by_reorg\n",
                  f->seed, f->checks, f->compared_outputs, f->transfers, f->forks, reorgs, n_dropped,
                  remined, n_reverted);
    g_hash_table_unref(dropped);
    g_hash_table_unref(included);
}

int main(void)
{
    tf_test_need_cluster_all("litecoin-3.json");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wallets_follow_the_nodes_through_reorgs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
