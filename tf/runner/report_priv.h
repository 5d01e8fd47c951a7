/* report_priv.h: what the reporter files share (report_*.c): each format's constructor
 * and report_out.c's ways of writing that survive a kill. Reporters see the run through
 * its events and the query only: this header does not include the run loop's. */
#ifndef TF_RUNNER_REPORT_PRIV_H
#define TF_RUNNER_REPORT_PRIV_H

#include "report_bus.h"

/* Each format's reporter (report_text.c, report_junit.c, report_message.c). */
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

#endif
