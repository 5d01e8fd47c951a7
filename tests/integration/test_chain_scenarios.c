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
#include "skip.h"

static int setup(void **unused) { return it_setup("tf-chain-it"); }
static int teardown(void **unused) { return it_teardown(); }

static void test_bundled_features_pass(void **unused)
{
    assert_int_equal(it_count_marked("litecoind"), 0);
    const char *args[] = {TF_SOURCE_DIR "/scenarios/chain", NULL};
    it_report rep;
    assert_int_equal(it_run_report(args, &rep), 0);
    assert_int_equal(it_count_marked("litecoind"), 0); /* every cluster was torn down */
    guint event_logs = 0, reorg_logs = 0;
    for (guint i = 0; i < rep.attachments->len; i++) {
        json_t *att = rep.attachments->pdata[i];
        const char *body = it_att(att, "body");
        event_logs += !g_strcmp0(it_att(att, "fileName"), "chain-events.json");
        /* The reorg step logs the node's agreement (confirmations -1 on the old branch). */
        reorg_logs += body && strstr(body, "reorg on n3: depth 2") && strstr(body, "report confirmations -1");
    }
    assert_int_equal(rep.cases, 4);   /* converge, partition+reorg, public target, tx inclusion */
    assert_true(rep.steps > 30);
    assert_int_equal(rep.passed, rep.steps);
    assert_int_equal(event_logs, 4);
    assert_int_equal(reorg_logs, 1);
    it_report_clear(&rep);
}

static void test_wrong_depth_explains(void **unused)
{
    const char *args[] = {"--format", "summary", "--no-color",
                          TF_SOURCE_DIR "/tests/integration/data/chain_wrong_depth.feature", NULL};
    char *out = NULL;
    int code = it_run_tf(args, &out);
    assert_int_equal(code, 1);
    assert_non_null(strstr(out, "n2: reorg of depth 2 observed"));
    assert_non_null(strstr(out, "expected depth 3"));
    assert_int_equal(it_count_marked("litecoind"), 0); /* the failed scenario's cluster is gone too */
    g_free(out);
}

int main(void)
{
    tf_test_need_cluster_all("litecoin-3.json");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_features_pass),
        cmocka_unit_test(test_wrong_depth_explains),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
