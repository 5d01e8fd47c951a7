/* local.c: the local backend: clusters of processes this one starts, on loopback or in
 * network namespaces of their own. Creating the node set, starting it all, freeing it,
 * member addition, and the backend's table. Per-node process control is in node.c, the
 * readiness wait in ready.c, on-disk layout and template expansion in layout.c, the
 * getters in access.c, network faults in fault.c over net.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "backend_priv.h"
#include "net.h"
#include "owner.h"

#define TF_START_ATTEMPTS 3
#define TF_PORT_CONFLICT_TAIL 8192

static gchar *random_hex(gsize bytes)
{
    guchar buf[32];
    g_assert(bytes <= sizeof buf);
    gsize got = 0;
    while (got < bytes) {
        ssize_t r = getrandom(buf + got, bytes - got, 0);
        if (r > 0)
            got += (gsize)r;
        else if (errno != EINTR)
            g_error("tf cluster: getrandom: %s", g_strerror(errno));
    }
    GString *s = g_string_new(NULL);
    for (gsize i = 0; i < bytes; i++)
        g_string_append_printf(s, "%02x", buf[i]);
    return g_string_free(s, FALSE);
}

static gchar *resolve_binary(const tf_cluster_spec *s, GError **error)
{
    gchar *path = strchr(s->binary, '/') ? g_strdup(s->binary) : g_find_program_in_path(s->binary);
    if (!path || access(path, X_OK) < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: binary: '%s' %s", s->where, s->binary,
                    path ? "is not executable" : "not found in PATH");
        g_free(path);
        return NULL;
    }
    return path;
}

tf_cluster_node *tf_cluster_get_node(tf_cluster *c, guint i)
{
    pthread_mutex_lock(&c->lock);
    tf_cluster_node *n = i < c->nodes->len ? c->nodes->pdata[i] : NULL;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* Temp dirs of clusters are "<tmp>/tf-<spec name>-XXXXXX", each owned by its process. */
#define TF_CLUSTER_DIR_PREFIX "tf-"

static pthread_once_t sweep_once = PTHREAD_ONCE_INIT;

/* How many failed scenarios' kept logs (tf_cluster_keep_logs) outlive later runs. */
#define TF_KEPT_LOGS_MAX 10

/* Once per process, before its first cluster: remove the temp dirs that runs which died
 * without cleaning up (SIGKILL, a crash, a CI timeout) left, never a live run's, and the
 * kept logs of failed scenarios beyond the newest TF_KEPT_LOGS_MAX. */
static void sweep_stale_dirs(void)
{
    GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
    tf_owner_sweep_dirs(g_get_tmp_dir(), TF_CLUSTER_DIR_PREFIX, removed);
    for (guint i = 0; i < removed->len; i++)
        g_message("removed %s: a cluster dir left by a run that died", (char *)removed->pdata[i]);
    g_ptr_array_set_size(removed, 0);
    tf_owner_prune_kept(g_get_tmp_dir(), TF_CLUSTER_DIR_PREFIX, TF_KEPT_LOGS_MAX, removed);
    for (guint i = 0; i < removed->len; i++)
        g_message("removed %s: older than the newest %d kept logs of failed scenarios",
                  (char *)removed->pdata[i], TF_KEPT_LOGS_MAX);
    g_ptr_array_unref(removed);
}

tf_cluster *tf_cluster_new(const tf_cluster_spec *spec, guint n_nodes, GError **error)
{
    return tf_cluster_new_network(spec, n_nodes, TF_CLUSTER_NET_SPEC, error);
}

gboolean tf_cluster_network_usable(GError **error)
{
    return tf_netns_usable(error);
}

tf_cluster_network tf_cluster_network_of(tf_cluster *c)
{
    return c->net ? TF_CLUSTER_NET_NAMESPACES : TF_CLUSTER_NET_LOOPBACK;
}

tf_cluster *tf_cluster_new_network(const tf_cluster_spec *spec, guint n_nodes,
                                   tf_cluster_network network, GError **error)
{
    g_return_val_if_fail(spec != NULL, NULL);
    if (network == TF_CLUSTER_NET_SPEC)
        network = spec->network;
    if (network == TF_CLUSTER_NET_NAMESPACES && spec->url && !strstr(spec->url, "{address}")) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: source.url: does not use {address}: in network namespaces each node "
                    "has an address of its own, and 127.0.0.1 is not it", spec->where);
        return NULL;
    }
    if (network == TF_CLUSTER_NET_NAMESPACES && !tf_netns_usable(error)) {
        g_prefix_error(error, "%s: ", spec->name);
        return NULL;
    }
    gchar *binary = resolve_binary(spec, error);
    if (!binary)
        return NULL;
    pthread_once(&sweep_once, sweep_stale_dirs);
    gchar *safe = g_strdup(spec->name);
    g_strcanon(safe, G_CSET_a_2_z G_CSET_A_2_Z G_CSET_DIGITS "-_", '_');
    gchar *prefix = g_strdup_printf(TF_CLUSTER_DIR_PREFIX "%s-", safe);
    GError *e = NULL;
    tf_owned_dir *owned = tf_owned_dir_new(g_get_tmp_dir(), prefix, &e);
    g_free(safe);
    g_free(prefix);
    if (!owned) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: temp dir: %s", spec->name, e->message);
        g_error_free(e);
        g_free(binary);
        return NULL;
    }
    tf_cluster *c = tf_cluster_alloc(&tf_cluster_local_backend, NULL);
    c->spec = tf_cluster_spec_ref(spec);
    c->binary = binary;
    c->owned = owned;
    c->dir = g_strdup(tf_owned_dir_path(owned));
    gchar *tok = random_hex(8);
    c->token = g_strdup_printf("tf-%s", tok);
    g_free(tok);
    c->secret = random_hex(16);
    g_ptr_array_set_free_func(c->nodes, (GDestroyNotify)tf_cluster_node_free);
    if (!n_nodes)
        n_nodes = spec->nodes;
    gboolean ok = TRUE;
    if (network == TF_CLUSTER_NET_NAMESPACES)
        ok = (c->net = tf_net_new(spec->name, n_nodes, error)) != NULL;
    for (guint i = 0; ok && i < n_nodes; i++) {
        tf_cluster_node *n = tf_cluster_node_new(c, i, FALSE, error);
        for (guint j = 0; n && j < c->nodes->len; j++) {
            if (!strcmp(((tf_cluster_node *)c->nodes->pdata[j])->name, n->name)) {
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                            "%s: node_name: two nodes are called '%s' (use {index} or {ordinal})",
                            spec->where, n->name);
                tf_cluster_node_free(n);
                n = NULL;
            }
        }
        if (n)
            g_ptr_array_add(c->nodes, n);
        ok = n != NULL;
    }
    for (guint i = 0; ok && i < c->nodes->len; i++)
        ok = tf_cluster_node_expand(c, c->nodes->pdata[i], error);
    if (!ok) {
        tf_cluster_free(c);
        return NULL;
    }
    return c;
}

/* A node that died at start saying its port was taken (someone grabbed it between our
 * probe bind and its own). Messages of etcd/Go and of bitcoind-family daemons. */
static gboolean lost_port_race(tf_cluster *c)
{
    gboolean lost = FALSE;
    for (guint i = 0; !lost && i < c->nodes->len; i++) {
        if (tf_cluster_node_state(c, i, NULL) != TF_NODE_EXITED)
            continue;
        gchar *tail = tf_cluster_node_log_tail(c, i, TF_CLUSTER_LOG_STDERR, TF_PORT_CONFLICT_TAIL);
        gchar *low = g_ascii_strdown(tail, -1);
        lost = strstr(low, "address already in use") || strstr(low, "unable to bind");
        g_free(low);
        g_free(tail);
    }
    return lost;
}

/* Kills every node, wipes its data and gives it new ports, for a fresh start. */
static gboolean reset_all(tf_cluster *c, GError **error)
{
    guint len = tf_cluster_size(c);
    for (guint i = 0; i < len; i++)
        if (!tf_cluster_node_kill(c, i, error))
            return FALSE;
    pthread_mutex_lock(&c->lock);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < c->nodes->len; i++) {
        tf_cluster_node *n = c->nodes->pdata[i];
        ok = tf_cluster_rm_rf(n->dir, error) && g_mkdir_with_parents(n->dir, 0700) == 0 &&
             tf_cluster_node_assign_ports(c, n, error);
        n->state = TF_NODE_CREATED;
    }
    for (guint i = 0; ok && i < c->nodes->len; i++)
        ok = tf_cluster_node_expand(c, c->nodes->pdata[i], error);
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static gboolean local_start(tf_cluster *c, GError **error)
{
    for (int attempt = 1;; attempt++) {
        guint len = tf_cluster_size(c);
        guint *idx = g_new(guint, len);
        gboolean ok = TRUE;
        for (guint i = 0; ok && i < len; i++) {
            idx[i] = i;
            tf_node_state st = tf_cluster_node_state(c, i, NULL);
            if (st != TF_NODE_RUNNING && st != TF_NODE_PAUSED)
                ok = tf_cluster_node_start(c, i, error);
        }
        GError *e = NULL;
        ok = ok && tf_cluster_wait_ready_set(c, idx, len, 0, &e);
        g_free(idx);
        if (ok) {
            pthread_mutex_lock(&c->lock);
            c->ever_ready = TRUE;
            pthread_mutex_unlock(&c->lock);
            return TRUE;
        }
        if (!e) /* spawning failed: error already set */
            return FALSE;
        pthread_mutex_lock(&c->lock);
        gboolean ever = c->ever_ready;
        pthread_mutex_unlock(&c->lock);
        if (attempt >= TF_START_ATTEMPTS || ever || !lost_port_race(c)) {
            g_propagate_error(error, e);
            return FALSE;
        }
        gchar *first = g_strndup(e->message, strcspn(e->message, ";\n"));
        g_message("%s: a port was taken before its node bound it; retrying with new ports (%s)",
                  c->spec->name, first);
        g_free(first);
        g_error_free(e);
        if (!reset_all(c, error))
            return FALSE;
    }
}

static void local_stop(tf_cluster *c)
{
    guint len = tf_cluster_size(c);
    for (guint i = 0; i < len; i++)
        tf_cluster_node_stop(c, i, NULL);
}

static void local_destroy(tf_cluster *c)
{
    tf_net_free(c->net); /* normally gone already: tf_cluster_free */
    if (c->owned) /* a cluster never handed to tf_cluster_free: its dir goes anyway */
        tf_owned_dir_remove(c->owned, NULL);
    tf_cluster_spec_free(c->spec);
    g_free(c->binary);
    g_free(c->dir);
    g_free(c->token);
    memset(c->secret, 0, strlen(c->secret));
    g_free(c->secret);
}

/* tf_cluster_free: c->freed is set, so no member starts or joins from now on. */
static void local_release(tf_cluster *c)
{
    pthread_mutex_lock(&c->lock);
    guint len = c->nodes->len;
    pthread_mutex_unlock(&c->lock);
    for (guint i = 0; i < len; i++) {
        GError *e = NULL;
        if (!tf_cluster_node_end(c, c->nodes->pdata[i], FALSE, &e)) {
            g_warning("%s", e->message);
            g_error_free(e);
        }
    }
    /* Every member is gone: the network goes now, before tf_cluster_free returns. */
    pthread_mutex_lock(&c->net_lock);
    tf_net_free(c->net);
    c->net = NULL;
    pthread_mutex_unlock(&c->net_lock);
    const char *keep = g_getenv("TF_KEEP_CLUSTER");
    pthread_mutex_lock(&c->lock);
    gboolean keep_logs = c->keep_logs;
    pthread_mutex_unlock(&c->lock);
    if (keep && *keep && strcmp(keep, "0")) {
        fprintf(stderr, "tf: TF_KEEP_CLUSTER: keeping %s (node data and logs)\n", c->dir);
        tf_owned_dir_keep(c->owned); /* unowned from now on: no later run removes it */
    } else if (keep_logs) {
        for (guint i = 0; i < len; i++) { /* the data is what weighs (etcd: 40 MB a node) */
            GError *e = NULL;
            if (!tf_cluster_rm_rf(((tf_cluster_node *)c->nodes->pdata[i])->dir, &e)) {
                g_warning("%s: %s", c->spec->name, e->message);
                g_error_free(e);
            }
        }
        tf_owned_dir_keep_for_a_while(c->owned);
    } else {
        GError *e = NULL;
        if (!tf_owned_dir_remove(c->owned, &e)) {
            g_warning("%s: %s", c->spec->name, e->message);
            g_error_free(e);
        }
    }
    c->owned = NULL;
}

static const char *local_keep_logs(tf_cluster *c)
{
    pthread_mutex_lock(&c->lock);
    c->keep_logs = TRUE;
    pthread_mutex_unlock(&c->lock);
    return c->dir;
}

static gint local_node_add(tf_cluster *c, GError **error)
{
    /* A member in a namespace needs its namespace and link before its address exists;
     * net_lock keeps the network's and the cluster's member counts in step. */
    pthread_mutex_lock(&c->net_lock);
    if (c->net && tf_net_size(c->net) == tf_cluster_size(c) && !tf_net_add_member(c->net, error)) {
        pthread_mutex_unlock(&c->net_lock);
        return -1;
    }
    pthread_mutex_lock(&c->lock);
    gint idx = -1;
    if (c->freed) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: cluster is freed", c->spec->name);
    } else {
        tf_cluster_node *n = tf_cluster_node_new(c, c->nodes->len, TRUE, error);
        for (guint j = 0; n && j < c->nodes->len; j++) {
            if (!strcmp(((tf_cluster_node *)c->nodes->pdata[j])->name, n->name)) {
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: node '%s' exists already",
                            c->spec->name, n->name);
                tf_cluster_node_free(n);
                n = NULL;
            }
        }
        if (n) {
            g_ptr_array_add(c->nodes, n);
            if (tf_cluster_node_expand(c, n, error)) {
                idx = (gint)n->index;
            } else {
                g_ptr_array_remove_index(c->nodes, c->nodes->len - 1);
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&c->net_lock);
    return idx;
}

static const char *local_kind(const tf_cluster *c)
{
    (void)c;
    return "local";
}

const tf_cluster_backend tf_cluster_local_backend = {
    .kind = local_kind,
    .start = local_start,
    .stop = local_stop,
    .release = local_release,
    .destroy = local_destroy,
    .keep_logs = local_keep_logs,
    .node_add = local_node_add,
    .name = tf_local_name,
    .where = tf_local_where,
    .size = tf_local_size,
    .node_index = tf_local_node_index,
    .node_name = tf_local_node_name,
    .node_port = tf_local_node_port,
    .node_url = tf_local_node_url,
    .node_dir = tf_local_node_dir,
    .node_argv = tf_local_node_argv,
    .expand = tf_local_expand,
    .node_address = tf_local_node_address,
    .node_log_path = tf_local_node_log_path,
    .node_log_tail = tf_local_node_log_tail,
    .node_source = tf_local_node_source,
    .list_sources = tf_local_list_sources,
    .node_start = tf_local_node_start,
    .node_stop = tf_local_node_stop,
    .node_kill = tf_local_node_kill,
    .node_pause = tf_local_node_pause,
    .node_resume = tf_local_node_resume,
    .node_restart = tf_local_node_restart,
    .node_wait_ready = tf_local_node_wait_ready,
    .node_state = tf_local_node_state,
    .node_pid = tf_local_node_pid,
    .isolate = tf_local_isolate,
    .rejoin = tf_local_rejoin,
    .isolated = tf_local_isolated,
    .partition = tf_local_partition,
    .cut = tf_local_cut,
    .lose = tf_local_lose,
    .delay = tf_local_delay,
    .unobserve = tf_local_unobserve,
    .heal = tf_local_heal,
};
