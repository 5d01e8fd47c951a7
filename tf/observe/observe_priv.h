/* observe_priv.h: internals shared by the runtime (writer) and handles (readers).
 * The hub is the one piece of state both sides touch: it outlives the runtime so that
 * handles stay valid after tf_runtime_free. Not a public header. */
#ifndef TF_OBSERVE_PRIV_H
#define TF_OBSERVE_PRIV_H

#include "tf/error.h"
#include "util/assert.h"
#include "util/sync.h"
#include "tf/handle.h"
#include "tf/observer.h"
#include "tf/runtime.h"
#include "tf/snapshot.h"

/* A refcounted NULL-terminated list of source names, shared by consecutive snapshots. */
typedef struct {
    gint refs;
    char **names;
} tf_names;
tf_names *tf_names_new(char **names); /* takes names */
tf_names *tf_names_ref(tf_names *n);
void tf_names_unref(tf_names *n);

/* Snapshot and batch constructors (take ownership of data/names/events). */
tf_snapshot *tf_snapshot_new(const tf_observer *obs, void *data, guint64 cycle,
                             gint64 cycle_started, gint64 time, tf_names *names);
tf_batch *tf_batch_new(const tf_observer *obs, guint64 seq, guint64 cycle, GPtrArray *events);
/* A batch read back from the journal (takes batch_json: tf_batch_to_json's shape). */
tf_batch *tf_batch_new_replayed(const tf_observer *obs, json_t *batch_json);
/* Wall-clock µs as ISO-8601 UTC with milliseconds, "2024-05-01T12:00:00.123Z": a new
 * string, or a JSON string value. */
char *tf_time_format(gint64 wall_us);
json_t *tf_time_to_json(gint64 wall_us);

/* The waker is the loop's doorbell: a mutex, a condition and two flags. */
struct tf_waker {
    gint refs;
    tf_mutex lock;
    tf_cond cond;
    gboolean pending;  /* a cycle was asked for */
    gboolean stopping; /* the loop must end */
};
tf_waker *tf_waker_new(void);

/* Per-source health as the hub keeps it. */
typedef struct {
    char *name;
    gboolean present;
    gint64 first_seen;
    gint64 last_success;
    gint64 last_success_wall;
    guint64 last_success_cycle; /* 0 = never */
    guint consecutive_failures;
    char *last_error;
} tf_status_entry;

/* What the cycle reports about one source. */
typedef struct {
    const char *name;
    gboolean ok;
    char *message; /* owned; NULL when ok */
} tf_source_report;

typedef struct tf_hub {
    gint refs;
    tf_mutex lock;
    tf_cond changed; /* broadcast on publish and on close */
    const tf_observer *obs;
    tf_waker *waker;
    gint64 (*clock)(void *);
    void *clock_data;
    gint64 stale_after;

    tf_snapshot **snaps; /* ring of the latest snap_cap snapshots */
    guint snap_cap, snap_len, snap_head;

    tf_batch **batches; /* ring of the latest batch_cap batches */
    guint batch_cap, batch_len, batch_head;
    guint64 last_seq;

    tf_failure *last_error;
    GHashTable *status; /* name -> tf_status_entry* */
    gboolean closed;
    tf_journal *journal; /* optional: every batch is appended before it is published */
} tf_hub;

tf_hub *tf_hub_new(const tf_observer *obs, const tf_runtime_config *cfg, tf_waker *waker);
tf_hub *tf_hub_ref(tf_hub *hub);
void tf_hub_unref(tf_hub *hub);
gint64 tf_hub_now(const tf_hub *hub);
/* Records a failure as the last error (takes ownership of message). */
void tf_hub_fail(tf_hub *hub, tf_stage stage, guint64 cycle, const char *source, char *message);
/* Applies a source-set change: names added (present again) and removed (gone). */
void tf_hub_sources(tf_hub *hub, GPtrArray *added, GPtrArray *removed, gint64 now);
/* Applies one cycle's per-source reports (array of tf_source_report). */
void tf_hub_reports(tf_hub *hub, GArray *reports, guint64 cycle, gint64 now);
/* Publishes a snapshot (taken) and a batch (taken, may be NULL); wakes readers. */
void tf_hub_publish(tf_hub *hub, tf_snapshot *snap, GPtrArray *events, guint64 cycle);
/* Attaches a journal (ref taken): the sequence continues from its last seq. Before the
 * first publish only. */
gboolean tf_hub_set_journal(tf_hub *hub, tf_journal *j, GError **error);
/* Makes the journal's commits durable (no-op without a journal). */
void tf_hub_flush_journal(tf_hub *hub);
/* Marks the hub closed; wakes every reader. */
void tf_hub_close(tf_hub *hub);

/* Handle internals (handle.c). */
tf_handle *tf_handle_new(tf_hub *hub);
tf_hub *tf_handle_hub(tf_handle *h);
tf_snapshot *tf_handle_latest_locked(tf_hub *hub);
/* The oldest snapshot still held whose cycle is after `after` (new ref), or NULL when
 * none is newer; *gone receives how many cycles after `after` the ring no longer holds. */
tf_snapshot *tf_hub_snapshot_after_locked(tf_hub *hub, guint64 after, guint64 *gone);
tf_failure *tf_failure_copy(const tf_failure *f);
/* tf_failure_describe with the failure's age at `now` (hub clock) and its wall-clock
 * time: "cycle 7, 2.5 s ago (2024-05-01T12:00:00.123Z), source n2: message". */
char *tf_failure_describe_at(const tf_failure *f, gint64 now);

#endif
