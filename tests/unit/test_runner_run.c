/* test_runner_run.c: the step runner end to end, in process: exit codes, undefined and
 * ambiguous steps, hook order and tag filters, world cleanup order (also after a failure
 * and a step timeout), retry, fail-fast, dry-run, strict, random order with a seed, JUnit
 * escaping, Ctrl-C (a forked run is SIGINTed; its cleanup runs and it says so), and
 * numeric options refused out of range (never wrapped, clamped or read as "no timeout"). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include "tf/runner.h"
#include "run_fixture.h"

static GString *trail; /* what steps, hooks and cleanups did, in order */
static int flaky_calls;

static void note(const char *what) { g_string_append_printf(trail, "%s;", what); }
static void cleanup_note(void *p) { note(p); }

static tf_step_status st_pass(tf_step *s, GError **e)
{
    note(tf_step_text(s));
    return TF_STEP_PASSED;
}
static tf_step_status st_fail(tf_step *s, GError **e)
{
    note(tf_step_text(s));
    return TF_FAIL(e, "boom <&> \"quoted\" \x01");
}
static tf_step_status st_pending(tf_step *s, GError **e) { return TF_STEP_PENDING; }
static tf_step_status st_number(tf_step *s, GError **e)
{
    char buf[64];
    g_snprintf(buf, sizeof buf, "n=%" G_GINT64_FORMAT, tf_step_arg_int(s, 0));
    note(buf);
    return TF_STEP_PASSED;
}
static tf_step_status st_defer(tf_step *s, GError **e)
{
    tf_world_set(tf_step_world(s), "a", (void *)"free-a", cleanup_note);
    tf_world_defer(tf_step_world(s), cleanup_note, (void *)"defer-b");
    tf_world_set(tf_step_world(s), "c", (void *)"free-c", cleanup_note);
    return TF_STEP_PASSED;
}
static tf_step_status st_flaky(tf_step *s, GError **e)
{
    return ++flaky_calls < 3 ? TF_FAIL(e, "flaky") : TF_STEP_PASSED;
}
static GMutex never_mutex;
static GCond never_cond;
static tf_step_status st_hang(tf_step *s, GError **e)
{
    int fd = GPOINTER_TO_INT(tf_world_get(tf_step_world(s), "notify-fd"));
    if (fd > 0 && write(fd, "x", 1) != 1)
        return TF_FAIL(e, "notify");
    g_mutex_lock(&never_mutex);
    for (;;) /* never signalled: the runner must give up on this thread */
        g_cond_wait(&never_cond, &never_mutex);
    return TF_STEP_PASSED;
}
static int notify_fd = -1;
static tf_step_status hk_before_a(tf_world *w, GError **e)
{
    note("before-a");
    if (notify_fd > 0)
        tf_world_set(w, "notify-fd", GINT_TO_POINTER(notify_fd), NULL);
    tf_world_defer(w, cleanup_note, (void *)"deferred");
    return TF_STEP_PASSED;
}
static tf_step_status hk_before_b(tf_world *w, GError **e) { note("before-b"); return TF_STEP_PASSED; }
static tf_step_status hk_after_a(tf_world *w, GError **e) { note("after-a"); return TF_STEP_PASSED; }
static tf_step_status hk_after_b(tf_world *w, GError **e) { note("after-b"); return TF_STEP_PASSED; }
static tf_step_status hk_tagged(tf_world *w, GError **e) { note("tagged"); return TF_STEP_PASSED; }

/* {celsius}: "-5C" as the integer -5, through the one transformer shape (expression.h). */
static gboolean celsius(const char *const *groups, guint n, tf_arg *out, void *data, GError **e)
{
    if (!g_strcmp0(groups[0], "999"))
        return g_set_error(e, TF_ERROR, TF_ERROR_INVALID, "too hot"), FALSE;
    tf_arg_set_int(out, g_ascii_strtoll(groups[0], NULL, 10) + GPOINTER_TO_INT(data));
    return TRUE;
}

static gboolean module(tf_registry *reg, GError **error)
{
    static const char *const celsius_re[] = {"(-?\\d+)C", NULL};
    if (!tf_registry_add_param_type(reg, "celsius", celsius_re, celsius, GINT_TO_POINTER(1000),
                                    TF_PARAM_USE_FOR_SNIPPETS, error))
        return FALSE;
    TF_GIVEN("it is {celsius} outside", st_number);
    TF_GIVEN("a passing step", st_pass);
    TF_GIVEN("another passing step", st_pass);
    TF_GIVEN("a failing step", st_fail);
    TF_GIVEN("a pending step", st_pending);
    TF_GIVEN("the number {int}", st_number);
    TF_GIVEN("values are stored", st_defer);
    TF_GIVEN("a flaky step", st_flaky);
    TF_GIVEN("a step that hangs", st_hang);
    TF_GIVEN_RE("^an? ambiguous (.*)$", st_pass);
    TF_GIVEN("an ambiguous step", st_pass);
    const tf_hook_options a = {.name = "a", .order = 1}, b = {.name = "b", .order = 10},
                          t = {.name = "t", .tags = "@tagged and not @other", .order = 5};
    if (!tf_registry_add_hook(reg, TF_HOOK_BEFORE, &b, hk_before_b, __FILE__, __LINE__, error) ||
        !tf_registry_add_hook(reg, TF_HOOK_BEFORE, &a, hk_before_a, __FILE__, __LINE__, error) ||
        !tf_registry_add_hook(reg, TF_HOOK_AFTER, &a, hk_after_a, __FILE__, __LINE__, error) ||
        !tf_registry_add_hook(reg, TF_HOOK_AFTER, &b, hk_after_b, __FILE__, __LINE__, error) ||
        !tf_registry_add_hook(reg, TF_HOOK_BEFORE, &t, hk_tagged, __FILE__, __LINE__, error))
        return FALSE;
    return TRUE;
}

/* A second module, as a step library would be: its hooks are TF_HOOK_OWN_STEPS, so they
 * run only in scenarios that use one of its steps. */
static tf_step_status lib_step(tf_step *s, GError **e) { note("lib-step"); return TF_STEP_PASSED; }
static tf_step_status lib_before(tf_world *w, GError **e) { note("lib-before"); return TF_STEP_PASSED; }
static tf_step_status lib_after(tf_world *w, GError **e) { note("lib-after"); return TF_STEP_PASSED; }
static tf_step_status lib_after_step(tf_world *w, GError **e)
{
    note("lib-after-step");
    return TF_STEP_PASSED;
}

static gboolean library(tf_registry *reg, GError **error)
{
    TF_GIVEN("a library step", lib_step);
    TF_BEFORE_OWN(NULL, lib_before);
    TF_AFTER_OWN("not @nolib", lib_after);
    const tf_hook_options own = {.scope = TF_HOOK_OWN_STEPS};
    return tf_registry_add_hook(reg, TF_HOOK_AFTER_STEP, &own, lib_after_step, __FILE__,
                                __LINE__, error);
}

/* Runs tf_run_main on a feature text with extra args; returns the exit code. */
static int run(const char *feature, ...)
{
    char *path = rf_write("t.feature", feature);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "tf-run");
    g_ptr_array_add(argv, "--format=summary:/dev/null");
    va_list ap;
    va_start(ap, feature);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, path);
    g_ptr_array_add(argv, NULL);
    g_string_truncate(trail, 0);
    tf_plugin_init_fn mods[] = {module, library};
    int code = tf_run_main((int)argv->len - 1, (char **)argv->pdata, mods, 2);
    g_ptr_array_unref(argv);
    g_free(path);
    return code;
}

static void test_exit_codes(void **state)
{
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a passing step\n", NULL), 0);
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a failing step\n", NULL), 1);
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given x\n  Examples:\n   | a |\n oops |\n", NULL), 2);
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a passing step\n", "--bogus", NULL), 2);
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a passing step\n", "--tags", "(@a", NULL), 2);
}

/* A custom parameter type's transformer stores a typed value the step reads back; one
 * that refuses fails the step with its message. */
static void test_custom_parameter_type(void **state)
{
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given it is -5C outside\n", NULL), 0);
    assert_non_null(strstr(trail->str, ";n=995;"));
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given it is 999C outside\n", NULL), 1);
    assert_null(strstr(trail->str, "n="));
}

static void test_undefined_ambiguous_strict(void **state)
{
    const char *undef = "Feature: f\n  Scenario: s\n    Given nobody wrote this\n";
    assert_int_equal(run(undef, NULL), 1);
    assert_int_equal(run(undef, "--no-strict", NULL), 0);
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a pending step\n", "--no-strict", NULL), 0);
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a pending step\n", "--strict", NULL), 1);
    /* ambiguous fails even without strict, and the step does not run */
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given an ambiguous step\n", "--no-strict", NULL), 1);
    assert_null(strstr(trail->str, "an ambiguous step;"));
}

static void test_hooks_order_and_tags(void **state)
{
    assert_int_equal(run("Feature: f\n  @tagged\n  Scenario: s\n    Given a passing step\n", NULL), 0);
    assert_string_equal(trail->str, "before-a;tagged;before-b;a passing step;after-b;after-a;deferred;");
    assert_int_equal(run("Feature: f\n  @tagged @other\n  Scenario: s\n    Given a passing step\n", NULL), 0);
    assert_string_equal(trail->str, "before-a;before-b;a passing step;after-b;after-a;deferred;");
}

/* A module's TF_HOOK_OWN_STEPS hooks run only in scenarios with a step of that module (and
 * then for every step, and still under their tags); other modules' scenarios never see
 * them, whatever their tags. */
static void test_hooks_scoped_to_own_steps(void **state)
{
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a passing step\n", NULL), 0);
    assert_null(strstr(trail->str, "lib-"));
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a passing step\n"
                         "    And a library step\n", NULL), 0);
    /* order 0 (the macros') runs before orders 1 and 10, and after them for After hooks */
    assert_string_equal(trail->str, "lib-before;before-a;before-b;a passing step;lib-after-step;"
                                    "lib-step;lib-after-step;after-b;after-a;lib-after;deferred;");
    assert_int_equal(run("Feature: f\n  @nolib\n  Scenario: s\n    Given a library step\n", NULL), 0);
    assert_non_null(strstr(trail->str, "lib-before;before-a;before-b;lib-step;lib-after-step;"));
    assert_null(strstr(trail->str, "lib-after;"));
}

static void test_world_cleanup_order_after_failure(void **state)
{
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given values are stored\n"
                         "    And a failing step\n    And a passing step\n", NULL), 1);
    assert_string_equal(trail->str, "before-a;before-b;a failing step;after-b;after-a;"
                                    "free-c;defer-b;free-a;deferred;");
}

static void test_retry_fail_fast_dry_run(void **state)
{
    flaky_calls = 0;
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a flaky step\n", "--retry", "1", NULL), 1);
    flaky_calls = 0;
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a flaky step\n", "--retry", "2", NULL), 0);
    assert_int_equal(flaky_calls, 3);
    const char *two = "Feature: f\n  Scenario: one\n    Given a failing step\n"
                      "  Scenario: two\n    Given a passing step\n";
    assert_int_equal(run(two, "--fail-fast", NULL), 1);
    assert_null(strstr(trail->str, "a passing step"));
    assert_int_equal(run(two, NULL), 1);
    assert_non_null(strstr(trail->str, "a passing step"));
    assert_int_equal(run(two, "--dry-run", NULL), 0);
    assert_string_equal(trail->str, "");
}

static void test_filters_and_random_order(void **state)
{
    GString *f = g_string_new("Feature: f\n");
    for (int i = 0; i < 8; i++)
        g_string_append_printf(f, "  Scenario: s%d\n    Given the number %d\n", i, i);
    assert_int_equal(run(f->str, "--order", "random:42", NULL), 0);
    char *first = g_strdup(trail->str);
    assert_int_equal(run(f->str, "--order", "random:42", NULL), 0);
    assert_string_equal(first, trail->str); /* same seed, same order */
    assert_int_equal(run(f->str, NULL), 0);
    assert_string_equal(trail->str, "before-a;before-b;n=0;after-b;after-a;deferred;before-a;"
                                    "before-b;n=1;after-b;after-a;deferred;before-a;before-b;n=2;"
                                    "after-b;after-a;deferred;before-a;before-b;n=3;after-b;after-a;"
                                    "deferred;before-a;before-b;n=4;after-b;after-a;deferred;before-a;"
                                    "before-b;n=5;after-b;after-a;deferred;before-a;before-b;n=6;"
                                    "after-b;after-a;deferred;before-a;before-b;n=7;after-b;after-a;"
                                    "deferred;");
    assert_string_not_equal(trail->str, first); /* seed 42 does shuffle 8 scenarios */
    g_free(first);
    assert_int_equal(run(f->str, "--name", "^s3$", NULL), 0);
    assert_non_null(strstr(trail->str, "n=3"));
    assert_null(strstr(trail->str, "n=4"));
    /* FILE:LINE: the scenario on line 6 is s2 */
    char *path = rf_write("lines.feature", f->str);
    char *arg = g_strdup_printf("%s:6", path);
    char *argv[] = {"tf-run", "--format=summary:/dev/null", arg, NULL};
    tf_plugin_init_fn mods[] = {module};
    g_string_truncate(trail, 0);
    assert_int_equal(tf_run_main(3, argv, mods, 1), 0);
    assert_non_null(strstr(trail->str, "n=2"));
    assert_null(strstr(trail->str, "n=1"));
    g_free(arg);
    g_free(path);
    g_string_free(f, TRUE);
}

/* Runs with args and expects a usage error (2) whose message names want. */
static void expect_usage_error(const char *want, const char *const *args)
{
    rf_result r = rf_run(module, args);
    if (r.code != TF_RUN_EXIT_USAGE || !strstr(r.err, want))
        fail_msg("args ending in '%s': exit %d, stderr:\n%s\nwanted exit 2 naming '%s'",
                 args[g_strv_length((char **)args) - 2], r.code, r.err, want);
    rf_result_clear(&r);
}

/* Every numeric option takes the whole text as a number in its range, or refuses it
 * naming the option: nothing wraps, saturates or silently turns a timeout off. */
static void test_numeric_options_out_of_range(void **state)
{
    char *f = rf_write("n.feature", "Feature: f\n  Scenario: s\n    Given a passing step\n");
#define BAD(want, ...) expect_usage_error(want, (const char *const[]){__VA_ARGS__, f, NULL})
    BAD("--retry: '99999999999999999999' is out of range (0 to 4294967295)",
        "--retry", "99999999999999999999");
    BAD("--retry: '4294967296' is out of range", "--retry", "4294967296");
    BAD("--retry: '-1' is not a whole number", "--retry", "-1");
    BAD("--retry: ' 1' is not a whole number", "--retry", " 1");
    BAD("--retry: '1x' is not a whole number", "--retry=1x");
    BAD("--retry: '' is not a whole number", "--retry=");
    BAD("--step-timeout: 'nan' is not a number of seconds", "--step-timeout", "nan");
    BAD("--step-timeout: 'inf' is not a number of seconds", "--step-timeout", "inf");
    BAD("--step-timeout: '-1' is not a number of seconds", "--step-timeout", "-1");
    BAD("--step-timeout: '0x10' is not a number of seconds", "--step-timeout", "0x10");
    BAD("--step-timeout: '1e309' is out of range (0 to 31536000 seconds)",
        "--step-timeout", "1e309");
    BAD("--step-timeout: '31536001' is out of range", "--step-timeout", "31536001");
    BAD("--step-timeout: '1e-300' is below 1 microsecond", "--step-timeout", "1e-300");
    BAD("--step-timeout: '1e-400' is below 1 microsecond", "--step-timeout", "1e-400");
    BAD("--step-timeout: '0.0001ms' is below 1 microsecond", "--step-timeout", "0.0001ms");
    BAD("--order: seed: '4294967296' is out of range (0 to 4294967295)",
        "--order", "random:4294967296");
    BAD("--order: seed: 'x' is not a whole number", "--order", "random:x");
#undef BAD
    /* FILE:LINE line numbers are checked the same way */
    char *huge = g_strdup_printf("%s:99999999999999999999", f);
    expect_usage_error("99999999999999999999' is out of range",
                       (const char *const[]){huge, NULL});
    g_free(huge);
    char *zero = g_strdup_printf("%s:0", f);
    expect_usage_error("0' is out of range (1 to", (const char *const[]){zero, NULL});
    g_free(zero);
    /* the edges of each range are accepted (a dry run: 1 us is a real timeout) */
    const char *const ok[][3] = {{"--retry", "4294967295"}, {"--retry", "0"},
                                 {"--step-timeout", "31536000"}, {"--step-timeout", "0"},
                                 {"--step-timeout", "1e-6"}, {"--step-timeout", "250ms"},
                                 {"--step-timeout", "2.5s"}, {"--order", "random:4294967295"}};
    for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
        rf_result r = rf_run(module, (const char *const[]){"--dry-run", ok[i][0], ok[i][1], f, NULL});
        if (r.code != TF_RUN_EXIT_PASSED)
            fail_msg("%s %s: exit %d: %s", ok[i][0], ok[i][1], r.code, r.err);
        rf_result_clear(&r);
    }
    g_free(f);
}

static void test_step_timeout_runs_cleanup(void **state)
{
    assert_int_equal(run("Feature: f\n  Scenario: s\n    Given a step that hangs\n"
                         "    And a passing step\n", "--step-timeout", "0.2", NULL), 1);
    assert_string_equal(trail->str, "before-a;before-b;after-b;after-a;deferred;");
}

/* ---- a body that the runner gives up on, and that returns later ---- */

/* pthread, not GMutex: glib's futex locks are invisible to ThreadSanitizer */
static pthread_mutex_t outlive_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t outlive_cond = PTHREAD_COND_INITIALIZER;
static gboolean outlive_release; /* the test lets the body return */
static guint apps_alive, apps_freed;

static void *app_new(void *data)
{
    pthread_mutex_lock(&outlive_mutex);
    apps_alive++;
    pthread_mutex_unlock(&outlive_mutex);
    return g_new0(int, 1);
}
static void app_free(void *app)
{
    g_free(app);
    pthread_mutex_lock(&outlive_mutex);
    apps_alive--;
    apps_freed++;
    pthread_cond_broadcast(&outlive_cond);
    pthread_mutex_unlock(&outlive_mutex);
}
/* Blocks until the test releases it; with "interrupts" it first sends the process SIGINT
 * (only tf_run_main's sigwait thread takes it: every other thread blocks it). */
static tf_step_status st_outlive(tf_step *s, GError **e)
{
    if (tf_step_arg_int(s, 0))
        kill(getpid(), SIGINT);
    pthread_mutex_lock(&outlive_mutex);
    while (!outlive_release)
        pthread_cond_wait(&outlive_cond, &outlive_mutex);
    pthread_mutex_unlock(&outlive_mutex);
    return TF_STEP_PASSED;
}
static gboolean module_outlive(tf_registry *reg, GError **error)
{
    tf_registry_set_world(reg, app_new, app_free, NULL);
    TF_GIVEN("a step that outlives its run \\({int})", st_outlive);
    return TRUE;
}

/* A body abandoned on a timeout or Ctrl-C keeps its thread; when it returns, what the run
 * handed it (its step, its world and the app's world) is freed: nothing is left for the
 * process's exit (LeakSanitizer found a worker's interrupted step and world there). */
static void test_abandoned_body_frees_its_world_when_it_returns(void **state)
{
    const char *const ends[][2] = {{"0", "--step-timeout=0.2"}, {"1", "--step-timeout=0"}};
    const int codes[] = {TF_RUN_EXIT_FAILED, TF_RUN_EXIT_INTERRUPTED};
    for (guint i = 0; i < G_N_ELEMENTS(ends); i++) {
        char *text = g_strdup_printf("Feature: f\n  Scenario: s\n"
                                     "    Given a step that outlives its run (%s)\n", ends[i][0]);
        char *f = rf_write("outlive.feature", text);
        outlive_release = FALSE;
        apps_freed = 0;
        rf_result r = rf_run(module_outlive, (const char *const[]){ends[i][1], f, NULL});
        if (r.code != codes[i])
            fail_msg("%s: exit %d, wanted %d: %s", ends[i][1], r.code, codes[i], r.err);
        rf_result_clear(&r);
        pthread_mutex_lock(&outlive_mutex);
        assert_int_equal(apps_freed, 0); /* the stuck body may still use its world */
        outlive_release = TRUE;
        pthread_cond_broadcast(&outlive_cond);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 10;
        while (apps_freed == 0 &&
               pthread_cond_timedwait(&outlive_cond, &outlive_mutex, &deadline) == 0)
            ;
        guint freed = apps_freed, alive = apps_alive;
        pthread_mutex_unlock(&outlive_mutex);
        if (freed != 1 || alive != 0)
            fail_msg("%s: the abandoned body returned, and its world was freed %u times "
                     "(%u app worlds alive): wanted once, none alive", ends[i][1], freed, alive);
        g_free(f);
        g_free(text);
    }
}

static void test_junit_escaping(void **state)
{
    char *out = g_build_filename(rf_tmp(), "junit.xml", NULL);
    char *fmt = g_strdup_printf("--format=junit:%s", out);
    assert_int_equal(run("Feature: f & <g>\n  Scenario: s \"q\"\n    Given a failing step\n", fmt, NULL), 1);
    char *xml = NULL;
    assert_true(g_file_get_contents(out, &xml, NULL, NULL));
    assert_non_null(strstr(xml, "classname=\"f &amp; &lt;g&gt;\""));
    assert_non_null(strstr(xml, "name=\"s &quot;q&quot;\""));
    assert_non_null(strstr(xml, "boom &lt;&amp;&gt; &quot;quoted&quot; \xEF\xBF\xBD"));
    assert_null(strstr(xml, "\x01"));
    assert_non_null(strstr(xml, "failures=\"1\""));
    g_free(xml);
    g_free(fmt);
    g_free(out);
}

static void test_ctrl_c_runs_cleanup_and_reports(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char *report = g_build_filename(rf_tmp(), "interrupted.txt", NULL);
    char *marker = g_build_filename(rf_tmp(), "cleanup-ran", NULL);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        notify_fd = fds[1];
        char *path = rf_write("hang.feature",
                                   "Feature: f\n  Scenario: s\n    Given a step that hangs\n");
        char *fmt = g_strdup_printf("--format=summary:%s", report);
        char *argv[] = {"tf-run", fmt, "--step-timeout", "0", path, NULL};
        tf_plugin_init_fn mods[] = {module};
        int code = tf_run_main(5, argv, mods, 1);
        /* the deferred cleanup is recorded in trail; prove it ran by a file */
        if (strstr(trail->str, "deferred;"))
            g_file_set_contents(marker, trail->str, -1, NULL);
        _exit(code);
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1); /* the step is running */
    close(fds[0]);
    kill(pid, SIGINT);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), TF_RUN_EXIT_INTERRUPTED);
    char *text = NULL;
    assert_true(g_file_get_contents(report, &text, NULL, NULL));
    assert_non_null(strstr(text, "interrupted"));
    g_free(text);
    assert_true(g_file_get_contents(marker, &text, NULL, NULL));
    assert_non_null(strstr(text, "after-a;deferred;"));
    g_free(text);
    g_free(report);
    g_free(marker);
}

static int setup(void **state)
{
    trail = g_string_new(NULL);
    return rf_setup("tf-runner") ? 0 : -1;
}

static int teardown(void **state)
{
    rf_teardown();
    g_string_free(trail, TRUE);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctrl_c_runs_cleanup_and_reports),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_custom_parameter_type),
        cmocka_unit_test(test_undefined_ambiguous_strict),
        cmocka_unit_test(test_hooks_order_and_tags),
        cmocka_unit_test(test_hooks_scoped_to_own_steps),
        cmocka_unit_test(test_world_cleanup_order_after_failure),
        cmocka_unit_test(test_retry_fail_fast_dry_run),
        cmocka_unit_test(test_filters_and_random_order),
        cmocka_unit_test(test_junit_escaping),
        cmocka_unit_test(test_step_timeout_runs_cleanup),
        cmocka_unit_test(test_abandoned_body_frees_its_world_when_it_returns),
        cmocka_unit_test(test_numeric_options_out_of_range),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
