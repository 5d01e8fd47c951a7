/* test_runner_seed.c: one seed per run (tf run --seed N, $TF_SEED, else random), printed
 * when the run starts (given, or ordering the run) or when a scenario first uses it (a
 * run without randomness prints nothing), driving the scenario order (--order random)
 * and each scenario's own seed (tf_world_seed), which depends on the run's seed and the
 * scenario, never on which other scenarios run or in what order: a failing run replays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "tf/runner.h"
#include "run_fixture.h"

static GHashTable *seeds; /* scenario name -> its tf_world_seed, as text */
static GString *order;

static tf_step_status st_note(tf_step *s, GError **e)
{
    tf_world *w = tf_step_world(s);
    const char *name = tf_world_pickle(w)->name;
    g_hash_table_replace(seeds, g_strdup(name),
                         g_strdup_printf("%" G_GUINT64_FORMAT, tf_world_seed(w)));
    g_string_append_printf(order, "%s;", name);
    return TF_STEP_PASSED;
}

static gboolean module(tf_registry *reg, GError **error)
{
    TF_STEP("note the seed", st_note);
    return TRUE;
}

static char *feature;

static int setup(void **unused)
{
    rf_setup("tf-seed-test");
    GString *f = g_string_new("Feature: seeds\n");
    for (int i = 0; i < 6; i++)
        g_string_append_printf(f, "  Scenario: s%d\n    Given note the seed\n", i);
    feature = rf_write("seeds.feature", f->str);
    g_string_free(f, TRUE);
    return 0;
}

static int teardown(void **unused)
{
    g_free(feature);
    rf_teardown();
    return 0;
}

/* Runs the feature with extra args; returns a copy of the seeds (name -> seed). */
static GHashTable *run(rf_result *r, const char *a, const char *b, const char *c)
{
    seeds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    order = g_string_new(NULL);
    const char *args[7] = {"--format", "summary:/dev/null"};
    guint n = 2;
    const char *extra[] = {a, b, c};
    for (guint i = 0; i < 3; i++)
        if (extra[i])
            args[n++] = extra[i];
    args[n] = feature;
    *r = rf_run(module, args);
    assert_int_equal(r->code, 0);
    return seeds;
}

static void test_seed_printed_and_replayed(void **unused)
{
    rf_result r1, r2, r3;
    GHashTable *a = run(&r1, "--seed", "1234", NULL);
    g_string_free(order, TRUE);
    assert_non_null(strstr(r1.err, "tf: seed 1234 (repeat with --seed 1234)"));
    GHashTable *b = run(&r2, "--seed", "1234", NULL);
    g_string_free(order, TRUE);
    GHashTable *c = run(&r3, "--seed", "1235", NULL);
    g_string_free(order, TRUE);
    assert_int_equal(g_hash_table_size(a), 6);
    GHashTable *distinct = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        assert_string_equal(v, g_hash_table_lookup(b, k));          /* same seed, same */
        assert_string_not_equal(v, g_hash_table_lookup(c, k));      /* another seed */
        g_hash_table_add(distinct, v);
    }
    assert_int_equal(g_hash_table_size(distinct), 6); /* each scenario its own */
    g_hash_table_unref(distinct);
    g_hash_table_unref(a);
    g_hash_table_unref(b);
    g_hash_table_unref(c);
    rf_result_clear(&r1);
    rf_result_clear(&r2);
    rf_result_clear(&r3);
}

/* The run's seed shuffles the order; a scenario's seed does not depend on it, nor on
 * which other scenarios were selected. */
static void test_scenario_seed_independent_of_order_and_selection(void **unused)
{
    rf_result r1, r2, r3;
    GHashTable *a = run(&r1, "--seed", "99", NULL);
    gchar *defined = g_string_free(order, FALSE);
    GHashTable *b = run(&r2, "--seed", "99", "--order=random");
    gchar *shuffled = g_string_free(order, FALSE);
    assert_string_not_equal(defined, shuffled);
    assert_non_null(strstr(r2.err, "tf: seed 99, random order"));
    GHashTable *c = run(&r3, "--seed", "99", "--name=^s4$");
    g_string_free(order, TRUE);
    assert_int_equal(g_hash_table_size(c), 1);
    assert_string_equal(g_hash_table_lookup(c, "s4"), g_hash_table_lookup(a, "s4"));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &k, &v))
        assert_string_equal(v, g_hash_table_lookup(b, k));
    /* --order random:SEED is the same seed */
    rf_result r4;
    GHashTable *d = run(&r4, "--order", "random:99", NULL);
    assert_string_equal(order->str, shuffled);
    g_string_free(order, TRUE);
    g_hash_table_unref(d);
    rf_result_clear(&r4);
    g_free(defined);
    g_free(shuffled);
    g_hash_table_unref(a);
    g_hash_table_unref(b);
    g_hash_table_unref(c);
    rf_result_clear(&r1);
    rf_result_clear(&r2);
    rf_result_clear(&r3);
}

/* A run that neither gives a seed nor uses one prints none (stderr stays quiet); one whose
 * scenarios use it prints it once, before the first use. */
static tf_step_status st_plain(tf_step *s, GError **e) { return TF_STEP_PASSED; }

static gboolean plain_module(tf_registry *reg, GError **error)
{
    TF_STEP("nothing random", st_plain);
    return TRUE;
}

static void test_seed_told_only_when_used(void **unused)
{
    char *plain = rf_write("plain.feature", "Feature: p\n  Scenario: p\n    Given nothing random\n");
    const char *args[] = {"--format", "summary:/dev/null", plain, NULL};
    rf_result r = rf_run(plain_module, args);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    rf_result_clear(&r);
    seeds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    order = g_string_new(NULL);
    const char *used[] = {"--format", "summary:/dev/null", feature, NULL};
    r = rf_run(module, used);
    assert_int_equal(r.code, 0);
    assert_true(g_str_has_prefix(r.err, "tf: seed "));
    assert_null(strstr(strchr(r.err, '\n') + 1, "tf: seed")); /* once, for six scenarios */
    rf_result_clear(&r);
    g_hash_table_unref(seeds);
    g_string_free(order, TRUE);
    g_free(plain);
}

static void test_seed_from_environment_and_bad_values(void **unused)
{
    g_setenv("TF_SEED", "777", TRUE);
    rf_result r;
    GHashTable *a = run(&r, NULL, NULL, NULL);
    g_string_free(order, TRUE);
    assert_non_null(strstr(r.err, "tf: seed 777 "));
    rf_result_clear(&r);
    g_hash_table_unref(a);
    g_setenv("TF_SEED", "x1", TRUE);
    const char *args[] = {"--format", "summary:/dev/null", feature, NULL};
    r = rf_run(module, args);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "TF_SEED"));
    rf_result_clear(&r);
    g_unsetenv("TF_SEED");
    const char *big[] = {"--seed", "4294967296", feature, NULL};
    r = rf_run(module, big);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "--seed"));
    rf_result_clear(&r);
}

int main(void)
{
    g_unsetenv("TF_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_printed_and_replayed),
        cmocka_unit_test(test_scenario_seed_independent_of_order_and_selection),
        cmocka_unit_test(test_seed_from_environment_and_bad_values),
        cmocka_unit_test(test_seed_told_only_when_used),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
