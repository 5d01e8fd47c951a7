/* access.c: read-only questions about a cluster and its nodes (names, ports, paths).
 * What a step needs to talk to a node or to attach its logs to a failed scenario. */
#include <string.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "deploy_priv.h"

const char *tf_cluster_name(const tf_cluster *c)
{
    if (c->remote) return tf_remote_name(c->remote);
    return c->spec->name;
}

const char *tf_cluster_dir(const tf_cluster *c)
{
    if (c->remote) return tf_remote_where(c->remote); /* nothing on disk: where it runs */
    return c->dir;
}

guint tf_cluster_size(tf_cluster *c)
{
    if (c->remote) return tf_remote_size(c->remote);
    pthread_mutex_lock(&c->lock);
    guint len = c->nodes->len;
    pthread_mutex_unlock(&c->lock);
    return len;
}

gint tf_cluster_node_index(tf_cluster *c, const char *name)
{
    if (c->remote) return tf_remote_index(c->remote, name);
    gint found = -1;
    pthread_mutex_lock(&c->lock);
    for (guint i = 0; found < 0 && i < c->nodes->len; i++)
        if (!strcmp(((tf_cluster_node *)c->nodes->pdata[i])->name, name))
            found = (gint)i;
    pthread_mutex_unlock(&c->lock);
    return found;
}

const char *tf_cluster_node_name(tf_cluster *c, guint i)
{
    if (c->remote) return tf_remote_node_name(c->remote, i);
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n ? n->name : NULL;
}

guint tf_cluster_node_port(tf_cluster *c, guint i, const char *port_name)
{
    if (c->remote) return tf_remote_node_port(c->remote, i, port_name);
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

const char *tf_cluster_node_url(tf_cluster *c, guint i)
{
    if (c->remote) return tf_remote_node_url(c->remote, i);
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n ? n->url : NULL;
}

const char *tf_cluster_node_dir(tf_cluster *c, guint i)
{
    if (c->remote) return NULL;
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n ? n->dir : NULL;
}

gchar **tf_cluster_node_argv(tf_cluster *c, guint i)
{
    if (c->remote) return NULL;
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    if (!n)
        return NULL;
    pthread_mutex_lock(&c->lock);
    gchar **argv = g_strdupv(n->argv);
    pthread_mutex_unlock(&c->lock);
    return argv;
}

gchar *tf_cluster_expand(tf_cluster *c, guint i, const char *tmpl, GError **error)
{
    if (c->remote) return tf_remote_unsupported(c->remote, "template expansion", error), NULL;
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

const char *tf_cluster_node_log_path(tf_cluster *c, guint i, tf_cluster_log which)
{
    if (c->remote) return NULL; /* see tf_cluster_node_log_tail */
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n && (which == TF_CLUSTER_LOG_STDOUT || which == TF_CLUSTER_LOG_STDERR)
               ? n->log[which] : NULL;
}
