/* test_runner_store.c: `tf run --store`: one run in the store per invocation, every
 * scenario's observer journal under that run, the run's final status, claims that make a
 * retried effect happen once, and a store path that is not a store (exit 2, untouched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include "run_fixture.h"
#include "store_steps.h"
#include "tf/durable.h"
#include "tf/runner.h"

static int effects;    /* how often the guarded effect really ran */
static int flaky_left; /* failures left before "the effect is checked" passes */

static gboolean at_least_two(const tf_snapshot *snap, void *data)
{
    return tf_snapshot_cycle(snap) >= 2;
}

/* Starts a journaled runtime whose value changes, so batches are published. */
static tf_step_status given_observed(tf_step *step, GError **error)
{
    store_counter *c = store_counter_start(tf_step_world(step), "counted", 7, error);
    tf_snapshot *s = c ? tf_handle_wait(c->h, at_least_two, NULL, "two cycles",
                                        10 * G_USEC_PER_SEC, error) : NULL;
    tf_snapshot_unref(s);
    return s ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status then_fails(tf_step *step, GError **error) { return TF_FAIL(error, "as asked"); }

static int effect_fails; /* the next effects that fail before acting */

static json_t *effect(void *data, GError **error)
{
    if (effect_fails > 0) {
        effect_fails--;
        g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "the effect failed");
        return NULL;
    }
    effects++;
    return json_pack("{s:i}", "effects", effects);
}

/* An effect keyed by its argument: done once across retries and invocations. */
static tf_step_status when_effect(tf_step *step, GError **error)
{
    json_t *input = json_pack("{s:s}", "what", tf_step_arg_str(step, 0));
    gboolean replayed;
    json_t *done = tf_world_effect_once(tf_step_world(step), "test.effect", input,
                                        60 * G_USEC_PER_SEC, effect, NULL, &replayed, error);
    json_decref(input);
    if (done)
        tf_world_log(tf_step_world(step), "%s effect %d", replayed ? "replayed" : "did",
                     (int)json_integer_value(json_object_get(done, "effects")));
    json_decref(done);
    return done ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status then_checked(tf_step *step, GError **error)
{
    return flaky_left-- > 0 ? TF_FAIL(error, "not yet") : TF_STEP_PASSED;
}

static gboolean steps_register(tf_registry *reg, GError **error)
{
    TF_GIVEN("an observed counter", given_observed);
    TF_THEN("it fails", then_fails);
    TF_WHEN("the effect {string} happens", when_effect);
    TF_THEN("the effect is checked", then_checked);
    return TRUE;
}

static int run(const char *store, const char *feature, const char *extra)
{
    const tf_plugin_init_fn mods[] = {steps_register};
    char *argv[] = {"tf-run", "--format", "summary", "--store", (char *)store,
                    (char *)(extra ? extra : feature), (char *)feature, NULL};
    return tf_run_main(extra ? 7 : 6, argv, mods, 1);
}

static json_t *runs_of(const char *path)
{
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    assert_non_null(s);
    json_t *runs = tf_store_runs(s, &err);
    assert_non_null(runs);
    tf_store_unref(s);
    return runs;
}

static void test_one_run_with_every_scenario_journal(void **unused)
{
    char *store = g_build_filename(rf_tmp(), "a.db", NULL);
    char *f = rf_write("two.feature", "Feature: f\n"
                                           "  Scenario: first\n    Given an observed counter\n"
                                           "  Scenario: second\n    Given an observed counter\n");
    assert_int_equal(run(store, f, NULL), TF_RUN_EXIT_PASSED);
    json_t *runs = runs_of(store);
    assert_int_equal(json_array_size(runs), 1);
    json_t *r = json_array_get(runs, 0);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "passed");
    assert_true(json_integer_value(json_object_get(r, "batches")) >= 2);

    /* Both scenarios' streams are in that one run, each gapless from 1. */
    GError *err = NULL;
    tf_store *s = tf_store_open(store, &err);
    char *out_path = g_build_filename(rf_tmp(), "export.ndjson", NULL);
    FILE *out = fopen(out_path, "w");
    assert_true(tf_store_export_journal(s, json_integer_value(json_object_get(r, "run")), NULL,
                                        out, &err) >= 2);
    fclose(out);
    tf_store_unref(s);
    char *text;
    assert_true(g_file_get_contents(out_path, &text, NULL, NULL));
    /* Each scenario's execution has its own "counter" stream, numbered from 1. */
    char **lines = g_strsplit(text, "\n", -1);
    guint firsts = 0;
    for (char **l = lines; *l; l++)
        if (strstr(*l, "\"attempt\":0,\"stream\":\"counter\",\"seq\":1,"))
            firsts += strstr(*l, "\"scenario\":\"first\"") ? 1 : strstr(*l, "\"scenario\":\"second\"") ? 10 : 100;
    assert_int_equal(firsts, 11);
    g_strfreev(lines);
    g_free(text);
    g_free(out_path);
    json_decref(runs);
    g_free(f);
    g_free(store);
}

static void test_failed_run_is_recorded_failed(void **unused)
{
    char *store = g_build_filename(rf_tmp(), "b.db", NULL);
    char *f = rf_write("fail.feature", "Feature: f\n  Scenario: s\n"
                                            "    Given an observed counter\n    Then it fails\n");
    assert_int_equal(run(store, f, NULL), TF_RUN_EXIT_FAILED);
    assert_int_equal(run(store, f, NULL), TF_RUN_EXIT_FAILED);
    json_t *runs = runs_of(store);
    assert_int_equal(json_array_size(runs), 2); /* a new run each invocation */
    for (gsize i = 0; i < 2; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(runs, i), "status")),
                            "failed");
    json_decref(runs);
    g_free(f);
    g_free(store);
}

static void test_retried_effect_runs_once(void **unused)
{
    char *store = g_build_filename(rf_tmp(), "c.db", NULL);
    char *f = rf_write("effect.feature", "Feature: f\n  Scenario: s\n"
                                              "    When the effect \"pay 1\" happens\n"
                                              "    Then the effect is checked\n");
    effects = 0;
    effect_fails = 0;
    flaky_left = 2;
    assert_int_equal(run(store, f, "--retry=2"), TF_RUN_EXIT_PASSED);
    assert_int_equal(effects, 1); /* three attempts, one effect */
    /* A later invocation on the same store does not repeat it either. */
    flaky_left = 0;
    assert_int_equal(run(store, f, NULL), TF_RUN_EXIT_PASSED);
    assert_int_equal(effects, 1);
    /* A failed effect releases its claim: the next attempt acts. */
    effects = 0;
    effect_fails = 1;
    char *g = rf_write("effect2.feature", "Feature: f\n  Scenario: s\n"
                                               "    When the effect \"pay 2\" happens\n");
    assert_int_equal(run(store, g, "--retry=1"), TF_RUN_EXIT_PASSED);
    assert_int_equal(effects, 1);
    g_free(g);
    g_free(f);
    g_free(store);
}

static void test_without_store_effect_runs_every_attempt(void **unused)
{
    char *f = rf_write("effect3.feature", "Feature: f\n  Scenario: s\n"
                                               "    When the effect \"pay 3\" happens\n"
                                               "    Then the effect is checked\n");
    const tf_plugin_init_fn mods[] = {steps_register};
    char *argv[] = {"tf-run", "--format", "summary", "--retry=2", f, NULL};
    g_unsetenv("TF_STORE");
    effects = 0;
    effect_fails = 0;
    flaky_left = 2;
    assert_int_equal(tf_run_main(5, argv, mods, 1), TF_RUN_EXIT_PASSED);
    assert_int_equal(effects, 3); /* no store, no memory: each attempt acts */
    g_free(f);
}

static void test_not_a_store_is_refused_untouched(void **unused)
{
    char *store = rf_write("notes.txt", "these are my notes, not a database\n");
    char *f = rf_write("one.feature", "Feature: f\n  Scenario: s\n    Given an observed counter\n");
    assert_int_equal(run(store, f, NULL), TF_RUN_EXIT_USAGE);
    char *text;
    assert_true(g_file_get_contents(store, &text, NULL, NULL));
    assert_string_equal(text, "these are my notes, not a database\n");
    g_free(text);
    g_free(f);
    g_free(store);
}

static int setup(void **unused)
{
    return rf_setup("tf-runner-store") ? 0 : -1;
}

static int teardown(void **unused)
{
    rf_teardown();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_run_with_every_scenario_journal),
        cmocka_unit_test(test_failed_run_is_recorded_failed),
        cmocka_unit_test(test_retried_effect_runs_once),
        cmocka_unit_test(test_without_store_effect_runs_every_attempt),
        cmocka_unit_test(test_not_a_store_is_refused_untouched),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
