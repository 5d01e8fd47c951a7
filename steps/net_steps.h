/* net_steps.h: network-fault steps for any scenario whose cluster runs in network
 * namespaces (or on compose, for isolation): partitions, isolation, one-way cuts, packet
 * loss, delay, healing and a seeded random nemesis. An app's Given step attaches its
 * cluster (net_world_attach); the steps act on it and tell the app when a fault took
 * effect, so its expectations wait for observations made after it. Each fault start and
 * end goes into the scenario's report and, with a store, its journal (stream "faults"). */
#ifndef TF_STEPS_NET_STEPS_H
#define TF_STEPS_NET_STEPS_H

#include <tf/cluster.h>
#include <tf/steps.h>
#include <tf/tf.h>

/* Called when a fault starts or ends, with its event (borrowed; tf_cluster_faults'
 * shape: "event", "time" = monotonic µs it took effect everywhere, ...). */
typedef void (*net_acted_fn)(void *app, const json_t *event);

/* Makes c (borrowed; must outlive the scenario's world entries stored before this call)
 * the cluster of this scenario's network steps. h (borrowed, may be NULL) is the
 * observation to check coverage on, interval_us its cycle interval; acted (may be NULL)
 * is told of each fault. FALSE + error when the world's store cannot record faults. */
gboolean net_world_attach(tf_world *world, tf_cluster *c, tf_handle *h, gint64 interval_us,
                          net_acted_fn acted, void *app, GError **error);
/* The fault events recorded in this scenario so far (new JSON array; see
 * tf_cluster_faults), or an empty array without a network world. */
json_t *net_world_faults(tf_world *world);
/* The scenario's cluster spec choice: TRUE when the step text asked for network
 * namespaces; FALSE + error (privileges, tools) when they cannot be had here. */
gboolean net_world_can_isolate(GError **error);

/* Attaches the scenario's fault events (faults.json) to its report when there were any:
 * the After hook of the app whose Given step attached the cluster calls it. */
void net_world_report(tf_world *world);

/* Index of node `name` in c, or -1 + error naming the nodes there are. */
gint net_node_index(tf_cluster *c, const char *name, GError **error);

/* Registers the network steps (the bundled plug-in net.so) and the @netns Before hook
 * (skips the scenario, saying why, where namespaces cannot be made). */
gboolean net_steps_register(tf_registry *reg, GError **error);

#endif
