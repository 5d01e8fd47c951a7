/* backend_priv.h: what a cluster backend implements.
 * A tf_cluster is one object whatever runs its members; what differs is behind this table:
 * local processes (local.c, with node.c, ready.c, layout.c and the namespace faults of
 * fault.c and net*.c) or a deployment someone else runs (remote.c, whose own drivers are
 * compose.c and k8s.c). cluster.c's public functions only dispatch, so a new backend is a
 * new file with one of these tables, not an edit of every tf_cluster_* function (as libuv
 * keeps one file per platform behind one API).
 * Every hook gets the cluster; its own state is c->backend_data. Optional hooks may be
 * NULL: then the public call answers as cluster.h says for an environment without it
 * (NULL, 0, FALSE, or the error "KIND/NAME: WHAT is not supported by this environment"). */
#ifndef TF_CLUSTER_BACKEND_PRIV_H
#define TF_CLUSTER_BACKEND_PRIV_H

#include <glib.h>
#include <jansson.h>
#include <sys/types.h>
#include "tf/cluster.h"

typedef struct tf_cluster_backend {
    /* Where the members run, for messages: "local", "compose", "k8s". */
    const char *(*kind)(const tf_cluster *c);

    /* ---- lifetime ---- */
    gboolean (*start)(tf_cluster *c, GError **error);
    void (*stop)(tf_cluster *c);
    /* tf_cluster_free, after c->freed is set: end what the cluster runs, or stop following
     * what it does not own. The cluster may live on (providers hold references). */
    void (*release)(tf_cluster *c);
    /* The last reference went: free the backend's state (c itself is cluster.c's). */
    void (*destroy)(tf_cluster *c);
    const char *(*keep_logs)(tf_cluster *c);                                   /* optional */
    gint (*node_add)(tf_cluster *c, GError **error);                           /* optional */

    /* ---- what it is ---- */
    const char *(*name)(const tf_cluster *c);
    const char *(*where)(const tf_cluster *c);
    guint (*size)(tf_cluster *c);
    gint (*node_index)(tf_cluster *c, const char *name);
    const char *(*node_name)(tf_cluster *c, guint i);
    guint (*node_port)(tf_cluster *c, guint i, const char *port_name);
    const char *(*node_url)(tf_cluster *c, guint i);
    const char *(*node_dir)(tf_cluster *c, guint i);                           /* optional */
    gchar **(*node_argv)(tf_cluster *c, guint i);                              /* optional */
    gchar *(*expand)(tf_cluster *c, guint i, const char *tmpl, GError **error); /* optional */
    const char *(*node_address)(tf_cluster *c, guint i);                       /* optional */
    const char *(*node_log_path)(tf_cluster *c, guint i, tf_cluster_log which); /* optional */
    gchar *(*node_log_tail)(tf_cluster *c, guint i, tf_cluster_log which, gsize max_bytes);
    tf_source *(*node_source)(tf_cluster *c, guint i);
    /* The provider's listing: one source per member (new refs), nothing once freed. */
    gboolean (*list_sources)(tf_cluster *c, GPtrArray *out, GError **error);

    /* ---- process faults ---- */
    gboolean (*node_start)(tf_cluster *c, guint i, GError **error);
    gboolean (*node_stop)(tf_cluster *c, guint i, GError **error);
    gboolean (*node_kill)(tf_cluster *c, guint i, GError **error);
    gboolean (*node_pause)(tf_cluster *c, guint i, GError **error);
    gboolean (*node_resume)(tf_cluster *c, guint i, GError **error);
    gboolean (*node_restart)(tf_cluster *c, guint i, GError **error);
    gboolean (*node_wait_ready)(tf_cluster *c, guint i, gint64 timeout_us, GError **error);
    tf_node_state (*node_state)(tf_cluster *c, guint i, int *wait_status);
    pid_t (*node_pid)(tf_cluster *c, guint i);                                 /* optional */

    /* ---- network faults (all optional) ---- */
    gboolean (*isolate)(tf_cluster *c, guint i, GError **error);
    gboolean (*rejoin)(tf_cluster *c, guint i, GError **error);
    gboolean (*isolated)(tf_cluster *c, guint i);
    gboolean (*partition)(tf_cluster *c, const guint *group_of, guint n, GError **error);
    gboolean (*cut)(tf_cluster *c, guint from, guint to, GError **error);
    gboolean (*lose)(tf_cluster *c, guint i, double share, GError **error);
    gboolean (*delay)(tf_cluster *c, guint i, gint64 delay_us, GError **error);
    gboolean (*unobserve)(tf_cluster *c, guint i, GError **error);
    gboolean (*heal)(tf_cluster *c, GError **error);
} tf_cluster_backend;

/* The backends. */
extern const tf_cluster_backend tf_cluster_local_backend;  /* local.c */
extern const tf_cluster_backend tf_cluster_remote_backend; /* remote.c */

/* cluster.c: a new cluster (one reference) on backend be with its state data (taken: the
 * backend's destroy frees it); the shared parts (locks, fault journal, an empty node
 * array) are set up. */
tf_cluster *tf_cluster_alloc(const tf_cluster_backend *be, void *data);

#endif
