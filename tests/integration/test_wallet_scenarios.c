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

static int setup(void **unused) { return it_setup("tf-wallet-it"); }
static int teardown(void **unused) { return it_teardown(); }

static void test_wallet_features_pass(void **unused)
{
    assert_int_equal(it_count_marked("litecoind"), 0);
    char *messages = it_path("messages.ndjson");
    char *fmt = g_strdup_printf("message:%s", messages);
    const char *args[] = {"--format", "summary", "--format", fmt, TF_SOURCE_DIR "/scenarios/wallet", NULL};
    char *out = NULL;
    int code = it_run_tf(args, &out);
    fputs(out, stdout); /* whole: print_message cuts long text */
    fflush(stdout);
    assert_int_equal(code, 0);
    assert_int_equal(it_count_marked("litecoind"), 0); /* every cluster was torn down */

    char *text = NULL;
    assert_true(g_file_get_contents(messages, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    guint cases = 0, steps = 0, passed = 0, event_files = 0, matches = 0, dropped = 0, events_with_drop = 0;
    for (char **l = lines; *l && **l; l++) {
        json_t *env = json_loads(*l, 0, NULL);
        assert_non_null(env);
        json_t *tsf = json_object_get(env, "testStepFinished");
        if (tsf) {
            steps++;
            passed += !g_strcmp0(json_string_value(json_object_get(
                                     json_object_get(tsf, "testStepResult"), "status")), "PASSED");
        }
        cases += json_object_get(env, "testCaseFinished") != NULL;
        json_t *att = json_object_get(env, "attachment");
        const char *body = json_string_value(json_object_get(att, "body"));
        if (att && !g_strcmp0(json_string_value(json_object_get(att, "fileName")), "wallet-events.json")) {
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
        json_decref(env);
    }
    g_strfreev(lines);
    assert_int_equal(cases, 3);   /* payment confirms, payment reorg, three wallets through reorgs */
    assert_true(steps > 50);
    assert_int_equal(passed, steps);
    assert_int_equal(event_files, 3);
    assert_true(events_with_drop >= 2); /* the reorg and the three-wallet scenarios */
    assert_int_equal(matches, 3 + 5 + 7);
    assert_int_equal(dropped, 1);
    g_free(text);
    g_free(out);
    g_free(fmt);
    g_free(messages);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wallet_features_pass),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
