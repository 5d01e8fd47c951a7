/* test_store_retention.c: what README promises of retention. By default the journals of
 * the newest 20 runs are kept, applied when a run begins; an age limit and a per-stream
 * limit are applied by tf_store_prune, when a run begins and on the 1,000th append since
 * the last pruning (not the 999th); pruning never reuses a number, and the bookkeeping of
 * ended runs' streams goes with their journals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <string.h>
#include <glib/gstdio.h>
#include "store_fixture.h"
#include "tf/durable.h"

static char *tmpdir;

static tf_store *open_new(const char *name)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    g_free(path);
    if (!s)
        fail_msg("%s", err->message);
    return s;
}

/* A run with one execution whose stream "counter" gets n batches stamped `wall`; ended
 * when `end`. Returns the run. */
static gint64 run_with_batches(tf_store *s, int n, gint64 wall, gboolean end)
{
    GError *err = NULL;
    gint64 run = tf_store_run_begin(s, "r", &err);
    assert_true(run > 0);
    tf_execution e = {.pickle = "1", .name = "s"};
    gint64 ex = tf_store_execution_begin(s, run, &e, &err);
    tf_journal *j = tf_journal_open_execution(s, ex, "counter", &err);
    json_t *b = json_pack("{s:[i]}", "events", 1);
    for (int seq = 1; seq <= n; seq++)
        assert_true(tf_journal_append(j, seq, seq, wall, b, &err));
    json_decref(b);
    tf_journal_unref(j);
    if (end)
        assert_true(tf_store_run_end(s, run, "passed", &err));
    return run;
}

/* Batches each run still has, keyed by run id. */
static json_int_t batches_of(tf_store *s, gint64 run)
{
    GError *err = NULL;
    json_t *runs = tf_store_runs(s, &err);
    json_int_t n = -1;
    for (gsize i = 0; i < json_array_size(runs); i++)
        if (json_integer_value(json_object_get(json_array_get(runs, i), "run")) == run)
            n = json_integer_value(json_object_get(json_array_get(runs, i), "batches"));
    json_decref(runs);
    return n;
}

static gint64 count_rows(tf_store *s, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(tf_store_path(s), &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    gint64 n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_newest_20_runs_kept_when_a_run_begins(void **unused)
{
    tf_store *s = open_new("runs.db");
    gint64 runs[22];
    for (int i = 0; i < 20; i++)
        runs[i] = run_with_batches(s, 3, g_get_real_time(), TRUE);
    for (int i = 0; i < 20; i++)
        assert_int_equal(batches_of(s, runs[i]), 3); /* 20 runs: all kept */
    gint64 streams_before = count_rows(s, "SELECT count(*) FROM streams");
    GError *err = NULL;
    runs[20] = tf_store_run_begin(s, "21st", &err); /* beginning it prunes */
    assert_int_equal(batches_of(s, runs[0]), 0);
    assert_int_equal(batches_of(s, runs[1]), 3);
    /* The pruned run's stream bookkeeping went with it; its execution record stays. */
    assert_int_equal(count_rows(s, "SELECT count(*) FROM streams"), streams_before - 1);
    assert_int_equal(count_rows(s, "SELECT count(*) FROM executions"), 20);
    runs[21] = tf_store_run_begin(s, "22nd", &err);
    assert_int_equal(batches_of(s, runs[1]), 0);
    assert_int_equal(batches_of(s, runs[2]), 3);
    tf_store_unref(s);
}

static void test_a_running_runs_streams_are_not_forgotten(void **unused)
{
    tf_store *s = open_new("live.db");
    tf_retention r = {.keep_runs = 1};
    tf_store_set_retention(s, &r);
    gint64 live = run_with_batches(s, 2, g_get_real_time(), FALSE); /* still running */
    run_with_batches(s, 2, g_get_real_time(), TRUE);                /* prunes live's batches */
    assert_int_equal(batches_of(s, live), 0);
    /* ...but not its stream's number: it would continue at 3, never reuse 1. */
    assert_int_equal(count_rows(s, "SELECT count(*) FROM streams WHERE last_seq = 2"), 2);
    tf_store_unref(s);
}

static void test_max_age(void **unused)
{
    tf_store *s = open_new("age.db");
    gint64 hour = (gint64)3600 * G_USEC_PER_SEC;
    gint64 old = run_with_batches(s, 4, g_get_real_time() - 2 * hour, TRUE);
    gint64 young = run_with_batches(s, 3, g_get_real_time(), TRUE);
    tf_retention r = {.keep_runs = 20, .max_age_us = 3 * hour};
    tf_store_set_retention(s, &r);
    GError *err = NULL;
    assert_int_equal(tf_store_prune(s, &err), 0);
    r.max_age_us = hour;
    tf_store_set_retention(s, &r);
    assert_int_equal(tf_store_prune(s, &err), 4);
    assert_int_equal(batches_of(s, old), 0);
    assert_int_equal(batches_of(s, young), 3);
    /* Also applied when a run begins. */
    gint64 older = run_with_batches(s, 2, g_get_real_time() - 2 * hour, TRUE);
    assert_int_equal(batches_of(s, older), 2);
    tf_store_run_begin(s, "next", &err);
    assert_int_equal(batches_of(s, older), 0);
    assert_int_equal(batches_of(s, young), 3);
    tf_store_unref(s);
}

static void test_applied_every_1000_appends(void **unused)
{
    tf_store *s = open_new("appends.db");
    GError *err = NULL;
    tf_retention r = {.keep_runs = 20, .max_batches = 10};
    tf_store_set_retention(s, &r);
    gint64 run = tf_store_run_begin(s, "r", &err); /* prunes: the count starts here */
    tf_journal *j = tf_journal_open(s, "counter", run, &err);
    json_t *b = json_pack("{s:[]}", "events");
    for (guint64 seq = 1; seq <= 999; seq++)
        assert_true(tf_journal_append(j, seq, seq, g_get_real_time(), b, &err));
    assert_int_equal(batches_of(s, run), 999);
    assert_true(tf_journal_append(j, 1000, 1000, g_get_real_time(), b, &err));
    assert_int_equal(batches_of(s, run), 10);
    guint64 first = 0;
    assert_int_equal(tf_journal_next_stored(j, 1, &first, &err), TF_LOOKUP_FOUND);
    assert_int_equal(first, 991);
    assert_true(tf_journal_append(j, 1001, 1001, g_get_real_time(), b, &err));
    assert_int_equal(batches_of(s, run), 11); /* not again until 1,000 more */
    json_decref(b);
    tf_journal_unref(j);
    tf_store_unref(s);
}

static int setup(void **unused)
{
    tmpdir = sf_tmpdir_new("tf-store-retention");
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
        cmocka_unit_test(test_newest_20_runs_kept_when_a_run_begins),
        cmocka_unit_test(test_a_running_runs_streams_are_not_forgotten),
        cmocka_unit_test(test_max_age),
        cmocka_unit_test(test_applied_every_1000_appends),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
