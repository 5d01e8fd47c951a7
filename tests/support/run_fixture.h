/* run_fixture.h: what the in-process `tf run` tests share: a temp dir they may fill with
 * features, directories and symlinks (removed without following links), a run of
 * tf_run_main that captures what it printed to stdout and stderr, and the text helpers
 * golden comparisons need (normalising durations and temp paths). */
#ifndef TF_TEST_RUN_FIXTURE_H
#define TF_TEST_RUN_FIXTURE_H

#include <glib.h>
#include "tf/runner.h"

/* Makes a fresh temp dir named after prefix (borrowed until rf_teardown). */
const char *rf_setup(const char *prefix);
/* Removes the temp dir and everything in it; symlinks are removed, never followed. */
void rf_teardown(void);
/* The temp dir (borrowed). */
const char *rf_tmp(void);
/* Writes text to name (relative to the temp dir; parent dirs made); returns the path
 * (g_free). */
char *rf_write(const char *name, const char *text);
/* Reads a whole file (g_free) or fails the test. */
char *rf_read(const char *path);

/* What a run printed. */
typedef struct {
    int code;  /* tf_run_main's exit code */
    char *out; /* stdout (g_free) */
    char *err; /* stderr (g_free) */
} rf_result;
/* Runs tf_run_main("tf-run", args..., NULL) with the step module (NULL: none), capturing
 * stdout and stderr through temp files. */
rf_result rf_run(tf_plugin_init_fn module, const char *const *args);
/* Frees what r holds. */
void rf_result_clear(rf_result *r);

/* Returns text (g_free) with every occurrence of the temp dir replaced by "<tmp>" and
 * every duration line of the summary ("0.012s") by "<duration>". */
char *rf_normalise(const char *text);
/* Compares actual with the golden file tests/unit/data/NAME; with TF_UPDATE_GOLDEN=1 in
 * the environment it rewrites the file instead (then check the diff by eye). */
void rf_assert_golden(const char *name, const char *actual);

#endif
