/* cluster_priv.h: what the launcher's files share and nobody else sees.
 * The cluster object every backend shares (backend_priv.h says what a backend is), and
 * the local backend's parts: the spec's parsed shape, template expansion, port
 * allocation, process control, the cleanup registry and readiness probes, each
 * implemented in its own file here. */
#ifndef TF_CLUSTER_PRIV_H
#define TF_CLUSTER_PRIV_H

#include <glib.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/types.h>
#include "tf/cluster.h"

/* ---- spec.c ---- */
typedef enum { TF_PROBE_HTTP, TF_PROBE_TCP } tf_probe_kind;

/* The readiness probe as the spec writes it (every string a template). */
typedef struct {
    tf_probe_kind kind;
    gchar *target;   /* HTTP: URL; TCP: port (template) */
    gchar *method;   /* HTTP only: "GET" by default */
    gchar *body;     /* HTTP only, may be NULL */
    gchar *user;     /* HTTP basic auth, may be NULL */
    gchar *password; /* template, may be NULL; never printed */
    gint64 timeout_us;
    gint64 interval_us;
} tf_probe_spec;

struct tf_cluster_spec {
    gint ref;
    gchar *where;        /* file name for errors */
    gchar *name;
    gchar *binary;
    guint nodes;
    gchar *node_name;    /* template over index, ordinal, cluster */
    GPtrArray *ports;    /* port names (gchar *) */
    GPtrArray *argv;     /* templates, without argv[0] */
    GPtrArray *argv_join; /* for added members, NULL = argv */
    gchar *peer;         /* per-peer template */
    gchar *peer_sep;
    gboolean peer_self;  /* does {peers} include the node itself? */
    tf_probe_spec ready;
    gchar *url;          /* source URL template, may be NULL */
    json_t *attrs;       /* extra source attributes (string values are templates) */
    gint64 stop_grace_us;
    tf_cluster_network network; /* "network": LOOPBACK (default) or NAMESPACES */
};

/* Takes a reference on spec (returns it). */
tf_cluster_spec *tf_cluster_spec_ref(const tf_cluster_spec *spec);

/* The argv element that expands to one argument per peer. */
#define TF_CLUSTER_PEERS_SPLAT "{peers...}"

/* ---- template.c ---- */
/* Expands "{var}" using vars (name -> value); "{{" and "}}" are literal braces. NULL +
 * error "unknown variable {x} (known: ...)" or "unterminated '{'" (no location). */
gchar *tf_cluster_tmpl_expand(const char *tmpl, GHashTable *vars, GError **error);

/* ---- ports.c ---- */
/* A free TCP port on 127.0.0.1 never handed out before by this process and reserved
 * against every other tf process of this user until this one exits, or 0 + error. */
guint tf_cluster_port_take(GError **error);
/* The file whose byte N a process locks to reserve port N (newly allocated). */
char *tf_cluster_ports_lock_path(void);

/* ---- registry.c ---- */
/* Records a live process group so fatal signals and exit kill it; installs the handlers
 * on first use. Async-signal-safe removal. */
void tf_cluster_registry_add(pid_t pgid);
void tf_cluster_registry_remove(pid_t pgid);

/* ---- process.c ---- */
/* Starts argv (argv[0] = binary path) with stdout/stderr on out_fd/err_fd and stdin on
 * /dev/null, as the leader of a new process group that dies with this process, inside the
 * network namespace netns_fd (-1: this process's). Returns the pid and a pidfd (owned by
 * the caller). FALSE + error "exec BINARY: why". */
gboolean tf_cluster_proc_spawn(char *const *argv, int out_fd, int err_fd, int netns_fd,
                               pid_t *pid, int *pidfd, GError **error);
/* Waits until the process behind pidfd exits or timeout_us passes (< 0: forever).
 * TRUE when it has exited. */
gboolean tf_cluster_proc_wait_exit(int pidfd, gint64 timeout_us);
/* Describes a waitpid status: "exit 1", "signal 9 (Killed)". Newly allocated. */
gchar *tf_cluster_proc_status_str(int status);

/* ---- probe.c ---- */
/* The probe of one node, expanded. */
typedef struct {
    tf_probe_kind kind;
    gchar *target; /* URL or port number */
    gchar *method, *body, *user, *password;
    gchar *host;   /* the node's address: 127.0.0.1, or its own in a namespace */
} tf_probe;

/* Tries the probe once within timeout_us. FALSE + error saying why (never the password). */
gboolean tf_cluster_probe_once(const tf_probe *p, gint64 timeout_us, GError **error);
/* "GET http://127.0.0.1:1/health" or "tcp 127.0.0.1:1" (newly allocated). */
gchar *tf_cluster_probe_describe(const tf_probe *p);
void tf_cluster_probe_clear(tf_probe *p);

/* ---- local.c / node.c ---- */
/* One local node. Immutable after creation except where noted. */
typedef struct {
    gchar *name;
    guint index;
    gboolean joined;  /* added after creation: argv from argv_join */
    gchar *base;      /* <cluster dir>/<name>: holds data/ and the logs */
    gchar *dir;       /* {dir}: <base>/data */
    gchar *log[2];    /* stdout.log, stderr.log */
    gchar *address;   /* {address}: 127.0.0.1, or its own in a network namespace */
    pthread_mutex_t op; /* serialises control operations on this node */
    /* Guarded by the cluster lock (they change when tf_cluster_start picks new ports). */
    guint *ports;     /* one per spec port */
    GHashTable *vars; /* template variables except {peers} */
    gchar **argv;     /* expanded, argv[0] = binary */
    gchar *url;
    json_t *attrs;    /* expanded spec attrs, or NULL */
    tf_probe probe;
    tf_node_state state;
    pid_t pid;        /* also the process group id; 0 when not running */
    int pidfd;        /* -1 when not running */
    int status;       /* last waitpid status */
    gboolean stopping; /* we asked it to end, so its exit is "stopped" not "exited" */
    guint starts;
} tf_cluster_node;

/* A cluster. The first group is every backend's (cluster.c); the rest is the local
 * backend's (local.c), zero for others. */
struct tf_cluster {
    gint ref;
    const struct tf_cluster_backend *be; /* what runs the members (backend_priv.h) */
    void *backend_data; /* the backend's own state (remote.c: its tf_remote), or NULL */
    pthread_mutex_t lock; /* guards nodes->len, node state fields, freed */
    gboolean freed;   /* tf_cluster_free was called */
    struct tf_faults *faults; /* faults in effect and their journal (fault.c) */
    GPtrArray *nodes; /* tf_cluster_node *, never shrinks (no nodes but local ones) */
    pthread_mutex_t net_lock; /* serialises network changes: faults, members added */

    tf_cluster_spec *spec;
    gchar *binary;    /* resolved path */
    struct tf_owned_dir *owned; /* the temp dir while it exists, owned by this process
                                 * (owner.h); NULL after tf_cluster_free */
    gchar *dir;       /* its path (kept until the last unref, for messages) */
    gchar *token;
    gchar *secret;    /* never printed */
    gboolean ever_ready;
    gboolean keep_logs; /* tf_cluster_keep_logs: free keeps the logs, not the data */
    struct tf_net *net;   /* the members' namespaces (net.c), NULL on loopback */
};

/* layout.c: a new node's name, dirs, log paths and ports (nothing expanded yet). */
tf_cluster_node *tf_cluster_node_new(tf_cluster *c, guint index, gboolean joined,
                                     GError **error);
/* layout.c: gives n fresh ports and the variables that name them. */
gboolean tf_cluster_node_assign_ports(tf_cluster *c, tf_cluster_node *n, GError **error);
/* layout.c: expands n's argv, url, attrs and probe ({peers} over every node); lock held. */
gboolean tf_cluster_node_expand(tf_cluster *c, tf_cluster_node *n, GError **error);
/* layout.c: frees a node (its process must be gone). */
void tf_cluster_node_free(tf_cluster_node *n);
/* layout.c: removes a directory tree (no symlinks followed). */
gboolean tf_cluster_rm_rf(const char *path, GError **error);

/* Node i or NULL (takes the lock for the length check). */
tf_cluster_node *tf_cluster_get_node(tf_cluster *c, guint i);
/* Reaps node n if its process has exited (lock held). */
void tf_cluster_node_refresh_locked(tf_cluster_node *n);
/* Takes the cluster lock and reaps n if it has exited: the opening of every look at a
 * node's state (release with pthread_mutex_unlock(&c->lock)). */
void tf_cluster_node_lock_fresh(tf_cluster *c, tf_cluster_node *n);
/* Ends node n: SIGTERM + grace + SIGKILL, or SIGKILL at once. Reaps it. */
gboolean tf_cluster_node_end(tf_cluster *c, tf_cluster_node *n, gboolean graceful,
                             GError **error);
/* Waits until every listed node passes its probe (see tf_cluster_node_wait_ready). */
gboolean tf_cluster_wait_ready_set(tf_cluster *c, const guint *idx, guint n, gint64 timeout_us,
                                   GError **error);
/* The tail of a node's log with the cluster secret blanked out (newly allocated). */
gchar *tf_cluster_scrubbed_tail(tf_cluster *c, tf_cluster_node *n, tf_cluster_log which,
                                gsize max_bytes);

/* ---- fault.c ---- */
/* The fault state of a new cluster / its release (after the network is gone). */
struct tf_faults *tf_faults_new(void);
void tf_faults_free(struct tf_faults *f);

/* ---- cluster.c, used by provider.c and the backends ---- */
/* Keeps c alive (the provider holds one). */
tf_cluster *tf_cluster_ref(tf_cluster *c);
void tf_cluster_unref(tf_cluster *c);

/* ---- the local backend's hooks (backend_priv.h says what each does) ---- */
/* access.c */
const char *tf_local_name(const tf_cluster *c);
const char *tf_local_where(const tf_cluster *c);
guint tf_local_size(tf_cluster *c);
gint tf_local_node_index(tf_cluster *c, const char *name);
const char *tf_local_node_name(tf_cluster *c, guint i);
guint tf_local_node_port(tf_cluster *c, guint i, const char *port_name);
const char *tf_local_node_url(tf_cluster *c, guint i);
const char *tf_local_node_dir(tf_cluster *c, guint i);
gchar **tf_local_node_argv(tf_cluster *c, guint i);
gchar *tf_local_expand(tf_cluster *c, guint i, const char *tmpl, GError **error);
const char *tf_local_node_log_path(tf_cluster *c, guint i, tf_cluster_log which);
/* provider.c */
tf_source *tf_local_node_source(tf_cluster *c, guint i);
gboolean tf_local_list_sources(tf_cluster *c, GPtrArray *out, GError **error);
/* node.c */
gboolean tf_local_node_start(tf_cluster *c, guint i, GError **error);
gboolean tf_local_node_stop(tf_cluster *c, guint i, GError **error);
gboolean tf_local_node_kill(tf_cluster *c, guint i, GError **error);
gboolean tf_local_node_pause(tf_cluster *c, guint i, GError **error);
gboolean tf_local_node_resume(tf_cluster *c, guint i, GError **error);
gboolean tf_local_node_restart(tf_cluster *c, guint i, GError **error);
tf_node_state tf_local_node_state(tf_cluster *c, guint i, int *wait_status);
pid_t tf_local_node_pid(tf_cluster *c, guint i);
/* ready.c */
gboolean tf_local_node_wait_ready(tf_cluster *c, guint i, gint64 timeout_us, GError **error);
gchar *tf_local_node_log_tail(tf_cluster *c, guint i, tf_cluster_log which, gsize max_bytes);
/* fault.c */
gboolean tf_local_isolate(tf_cluster *c, guint i, GError **error);
gboolean tf_local_rejoin(tf_cluster *c, guint i, GError **error);
gboolean tf_local_isolated(tf_cluster *c, guint i);
gboolean tf_local_partition(tf_cluster *c, const guint *group_of, guint n, GError **error);
gboolean tf_local_cut(tf_cluster *c, guint from, guint to, GError **error);
gboolean tf_local_lose(tf_cluster *c, guint i, double share, GError **error);
gboolean tf_local_delay(tf_cluster *c, guint i, gint64 delay_us, GError **error);
gboolean tf_local_unobserve(tf_cluster *c, guint i, GError **error);
gboolean tf_local_heal(tf_cluster *c, GError **error);
const char *tf_local_node_address(tf_cluster *c, guint i);

#endif
