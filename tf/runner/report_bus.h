/* report_bus.h: the reporters of a run behind one event sink (report_bus.c): the
 * interface each format implements (pretty, progress, summary, junit, message), opening
 * them from --format specs, and the bus that feeds them a run's events with a query.
 * Internal to libtf and the tests. */
#ifndef TF_RUNNER_REPORT_BUS_H
#define TF_RUNNER_REPORT_BUS_H

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
/* Opens the reporter of one --format NAME[:FILE] and adds it: FALSE + error naming the
 * format and file for an unknown name or a file that cannot be created. color < 0: on a
 * terminal without NO_COLOR. */
gboolean tf_report_bus_open(tf_report_bus *b, const char *spec, int color, GError **error);
/* Frees the bus and its reporters (closed or not). */
void tf_report_bus_free(tf_report_bus *b);

#endif
