/* bench_util.c: see bench_util.h. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <jansson.h>
#include "bench_util.h"
#include "skip.h"

static const char *name_ = "bench";
static gboolean small_;
static guint checks_, failures_;

void bench_init(const char *name, int *argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    name_ = name;
    const char *env = g_getenv("TF_BENCH_SMALL");
    small_ = env && *env && strcmp(env, "0") != 0;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], "--small"))
            small_ = TRUE;
        else
            argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
    if (small_)
        printf("%s: small mode (the answer checks of the full run, at a size for CI)\n", name_);
}

gboolean bench_small(void)
{
    return small_;
}

const char *bench_name(void)
{
    return name_;
}

gboolean bench_check(gboolean ok, const char *what, const char *fmt, ...)
{
    checks_++;
    if (ok) {
        printf("check %s: ok\n", what);
        return TRUE;
    }
    failures_++;
    va_list ap;
    va_start(ap, fmt);
    char *details = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("check %s: WRONG: %s\n", what, details);
    fprintf(stderr, "%s: wrong answer: %s: %s\n", name_, what, details);
    g_free(details);
    return FALSE;
}

guint bench_failures(void)
{
    return failures_;
}

int bench_finish(void)
{
    if (!checks_) {
        printf("%s: FAILED: no answer was checked\n", name_);
        return 1;
    }
    if (failures_) {
        printf("%s: FAILED: %u of %u answer checks wrong\n", name_, failures_, checks_);
        return 1;
    }
    printf("%s: %u answer checks ok\n", name_, checks_);
    return 0;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "%s: %s\n", name_, msg);
    g_free(msg);
    exit(1);
}

gboolean bench_under_ci(void)
{
    return tf_test_under_ci();
}

/* The tests' skip rule (tests/support/skip.h): 77 with the reason, a failure under CI. */
void bench_need(gboolean present, const char *what, const char *why)
{
    if (present)
        return;
    fflush(stdout);
    tf_test_skip_all(TF_NEED_REQUIRED, "%s: %s: %s", name_, what, why);
}

char *bench_need_program(const char *name, const char *what_for)
{
    char *path = g_find_program_in_path(name);
    if (!path) {
        char *why = g_strdup_printf("'%s' is not on PATH", name);
        bench_need(FALSE, what_for, why);
        g_free(why); /* not reached */
    }
    return path;
}

void bench_need_cluster_binary(const char *spec_path)
{
    json_t *spec = json_load_file(spec_path, 0, NULL);
    const char *binary = json_string_value(json_object_get(spec, "binary"));
    if (!binary)
        bench_die("%s: no \"binary\"", spec_path);
    char *path = strchr(binary, '/') ? g_strdup(binary) : g_find_program_in_path(binary);
    gboolean ok = path && g_file_test(path, G_FILE_TEST_IS_EXECUTABLE);
    char *what = g_strdup_printf("%s (the peer of %s)", binary, spec_path);
    g_free(path);
    json_decref(spec);
    bench_need(ok, what, "it is not installed");
    g_free(what);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_percentile(double *samples, guint n, double p)
{
    if (!n)
        return 0;
    qsort(samples, n, sizeof *samples, cmp_double);
    guint i = (guint)(p / 100.0 * (n - 1) + 0.5);
    return samples[MIN(i, n - 1)];
}

double bench_median(double *samples, guint n)
{
    if (!n)
        return 0;
    qsort(samples, n, sizeof *samples, cmp_double);
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

double bench_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long bench_rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path); /* best effort: keep going */
    return 0;
}

void bench_rm_rf(const char *dir)
{
    if (dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
