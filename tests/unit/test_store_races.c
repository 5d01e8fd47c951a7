/* test_store_races.c: processes sharing one store at once. Two `tf run --store` of one
 * feature (same-named scenarios, outline rows and a retry) keep every batch of both runs,
 * 25 times over; two processes creating one new store both open it, 50 times over; two
 * processes of one run journal side by side (what parallel workers will do) and lose
 * nothing. Runs use the in-process counter observer (tests/support/store_steps), so each
 * race takes milliseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "store_steps.h"
#include "tf/durable.h"
#include "tf/runner.h"

#define RUN_RACES 25
#define CREATE_RACES 50

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

/* Forks n children that each wait for the go signal, then run body(i, data) and exit with
 * its result; returns once all exited, failing the test unless each exited 0. */
static void race(int n, int (*body)(int i, void *data), void *data)
{
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[8];
    assert_true(n <= 8);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(go[1]);
            char c;
            if (read(go[0], &c, 1) != 1)
                _exit(90);
            _exit(body(i, data));
        }
    }
    close(go[0]);
    char start[8] = {0};
    assert_int_equal(write(go[1], start, n), n);
    close(go[1]);
    for (int i = 0; i < n; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("racer %d ended with status 0x%x", i, status);
    }
}

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
        race(2, run_body, &a);
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
        race(2, open_body, store);
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

static int setup(void **unused)
{
    tmpdir = g_dir_make_tmp("tf-store-races-XXXXXX", NULL);
    return tmpdir ? 0 : -1;
}

static int teardown(void **unused)
{
    char *argv[] = {"rm", "-rf", tmpdir, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_processes_create_one_store),
        cmocka_unit_test(test_two_runs_at_once_keep_every_batch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
