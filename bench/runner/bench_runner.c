/* bench_runner.c: N scenarios (10,000) of 5 trivial steps, run the way users run them:
 * `tf run --plugin` (the steps in bench/runner/plugin) and cucumber-js with the same
 * steps in JavaScript (pinned in bench/runner/package-lock.json), each a separate process
 * started with exec. Each side runs 5 times, interleaved so a change of load hits both;
 * prints the median wall time and peak RSS and their ratio. Under three loads:
 *   quiet  the machine as it is (its load average is printed with every figure);
 *   busy   two CPU-bound loops (child processes) on the cores for the whole measurement;
 *   pair   two bench processes at once (this one forks a twin): before each run both
 *          meet, then run the same side, so tf competes with tf and cucumber-js with
 *          cucumber-js, as parallel workers or parallel CI jobs do. Both report.
 * The answer check: every run of both sides, in every load (the twin's too), exits 0 and
 * reports N scenarios, all passed, and 5N steps, all passed.
 * With --parallel W both sides run with --parallel W (tf's worker processes, cucumber-js's
 * workers): the same work split the same way.
 * Usage: bench_runner [--small] [--load quiet|busy|pair|all] [--parallel W] [N_SCENARIOS]
 * (default all; small: 200 scenarios, 3 runs a side, and "all" leaves out busy: its loops
 * would slow the tests ctest runs beside it). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "bench_npm.h"
#include "bench_util.h"

#define STEPS_PER_SCENARIO 5
#define MAX_RUNS 16

/* One way to run the scenarios: a command, its environment and working directory. */
typedef struct {
    const char *name;
    char **argv;
    char **envp;
    const char *cwd;
    /* per run */
    double wall_s[MAX_RUNS];
    double rss_kib[MAX_RUNS];
    guint runs, right;    /* runs made, runs whose report was the expected one */
    char *last_wrong;     /* what the last wrong run reported */
} side;

/* Runs s once (fork + exec; stdout captured, stderr passed through): wall time, the
 * child's peak RSS (wait4), exit status and stdout. */
static char *run_once(side *s, double *wall_s, long *rss_kib, int *status)
{
    int out[2];
    if (pipe(out))
        bench_die("pipe: %s", g_strerror(errno));
    fflush(NULL);
    gint64 t0 = g_get_monotonic_time();
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %s", g_strerror(errno));
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        if (s->cwd && chdir(s->cwd) != 0)
            _exit(126);
        execve(s->argv[0], s->argv, s->envp);
        _exit(127);
    }
    close(out[1]);
    GString *text = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            g_string_append_len(text, buf, n);
    close(out[0]);
    int st = 0;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    *wall_s = (g_get_monotonic_time() - t0) / 1e6;
    *rss_kib = ru.ru_maxrss;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return g_string_free(text, FALSE);
}

/* From a summary report ("N scenarios (N passed)" / "M steps (M passed)", the format
 * both tools print), the totals and passed counts of `noun`; FALSE when absent. */
static gboolean parse_counts(const char *report, const char *noun, guint *total, guint *passed)
{
    char *pattern = g_strdup_printf("^(\\d+) %ss? \\(([^)]*)\\)", noun);
    GRegex *re = g_regex_new(pattern, G_REGEX_MULTILINE, 0, NULL);
    GRegex *ansi = g_regex_new("\x1b\\[[0-9;]*m", 0, 0, NULL);
    char *plain = g_regex_replace_literal(ansi, report, -1, 0, "", 0, NULL);
    GMatchInfo *m = NULL;
    gboolean found = g_regex_match(re, plain, 0, &m);
    *total = *passed = 0;
    if (found) {
        char *t = g_match_info_fetch(m, 1), *by = g_match_info_fetch(m, 2);
        *total = (guint)strtoul(t, NULL, 10);
        /* "(10000 passed)" or "(3 failed, 9997 passed)": the passed count, if any */
        char **parts = g_strsplit(by, ",", -1);
        for (char **p = parts; *p; p++) {
            guint v;
            char word[32];
            if (sscanf(*p, " %u %31s", &v, word) == 2 && !strcmp(word, "passed"))
                *passed = v;
        }
        g_strfreev(parts);
        g_free(t);
        g_free(by);
    }
    g_match_info_free(m);
    g_free(plain);
    g_regex_unref(ansi);
    g_regex_unref(re);
    g_free(pattern);
    return found;
}

/* One run of s; records its figures and whether it reported every scenario passed. who
 * prefixes the printed line ("" or "twin "). */
static void measure(side *s, guint n_scenarios, const char *who)
{
    double wall;
    long rss;
    int status;
    char *report = run_once(s, &wall, &rss, &status);
    guint i = s->runs++;
    s->wall_s[i] = wall;
    s->rss_kib[i] = rss;
    guint sc_total, sc_passed, st_total, st_passed;
    gboolean ok = status == 0 && parse_counts(report, "scenario", &sc_total, &sc_passed) &&
                  parse_counts(report, "step", &st_total, &st_passed) &&
                  sc_total == n_scenarios && sc_passed == n_scenarios &&
                  st_total == n_scenarios * STEPS_PER_SCENARIO &&
                  st_passed == n_scenarios * STEPS_PER_SCENARIO;
    if (ok) {
        s->right++;
    } else {
        g_free(s->last_wrong);
        gsize len = strlen(report); /* its end: the totals, after the failures */
        s->last_wrong = g_strdup_printf("exit %d, report%s:\n%s", status,
                                        len > 2000 ? " (its last 2000 bytes)" : "",
                                        report + (len > 2000 ? len - 2000 : 0));
    }
    printf("  %s%-12s run %u: %7.3f s  %8ld KiB peak RSS  exit %d\n", who, s->name, i + 1, wall,
           rss, status);
    g_free(report);
}

static void write_features(const char *feat_dir, guint n)
{
    const guint per_file = 100;
    for (guint f = 0; f * per_file < n; f++) {
        GString *s = g_string_new(NULL);
        g_string_append_printf(s, "Feature: shop %u\n", f);
        for (guint i = f * per_file; i < n && i < (f + 1) * per_file; i++)
            g_string_append_printf(s,
                "\n  Scenario: order %u\n    Given a user named \"u%u\"\n"
                "    And the user has %u items in the cart\n    When the user adds 2 more\n"
                "    And the user checks out\n    Then the order has %u items\n", i, i, i % 7,
                i % 7 + 2);
        char *p = g_strdup_printf("%s/f%03u.feature", feat_dir, f);
        if (!g_file_set_contents(p, s->str, -1, NULL))
            bench_die("cannot write %s", p);
        g_free(p);
        g_string_free(s, TRUE);
    }
}

/* The same five steps for cucumber-js, requiring the pinned install by path. */
static char *write_js_steps(const char *dir, const char *cucumber_module)
{
    char *text = g_strdup_printf(
        "const { Given, When, Then } = require(%s);\n"
        "Given('a user named {string}', function (n) {});\n"
        "Given('the user has {int} items in the cart', function (n) {});\n"
        "When('the user adds {int} more', function (n) {});\n"
        "When('the user checks out', function () {});\n"
        "Then('the order has {int} items', function (n) {});\n",
        cucumber_module);
    char *path = g_build_filename(dir, "steps.cjs", NULL);
    if (!g_file_set_contents(path, text, -1, NULL))
        bench_die("cannot write %s", path);
    g_free(text);
    return path;
}

/* ---- loads ---- */

typedef enum { LOAD_QUIET, LOAD_BUSY, LOAD_PAIR } load_kind;
static const char *const load_names[] = {"quiet", "busy", "pair"};
static const char *const load_what[] = {
    "the machine as it is",
    "two CPU-bound loops on the cores",
    "two bench processes at once, each side against its own kind",
};

/* What one process measured in one load: medians and answer counts per side. Also what
 * the twin sends back through its pipe (plain bytes: same program, same machine). */
typedef struct {
    double wall[2], rss[2];
    guint runs[2], right[2];
} figures;

static double loadavg1(void)
{
    double l[1] = {-1};
    return getloadavg(l, 1) == 1 ? l[0] : -1;
}

/* A child that burns one core until killed (and dies with the bench). */
static pid_t spinner_start(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %s", g_strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        volatile unsigned long spin = 0;
        for (;;)
            spin++;
    }
    return pid;
}

static void child_stop(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            bench_die("pipe to the twin: %s", g_strerror(errno));
        c += w;
        n -= (size_t)w;
    }
}

static gboolean read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return FALSE;
        c += r;
        n -= (size_t)r;
    }
    return TRUE;
}

/* Pair mode: both processes wait here until the other arrives, so each run starts with
 * the twin's run of the same side. */
static void meet(int out_fd, int in_fd)
{
    char c = 'x';
    write_all(out_fd, &c, 1);
    if (!read_all(in_fd, &c, 1))
        bench_die("the twin went away");
}

static void sides_reset(side *sides, guint n)
{
    for (guint i = 0; i < n; i++) {
        sides[i].runs = sides[i].right = 0;
        g_clear_pointer(&sides[i].last_wrong, g_free);
    }
}

/* Runs every side `runs` times, interleaved, and fills f (medians, counts). */
static void measure_all(side *sides, guint runs, guint n, const char *who, int out_fd, int in_fd,
                        figures *f)
{
    for (guint r = 0; r < runs; r++)
        for (guint i = 0; i < 2; i++) {
            if (out_fd >= 0)
                meet(out_fd, in_fd);
            measure(&sides[i], n, who);
        }
    for (guint i = 0; i < 2; i++) {
        double w[MAX_RUNS], m[MAX_RUNS];
        memcpy(w, sides[i].wall_s, sizeof w);
        memcpy(m, sides[i].rss_kib, sizeof m);
        f->wall[i] = bench_median(w, sides[i].runs);
        f->rss[i] = bench_median(m, sides[i].runs);
        f->runs[i] = sides[i].runs;
        f->right[i] = sides[i].right;
        printf("%s%-12s median of %u: %7.3f s  %8.0f KiB peak RSS  (runs %.3f..%.3f s)\n", who,
               sides[i].name, sides[i].runs, f->wall[i], f->rss[i], w[0], w[sides[i].runs - 1]);
    }
}

static void print_ratio(const char *who, const figures *f)
{
    printf("%sratio (cucumber-js / tf): wall %.1fx, RSS %.1fx\n", who,
           f->wall[1] / MAX(f->wall[0], 1e-9), f->rss[1] / MAX(f->rss[0], 1));
}

static void check_answers(side *sides, const figures *f, guint n, const char *load, const char *who,
                          const char *last_wrong_tf, const char *last_wrong_js)
{
    const char *last[2] = {last_wrong_tf, last_wrong_js};
    for (guint i = 0; i < 2; i++) {
        char *what = g_strdup_printf("%s: %s%s reports %u scenarios and %u steps, all passed", load,
                                     who, sides[i].name, n, n * STEPS_PER_SCENARIO);
        bench_check(f->runs[i] > 0 && f->right[i] == f->runs[i], what,
                    "%u of %u runs did not; the last: %s", f->runs[i] - f->right[i], f->runs[i],
                    last[i] ? last[i] : "(the twin's: see its lines above)");
        g_free(what);
    }
}

/* One load: prints tf against cucumber-js in it and checks every run's answer. */
static void run_load(load_kind k, side *sides, guint runs, guint n)
{
    printf("\n== load %s: %s (load average %.2f at the start)\n", load_names[k], load_what[k],
           loadavg1());
    sides_reset(sides, 2);
    pid_t spinners[2] = {0, 0}, twin = 0;
    int to_twin[2] = {-1, -1}, from_twin[2] = {-1, -1};
    if (k == LOAD_BUSY)
        for (guint i = 0; i < 2; i++)
            spinners[i] = spinner_start();
    if (k == LOAD_PAIR) {
        if (pipe(to_twin) || pipe(from_twin))
            bench_die("pipe: %s", g_strerror(errno));
        fflush(NULL);
        twin = fork();
        if (twin < 0)
            bench_die("fork: %s", g_strerror(errno));
        if (twin == 0) { /* the twin: the same measurement, its figures sent back */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(to_twin[1]);
            close(from_twin[0]);
            figures f = {{0}};
            measure_all(sides, runs, n, "twin ", from_twin[1], to_twin[0], &f);
            write_all(from_twin[1], &f, sizeof f);
            for (guint i = 0; i < 2; i++)
                if (sides[i].last_wrong)
                    printf("twin %s, the last wrong run: %s\n", sides[i].name,
                           sides[i].last_wrong);
            fflush(NULL);
            _exit(0);
        }
        close(to_twin[0]);
        close(from_twin[1]);
    }
    figures f = {{0}};
    measure_all(sides, runs, n, "", to_twin[1], from_twin[0], &f);
    double load_end = loadavg1();
    print_ratio("", &f);
    check_answers(sides, &f, n, load_names[k], "", sides[0].last_wrong, sides[1].last_wrong);
    if (k == LOAD_BUSY)
        for (guint i = 0; i < 2; i++)
            child_stop(spinners[i]);
    if (k == LOAD_PAIR) {
        figures tf = {{0}};
        gboolean got = read_all(from_twin[0], &tf, sizeof tf);
        int st = 0;
        while (waitpid(twin, &st, 0) < 0 && errno == EINTR)
            ;
        close(to_twin[1]);
        close(from_twin[0]);
        bench_check(got && WIFEXITED(st) && WEXITSTATUS(st) == 0, "pair: the twin finished",
                    "%s", got ? "it exited abnormally" : "it sent no figures");
        if (got) {
            print_ratio("twin ", &tf);
            check_answers(sides, &tf, n, load_names[k], "twin ", NULL, NULL);
        }
    }
    printf("== load %s: tf %.3f s, cucumber-js %.3f s: %.1fx (load average %.2f at the end)\n",
           load_names[k], f.wall[0], f.wall[1], f.wall[1] / MAX(f.wall[0], 1e-9), load_end);
}

int main(int argc, char **argv)
{
    bench_init("bench_runner", &argc, argv);
    const char *load = NULL;
    int a = 1;
    if (a + 1 < argc && !strcmp(argv[a], "--load")) {
        load = argv[a + 1];
        a += 2;
    } else if (a < argc && g_str_has_prefix(argv[a], "--load=")) {
        load = argv[a] + strlen("--load=");
        a++;
    }
    gboolean want[3] = {FALSE, FALSE, FALSE};
    for (guint k = 0; k < 3; k++)
        want[k] = load ? !strcmp(load, "all") || !strcmp(load, load_names[k])
                       : !bench_small() || k != LOAD_BUSY;
    const char *workers = NULL; /* --parallel W: both sides */
    if (a + 1 < argc && !strcmp(argv[a], "--parallel")) {
        workers = argv[a + 1];
        a += 2;
    }
    guint n = a < argc ? (guint)atoi(argv[a]) : bench_small() ? 200 : 10000;
    guint runs = bench_small() ? 3 : 5;
    if (n == 0 || !(want[0] || want[1] || want[2]))
        bench_die("usage: bench_runner [--small] [--load quiet|busy|pair|all] [N_SCENARIOS > 0]");
    char *js_dir = g_build_filename(TF_SOURCE_DIR, "bench", "runner", NULL);
    char *node = bench_npm_ready(js_dir);
    bench_need(g_file_test(TF_BIN, G_FILE_TEST_IS_EXECUTABLE), "tf", TF_BIN " is not built");

    char *dir = g_dir_make_tmp("tf-bench-runner-XXXXXX", NULL);
    char *feat_dir = g_build_filename(dir, "features", NULL);
    g_mkdir(feat_dir, 0700);
    write_features(feat_dir, n);
    char *module = g_build_filename(js_dir, "node_modules", "@cucumber", "cucumber", NULL);
    json_t *mod_json = json_string(module);
    char *quoted = json_dumps(mod_json, JSON_ENCODE_ANY); /* a valid JavaScript literal */
    json_decref(mod_json);
    char *js_steps = write_js_steps(dir, quoted);
    char *js_bin = g_build_filename(module, "bin", "cucumber.js", NULL);

    char **env = g_get_environ();
    env = g_environ_setenv(env, "CUCUMBER_PUBLISH_QUIET", "true", TRUE);
    env = g_environ_unsetenv(env, "TF_STORE"); /* the same work: no store on either side */
    char *tf_argv[] = {TF_BIN, "run", "--format", "summary", "--no-color", "--plugin",
                       BENCH_PLUGIN, feat_dir, NULL, NULL, NULL};
    char *js_argv[] = {node, js_bin, "--require", js_steps, "--format", "summary", feat_dir, NULL,
                       NULL, NULL};
    if (workers) {
        tf_argv[8] = js_argv[7] = "--parallel";
        tf_argv[9] = js_argv[8] = (char *)workers;
    }
    side sides[] = {
        {.name = "tf run", .argv = tf_argv, .envp = env, .cwd = dir},
        {.name = "cucumber-js", .argv = js_argv, .envp = env, .cwd = dir},
    };
    printf("runner bench: %u scenarios x %d steps in %s, %u runs of each side, interleaved, "
           "%u cores%s%s\n", n, STEPS_PER_SCENARIO, feat_dir, runs, g_get_num_processors(),
           workers ? ", --parallel " : "", workers ? workers : "");
    for (guint k = 0; k < 3; k++)
        if (want[k])
            run_load((load_kind)k, sides, runs, n);
    sides_reset(sides, 2);

    g_strfreev(env);
    g_free(js_bin);
    g_free(js_steps);
    free(quoted);
    g_free(module);
    bench_rm_rf(dir);
    g_free(feat_dir);
    g_free(dir);
    g_free(node);
    g_free(js_dir);
    return bench_finish();
}
