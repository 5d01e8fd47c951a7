/* raftkv.h: the Raft KV cluster observer: who leads, in which term, who is reachable,
 * and whether Election Safety (at most one leader per term) held over the whole run.
 * Adapters turn a node's status endpoint (etcd v3, or any JSON endpoint whose field
 * paths a source declares) into a raftkv_status; the model does the rest. */
#ifndef RAFTKV_H
#define RAFTKV_H

#include <tf/observer.h>

/* One node's status as an adapter read it. Strings owned by the struct. */
typedef struct {
    char *id;       /* the node's own member id */
    char *leader;   /* the leader it knows, or NULL when it knows none */
    guint64 term, commit;
    guint64 applied; /* what its state machine holds: a local read sees every entry up to it */
} raftkv_status;

/* A node as the snapshot shows it. */
typedef struct {
    char *name;          /* source name */
    char *id;            /* member id, NULL until first reached */
    gboolean reachable;  /* answered this cycle */
    gboolean is_leader;  /* it reports itself as leader */
    char *leader;        /* the leader it knows (node name when known, else its id) */
    guint64 term, commit, applied;
    gint64 last_seen;    /* monotonic µs of its last answer, 0 = never */
    char *error;         /* why it is unreachable; NULL when reachable */
} raftkv_node;

/* Snapshot of the cluster. Immutable; owned by the runtime's snapshot. */
typedef struct {
    guint n;                 /* members (sources) */
    raftkv_node *nodes;      /* sorted by name */
    guint reachable;
    gboolean quorum;         /* reachable > n / 2 */
    char *leader;            /* agreed by a majority of reachable nodes (name or id), or NULL */
    guint64 leader_term;     /* term of the agreed leader (0 without one) */
    guint64 max_term;        /* highest term any node reported */
    gint64 leaderless_since; /* monotonic µs since when no leader is agreed; 0 with a leader */
    guint64 elections;       /* leader_elected events so far */
    guint violations;        /* Election Safety violations so far */
    char *violation;         /* the first violation, described; NULL when none */
} raftkv_snapshot;

/* Event kinds. */
typedef enum {
    RAFTKV_NODE_UP,
    RAFTKV_NODE_DOWN,
    RAFTKV_LEADER_ELECTED,
    RAFTKV_LEADER_LOST,
    RAFTKV_TERM_CHANGED,
    RAFTKV_SAFETY_VIOLATION,
} raftkv_event_kind;

/* An event. Fields not meaningful for a kind are 0/NULL. */
typedef struct {
    raftkv_event_kind kind;
    char *node;      /* NODE_UP/NODE_DOWN: source name */
    char *leader;    /* LEADER_ELECTED/LOST: leader name; VIOLATION: first leader */
    char *other;     /* VIOLATION: the second leader of the same term */
    char *error;     /* NODE_DOWN: why */
    guint64 term;    /* ELECTED/LOST/VIOLATION: term; TERM_CHANGED: new term */
    guint64 old_term;/* TERM_CHANGED */
} raftkv_event;

/* The observer (static vtable). Config may be NULL. Per source, attribute "kind" picks
 * the adapter: "etcd" (default: GET /debug/vars and POST /v3/maintenance/status, see
 * raftkv_parse_etcd_member) or "json" with attribute "status":
 * {"path":"/metrics","method":"GET","id":"id","leader":"current_leader",
 *  "term":"current_term","commit":"last_log_index","applied":"last_applied.index"}. */
extern const tf_observer raftkv_observer;

/* "node_up", "leader_elected"... (static). */
const char *raftkv_event_kind_name(raftkv_event_kind kind);
/* The node named name in a snapshot, or NULL (borrowed). */
const raftkv_node *raftkv_snapshot_node(const raftkv_snapshot *s, const char *name);

/* ---- the model: pure logic, driven by the observer or by tests ---------------------- */

typedef struct raftkv_model raftkv_model;
/* Receives each event the model emits (ownership passes to the sink). */
typedef void (*raftkv_emit)(raftkv_event *ev, void *data);

raftkv_model *raftkv_model_new(void);
void raftkv_model_free(raftkv_model *m);
/* Starts a cycle over the given member names (borrowed; members not listed are dropped). */
void raftkv_model_begin(raftkv_model *m, const char *const *members, guint n);
/* Records one member's answer: st (borrowed) or NULL with error (copied). FALSE when the
 * node is down after it: no answer, or an answer from another member id than the one this
 * name answered as before (not attributed; raftkv_model_node_error says so). */
gboolean raftkv_model_observe(raftkv_model *m, const char *name, const raftkv_status *st,
                              const char *error, gint64 now, raftkv_emit emit, void *data);
/* Why the node named name is down (borrowed, valid until the next observe), or NULL. */
const char *raftkv_model_node_error(const raftkv_model *m, const char *name);
/* Ends the cycle: agreed leader, quorum, term changes, Election Safety. */
void raftkv_model_end(raftkv_model *m, gint64 now, raftkv_emit emit, void *data);
/* A new snapshot of the model (caller owns: raftkv_snapshot_free). */
raftkv_snapshot *raftkv_model_snapshot(const raftkv_model *m);
void raftkv_snapshot_free(raftkv_snapshot *s);
void raftkv_event_free(raftkv_event *e);
json_t *raftkv_snapshot_to_json(const raftkv_snapshot *s);
json_t *raftkv_event_to_json(const raftkv_event *e);

/* ---- adapters ------------------------------------------------------------------------ */

/* Parses etcd's POST /v3/maintenance/status answer (borrowed) into st. FALSE + error
 * naming the missing or malformed field. Its term is that of the last applied entry,
 * which lags a new leader's term: not for Election Safety (see raftkv_parse_etcd_vars). */
gboolean raftkv_parse_etcd(json_t *body, raftkv_status *st, GError **error);
/* Parses etcd's GET /debug/vars answer (borrowed): its "raft.status" (current term, lead,
 * commit, raft's applied index, one consistent view; its hex ids become decimal, as the v3
 * API writes them). */
gboolean raftkv_parse_etcd_vars(json_t *body, raftkv_status *st, GError **error);
/* Parses one etcd member's two answers (borrowed), read in one cycle: term, leader and
 * commit from GET /debug/vars (raftkv_parse_etcd_vars), the applied index from POST
 * /v3/maintenance/status (the key-value store's: a serializable read there sees every
 * entry up to it; raft.status's own runs ahead of the store). FALSE + error when either is
 * malformed or the two come from different members. What the observer polls for "etcd". */
gboolean raftkv_parse_etcd_member(json_t *vars, json_t *status, raftkv_status *st,
                                  GError **error);
/* Parses a generic JSON status with field paths from spec (an object like the "status"
 * attribute above; borrowed). */
gboolean raftkv_parse_json(json_t *body, json_t *spec, raftkv_status *st, GError **error);
/* Frees the strings of st (not st itself). */
void raftkv_status_clear(raftkv_status *st);

#endif
