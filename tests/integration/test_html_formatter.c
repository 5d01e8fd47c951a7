/* test_html_formatter.c: the message report of `tf run` (serial, --parallel 4, and two
 * --shard runs joined by `tf report merge`) renders with the official
 * @cucumber/html-formatter, at the version pinned here (installed from npm into the build
 * dir on first use). node and npm come from scripts/install-deps.sh: without them, or when
 * npm cannot install the package, the test is skipped with the reason (exit 77), and under
 * CI=true it fails (tests/support/skip.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "skip.h"

#define HTML_FORMATTER_VERSION "24.2.0" /* the version this test and README were checked with */

/* Runs argv in examples/hello; its exit code (-1: not started). stdout into *out and
 * stderr into *err when given. */
static int run(const char *const *argv, const char *const *envp, char **out, char **err)
{
    int status = -1;
    GError *e = NULL;
    if (!g_spawn_sync(TF_SOURCE_DIR "/examples/hello", (char **)argv, (char **)envp,
                      (err ? 0 : G_SPAWN_STDERR_TO_DEV_NULL) | G_SPAWN_SEARCH_PATH, NULL, NULL, out,
                      err, &status, &e)) {
        print_message("cannot run %s: %s\n", argv[0], e->message);
        g_clear_error(&e);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The installed package's version, or NULL (newly allocated). */
static char *installed_version(const char *pkg)
{
    char *path = g_build_filename(pkg, "package.json", NULL), *text = NULL, *v = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        json_t *j = json_loads(text, 0, NULL);
        if (json_is_string(json_object_get(j, "version")))
            v = g_strdup(json_string_value(json_object_get(j, "version")));
        json_decref(j);
    }
    g_free(text);
    g_free(path);
    return v;
}

static void test_message_report_renders(void **unused)
{
    char *node = tf_test_need_program("node", "nodejs");
    char *npm = g_find_program_in_path("npm");
    if (!npm) {
        g_free(node);
        tf_test_skip(TF_NEED_REQUIRED, "npm is not on PATH (installed with nodejs by scripts/install-deps.sh)");
    }
    const char *prefix = TF_BINARY_DIR "/npm-html-formatter";
    const char *pkg = TF_BINARY_DIR "/npm-html-formatter/node_modules/@cucumber/html-formatter";
    char *index = g_build_filename(pkg, "dist", "src", "index.js", NULL);
    char *have = installed_version(pkg);
    if (g_strcmp0(have, HTML_FORMATTER_VERSION) || !g_file_test(index, G_FILE_TEST_EXISTS)) {
        const char *install[] = {"timeout", "300", npm, "install", "--prefix", prefix, "--no-save",
                                 "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error",
                                 "@cucumber/html-formatter@" HTML_FORMATTER_VERSION, NULL};
        g_mkdir_with_parents(prefix, 0755);
        char *err = NULL;
        int code = run(install, NULL, NULL, &err);
        g_free(have);
        have = installed_version(pkg);
        if (code != 0 || g_strcmp0(have, HTML_FORMATTER_VERSION)) {
            char why[600];
            g_snprintf(why, sizeof why, "npm could not install @cucumber/html-formatter@%s "
                       "(exit %d): %.400s", HTML_FORMATTER_VERSION, code, err ? g_strstrip(err) : "");
            g_free(err);
            g_free(have);
            g_free(index);
            g_free(node);
            g_free(npm);
            tf_test_skip(TF_NEED_REQUIRED, "%s", why);
        }
        g_free(err);
    }
    print_message("@cucumber/html-formatter %s\n", have);
    g_free(have);
    char *dir = g_dir_make_tmp("tf-html-XXXXXX", NULL);
    char **envp = g_environ_setenv(g_get_environ(), "HTML_FORMATTER_DIR", pkg, TRUE);
    /* A serial run, a --parallel 4 run and the merge of two shards all render alike. */
    const char *variants[][3] = {{"serial", NULL, NULL},
                                 {"parallel", "--parallel=4", NULL},
                                 {"shard0", "--shard=0/2", NULL},
                                 {"shard1", "--shard=1/2", NULL}};
    char *files[G_N_ELEMENTS(variants)];
    for (guint v = 0; v < G_N_ELEMENTS(variants); v++) {
        char *name = g_strdup_printf("%s.ndjson", variants[v][0]);
        files[v] = g_build_filename(dir, name, NULL);
        g_free(name);
        char *fmt = g_strdup_printf("message:%s", files[v]);
        const char *tf[] = {TF_BINARY_DIR "/bin/tf", "run", "--format", fmt, "--plugin",
                            TF_BINARY_DIR "/examples/libhello_steps.so",
                            variants[v][1] ? variants[v][1] : "--retry=0", "hello.feature", NULL};
        char *out = NULL;
        int code = run(tf, NULL, &out, NULL);
        if (v < 2)
            assert_int_equal(code, 1); /* the example has one failing scenario */
        g_free(out);
        g_free(fmt);
    }
    char *merged = g_build_filename(dir, "merged.ndjson", NULL);
    const char *merge[] = {TF_BINARY_DIR "/bin/tf", "report", "merge", "-o", merged, files[2],
                           files[3], NULL};
    assert_int_equal(run(merge, NULL, NULL, NULL), 0);
    const char *reports[] = {files[0], files[1], merged};
    for (guint r = 0; r < G_N_ELEMENTS(reports); r++) {
        const char *render[] = {node, TF_SOURCE_DIR "/scripts/html-report.mjs", reports[r], NULL};
        char *html = NULL;
        assert_int_equal(run(render, (const char *const *)envp, &html, NULL), 0);
        assert_non_null(strstr(html, "<html"));
        assert_non_null(strstr(html, "The service adds up"));
        assert_non_null(strstr(html, "waiting for: the service shows 2"));
        print_message("%s: rendered %zu bytes of HTML\n", reports[r], strlen(html));
        g_free(html);
    }
    g_strfreev(envp);
    for (guint v = 0; v < G_N_ELEMENTS(variants); v++) {
        g_unlink(files[v]);
        g_free(files[v]);
    }
    g_unlink(merged);
    g_free(merged);
    g_rmdir(dir);
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
    return tf_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
