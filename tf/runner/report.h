/* report.h: the reporters of a run: the interface each format implements (pretty,
 * progress, summary, junit, message), the factory behind --format, the bus that feeds
 * them a run's events with a query, and what they share for writing files that survive
 * a kill. Internal to libtf and the tests. */
#ifndef TF_RUNNER_REPORT_H
#define TF_RUNNER_REPORT_H

#include <stdio.h>
#include "report_query.h"

typedef struct tf_reporter tf_reporter;
struct tf_reporter {
    /* Reads one event; q has taken it in already and answers for every earlier one. */
    void (*event)(tf_reporter *r, const tf_query *q, const tf_event *ev);
    void (*waiting)(tf_reporter *r, const char *what, const char *progress, gint64 elapsed_us,
                    gint64 timeout_us);
    gboolean (*close)(tf_reporter *r, GError **error); /* flush, close files */
    void (*free)(tf_reporter *r);
    FILE *out;        /* NULL for a JUnit file replaced atomically */
    gboolean own_out;
    char *spec;       /* "NAME[:FILE]" as given to --format, for errors (owned) */
    char *path;       /* the file, NULL for stdout (owned) */
    int write_errno;  /* the first failed write's errno, 0 if none */
};

/* The reporters of a run behind one sink: each event goes to the query, then to every
 * reporter in the order they were added (report_bus.c). */
typedef struct tf_report_bus tf_report_bus;
tf_report_bus *tf_report_bus_new(void);
/* Adds r; the bus owns it from now on. */
void tf_report_bus_add(tf_report_bus *b, tf_reporter *r);
/* A tf_event_sink: data is the bus. */
void tf_report_bus_emit(void *data, const tf_event *ev);
/* A tf_exec_wait_fn: the live "waiting for" line of the reporters that show one. */
void tf_report_bus_waiting(void *data, const char *what, const char *progress,
                           gint64 elapsed_us, gint64 timeout_us);
/* Closes every reporter; each failure is printed as "PROG: error" on stderr. FALSE when
 * any failed. */
gboolean tf_report_bus_close(tf_report_bus *b, const char *prog);
/* Frees the bus and its reporters (closed or not). */
void tf_report_bus_free(tf_report_bus *b);

/* The reporter for one --format NAME[:FILE] (report_out.c): NULL + error naming the
 * format and file for an unknown name or a file that cannot be created. color < 0: on
 * a terminal without NO_COLOR. */
tf_reporter *tf_reporter_open(const char *spec, int color, GError **error);
tf_reporter *tf_reporter_pretty_new(FILE *out, gboolean own, gboolean color);
tf_reporter *tf_reporter_progress_new(FILE *out, gboolean own, gboolean color);
tf_reporter *tf_reporter_summary_new(FILE *out, gboolean own, gboolean color);
/* JUnit written once, at the end, to a stream (stdout, a device, a FIFO). */
tf_reporter *tf_reporter_junit_new(FILE *out, gboolean own);
/* JUnit replacing the regular file path with a complete document after each scenario
 * (and once at the start, so a file that cannot be created fails before the run). */
tf_reporter *tf_reporter_junit_new_file(const char *path, const char *spec, GError **error);
tf_reporter *tf_reporter_message_new(FILE *out, gboolean own);
/* Shared by reporters (report_out.c): fflush, remembering a failure. */
void tf_reporter_flush(tf_reporter *r);
/* Writes data with write(2) after flushing stdio: a kill leaves whole writes (lines). */
void tf_reporter_write_whole(tf_reporter *r, const char *data, gsize len);
/* Replaces path by a file holding data (temp file in its directory + rename); FALSE and
 * *err = errno on failure (path is then untouched). */
gboolean tf_report_replace_file(const char *path, const char *data, gsize len, int *err);
/* Flushes and closes out if owned; FALSE + error "--format SPEC: writing FILE: why"
 * when any write failed. */
gboolean tf_reporter_close_out(tf_reporter *r, GError **error);
/* Frees spec and path (each reporter's free calls it). */
void tf_reporter_base_clear(tf_reporter *r);
/* Appends XML-escaped text (junit), valid for attribute values and text nodes. */
void tf_xml_escape(GString *out, const char *text);
/* Human summary lines "N scenarios (a passed, b failed)" (pretty/summary/progress). */
void tf_report_write_summary(FILE *out, const tf_run_stats *st, gboolean color);

#endif
