/* ophistory.h: a client operation history: what clients asked of a system and what it
 * answered, each operation with its invocation and completion time, as Jepsen records
 * it, for a linearizability check (lincheck.h). App-agnostic: an operation is a name, an
 * input and an output in JSON. Thread-safe: many client threads record into one history.
 * Named "ophistory" because in tf "history" already means an observer's event batches
 * (tf_handle_history) and the store's journal (`tf history export`). */
#ifndef TF_OPHISTORY_H
#define TF_OPHISTORY_H

#include <stdio.h>
#include <glib.h>
#include <jansson.h>

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
void tf_op_free(tf_op *op);
/* "pending" / "ok" / "fail" / "unknown" (static). */
const char *tf_op_status_name(tf_op_status status);
/* The operation as "name(input) -> output" in compact JSON, "-> fail", "-> unknown"
 * (new string). */
char *tf_op_describe(const tf_op *op);

/* A history. Owned by its creator (a scenario's world, a test): tf_ophistory_free. Every
 * function below may be called from any thread at any time before the free. */
typedef struct tf_ophistory tf_ophistory;

/* A new empty history (owned by the caller). */
tf_ophistory *tf_ophistory_new(void);
/* Frees the history and its operations. NULL is a no-op. No thread may still record. */
void tf_ophistory_free(tf_ophistory *h);

/* Records an invocation now (g_get_monotonic_time) and returns its operation id (> 0).
 * `input` is borrowed (the history keeps a deep copy; NULL means json null). */
guint64 tf_ophistory_invoke(tf_ophistory *h, gint64 process, const char *name,
                            const json_t *input);
/* The same at an explicit time (µs on any clock the whole history shares). */
guint64 tf_ophistory_invoke_at(tf_ophistory *h, gint64 time, gint64 process,
                               const char *name, const json_t *input);
/* Records operation `id`'s completion now. TF_OP_OK takes `output` (borrowed, deep-copied;
 * NULL means json null); TF_OP_FAIL and TF_OP_UNKNOWN take an optional `error` text.
 * FALSE + TF_ERROR_INVALID when the id is unknown, already completed, or status is
 * TF_OP_PENDING. */
gboolean tf_ophistory_complete(tf_ophistory *h, guint64 id, tf_op_status status,
                               const json_t *output, const char *error, GError **err);
/* The same at an explicit time; FALSE + TF_ERROR_INVALID also when `time` precedes the
 * invocation. */
gboolean tf_ophistory_complete_at(tf_ophistory *h, gint64 time, guint64 id,
                                  tf_op_status status, const json_t *output,
                                  const char *error, GError **err);

/* Number of operations recorded (invoked) so far. */
guint tf_ophistory_len(tf_ophistory *h);
/* A consistent copy of every operation, by id (new array; it frees its elements). */
GPtrArray *tf_ophistory_ops(tf_ophistory *h);

/* Called for each event as it is recorded, with the event in the export form below
 * (borrowed for the call), in recording order; runs on the recording thread with the
 * history locked, so it must not call back into the history. For a journal or a live
 * report. */
typedef void (*tf_ophistory_listener)(const json_t *event, void *data);
/* Sets the listener (NULL clears it). `data` is borrowed until cleared or freed. */
void tf_ophistory_set_listener(tf_ophistory *h, tf_ophistory_listener fn, void *data);

/* tf's own export form: NDJSON, one event a line, in time order:
 *   {"event":"invoke","op":1,"process":0,"name":"write","input":3,"time":1000}
 *   {"event":"ok","op":1,"output":null,"time":1250}
 *   {"event":"fail","op":2,"error":"...","time":1300}      ("error" optional)
 *   {"event":"unknown","op":3,"error":"timed out","time":1400}
 * An operation invoked but never completed stays pending. */

/* The event of operation `op` (its invocation, or its completion when `completion`) in the
 * export form (new reference; NULL for the completion of a pending op). */
json_t *tf_op_event_json(const tf_op *op, gboolean completion);
/* Writes the history to `out` in the export form. FALSE + TF_ERROR_IO on a write error. */
gboolean tf_ophistory_write(tf_ophistory *h, FILE *out, GError **error);

/* Reads a history from text (`len` bytes; `name` names it in errors). Recognises, by its
 * first operation line:
 *  - tf's export form (above), also wrapped in `tf history export` batch lines
 *    ({"stream":...,"events":[event, ...]});
 *  - Jepsen's log: "INFO  jepsen.util - PROC\t:TYPE\t:F\tVALUE" (other lines are skipped);
 *  - Jepsen's EDN maps, one a line: {:process P, :type :invoke, :f :get, :key "k", :value v}.
 * In both Jepsen forms :invoke/:ok/:fail/:info map to invoke/ok/fail/unknown, a process
 * runs one operation at a time, VALUE (EDN) becomes JSON (nil -> null, :kw -> "kw",
 * [a b] -> [a,b]) and is the input at :invoke and the output at :ok; extra fields of an
 * EDN invocation (:key) make the input an object of them plus "value". Event times are
 * line numbers. New history, or NULL + TF_ERROR_PARSE "name:line: why". */
tf_ophistory *tf_ophistory_parse(const char *name, const char *text, gsize len,
                                 GError **error);
/* Reads the file at `path` as tf_ophistory_parse does. NULL + TF_ERROR_IO when unreadable. */
tf_ophistory *tf_ophistory_load(const char *path, GError **error);

G_END_DECLS

#endif
