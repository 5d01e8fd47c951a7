/* report_merge.h: merging the reports of several runs of one suite into one
 * (report_merge.c; `tf report merge`). Internal to libtf, the tf command and the tests. */
#ifndef TF_RUNNER_REPORT_MERGE_H
#define TF_RUNNER_REPORT_MERGE_H

#include <stdio.h>
#include <glib.h>

/* Writes to out one Cucumber Messages report (NDJSON) holding the runs of the n files at
 * paths: shared envelopes once, each run's ids prefixed with its file's number, one test
 * run. FALSE + error naming the file (and line) that cannot be read or merged. */
gboolean tf_report_merge_messages(const char *const *paths, guint n, FILE *out, GError **error);
/* Writes to out one JUnit document with the test cases of the n files at paths, counts
 * and times summed. FALSE + error naming the file that is not a JUnit report. */
gboolean tf_report_merge_junit(const char *const *paths, guint n, FILE *out, GError **error);

#endif
