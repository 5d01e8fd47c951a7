/* httpstatus.h: an observer of plain HTTP services, written against tf's public API only.
 * Each cycle it sends one GET to every source (all at once, through the runtime's HTTP
 * client), records per node whether it answered 2xx, with what status and how fast, and
 * emits an event when a node goes down or comes back. Steps read its snapshots. */
#ifndef HTTPSTATUS_H
#define HTTPSTATUS_H

#include <tf/tf.h>

/* Observer config, borrowed during init only (the observer copies it). */
typedef struct {
    const char *path; /* appended to each source's URL; NULL = "/" */
} httpstatus_config;

/* One node as last observed. */
typedef struct {
    char *name;
    gboolean up;         /* answered 2xx in the last cycle */
    long http_status;    /* last HTTP status, 0 when the transport failed */
    gint64 latency_us;   /* duration of the last request */
    char *error;         /* why it is down, NULL when up */
    char *state;         /* the launcher's view ("running", "stopped"...), NULL if none */
} httpstatus_node;

/* A snapshot: every current node, sorted by name. Immutable once published. */
typedef struct {
    guint n_nodes;
    httpstatus_node *nodes;
    guint n_up;
} httpstatus_snapshot;

/* An event: a node came up or went down (the first cycle reports each node once). */
typedef enum { HTTPSTATUS_UP, HTTPSTATUS_DOWN } httpstatus_event_kind;
typedef struct {
    httpstatus_event_kind kind;
    char *node;
    long http_status;
    char *error; /* DOWN only */
} httpstatus_event;

/* The observer (static; hand it to tf_runtime_new with a httpstatus_config*). */
extern const tf_observer httpstatus_observer;

/* The node called name in a snapshot, or NULL (borrowed from the snapshot). */
const httpstatus_node *httpstatus_find(const httpstatus_snapshot *s, const char *name);

#endif
