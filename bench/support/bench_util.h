/* bench_util.h: what every benchmark shares: its size (full, or small for ctest), the
 * answer checks that make it exit non-zero when tf and the baseline disagree, the
 * "needs a real peer" rule (exit 77 outside CI, a failure under CI=true), and small
 * measuring helpers (percentiles, medians, process CPU, resident memory). Time is only
 * ever printed: nothing here asserts on it. Typical main:
 *     bench_init("bench_x", argc, argv);          // --small or TF_BENCH_SMALL=1
 *     guint n = bench_small() ? 100 : 10000;
 *     ... measure both sides ...
 *     bench_check(same_set, "tip state", "tf %u outputs, scan %u", a, b);
 *     return bench_finish();                     // 1 if any check failed
 */
#ifndef TF_BENCH_UTIL_H
#define TF_BENCH_UTIL_H

#include <glib.h>

/* Records the bench's name and reads its size: small when argv holds "--small" (which is
 * removed from argv) or TF_BENCH_SMALL is set and not "0". Also makes stdout line-buffered
 * so a killed run keeps what it printed. */
void bench_init(const char *name, int *argc, char **argv);
/* TRUE in small mode: a few seconds under ASan, the same checks as the full run. */
gboolean bench_small(void);
/* The bench's name as given to bench_init (static). */
const char *bench_name(void);

/* An answer check: prints "check <what>: ok" or "check <what>: WRONG: <details>" and
 * remembers a failure. Returns ok. */
gboolean bench_check(gboolean ok, const char *what, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Checks made so far that failed. */
guint bench_failures(void);
/* The exit status of main: prints a closing line with the number of checks and returns 0
 * when every check held, 1 otherwise (also 1 when no check was made at all: a bench that
 * checks nothing proves nothing). */
int bench_finish(void);
/* Stops at once with status 1 after printing "<name>: <message>" (setup failures). */
void bench_die(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

/* TRUE under CI (CI=true or CI=1, as tests/support/skip.h decides). */
gboolean bench_under_ci(void);
/* For what the bench cannot run without (a peer binary, npm): does nothing when present;
 * otherwise prints why and exits 77 (ctest: Skipped), or 1 under CI=true, where what
 * the benches need must be installed. */
void bench_need(gboolean present, const char *what, const char *why);
/* A program on PATH (new string) or, when missing, bench_need fails for it. */
char *bench_need_program(const char *name, const char *what_for);
/* The peer a cluster spec file (scenarios/clusters/NAME.json) starts: bench_need fails when
 * its "binary" is not installed. */
void bench_need_cluster_binary(const char *spec_path);

/* The p-th percentile (0..100) of n samples (sorts them in place); 0 when n == 0. */
double bench_percentile(double *samples, guint n, double p);
/* The median of n samples (sorts them in place). */
double bench_median(double *samples, guint n);
/* Process CPU time (user + system) in seconds, this process only (getrusage SELF). */
double bench_cpu_seconds(void);
/* Current resident set size in KiB (from /proc/self/statm). */
long bench_rss_kib(void);

/* Removes dir and everything below it (a bench's temporary files). NULL is a no-op. */
void bench_rm_rf(const char *dir);

#endif
