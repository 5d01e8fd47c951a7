/* observer.h: the vtable an app fills to be observed by a tf_runtime.
 * tf never knows what a state, snapshot or event is: the observer creates, converts and
 * frees them. The runtime calls every function from its own thread, one at a time,
 * except snapshot_to_json/event_to_json/free_snapshot/free_event, which readers may call
 * from any thread on immutable values. */
#ifndef TF_OBSERVER_H
#define TF_OBSERVER_H

#include <glib.h>
#include <jansson.h>
#include "tf/source.h"
#include "tf/api.h"

G_BEGIN_DECLS

typedef struct tf_http tf_http;

/* What the runtime hands to poll for one cycle: sources, clock, event sink, status sink.
 * Valid only during the poll call; owned by the runtime. */
typedef struct tf_poll_ctx tf_poll_ctx;

/* A thread-safe, refcounted way to ask the runtime for a cycle now (e.g. from a
 * long-poll thread the observer runs). Works after the runtime is gone: then it does nothing. */
typedef struct tf_waker tf_waker;

/* The observer vtable. Required: name, init, poll, snapshot, free_state, free_snapshot,
 * snapshot_to_json (tf_runtime_new names the first one missing). free_event and
 * event_to_json are optional as a pair: set both to emit events, or neither. An observer
 * without them that calls tf_poll_emit fails that cycle (stage "poll", naming the
 * observer) and its events are dropped unfreed. */
typedef struct {
    const char *name;     /* stable name, used in reports and fingerprints */
    guint version;        /* logic version; bump when the meaning of state changes */
    /* Creates the state from the app's config (borrowed). NULL + error on failure. */
    void *(*init)(const void *config, GError **error);
    /* Updates state from the sources of this cycle; emits events and per-source results
     * through ctx. FALSE + error fails the whole cycle (recorded, the run goes on). */
    gboolean (*poll)(void *state, tf_poll_ctx *ctx, GError **error);
    /* Returns a new immutable snapshot of state (owned by the runtime afterwards; NULL is
     * allowed: tf_snapshot_data then returns NULL). Readers on other threads keep it, so
     * it must share nothing mutable with state: copy what it shows. */
    void *(*snapshot)(void *state);
    void (*free_state)(void *state);
    void (*free_snapshot)(void *snapshot);
    void (*free_event)(void *event);
    /* New JSON value describing a snapshot/event (caller owns the reference). */
    json_t *(*snapshot_to_json)(const void *snapshot);
    json_t *(*event_to_json)(const void *event);
} tf_observer;

/* The cycle number being polled (1 for the first cycle). */
TF_API guint64 tf_poll_cycle(const tf_poll_ctx *ctx);
/* Monotonic time (µs) at which this cycle began, from the runtime's clock. */
TF_API gint64 tf_poll_now(const tf_poll_ctx *ctx);
/* The current sources (borrowed array of borrowed tf_source*, sorted by name). */
TF_API GPtrArray *tf_poll_sources(const tf_poll_ctx *ctx);
/* Sources that appeared / disappeared since the previous cycle (borrowed arrays, sorted
 * by name). A source whose url or attributes changed (tf_source_equal) is in both: the
 * old one removed, the new one added, e.g. a cluster node whose "state" went "stopped". */
TF_API GPtrArray *tf_poll_sources_added(const tf_poll_ctx *ctx);
TF_API GPtrArray *tf_poll_sources_removed(const tf_poll_ctx *ctx);
/* The runtime's HTTP client (borrowed; connections are kept between cycles). When the
 * runtime stops mid-cycle, unfinished requests fail with TF_ERROR_STOPPED (http.h): do
 * not report that as the source's failure. */
TF_API tf_http *tf_poll_http(const tf_poll_ctx *ctx);
/* The per-request timeout from the runtime config, in µs. */
TF_API gint64 tf_poll_request_timeout(const tf_poll_ctx *ctx);
/* Emits an event of this cycle; the runtime takes ownership (freed with free_event). The
 * cycle's events form one batch (tf_batch, handle.h). Needs free_event and event_to_json. */
TF_API void tf_poll_emit(tf_poll_ctx *ctx, void *event);
/* Reports that `source` answered this cycle (freshness). */
TF_API void tf_poll_source_ok(tf_poll_ctx *ctx, const tf_source *source);
/* Reports that `source` failed this cycle, e.g. node down; the cycle itself still
 * succeeds. The message is copied; it should say what failed and why ("n2: GET url:
 * connection refused", as tf_http_req_ok words it: tf names the source once either way).
 * Report each source once per cycle, ok or failed: one not reported keeps its previous
 * status (tf_handle_source_status) and turns stale after stale_after_us. */
TF_API void tf_poll_source_failed(tf_poll_ctx *ctx, const tf_source *source, const char *message);
/* A new reference to the runtime's waker (free with tf_waker_unref). */
TF_API tf_waker *tf_poll_waker(tf_poll_ctx *ctx);

/* Asks for a cycle as soon as possible; thread-safe; a no-op once the runtime is gone. */
TF_API void tf_waker_wake(tf_waker *w);
/* Adds a reference; returns w. */
TF_API tf_waker *tf_waker_ref(tf_waker *w);
/* Drops a reference. NULL is a no-op. */
TF_API void tf_waker_unref(tf_waker *w);

/* The fingerprint of obs's logic for its checkpoints (hex SHA-256, new string): its name,
 * version, canonical config (borrowed, may be NULL), the build-id of the object holding
 * its poll function and the fingerprints it builds on (NULL-terminated, may be NULL), as
 * tf_fingerprint (durable.h). NULL + error when the build-id cannot be read. */
TF_API char *tf_fingerprint_observer(const tf_observer *obs, json_t *config,
                                     const char *const *depends_on, GError **error);

G_END_DECLS

#endif
