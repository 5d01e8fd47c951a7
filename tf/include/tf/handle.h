/* handle.h: the read side of a runtime. Thread-safe; any number of handles and threads.
 * Latest snapshot, bounded histories, per-source status, last error, subscriptions with
 * exact lag accounting, and waiting until a condition holds (never sleep-and-retry). */
#ifndef TF_HANDLE_H
#define TF_HANDLE_H

#include <glib.h>
#include "tf/runtime.h"
#include "tf/snapshot.h"
#include "tf/api.h"

G_BEGIN_DECLS

/* Adds a reference; returns h. */
TF_API tf_handle *tf_handle_ref(tf_handle *h);
/* Drops a reference. NULL is a no-op. */
TF_API void tf_handle_unref(tf_handle *h);
/* Name of the observer behind the handle (borrowed, static). */
TF_API const char *tf_handle_name(const tf_handle *h);

/* The latest snapshot (new ref) or NULL before the first cycle. */
TF_API tf_snapshot *tf_handle_latest(tf_handle *h);
/* Past snapshots, oldest first, the latest included (new array of new refs; free with
 * g_ptr_array_unref, which unrefs them). At most snapshot_history + 1 entries. */
TF_API GPtrArray *tf_handle_snapshots(tf_handle *h);
/* Recorded event batches still in memory, oldest first (new array of new refs). */
TF_API GPtrArray *tf_handle_batches(tf_handle *h);
/* Sequence number of the last recorded batch (0 when none). */
TF_API guint64 tf_handle_last_seq(tf_handle *h);
/* TRUE once the runtime has stopped (or been freed). */
TF_API gboolean tf_handle_closed(tf_handle *h);
/* Asks the runtime for a cycle now; no-op once it is gone. */
TF_API void tf_handle_wake(tf_handle *h);

/* Where a failure happened. */
typedef enum {
    TF_STAGE_REFRESH, /* the source provider failed */
    TF_STAGE_POLL,    /* the observer's poll failed */
    TF_STAGE_SOURCE,  /* one source failed while the cycle succeeded */
    TF_STAGE_JOURNAL, /* the journal (tf_runtime_set_journal) could not record a batch */
} tf_stage;

/* A recorded failure (a copy owned by the caller: tf_failure_free). */
typedef struct {
    tf_stage stage;
    guint64 cycle;
    gint64 time;      /* monotonic µs */
    gint64 wall_time; /* wall-clock µs */
    char *source;     /* source name for TF_STAGE_SOURCE, else NULL */
    char *message;
} tf_failure;

/* Frees a failure copy. NULL is a no-op. */
TF_API void tf_failure_free(tf_failure *f);
/* "refresh" / "poll" / "source" (static). */
TF_API const char *tf_stage_name(tf_stage stage);
/* The most recent failure (new copy) or NULL when none was ever recorded. */
TF_API tf_failure *tf_handle_last_error(tf_handle *h);
/* A failure as "cycle 7, poll: message" or "cycle 7, source n2: message" (new string);
 * a message that starts with "n2: " itself is not prefixed twice. */
TF_API char *tf_failure_describe(const tf_failure *f);

/* Freshness and health of one source (a copy owned by the caller). */
typedef struct {
    char *name;
    gboolean present;           /* still in the current source set */
    gint64 first_seen;          /* monotonic µs */
    gint64 last_success;        /* monotonic µs, 0 = never */
    gint64 last_success_wall;   /* wall-clock µs, 0 = never */
    guint consecutive_failures;
    char *last_error;           /* NULL when none */
    gboolean stale;             /* no success within stale_after (computed now) */
} tf_source_status;

/* Statuses of every source seen (present or gone), by name (new array; the array frees
 * its elements). */
TF_API GPtrArray *tf_handle_source_status(tf_handle *h);

/* A cursor over event batches. Owned by the caller: tf_sub_free. One thread at a time. */
typedef struct tf_sub tf_sub;

/* Result of tf_sub_next. */
typedef enum {
    TF_SUB_BATCH,   /* *out holds the next batch */
    TF_SUB_TIMEOUT, /* nothing new within the timeout */
    TF_SUB_LAGGED,  /* the reader fell behind the ring: *lost batches are gone; the cursor
                       moved to the oldest kept batch */
    TF_SUB_CLOSED,  /* the runtime stopped and every recorded batch was read */
} tf_sub_status;

/* Subscribes starting after sequence number `after_seq` (0 = from the first batch ever;
 * tf_handle_last_seq(h) = only new batches). With a journal (tf_runtime_set_journal),
 * batches the ring no longer holds (or that an earlier process recorded) are read back
 * from it; only batches the journal lost too (retention) are reported as LAGGED. */
TF_API tf_sub *tf_handle_subscribe(tf_handle *h, guint64 after_seq);
/* Waits up to timeout_us (0 = do not wait, <0 = forever) for the next batch.
 * On TF_SUB_BATCH *out is a new ref. On TF_SUB_LAGGED *lost is the exact count. */
TF_API tf_sub_status tf_sub_next(tf_sub *sub, gint64 timeout_us, tf_batch **out, guint64 *lost);
/* TRUE for a batch read back from the journal: it carries its events as JSON only
 * (tf_batch_to_json is what was recorded; tf_batch_len counts them; tf_batch_event
 * returns NULL). Batches from the in-memory ring always return FALSE. */
TF_API gboolean tf_batch_replayed(const tf_batch *b);
/* Sequence number of the last batch delivered (or the start point). */
TF_API guint64 tf_sub_cursor(const tf_sub *sub);
/* Frees the cursor. NULL is a no-op. */
TF_API void tf_sub_free(tf_sub *sub);

/* A condition on a published snapshot. Called on the waiting thread, without locks, once
 * per snapshot (see tf_handle_wait_for); it may keep state in data across calls. */
typedef gboolean (*tf_predicate)(const tf_snapshot *snap, void *data);
/* Optional progress text for status lines ("2/3 nodes up"); returns a new string. */
typedef char *(*tf_progress)(const tf_snapshot *snap, void *data);

/* A wait request. `what` names the condition in timeouts and status lines. */
typedef struct {
    tf_predicate pred;
    void *data;
    const char *what;
    gint64 timeout_us;     /* > 0 */
    gint64 fresh_after;    /* monotonic µs: only snapshots whose cycle began later count
                              (and the runtime is woken); 0 = any snapshot */
    tf_progress progress;  /* may be NULL */
} tf_wait;

/* The range TF_TIMEOUT_SCALE may take. */
#define TF_TIMEOUT_SCALE_MIN 0.01
#define TF_TIMEOUT_SCALE_MAX 1000.0
/* The factor every wait timeout is multiplied by: $TF_TIMEOUT_SCALE (read once per
 * process; `tf run --timeout-scale F` sets it), 1 when unset. For loaded machines and
 * parallel runs: tf_handle_wait*, tf run's step timeout and cluster readiness apply it. */
TF_API double tf_timeout_scale(void);
/* timeout_us times tf_timeout_scale() (at least 1 us); <= 0 is returned as it is. */
TF_API gint64 tf_timeout_scaled(gint64 timeout_us);

/* Blocks until pred holds on a published snapshot and returns that snapshot (new ref).
 * The timeout waited is w->timeout_us scaled by tf_timeout_scale().
 * pred sees the latest snapshot at the call, then every later one once, in order, and
 * the first on which it holds is returned: a condition that held for one cycle counts
 * even if the runtime published more while pred ran (the result may then be older than
 * tf_handle_latest). Snapshots that left the ring (snapshot_history) before the waiter
 * reached them cannot be checked; a timeout names their cycles.
 * On timeout: NULL + TF_ERROR_TIMEOUT whose message names what was awaited, for how
 * long, the last snapshot as JSON (with its age and wall-clock time) and the last error
 * (with its age, and whether its source has answered since). On stop: TF_ERROR_STOPPED. */
TF_API tf_snapshot *tf_handle_wait_for(tf_handle *h, const tf_wait *w, GError **error);
/* Shorthand for tf_handle_wait_for with any snapshot accepted. */
TF_API tf_snapshot *tf_handle_wait(tf_handle *h, tf_predicate pred, void *data, const char *what,
                                   gint64 timeout_us, GError **error);
/* Shorthand: waits for a snapshot whose cycle began after `after` (monotonic µs), e.g. a
 * read that must reflect an action a step just took. Wakes the runtime. */
TF_API tf_snapshot *tf_handle_wait_fresh(tf_handle *h, gint64 after, gint64 timeout_us,
                                         GError **error);

/* Called while a wait blocks, after each snapshot it checked (for live status lines).
 * elapsed/timeout in µs; progress may be NULL. Runs on the waiting thread. */
typedef void (*tf_wait_listener)(const char *what, const char *progress, gint64 elapsed_us,
                                 gint64 timeout_us, void *data);
/* Sets the listener for waits made on the calling thread (NULL clears it). Thread-local:
 * the runner sets it on the thread that runs steps. */
TF_API void tf_wait_set_listener(tf_wait_listener fn, void *data);

G_END_DECLS

#endif
