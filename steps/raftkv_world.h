/* raftkv_world.h: what a Raft KV scenario keeps in its world: the local cluster, the
 * runtime observing it, the writes etcd acknowledged, and a background writer.
 * Shared by the raftkv step files; not a public API. */
#ifndef TF_STEPS_RAFTKV_WORLD_H
#define TF_STEPS_RAFTKV_WORLD_H

#include <pthread.h>
#include <tf/cluster.h>
#include <tf/steps.h>
#include <tf/tf.h>
#include "raftkv/raftkv.h"

typedef struct {
    tf_cluster *cluster;
    tf_runtime *rt;
    tf_handle *h;
    tf_http *http;          /* the step thread's client */
    char *old_leader;       /* leader when a fault last hit the leader */
    guint64 old_term;
    gint64 acted_at;        /* monotonic µs of the last fault or write */
    pthread_mutex_t lock;   /* guards acked, failures and the writer */
    pthread_cond_t cond;
    GHashTable *acked;      /* key -> value, the last value etcd acknowledged */
    guint64 write_failures;
    guint64 writes_acked;
    GThread *writer;
    gboolean writer_stop;
    guint64 seed;           /* the scenario's seed: the writer's pacing */
    gint64 interval_us;     /* the runtime's cycle interval */
    /* Network faults (net_steps.c tells us when one took effect: rk_world_fault). */
    char *isolated;         /* the node "a follower is isolated" cut off, or NULL */
    char *leader_at_fault;  /* the agreed leader and its term seen when the last fault */
    guint64 term_at_fault;  /* started or ended (0: none known) */
} rk_world;

/* The scenario's raftkv world, or NULL + error telling how to start a cluster. */
rk_world *rk_world_get(tf_step *step, GError **error);
/* Creates the world and stores it in the scenario world (freed at scenario end); the
 * runtime observes every interval_us. */
rk_world *rk_world_new(tf_world *world, tf_cluster *cluster, gint64 interval_us, GError **error);
/* Records an acknowledged write. Thread-safe. */
void rk_world_acked(rk_world *rk, const char *key, const char *value);
/* Starts / stops the background writer (stop waits for it). */
void rk_writer_start(rk_world *rk);
void rk_writer_stop(rk_world *rk);
/* Index of node `name` or -1 + error naming the known nodes. */
gint rk_node(rk_world *rk, const char *name, GError **error);
/* Base URL of the node to write to (new string): in view (NULL: the latest snapshot), the
 * agreed leader if known and reachable, else any reachable node; NULL when none is. *node
 * (may be NULL) receives its name (borrowed from the cluster). */
char *rk_write_target(rk_world *rk, const tf_snapshot *view, const char **node);
/* A progress line for waits: "leader n2 (term 3), 2/3 reachable, quorum". */
char *rk_progress(const tf_snapshot *snap, void *unused);
/* Renders the run's snapshot history as an SVG timeline (new string), with the windows
 * of the fault events (tf_cluster_faults' shape; may be NULL) behind the lanes. */
char *rk_timeline_svg(GPtrArray *snapshots, json_t *faults);
/* A network fault started or ended (event: net_acted_fn's): later expectations wait for
 * observations made after it took effect; remembers the leader and term seen then. */
void rk_world_fault(void *rk_world, const json_t *event);

#endif
