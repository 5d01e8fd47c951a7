/* provider.c: the cluster as a tf_source_provider.
 * Informer-style: every member is listed, whatever its state, with "state" among its
 * attributes. A stopped node keeps its name and URL, so an observer sees the same source
 * go down and come back (and can skip polling what is not "running") instead of a source
 * vanishing and a new one appearing. */
#include <string.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "backend_priv.h"

/* The source of n now (lock held, n refreshed). */
static tf_source *node_source_locked(tf_cluster *c, tf_cluster_node *n)
{
    json_t *attrs = n->attrs ? json_deep_copy(n->attrs) : json_object();
    json_object_set_new(attrs, "cluster", json_string(c->spec->name));
    json_object_set_new(attrs, "index", json_integer(n->index));
    json_object_set_new(attrs, "state", json_string(tf_node_state_name(n->state)));
    json_t *ports = json_object();
    for (guint k = 0; k < c->spec->ports->len; k++)
        json_object_set_new(ports, c->spec->ports->pdata[k], json_integer(n->ports[k]));
    json_object_set_new(attrs, "ports", ports);
    if (n->state == TF_NODE_EXITED) {
        gchar *how = tf_cluster_proc_status_str(n->status);
        json_object_set_new(attrs, "exit", json_string(how));
        g_free(how);
    }
    return tf_source_new(n->name, n->url, attrs, NULL, NULL);
}

tf_source *tf_local_node_source(tf_cluster *c, guint i)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    if (!n)
        return NULL;
    tf_cluster_node_lock_fresh(c, n);
    tf_source *src = node_source_locked(c, n);
    pthread_mutex_unlock(&c->lock);
    return src;
}

gboolean tf_local_list_sources(tf_cluster *c, GPtrArray *out, GError **error)
{
    (void)error; /* the table is in memory: listing cannot fail */
    pthread_mutex_lock(&c->lock);
    if (!c->freed) {
        for (guint i = 0; i < c->nodes->len; i++) {
            tf_cluster_node_refresh_locked(c->nodes->pdata[i]);
            g_ptr_array_add(out, node_source_locked(c, c->nodes->pdata[i]));
        }
    }
    pthread_mutex_unlock(&c->lock);
    return TRUE;
}

static gboolean provider_list(void *self, GPtrArray *out, GError **error)
{
    tf_cluster *c = self;
    return c->be->list_sources(c, out, error); /* nothing once freed */
}

static void provider_free(void *self)
{
    tf_cluster_unref(self);
}

static const tf_source_provider_vtable cluster_provider_vt = {
    .name = "cluster",
    .list = provider_list,
    .free = provider_free,
};

tf_source_provider *tf_cluster_provider(tf_cluster *c)
{
    return tf_source_provider_new(&cluster_provider_vt, tf_cluster_ref(c));
}
