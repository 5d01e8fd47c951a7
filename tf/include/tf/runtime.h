/* runtime.h: the observation loop. One runtime = one observer over a changing source set.
 * Each cycle: refresh sources, poll, publish a snapshot, record the event batch, signal
 * readers. Readers use tf_handle (handle.h); the runtime owns its thread and its state. */
#ifndef TF_RUNTIME_H
#define TF_RUNTIME_H

#include <glib.h>
#include "tf/observer.h"
#include "tf/source.h"
#include "tf/api.h"

G_BEGIN_DECLS

typedef struct tf_handle tf_handle;
typedef struct tf_journal tf_journal; /* durable.h */

/* Runtime settings. Fill with tf_runtime_config_init, then change what you need. */
typedef struct {
    gint64 interval_us;         /* time between cycle starts; must be > 0 */
    guint event_history;        /* event batches kept in memory (0 keeps none) */
    guint snapshot_history;     /* past snapshots kept in memory besides the latest */
    gint64 request_timeout_us;  /* per-source request timeout handed to poll */
    gint64 stale_after_us;      /* a source with no success for this long is stale */
    /* Optional clock (monotonic µs) for deterministic tests; NULL = g_get_monotonic_time.
     * Handles read it too, so clock_data must outlive the runtime and every handle. */
    gint64 (*clock)(void *clock_data);
    void *clock_data;
} tf_runtime_config;

/* Fills cfg with defaults: 100 ms interval, 1024 batches, 64 snapshots, 2 s request
 * timeout, 3 s stale-after, real clock. */
TF_API void tf_runtime_config_init(tf_runtime_config *cfg);

/* The runtime. Owned by its creator: tf_runtime_free ends it. */
typedef struct tf_runtime tf_runtime;

/* Creates a stopped runtime. obs is borrowed (must outlive every snapshot: usually
 * static); observer_config is borrowed during init only; provider is taken (owned) even
 * on failure. Validates cfg and obs: NULL + TF_ERROR_INVALID naming the bad field. */
TF_API tf_runtime *tf_runtime_new(const tf_runtime_config *cfg, const tf_observer *obs,
                                  const void *observer_config, tf_source_provider *provider,
                                  GError **error);
/* Starts the loop thread; the first cycle runs at once. FALSE + error if already started. */
TF_API gboolean tf_runtime_start(tf_runtime *rt, GError **error);
/* Runs one cycle on the calling thread (only while not started; for tests and tools).
 * Returns FALSE with the cycle's error if the cycle failed (it is also recorded). */
TF_API gboolean tf_runtime_cycle(tf_runtime *rt, GError **error);
/* Asks for a cycle now instead of at the next interval; thread-safe. */
TF_API void tf_runtime_wake(tf_runtime *rt);
/* Stops the loop and joins it; every waiter wakes with TF_ERROR_STOPPED and every
 * subscription reports CLOSED. Idempotent. */
TF_API void tf_runtime_stop(tf_runtime *rt);
/* Stops if needed and frees the runtime, its state and provider. Handles stay valid
 * (they keep the published data); NULL is a no-op. */
TF_API void tf_runtime_free(tf_runtime *rt);
/* Journals every event batch into j (a reference is taken) before publishing it: the
 * sequence continues from the journal's last seq, subscriptions fall back to it for
 * batches the ring dropped, and stop flushes it. Only before the first cycle; a failed
 * append is recorded (stage "journal") and ends journaling. FALSE + error otherwise. */
TF_API gboolean tf_runtime_set_journal(tf_runtime *rt, tf_journal *j, GError **error);
/* A new handle on this runtime (free with tf_handle_unref). */
TF_API tf_handle *tf_runtime_handle(tf_runtime *rt);
/* The observer this runtime runs (borrowed). */
TF_API const tf_observer *tf_runtime_observer(const tf_runtime *rt);

G_END_DECLS

#endif
