/* test_chain_scenarios.c: the bundled chain features run by `tf run` against real local
 * litecoind regtest clusters: every scenario passes, a wrong reorg depth fails with what
 * was observed, and no litecoind outlives a run (TF_IT_MARK in our children's env). */
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

static int setup(void **unused) { return it_setup("tf-chain-it"); }
static int teardown(void **unused) { return it_teardown(); }

static void test_bundled_features_pass(void **unused)
{
    assert_int_equal(it_count_marked("litecoind"), 0);
    char *messages = it_path("messages.ndjson");
    char *fmt = g_strdup_printf("message:%s", messages);
    const char *args[] = {"--format", "summary", "--format", fmt, TF_SOURCE_DIR "/scenarios/chain", NULL};
    char *out = NULL;
    int code = it_run_tf(args, &out);
    fputs(out, stdout); /* whole: print_message cuts long text */
    fflush(stdout);
    assert_int_equal(code, 0);
    assert_int_equal(it_count_marked("litecoind"), 0); /* every cluster was torn down */

    char *text = NULL;
    assert_true(g_file_get_contents(messages, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    guint cases = 0, steps = 0, passed = 0, event_logs = 0, reorg_logs = 0;
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
        event_logs += att && !g_strcmp0(json_string_value(json_object_get(att, "fileName")), "chain-events.json");
        /* The reorg step logs the node's agreement (confirmations -1 on the old branch). */
        reorg_logs += body && strstr(body, "reorg on n3: depth 2") && strstr(body, "report confirmations -1");
        json_decref(env);
    }
    g_strfreev(lines);
    assert_int_equal(cases, 4);   /* converge, partition+reorg, public target, tx inclusion */
    assert_true(steps > 30);
    assert_int_equal(passed, steps);
    assert_int_equal(event_logs, 4);
    assert_int_equal(reorg_logs, 1);
    g_free(text);
    g_free(out);
    g_free(fmt);
    g_free(messages);
}

static void test_wrong_depth_explains(void **unused)
{
    const char *args[] = {"--format", "summary", "--no-color",
                          TF_SOURCE_DIR "/tests/integration/data/chain_wrong_depth.feature", NULL};
    char *out = NULL;
    int code = it_run_tf(args, &out);
    fputs(out, stdout); /* whole: print_message cuts long text */
    fflush(stdout);
    assert_int_equal(code, 1);
    assert_non_null(strstr(out, "n2: reorg of depth 2 observed"));
    assert_non_null(strstr(out, "expected depth 3"));
    assert_int_equal(it_count_marked("litecoind"), 0); /* the failed scenario's cluster is gone too */
    g_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_features_pass),
        cmocka_unit_test(test_wrong_depth_explains),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
