/* bench_util.h: small measuring helpers shared by the benchmarks: percentiles, process
 * CPU time and resident memory. Benchmarks print figures; nothing here asserts. */
#ifndef TF_BENCH_UTIL_H
#define TF_BENCH_UTIL_H

#include <glib.h>

/* The p-th percentile (0..100) of n samples (sorts them in place); 0 when n == 0. */
double bench_percentile(double *samples, guint n, double p);
/* Process CPU time (user + system) in seconds. */
double bench_cpu_seconds(void);
/* Current resident set size in KiB (from /proc/self/statm). */
long bench_rss_kib(void);

#endif
