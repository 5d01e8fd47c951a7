/* test_store_races.c: processes sharing one store at once. Two `tf run --store` of one
 * feature (same-named scenarios, outline rows and a retry) keep every batch of both runs,
 * 20 times over; two processes creating one new store both open it, 30 times over; two
 * processes of one run journal side by side (what parallel workers will do) and lose
 * nothing. Runs use the in-process counter observer (tests/support/store_steps), so each
 * race takes milliseconds; what time there is goes to fsync (store creation, the flush
 * when a runtime stops and when a run ends). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "store_steps.h"
#include "store_fixture.h"
#include "tf/durable.h"
#include "tf/runner.h"

#define RUN_RACES 20
#define CREATE_RACES 30

static char *tmpdir;

/* Same names everywhere: two scenarios, two outline rows, and a retried scenario. Every
 * execution journals exactly N+1 batches: 4 + 4 + 3 + 3 + 2 (failed try) + 2 = 18. */
static const char race_feature[] =
    "Feature: race\n"
    "  Scenario: same\n"
    "    Given an observed counter that changes 3 times\n"
    "  Scenario: same\n"
    "    Given an observed counter that changes 3 times\n"
    "  Scenario Outline: same\n"
    "    Given an observed counter that changes <n> times\n"
    "    Examples:\n"
    "      | n |\n"
    "      | 2 |\n"
    "      | 2 |\n"
    "  Scenario: same\n"
    "    Given an observed counter that changes 1 times\n"
    "    Then it fails on the first attempt\n";
#define RACE_BATCHES 18

typedef struct {
    const char *store;
    const char *feature;
} run_args;

static int run_body(int i, void *data)
{
    run_args *a = data;
    const tf_plugin_init_fn mods[] = {store_steps_register};
    char *argv[] = {"tf-run", "--format", "summary:/dev/null", "--retry", "1", "--store",
                    (char *)a->store, (char *)a->feature, NULL};
    return tf_run_main(G_N_ELEMENTS(argv) - 1, argv, mods, 1);
}

static void test_two_runs_at_once_keep_every_batch(void **unused)
{
    char *feature = g_build_filename(tmpdir, "race.feature", NULL);
    assert_true(g_file_set_contents(feature, race_feature, -1, NULL));
    for (int k = 0; k < RUN_RACES; k++) {
        char *store = g_strdup_printf("%s/runs%d.db", tmpdir, k);
        GError *err = NULL;
        tf_store *s = tf_store_open(store, &err); /* created before: this race is the runs' */
        assert_non_null(s);
        tf_store_unref(s);
        run_args a = {store, feature};
        sf_race(2, run_body, &a);
        s = tf_store_open(store, &err);
        json_t *runs = tf_store_runs(s, &err);
        assert_non_null(runs);
        assert_int_equal(json_array_size(runs), 2);
        for (gsize r = 0; r < 2; r++) {
            json_t *run = json_array_get(runs, r);
            assert_string_equal(json_string_value(json_object_get(run, "status")), "passed");
            json_int_t batches = json_integer_value(json_object_get(run, "batches"));
            if (batches != RACE_BATCHES)
                fail_msg("race %d: run %d kept %d of its %d batches", k,
                         (int)json_integer_value(json_object_get(run, "run")), (int)batches,
                         RACE_BATCHES);
        }
        json_decref(runs);
        tf_store_unref(s);
        g_free(store);
    }
    g_free(feature);
}

static int open_body(int i, void *data)
{
    GError *err = NULL;
    tf_store *s = tf_store_open(data, &err);
    if (!s) {
        fprintf(stderr, "racer %d: %s\n", i, err->message);
        return 1;
    }
    gint64 run = tf_store_run_begin(s, "creator", &err);
    tf_store_unref(s);
    if (run <= 0) {
        fprintf(stderr, "racer %d: %s\n", i, err->message);
        return 2;
    }
    return 0;
}

static void test_two_processes_create_one_store(void **unused)
{
    for (int k = 0; k < CREATE_RACES; k++) {
        char *store = g_strdup_printf("%s/new%d/state.db", tmpdir, k);
        sf_race(2, open_body, store);
        GError *err = NULL;
        tf_store *s = tf_store_open(store, &err);
        assert_non_null(s);
        json_t *runs = tf_store_runs(s, &err);
        assert_int_equal(json_array_size(runs), 2);
        json_decref(runs);
        tf_store_unref(s);
        g_free(store);
    }
}

/* ---- one run, two worker processes ---- */

#define WORKER_APPENDS 400

typedef struct {
    const char *store;
    gint64 run;
} worker_args;

/* A worker of the run: its own execution (pickle "p<i>"), two streams, appends
 * interleaved as fast as it can while the other worker does the same. */
static int worker_body(int i, void *data)
{
    worker_args *a = data;
    GError *err = NULL;
    tf_store *s = tf_store_open(a->store, &err);
    char *pickle = g_strdup_printf("p%d", i);
    tf_execution e = {.pickle = pickle, .uri = "race.feature", .line = 2, .name = "same"};
    gint64 ex = s ? tf_store_execution_begin(s, a->run, &e, &err) : 0;
    tf_journal *js[2] = {NULL, NULL};
    if (ex) {
        js[0] = tf_journal_open_execution(s, ex, "counter", &err);
        js[1] = js[0] ? tf_journal_open_execution(s, ex, "other", &err) : NULL;
    }
    int code = js[1] ? 0 : 1;
    json_t *b = json_pack("{s:[i]}", "events", i);
    for (guint64 seq = 1; !code && seq <= WORKER_APPENDS; seq++)
        for (int k = 0; k < 2 && !code; k++)
            if (!tf_journal_append(js[k], seq, seq, g_get_real_time(), b, &err))
                code = 2;
    if (code)
        fprintf(stderr, "worker %d: %s\n", i, err ? err->message : "?");
    else if (!tf_store_execution_end(s, ex, "passed", NULL, &err))
        code = 3;
    json_decref(b);
    tf_journal_unref(js[0]);
    tf_journal_unref(js[1]);
    tf_store_unref(s);
    g_free(pickle);
    return code;
}

static void test_two_workers_of_one_run_append_side_by_side(void **unused)
{
    char *store = g_build_filename(tmpdir, "workers.db", NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(store, &err);
    gint64 run = tf_store_run_begin(s, "parallel", &err);
    assert_true(run > 0);
    worker_args a = {store, run};
    sf_race(2, worker_body, &a);
    json_t *execs = tf_store_executions(s, run, &err);
    assert_non_null(execs);
    assert_int_equal(json_array_size(execs), 2);
    for (gsize i = 0; i < 2; i++) {
        json_t *e = json_array_get(execs, i);
        json_t *streams = json_object_get(e, "streams");
        assert_int_equal(json_integer_value(json_object_get(streams, "counter")), WORKER_APPENDS);
        assert_int_equal(json_integer_value(json_object_get(streams, "other")), WORKER_APPENDS);
        /* Every number of each stream, once. */
        tf_journal *j = tf_journal_open_execution(
            s, json_integer_value(json_object_get(e, "execution")), "counter", &err);
        guint64 first = 0, last = 0;
        assert_int_equal(tf_journal_next_stored(j, 1, &first, &err), TF_LOOKUP_FOUND);
        assert_true(tf_journal_last_seq(j, &last, &err));
        assert_int_equal(first, 1);
        assert_int_equal(last, WORKER_APPENDS);
        tf_journal_unref(j);
    }
    assert_true(tf_store_run_end(s, run, "passed", &err));
    json_t *runs = tf_store_runs(s, &err);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(runs, 0), "batches")),
                     4 * WORKER_APPENDS);
    json_decref(runs);
    json_decref(execs);
    tf_store_unref(s);
    g_free(store);
}

static int setup(void **unused)
{
    tmpdir = sf_tmpdir_new("tf-store-races");
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
        cmocka_unit_test(test_two_processes_create_one_store),
        cmocka_unit_test(test_two_runs_at_once_keep_every_batch),
        cmocka_unit_test(test_two_workers_of_one_run_append_side_by_side),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
