/* report_outcomes.h: what each scenario of a run came to, read from the run's Cucumber
 * Messages report (NDJSON), for tests and benches that compare two runs scenario by
 * scenario (a serial run with a parallel one). */
#ifndef TF_TEST_REPORT_OUTCOMES_H
#define TF_TEST_REPORT_OUTCOMES_H

#include <glib.h>

/* "uri: name" -> the worst step status of the scenario's last attempt ("PASSED",
 * "SKIPPED", "PENDING", "UNDEFINED", "AMBIGUOUS", "FAILED"; ranked in that order), both
 * strings owned by the table (g_hash_table_unref). NULL + error when the file cannot be
 * read, a line is not JSON, or a case finishes that never started. */
GHashTable *report_outcomes(const char *path, GError **error);

#endif
