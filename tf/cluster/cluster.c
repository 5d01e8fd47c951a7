/* cluster.c: the tf_cluster object: creating the node set, starting it all, freeing it.
 * Also the getters and member addition. Per-node process control is in node.c, the
 * readiness wait in ready.c, on-disk layout and template expansion in layout.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "deploy_priv.h"
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
    tf_cluster *c = g_new0(tf_cluster, 1);
    c->ref = 1;
    c->spec = tf_cluster_spec_ref(spec);
    c->binary = binary;
    c->owned = owned;
    c->dir = g_strdup(tf_owned_dir_path(owned));
    gchar *tok = random_hex(8);
    c->token = g_strdup_printf("tf-%s", tok);
    g_free(tok);
    c->secret = random_hex(16);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->net_lock, NULL);
    c->faults = tf_faults_new();
    c->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)tf_cluster_node_free);
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

gboolean tf_cluster_start(tf_cluster *c, GError **error)
{
    if (c->remote) return tf_remote_cluster_start(c->remote, error);
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

void tf_cluster_stop(tf_cluster *c)
{
    if (c->remote) { tf_remote_cluster_stop(c->remote); return; }
    guint len = tf_cluster_size(c);
    for (guint i = 0; i < len; i++)
        tf_cluster_node_stop(c, i, NULL);
}

tf_cluster *tf_cluster_ref(tf_cluster *c)
{
    g_atomic_int_inc(&c->ref);
    return c;
}

void tf_cluster_unref(tf_cluster *c)
{
    if (!c || !g_atomic_int_dec_and_test(&c->ref))
        return;
    if (c->remote) {
        tf_remote_unref(c->remote);
        pthread_mutex_destroy(&c->net_lock);
        tf_faults_free(c->faults);
        pthread_mutex_destroy(&c->lock);
        g_ptr_array_unref(c->nodes);
        g_free(c);
        return;
    }
    g_ptr_array_unref(c->nodes);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->net_lock);
    tf_net_free(c->net); /* normally gone already: tf_cluster_free */
    tf_faults_free(c->faults);
    if (c->owned) /* a cluster never handed to tf_cluster_free: its dir goes anyway */
        tf_owned_dir_remove(c->owned, NULL);
    tf_cluster_spec_free(c->spec);
    g_free(c->binary);
    g_free(c->dir);
    g_free(c->token);
    memset(c->secret, 0, strlen(c->secret));
    g_free(c->secret);
    g_free(c);
}

void tf_cluster_free(tf_cluster *c)
{
    if (!c)
        return;
    if (c->remote) { /* the deployment is not ours: stop following it, leave it running */
        pthread_mutex_lock(&c->lock);
        c->freed = TRUE;
        pthread_mutex_unlock(&c->lock);
        tf_remote_cluster_free(c->remote);
        tf_cluster_unref(c);
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->freed = TRUE; /* providers list nothing from now on; no node may start */
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
    tf_cluster_unref(c);
}

const char *tf_cluster_keep_logs(tf_cluster *c)
{
    if (c->remote)
        return NULL;
    pthread_mutex_lock(&c->lock);
    c->keep_logs = TRUE;
    pthread_mutex_unlock(&c->lock);
    return c->dir;
}

tf_cluster *tf_cluster_new_remote_shell(struct tf_remote *r)
{
    tf_cluster *c = g_new0(tf_cluster, 1);
    c->ref = 1;
    c->remote = r;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->net_lock, NULL);
    c->faults = tf_faults_new();
    c->nodes = g_ptr_array_new();
    return c;
}

gint tf_cluster_node_add(tf_cluster *c, GError **error)
{
    if (c->remote) return tf_remote_unsupported(c->remote, "adding a member", error), -1;
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
