/* runner_priv.h: what the runner's files share: the registry's definitions, the
 * world, test cases built from pickles, run events and the reporter interface.
 * Reporters consume one event stream; each event carries its Cucumber Messages
 * envelope when some reporter asked for envelopes, so the message reporter is a dump. */
#ifndef TF_RUNNER_PRIV_H
#define TF_RUNNER_PRIV_H

#include <stdio.h>
#include <jansson.h>
#include "tf/expression.h"
#include "tf/gherkin.h"
#include "tf/runner.h"
#include "tf/steps.h"
#include "util/sync.h"

#define TF_ID_LEN 24

/* ---- registry ---- */
typedef struct {
    guint seq; /* registration order across every definition kind */
    tf_keyword kw;
    char *pattern;
    gboolean is_regex;
    tf_expression *expr;
    tf_step_fn fn;
    char *file;
    int line;
    char id[TF_ID_LEN];
} tf_step_def;

typedef struct tf_tag_matcher tf_tag_matcher; /* a compiled tag expression (tags.c) */

typedef struct {
    guint seq;
    tf_hook_kind kind;
    char *name;
    char *tags_src;
    tf_tag_matcher *tags;
    int order;
    tf_hook_fn fn;
    tf_global_hook_fn gfn;
    void *user_data;
    char *file;
    int line;
    char id[TF_ID_LEN];
} tf_hook_def;

typedef struct {
    guint seq;
    char *name;
    char **regexps;
    gboolean use_for_snippets, prefer;
    tf_param_transform transform;
    GDestroyNotify free_value;
    void *user_data;
    char id[TF_ID_LEN];
} tf_param_def;

typedef struct {
    guint seq;
    char *name;
    char *expression;
} tf_undefined_param;

struct tf_registry {
    tf_param_registry *params;
    GPtrArray *steps;        /* tf_step_def* */
    GPtrArray *hooks;        /* tf_hook_def* */
    GPtrArray *param_defs;   /* tf_param_def* */
    GPtrArray *undefined;    /* tf_undefined_param*: patterns naming unknown {types} */
    guint next_seq;
    void *(*world_new)(void *user_data);
    void (*world_free)(void *world);
    void *world_data;
};

/* Tag expressions (tags.c wraps tf/tags.h). NULL source = match all. */
tf_tag_matcher *tf_tag_matcher_new(const char *source, GError **error);
gboolean tf_tag_matcher_match(const tf_tag_matcher *m, const tf_gherkin_pickle *pickle);
void tf_tag_matcher_free(tf_tag_matcher *m);

/* ---- results ---- */
/* Ordered by how bad a result is (cucumber's worst-result rule). */
typedef enum {
    TF_RESULT_UNKNOWN = 0,
    TF_RESULT_PASSED,
    TF_RESULT_SKIPPED,
    TF_RESULT_PENDING,
    TF_RESULT_UNDEFINED,
    TF_RESULT_AMBIGUOUS,
    TF_RESULT_FAILED,
} tf_result;
const char *tf_result_name(tf_result r);       /* "PASSED" ... (messages form) */
const char *tf_result_word(tf_result r);       /* "passed" ... (human form) */

/* ---- test cases ---- */
typedef struct {
    tf_step_def *def;
    GPtrArray *args; /* tf_arg*, owned */
} tf_match;

typedef struct {
    char id[TF_ID_LEN];
    tf_hook_def *hook;                    /* a Before/After hook step, or */
    const tf_gherkin_pickle_step *pstep;  /* a pickle step */
    GPtrArray *matches;                   /* tf_match*, owned; pickle steps only */
    char *match_error;                    /* a transformer failed while matching */
    const char *keyword;                  /* "Given " ... from the AST step (pickle steps) */
} tf_test_step;

typedef struct {
    char id[TF_ID_LEN];
    const tf_gherkin_pickle *pickle;
    const char *feature_name;
    GPtrArray *steps; /* tf_test_step*, owned */
} tf_test_case;

/* ---- exec: the shared lock, interrupt flag and step workers (exec.c) ---- */
typedef struct tf_exec tf_exec;

/* ---- world ---- */
typedef struct tf_run tf_run;
struct tf_world {
    tf_exec *exec; /* referenced */
    tf_run *run;   /* NULL once abandoned */
    const tf_gherkin_pickle *pickle;
    void *app;
    tf_mutex lock; /* cleanups: a stuck step may still touch them */
    GArray *cleanups;
    tf_status status;
    char tcs_id[TF_ID_LEN];      /* testCaseStarted id, "" for a run-level world */
    char step_id[TF_ID_LEN];     /* current test step, or "" */
    char hook_run_id[TF_ID_LEN]; /* current testRunHookStarted id for global hooks */
    gboolean abandoned;          /* a stuck thread may use it: never freed */
};

struct tf_step {
    tf_world *world;
    const tf_gherkin_pickle_step *pstep;
    GPtrArray *args; /* borrowed from the match */
    gint64 timeout_us;
};

tf_world *tf_world_new_internal(tf_run *run, tf_exec *exec, const tf_gherkin_pickle *pickle);
/* Runs the world's stored-value frees and deferred cleanups, newest first. */
void tf_world_cleanup(tf_world *world);
/* Frees the world unless abandoned (then it stays for the stuck thread). */
void tf_world_release(tf_world *world);
/* The attachment entry point used by tf_world_attach (run.c emits it). */
void tf_run_emit_attachment(tf_run *run, tf_world *world, const void *data, gsize len,
                            const char *media_type, const char *file_name);

/* Exec: runs step and hook bodies on a worker thread with a timeout. */
tf_exec *tf_exec_new(void);
tf_exec *tf_exec_ref(tf_exec *e);
void tf_exec_unref(tf_exec *e);
void tf_exec_lock(tf_exec *e);
void tf_exec_unlock(tf_exec *e);
/* Marks the run interrupted and wakes whoever waits (safe from the signal thread). */
void tf_exec_interrupt(tf_exec *e);
gboolean tf_exec_interrupted(tf_exec *e);
/* Listener the worker thread installs with tf_wait_set_listener. */
typedef void (*tf_exec_wait_fn)(void *data, const char *what, const char *progress,
                                gint64 elapsed_us, gint64 timeout_us);
void tf_exec_set_wait_listener(tf_exec *e, tf_exec_wait_fn fn, void *data);

typedef enum { TF_CALL_STEP, TF_CALL_HOOK, TF_CALL_GLOBAL_HOOK } tf_call_kind;
typedef enum { TF_CALL_DONE, TF_CALL_TIMEOUT, TF_CALL_INTERRUPTED } tf_call_outcome;
typedef struct {
    tf_call_kind kind;
    tf_step_fn step_fn;
    tf_step *step;
    tf_hook_fn hook_fn;
    tf_global_hook_fn global_fn;
    void *user_data;
    tf_world *world;
} tf_call;
/* Runs call on the worker (timeout_us <= 0: no timeout). On DONE status and error hold the
 * body's answer. On TIMEOUT/INTERRUPTED the worker is abandoned with the call (the world
 * is marked abandoned under the exec lock) and a fresh worker serves later calls. */
tf_call_outcome tf_exec_call(tf_exec *e, const tf_call *call, gint64 timeout_us,
                             tf_status *status, GError **error);
/* Stops the exec's current worker (joined); abandoned ones finish on their own. */
void tf_exec_shutdown(tf_exec *e);
/* tf_exec_call as a result: *message (newly allocated) is the body's error, or says the
 * call timed out ("timed out after S s (--step-timeout)") or was interrupted; *outcome
 * (may be NULL) receives how the call ended. Shared by tf run and tf wire (run.c). */
tf_result tf_call_run(tf_exec *e, const tf_call *call, gint64 timeout_us,
                      tf_call_outcome *outcome, char **message);
/* Hooks of one kind that apply to pickle (every one when NULL), in run order: a new array
 * of borrowed definitions (run.c). */
GPtrArray *tf_run_hooks_for(tf_registry *reg, tf_hook_kind kind, const tf_gherkin_pickle *p);

/* ---- events and reporters ---- */
typedef enum {
    TF_EV_ENVELOPE,          /* a static envelope (meta, source, pickle, definitions) */
    TF_EV_RUN_STARTED,
    TF_EV_GLOBAL_HOOK_STARTED,
    TF_EV_GLOBAL_HOOK_FINISHED,
    TF_EV_TEST_CASE,         /* a test case was built */
    TF_EV_CASE_STARTED,
    TF_EV_STEP_STARTED,
    TF_EV_SUGGESTION,
    TF_EV_ATTACHMENT,
    TF_EV_STEP_FINISHED,
    TF_EV_CASE_FINISHED,
    TF_EV_RUN_FINISHED,
} tf_event_kind;

typedef struct {
    guint scenarios[TF_RESULT_FAILED + 1];
    guint steps[TF_RESULT_FAILED + 1];
    guint n_scenarios, n_steps;
    gint64 duration_us;
    gboolean success;
    gboolean interrupted;
    const char *message; /* run-level failure (a BeforeAll hook, interruption) or NULL */
} tf_run_stats;

typedef struct {
    tf_event_kind kind;
    json_t *envelope; /* NULL unless a reporter wants envelopes */
    const tf_test_case *tc;
    const tf_test_step *ts;
    const tf_hook_def *hook;
    guint attempt;
    tf_result result;
    const char *message;
    gint64 duration_us;
    gboolean will_be_retried;
    const char *snippet;
    const void *data;
    gsize len;
    const char *media_type;
    const tf_run_stats *stats;
} tf_event;

typedef struct tf_reporter tf_reporter;
struct tf_reporter {
    gboolean wants_envelopes;
    void (*event)(tf_reporter *r, const tf_event *ev);
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

/* The C snippet for an undefined step (newly allocated). */
char *tf_snippet_for_step(tf_param_registry *params, const tf_gherkin_pickle_step *pstep);
/* Matches a pickle step against every definition: a new array of tf_match*. */
GPtrArray *tf_match_step(tf_registry *reg, const tf_gherkin_pickle_step *pstep,
                         char **match_error);
void tf_match_free(tf_match *m);
/* stepMatchArguments JSON for a match (new reference). */
json_t *tf_match_arguments_json(const tf_match *m, const char *text);

#endif

/* ---- the run (run.c) ---- */
typedef struct {
    gboolean dry_run, fail_fast, strict;
    guint retry;
    gboolean random;
    guint64 seed;
    gint64 step_timeout_us; /* <= 0: none */
} tf_run_options;

/* A feature file given to the run: its text, document and (filtered) pickles. */
typedef struct {
    char *uri;
    char *data;
    tf_gherkin_document *doc;
    tf_gherkin_pickles *pickles;
    GPtrArray *selected; /* const tf_gherkin_pickle* that pass the filters */
} tf_run_feature;

struct tf_run {
    tf_registry *reg;
    tf_run_options opts;
    tf_exec *exec;
    tf_gherkin_id_gen *ids;
    GPtrArray *reporters; /* tf_reporter*, borrowed */
    gboolean want_env;
    GPtrArray *cases; /* tf_test_case*, owned */
    char run_started_id[TF_ID_LEN];
    tf_run_stats stats;
    gint64 t0;
    gboolean interrupted;
    struct tf_store *store; /* --store: borrowed; each world gets a reference, or NULL */
    gint64 store_run;       /* this run's id in store */
};

/* Runs every selected pickle of features (each a tf_run_feature*) and emits the whole
 * event stream to the reporters; fills run->stats. */
void tf_run_execute(tf_run *run, GPtrArray *features);

/* ---- feature files (feature_files.c, line_select.c) ---- */
/* A PATH[:LINE...] argument of tf run. */
typedef struct tf_feature_arg tf_feature_arg;
/* Parses arg; NULL + error when a line number is 0 or does not fit. */
tf_feature_arg *tf_feature_arg_parse(const char *arg, GError **error);
/* Frees a (NULL is fine). */
void tf_feature_arg_free(tf_feature_arg *a);

/* The filters applied to every pickle the paths and lines select. */
typedef struct {
    const tf_tag_matcher *tags; /* NULL: any tags */
    GPtrArray *names;           /* GRegex*; NULL or empty: any name; one match suffices */
} tf_feature_filter;
/* Loads the features args (tf_feature_arg*) name, each real file once, and selects their
 * pickles: a new array of tf_run_feature* (free with g_ptr_array_unref), or NULL + error
 * naming the file (and line) for an unreadable path, a parse error or a bad line. */
GPtrArray *tf_features_load(GPtrArray *args, tf_gherkin_id_gen *ids,
                            const tf_feature_filter *filter, GError **error);
/* Frees a feature loaded by tf_features_load. */
void tf_run_feature_free(tf_run_feature *f);
/* Sets selected[i] for each pickle of pickles (compiled from doc, whose source is data)
 * that one of lines selects; FALSE + error "URI:LINE: why" for a line past the end of the
 * file, between blocks, or in a block that yields no pickle (line_select.c). */
gboolean tf_select_lines(const tf_gherkin_document *doc, const char *data,
                         const tf_gherkin_pickles *pickles, const guint *lines, guint n_lines,
                         gboolean *selected, GError **error);
