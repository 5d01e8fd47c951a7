/* test_runner_report.c: what `tf run` writes. The pretty and progress formats against
 * golden files (tests/unit/data/runner/, colour off and forced on with --color; the
 * temp dir and the duration are normalised), the listing of every match of an ambiguous
 * step with file:line, the C snippet of an undefined step, JUnit counts that agree with
 * its <testcase> entries after an interrupt, a SIGKILLed run whose reports still hold
 * every finished scenario and parse, and a report that cannot be written is named with
 * the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "run_fixture.h"

static int notify_fd = -1; /* written by the blocking step once it runs (forked runs) */

static tf_step_status st_pass(tf_step *s, GError **e) { return TF_STEP_PASSED; }
static tf_step_status st_number(tf_step *s, GError **e)
{
    return tf_step_arg_int(s, 0) == 42 ? TF_STEP_PASSED : TF_FAIL(e, "not 42");
}
static tf_step_status st_fail(tf_step *s, GError **e)
{
    return TF_FAIL(e, "expected 1 leader, saw 2\nleaders: n1, n3");
}
static tf_step_status st_pending(tf_step *s, GError **e) { return TF_STEP_PENDING; }
static tf_step_status st_block(tf_step *s, GError **e)
{
    if (notify_fd >= 0 && write(notify_fd, "x", 1) != 1)
        return TF_FAIL(e, "notify");
    for (;;) /* until the test kills or interrupts the run */
        pause();
    return TF_STEP_PASSED;
}

/* Definitions at fixed places, so reports print the same file:line everywhere. */
static gboolean module(tf_registry *reg, GError **error)
{
    static const struct {
        const char *pattern;
        gboolean re;
        tf_step_fn fn;
        int line;
    } defs[] = {
        {"a passing step", FALSE, st_pass, 10},
        {"the number {int} is used", FALSE, st_number, 11},
        {"a failing step", FALSE, st_fail, 12},
        {"a pending step", FALSE, st_pending, 13},
        {"an ambiguous step", FALSE, st_pass, 14},
        {"^an? ambiguous (.*)$", TRUE, st_pass, 15},
        {"a step that blocks", FALSE, st_block, 16},
    };
    for (guint i = 0; i < G_N_ELEMENTS(defs); i++)
        if (!tf_registry_add_step(reg, TF_KEYWORD_ANY, defs[i].pattern, defs[i].re, defs[i].fn,
                                  "steps/golden.c", defs[i].line, error))
            return FALSE;
    return TRUE;
}

static const char golden_feature[] =
    "Feature: golden\n"
    "\n"
    "  Scenario: passing\n"
    "    Given a passing step\n"
    "    When the number 42 is used\n"
    "    Then a passing step\n"
    "\n"
    "  Scenario: failing\n"
    "    Given a passing step\n"
    "    When a failing step\n"
    "    Then a passing step\n"
    "\n"
    "  Scenario: undefined and pending\n"
    "    Given a pending step\n"
    "    And an undefined step with \"text\" and 3\n"
    "\n"
    "  Scenario Outline: ambiguous <n>\n"
    "    Given an ambiguous step\n"
    "\n"
    "    Examples:\n"
    "      | n |\n"
    "      | 1 |\n";

static char *golden_path;

/* Runs FORMAT on the golden feature with colour on or off; returns normalised stdout. */
static char *format_output(const char *format, gboolean color)
{
    rf_result r = rf_run(module, (const char *const[]){"--format", format,
                                                       color ? "--color" : "--no-color",
                                                       golden_path, NULL});
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    char *out = rf_normalise(r.out);
    rf_result_clear(&r);
    return out;
}

static void test_pretty_golden(void **state)
{
    char *plain = format_output("pretty", FALSE);
    rf_assert_golden("runner/pretty.txt", plain);
    assert_null(strchr(plain, '\033'));
    char *color = format_output("pretty", TRUE);
    rf_assert_golden("runner/pretty-color.txt", color);
    assert_non_null(strstr(color, "\033[32m")); /* passed is green */
    assert_non_null(strstr(color, "\033[31m")); /* failed is red */
    g_free(plain);
    g_free(color);
}

static void test_progress_golden(void **state)
{
    char *plain = format_output("progress", FALSE);
    rf_assert_golden("runner/progress.txt", plain);
    assert_true(g_str_has_prefix(plain, "..." "." "F-" "PU" "A\n"));
    char *color = format_output("progress", TRUE);
    rf_assert_golden("runner/progress-color.txt", color);
    g_free(plain);
    g_free(color);
}

/* README: "ambiguous ones list every match with its file:line". */
static void test_ambiguous_lists_every_match(void **state)
{
    char *out = format_output("pretty", FALSE);
    assert_non_null(strstr(out, "Multiple step definitions match:\n"
                                "        an ambiguous step  # steps/golden.c:14\n"
                                "        ^an? ambiguous (.*)$  # steps/golden.c:15\n"));
    g_free(out);
}

/* README: "Undefined steps print a ready-to-paste C snippet" (test_cli compiles one). */
static void test_undefined_step_snippet(void **state)
{
    char *out = format_output("summary", FALSE);
    const char *want =
        "Undefined step \"an undefined step with \"text\" and 3\" (<tmp>/golden.feature:15). "
        "Paste this C:\n"
        "    static tf_step_status step_an_undefined_step_with_text_and_3(tf_step *step, GError **error)\n"
        "    {\n"
        "        const char *string_arg = tf_step_arg_str(step, 0);\n"
        "        gint64 int_arg = tf_step_arg_int(step, 1);\n"
        "        return TF_STEP_PENDING; /* TODO: implement */\n"
        "    }\n"
        "    /* in your module's init: */\n"
        "    TF_GIVEN(\"an undefined step with {string} and {int}\", "
        "step_an_undefined_step_with_text_and_3);\n";
    if (!strstr(out, want))
        fail_msg("no snippet like\n%s\nin\n%s", want, out);
    g_free(out);
}

/* ---- reports of runs that were stopped: forked runs with a step that blocks ---- */

static const char stop_feature[] =
    "Feature: stopped\n"
    "  Scenario: one\n    Given a passing step\n    And a passing step\n"
    "  Scenario: two\n    Given a failing step\n    And a passing step\n"
    "  Scenario: three\n    Given a passing step\n"
    "  Scenario: four\n    Given a passing step\n    And a step that blocks\n"
    "  Scenario: five\n    Given a passing step\n";

typedef struct {
    char *pretty, *progress, *junit, *ndjson;
} report_files;

/* Forks a run of stop_feature writing every format to a file, waits until the fourth
 * scenario blocks and sends sig; returns the run's wait status. */
static int stopped_run(int sig, report_files *rf)
{
    char *feature = rf_write("stop.feature", stop_feature);
    rf->pretty = g_build_filename(rf_tmp(), "out.pretty", NULL);
    rf->progress = g_build_filename(rf_tmp(), "out.progress", NULL);
    rf->junit = g_build_filename(rf_tmp(), "out.xml", NULL);
    rf->ndjson = g_build_filename(rf_tmp(), "out.ndjson", NULL);
    char *f[] = {g_strdup_printf("pretty:%s", rf->pretty),
                 g_strdup_printf("progress:%s", rf->progress),
                 g_strdup_printf("junit:%s", rf->junit),
                 g_strdup_printf("message:%s", rf->ndjson)};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        notify_fd = fds[1];
        char *argv[] = {"tf-run", "--step-timeout", "0", "--format", f[0], "--format", f[1],
                        "--format", f[2], "--format", f[3], feature, NULL};
        tf_plugin_init_fn mods[] = {module};
        _exit(tf_run_main(G_N_ELEMENTS(argv) - 1, argv, mods, 1));
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1); /* scenario four is blocked */
    close(fds[0]);
    kill(pid, sig);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    for (guint i = 0; i < G_N_ELEMENTS(f); i++)
        g_free(f[i]);
    g_free(feature);
    return status;
}

static void report_files_clear(report_files *rf)
{
    g_free(rf->pretty);
    g_free(rf->progress);
    g_free(rf->junit);
    g_free(rf->ndjson);
}

/* Checks xml is well-formed (GMarkup) and returns its <testsuite> counts and the number
 * of <testcase> elements and of those named name_prefix... */
typedef struct {
    guint tests, failures, errors, skipped; /* the testsuite's attributes */
    guint testcases;                        /* <testcase> elements */
    GString *names;                         /* "name;" of each testcase */
} junit_counts;

static void junit_start(GMarkupParseContext *ctx, const char *element, const char **names,
                        const char **values, gpointer data, GError **error)
{
    junit_counts *j = data;
    for (guint i = 0; names[i]; i++) {
        if (!strcmp(element, "testsuite")) {
            guint *slot = !strcmp(names[i], "tests")      ? &j->tests
                          : !strcmp(names[i], "failures") ? &j->failures
                          : !strcmp(names[i], "errors")   ? &j->errors
                          : !strcmp(names[i], "skipped")  ? &j->skipped
                                                          : NULL;
            if (slot)
                *slot = (guint)g_ascii_strtoull(values[i], NULL, 10);
        } else if (!strcmp(element, "testcase") && !strcmp(names[i], "name")) {
            g_string_append_printf(j->names, "%s;", values[i]);
        }
    }
    j->testcases += !strcmp(element, "testcase");
}

static junit_counts parse_junit(const char *path)
{
    char *xml = rf_read(path);
    junit_counts j = {.names = g_string_new(NULL)};
    GMarkupParser p = {.start_element = junit_start};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&p, 0, &j, NULL);
    GError *err = NULL;
    const char *body = strstr(xml, "?>"); /* GMarkup does not take the declaration */
    assert_non_null(body);
    if (!g_markup_parse_context_parse(ctx, body + 2, -1, &err) ||
        !g_markup_parse_context_end_parse(ctx, &err))
        fail_msg("%s is not well-formed XML: %s\n%s", path, err->message, xml);
    g_markup_parse_context_free(ctx);
    g_free(xml);
    return j;
}

/* Interrupted (SIGINT) JUnit: tests="N" counts every <testcase>, the run's error included. */
static void test_junit_counts_agree_after_interrupt(void **state)
{
    report_files rf = {0};
    int status = stopped_run(SIGINT, &rf);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), TF_RUN_EXIT_INTERRUPTED);
    junit_counts j = parse_junit(rf.junit);
    assert_int_equal(j.tests, j.testcases);
    assert_int_equal(j.testcases, 5); /* one, two, three, four (interrupted), the run */
    assert_int_equal(j.errors, 1);
    assert_int_equal(j.failures, 2); /* two; four's interrupted step */
    assert_string_equal(j.names->str, "one;two;three;four;run;");
    g_string_free(j.names, TRUE);
    report_files_clear(&rf);
}

/* What a SIGKILL (a CI timeout) leaves: every finished scenario in every report, each
 * report readable: pretty and progress flushed, NDJSON in whole lines, JUnit complete
 * and well-formed, marked as not finished. */
static void test_sigkill_leaves_readable_reports(void **state)
{
    report_files rf = {0};
    int status = stopped_run(SIGKILL, &rf);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    char *pretty = rf_read(rf.pretty);
    const char *const finished[] = {"Scenario: one", "Scenario: two", "Scenario: three",
                                    "expected 1 leader, saw 2"};
    for (guint i = 0; i < G_N_ELEMENTS(finished); i++)
        if (!strstr(pretty, finished[i]))
            fail_msg("pretty report lacks '%s':\n%s", finished[i], pretty);
    char *progress = rf_read(rf.progress);
    assert_true(g_str_has_prefix(progress, "..F-."));

    junit_counts j = parse_junit(rf.junit);
    assert_int_equal(j.tests, j.testcases);
    assert_string_equal(j.names->str, "one;two;three;run;");
    assert_int_equal(j.failures, 1);
    assert_int_equal(j.errors, 1); /* "run": it had not finished: never a green report */
    g_string_free(j.names, TRUE);

    char *ndjson = rf_read(rf.ndjson);
    assert_true(g_str_has_suffix(ndjson, "\n"));
    char **lines = g_strsplit(ndjson, "\n", -1);
    guint finished_cases = 0, started_cases = 0;
    for (char **l = lines; *l && **l; l++) {
        json_error_t jerr;
        json_t *env = json_loads(*l, 0, &jerr);
        if (!env)
            fail_msg("NDJSON line does not parse (%s): %s", jerr.text, *l);
        finished_cases += json_object_get(env, "testCaseFinished") != NULL;
        started_cases += json_object_get(env, "testCaseStarted") != NULL;
        json_decref(env);
    }
    assert_int_equal(finished_cases, 3);
    assert_int_equal(started_cases, 4); /* four started and its first step finished */
    g_strfreev(lines);
    g_free(ndjson);
    g_free(progress);
    g_free(pretty);
    report_files_clear(&rf);
}

/* A report that cannot be written is named, with the reason, and fails the run. The
 * file is a pipe whose reader is gone (writes fail with EPIPE; SIGPIPE is ignored), so
 * the test needs no device or file system of the host's. */
static void test_write_errors_name_the_file(void **state)
{
    const char *const names[] = {"message", "junit", "pretty", "progress", "summary"};
    char *ok = rf_write("ok.feature", "Feature: f\n  Scenario: s\n    Given a passing step\n");
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        close(fds[0]);
        char *file = g_strdup_printf("/proc/self/fd/%d", fds[1]);
        char *spec = g_strdup_printf("%s:%s", names[i], file);
        rf_result r = rf_run(module, (const char *const[]){"--format", spec, ok, NULL});
        char *want = g_strdup_printf("--format %s: writing %s: %s", spec, file,
                                     g_strerror(EPIPE));
        if (r.code != TF_RUN_EXIT_FAILED || !strstr(r.err, want))
            fail_msg("%s: exit %d, stderr:\n%s\nwanted 1 and '%s'", spec, r.code, r.err, want);
        rf_result_clear(&r);
        close(fds[1]);
        g_free(want);
        g_free(spec);
        g_free(file);
    }
    signal(SIGPIPE, old);
    /* a file that cannot be created is a usage error before anything runs */
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        char *bad = g_strdup_printf("%s:%s/no/such/dir/r.out", names[i], rf_tmp());
        rf_result r = rf_run(module, (const char *const[]){"--format", bad, ok, NULL});
        assert_int_equal(r.code, TF_RUN_EXIT_USAGE);
        assert_non_null(strstr(r.err, "no/such/dir/r.out"));
        assert_non_null(strstr(r.err, g_strerror(ENOENT)));
        rf_result_clear(&r);
        g_free(bad);
    }
    g_free(ok);
}

static int setup(void **state)
{
    rf_setup("tf-report");
    golden_path = rf_write("golden.feature", golden_feature);
    return 0;
}

static int teardown(void **state)
{
    g_free(golden_path);
    rf_teardown();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pretty_golden),
        cmocka_unit_test(test_progress_golden),
        cmocka_unit_test(test_ambiguous_lists_every_match),
        cmocka_unit_test(test_undefined_step_snippet),
        cmocka_unit_test(test_junit_counts_agree_after_interrupt),
        cmocka_unit_test(test_sigkill_leaves_readable_reports),
        cmocka_unit_test(test_write_errors_name_the_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
