/* snapshot.h: what a runtime publishes each cycle, and the event batches it records.
 * Both are immutable and refcounted: readers on any thread keep them as long as they like. */
#ifndef TF_SNAPSHOT_H
#define TF_SNAPSHOT_H

#include <glib.h>
#include <jansson.h>
#include "tf/observer.h"
#include "tf/api.h"

G_BEGIN_DECLS

/* One published view: cycle number, times, source names and the observer's snapshot. */
typedef struct tf_snapshot tf_snapshot;

/* Adds a reference; returns snap. */
TF_API tf_snapshot *tf_snapshot_ref(tf_snapshot *snap);
/* Drops a reference; at zero frees the observer's snapshot too. NULL is a no-op. */
TF_API void tf_snapshot_unref(tf_snapshot *snap);
/* Cycle number that produced it (1-based). */
TF_API guint64 tf_snapshot_cycle(const tf_snapshot *snap);
/* Monotonic time (µs) at which its cycle began. */
TF_API gint64 tf_snapshot_cycle_started(const tf_snapshot *snap);
/* Monotonic and wall-clock time (µs) at which it was published. */
TF_API gint64 tf_snapshot_time(const tf_snapshot *snap);
TF_API gint64 tf_snapshot_wall_time(const tf_snapshot *snap);
/* Names of the sources of its cycle (borrowed, NULL-terminated). */
TF_API const char *const *tf_snapshot_sources(const tf_snapshot *snap);
/* The observer's own snapshot (borrowed; immutable; cast to the observer's type). */
TF_API const void *tf_snapshot_data(const tf_snapshot *snap);
/* The observer that made it (borrowed). */
TF_API const tf_observer *tf_snapshot_observer(const tf_snapshot *snap);
/* New JSON: {"cycle","time","wall_time","sources":[..],"state":observer JSON}. */
TF_API json_t *tf_snapshot_to_json(const tf_snapshot *snap);

/* The non-empty event list of one cycle, with a gapless global sequence number. */
typedef struct tf_batch tf_batch;

/* Adds a reference; returns b. */
TF_API tf_batch *tf_batch_ref(tf_batch *b);
/* Drops a reference; at zero frees its events. NULL is a no-op. */
TF_API void tf_batch_unref(tf_batch *b);
/* Sequence number (1 for the first batch a runtime records, then +1 each). */
TF_API guint64 tf_batch_seq(const tf_batch *b);
/* Cycle that emitted it; wall-clock time (µs) when it was recorded. */
TF_API guint64 tf_batch_cycle(const tf_batch *b);
TF_API gint64 tf_batch_wall_time(const tf_batch *b);
/* Number of events and the i-th event (borrowed, observer's type). */
TF_API guint tf_batch_len(const tf_batch *b);
TF_API const void *tf_batch_event(const tf_batch *b, guint i);
/* New JSON: {"seq","cycle","wall_time","events":[event JSON...]}. */
TF_API json_t *tf_batch_to_json(const tf_batch *b);

G_END_DECLS

#endif
