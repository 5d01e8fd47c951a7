/* bench_lin.c: the linearizability checker on the real histories of ../shared/linearizability
 * (69 Jepsen etcd logs, 4 kv histories), read and checked in this process and, as a user
 * runs it, by `tf history check` as a separate process. The baseline is Porcupine (Go),
 * which cannot run here: its figures on this machine for the same files are quoted from
 * issue 19 and printed beside ours, never measured. The answer check: every verdict must
 * be the one Porcupine's test suite asserts (verdicts.tsv); a mismatch exits 1.
 * Usage: bench_lin [--small]  (or TF_BENCH_SMALL=1: one repetition, no whole-history kv).
 * Exits 1 on a wrong verdict, 77 without the data (1 under CI=true). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <tf/tf.h>
#include "bench_util.h"
#include "lin_shared.h"
#include "raftkv/lin_models.h"
#include "skip.h"

/* Porcupine on this 2-core machine, the same files (issue 19): not measured here. */
#define PORCUPINE_JEPSEN_S_LO 0.43 /* the 69 histories, its test binary incl. start */
#define PORCUPINE_JEPSEN_S_HI 0.52
#define PORCUPINE_KV_S 0.01        /* each kv history, keys partitioned */
#define PORCUPINE_KV_WHOLE_S "60-90" /* c10 without partitioning */

typedef struct {
    const lin_case *c;
    double best_s;       /* fastest repetition: read + check */
    tf_lin_result *last; /* of the last repetition */
} timing;

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* CPU seconds (user + system) of the waited-for children of this process. */
static double children_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Reads and checks one history; returns seconds taken, the result in *out. A verdict
 * other than verdicts.tsv's is counted in *wrong and printed. */
static double check_one(const lin_case *c, const tf_lin_model *m, gboolean whole,
                        tf_lin_result **out, guint *wrong)
{
    double t0 = now_s();
    GError *err = NULL;
    tf_ophistory *h = tf_ophistory_load(c->path, &err);
    tf_lin_options o = {.whole = whole, .source = c->path};
    tf_lin_result *r = h ? tf_lin_check(h, m, &o, &err) : NULL;
    double dt = now_s() - t0;
    if (!r)
        bench_die("%s", err->message);
    tf_lin_verdict want = c->linearizable ? TF_LIN_OK : TF_LIN_VIOLATION;
    if (r->verdict != want) {
        printf("  %s%s: expected %s, got %s: %s\n", c->file, whole ? " (whole)" : "",
               tf_lin_verdict_name(want), tf_lin_verdict_name(r->verdict), r->summary);
        (*wrong)++;
    }
    tf_ophistory_free(h);
    *out = r;
    return dt;
}

/* Checks every case of a folder `reps` times; returns the per-history timings (best of
 * the repetitions) and sets *best_total to the fastest whole pass. */
static GArray *run_folder(GPtrArray *cases, const tf_lin_model *m, gboolean whole, int reps,
                          double *best_total, double *best_cpu, guint *wrong)
{
    GArray *t = g_array_new(FALSE, TRUE, sizeof(timing));
    g_array_set_size(t, cases->len);
    *best_total = *best_cpu = G_MAXDOUBLE;
    *wrong = 0;
    for (int rep = 0; rep < reps; rep++) {
        double total = 0, cpu0 = bench_cpu_seconds();
        for (guint i = 0; i < cases->len; i++) {
            timing *ti = &g_array_index(t, timing, i);
            tf_lin_result *r = NULL;
            double dt = check_one(cases->pdata[i], m, whole, &r, wrong);
            total += dt;
            ti->c = cases->pdata[i];
            ti->best_s = rep == 0 ? dt : MIN(ti->best_s, dt);
            tf_lin_result_free(ti->last);
            ti->last = r;
        }
        *best_total = MIN(*best_total, total);
        *best_cpu = MIN(*best_cpu, bench_cpu_seconds() - cpu0);
    }
    return t;
}

static void timings_free(GArray *t)
{
    for (guint i = 0; i < t->len; i++)
        tf_lin_result_free(g_array_index(t, timing, i).last);
    g_array_unref(t);
}

static int slowest_first(const void *a, const void *b)
{
    double x = ((const timing *)a)->best_s, y = ((const timing *)b)->best_s;
    return x > y ? -1 : x < y;
}

static void print_row(const timing *t)
{
    const tf_lin_result *r = t->last;
    printf("  %-16s %8.2f ms  %4u ops %3u parts %9" G_GUINT64_FORMAT " steps %8.1f KiB  %s\n",
           t->c->file, t->best_s * 1e3, r->ops, r->parts, r->steps, r->peak_bytes / 1024.0,
           tf_lin_verdict_name(r->verdict));
}

/* `tf history check --model register FILES...` as a process: wall seconds (its CPU
 * seconds in *cpu); *right counts its verdict lines that match, *status is its exit code
 * (it must be 1: some histories are not linearizable). */
static double run_cli(const char *tf, GPtrArray *cases, double *cpu, guint *right, int *status_out)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)tf);
    g_ptr_array_add(argv, "history");
    g_ptr_array_add(argv, "check");
    g_ptr_array_add(argv, "--model");
    g_ptr_array_add(argv, "register");
    for (guint i = 0; i < cases->len; i++)
        g_ptr_array_add(argv, ((lin_case *)cases->pdata[i])->path);
    g_ptr_array_add(argv, NULL);
    char *out = NULL;
    int status = 0;
    GError *err = NULL;
    double t0 = now_s(), c0 = children_cpu_s();
    gboolean ran = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                NULL, &out, NULL, &status, &err);
    double dt = now_s() - t0;
    *cpu = children_cpu_s() - c0;
    if (!ran)
        bench_die("%s: %s", tf, err->message);
    char **lines = g_strsplit(out, "\n", -1);
    *right = 0;
    for (guint i = 0; i < cases->len && lines[i]; i++) {
        const lin_case *c = cases->pdata[i];
        char *want = g_strconcat(c->path, c->linearizable ? ": linearizable" : ": NOT linearizable", NULL);
        *right += g_str_has_prefix(lines[i], want);
        g_free(want);
    }
    *status_out = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    g_strfreev(lines);
    g_free(out);
    g_ptr_array_unref(argv);
    return dt;
}

int main(int argc, char **argv)
{
    bench_init("bench_lin", &argc, argv);
    if (argc > 1)
        bench_die("usage: bench_lin [--small]");
    gboolean small = bench_small();
    char *root = lin_shared_root();
    if (!g_file_test(root, G_FILE_TEST_IS_DIR)) /* not installed by install-deps: optional */
        tf_test_skip_all(TF_NEED_OPTIONAL, "bench_lin: %s: the linearizability histories go "
                         "in ../shared/linearizability beside the project (or set "
                         "TF_SHARED_DIR)", root);
    GError *err = NULL;
    GPtrArray *jepsen = lin_cases_load(root, "jepsen-etcd", &err);
    GPtrArray *kv = jepsen ? lin_cases_load(root, "kv", &err) : NULL;
    if (!kv)
        bench_die("%s", err->message);
    int reps = small ? 1 : 7;
    printf("bench_lin: %u jepsen-etcd + %u kv histories from %s, best of %d repetition%s\n",
           jepsen->len, kv->len, root, reps, reps == 1 ? "" : "s");

    /* 1. the 69 Jepsen histories, in this process: read + check */
    double total = 0, total_cpu = 0;
    guint wrong = 0;
    GArray *jt = run_folder(jepsen, &raftkv_register_model, FALSE, reps, &total, &total_cpu, &wrong);
    guint yes = 0;
    for (guint i = 0; i < jt->len; i++)
        yes += g_array_index(jt, timing, i).last->verdict == TF_LIN_OK;
    printf("\njepsen-etcd: %u histories (%u linearizable, %u not), read + check in-process: "
           "%.1f ms wall, %.1f ms CPU\n", jt->len, yes, jt->len - yes, total * 1e3, total_cpu * 1e3);
    g_array_sort(jt, slowest_first);
    printf("  the slowest (best-of wall time, search steps, peak memory of the search tables):\n");
    for (guint i = 0; i < MIN(jt->len, 5u); i++)
        print_row(&g_array_index(jt, timing, i));
    bench_check(wrong == 0, "jepsen-etcd verdicts in-process", "%u of %u differ from verdicts.tsv",
                wrong, jepsen->len);

    /* 2. the same as a user runs it: one `tf history check` process for all 69 */
    double cli = G_MAXDOUBLE, cli_cpu = G_MAXDOUBLE;
    guint right = 0, runs_right = 0, runs = small ? 1 : 9;
    int status = 0;
    for (guint rep = 0; rep < runs; rep++) {
        double c = 0;
        cli = MIN(cli, run_cli(TF_BIN, jepsen, &c, &right, &status));
        cli_cpu = MIN(cli_cpu, c);
        runs_right += right == jepsen->len && status == 1;
    }
    printf("  tf history check --model register <69 files> (a process, start included): "
           "%.1f ms wall, %.1f ms CPU (best of %d)\n"
           "  Porcupine (quoted from issue 19, same files, same machine, start included): "
           "%.0f-%.0f ms -> tf's wall time is %.2f-%.2fx of it (aim: <= 0.33x)\n",
           cli * 1e3, cli_cpu * 1e3, runs, PORCUPINE_JEPSEN_S_LO * 1e3,
           PORCUPINE_JEPSEN_S_HI * 1e3, cli / PORCUPINE_JEPSEN_S_LO, cli / PORCUPINE_JEPSEN_S_HI);
    bench_check(runs_right == runs, "tf history check verdicts", "%u of %u runs right; the "
                "last: %u of %u verdict lines right, exit status %d (expected 1)", runs_right,
                runs, right, jepsen->len, status);

    /* 3. the kv histories, by key, and (full mode) as one part */
    double kv_total = 0, kv_cpu = 0;
    GArray *kt = run_folder(kv, &raftkv_kv_model, FALSE, reps, &kv_total, &kv_cpu, &wrong);
    printf("\nkv, keys checked apart (Porcupine: ~%.0f ms each, quoted):\n", PORCUPINE_KV_S * 1e3);
    for (guint i = 0; i < kt->len; i++)
        print_row(&g_array_index(kt, timing, i));
    bench_check(wrong == 0, "kv verdicts by key", "%u of %u differ from verdicts.tsv", wrong, kv->len);
    if (!small) {
        double whole_total = 0, whole_cpu = 0;
        GArray *wt = run_folder(kv, &raftkv_kv_model, TRUE, 1, &whole_total, &whole_cpu, &wrong);
        printf("kv, the whole history as one part (Porcupine: %s s for c10, quoted):\n",
               PORCUPINE_KV_WHOLE_S);
        for (guint i = 0; i < wt->len; i++)
            print_row(&g_array_index(wt, timing, i));
        bench_check(wrong == 0, "kv verdicts whole", "%u of %u differ from verdicts.tsv", wrong,
                    kv->len);
        timings_free(wt);
    }
    printf("\nmax resident memory of this process: %ld KiB\n", max_rss_kib());
    timings_free(jt);
    timings_free(kt);
    g_ptr_array_unref(jepsen);
    g_ptr_array_unref(kv);
    g_free(root);
    return bench_finish();
}
