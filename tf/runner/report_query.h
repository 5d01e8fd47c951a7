/* report_query.h: what reporters look up while they read run events: the events refer to
 * pickles, definitions, test cases and attempts by id, and the query, fed every event
 * before the reporters see it, answers from what earlier events said (as cucumber-js
 * formatters read a Query of messages). It also keeps the run's tally. It holds copies,
 * except for pickles, which point into the features TF_EV_SOURCE names (they outlive
 * the run). */
#ifndef TF_RUNNER_REPORT_QUERY_H
#define TF_RUNNER_REPORT_QUERY_H

#include "run_event.h"

typedef struct tf_query tf_query;

typedef struct {
    char *id, *pattern, *uri;
    int line;
} tf_q_step_def;

typedef struct {
    char *id;
    tf_hook_kind kind;
    char *name; /* NULL when unnamed */
    char *uri;
    int line;
} tf_q_hook;

typedef struct {
    const char *id;
    const tf_q_hook *hook;               /* a hook step, or */
    const tf_gherkin_pickle_step *pstep; /* a pickle step, */
    const char *keyword;                 /* with its AST step's keyword ("Given ") */
    const tf_q_step_def *const *defs;    /* the n_defs definitions it matched */
    guint n_defs;
} tf_q_test_step;

typedef struct {
    const char *id;
    const tf_gherkin_pickle *pickle;
    const char *feature_name;
    const tf_q_test_step *steps; /* n_steps, in run order */
    guint n_steps;
} tf_q_test_case;

/* One attempt of a test case (a TF_EV_CASE_STARTED) and how it went so far. */
typedef struct {
    const char *id;
    const tf_q_test_case *tc;
    guint attempt;
    gint64 started_us;                  /* its timestamp */
    tf_result worst;                    /* of every step and hook */
    guint steps[TF_RESULT_FAILED + 1];  /* pickle steps by result */
} tf_q_attempt;

/* The run's tally: scenarios and steps count their final attempt only. */
typedef struct {
    guint scenarios[TF_RESULT_FAILED + 1];
    guint steps[TF_RESULT_FAILED + 1];
    guint n_scenarios, n_steps;
    gint64 duration_us;        /* from run started to run finished */
    gboolean success;
    gboolean interrupted;
    const char *message;       /* what failed the run outside scenarios, or NULL */
} tf_run_stats;

tf_query *tf_query_new(void);
void tf_query_free(tf_query *q);
/* Takes in what ev says (call it before the reporters see ev). */
void tf_query_update(tf_query *q, const tf_event *ev);

/* Lookups by id; NULL when no event named it. Results are owned by the query. */
const tf_q_attempt *tf_query_attempt(const tf_query *q, const char *test_case_started_id);
const tf_q_test_step *tf_query_test_step(const tf_query *q, const char *test_step_id);
const tf_q_hook *tf_query_hook(const tf_query *q, const char *hook_id);
/* The hook a GLOBAL_HOOK_STARTED (hook_run_id) ran. */
const tf_q_hook *tf_query_hook_run(const tf_query *q, const char *hook_run_id);
/* A selected pickle's step and, in *pickle, its pickle. */
const tf_gherkin_pickle_step *tf_query_pickle_step(const tf_query *q, const char *pickle_step_id,
                                                   const tf_gherkin_pickle **pickle);
const tf_run_stats *tf_query_stats(const tf_query *q);

/* What a finished step's result says to a reader (newly allocated), or NULL: its message,
 * or for an ambiguous step every definition it matched with file:line. */
char *tf_query_result_text(const tf_query *q, const char *test_step_id, const tf_ev_result *r);
/* "uri:line" of a step's pickle step or hook (newly allocated), NULL when unknown. */
char *tf_query_step_where(const tf_query *q, const char *test_step_id);

#endif
