/* runner_priv.h: what the runner's files share: the registry's definitions, the
 * world, test cases built from pickles and the run. The run emits typed events
 * (run_event.h) to a sink; reporters (report_priv.h, which does not include this file)
 * read them with a query and never see the run loop's state. */
#ifndef TF_RUNNER_PRIV_H
#define TF_RUNNER_PRIV_H

#include <stdio.h>
#include <jansson.h>
#include "plugin.h"
#include "report_bus.h"
#include "run_event.h"
#include "tf/expression.h"
#include "tf/gherkin.h"
#include "tf/runner.h"
#include "tf/steps.h"
#include "tf/world_store.h"
#include "util/sync.h"

#define TF_ID_LEN 24

/* ---- the world's store (world_store.c): what the run loop alone calls ---- */
/* Makes s (a new reference is kept) and run the store and run of this world, which is
 * attempt `attempt` (0 = first) of its pickle: what a runner with a store (`tf run
 * --store`, `tf wire`) does for every scenario it runs. */
void tf_world_use_store(tf_world *world, tf_store *s, gint64 run, guint attempt);
/* FALSE + error (naming the store, stream, scenario and why) the first time it is called
 * after a journal of this world stopped recording (a batch was lost); TRUE otherwise,
 * also without a store. A runner calls it after each step and hook, so the step during
 * which the loss happened fails. A loss found only when the world ends (while its
 * runtimes stop) is printed on stderr and fails the run (tf_store_run_end). */
gboolean tf_world_journals_check(tf_world *world, GError **error);

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
    guint module; /* the step module that registered it (tf_registry_add_module); 0: none */
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
    guint module;        /* as tf_step_def's */
    tf_hook_scope scope; /* TF_HOOK_OWN_STEPS: only scenarios using a step of its module */
    char id[TF_ID_LEN];
} tf_hook_def;

typedef struct {
    guint seq;
    char *name;
    char **regexps;
    gboolean use_for_snippets, prefer;
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
    GHashTable *param_trees; /* tf_param_type* -> its compiled capture-group tree (match.c) */
    guint next_seq;
    guint module;   /* the module registering now (tf_registry_add_module), 0 outside one */
    guint n_modules;
    void *(*world_new)(void *user_data);
    void (*world_free)(void *world);
    void *world_data;
};


/* Tag expressions (tags.c wraps tf/tags.h). NULL source = match all. */
tf_tag_matcher *tf_tag_matcher_new(const char *source, GError **error);
gboolean tf_tag_matcher_match(const tf_tag_matcher *m, const tf_gherkin_pickle *pickle);
void tf_tag_matcher_free(tf_tag_matcher *m);

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
} tf_test_step;

typedef struct {
    char id[TF_ID_LEN];
    const tf_gherkin_pickle *pickle;
    GPtrArray *steps; /* tf_test_step*, owned */
} tf_test_case;

/* ---- exec: the shared lock, interrupt flag and step workers (exec.c) ---- */
typedef struct tf_exec tf_exec;

/* ---- world ---- */
typedef struct tf_run tf_run;
struct tf_world {
    gint refs;     /* the run's, and one per abandoned body still running on it */
    tf_exec *exec; /* referenced */
    tf_run *run;   /* NULL once abandoned */
    const tf_gherkin_pickle *pickle;
    void *app;
    void (*app_free)(void *app); /* set when the last reference must free app */
    tf_mutex lock; /* cleanups: a stuck step may still touch them */
    GArray *cleanups;
    tf_step_status status;
    char tcs_id[TF_ID_LEN];      /* testCaseStarted id, "" for a run-level world */
    char step_id[TF_ID_LEN];     /* current test step, or "" */
    char hook_run_id[TF_ID_LEN]; /* current testRunHookStarted id for global hooks */
    gboolean abandoned;          /* a stuck thread may use it: it holds a reference */
    guint64 seed;                /* tf_world_seed: the run's seed mixed with the scenario */
};

struct tf_step {
    tf_world *world;
    const tf_gherkin_pickle_step *pstep;
    GPtrArray *args; /* tf run: a reference to the match's; tf wire: its call's */
    gint64 timeout_us;
};

tf_world *tf_world_new_internal(tf_run *run, tf_exec *exec, const tf_gherkin_pickle *pickle);
/* The run's seed when no option gave one: $TF_SEED (0..4294967295, else an error naming
 * it; *from_env TRUE), or a random one. from_env may be NULL. */
gboolean tf_run_seed_from_env(guint64 *seed, gboolean *from_env, GError **error);
/* Prints "tf: seed N ... (repeat with --seed N)" on stderr once per run. */
void tf_run_tell_seed(tf_run *run);
/* Runs the world's stored-value frees and deferred cleanups, newest first. */
void tf_world_cleanup(tf_world *world);
/* Drops a reference: the last one (the run's, or an abandoned body's when it returns after
 * the run let go) frees the world, and its app with app_free when that is set. */
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
    GDestroyNotify step_free; /* frees step when a body abandoned with it returns, or NULL */
    tf_hook_fn hook_fn;
    tf_global_hook_fn global_fn;
    void *user_data;
    tf_world *world;
} tf_call;
/* Runs call on the worker (timeout_us <= 0: no timeout). On DONE status and error hold the
 * body's answer. On TIMEOUT/INTERRUPTED the worker is abandoned with the call (the world
 * is marked abandoned under the exec lock) and a fresh worker serves later calls; the
 * abandoned worker holds a reference to the world and owns the step (step_free) until the
 * body returns. */
tf_call_outcome tf_exec_call(tf_exec *e, const tf_call *call, gint64 timeout_us,
                             tf_step_status *status, GError **error);
/* Stops the exec's current worker (joined); abandoned ones finish on their own. */
void tf_exec_shutdown(tf_exec *e);
/* Runs fn(data) as the exec's driver and returns when it returns: the tf_exec_calls fn
 * makes run their bodies inline, on fn's thread, with no hand-off to another thread; a
 * body that overruns or is interrupted is left behind on that thread, and fn goes on on a
 * fresh one. The calling thread only supervises. While it runs, only fn calls
 * tf_exec_call on e. */
void tf_exec_drive(tf_exec *e, void (*fn)(void *), void *data);
/* tf_exec_call as a result: *message (newly allocated) is the body's error, or says the
 * call timed out ("timed out after S s (--step-timeout)") or was interrupted; *outcome
 * (may be NULL) receives how the call ended. Shared by tf run and tf wire (run.c). */
tf_result tf_call_run(tf_exec *e, const tf_call *call, gint64 timeout_us,
                      tf_call_outcome *outcome, char **message);
/* Whether a scenario uses a step of module (for TF_HOOK_OWN_STEPS hooks). */
typedef gboolean (*tf_uses_module_fn)(const void *data, guint module);
/* TRUE when a step of the test case tc (a const tf_test_case *) matched one definition,
 * of module (an ambiguous step runs none): a tf_uses_module_fn. */
gboolean tf_test_case_uses_module(const void *tc, guint module);
/* Hooks of one kind that apply to pickle (every one when NULL), in run order: a new array
 * of borrowed definitions (run_cases.c). A TF_HOOK_OWN_STEPS hook applies when
 * uses(data, its module) holds; with uses NULL it never does. */
GPtrArray *tf_run_hooks_for(tf_registry *reg, tf_hook_kind kind, const tf_gherkin_pickle *p,
                            tf_uses_module_fn uses, const void *data);

/* The C snippet for an undefined step (newly allocated). */
char *tf_snippet_for_step(tf_param_registry *params, const tf_gherkin_pickle_step *pstep);
/* Matches a pickle step against every definition: a new array of tf_match*. */
GPtrArray *tf_match_step(tf_registry *reg, const tf_gherkin_pickle_step *pstep,
                         char **match_error);
void tf_match_free(tf_match *m);
/* What m matched in text, as an event's match: its arguments with their capture-group
 * trees, allocated in (and freed with) owner. reg keeps each parameter type's compiled
 * tree regex. */
void tf_match_to_event(tf_registry *reg, const tf_match *m, const char *text, tf_event *owner,
                       tf_ev_match *out);

/* ---- the run (run.c) ---- */
typedef struct {
    gboolean dry_run, fail_fast, strict;
    guint retry;
    gboolean random;
    guint64 seed;
    gboolean seed_set;      /* a seed was given (--seed, --order random:SEED); once the run
                             * starts: seed is the run's (else worlds use $TF_SEED/random) */
    gint64 step_timeout_us; /* <= 0: none */
    guint parallel;         /* --parallel N: worker processes (0, 1: none) */
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
    tf_event_sink sink; /* every event goes here */
    void *sink_data;
    GPtrArray *cases; /* tf_test_case*, owned */
    char run_started_id[TF_ID_LEN];
    gboolean success;     /* set when the run ends */
    gboolean interrupted; /* SIGINT/SIGTERM stopped it */
    struct tf_store *store; /* --store: borrowed; each world gets a reference, or NULL */
    gint64 store_run;       /* this run's id in store */
    gint seed_told;         /* the seed was printed (at start, or when first asked for) */
    char id_prefix[8];      /* before every id this process makes from now on ("w3."):
                               a parallel run's processes never make the same id */
    const volatile gint *signals; /* SIGINT/SIGTERM received so far, or NULL (parallel.c
                                     forwards each to the workers) */
    char *const *main_argv;       /* tf_run_main's arguments (NULL-terminated): a parallel
                                     run's workers parse the same */
    tf_exec_wait_fn on_waiting;   /* a parallel run's live status line, or NULL */
    void *on_waiting_data;
};

/* Runs every selected pickle of features (each a tf_run_feature*), emitting the whole
 * event stream to run->sink; sets run->success and run->interrupted (run.c). */
void tf_run_execute(tf_run *run, GPtrArray *features);
/* Every attempt of tc from first_attempt until one passes or the retries are used up;
 * the last attempt's result. */
tf_result tf_run_case(tf_run *run, const tf_test_case *tc, guint first_attempt);
/* Every BeforeAll or AfterAll hook; FALSE (and a line in failures) when one failed. */
gboolean tf_run_global_hooks(tf_run *run, tf_hook_kind kind, GString *failures);
/* Whether a test case that ended with r fails the run (--strict counts undefined and
 * pending). */
gboolean tf_run_counts_as_failure(const tf_run *run, tf_result r);
/* The next id of the run's id generator into out (TF_ID_LEN) (run_cases.c). */
void tf_run_next_id(tf_run *run, char *out);
/* Hands ev to the run's sink, then frees what ev owns. */
void tf_run_emit(tf_run *run, tf_event *ev);
/* What comes before the run starts: each feature's source, then every definition (which
 * gets its id here, in registration order, as cucumber numbers them). */
void tf_run_emit_static(tf_run *run, GPtrArray *features);
/* Builds run->cases from the selected pickles (hooks and matched steps), shuffles them for
 * --order random and, if announce, emits each test case. */
void tf_run_build_cases(tf_run *run, GPtrArray *features, gboolean announce);
/* Emits each test case of run->cases (once they are built). */
void tf_run_announce_cases(tf_run *run);

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

/* ---- shards (shard.c) ---- */
/* --shard I/N: shard index of count (0 <= index < count). */
typedef struct {
    guint index, count;
} tf_shard;
/* The shard (0..count-1) p belongs to: a hash of its uri, line and name, the same on
 * every run and machine. */
guint tf_shard_of(const tf_gherkin_pickle *p, guint count);
/* Parses "I/N"; FALSE + error naming --shard and the range. */
gboolean tf_shard_parse(const char *text, tf_shard *out, GError **error);
/* Keeps in each feature's selected pickles those of shard, in their order. */
void tf_shard_select(GPtrArray *features, const tf_shard *shard);

/* ---- parallel runs (parallel.c: the parent; worker.c: a worker process) ---- */
/* The environment variable that makes tf_run_main a worker: "FD SERIAL STORE_RUN SEED"
 * (the socket to the parent, the worker's number, the store's run or 0, the order's
 * seed). Read and removed at start, so no program a step starts inherits it. A worker is
 * the parent's program started again with the program's own command line; whatever
 * arguments its tf_run_main call gets, it parses the ones the parent's tf_run_main got,
 * which the parent sends first, as {"argv": [...]}. */
#define TF_WORKER_ENV "TF_RUN_WORKER"
typedef struct {
    int fd;
    guint serial;
    gint64 store_run;
    guint64 seed;
} tf_worker_config;
/* The @tag of scenarios that never run beside another. */
#define TF_SERIAL_TAG "@serial"
/* Runs run's test cases in run->opts.parallel worker processes (this program again, with
 * the same arguments and TF_WORKER_ENV) and feeds their events, each test case's at its
 * end, to run->sink; sets run->success and run->interrupted like tf_run_execute. */
void tf_parallel_execute(tf_run *run, GPtrArray *features);
/* A worker's life: the same static events and test cases as the parent (muted, so ids
 * agree), BeforeAll, then every case the parent sends, AfterAll; the events go to the
 * parent as JSON lines. Returns the process's exit code. */
int tf_worker_serve(tf_run *run, GPtrArray *features, const tf_worker_config *cfg);
/* Reads the parent's {"argv": [...]} line from fd: a NULL-terminated vector (g_strfreev),
 * or NULL + error. */
char **tf_worker_read_argv(int fd, GError **error);

#endif
