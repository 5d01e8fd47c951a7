/* access.c: read-only questions about a local cluster and its nodes (names, ports, paths):
 * the local backend's answers to what a step needs to talk to a node or to attach its
 * logs to a failed scenario. */
#include <string.h>
#include "tf/error.h"
#include "cluster_priv.h"

const char *tf_local_name(const tf_cluster *c)
{
    return c->spec->name;
}

const char *tf_local_where(const tf_cluster *c)
{
    return c->dir;
}

guint tf_local_size(tf_cluster *c)
{
    pthread_mutex_lock(&c->lock);
    guint len = c->nodes->len;
    pthread_mutex_unlock(&c->lock);
    return len;
}

gint tf_local_node_index(tf_cluster *c, const char *name)
{
    gint found = -1;
    pthread_mutex_lock(&c->lock);
    for (guint i = 0; found < 0 && i < c->nodes->len; i++)
        if (!strcmp(((tf_cluster_node *)c->nodes->pdata[i])->name, name))
            found = (gint)i;
    pthread_mutex_unlock(&c->lock);
    return found;
}

const char *tf_local_node_name(tf_cluster *c, guint i)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n ? n->name : NULL;
}

guint tf_local_node_port(tf_cluster *c, guint i, const char *port_name)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    if (!n || !port_name)
        return 0;
    guint port = 0;
    GPtrArray *names = c->spec->ports;
    pthread_mutex_lock(&c->lock);
    for (guint k = 0; k < names->len; k++)
        if (!strcmp(names->pdata[k], port_name))
            port = n->ports[k];
    pthread_mutex_unlock(&c->lock);
    return port;
}

const char *tf_local_node_url(tf_cluster *c, guint i)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n ? n->url : NULL;
}

const char *tf_local_node_dir(tf_cluster *c, guint i)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n ? n->dir : NULL;
}

gchar **tf_local_node_argv(tf_cluster *c, guint i)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    if (!n)
        return NULL;
    pthread_mutex_lock(&c->lock);
    gchar **argv = g_strdupv(n->argv);
    pthread_mutex_unlock(&c->lock);
    return argv;
}

gchar *tf_local_expand(tf_cluster *c, guint i, const char *tmpl, GError **error)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    if (!n) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: no node %u", c->spec->name, i);
        return NULL;
    }
    GError *e = NULL;
    pthread_mutex_lock(&c->lock);
    gchar *out = tf_cluster_tmpl_expand(tmpl, n->vars, &e);
    pthread_mutex_unlock(&c->lock);
    if (!out) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: '%s': %s", c->spec->name, n->name,
                    tmpl, e->message);
        g_error_free(e);
    }
    return out;
}

const char *tf_local_node_log_path(tf_cluster *c, guint i, tf_cluster_log which)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n && (which == TF_CLUSTER_LOG_STDOUT || which == TF_CLUSTER_LOG_STDERR)
               ? n->log[which] : NULL;
}
