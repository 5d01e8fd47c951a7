/* bench_runner.c: 10,000 scenarios of 5 trivial steps through the step runner (the same
 * tf_run_main `tf run` calls, in a forked child so its RSS is its own) and, when npm is
 * present, through cucumber-js with equivalent JavaScript steps; prints wall time, peak
 * RSS and the ratio. Usage: bench_runner [N_SCENARIOS]. Never passes or fails on time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "tf/runner.h"

static tf_status trivial(tf_step *s, GError **e) { return TF_STATUS_PASSED; }

static gboolean module(tf_registry *reg, GError **error)
{
    TF_GIVEN("a user named {string}", trivial);
    TF_GIVEN("the user has {int} items in the cart", trivial);
    TF_WHEN("the user adds {int} more", trivial);
    TF_WHEN("the user checks out", trivial);
    TF_THEN("the order has {int} items", trivial);
    return TRUE;
}

static const char js_steps[] =
    "const { Given, When, Then } = require(process.env.CUCUMBER_MODULE);\n"
    "Given('a user named {string}', function (n) {});\n"
    "Given('the user has {int} items in the cart', function (n) {});\n"
    "When('the user adds {int} more', function (n) {});\n"
    "When('the user checks out', function () {});\n"
    "Then('the order has {int} items', function (n) {});\n";

typedef struct {
    double wall_s;
    long rss_kb;
    int status;
} measure;

/* Runs fn(data) or argv in a child; wall time and the child's peak RSS. */
static measure run_child(char **argv, int n_scen, const char *dir, const char *env)
{
    measure m = {0};
    gint64 t0 = g_get_monotonic_time();
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        if (argv) {
            if (env)
                putenv((char *)env);
            execvp(argv[0], argv);
            _exit(127);
        }
        char *args[] = {"tf-run", "--format=summary", (char *)dir, NULL};
        tf_plugin_init_fn mods[] = {module};
        _exit(tf_run_main(3, args, mods, 1));
    }
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    m.wall_s = (g_get_monotonic_time() - t0) / 1e6;
    m.rss_kb = ru.ru_maxrss;
    m.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return m;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    char *dir = g_dir_make_tmp("tf-bench-runner-XXXXXX", NULL);
    char *feat_dir = g_build_filename(dir, "features", NULL);
    g_mkdir(feat_dir, 0700);
    int per_file = 100;
    for (int f = 0; f * per_file < n; f++) {
        GString *s = g_string_new(NULL);
        g_string_append_printf(s, "Feature: shop %d\n", f);
        for (int i = f * per_file; i < n && i < (f + 1) * per_file; i++)
            g_string_append_printf(s,
                "\n  Scenario: order %d\n    Given a user named \"u%d\"\n"
                "    And the user has %d items in the cart\n    When the user adds 2 more\n"
                "    And the user checks out\n    Then the order has %d items\n", i, i, i % 7,
                i % 7 + 2);
        char *p = g_strdup_printf("%s/f%03d.feature", feat_dir, f);
        g_file_set_contents(p, s->str, -1, NULL);
        g_free(p);
        g_string_free(s, TRUE);
    }
    printf("runner bench: %d scenarios x 5 steps in %s\n", n, feat_dir);
    measure tf = run_child(NULL, n, feat_dir, NULL);
    printf("tf run:       %8.3f s  %7ld KiB peak RSS  (exit %d)\n", tf.wall_s, tf.rss_kb, tf.status);

    char *npm = g_find_program_in_path("npm");
    char *node = g_find_program_in_path("node");
    if (!npm || !node) {
        printf("cucumber-js:  skipped (npm/node not found)\n");
    } else {
        char *here = g_build_filename(TF_SOURCE_DIR, "bench", "runner", NULL);
        char *bin = g_build_filename(here, "node_modules", ".bin", "cucumber-js", NULL);
        if (!g_file_test(bin, G_FILE_TEST_EXISTS)) {
            char *args[] = {npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix",
                            here, "@cucumber/cucumber", NULL};
            measure inst = run_child(args, 0, NULL, NULL);
            printf("npm install @cucumber/cucumber: exit %d (%.1f s)\n", inst.status, inst.wall_s);
        }
        if (!g_file_test(bin, G_FILE_TEST_EXISTS)) {
            printf("cucumber-js:  skipped (install failed)\n");
        } else {
            char *steps = g_build_filename(dir, "steps.cjs", NULL);
            g_file_set_contents(steps, js_steps, -1, NULL);
            char *mod = g_build_filename(here, "node_modules", "@cucumber", "cucumber", NULL);
            char *env = g_strdup_printf("CUCUMBER_MODULE=%s", mod);
            char *args[] = {node, bin, "--require", steps, "--format", "summary", feat_dir, NULL};
            measure js = run_child(args, n, NULL, env);
            printf("cucumber-js:  %8.3f s  %7ld KiB peak RSS  (exit %d)\n", js.wall_s, js.rss_kb,
                   js.status);
            if (tf.wall_s > 0 && tf.rss_kb > 0)
                printf("ratio (cucumber-js / tf): wall %.1fx, RSS %.1fx\n", js.wall_s / tf.wall_s,
                       (double)js.rss_kb / tf.rss_kb);
            g_free(env);
            g_free(mod);
            g_free(steps);
        }
        g_free(bin);
        g_free(here);
    }
    g_free(npm);
    g_free(node);
    /* remove the generated files */
    GDir *d = g_dir_open(feat_dir, 0, NULL);
    const char *nm;
    while (d && (nm = g_dir_read_name(d))) {
        char *p = g_build_filename(feat_dir, nm, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(feat_dir);
    char *steps = g_build_filename(dir, "steps.cjs", NULL);
    g_unlink(steps);
    g_free(steps);
    g_rmdir(dir);
    g_free(feat_dir);
    g_free(dir);
    return 0;
}
