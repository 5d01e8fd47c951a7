/* ophistory.h: a client operation history: what clients asked of a system and what it
 * answered, each operation with its invocation and completion time, as Jepsen records
 * it, for a linearizability check (lincheck.h). App-agnostic: an operation is a name, an
 * input and an output in JSON. Thread-safe: many client threads record into one history.
 * Named "ophistory" because in tf "history" already means an observer's event batches
 * (tf_handle_batches) and the store's journal (`tf history export`). */
#ifndef TF_OPHISTORY_H
#define TF_OPHISTORY_H

#include <stdio.h>
#include <glib.h>
#include <jansson.h>
#include "tf/api.h"

G_BEGIN_DECLS

/* How an operation ended. */
typedef enum {
    TF_OP_PENDING, /* invoked, not completed: a check treats it as TF_OP_UNKNOWN */
    TF_OP_OK,      /* completed; `output` says what the system answered */
    TF_OP_FAIL,    /* completed as not having happened: it had no effect (a check skips it) */
    TF_OP_UNKNOWN, /* the client gave up (time-out, lost connection): the operation may take
                      effect at any time after its invocation, up to the end of the history */
} tf_op_status;

/* One operation (a copy owned by whoever got it: tf_op_free). */
typedef struct {
    guint64 id;           /* 1, 2, ... in the order the invocations were recorded */
    gint64 process;       /* the client that issued it (one lane in drawings) */
    char *name;           /* the operation ("read", "put", "cas", ...) */
    json_t *input;        /* its argument; json null when it has none; never NULL */
    json_t *output;       /* TF_OP_OK: the answer (json null when none); otherwise NULL */
    char *error;          /* TF_OP_FAIL/UNKNOWN: why, as the client saw it; may be NULL */
    tf_op_status status;
    gint64 invoke_time;   /* monotonic µs (event index for histories read from Jepsen logs) */
    gint64 complete_time; /* when the completion was recorded (same clock); 0 while pending */
    guint line;           /* line of the invocation in the file it was read from; 0 when
                             recorded live */
} tf_op;

/* Frees an operation copy. NULL is a no-op. */
TF_API void tf_op_free(tf_op *op);
/* "pending" / "ok" / "fail" / "unknown" (static). */
TF_API const char *tf_op_status_name(tf_op_status status);
/* The operation as "name(input) -> output" in compact JSON, "-> fail", "-> unknown"
 * (new string). */
TF_API char *tf_op_describe(const tf_op *op);

/* A history. Owned by its creator (a scenario's world, a test): tf_ophistory_free. Every
 * function below may be called from any thread at any time before the free. */
typedef struct tf_ophistory tf_ophistory;

/* A new empty history (owned by the caller). */
TF_API tf_ophistory *tf_ophistory_new(void);
/* Frees the history and its operations. NULL is a no-op. No thread may still record. */
TF_API void tf_ophistory_free(tf_ophistory *h);

/* Records an invocation now (g_get_monotonic_time) and returns its operation id (> 0).
 * `input` is borrowed (the history keeps a deep copy; NULL means json null). */
TF_API guint64 tf_ophistory_invoke(tf_ophistory *h, gint64 process, const char *name,
                                   const json_t *input);
/* The same at an explicit time (µs on any clock the whole history shares). */
TF_API guint64 tf_ophistory_invoke_at(tf_ophistory *h, gint64 time, gint64 process,
                                      const char *name, const json_t *input);
/* Records operation `id`'s completion now. TF_OP_OK takes `output` (borrowed, deep-copied;
 * NULL means json null); TF_OP_FAIL and TF_OP_UNKNOWN take an optional `error` text.
 * FALSE + TF_ERROR_INVALID when the id is unknown, already completed, or status is
 * TF_OP_PENDING. */
TF_API gboolean tf_ophistory_complete(tf_ophistory *h, guint64 id, tf_op_status status,
                                      const json_t *output, const char *error, GError **err);
/* The same at an explicit time; FALSE + TF_ERROR_INVALID also when `time` precedes the
 * invocation. */
TF_API gboolean tf_ophistory_complete_at(tf_ophistory *h, gint64 time, guint64 id,
                                         tf_op_status status, const json_t *output,
                                         const char *error, GError **err);

/* Number of operations recorded (invoked) so far. */
TF_API guint tf_ophistory_len(tf_ophistory *h);
/* A consistent copy of every operation, by id (new array; it frees its elements). */
TF_API GPtrArray *tf_ophistory_ops(tf_ophistory *h);

/* Called for each event as it is recorded, with the event in the export form below
 * (borrowed for the call), in recording order; runs on the recording thread with the
 * history locked, so it must not call back into the history. For a journal or a live
 * report. */
typedef void (*tf_ophistory_listener)(const json_t *event, void *data);
/* Sets the listener (NULL clears it). `data` is borrowed until cleared or freed. */
TF_API void tf_ophistory_set_listener(tf_ophistory *h, tf_ophistory_listener fn, void *data);

/* ---- faults: when the system under test was being disturbed ------------------------
 * A history also holds fault windows, as Jepsen's holds its nemesis operations: when a
 * fault (a killed or paused node, a network partition) began and when it healed, on the
 * history's clock. The checker ignores them; they tell which operations completed during
 * faults, and they are exported, journaled and read back with the operations. */

/* One fault window (a copy owned by whoever got it: tf_fault_free). */
typedef struct {
    char *name;   /* what is disturbed: a node's name, "partition" */
    char *what;   /* how: "killed", "paused", "n1 | n2 n3"; may be NULL */
    gint64 begin; /* when it began (the history's clock) */
    gint64 end;   /* when it healed; 0 while it is active */
} tf_fault;

/* Frees a fault copy. NULL is a no-op. */
TF_API void tf_fault_free(tf_fault *f);
/* Records that fault `name` began now (g_get_monotonic_time); `what` may be NULL (both
 * copied). One name has one window at a time: an active fault of that name ends now. */
TF_API void tf_ophistory_fault_begin(tf_ophistory *h, const char *name, const char *what);
/* The same at an explicit time. */
TF_API void tf_ophistory_fault_begin_at(tf_ophistory *h, gint64 time, const char *name,
                                        const char *what);
/* Records that the active fault `name` healed now; NULL heals every active fault.
 * Returns how many ended (0 when none was active: nothing is recorded). */
TF_API guint tf_ophistory_fault_end(tf_ophistory *h, const char *name);
/* The same at an explicit time (a fault never ends before it began: such an end is
 * recorded at its beginning). */
TF_API guint tf_ophistory_fault_end_at(tf_ophistory *h, gint64 time, const char *name);
/* A consistent copy of every fault window, in the order they began (new array; it frees
 * its elements). */
TF_API GPtrArray *tf_ophistory_faults(tf_ophistory *h);
/* TRUE when `time` lies inside one of `faults` (tf_fault *; an active one has no end). */
TF_API gboolean tf_faults_cover(GPtrArray *faults, gint64 time);

/* tf's own export form: NDJSON, one event a line, in time order:
 *   {"event":"invoke","op":1,"process":0,"name":"write","input":3,"time":1000}
 *   {"event":"ok","op":1,"output":null,"time":1250}
 *   {"event":"fail","op":2,"error":"...","time":1300}      ("error" optional)
 *   {"event":"unknown","op":3,"error":"timed out","time":1400}
 *   {"event":"fault","fault":"n1","what":"killed","time":1100}   ("what" optional)
 *   {"event":"healed","fault":"n1","time":1900}
 * An operation invoked but never completed stays pending; a fault never healed stays
 * active. */

/* The event of operation `op` (its invocation, or its completion when `completion`) in the
 * export form (new reference; NULL for the completion of a pending op). */
TF_API json_t *tf_op_event_json(const tf_op *op, gboolean completion);
/* The event of fault `f` (its beginning, or its healing when `healed`) in the export form
 * (new reference; NULL for the healing of an active fault). */
TF_API json_t *tf_fault_event_json(const tf_fault *f, gboolean healed);
/* Writes the history to `out` in the export form. FALSE + TF_ERROR_IO on a write error. */
TF_API gboolean tf_ophistory_write(tf_ophistory *h, FILE *out, GError **error);

/* The journal stream of a scenario's history (tf_world_ophistory): in `tf history export`
 * its batches carry the history's events. */
#define TF_OPHISTORY_STREAM "ophistory"

/* Reads a history from text (`len` bytes; `name` names it in errors). Recognises, by its
 * first operation line:
 *  - tf's export form (above), also wrapped in `tf history export` batch lines
 *    ({"run":..,"stream":...,"events":[event, ...]}): only batches of TF_OPHISTORY_STREAM
 *    streams are read (an export also holds observers' streams), and they must all belong
 *    to one history (tf_ophistory_parse_all reads an export of several);
 *  - Jepsen's log: "INFO  jepsen.util - PROC\t:TYPE\t:F\tVALUE" (other lines are skipped);
 *  - Jepsen's EDN maps, one a line: {:process P, :type :invoke, :f :get, :key "k", :value v}.
 * In both Jepsen forms :invoke/:ok/:fail/:info map to invoke/ok/fail/unknown, a process
 * runs one operation at a time, VALUE (EDN) becomes JSON (nil -> null, :kw -> "kw",
 * [a b] -> [a,b]) and is the input at :invoke and the output at :ok; extra fields of an
 * EDN invocation (:key) make the input an object of them plus "value". Event times are
 * line numbers. New history, or NULL + TF_ERROR_PARSE "name:line: why". */
TF_API tf_ophistory *tf_ophistory_parse(const char *name, const char *text, gsize len,
                                        GError **error);
/* Reads every history of text as tf_ophistory_parse does: one for most files, one per
 * TF_OPHISTORY_STREAM stream (a scenario's execution) for a `tf history export` of a
 * run. New array of tf_ophistory_part (it frees them), in the order they first appear, or
 * NULL + TF_ERROR_PARSE. Histories with faults but no operations are left out. */
typedef struct {
    char *label;     /* which stream: "run 3, execution 7 (scenario 'x', attempt 0)";
                        NULL when the text is not an export of streams */
    tf_ophistory *history;
} tf_ophistory_part;
TF_API GPtrArray *tf_ophistory_parse_all(const char *name, const char *text, gsize len,
                                         GError **error);
/* Frees a part and its history. NULL is a no-op. */
TF_API void tf_ophistory_part_free(tf_ophistory_part *part);
/* Reads the file at `path` as tf_ophistory_parse does. NULL + TF_ERROR_IO when unreadable. */
TF_API tf_ophistory *tf_ophistory_load(const char *path, GError **error);
/* Reads the file at `path` as tf_ophistory_parse_all does. NULL + TF_ERROR_IO when
 * unreadable. */
TF_API GPtrArray *tf_ophistory_load_all(const char *path, GError **error);

/* ---- the scenario's history (tf/lin/world.c) ---------------------------------------
 * These read the runner's world (steps.h), as the durable store's world functions do. */
typedef struct tf_world tf_world; /* steps.h */

/* The client history of the scenario of `world` (borrowed: made on first use, freed when
 * the world ends, after what was stored in the world later, such as client threads).
 * With a durable store in the world (tf_world_store), every event is also appended, as it
 * is recorded, to the journal stream TF_OPHISTORY_STREAM of the scenario's execution.
 * NULL + error when the world has a store but that journal cannot be opened. */
TF_API tf_ophistory *tf_world_ophistory(tf_world *world, GError **error);
/* The scenario's history when one was made, else NULL (borrowed; never makes one). */
TF_API tf_ophistory *tf_world_ophistory_peek(tf_world *world);
/* Records in the scenario's history (made on first use) that fault `name` (a node's name,
 * "partition") began now; `what` says how ("killed", "n1 | n2 n3"; may be NULL). What
 * kill, pause, stop and partition steps call, so that a check can tell which operations
 * completed during faults. FALSE + error as tf_world_ophistory. */
TF_API gboolean tf_world_fault_begin(tf_world *world, const char *name, const char *what,
                                     GError **error);
/* Records that the active fault `name` healed now (NULL: every active fault). Nothing
 * when the scenario has no history or no such fault is active. */
TF_API void tf_world_fault_end(tf_world *world, const char *name);
/* Attaches the scenario's history, when it has one, to the report as "ophistory.ndjson"
 * (application/x-ndjson, the export form). FALSE + error when it cannot be written. (A
 * journal that lost events fails the step during which it did: the runner checks the
 * world's journals after each step and hook.) */
TF_API gboolean tf_world_ophistory_attach(tf_world *world, GError **error);

G_END_DECLS

#endif
