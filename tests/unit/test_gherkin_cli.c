/* test_gherkin_cli.c: `tf gherkin` as a user runs it (the built binary, TF_BIN): --help,
 * usage errors and exit codes, what each --no-* flag leaves out, parse errors on stdout
 * (parseError envelopes) and stderr (FILE:LINE:COL), control bytes of a garbage file
 * escaped (also in `tf run`'s errors) and a failed write. Its memory: test_gherkin_memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <jansson.h>

static char *tmpdir;

static const char *tf_bin(void)
{
    return g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
}

typedef struct {
    int code;
    char *out, *err;
} result;

static void result_clear(result *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* Runs tf with argv[1..] = args (NULL-terminated) in tmpdir; returns its exit code and
 * output. */
static result run_tfv(const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)tf_bin());
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    result r = {0};
    int status = 0;
    GError *e = NULL;
    if (!g_spawn_sync(tmpdir, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err,
                      &status, &e))
        fail_msg("cannot run %s: %s", tf_bin(), e->message);
    assert_true(WIFEXITED(status));
    r.code = WEXITSTATUS(status);
    g_ptr_array_unref(argv);
    return r;
}

#define run_tf(...) run_tfv((const char *const[]){__VA_ARGS__})

static char *write_file(const char *name, const char *text, gssize len)
{
    char *p = g_build_filename(tmpdir, name, NULL);
    assert_true(g_file_set_contents(p, text, len, NULL));
    return p;
}

/* The kinds of envelope on stdout, one letter each: s(ource) d(ocument) p(ickle) e(rror). */
static char *kinds(const char *out)
{
    GString *k = g_string_new(NULL);
    char **lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l && **l; l++) {
        json_error_t je;
        json_t *j = json_loads(*l, 0, &je);
        if (!j)
            fail_msg("stdout line is not JSON: %s", je.text);
        const char *key = json_object_iter_key(json_object_iter(j));
        g_string_append_c(k, !strcmp(key, "parseError") ? 'e' : !strcmp(key, "gherkinDocument") ? 'd' : key[0]);
        json_decref(j);
    }
    g_strfreev(lines);
    return g_string_free(k, FALSE);
}

static const char good[] = "Feature: F\n  Scenario Outline: S <a>\n    Given x <a>\n"
                           "    Examples:\n      | a |\n      | 1 |\n      | 2 |\n";

static void test_help_and_usage_errors(void **state)
{
    result r = run_tf("gherkin", "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_true(g_str_has_prefix(r.out, "usage: tf gherkin"));
    assert_non_null(strstr(r.out, "--no-pickles"));
    assert_non_null(strstr(r.out, "Exit status"));
    result_clear(&r);
    r = run_tf("gherkin", NULL);
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "usage: tf gherkin"));
    result_clear(&r);
    r = run_tf("gherkin", "--bogus", "x.feature", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "unknown option '--bogus'"));
    result_clear(&r);
    r = run_tf("gherkin", "missing.feature", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "missing.feature"));
    result_clear(&r);
}

static void test_flags_select_envelopes(void **state)
{
    char *f = write_file("good.feature", good, -1);
    struct {
        const char *args[5];
        const char *want;
    } cases[] = {
        {{"gherkin", f, NULL}, "sdpp"},
        {{"gherkin", "--no-source", f, NULL}, "dpp"},
        {{"gherkin", "--no-ast", f, NULL}, "spp"},
        {{"gherkin", "--no-pickles", f, NULL}, "sd"},
        {{"gherkin", "--no-source", "--no-ast", f, NULL}, "pp"},
        {{"gherkin", "--no-source", "--no-ast", "--no-pickles", f}, ""},
        {{"gherkin", "--", f, NULL}, "sdpp"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *args[6] = {0};
        memcpy(args, cases[i].args, sizeof cases[i].args);
        result r = run_tfv(args);
        assert_int_equal(r.code, 0);
        char *k = kinds(r.out);
        assert_string_equal(k, cases[i].want);
        assert_string_equal(r.err, "");
        g_free(k);
        result_clear(&r);
    }
    g_free(f);
}

static void test_parse_errors_exit_1_with_file_line_col(void **state)
{
    char *ok = write_file("ok.feature", good, -1);
    char *bad = write_file("bad.feature", "Feature: B\n  Scenario: S\n    Given x\n    oops\n  nope\n", -1);
    result r = run_tf("gherkin", ok, bad, NULL);
    assert_int_equal(r.code, 1);
    char *k = kinds(r.out);
    assert_string_equal(k, "sdppsee"); /* both files, the good one whole */
    g_free(k);
    char *want = g_strdup_printf("%s:4:5: expected: #EOF, #TableRow, #DocStringSeparator, #StepLine, #TagLine, "
                                 "#ExamplesLine, #ScenarioLine, #RuleLine, #Comment, #Empty, got 'oops'\n"
                                 "%s:5:3: expected: #EOF, #TableRow, #DocStringSeparator, #StepLine, #TagLine, "
                                 "#ExamplesLine, #ScenarioLine, #RuleLine, #Comment, #Empty, got 'nope'\n",
                                 bad, bad);
    assert_string_equal(r.err, want);
    assert_non_null(strstr(r.out, "\"message\":\"(4:5): expected: #EOF"));
    g_free(want);
    result_clear(&r);
    /* the same file alone: still 1; a missing one with it: 2 */
    r = run_tf("gherkin", bad, "missing.feature", NULL);
    assert_int_equal(r.code, 2);
    result_clear(&r);
    g_free(ok);
    g_free(bad);
}

/* No byte a terminal acts on may reach stderr from the input. */
static void assert_no_control_bytes(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            fail_msg("raw control byte 0x%02x in: %s", *p, s);
}

static void test_garbage_control_bytes_are_escaped(void **state)
{
    static const char garbage[] = "\x1b[2J\x1b]0;pwned\x07\n\x01\x02\x7f \xc2\x9b" "31m\n";
    char *f = write_file("garbage.feature", garbage, sizeof garbage - 1);
    result r = run_tf("gherkin", "--no-source", f, NULL);
    assert_int_equal(r.code, 1);
    assert_no_control_bytes(r.err);
    assert_non_null(strstr(r.err, "got '\\x1b[2J\\x1b]0;pwned\\x07'"));
    assert_non_null(strstr(r.err, "got '\\x01\\x02\\x7f \\u009b31m'"));
    result_clear(&r);
    /* tf run reports the same parse errors, escaped the same way */
    r = run_tf("run", "--format", "summary:/dev/null", f, NULL);
    assert_int_equal(r.code, 2);
    assert_no_control_bytes(r.err);
    assert_non_null(strstr(r.err, "got '\\x1b[2J\\x1b]0;pwned\\x07'"));
    result_clear(&r);
    g_free(f);
}

/* stdout is a pipe nobody reads (SIGPIPE ignored, as a shell's `trap '' PIPE` does):
 * every write fails with EPIPE, and tf gherkin must say so and exit 2, not 0. */
static void test_write_failure_exits_2(void **state)
{
    char *f = write_file("good.feature", good, -1);
    char *cmd[] = {(char *)tf_bin(), "gherkin", f, NULL};
    int fds[2], errp[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(pipe(errp), 0);
    close(fds[0]);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN); /* kept across exec */
        dup2(fds[1], 1);
        dup2(errp[1], 2);
        execv(cmd[0], cmd);
        _exit(127);
    }
    close(fds[1]);
    close(errp[1]);
    char err[4096] = {0};
    gsize got = 0;
    ssize_t n;
    while (got < sizeof err - 1 && (n = read(errp[0], err + got, sizeof err - 1 - got)) > 0)
        got += n;
    close(errp[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_non_null(strstr(err, "tf gherkin: cannot write to stdout: Broken pipe"));
    g_free(f);
}

static int setup(void **state)
{
    tmpdir = g_dir_make_tmp("tf-gherkin-cli-XXXXXX", NULL);
    if (!g_file_test(tf_bin(), G_FILE_TEST_IS_EXECUTABLE)) {
        fprintf(stderr, "%s is not built (build the tf_cli target first)\n", tf_bin());
        return -1;
    }
    return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(tmpdir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage_errors),
        cmocka_unit_test(test_flags_select_envelopes),
        cmocka_unit_test(test_parse_errors_exit_1_with_file_line_col),
        cmocka_unit_test(test_garbage_control_bytes_are_escaped),
        cmocka_unit_test(test_write_failure_exits_2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
