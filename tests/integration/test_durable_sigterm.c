/* test_durable_sigterm.c: graceful stop. This binary is also a user's own runner (it
 * calls tf_run_main, the code behind `tf run`): a child runs a scenario whose runtime
 * journals into a store, the parent sends SIGTERM mid-step and checks the exit code
 * (130), the report saying "interrupted", that After hooks and cleanups ran, and that
 * the journal holds every batch the runtime published, gapless. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "counter_observer.h"
#include "rt_fixture.h"
#include "tf/durable.h"

/* ---- the child's step module -------------------------------------------------------- */

typedef struct {
    gint refs;
    counter_cell cell;
    tf_runtime *rt;
    tf_handle *h;
    tf_world *world;
    int fd; /* progress lines for the parent */
} jrun;

static void say(int fd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void say(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (write(fd, s, strlen(s)) < 0)
        perror("say");
    g_free(s);
}

static void jrun_unref(jrun *j)
{
    if (!g_atomic_int_dec_and_test(&j->refs))
        return;
    tf_handle_unref(j->h);
    g_free(j);
}

/* World cleanup: stop (which flushes the journal), report; tf_world_journal's own
 * cleanup then ends the run with the world's outcome. */
static void jrun_cleanup(gpointer p)
{
    jrun *j = p;
    tf_runtime_stop(j->rt);
    guint64 last = tf_handle_last_seq(j->h);
    const char *status = tf_world_interrupted(j->world) ? "interrupted" : "finished";
    tf_runtime_free(j->rt);
    j->rt = NULL;
    say(j->fd, "flushed %" G_GUINT64_FORMAT " %s\n", last, status);
    jrun_unref(j);
}

static tf_step_status given_journaled(tf_step *step, GError **error)
{
    tf_world *world = tf_step_world(step);
    tf_journal *jn;
    switch (tf_world_journal(world, "counter", &jn, error)) {
    case TF_LOOKUP_FOUND:
        break;
    case TF_LOOKUP_ABSENT:
        return TF_FAIL(error, "TF_STORE is not set");
    case TF_LOOKUP_FAILED:
        return TF_STEP_FAILED;
    }
    jrun *j = g_new0(jrun, 1);
    j->refs = 1;
    j->world = world;
    j->fd = atoi(g_getenv("TF_TEST_READY_FD"));
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 2000;
    cfg.event_history = 4; /* small ring: the journal is the ledger */
    tf_source *src = counter_source_new("n0", &j->cell);
    j->rt = tf_runtime_new(&cfg, &counter_observer, NULL, tf_source_provider_new_static(&src, 1),
                           error);
    tf_source_unref(src);
    gboolean ok = j->rt && tf_runtime_set_journal(j->rt, jn, error) &&
                  tf_runtime_start(j->rt, error);
    tf_journal_unref(jn);
    if (!ok) {
        tf_runtime_free(j->rt);
        g_free(j);
        return TF_STEP_FAILED;
    }
    j->h = tf_runtime_handle(j->rt);
    tf_world_set(world, "test.jrun", j, jrun_cleanup);
    return TF_STEP_PASSED;
}

static tf_step_status when_changes(tf_step *step, GError **error)
{
    jrun *j = tf_world_get(tf_step_world(step), "test.jrun");
    g_atomic_int_inc(&j->refs); /* this body may outlive the scenario once interrupted */
    tf_sub *sub = tf_handle_subscribe(j->h, 0);
    gboolean told = FALSE;
    /* Runs until the cleanup stops the runtime. It deliberately does not return on
     * tf_world_interrupted(): the runner must cut a body that is still running (a body
     * that returns by itself at that moment is not yet counted as interrupted: see the
     * report of issue 9). */
    for (gint v = 1;; v++) {
        g_atomic_int_set(&j->cell.value, v);
        tf_handle_wake(j->h);
        tf_batch *b = NULL;
        tf_sub_status st = tf_sub_next(sub, G_USEC_PER_SEC, &b, NULL);
        if (st == TF_SUB_CLOSED)
            break;
        if (st == TF_SUB_BATCH && tf_batch_seq(b) >= 30 && !told) {
            say(j->fd, "ready\n");
            told = TRUE;
        }
        tf_batch_unref(b);
    }
    tf_sub_free(sub);
    jrun_unref(j);
    return TF_FAIL(error, "the counter stopped changing: the run was interrupted");
}

static tf_step_status after_hook(tf_world *world, GError **error)
{
    jrun *j = tf_world_get(world, "test.jrun");
    if (j)
        say(j->fd, "after-hook\n");
    return TF_STEP_PASSED;
}

static gboolean module(tf_registry *reg, GError **error)
{
    TF_GIVEN("a journaled counter observer", given_journaled);
    TF_WHEN("the counter changes until the run is stopped", when_changes);
    TF_AFTER(NULL, after_hook);
    return TRUE;
}

/* ---- the parent --------------------------------------------------------------------- */

static const char feature[] =
    "Feature: graceful stop\n"
    "  Scenario: a journaled run is stopped by SIGTERM\n"
    "    Given a journaled counter observer\n"
    "    When the counter changes until the run is stopped\n";

/* Reads what the child says until `until` appears or EOF/timeout; returns all of it. */
static void read_until(int fd, GString *acc, const char *until)
{
    while (!until || !strstr(acc->str, until)) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 30000) <= 0)
            return;
        char buf[256];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return;
        g_string_append_len(acc, buf, n);
    }
}

static void test_sigterm_stops_cleanly(void **unused)
{
    char *dir = g_dir_make_tmp("tf-sigterm-XXXXXX", NULL);
    char *feat = g_build_filename(dir, "stop.feature", NULL);
    char *store_path = g_build_filename(dir, "state.db", NULL);
    char *junit = g_build_filename(dir, "report.xml", NULL);
    char *out_path = g_build_filename(dir, "stdout.txt", NULL);
    char *junit_arg = g_strconcat("junit:", junit, NULL);
    assert_true(g_file_set_contents(feat, feature, -1, NULL));
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        dup2(pfd[1], 3);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out, 1);
        g_setenv("TF_STORE", store_path, TRUE);
        g_setenv("TF_TEST_READY_FD", "3", TRUE);
        /* An interrupted step's world is kept for its abandoned thread, by design: not a
         * leak to report from the child (its exit code is what is tested). */
        const char *asan = g_getenv("ASAN_OPTIONS");
        char *opts = g_strconcat(asan ? asan : "", asan ? ":" : "", "detect_leaks=0", NULL);
        g_setenv("ASAN_OPTIONS", opts, TRUE);
        execl("/proc/self/exe", "test_durable_sigterm", "--tf-run", "--no-color", "-f", "pretty",
              "-f", junit_arg, feat, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    GString *said = g_string_new(NULL);
    read_until(pfd[0], said, "ready\n");
    if (!strstr(said->str, "ready")) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("the run never got going: '%s'", said->str);
    }
    assert_int_equal(kill(pid, SIGTERM), 0);
    read_until(pfd[0], said, NULL); /* to EOF: the child exits */
    close(pfd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);

    /* After hooks ran before the cleanups, which flushed the journal. */
    const char *after = strstr(said->str, "after-hook\n");
    const char *flushed = strstr(said->str, "flushed ");
    if (!after || !flushed || flushed < after)
        fail_msg("child said: %s", said->str);
    guint64 last = g_ascii_strtoull(flushed + 8, NULL, 10);
    assert_true(last >= 30);
    assert_non_null(strstr(flushed, " interrupted"));

    /* Reports say it was interrupted. */
    char *text = NULL;
    assert_true(g_file_get_contents(out_path, &text, NULL, NULL));
    if (!strstr(text, "interrupted"))
        fail_msg("stdout does not say interrupted:\n%s", text);
    g_free(text);
    assert_true(g_file_get_contents(junit, &text, NULL, NULL));
    assert_non_null(strstr(text, "<testsuite"));
    assert_non_null(strstr(text, "interrupted"));
    g_free(text);

    /* The journal holds every published batch, gapless, under an interrupted run. */
    GError *err = NULL;
    tf_store *s = tf_store_open(store_path, &err);
    assert_no_gerror(err);
    json_t *runs = tf_store_runs(s, &err);
    json_t *r0 = json_array_get(runs, 0);
    /* The scenario's one execution holds the stream. */
    json_t *execs = tf_store_executions(s, json_integer_value(json_object_get(r0, "run")), &err);
    assert_int_equal(json_array_size(execs), 1);
    json_t *e0 = json_array_get(execs, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "status")), "interrupted");
    assert_true(json_is_null(json_object_get(e0, "journal_error")));
    tf_journal *j = tf_journal_open_execution(
        s, json_integer_value(json_object_get(e0, "execution")), "counter", &err);
    assert_no_gerror(err);
    json_decref(execs);
    guint64 stored = 0, first_stored = 0;
    assert_true(tf_journal_last_seq(j, &stored, &err));
    assert_int_equal(stored, last);
    assert_int_equal(tf_journal_next_stored(j, 1, &first_stored, &err), TF_LOOKUP_FOUND);
    assert_int_equal(first_stored, 1);
    for (guint64 seq = 1; seq <= last; seq++) {
        json_t *v = NULL;
        assert_int_equal(tf_journal_read(j, seq, &v, &err), TF_LOOKUP_FOUND);
        json_decref(v);
    }
    assert_string_equal(json_string_value(json_object_get(r0, "status")), "interrupted");
    assert_int_equal(json_integer_value(json_object_get(r0, "batches")), last);
    json_decref(runs);
    tf_journal_unref(j);
    tf_store_unref(s);

    /* `tf history export` prints the same journal as NDJSON. The tf command is built
     * before the tests (tests/CMakeLists.txt): never optional. */
    const char *tf_bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    if (!g_file_test(tf_bin, G_FILE_TEST_IS_EXECUTABLE))
        fail_msg("%s is not an executable: build the tf_cli target", tf_bin);
    char *argv[] = {(char *)tf_bin, "history", "export", "--store", store_path, NULL};
    char *out = NULL;
    int code = -1;
    assert_true(g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out, NULL, &code, NULL));
    assert_int_equal(code, 0);
    char **lines = g_strsplit(out, "\n", -1);
    assert_int_equal(g_strv_length(lines), last + 1);
    json_t *first = json_loads(lines[0], 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(first, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(first, "stream")), "counter");
    json_decref(first);
    g_strfreev(lines);
    g_free(out);
    /* A file that is not a store: a clear error, exit 1, the file untouched. */
    char *notes = g_build_filename(dir, "notes.txt", NULL);
    assert_true(g_file_set_contents(notes, "my notes\n", -1, NULL));
    char *argv2[] = {(char *)tf_bin, "history", "runs", "--store", notes, NULL};
    char *errout = NULL;
    assert_true(g_spawn_sync(NULL, argv2, NULL, 0, NULL, NULL, NULL, &errout, &code, NULL));
    assert_true(g_spawn_check_wait_status(code, NULL) == FALSE);
    assert_non_null(strstr(errout, "not a usable tf store"));
    char *kept = NULL;
    assert_true(g_file_get_contents(notes, &kept, NULL, NULL));
    assert_string_equal(kept, "my notes\n");
    g_free(kept);
    g_free(errout);
    g_free(notes);

    g_string_free(said, TRUE);
    const char *n;
    GDir *d = g_dir_open(dir, 0, NULL);
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
    g_free(dir);
    g_free(feat);
    g_free(store_path);
    g_free(junit);
    g_free(junit_arg);
    g_free(out_path);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--tf-run")) {
        const tf_plugin_init_fn modules[] = {module};
        return tf_run_main(argc - 1, argv + 1, modules, G_N_ELEMENTS(modules));
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_stops_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
