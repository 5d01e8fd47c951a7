/* test_wallet_scenarios.c: the bundled wallet features run by `tf run` against real local
 * litecoind regtest clusters: every scenario passes, each compared its wallets with the
 * nodes' listunspent, the reorg scenario saw its payment dropped and re-mined, and no
 * litecoind outlives the run (TF_IT_MARK in our children's environment). */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <tf/tf.h>
#include "it_scenarios.h"
#include "skip.h"

static int setup(void **unused) { return it_setup("tf-wallet-it"); }
static int teardown(void **unused) { return it_teardown(); }

static void test_wallet_features_pass(void **unused)
{
    assert_int_equal(it_count_marked("litecoind"), 0);
    const char *args[] = {TF_SOURCE_DIR "/scenarios/wallet", NULL};
    it_report rep;
    assert_int_equal(it_run_report(args, &rep), 0);
    assert_int_equal(it_count_marked("litecoind"), 0); /* every cluster was torn down */
    guint event_files = 0, matches = 0, dropped = 0, events_with_drop = 0;
    for (guint k = 0; k < rep.attachments->len; k++) {
        json_t *att = rep.attachments->pdata[k];
        const char *body = it_att(att, "body");
        if (!g_strcmp0(it_att(att, "fileName"), "wallet-events.json")) {
            event_files++;
            json_t *evs = json_loads(body, 0, NULL);
            assert_true(json_is_array(evs));
            size_t i;
            json_t *ev;
            gboolean drop = FALSE;
            json_array_foreach(evs, i, ev) drop |= !g_strcmp0(json_string_value(json_object_get(ev, "kind")),
                                                           "tx_dropped_by_reorg");
            events_with_drop += drop;
            json_decref(evs);
        }
        matches += body && g_str_has_prefix(body, "listunspent matches exactly");
        dropped += body && strstr(body, "dropped by a reorg from its block") != NULL;
    }
    assert_int_equal(rep.cases, 3);   /* payment confirms, payment reorg, three wallets through reorgs */
    assert_true(rep.steps > 50);
    assert_int_equal(rep.passed, rep.steps);
    assert_int_equal(event_files, 3);
    assert_true(events_with_drop >= 2); /* the reorg and the three-wallet scenarios */
    assert_int_equal(matches, 3 + 5 + 7);
    assert_int_equal(dropped, 1);
    it_report_clear(&rep);
}

int main(void)
{
    tf_test_need_cluster_all("litecoin-3.json");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wallet_features_pass),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
