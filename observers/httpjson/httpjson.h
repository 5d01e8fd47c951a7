/* httpjson.h: a generic observer of JSON endpoints: one request per source per cycle.
 * It knows nothing of what the JSON means: it extracts configured fields (by JSON path
 * "a.b.0.c") and reports their values and changes. Demos, benchmarks and any service
 * with a JSON status endpoint use it as is. */
#ifndef HTTPJSON_H
#define HTTPJSON_H

#include <tf/observer.h>

/* Observer config (borrowed by init, copied). */
typedef struct {
    const char *path;          /* appended to each source's url, e.g. "/status" */
    const char *body;          /* POST body (JSON text) or NULL for GET */
    const char *const *fields; /* NULL-terminated field paths; NULL = the whole body */
} httpjson_config;

/* One source in a snapshot. */
typedef struct {
    char *name;
    gboolean up;        /* answered with valid JSON this cycle */
    json_t *values;     /* object: field path -> value (or "body" -> whole body); owned */
    char *error;        /* why it is down; NULL when up */
    guint64 changes;    /* how many times its values changed */
} httpjson_node;

/* Snapshot: nodes sorted by name. */
typedef struct {
    guint n;
    httpjson_node *nodes;
    guint up;
} httpjson_snapshot;

/* Event kinds. */
typedef enum { HTTPJSON_CHANGED, HTTPJSON_UP, HTTPJSON_DOWN } httpjson_event_kind;

/* Event: a source's values changed, or it went up or down. */
typedef struct {
    httpjson_event_kind kind;
    char *source;
    json_t *old_values, *new_values; /* CHANGED only; owned */
    char *error;                     /* DOWN only */
} httpjson_event;

/* The observer vtable (static). */
extern const tf_observer httpjson_observer;

/* The node named `name` in a snapshot, or NULL (borrowed). */
const httpjson_node *httpjson_snapshot_node(const httpjson_snapshot *s, const char *name);
/* A field's value on a node, or NULL (borrowed). */
json_t *httpjson_node_field(const httpjson_node *n, const char *field);
/* Looks up a dotted path ("a.b.0") in a JSON value (borrowed result, NULL if absent). */
json_t *httpjson_path_get(json_t *root, const char *path);

#endif
