/* test_extension.c: a user's steps reach tf both ways the README documents: as a
 * plug-in loaded by `tf run --plugin`, and linked into the user's own runner binary that
 * calls tf_run_main. Both run examples/hello and must report the same results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>
#include <glib.h>

static int run(const char *const *argv, char **out)
{
    int status = -1;
    GError *err = NULL;
    if (!g_spawn_sync(TF_SOURCE_DIR "/examples/hello", (char **)argv, NULL,
                      G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, out, NULL, &status, &err))
        fail_msg("cannot run %s: %s", argv[0], err->message);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void check_report(const char *out)
{
    assert_non_null(strstr(out, "2 scenarios (1 failed, 1 passed)"));
    assert_non_null(strstr(out, "timed out after"));
    assert_non_null(strstr(out, "waiting for: the service shows 2"));
    assert_non_null(strstr(out, "last snapshot (hello, cycle "));
}

static void test_plugin(void **unused)
{
    const char *argv[] = {TF_BINARY_DIR "/bin/tf", "run", "--no-color", "--format", "summary",
                          "--plugin", TF_BINARY_DIR "/examples/libhello_steps.so", "hello.feature", NULL};
    char *out = NULL;
    assert_int_equal(run(argv, &out), 1);
    check_report(out);
    g_free(out);
}

static void test_own_runner(void **unused)
{
    const char *argv[] = {TF_BINARY_DIR "/examples/hello_runner", "--no-color", "--format", "summary",
                          "hello.feature", NULL};
    char *out = NULL;
    assert_int_equal(run(argv, &out), 1);
    check_report(out);
    g_free(out);
    /* Only the passing scenario: exit 0. */
    const char *one[] = {TF_BINARY_DIR "/examples/hello_runner", "--format", "summary", "hello.feature:2", NULL};
    assert_int_equal(run(one, &out), 0);
    assert_non_null(strstr(out, "1 scenario (1 passed)"));
    g_free(out);
}

static void test_missing_plugin(void **unused)
{
    const char *argv[] = {TF_BINARY_DIR "/bin/tf", "run", "--plugin", "/nonexistent/x.so", "hello.feature", NULL};
    char *out = NULL;
    assert_int_equal(run(argv, &out), 2); /* a usage error, named on stderr */
    g_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plugin),
        cmocka_unit_test(test_own_runner),
        cmocka_unit_test(test_missing_plugin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
