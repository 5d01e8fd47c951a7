/* bench_parallel.c: wall time of the bundled scenarios (real etcd and litecoind clusters,
 * `make run`'s work) with `tf run --parallel W` for W = 1, 2, 4, 8. The baseline is what a
 * user runs today: the serial run (W = 1), measured in the same session, interleaved
 * round by round so a change of load hits every W alike. The answer check: every run
 * ends every scenario as the serial run does (the same status per scenario, read from
 * its Cucumber Messages report) with the same exit code.
 * Usage: bench_parallel [--small] [ROUNDS]  (small: leader_failover.feature, W = 1 and 2,
 * one round; full: scenarios/, 1 round by default). The machine's load is printed: other
 * jobs on a 2-core machine change every figure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "bench_util.h"
#include "report_outcomes.h"

#define MAX_ROUNDS 8

static gint cmp_line(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "uri: name passed|not passed" of every scenario's final attempt, as one sorted text. */
static char *outcomes(const char *path)
{
    GHashTable *ends = report_outcomes(path, NULL);
    if (!ends)
        return g_strdup("(no report)");
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer name, status;
    g_hash_table_iter_init(&it, ends);
    while (g_hash_table_iter_next(&it, &name, &status))
        g_ptr_array_add(lines, g_strdup_printf("%s %s", (char *)name,
                                               strcmp(status, "PASSED") ? "not passed" : "passed"));
    g_ptr_array_sort(lines, cmp_line);
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < lines->len; i++)
        g_string_append_printf(out, "%s\n", (char *)lines->pdata[i]);
    g_ptr_array_unref(lines);
    g_hash_table_unref(ends);
    return g_string_free(out, FALSE);
}

typedef struct {
    guint workers;
    double wall_s[MAX_ROUNDS];
    guint runs;
    int code;
    char *ends; /* outcomes() of the last run */
} level;

static void run_level(level *lv, const char *dir, const char *const *features, guint nf)
{
    char *report = g_strdup_printf("%s/w%u.ndjson", dir, lv->workers);
    char *fmt = g_strdup_printf("message:%s", report);
    char *w = g_strdup_printf("%u", lv->workers);
    GPtrArray *argv = g_ptr_array_new();
    const char *fixed[] = {TF_BIN, "run", "--parallel", w, "--format", "summary", "--no-color",
                           "--format", fmt};
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(argv, (gpointer)fixed[i]);
    for (guint i = 0; i < nf; i++)
        g_ptr_array_add(argv, (gpointer)features[i]);
    g_ptr_array_add(argv, NULL);
    gint64 t0 = g_get_monotonic_time();
    int status = -1;
    GError *e = NULL;
    if (!g_spawn_sync(TF_SOURCE_DIR, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                      G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &e))
        bench_die("%s", e->message);
    double wall = (g_get_monotonic_time() - t0) / 1e6;
    lv->wall_s[lv->runs++] = wall;
    lv->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    g_free(lv->ends);
    lv->ends = outcomes(report);
    double load[3] = {0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    printf("  --parallel %u: %7.2f s  exit %d  (load average %.1f)\n", lv->workers, wall,
           lv->code, load[0]);
    g_unlink(report);
    g_ptr_array_unref(argv);
    g_free(w);
    g_free(fmt);
    g_free(report);
}

int main(int argc, char **argv)
{
    bench_init("bench_parallel", &argc, argv);
    guint rounds = argc > 1 ? (guint)atoi(argv[1]) : 1;
    if (rounds == 0 || rounds > MAX_ROUNDS)
        bench_die("usage: bench_parallel [--small] [ROUNDS 1..%d]", MAX_ROUNDS);
    bench_need(g_file_test(TF_BIN, G_FILE_TEST_IS_EXECUTABLE), "tf", TF_BIN " is not built");
    bench_need_cluster_binary(TF_SOURCE_DIR "/scenarios/clusters/etcd-3.json");
    const char *all[] = {"scenarios"};
    const char *small[] = {"scenarios/raftkv/leader_failover.feature"};
    if (!bench_small())
        bench_need_cluster_binary(TF_SOURCE_DIR "/scenarios/clusters/litecoin-3.json");
    const char *const *features = bench_small() ? small : all;
    level levels[] = {{.workers = 1}, {.workers = 2}, {.workers = 4}, {.workers = 8}};
    guint n_levels = bench_small() ? 2 : G_N_ELEMENTS(levels);
    char *dir = g_dir_make_tmp("tf-bench-parallel-XXXXXX", NULL);
    g_setenv("TF_CLUSTERS", TF_SOURCE_DIR "/scenarios/clusters", TRUE);
    g_unsetenv("TF_STORE");
    printf("parallel bench: %s with --parallel 1..%u, %u round(s), interleaved (%ld cores)\n",
           features[0], levels[n_levels - 1].workers, rounds, sysconf(_SC_NPROCESSORS_ONLN));
    for (guint r = 0; r < rounds; r++)
        for (guint i = 0; i < n_levels; i++)
            run_level(&levels[i], dir, features, 1);
    double serial = bench_median(levels[0].wall_s, levels[0].runs);
    for (guint i = 0; i < n_levels; i++) {
        double m = bench_median(levels[i].wall_s, levels[i].runs);
        printf("--parallel %u: median %7.2f s, %.2fx the serial time\n", levels[i].workers, m,
               m / MAX(serial, 1e-9));
    }
    for (guint i = 1; i < n_levels; i++) {
        char *what = g_strdup_printf("--parallel %u ends every scenario as the serial run",
                                     levels[i].workers);
        bench_check(levels[i].code == levels[0].code && !g_strcmp0(levels[i].ends, levels[0].ends),
                    what, "exit %d vs %d;\nserial:\n%s\nparallel:\n%s", levels[i].code,
                    levels[0].code, levels[0].ends, levels[i].ends);
        g_free(what);
    }
    bench_check(levels[0].code == 0, "the serial run passes", "exit %d:\n%s", levels[0].code,
                levels[0].ends);
    for (guint i = 0; i < G_N_ELEMENTS(levels); i++)
        g_free(levels[i].ends);
    bench_rm_rf(dir);
    g_free(dir);
    return bench_finish();
}
