/* test_html_formatter.c: the message report of `tf run` renders with the official
 * @cucumber/html-formatter (installed from npm into the build dir on first use). Optional:
 * skipped, with the reason printed, when node/npm are missing or the install fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>
#include <glib.h>
#include <glib/gstdio.h>

static int run(const char *const *argv, const char *const *envp, char **out)
{
    int status = -1;
    GError *err = NULL;
    if (!g_spawn_sync(TF_SOURCE_DIR "/examples/hello", (char **)argv, (char **)envp,
                      G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_SEARCH_PATH, NULL, NULL, out, NULL,
                      &status, &err)) {
        print_message("cannot run %s: %s\n", argv[0], err->message);
        g_clear_error(&err);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_message_report_renders(void **unused)
{
    char *node = g_find_program_in_path("node"), *npm = g_find_program_in_path("npm");
    if (!node || !npm) {
        print_message("SKIPPED: node or npm is not installed\n");
        g_free(node);
        g_free(npm);
        skip();
    }
    const char *prefix = TF_BINARY_DIR "/npm-html-formatter";
    const char *pkg = TF_BINARY_DIR "/npm-html-formatter/node_modules/@cucumber/html-formatter";
    char *index = g_build_filename(pkg, "dist", "src", "index.js", NULL);
    if (!g_file_test(index, G_FILE_TEST_EXISTS)) {
        const char *install[] = {"timeout", "300", npm, "install", "--prefix", prefix, "--no-save",
                                 "--no-package-lock", "--silent", "@cucumber/html-formatter", NULL};
        g_mkdir_with_parents(prefix, 0755);
        if (run(install, NULL, NULL) != 0 || !g_file_test(index, G_FILE_TEST_EXISTS)) {
            print_message("SKIPPED: npm could not install @cucumber/html-formatter\n");
            g_free(index);
            g_free(node);
            g_free(npm);
            skip();
        }
    }
    char *dir = g_dir_make_tmp("tf-html-XXXXXX", NULL);
    char *ndjson = g_build_filename(dir, "report.ndjson", NULL);
    char *fmt = g_strdup_printf("message:%s", ndjson);
    const char *tf[] = {TF_BINARY_DIR "/bin/tf", "run", "--format", fmt, "--plugin",
                        TF_BINARY_DIR "/examples/libhello_steps.so", "hello.feature", NULL};
    char *out = NULL;
    assert_int_equal(run(tf, NULL, &out), 1); /* the example has one failing scenario */
    g_free(out);

    char *env_dir = g_strdup_printf("HTML_FORMATTER_DIR=%s", pkg);
    char **envp = g_environ_setenv(g_get_environ(), "HTML_FORMATTER_DIR", pkg, TRUE);
    const char *render[] = {node, TF_SOURCE_DIR "/scripts/html-report.mjs", ndjson, NULL};
    char *html = NULL;
    assert_int_equal(run(render, (const char *const *)envp, &html), 0);
    assert_non_null(strstr(html, "<html"));
    assert_non_null(strstr(html, "The service adds up"));
    assert_non_null(strstr(html, "waiting for: the service shows 2"));
    print_message("rendered %zu bytes of HTML\n", strlen(html));
    g_free(html);
    g_strfreev(envp);
    g_free(env_dir);
    g_unlink(ndjson);
    g_rmdir(dir);
    g_free(ndjson);
    g_free(fmt);
    g_free(dir);
    g_free(index);
    g_free(node);
    g_free(npm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_report_renders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
