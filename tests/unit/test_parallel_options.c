/* test_parallel_options.c: two run options keep their meaning with `tf run --parallel`:
 * --fail-fast stops every worker (no scenario starts after the first failure, the ones
 * running are interrupted), and --order random:SEED hands the scenarios out in the order
 * a serial run with that seed runs them (its test cases, in the Messages report, are the
 * serial run's, in the same order). In-process steps (they sleep to stand for a scenario
 * that waits on a cluster); the workers are this program started again (main). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "run_fixture.h"
#include "tf/runner.h"
#include "tf/steps.h"

#define SCENARIOS 12


/* Appends the scenario's name to $TF_TEST_TRAIL (one write: whole lines from any worker). */
static tf_step_status st_starts(tf_step *step, GError **error)
{
    const char *trail = g_getenv("TF_TEST_TRAIL");
    char *line = g_strdup_printf("%s\n", tf_step_arg_str(step, 0));
    int fd = trail ? open(trail, O_WRONLY | O_APPEND | O_CREAT, 0600) : -1;
    gboolean ok = fd >= 0 && write(fd, line, strlen(line)) == (ssize_t)strlen(line);
    if (fd >= 0)
        close(fd);
    g_free(line);
    if (!ok)
        return TF_FAIL(error, "cannot append to the trail");
    return TF_STEP_PASSED;
}

/* Stands for a scenario that waits on a cluster: a step timeout or an interrupt (fail-fast)
 * abandons it. */
static tf_step_status st_waits(tf_step *step, GError **error)
{
    g_usleep((gulong)tf_step_arg_int(step, 0) * 1000);
    return TF_STEP_PASSED;
}

static tf_step_status st_fails(tf_step *step, GError **error)
{
    return TF_FAIL(error, "this scenario fails");
}

static gboolean steps(tf_registry *reg, GError **error)
{
    TF_GIVEN("scenario {word} starts", st_starts);
    TF_GIVEN("it waits {int} ms", st_waits);
    TF_THEN("it fails", st_fails);
    return TRUE;
}

static int run(char **argv, int argc)
{
    const tf_plugin_init_fn mods[] = {steps};
    return tf_run_main(argc, argv, mods, 1);
}

static guint trail_lines(const char *trail)
{
    char *text = NULL;
    if (!g_file_get_contents(trail, &text, NULL, NULL))
        return 0;
    guint n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    g_free(text);
    return n;
}

static void test_fail_fast_stops_every_worker(void **unused)
{
    /* the first scenario fails at once; every other one waits 400 ms */
    GString *f = g_string_new("Feature: fail fast\n  Scenario: s0\n    Given scenario s0 starts\n"
                              "    Then it fails\n");
    for (int i = 1; i < SCENARIOS; i++)
        g_string_append_printf(f, "  Scenario: s%d\n    Given scenario s%d starts\n"
                                  "    And it waits 400 ms\n", i, i);
    char *feature = rf_write("fail_fast.feature", f->str);
    char *trail = g_build_filename(rf_tmp(), "fail_fast.trail", NULL);
    g_setenv("TF_TEST_TRAIL", trail, TRUE);
    char *argv[] = {"tf-run", "--parallel", "2", "--fail-fast", "--format", "summary:/dev/null",
                    feature, NULL};
    gint64 t0 = g_get_monotonic_time();
    assert_int_equal(run(argv, G_N_ELEMENTS(argv) - 1), TF_RUN_EXIT_FAILED);
    double took = (g_get_monotonic_time() - t0) / 1e6;
    guint started = trail_lines(trail);
    printf("--parallel 2 --fail-fast: %u of %d scenarios started, %.2f s\n", started, SCENARIOS,
           took);
    /* s0 and what the other worker had begun; never the rest (12 x 400 ms over 2 workers
     * would start all 12) */
    assert_true(started >= 1 && started <= 3);
    g_unsetenv("TF_TEST_TRAIL");
    g_free(trail);
    g_free(feature);
    g_string_free(f, TRUE);
}

/* The pickle ids of the testCase envelopes of a Messages report, in report order. */
static char *test_case_order(const char *report, GHashTable *names)
{
    char *text = NULL;
    assert_true(g_file_get_contents(report, &text, NULL, NULL));
    GString *order = g_string_new(NULL);
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l && **l; l++) {
        json_t *env = json_loads(*l, 0, NULL);
        assert_non_null(env);
        json_t *p = json_object_get(env, "pickle");
        if (p)
            g_hash_table_insert(names, g_strdup(json_string_value(json_object_get(p, "id"))),
                                g_strdup(json_string_value(json_object_get(p, "name"))));
        json_t *tc = json_object_get(env, "testCase");
        if (tc) {
            const char *name = g_hash_table_lookup(names, json_string_value(json_object_get(tc, "pickleId")));
            g_string_append_printf(order, "%s ", name ? name : "?");
        }
        json_decref(env);
    }
    g_strfreev(lines);
    g_free(text);
    return g_string_free(order, FALSE);
}

static void test_random_order_is_the_serial_order(void **unused)
{
    GString *f = g_string_new("Feature: order\n");
    for (int i = 0; i < SCENARIOS; i++)
        g_string_append_printf(f, "  Scenario: s%d\n    Given scenario s%d starts\n", i, i);
    char *feature = rf_write("order.feature", f->str);
    char *trail = g_build_filename(rf_tmp(), "order.trail", NULL);
    g_setenv("TF_TEST_TRAIL", trail, TRUE);
    char *orders[2];
    for (int k = 0; k < 2; k++) {
        char *report = g_strdup_printf("%s/order-%d.ndjson", rf_tmp(), k);
        char *fmt = g_strdup_printf("message:%s", report);
        char *argv[] = {"tf-run", "--order", "random:7", "--format", fmt, "--parallel",
                        k ? "3" : "1", feature, NULL};
        assert_int_equal(run(argv, G_N_ELEMENTS(argv) - 1), TF_RUN_EXIT_PASSED);
        GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        orders[k] = test_case_order(report, names);
        g_hash_table_unref(names);
        g_free(fmt);
        g_free(report);
    }
    printf("serial:      %s\n--parallel 3: %s\n", orders[0], orders[1]);
    assert_string_equal(orders[0], orders[1]);
    /* and the seed shuffled them: not the file's order */
    assert_string_not_equal(orders[0], "s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 ");
    g_free(orders[0]);
    g_free(orders[1]);
    g_unsetenv("TF_TEST_TRAIL");
    g_free(trail);
    g_free(feature);
    g_string_free(f, TRUE);
}

int main(void)
{
    if (g_getenv("TF_RUN_WORKER")) { /* a worker of run(): tf_run_main reads its arguments */
        const tf_plugin_init_fn mods[] = {steps};
        char *argv[] = {"test_parallel_options-worker", NULL};
        return tf_run_main(1, argv, mods, 1);
    }
    rf_setup("tf-parallel-options");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_fast_stops_every_worker),
        cmocka_unit_test(test_random_order_is_the_serial_order),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rf_teardown();
    return rc;
}
