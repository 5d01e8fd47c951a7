/* cluster.h: a local cluster launcher for scenario tests.
 * A JSON spec (scenarios/clusters/NAME.json; every field in docs/cluster-spec.md) says how
 * to start one node of a real peer (etcd, litecoind); a tf_cluster starts N of them on
 * free loopback ports, injects faults (stop, kill, pause, restart, add) and lists its
 * nodes as observation sources. */
#ifndef TF_CLUSTER_H
#define TF_CLUSTER_H

#include <glib.h>
#include <sys/types.h>
#include "tf/source.h"
#include "tf/api.h"

G_BEGIN_DECLS

/* A parsed, validated, immutable cluster spec. Owned by the caller (tf_cluster_spec_free). */
typedef struct tf_cluster_spec tf_cluster_spec;

/* Reads and validates a spec file. NULL + error "PATH: FIELD: why" on failure, "PATH:
 * cannot read: why" (TF_ERROR_IO) when it cannot be read, "PATH:LINE:COL: why" when it is
 * not JSON. */
TF_API tf_cluster_spec *tf_cluster_spec_load(const char *path, GError **error);
/* The file `rel` (a relative path such as "clusters/etcd-3.json") in the folder of
 * feature_uri or the nearest folder above it (new string), or NULL. NULL uri: from ".". */
TF_API char *tf_cluster_file_find(const char *feature_uri, const char *rel);
/* Where the spec called name is (new string): $TF_CLUSTERS/NAME.json, else
 * clusters/NAME.json found from the feature upwards, else scenarios/clusters/NAME.json. */
TF_API char *tf_cluster_spec_find(const char *name, const char *feature_uri);
/* tf_cluster_spec_find + tf_cluster_spec_load: NULL + error naming the spec, the path
 * tried and why; a missing file also says where specs are looked for (TF_CLUSTERS or the
 * folders above the feature). */
TF_API tf_cluster_spec *tf_cluster_spec_load_named(const char *name, const char *feature_uri,
                                                   GError **error);
/* FALSE + error "FILE: source.url: missing: <user> reach each node at this URL ..."
 * when the spec gives its nodes no source URL; for callers whose observers need one
 * (user names them in the message, e.g. "the etcd steps"). */
TF_API gboolean tf_cluster_spec_require_url(const tf_cluster_spec *spec, const char *user,
                                            GError **error);
/* Validates a spec from JSON (root borrowed). `where` names it in errors (a file name). */
TF_API tf_cluster_spec *tf_cluster_spec_from_json(json_t *root, const char *where, GError **error);
/* Frees a spec; clusters made from it keep their own reference. NULL is a no-op. */
TF_API void tf_cluster_spec_free(tf_cluster_spec *spec);
/* The spec's name (borrowed). */
TF_API const char *tf_cluster_spec_name(const tf_cluster_spec *spec);
/* The spec's default node count. */
TF_API guint tf_cluster_spec_default_nodes(const tf_cluster_spec *spec);

/* Where a node is in its life. "exited" means it ended without being asked to. */
typedef enum {
    TF_NODE_CREATED, /* ports and dir allocated, never started */
    TF_NODE_RUNNING,
    TF_NODE_PAUSED,  /* SIGSTOP'd */
    TF_NODE_STOPPED, /* stopped or killed by the launcher */
    TF_NODE_EXITED,  /* ended on its own; see the wait status */
} tf_node_state;

/* The lower-case name of a state ("running"...; static string). */
TF_API const char *tf_node_state_name(tf_node_state state);

/* Which captured stream of a node. */
typedef enum { TF_CLUSTER_LOG_STDOUT, TF_CLUSTER_LOG_STDERR } tf_cluster_log;

/* A set of local node processes. Owned by its creator: tf_cluster_free kills and reaps
 * every node and removes the temp dir (kept when TF_KEEP_CLUSTER=1 is set). The temp dir
 * ($TMPDIR/tf-<spec name>-XXXXXX) holds a lock file its process keeps locked, so when a
 * process is killed before it could remove its dirs, the first tf_cluster_new of a later
 * process removes them, and never the dirs of a process that still runs. Every
 * function is thread-safe; operations on one node are serialised. */
typedef struct tf_cluster tf_cluster;

/* Allocates n_nodes (0 = the spec's default) nodes: names, free loopback ports, data dirs
 * under a new temp dir, a cluster token and secret, expanded argv. Starts nothing. The
 * first call in a process first removes the temp dirs of dead processes (see above).
 * spec is borrowed (the cluster keeps its own reference). Networking is the spec's
 * ("network"; loopback when it says nothing). */
TF_API tf_cluster *tf_cluster_new(const tf_cluster_spec *spec, guint n_nodes, GError **error);

/* How the members of a local cluster are networked. */
typedef enum {
    TF_CLUSTER_NET_SPEC,       /* what the spec's "network" says (loopback by default) */
    TF_CLUSTER_NET_LOOPBACK,   /* every member on 127.0.0.1 in the runner's namespace */
    TF_CLUSTER_NET_NAMESPACES, /* each member in a network namespace of its own with its own
                                * address ({address}) on a /24 of tf's subnet (TF_NET_SUBNET,
                                * default 10.213.0.0/16), bridged to the others and to the
                                * runner; the network faults below need this */
} tf_cluster_network;

/* tf_cluster_new with the networking chosen by the caller. NAMESPACES needs the right to
 * make network namespaces (root, or a user namespace of one's own) and iptables: NULL +
 * error saying what is missing, before anything is made. The spec's source URL must use
 * {address} then. Everything the network holds is removed by tf_cluster_free; what a
 * killed run left is removed by the next run that builds one, never what a live run holds. */
TF_API tf_cluster *tf_cluster_new_network(const tf_cluster_spec *spec, guint n_nodes,
                                          tf_cluster_network network, GError **error);
/* TRUE when this process can build namespaced networks; FALSE + error saying what is
 * missing (privileges, ip, iptables) and how to get it. Cached after the first call. */
TF_API gboolean tf_cluster_network_usable(GError **error);
/* The cluster's networking (LOOPBACK or NAMESPACES; compose and k8s: LOOPBACK). */
TF_API tf_cluster_network tf_cluster_network_of(tf_cluster *c);
/* Starts every node not running and waits until all pass the readiness probe (spec
 * timeout). When a node dies at start because a port was taken meanwhile, the whole
 * set gets fresh ports and dirs and is started again (3 attempts, only before any
 * node was ever ready). FALSE + error naming the node, probe and its stderr tail. */
TF_API gboolean tf_cluster_start(tf_cluster *c, GError **error);
/* Stops every running or paused node (TERM, then KILL after the spec's grace). */
TF_API void tf_cluster_stop(tf_cluster *c);
/* Kills and reaps every node, removes the temp dir unless TF_KEEP_CLUSTER=1 (then its
 * path is printed on stderr), and releases the cluster. Providers made from it then list
 * nothing. NULL is a no-op. */
TF_API void tf_cluster_free(tf_cluster *c);

/* Makes tf_cluster_free keep each node's stdout.log and stderr.log (and remove the rest:
 * node data) in the cluster dir: for After hooks of failed scenarios, so the logs that
 * errors name stay readable. Later processes keep the newest 10 such dirs and remove
 * older ones. Returns that dir (borrowed), or NULL where there are no local logs
 * (compose, k8s). */
TF_API const char *tf_cluster_keep_logs(tf_cluster *c);

/* The spec name (borrowed). */
TF_API const char *tf_cluster_name(const tf_cluster *c);
/* The cluster's temp dir (borrowed). */
TF_API const char *tf_cluster_dir(const tf_cluster *c);
/* Number of nodes (including added and stopped ones). */
TF_API guint tf_cluster_size(tf_cluster *c);
/* Index of the node called name, or -1. */
TF_API gint tf_cluster_node_index(tf_cluster *c, const char *name);
/* Node i's name, or NULL when out of range (borrowed, lives as long as the cluster). */
TF_API const char *tf_cluster_node_name(tf_cluster *c, guint i);
/* Node i's port called port_name ("client", "rpc"...), or 0 when unknown. */
TF_API guint tf_cluster_node_port(tf_cluster *c, guint i, const char *port_name);
/* Node i's source URL from the spec, or NULL (borrowed; lives as long as the cluster, but
 * is renewed if tf_cluster_start had to pick new ports after a port race). */
TF_API const char *tf_cluster_node_url(tf_cluster *c, guint i);
/* Node i's data dir ({dir}), or NULL (borrowed). */
TF_API const char *tf_cluster_node_dir(tf_cluster *c, guint i);
/* A copy of node i's expanded argv (argv[0] is the binary); g_strfreev it. It may hold
 * the cluster secret: never print it. NULL when out of range. */
TF_API gchar **tf_cluster_node_argv(tf_cluster *c, guint i);
/* Expands a template ({name}, {dir}, {index}, {ordinal}, {port.X}, {peers}, {address},
 * {runner_address}, {cluster_token}, {cluster_secret}, {cluster}) for node i. Newly allocated, or NULL +
 * error naming the unknown variable. */
TF_API gchar *tf_cluster_expand(tf_cluster *c, guint i, const char *tmpl, GError **error);
/* Node i as a source (new ref): what the provider would list for it now. */
TF_API tf_source *tf_cluster_node_source(tf_cluster *c, guint i);

/* Starts node i (created, stopped or exited) with its argv, ports and data dir; does not
 * wait for readiness. FALSE + error when it is already running or cannot be spawned. */
TF_API gboolean tf_cluster_node_start(tf_cluster *c, guint i, GError **error);
/* Waits until node i passes the readiness probe, exits, or timeout_us (<= 0: the spec's
 * timeout) passes. FALSE + error "cluster/node: not ready after N ms: probe: last error;
 * stderr tail". */
TF_API gboolean tf_cluster_node_wait_ready(tf_cluster *c, guint i, gint64 timeout_us,
                                           GError **error);
/* SIGTERM to node i's process group, SIGKILL after the grace period, then reaps. A node
 * already down is left as it is (TRUE). */
TF_API gboolean tf_cluster_node_stop(tf_cluster *c, guint i, GError **error);
/* SIGKILL to node i's process group, then reaps. A node already down: TRUE. */
TF_API gboolean tf_cluster_node_kill(tf_cluster *c, guint i, GError **error);
/* SIGSTOP to node i's process group. FALSE + error unless it is running. */
TF_API gboolean tf_cluster_node_pause(tf_cluster *c, guint i, GError **error);
/* SIGCONT to node i's process group. FALSE + error unless it is paused. */
TF_API gboolean tf_cluster_node_resume(tf_cluster *c, guint i, GError **error);
/* Stops node i (if up) and starts it again with the same data dir and ports; does not
 * wait for readiness (a node in a cluster without quorum is never "ready"). */
TF_API gboolean tf_cluster_node_restart(tf_cluster *c, guint i, GError **error);
/* ---- network faults ---------------------------------------------------------------------
 * On a cluster in network namespaces (TF_CLUSTER_NET_NAMESPACES). Each fault is iptables
 * rules in the members' own namespaces: traffic between the runner and any member is
 * never cut (the observer sees both sides of a partition), and every packet a fault drops
 * is dropped where it arrives, so senders see timeouts, as on a real network, not errors.
 * Faults add up until healed. Each start and end is recorded with its time (see
 * tf_cluster_faults). Compose can isolate one member (tf_cluster_node_isolate); other
 * environments and loopback clusters fail with an error saying why. */

/* Splits the members into groups: group_of[i] is node i's group (n entries, one per node;
 * nodes added later are in no group and reach everyone). Members of different groups drop
 * every packet from each other. FALSE + error on a bad group list. */
TF_API gboolean tf_cluster_partition(tf_cluster *c, const guint *group_of, guint n, GError **error);
/* Cuts node i off from every other member until tf_cluster_node_rejoin or
 * tf_cluster_heal. The node keeps running: its state stays what it was. In network
 * namespaces it keeps answering the runner; on compose its container is disconnected from
 * the project's networks (its published port goes with them) and its source carries
 * "isolated": true, so an observer sees it unreachable, not down. */
TF_API gboolean tf_cluster_node_isolate(tf_cluster *c, guint i, GError **error);
/* Ends every fault that cuts node i off from another member (isolation, partitions,
 * one-way cuts it is part of; packet loss and delay stay); compose reconnects the
 * container under the names it had. */
TF_API gboolean tf_cluster_node_rejoin(tf_cluster *c, guint i, GError **error);
/* Whether node i is cut off from every other member now (by a fault, or found so by the
 * backend). */
TF_API gboolean tf_cluster_node_isolated(tf_cluster *c, guint i);
/* One-way cut: connections that node `from` opens to node `to` fail (every packet `from`
 * sends on them, its SYNs first, is dropped at `to`, including on connections it opened
 * before the cut), while connections that `to` opens to `from` keep working in both
 * directions. A TCP conversation is cut by who started it, not packet by packet: that is
 * what "from can no longer reach to" means to a client. */
TF_API gboolean tf_cluster_cut(tf_cluster *c, guint from, guint to, GError **error);
/* Drops each packet between node i and another member with probability share (0 < share
 * <= 1), where the packet arrives. Traffic with the runner is not affected. */
TF_API gboolean tf_cluster_node_lose(tf_cluster *c, guint i, double share, GError **error);
/* Delays everything node i sends by delay_us (netem). Where the kernel has no netem: FALSE
 * + error saying so. The delay also slows node i's answers to the runner. */
TF_API gboolean tf_cluster_node_delay(tf_cluster *c, guint i, gint64 delay_us, GError **error);
/* The one fault that cuts observation: node i drops every packet from the runner, so the
 * observer (and any client in the runner) sees it unreachable while its peers still
 * reach it. Until healed. */
TF_API gboolean tf_cluster_node_unobserve(tf_cluster *c, guint i, GError **error);
/* Ends every fault. TRUE on a cluster without faults. */
TF_API gboolean tf_cluster_heal(tf_cluster *c, GError **error);
/* Faults in effect now (count). */
TF_API guint tf_cluster_faults_active(tf_cluster *c);
/* The fault journal so far (new JSON array, oldest first): one object per start and end,
 * {"event":"fault_started"|"fault_ended", "id", "fault":"partition"|"isolate"|"cut"|
 * "loss"|"delay"|"unobserved", "description", "nodes":[...], "time" (monotonic µs, when it was in
 * effect everywhere), "wall_time" (µs), "apply_us" (how long applying took)}. */
TF_API json_t *tf_cluster_faults(tf_cluster *c);
/* Receives each fault event as it is recorded (borrowed JSON, the shape above), on the
 * thread that caused it, with no cluster lock held. */
typedef void (*tf_cluster_fault_fn)(const json_t *event, void *data);
/* Sets the listener (NULL clears it); data is borrowed and must outlive the cluster or
 * the next call. */
TF_API void tf_cluster_set_fault_listener(tf_cluster *c, tf_cluster_fault_fn fn, void *data);

/* Node i's address as its peers and the runner reach it ("127.0.0.1" on loopback), or
 * NULL (borrowed; lives as long as the cluster). */
TF_API const char *tf_cluster_node_address(tf_cluster *c, guint i);

/* Adds a node (created, not started) with fresh ports, expanded from the spec's
 * "argv_join" (or "argv") with {peers} covering every node, including the new one. Returns its index, or -1 + error. The caller may register it with the cluster
 * (e.g. etcd member-add with tf_cluster_expand) before tf_cluster_node_start. */
TF_API gint tf_cluster_node_add(tf_cluster *c, GError **error);
/* Node i's state; when EXITED or STOPPED and wait_status is not NULL, the last
 * waitpid status (else 0). Reaps a node that died on its own. STOPPED for an unknown i. */
TF_API tf_node_state tf_cluster_node_state(tf_cluster *c, guint i, int *wait_status);
/* Node i's process id (also its process group id) while running or paused, else 0. */
TF_API pid_t tf_cluster_node_pid(tf_cluster *c, guint i);
/* Path of node i's captured stdout or stderr (borrowed; appended across restarts). */
TF_API const char *tf_cluster_node_log_path(tf_cluster *c, guint i, tf_cluster_log which);
/* The last max_bytes of that log with the cluster secret replaced by "***", ready to
 * attach to a report (newly allocated, "" when empty or missing). */
TF_API gchar *tf_cluster_node_log_tail(tf_cluster *c, guint i, tf_cluster_log which,
                                       gsize max_bytes);

/* A source provider over this cluster (owned by the caller, usually handed to
 * tf_runtime_new). It lists EVERY member, like a Kubernetes informer, each named by node
 * name with the spec's url and attributes {"cluster", "index", "state", "ports":{...},
 * spec "attrs"...}: a stopped node stays listed with "state":"stopped", so observers see
 * it leave and return without losing its identity. After tf_cluster_free it lists none. */
TF_API tf_source_provider *tf_cluster_provider(tf_cluster *c);

/* Sends SIGKILL to every live node process group started by this process. Async-signal-
 * safe: for a runner's own fatal-signal handler. The launcher already does this itself on
 * SIGINT, SIGTERM, SIGHUP (its handler runs first, then chains to the handler it found,
 * or re-raises) and at exit; each node also has PR_SET_PDEATHSIG(SIGKILL), which covers a
 * SIGKILLed or crashed runner. A runner killed that way leaves its temp dirs behind, for
 * the next process that creates a cluster to remove. */
TF_API void tf_cluster_kill_all_now(void);

/* ---- Other environments: the same tf_cluster API over nodes someone else runs ----------
 * A compose project or a set of Kubernetes pods. Node names, URLs, states, faults and the
 * provider behave as for a local cluster; what an environment cannot do (pause a pod, add
 * a member, a node's argv or data dir) fails with "ENV/CLUSTER: ... not supported" or
 * returns NULL/0. tf_cluster_free stops following the deployment and leaves it running. */

/* Where a compose project's services are found and how they are reached. */
typedef struct {
    const char *project; /* compose project name (required) */
    const char *file;    /* compose file that tf_cluster_start brings up (`up -d`), or NULL
                          * to only follow a project that is already up */
    const char *label;   /* "key=value" a service must carry, or NULL for all of them */
    guint port;          /* container port whose published host port makes the source URL */
    const char *engine;  /* "docker" (docker compose), "podman" (podman compose) or
                          * "podman-compose"; NULL: the first of them that works here */
    guint expect;        /* members tf_cluster_start waits for (0: every one found) */
    gint64 timeout_us;   /* how long tf_cluster_start waits (<= 0: 120 s) */
    const char *const *env; /* "NAME=value" for every engine command only (CONTAINERS_CONF,
                          * the compose file's variables), NULL-terminated; or NULL */
    const char *owner;   /* a live process's owner token ("BOOT-PIDNS-PID-START": boot id
                          * prefix, pid namespace inode, pid, start time in ticks) that `up`
                          * labels what it creates with (tf.owner, via TF_COMPOSE_OWNER), so a
                          * later process removes it once that owner is dead; tf_cluster_start
                          * first removes what dead owners left. NULL: not owned, never removed */
} tf_compose_config;

/* A cluster over a compose project: members are its services ("etcd1"), each reached at
 * http://127.0.0.1:<published port>; `ps` is re-read at most once a second (and after
 * each fault) to follow containers that stop and start. Faults: stop, kill, pause,
 * resume (unpause), restart, start, isolate/rejoin (network disconnect/connect). NULL +
 * error when no engine is usable, saying why each was not. */
TF_API tf_cluster *tf_cluster_compose_new(const tf_compose_config *cfg, GError **error);

/* Which pods of a Kubernetes cluster and how they are reached. */
typedef struct {
    const char *kubeconfig;   /* NULL: $KUBECONFIG (its first file) or ~/.kube/config */
    const char *ns;           /* NULL: the context's namespace, else "default" */
    const char *selector;     /* label selector (required), e.g. "app=tf-etcd" */
    guint port;               /* pod port of the source URL (e.g. 2379) */
    gboolean port_forward;    /* reach pods through `kubectl port-forward` on 127.0.0.1
                               * (a runner outside the cluster) instead of by pod IP */
    guint expect;             /* members tf_cluster_start waits for (0: every one found) */
    gint64 timeout_us;        /* how long tf_cluster_start waits (<= 0: 300 s) */
} tf_k8s_config;

/* A cluster over the pods matching a label selector: listed once, then followed with a
 * watch stream (re-listed on 410 Gone); members are pods by name. Faults: kill (delete
 * with grace 0), stop and restart (delete; the controller recreates it), start (nothing:
 * the controller recreates it), isolate/rejoin (a NetworkPolicy and a pod label; equality
 * selectors only). NULL + error when the kubeconfig cannot be used. */
TF_API tf_cluster *tf_cluster_k8s_new(const tf_k8s_config *cfg, GError **error);

/* The environment named by `env` ("local", "compose", "k8s"; NULL = $TF_ENV, else
 * "local"), static string; NULL + error for an unknown name. */
TF_API const char *tf_cluster_env_name(const char *env, GError **error);

G_END_DECLS

#endif
