/* test_chain_payment_once.c: the chain payment step pays once across retried attempts
 * and restarted runners (README: "the chain payment step reuses its txid"), on real
 * litecoind regtest. The claim is keyed by the sender's and receiver's addresses, so it
 * applies where the network outlives the attempt: here two nodes the test starts itself
 * and a step module hands to each scenario's chain world (as a BeforeAll hook would).
 * A scenario pays, then fails once after the payment; with --retry 1 and a store the
 * second attempt reuses the txid; a restarted runner with the same store does too; the
 * sender's wallet holds exactly one such payment. Without a store the same retry pays
 * twice: the check can see a double payment. Takes about 10 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "chain/rpc.h"
#include "chain_steps.h"
#include "chain_world.h"
#include "it_scenarios.h"
#include "skip.h"
#include "tf/runner.h"


static tf_cluster *network; /* outlives every scenario of the test */
static tf_http *http;
static chain_rpc *rpc[2];
static int checks;          /* how often the flaky check ran: it fails the first time */

static tf_step_status given_network(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_ensure(tf_step_world(step), error);
    if (!ch)
        return TF_STEP_FAILED;
    ch_world_add_cluster(ch, network, FALSE); /* borrowed: the world must not free it */
    return TF_STEP_PASSED;
}

static tf_step_status then_flaky(tf_step *step, GError **error)
{
    return checks++ == 0 ? TF_FAIL(error, "failing once after the payment, as asked") : TF_STEP_PASSED;
}

static gboolean test_steps(tf_registry *reg, GError **error)
{
    TF_GIVEN("the long-lived litecoin network", given_network);
    TF_THEN("the check after the payment fails on the first attempt", then_flaky);
    return TRUE;
}

static json_t *call(guint node, const char *path, const char *method, json_t *params)
{
    GError *e = NULL;
    json_t *r = chain_rpc_call(rpc[node], http, path, method, params, 60 * G_USEC_PER_SEC, &e);
    if (!r)
        fail_msg("%s", e->message);
    return r;
}

static int setup(void **unused)
{
    if (it_setup("tf-pay-once-it"))
        return -1;
    GError *e = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(TF_SOURCE_DIR "/scenarios/clusters/litecoin-3.json", &e);
    network = spec ? tf_cluster_new(spec, 2, &e) : NULL;
    tf_cluster_spec_free(spec);
    if (!network || !tf_cluster_start(network, &e)) {
        fprintf(stderr, "litecoin network: %s\n", e->message);
        return -1;
    }
    http = tf_http_new();
    for (guint i = 0; i < 2; i++) {
        tf_source *src = tf_cluster_node_source(network, i);
        rpc[i] = chain_rpc_from_source(src, &e);
        tf_source_unref(src);
    }
    /* n1 gets spendable coins in its wallet "tf", at the address the steps will use. */
    json_decref(call(0, NULL, "createwallet", json_pack("[s]", "tf")));
    json_t *addr = call(0, "/wallet/tf", "getnewaddress", json_pack("[s]", "tf"));
    json_decref(call(0, NULL, "generatetoaddress", json_pack("[i, O]", 101, addr)));
    json_decref(addr);
    return 0;
}

static int teardown(void **unused)
{
    for (guint i = 0; i < 2; i++)
        chain_rpc_free(rpc[i]);
    tf_http_free(http);
    tf_cluster_free(network);
    return it_teardown();
}

/* Runs the payment scenario for amount with the chain steps and the test's steps. */
static int run(const char *amount, const char *store, it_report *rep)
{
    char *feature = it_path("pay.feature");
    char *text = g_strdup_printf("Feature: a payment is made once\n"
                                 "  Scenario: paying, then a check that fails the first time\n"
                                 "    Given the long-lived litecoin network\n"
                                 "    When node n1 sends %s coins to node n2\n"
                                 "    Then the check after the payment fails on the first attempt\n",
                                 amount);
    assert_true(g_file_set_contents(feature, text, -1, NULL));
    char *messages = it_path("pay.ndjson");
    char *fmt = g_strdup_printf("message:%s", messages);
    GPtrArray *argv = g_ptr_array_new();
    const char *fixed[] = {"tf-run", "--format", "summary", "--format", fmt, "--retry", "1"};
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(argv, (char *)fixed[i]);
    if (store) {
        g_ptr_array_add(argv, "--store");
        g_ptr_array_add(argv, (char *)store);
    }
    g_ptr_array_add(argv, feature);
    g_ptr_array_add(argv, NULL);
    const tf_plugin_init_fn mods[] = {chain_steps_register, test_steps};
    int code = tf_run_main((int)argv->len - 1, (char **)argv->pdata, mods, G_N_ELEMENTS(mods));
    it_report_read(messages, rep);
    g_ptr_array_unref(argv);
    g_free(fmt);
    g_free(messages);
    g_free(text);
    g_free(feature);
    return code;
}

/* The txids of n1's wallet payments of amount to n2's "tf" address (new array). */
static GPtrArray *payments(double amount)
{
    json_t *to = call(1, "/wallet/tf", "getaddressesbylabel", json_pack("[s]", "tf"));
    assert_int_equal(json_object_size(to), 1);
    const char *addr = json_object_iter_key(json_object_iter(to));
    json_t *txs = call(0, "/wallet/tf", "listtransactions", json_pack("[s, i]", "*", 1000));
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    size_t i;
    json_t *tx;
    json_array_foreach(txs, i, tx) {
        if (!g_strcmp0(json_string_value(json_object_get(tx, "category")), "send") &&
            !g_strcmp0(json_string_value(json_object_get(tx, "address")), addr) &&
            json_real_value(json_object_get(tx, "amount")) == -amount)
            g_ptr_array_add(ids, g_strdup(json_string_value(json_object_get(tx, "txid"))));
    }
    json_decref(txs);
    json_decref(to);
    return ids;
}

static void test_retry_and_restart_reuse_the_txid(void **unused)
{
    char *store = it_path("state.db");
    it_report rep;
    checks = 0;
    assert_int_equal(run("1.25", store, &rep), TF_RUN_EXIT_PASSED); /* attempt 2 passed */
    GPtrArray *ids = payments(1.25);
    assert_int_equal(ids->len, 1);
    const char *txid = ids->pdata[0];
    char *sent = g_strdup_printf("n1 sent 1.25 to n2: tx %s", txid);
    char *reused = g_strdup_printf("n1 sent 1.25 to n2 in an earlier attempt: tx %s, not sent again", txid);
    char *a = it_report_attachment(&rep, NULL, sent), *b = it_report_attachment(&rep, NULL, reused);
    if (!a || !b)
        fail_msg("want both log lines: \"%s\" (attempt 1) and \"%s\" (attempt 2)", sent, reused);
    assert_non_null(it_report_failure(&rep, "failing once after the payment")); /* attempt 1 */
    g_free(a);
    g_free(b);
    it_report_clear(&rep);

    /* A restarted runner on the same store: the recorded txid again, nothing sent. */
    assert_int_equal(run("1.25", store, &rep), TF_RUN_EXIT_PASSED);
    b = it_report_attachment(&rep, NULL, reused);
    assert_non_null(b);
    g_free(b);
    it_report_clear(&rep);
    GPtrArray *again = payments(1.25);
    assert_int_equal(again->len, 1);
    assert_string_equal(again->pdata[0], txid);
    g_ptr_array_unref(again);
    g_ptr_array_unref(ids);
    g_free(sent);
    g_free(reused);
    g_free(store);
}

/* Control: the same retry without a store pays twice, and payments() sees both. */
static void test_without_store_the_retry_pays_twice(void **unused)
{
    it_report rep;
    checks = 0;
    assert_int_equal(run("2.5", NULL, &rep), TF_RUN_EXIT_PASSED);
    it_report_clear(&rep);
    GPtrArray *ids = payments(2.5);
    assert_int_equal(ids->len, 2);
    assert_string_not_equal(ids->pdata[0], ids->pdata[1]);
    g_ptr_array_unref(ids);
}

int main(void)
{
    tf_test_need_cluster_all("litecoin-3.json");
    g_unsetenv("TF_STORE");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_and_restart_reuse_the_txid),
        cmocka_unit_test(test_without_store_the_retry_pays_twice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
