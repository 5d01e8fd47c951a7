/* lincheck.h: checks an operation history (ophistory.h) for linearizability against a
 * sequential model that the app supplies. The search is Wing & Gong's with Lowe's
 * memoisation of (set of linearized operations, model state), as in Porcupine; a model may
 * split the history into independent parts (e.g. by key) that are checked one by one.
 * A time limit turns an unfinished check into "unknown", never into "linearizable". */
#ifndef TF_LINCHECK_H
#define TF_LINCHECK_H

#include <glib.h>
#include <jansson.h>
#include "tf/error.h"
#include "tf/ophistory.h"
#include "tf/api.h"

G_BEGIN_DECLS

/* A sequential specification, filled in by the app (static, never freed by tf). States
 * and operations are the model's own objects; the checker never looks inside them. The
 * checker never modifies a state: step returns a new one, so no copy function is needed.
 * Equal states (state_equal) are merged by the checker, so each distinct state is kept
 * once. */
typedef struct tf_lin_model {
    const char *name; /* "register", "kv": for messages */
    /* Parses one operation (name, input, and output, NULL when the outcome is unknown:
     * then any output matches, so step must accept the op in every state) into the
     * model's form, owned by the checker (op_free).
     * NULL + an error (TF_ERROR_INVALID, "why") when the model has no such operation or
     * the input or output is malformed. */
    void *(*op_new)(const char *name, const json_t *input, const json_t *output,
                    GError **error);
    /* Frees an operation from op_new. */
    void (*op_free)(void *op);
    /* Optional: the independent part an operation belongs to (borrowed from op, e.g. its
     * key). Parts are checked apart, each from init(). Without the function the history
     * is one part; operations for which it returns NULL form one part together. */
    const char *(*op_partition)(const void *op);
    /* Optional: "write(3)", "read() -> 4" for reports (new string); when NULL, reports use
     * tf_op_describe. */
    char *(*op_describe)(const void *op);
    /* The initial state (new, freed with state_free). */
    void *(*init)(void);
    /* Applies op to state: FALSE when op's output cannot follow state (state unchanged).
     * On TRUE sets *next to a new state (freed with state_free), or to `state` itself when
     * op leaves it unchanged. Must not modify `state`, and must depend on nothing but its
     * arguments: the checker asks each (op, state) pair once and remembers the answer. */
    gboolean (*step)(const void *state, const void *op, void **next);
    /* TRUE when a and b are the same state. */
    gboolean (*state_equal)(const void *a, const void *b);
    /* A hash consistent with state_equal. */
    guint64 (*state_hash)(const void *s);
    /* Frees a state from init or step. */
    void (*state_free)(void *s);
    /* Optional: "register = 3" for reports (new string). */
    char *(*state_describe)(const void *s);
    /* Optional: sets drop[i] for operations of one part (`ops`, n of them, borrowed; with
     * known[i] TRUE when op i's outcome is known) that cannot change its verdict, so that
     * the search leaves them out: e.g. a register's unknown write of a value that no
     * operation observed. Only operations whose outcome is unknown may be dropped (the
     * checker ignores the others), and only when the part is linearizable with them if
     * and only if it is without them: unknown operations open until the end of the
     * history are what makes a search blow up. */
    void (*prune)(void *const *ops, const gboolean *known, guint n, gboolean *drop);
} tf_lin_model;

/* The outcome of a check. */
typedef enum {
    TF_LIN_OK,      /* linearizable: some order of the operations fits the model */
    TF_LIN_VIOLATION, /* not linearizable: no order fits (the search was complete) */
    TF_LIN_UNKNOWN, /* the time limit ran out before a verdict */
} tf_lin_verdict;

/* Options of a check (zeroed = defaults). */
typedef struct {
    gint64 timeout_us; /* time limit of the whole check; 0 = none */
    gboolean whole;    /* ignore the model's partition: check the history as one part */
    const char *source; /* where the history came from (a file): errors then read
                           "source:line: ..." for operations read from it; may be NULL */
} tf_lin_options;

/* What a check found. Owned by the caller: tf_lin_result_free. */
typedef struct {
    tf_lin_verdict verdict;
    char *summary;          /* one line: what the verdict rests on (always set) */
    guint ops;              /* operations checked (TF_OP_FAIL ones have no effect: skipped) */
    guint pruned;           /* of those, unknown ones the model's prune left out */
    guint parts;            /* independent parts checked (or started, when cut short) */
    guint64 steps;          /* search steps (an operation tried after a prefix), all parts */
    gsize peak_bytes;       /* the most memory the search tables of one part held (bytes;
                               the model's own state objects not included) */
    gint64 elapsed_us;      /* time the check took */
    /* TF_LIN_VIOLATION only (otherwise NULL / 0): */
    char *part;             /* the part that is not linearizable (NULL when one part) */
    guint part_events;      /* invocation and completion events of that part */
    guint prefix_events;    /* the longest prefix of that part's events (in time order) that
                               can be linearized: the next event cannot join it */
    guint64 failing_op;     /* the op completing at event prefix_events + 1: the shortest
                               prefix that cannot be linearized ends with it */
    GArray *linearized;     /* guint64 op ids: one linearization of that longest prefix, in
                               order (ops still pending in it may be left out) */
    GArray *involved;       /* guint64 op ids of the part's ops concurrent with failing_op
                               (their intervals overlap it), ascending */
    char *state;            /* model state after `linearized` (state_describe), or NULL */
} tf_lin_result;

/* Frees a result. NULL is a no-op. */
TF_API void tf_lin_result_free(tf_lin_result *r);
/* "linearizable" / "NOT linearizable" / "unknown" (static). */
TF_API const char *tf_lin_verdict_name(tf_lin_verdict v);

/* Checks the operations of `h` (a consistent copy taken now) against `model`. New result,
 * or NULL + TF_ERROR_INVALID "op N (line L): why" when the model rejects an operation.
 * `options` may be NULL. */
TF_API tf_lin_result *tf_lin_check(tf_ophistory *h, const tf_lin_model *model,
                                   const tf_lin_options *options, GError **error);
/* The same on an array of tf_op (borrowed), e.g. from tf_ophistory_ops. */
TF_API tf_lin_result *tf_lin_check_ops(GPtrArray *ops, const tf_lin_model *model,
                                       const tf_lin_options *options, GError **error);

/* Draws the history as SVG (new string, a whole document): one lane per process, a bar per
 * operation from invocation to completion (dashed to the right edge when unknown), in event
 * order. For a violation it draws the failing part around the failure: the failing op in
 * red (class "op failing"), the ops concurrent with it in orange ("op involved"), the
 * linearized prefix's ops numbered in their order; otherwise the whole history. `result`
 * and `model` may be NULL (plain drawing, generic descriptions). */
TF_API char *tf_lin_svg(GPtrArray *ops, const tf_lin_model *model, const tf_lin_result *result);
/* The same with fault windows (tf_fault *, borrowed; may be NULL) shaded behind the lanes,
 * each named, placed among the events by their times (class "fault"). */
TF_API char *tf_lin_svg_faults(GPtrArray *ops, GPtrArray *faults, const tf_lin_model *model,
                               const tf_lin_result *result);

/* A report of a result in several lines of text (new string): the verdict, what it rests
 * on and what the check cost; for a violation also the failing operation, the operations
 * concurrent with it and one linearization of the longest prefix, each with its process
 * and times, and the state it ends in. `ops` are the checked operations (borrowed);
 * `model` may be NULL. */
TF_API char *tf_lin_result_text(const tf_lin_result *r, GPtrArray *ops, const tf_lin_model *model);

/* Attaches a check of `ops` (borrowed) to the scenario's report: the text of
 * tf_lin_result_text as "linearizability.txt" and, for a violation, the drawing of
 * tf_lin_svg_faults (with the scenario history's fault windows) as "linearizability.svg". */
TF_API void tf_world_attach_lin_result(tf_world *world, GPtrArray *ops, const tf_lin_model *model,
                                       const tf_lin_result *r);

G_END_DECLS

#endif
