/* test_history_cli.c: `tf history` and the store path as a user meets them on the command
 * line: the help names streams as export prints them, `runs` lists runs and one run's
 * executions, `prune` applies each retention option and says what it kept (--keep-runs 0
 * means no limit), bad values are usage errors; `tf run`/`tf wire --store ''` are errors,
 * an empty TF_STORE means no store, and a store path in missing directories creates them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include "store_fixture.h"
#include "tf/durable.h"

static char *tmpdir;

/* Runs tf with args in tmpdir (TF_STORE unset, env_add set). */
static sf_result tf(const char *const *args, const char *const *env_add)
{
    return sf_tf(tmpdir, args, env_add, NULL);
}

static guint count_lines(const char *text)
{
    guint n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* runs runs, each with one execution ("scenario <i>") journaling `batches` batches of
 * stream "counter" at wall time `wall` (µs). */
static char *make_store(const char *name, int runs, int batches, gint64 wall)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    assert_non_null(s);
    json_t *b = json_pack("{s:[i]}", "events", 1);
    for (int r = 1; r <= runs; r++) {
        gint64 run = tf_store_run_begin(s, "tf run", &err);
        char *name_r = g_strdup_printf("scenario %d", r);
        tf_execution e = {.pickle = "1", .uri = "f.feature", .line = 2, .name = name_r};
        gint64 ex = tf_store_execution_begin(s, run, &e, &err);
        tf_journal *j = tf_journal_open_execution(s, ex, "counter", &err);
        for (int seq = 1; seq <= batches; seq++)
            assert_true(tf_journal_append(j, seq, seq, wall, b, &err));
        tf_journal_unref(j);
        assert_true(tf_store_execution_end(s, ex, "passed", NULL, &err));
        assert_true(tf_store_run_end(s, run, "passed", &err));
        g_free(name_r);
    }
    json_decref(b);
    tf_store_unref(s);
    return path;
}

static void test_help_names_streams_as_export_prints_them(void **unused)
{
    const char *help[] = {"history", "--help", NULL};
    sf_result r = tf(help, NULL);
    sf_expect(&r, 0, "--stream NAME", NULL);
    assert_non_null(strstr(r.out, "streams named after them (raftkv, chain, wallet)"));
    assert_non_null(strstr(r.out, "0 = no limit: every run's journal is kept"));
    assert_null(strstr(r.out, "an observer's name"));
    sf_result_clear(&r);
    char *store = make_store("names.db", 1, 3, g_get_real_time());
    const char *exp[] = {"history", "export", "--store", store, "--stream", "counter", NULL};
    r = tf(exp, NULL);
    sf_expect(&r, 0, "\"scenario\":\"scenario 1\",\"pickle\":\"1\",\"attempt\":0,\"stream\":\"counter\",\"seq\":3,", NULL);
    assert_int_equal(count_lines(r.out), 3);
    sf_result_clear(&r);
    const char *none[] = {"history", "export", "--store", store, "--stream", "counter/scenario 1", NULL};
    r = tf(none, NULL);
    sf_expect(&r, 0, NULL, NULL);
    assert_int_equal(count_lines(r.out), 0);
    sf_result_clear(&r);
    g_free(store);
}

static void test_runs_lists_runs_and_one_runs_executions(void **unused)
{
    char *store = make_store("runs.db", 3, 2, g_get_real_time());
    const char *runs[] = {"history", "runs", "--store", store, NULL};
    sf_result r = tf(runs, NULL);
    sf_expect(&r, 0, NULL, NULL);
    assert_int_equal(count_lines(r.out), 3);
    assert_true(g_str_has_prefix(r.out, "{\"run\":3,\"label\":\"tf run\","));
    assert_non_null(strstr(r.out, "\"status\":\"passed\",\"batches\":2,\"executions\":1,\"journal_errors\":0}"));
    sf_result_clear(&r);
    const char *one[] = {"history", "runs", "--store", store, "--run", "2", NULL};
    r = tf(one, NULL);
    sf_expect(&r, 0,
           "\"pickle\":\"1\",\"attempt\":0,\"uri\":\"f.feature\",\"line\":2,\"scenario\":\"scenario 2\","
           "\"status\":\"passed\",\"journal_error\":null,\"streams\":{\"counter\":2}}",
           NULL);
    assert_int_equal(count_lines(r.out), 1);
    sf_result_clear(&r);
    const char *missing[] = {"history", "runs", "--store", store, "--run", "99", NULL};
    r = tf(missing, NULL);
    sf_expect(&r, 1, NULL, "no run 99");
    sf_result_clear(&r);
    g_free(store);
}

static void prune(const char *store, const char *opt, const char *val, const char *says)
{
    const char *args[] = {"history", "prune", "--store", store, opt, val, NULL};
    sf_result r = tf(args, NULL);
    sf_expect(&r, 0, says, NULL);
    sf_result_clear(&r);
}

static json_int_t batches_of(const char *store, int nth_newest)
{
    GError *err = NULL;
    tf_store *s = tf_store_open_readonly(store, &err);
    json_t *runs = tf_store_runs(s, &err);
    json_int_t n = json_integer_value(json_object_get(json_array_get(runs, nth_newest), "batches"));
    json_decref(runs);
    tf_store_unref(s);
    return n;
}

static void test_prune_applies_each_option(void **unused)
{
    char *store = make_store("prune.db", 3, 5, g_get_real_time());
    prune(store, "--keep-runs", "0", "removed 0 batches (kept: the journals of every run)");
    assert_int_equal(batches_of(store, 2), 5);
    prune(store, "--keep-runs", "2", "removed 5 batches (kept: journals of the newest 2 runs)");
    assert_int_equal(batches_of(store, 2), 0);
    assert_int_equal(batches_of(store, 1), 5);
    prune(store, "--max-batches", "2", "removed 6 batches (kept: journals of the newest 20 runs, "
                                       "the newest 2 batches of each stream)");
    assert_int_equal(batches_of(store, 0), 2);
    g_free(store);
    /* Batches of two hours ago go; a minute's age limit would also take these. */
    char *old = make_store("age.db", 1, 4, g_get_real_time() - (gint64)2 * 3600 * G_USEC_PER_SEC);
    prune(old, "--max-age", "10800", "removed 0 batches");
    prune(old, "--max-age", "3600", "removed 4 batches (kept: journals of the newest 20 runs, "
                                    "batches younger than 3600 s)");
    g_free(old);
    const char *bad[][2] = {{"--keep-runs", "-1"}, {"--max-batches", "x"},
                            {"--keep-runs", "99999999999999999999"}, {"--max-age", ""}};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        const char *args[] = {"history", "prune", "--store", "x.db", bad[i][0], bad[i][1], NULL};
        sf_result r = tf(args, NULL);
        char *why = g_strdup_printf("tf history: %s: '%s' is ", bad[i][0], bad[i][1]);
        sf_expect(&r, 2, NULL, why);
        g_free(why);
        sf_result_clear(&r);
    }
}

static void test_store_path_decisions(void **unused)
{
    char *feature = g_build_filename(tmpdir, "empty.feature", NULL);
    assert_true(g_file_set_contents(feature, "Feature: nothing to run\n", -1, NULL));
    /* --store '' is an error, never "no store". */
    const char *empty[] = {"run", "--store", "", feature, NULL};
    sf_result r = tf(empty, NULL);
    sf_expect(&r, 2, NULL, "the path is empty");
    sf_result_clear(&r);
    const char *wire[] = {"wire", "--store", "", NULL};
    r = tf(wire, NULL);
    if (r.code == 0 || !strstr(r.err, "the path is empty"))
        fail_msg("tf wire --store '': exit %d: %s", r.code, r.err);
    sf_result_clear(&r);
    /* An empty TF_STORE is like none: nothing is created. */
    const char *plain[] = {"run", feature, NULL};
    const char *env_empty[] = {"TF_STORE", "", NULL};
    r = tf(plain, env_empty);
    sf_expect(&r, 0, NULL, NULL);
    char *dot_tf = g_build_filename(tmpdir, ".tf", NULL);
    assert_false(g_file_test(dot_tf, G_FILE_TEST_EXISTS));
    sf_result_clear(&r);
    /* Missing directories on the way are created, as a data directory would be. */
    char *deep = g_build_filename(tmpdir, "new", "dirs", "s.db", NULL);
    const char *make[] = {"run", "--store", deep, feature, NULL};
    r = tf(make, NULL);
    sf_expect(&r, 0, NULL, NULL);
    sf_result_clear(&r);
    const char *runs[] = {"history", "runs", "--store", deep, NULL};
    r = tf(runs, NULL);
    sf_expect(&r, 0, "\"status\":\"passed\"", NULL);
    sf_result_clear(&r);
    g_free(deep);
    g_free(dot_tf);
    g_free(feature);
}

int main(void)
{
    sf_tf_bin_or_exit("test_history_cli");
    tmpdir = sf_tmpdir_new("tf-history-cli");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_names_streams_as_export_prints_them),
        cmocka_unit_test(test_runs_lists_runs_and_one_runs_executions),
        cmocka_unit_test(test_prune_applies_each_option),
        cmocka_unit_test(test_store_path_decisions),
    };
    int code = cmocka_run_group_tests(tests, NULL, NULL);
    sf_tmpdir_remove(tmpdir);
    return code;
}
