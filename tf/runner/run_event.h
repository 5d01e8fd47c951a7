/* run_event.h: what a run tells its reporters, as typed events that carry plain values
 * (ids, texts, results, times), never pointers into the run loop's state. The run loop
 * emits them; reporters build what they print from them alone (report_query.c indexes
 * what later events refer to by id). Every event but TF_EV_SOURCE converts to JSON and
 * back without loss, so a worker process can send its run to a parent that feeds the
 * reporters. The kinds follow Cucumber Messages, whose envelopes report_envelope.c makes. */
#ifndef TF_RUNNER_RUN_EVENT_H
#define TF_RUNNER_RUN_EVENT_H

#include <jansson.h>
#include "tf/gherkin.h"
#include "tf/steps.h"

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
const char *tf_result_name(tf_result r); /* "PASSED" ... (messages form) */
const char *tf_result_word(tf_result r); /* "passed" ... (human form) */

typedef enum {
    TF_EV_SOURCE,                   /* a feature file and its selected pickles */
    TF_EV_STEP_DEFINITION,
    TF_EV_HOOK,
    TF_EV_PARAMETER_TYPE,
    TF_EV_UNDEFINED_PARAMETER_TYPE, /* a step pattern names a {type} nobody defined */
    TF_EV_RUN_STARTED,
    TF_EV_GLOBAL_HOOK_STARTED,      /* a BeforeAll/AfterAll hook begins */
    TF_EV_GLOBAL_HOOK_FINISHED,
    TF_EV_TEST_CASE,                /* a pickle's hooks and steps, matched: before any runs */
    TF_EV_CASE_STARTED,             /* an attempt of a test case */
    TF_EV_STEP_STARTED,
    TF_EV_SUGGESTION,               /* a snippet for an undefined step */
    TF_EV_ATTACHMENT,
    TF_EV_STEP_FINISHED,
    TF_EV_CASE_FINISHED,
    TF_EV_RUN_FINISHED,
    TF_EV_N_KINDS
} tf_event_kind;

/* How a step or hook ended. message: the failure's text, or NULL. */
typedef struct {
    tf_result status;
    const char *message;
    gint64 duration_us;
} tf_ev_result;

/* Not serialised: it points at the features, which every process of a run loads (or
 * inherits) alike. pickles: the selected ones, in run order. */
typedef struct {
    const char *uri;
    const char *data;
    const tf_gherkin_document *doc;
    const tf_gherkin_pickle *const *pickles;
    guint n_pickles;
} tf_ev_source;

typedef struct {
    const char *id, *pattern;
    gboolean is_regex;
    const char *uri;
    gint64 line;
} tf_ev_step_definition;

typedef struct {
    const char *id;
    tf_hook_kind kind;
    const char *name, *tag_expression; /* each NULL when absent */
    const char *uri;
    gint64 line;
} tf_ev_hook;

typedef struct {
    const char *id, *name;
    const char *const *regexps; /* NULL-terminated */
    gboolean prefer, use_for_snippets;
} tf_ev_parameter_type;

typedef struct {
    const char *name, *expression;
} tf_ev_undefined_parameter_type;

typedef struct {
    const char *id;
} tf_ev_run_started;

typedef struct {
    const char *id, *test_run_started_id, *hook_id;
} tf_ev_global_hook_started;

typedef struct {
    const char *hook_run_id; /* the GLOBAL_HOOK_STARTED's id */
    tf_ev_result result;
} tf_ev_global_hook_finished;

/* A capture group of a matched argument: start (in code points) and value, or start -1
 * and value NULL when the group took no part; its nested groups. */
typedef struct tf_ev_group tf_ev_group;
struct tf_ev_group {
    gint64 start;
    const char *value;
    const tf_ev_group *children;
    guint n_children;
};

typedef struct {
    tf_ev_group group;
    const char *parameter_type_name; /* NULL for a regular expression's group */
} tf_ev_argument;

/* What one step definition matched in a step's text. */
typedef struct {
    const tf_ev_argument *args;
    guint n_args;
} tf_ev_match;

/* A hook step (hook_id) or a pickle step (pickle_step_id, with one match per definition
 * whose pattern matched it: none undefined, several ambiguous). */
typedef struct {
    const char *id;
    const char *hook_id, *pickle_step_id; /* one of them, the other NULL */
    const char *const *step_definition_ids; /* n_matches of them */
    const tf_ev_match *matches;
    guint n_matches;
} tf_ev_test_step;

typedef struct {
    const char *id, *pickle_id, *test_run_started_id;
    const tf_ev_test_step *steps;
    guint n_steps;
} tf_ev_test_case;

typedef struct {
    const char *id, *test_case_id;
    guint attempt;
} tf_ev_case_started;

typedef struct {
    const char *test_case_started_id, *test_step_id;
} tf_ev_step_started;

typedef struct {
    const char *id, *pickle_step_id, *snippet; /* snippet: C code to paste */
} tf_ev_suggestion;

/* Attached by a step or hook: to the step (test_case_started_id, test_step_id), to the
 * test case (test_step_id NULL) or to a global hook (hook_run_id). */
typedef struct {
    const char *test_case_started_id, *test_step_id, *hook_run_id;
    const void *data;
    gsize len;
    const char *media_type, *file_name; /* file_name NULL when absent */
} tf_ev_attachment;

typedef struct {
    const char *test_case_started_id, *test_step_id;
    tf_ev_result result;
} tf_ev_step_finished;

typedef struct {
    const char *test_case_started_id;
    gboolean will_be_retried;
} tf_ev_case_finished;

/* message: what failed the run outside scenarios (a global hook, an interrupt), or NULL. */
typedef struct {
    const char *test_run_started_id;
    gboolean success, interrupted;
    const char *message;
} tf_ev_run_finished;

typedef struct tf_event {
    tf_event_kind kind;
    gint64 timestamp_us; /* wall clock (g_get_real_time); 0 for definitions and sources */
    union {
        tf_ev_source source;
        tf_ev_step_definition step_definition;
        tf_ev_hook hook;
        tf_ev_parameter_type parameter_type;
        tf_ev_undefined_parameter_type undefined_parameter_type;
        tf_ev_run_started run_started;
        tf_ev_global_hook_started global_hook_started;
        tf_ev_global_hook_finished global_hook_finished;
        tf_ev_test_case test_case;
        tf_ev_case_started case_started;
        tf_ev_step_started step_started;
        tf_ev_suggestion suggestion;
        tf_ev_attachment attachment;
        tf_ev_step_finished step_finished;
        tf_ev_case_finished case_finished;
        tf_ev_run_finished run_finished;
    };
    GPtrArray *owned; /* blocks the event's pointers lead to when it owns them, or NULL */
} tf_event;

/* Where a run's events go: the report bus (serial runs), a log (tf wire), or a worker's
 * pipe to its parent. ev is borrowed for the call. */
typedef void (*tf_event_sink)(void *data, const tf_event *ev);

/* "step_finished" ... (the "event" member of the JSON form). */
const char *tf_event_kind_name(tf_event_kind kind);
/* Gives block (g_malloc'ed) to ev: freed by tf_event_clear. Returns block. */
gpointer tf_event_own(tf_event *ev, gpointer block);
/* Frees what ev owns (tf_event_own) and empties it; a borrowed event is left as is. */
void tf_event_clear(tf_event *ev);

/* A capture group as Cucumber Messages and the JSON form both write it: {start, value,
 * children}, each only when present (new reference). */
json_t *tf_ev_group_to_json(const tf_ev_group *g);
/* ev as a JSON object {"event": KIND, "timestamp": us, ...fields} (new reference); NULL
 * for TF_EV_SOURCE, which is not serialised. Binary attachment data is base64. */
json_t *tf_event_to_json(const tf_event *ev);
/* The event j describes, owning its data (free with tf_event_free), or NULL + error naming
 * the kind and field that is missing or of the wrong type. */
tf_event *tf_event_from_json(const json_t *j, GError **error);
/* Frees an event from tf_event_from_json (NULL is fine). */
void tf_event_free(tf_event *ev);

#endif
