/* test_parallel_store.c: `tf run --parallel 4 --store` keeps one run holding every
 * worker's scenarios: the run's outcome (one run, passed), each execution with its status,
 * and every batch each execution journaled (SQLite in WAL mode with the four workers writing at once, and the parent
 * ending the run), 10 times over. A retried scenario's attempts are executions of their
 * own. Runs use the in-process counter observer (tests/support/store_steps), so a run
 * takes well under a second; the workers are this test program started again (main). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "store_fixture.h"
#include "store_steps.h"
#include "tf/durable.h"
#include "tf/runner.h"

#define RUNS 10
#define SCENARIOS 24

static char *tmpdir;

/* SCENARIOS scenarios of 1..SCENARIOS changes (N+1 batches each) and one that fails its
 * first attempt (3 batches per attempt, 2 attempts with --retry 1). */
static char *feature_text(json_int_t *batches)
{
    GString *f = g_string_new("Feature: many writers\n");
    *batches = 0;
    for (int i = 1; i <= SCENARIOS; i++) {
        g_string_append_printf(f, "  Scenario: s%d\n    Given an observed counter that changes "
                                  "%d times\n", i, i);
        *batches += i + 1;
    }
    g_string_append(f, "  Scenario: retried\n    Given an observed counter that changes 2 times\n"
                       "    Then it fails on the first attempt\n");
    *batches += 2 * 3;
    return g_string_free(f, FALSE);
}

static int run(const char *store, const char *feature)
{
    const tf_plugin_init_fn mods[] = {store_steps_register};
    char *argv[] = {"tf-run", "--parallel", "4", "--format", "summary:/dev/null", "--retry", "1",
                    "--store", (char *)store, (char *)feature, NULL};
    return tf_run_main(G_N_ELEMENTS(argv) - 1, argv, mods, 1);
}

static void test_workers_of_one_run_keep_every_batch(void **unused)
{
    json_int_t want = 0;
    char *text = feature_text(&want);
    char *feature = g_build_filename(tmpdir, "many.feature", NULL);
    assert_true(g_file_set_contents(feature, text, -1, NULL));
    char *store = g_build_filename(tmpdir, "state.db", NULL);
    for (int k = 0; k < RUNS; k++)
        assert_int_equal(run(store, feature), TF_RUN_EXIT_PASSED);
    GError *err = NULL;
    tf_store *s = tf_store_open(store, &err);
    assert_non_null(s);
    json_t *runs = tf_store_runs(s, &err);
    assert_non_null(runs);
    assert_int_equal(json_array_size(runs), RUNS); /* one run each, whatever the workers */
    for (gsize r = 0; r < RUNS; r++) {
        json_t *one = json_array_get(runs, r);
        assert_string_equal(json_string_value(json_object_get(one, "status")), "passed");
        json_int_t got = json_integer_value(json_object_get(one, "batches"));
        if (got != want)
            fail_msg("run %d kept %d of its %d batches", (int)r + 1, (int)got, (int)want);
        assert_int_equal(json_integer_value(json_object_get(one, "journal_errors")), 0);
        /* every execution, whichever worker ran it: its status and all its batches */
        json_t *ex = tf_store_executions(s, json_integer_value(json_object_get(one, "run")), &err);
        assert_non_null(ex);
        assert_int_equal(json_array_size(ex), SCENARIOS + 2); /* + the retried one's 2nd try */
        size_t i;
        json_t *e;
        json_array_foreach(ex, i, e) {
            const char *name = json_string_value(json_object_get(e, "scenario"));
            json_int_t attempt = json_integer_value(json_object_get(e, "attempt"));
            json_int_t n = 0;
            const char *k;
            json_t *b;
            json_object_foreach(json_object_get(e, "streams"), k, b) n += json_integer_value(b);
            int changes = !strcmp(name, "retried") ? 2 : atoi(name + 1);
            const char *status = !strcmp(name, "retried") && attempt == 0 ? "failed" : "passed";
            if (n != changes + 1 || strcmp(json_string_value(json_object_get(e, "status")), status))
                fail_msg("run %d, %s attempt %d: %s with %d batches, want %s with %d", (int)r + 1,
                         name, (int)attempt, json_string_value(json_object_get(e, "status")),
                         (int)n, status, changes + 1);
        }
        json_decref(ex);
    }
    printf("%d runs of %d scenarios in 4 workers: %d batches each, all kept\n", RUNS,
           SCENARIOS + 1, (int)want);
    json_decref(runs);
    tf_store_unref(s);
    g_free(store);
    g_free(feature);
    g_free(text);
}

int main(void)
{
    if (g_getenv("TF_RUN_WORKER")) { /* a worker of run(): tf_run_main reads its arguments */
        const tf_plugin_init_fn mods[] = {store_steps_register};
        char *argv[] = {"test_parallel_store-worker", NULL};
        return tf_run_main(1, argv, mods, 1);
    }
    tmpdir = sf_tmpdir_new("tf-parallel-store");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workers_of_one_run_keep_every_batch),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sf_tmpdir_remove(tmpdir);
    return rc;
}
