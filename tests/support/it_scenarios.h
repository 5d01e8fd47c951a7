/* it_scenarios.h: what the integration tests that run bundled features through `tf run`
 * share: a temp dir, an environment marker that every process the runs start inherits
 * (so the test counts only its own daemons), the process count, and the tf binary. */
#ifndef TF_TEST_IT_SCENARIOS_H
#define TF_TEST_IT_SCENARIOS_H

#include <sys/types.h>
#include <glib.h>
#include <jansson.h>

/* Makes a temp dir named after prefix and points TMPDIR at it (cluster dirs of the test
 * and of the runs it starts land there), points TF_CLUSTERS at the bundled specs and sets
 * TF_IT_MARK to a value unique to this process. 0 on success (a cmocka group setup). */
int it_setup(const char *prefix);
/* Removes the temp dir and everything in it. 0 (a cmocka group teardown). */
int it_teardown(void);
/* The temp dir (borrowed; valid between it_setup and it_teardown). */
const char *it_tmp(void);
/* A new path name inside the temp dir (g_free). */
char *it_path(const char *name);
/* Whether process pid runs and carries this test's marker. */
gboolean it_pid_marked(pid_t pid);
/* Live processes whose executable ends in "/exe_name" and that carry this test's marker. */
guint it_count_marked(const char *exe_name);
/* Runs `tf run ARGS...` (NULL-terminated), stdout into *out (g_free) and printed whole,
 * stderr dropped. The binary is $TF_BIN or the build's bin/tf. Returns its exit code
 * (128+N on signal N). */
int it_run_tf(const char *const *args, char **out);
/* The same for any subcommand: runs `tf ARGS...` ("history", "check", ...). */
int it_run_cmd(const char *const *args, char **out);

/* What a run's Cucumber Messages report holds. */
typedef struct {
    guint cases, steps, passed; /* finished test cases; finished steps (and hooks); PASSED */
    GPtrArray *attachments;     /* json_t* "attachment" objects in report order (owned) */
    GPtrArray *failures;        /* the message of every FAILED step or hook (gchar *) */
} it_report;
/* Reads a Cucumber Messages NDJSON file into *rep (free with it_report_clear); a line
 * that is not JSON fails the test. */
void it_report_read(const char *path, it_report *rep);
/* The first failure message containing needle (borrowed), or NULL. */
const char *it_report_failure(const it_report *rep, const char *needle);
/* The decoded text of the first attachment named file_name (NULL: any name) whose text
 * contains body_part (NULL: any), new string; NULL when none. */
char *it_report_attachment(const it_report *rep, const char *file_name, const char *body_part);
/* Runs `tf run --format summary --format message:FILE ARGS...` like it_run_tf and reads
 * the report into *rep (free with it_report_clear). Returns the exit code. */
int it_run_report(const char *const *args, it_report *rep);
/* Frees what rep holds. */
void it_report_clear(it_report *rep);
/* A string field of an attachment (borrowed) or NULL. */
const char *it_att(json_t *att, const char *field);

#endif
