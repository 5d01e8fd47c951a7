/* test_linearizability.c: the checker on real histories with known verdicts: the 69 Jepsen
 * etcd logs (one register) and the 4 key-value histories of $TF_SHARED_DIR/linearizability,
 * each read by tf's own reader and checked with the raftkv models. Every verdict must be
 * the one Porcupine's test suite asserts, and the counts are exact. Without the data it is
 * skipped (77), naming the folder; under CI=true that is a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tf/tf.h>
#include "lin_shared.h"
#include "skip.h"
#include "raftkv/lin_models.h"

/* Checks every case of `folder` with `model`; returns the number that matched and counts
 * the linearizable ones in *yes. Prints each mismatch. */
static guint check_folder(const char *root, const char *folder, const tf_lin_model *model,
                          guint want_cases, guint *yes)
{
    GError *err = NULL;
    GPtrArray *cases = lin_cases_load(root, folder, &err);
    if (!cases)
        fail_msg("%s", err->message);
    if (cases->len != want_cases)
        fail_msg("%s: %u histories with verdicts, expected exactly %u", folder, cases->len, want_cases);
    guint matched = 0;
    *yes = 0;
    for (guint i = 0; i < cases->len; i++) {
        const lin_case *c = cases->pdata[i];
        tf_ophistory *h = tf_ophistory_load(c->path, &err);
        if (!h)
            fail_msg("%s", err->message);
        tf_lin_options o = {.timeout_us = 60 * G_USEC_PER_SEC, .source = c->path};
        tf_lin_result *r = tf_lin_check(h, model, &o, &err);
        if (!r)
            fail_msg("%s", err->message);
        tf_lin_verdict want = c->linearizable ? TF_LIN_OK : TF_LIN_VIOLATION;
        if (r->verdict == want) {
            matched++;
            /* a refutation names its place: an op, and a prefix shorter than the part */
            if (want == TF_LIN_VIOLATION)
                assert_true(r->failing_op > 0 && r->prefix_events < r->part_events);
        } else {
            print_message("MISMATCH %s/%s: expected %s, got %s: %s\n", folder, c->file,
                          tf_lin_verdict_name(want), tf_lin_verdict_name(r->verdict), r->summary);
        }
        *yes += c->linearizable;
        tf_lin_result_free(r);
        tf_ophistory_free(h);
    }
    print_message("%s: %u/%u verdicts match (%u linearizable, %u not)\n", folder, matched,
                  cases->len, *yes, cases->len - *yes);
    g_ptr_array_unref(cases);
    return matched;
}

static void test_jepsen_etcd(void **state)
{
    guint yes;
    assert_int_equal(check_folder(*state, "jepsen-etcd", &raftkv_register_model, 69, &yes), 69);
    assert_int_equal(yes, 14);
}

static void test_kv(void **state)
{
    guint yes;
    assert_int_equal(check_folder(*state, "kv", &raftkv_kv_model, 4, &yes), 4);
    assert_int_equal(yes, 2);
}

int main(void)
{
    char *root = tf_test_shared_data("linearizability",
                                     "jepsen-etcd/*.log and kv/*.txt with a verdicts.tsv in each");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_jepsen_etcd, root),
        cmocka_unit_test_prestate(test_kv, root),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    g_free(root);
    return rc;
}
