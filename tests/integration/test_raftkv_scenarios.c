/* test_raftkv_scenarios.c: the bundled Raft KV features run by `tf run` against real
 * local etcd clusters: every scenario passes, the report carries the timeline, an
 * impossible expectation fails with its explanation, and no etcd process outlives a run. */
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

static int setup(void **unused) { return it_setup("tf-raftkv-it"); }
static int teardown(void **unused) { return it_teardown(); }

static void test_bundled_features_pass(void **unused)
{
    assert_int_equal(it_count_marked("etcd"), 0);
    char *messages = it_path("messages.ndjson");
    char *fmt = g_strdup_printf("message:%s", messages);
    const char *args[] = {"--format", "summary", "--format", fmt, TF_SOURCE_DIR "/scenarios/raftkv", NULL};
    char *out = NULL;
    int code = it_run_tf(args, &out);
    print_message("%s\n", out);
    assert_int_equal(code, 0);
    assert_int_equal(it_count_marked("etcd"), 0); /* every cluster was torn down */

    char *text = NULL;
    assert_true(g_file_get_contents(messages, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    guint cases = 0, steps = 0, passed = 0, svgs = 0;
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
        svgs += att && !g_strcmp0(json_string_value(json_object_get(att, "mediaType")), "image/svg+xml");
        json_decref(env);
    }
    g_strfreev(lines);
    assert_int_equal(cases, 5);   /* the five bundled scenarios */
    assert_true(steps > 40);
    assert_int_equal(passed, steps);
    assert_int_equal(svgs, 5);    /* one timeline per scenario */
    g_free(text);
    g_free(out);
    g_free(fmt);
    g_free(messages);
}

static void test_impossible_expectation_explains(void **unused)
{
    const char *args[] = {"--format", "summary", "--no-color",
                          TF_SOURCE_DIR "/tests/integration/data/raftkv_impossible.feature", NULL};
    char *out = NULL;
    int code = it_run_tf(args, &out);
    print_message("%s\n", out);
    assert_int_equal(code, 1);
    assert_non_null(strstr(out, "timed out after 0.0 s waiting for: a new leader with a higher term"));
    assert_non_null(strstr(out, "last snapshot (raftkv, cycle "));
    assert_non_null(strstr(out, "\"quorum\":"));
    assert_non_null(strstr(out, "last error: "));
    assert_int_equal(it_count_marked("etcd"), 0); /* the failed scenario's cluster is gone too */
    g_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_features_pass),
        cmocka_unit_test(test_impossible_expectation_explains),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
