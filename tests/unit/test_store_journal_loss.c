/* test_store_journal_loss.c: a journal that stops recording is loud. The store refuses an
 * append (a trigger raises "simulated disk full", as a full disk would): during a step,
 * that step fails with a message naming the store, the stream, the scenario and the
 * reason, in every report and on stderr, and the run is recorded failed; after the last
 * step (while the world ends), stderr says so and the run fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "store_steps.h"
#include "store_fixture.h"
#include "tf/durable.h"
#include "tf/runner.h"

static char *tmpdir;

/* A new store whose journal refuses batch `seq` of every stream. */
static char *store_failing_at(const char *name, int seq)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    assert_non_null(s);
    tf_store_unref(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *sql = g_strdup_printf("CREATE TRIGGER simulated_disk_full BEFORE INSERT ON journal"
                                " WHEN NEW.seq = %d BEGIN SELECT RAISE(ABORT, 'simulated disk"
                                " full'); END;",
                                seq);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    g_free(sql);
    sqlite3_close(db);
    return path;
}

typedef struct {
    int code;
    char *err;     /* what the run wrote to stderr */
    char *message; /* the Cucumber Messages report */
    char *junit;
} outcome;

static void outcome_clear(outcome *o)
{
    g_free(o->err);
    g_free(o->message);
    g_free(o->junit);
}

/* Runs feature text with the store; stderr is captured. */
static outcome run(const char *store, const char *text)
{
    char *feature = g_build_filename(tmpdir, "loss.feature", NULL);
    char *msg = g_build_filename(tmpdir, "report.ndjson", NULL);
    char *junit = g_build_filename(tmpdir, "report.xml", NULL);
    char *errf = g_build_filename(tmpdir, "stderr.txt", NULL);
    assert_true(g_file_set_contents(feature, text, -1, NULL));
    char *fmt_msg = g_strconcat("message:", msg, NULL), *fmt_junit = g_strconcat("junit:", junit, NULL);
    const tf_plugin_init_fn mods[] = {store_steps_register};
    char *argv[] = {"tf-run", "--format", "summary:/dev/null", "--format", fmt_msg, "--format",
                    fmt_junit, "--store", (char *)store, feature, NULL};
    fflush(stderr);
    int saved = dup(2), fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    outcome o = {.code = tf_run_main(G_N_ELEMENTS(argv) - 1, argv, mods, 1)};
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_true(g_file_get_contents(errf, &o.err, NULL, NULL));
    assert_true(g_file_get_contents(msg, &o.message, NULL, NULL));
    assert_true(g_file_get_contents(junit, &o.junit, NULL, NULL));
    fprintf(stderr, "-- the run's stderr:\n%s", o.err);
    g_free(fmt_msg);
    g_free(fmt_junit);
    g_free(feature);
    g_free(msg);
    g_free(junit);
    g_free(errf);
    return o;
}

static void assert_says(const char *where, const char *text, const char *what)
{
    if (!strstr(text, what))
        fail_msg("%s does not say '%s':\n%s", where, what, text);
}

/* The single run of the store: its record and its one execution. */
static void check_recorded(const char *store, guint expect_batches)
{
    GError *err = NULL;
    tf_store *s = tf_store_open_readonly(store, &err);
    assert_non_null(s);
    json_t *runs = tf_store_runs(s, &err);
    assert_int_equal(json_array_size(runs), 1);
    json_t *r = json_array_get(runs, 0);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "failed");
    assert_int_equal(json_integer_value(json_object_get(r, "journal_errors")), 1);
    assert_int_equal(json_integer_value(json_object_get(r, "batches")), expect_batches);
    json_t *execs = tf_store_executions(s, json_integer_value(json_object_get(r, "run")), &err);
    assert_int_equal(json_array_size(execs), 1);
    const char *why = json_string_value(json_object_get(json_array_get(execs, 0), "journal_error"));
    assert_non_null(why);
    assert_says("the execution's journal_error", why, "simulated disk full");
    json_decref(execs);
    json_decref(runs);
    tf_store_unref(s);
}

static void test_loss_during_a_step_fails_that_step(void **unused)
{
    char *store = store_failing_at("during.db", 3);
    outcome o = run(store, "Feature: f\n"
                           "  Scenario: counted\n"
                           "    Given an observed counter that changes 3 times\n");
    assert_int_equal(o.code, TF_RUN_EXIT_FAILED);
    const char *says[] = {store, "counter", "counted", "attempt 0", "stopped recording",
                          "batch 3 not recorded", "simulated disk full"};
    for (guint i = 0; i < G_N_ELEMENTS(says); i++) {
        assert_says("stderr", o.err, says[i]);
        assert_says("the message report", o.message, says[i]);
        assert_says("the JUnit report", o.junit, says[i]);
    }
    assert_says("stderr", o.err, "journal 'counter' of scenario 'counted'");
    assert_says("the message report", o.message, "journal 'counter' of scenario 'counted'");
    assert_says("the message report", o.message, "\"status\":\"FAILED\"");
    assert_says("the JUnit report", o.junit, "<failure");
    check_recorded(store, 2);
    outcome_clear(&o);
    g_free(store);
}

static void test_loss_after_the_last_step_fails_the_run(void **unused)
{
    char *store = store_failing_at("after.db", 3);
    outcome o = run(store, "Feature: f\n"
                           "  Scenario: late\n"
                           "    Given an observed counter that changes 1 times\n"
                           "    Then the counter changes once more as the scenario ends\n");
    /* Every step passed, so the reports cannot change any more; stderr and the outcome say
     * so. */
    assert_int_equal(o.code, TF_RUN_EXIT_FAILED);
    assert_says("stderr", o.err, "journal 'counter' of scenario 'late'");
    assert_says("stderr", o.err, "simulated disk full");
    assert_says("stderr", o.err, "lost journal batches, so the run is recorded failed");
    check_recorded(store, 2);
    outcome_clear(&o);
    g_free(store);
}

static void test_no_loss_no_noise(void **unused)
{
    char *store = store_failing_at("fine.db", 99);
    outcome o = run(store, "Feature: f\n"
                           "  Scenario: fine\n"
                           "    Given an observed counter that changes 3 times\n"
                           "    Then the counter changes once more as the scenario ends\n");
    assert_int_equal(o.code, TF_RUN_EXIT_PASSED);
    assert_string_equal(o.err, "");
    outcome_clear(&o);
    g_free(store);
}

static int setup(void **unused)
{
    tmpdir = sf_tmpdir_new("tf-journal-loss");
    return 0;
}

static int teardown(void **unused)
{
    sf_tmpdir_remove(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_during_a_step_fails_that_step),
        cmocka_unit_test(test_loss_after_the_last_step_fails_the_run),
        cmocka_unit_test(test_no_loss_no_noise),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
