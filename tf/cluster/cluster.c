/* cluster.c: the tf_cluster object and its public API, whatever runs the members.
 * Each tf_cluster_* call goes to the cluster's backend (backend_priv.h); what a backend
 * leaves out gets the answer cluster.h gives for an environment without it. Only what
 * every backend shares lives here: references, the freed flag, the fault journal
 * (fault.c). */
#include "tf/error.h"
#include "backend_priv.h"
#include "cluster_priv.h"

tf_cluster *tf_cluster_alloc(const tf_cluster_backend *be, void *data)
{
    tf_cluster *c = g_new0(tf_cluster, 1);
    c->ref = 1;
    c->be = be;
    c->backend_data = data;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->net_lock, NULL);
    c->faults = tf_faults_new();
    c->nodes = g_ptr_array_new();
    return c;
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
    c->be->destroy(c);
    g_ptr_array_unref(c->nodes);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->net_lock);
    tf_faults_free(c->faults);
    g_free(c);
}

void tf_cluster_free(tf_cluster *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->freed = TRUE; /* providers list nothing from now on; no node may start */
    pthread_mutex_unlock(&c->lock);
    c->be->release(c);
    tf_cluster_unref(c);
}

/* "KIND/NAME: WHAT is not supported by this environment": a hook the backend lacks. */
static void unsupported(const tf_cluster *c, const char *what, GError **error)
{
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: %s is not supported by this environment",
                c->be->kind(c), c->be->name(c), what);
}

/* ---- lifetime ---- */

gboolean tf_cluster_start(tf_cluster *c, GError **error)
{
    return c->be->start(c, error);
}

void tf_cluster_stop(tf_cluster *c)
{
    c->be->stop(c);
}

const char *tf_cluster_keep_logs(tf_cluster *c)
{
    return c->be->keep_logs ? c->be->keep_logs(c) : NULL;
}

gint tf_cluster_node_add(tf_cluster *c, GError **error)
{
    if (!c->be->node_add)
        return unsupported(c, "adding a member", error), -1;
    return c->be->node_add(c, error);
}

/* ---- what it is ---- */

const char *tf_cluster_name(const tf_cluster *c)
{
    return c->be->name(c);
}

const char *tf_cluster_dir(const tf_cluster *c)
{
    return c->be->where(c);
}

guint tf_cluster_size(tf_cluster *c)
{
    return c->be->size(c);
}

gint tf_cluster_node_index(tf_cluster *c, const char *name)
{
    return c->be->node_index(c, name);
}

const char *tf_cluster_node_name(tf_cluster *c, guint i)
{
    return c->be->node_name(c, i);
}

guint tf_cluster_node_port(tf_cluster *c, guint i, const char *port_name)
{
    return c->be->node_port(c, i, port_name);
}

const char *tf_cluster_node_url(tf_cluster *c, guint i)
{
    return c->be->node_url(c, i);
}

const char *tf_cluster_node_dir(tf_cluster *c, guint i)
{
    return c->be->node_dir ? c->be->node_dir(c, i) : NULL;
}

gchar **tf_cluster_node_argv(tf_cluster *c, guint i)
{
    return c->be->node_argv ? c->be->node_argv(c, i) : NULL;
}

gchar *tf_cluster_expand(tf_cluster *c, guint i, const char *tmpl, GError **error)
{
    if (!c->be->expand)
        return unsupported(c, "template expansion", error), NULL;
    return c->be->expand(c, i, tmpl, error);
}

const char *tf_cluster_node_address(tf_cluster *c, guint i)
{
    return c->be->node_address ? c->be->node_address(c, i) : NULL;
}

const char *tf_cluster_node_log_path(tf_cluster *c, guint i, tf_cluster_log which)
{
    /* Without one (a deployment's logs are the engine's), see tf_cluster_node_log_tail. */
    return c->be->node_log_path ? c->be->node_log_path(c, i, which) : NULL;
}

gchar *tf_cluster_node_log_tail(tf_cluster *c, guint i, tf_cluster_log which, gsize max_bytes)
{
    return c->be->node_log_tail(c, i, which, max_bytes);
}

tf_source *tf_cluster_node_source(tf_cluster *c, guint i)
{
    return c->be->node_source(c, i);
}

/* ---- process faults ---- */

gboolean tf_cluster_node_start(tf_cluster *c, guint i, GError **error)
{
    return c->be->node_start(c, i, error);
}

gboolean tf_cluster_node_stop(tf_cluster *c, guint i, GError **error)
{
    return c->be->node_stop(c, i, error);
}

gboolean tf_cluster_node_kill(tf_cluster *c, guint i, GError **error)
{
    return c->be->node_kill(c, i, error);
}

gboolean tf_cluster_node_pause(tf_cluster *c, guint i, GError **error)
{
    return c->be->node_pause(c, i, error);
}

gboolean tf_cluster_node_resume(tf_cluster *c, guint i, GError **error)
{
    return c->be->node_resume(c, i, error);
}

gboolean tf_cluster_node_restart(tf_cluster *c, guint i, GError **error)
{
    return c->be->node_restart(c, i, error);
}

gboolean tf_cluster_node_wait_ready(tf_cluster *c, guint i, gint64 timeout_us, GError **error)
{
    return c->be->node_wait_ready(c, i, timeout_us, error);
}

tf_node_state tf_cluster_node_state(tf_cluster *c, guint i, int *wait_status)
{
    return c->be->node_state(c, i, wait_status);
}

pid_t tf_cluster_node_pid(tf_cluster *c, guint i)
{
    return c->be->node_pid ? c->be->node_pid(c, i) : 0; /* none: not our process */
}

/* ---- network faults ---- */

gboolean tf_cluster_node_isolate(tf_cluster *c, guint i, GError **error)
{
    if (!c->be->isolate)
        return unsupported(c, "isolating a member", error), FALSE;
    return c->be->isolate(c, i, error);
}

gboolean tf_cluster_node_rejoin(tf_cluster *c, guint i, GError **error)
{
    if (!c->be->rejoin)
        return unsupported(c, "rejoining a member", error), FALSE;
    return c->be->rejoin(c, i, error);
}

gboolean tf_cluster_node_isolated(tf_cluster *c, guint i)
{
    return c->be->isolated && c->be->isolated(c, i);
}

gboolean tf_cluster_partition(tf_cluster *c, const guint *group_of, guint n, GError **error)
{
    if (!c->be->partition)
        return unsupported(c, "partitioning the network", error), FALSE;
    return c->be->partition(c, group_of, n, error);
}

gboolean tf_cluster_cut(tf_cluster *c, guint from, guint to, GError **error)
{
    if (!c->be->cut)
        return unsupported(c, "a one-way cut", error), FALSE;
    return c->be->cut(c, from, to, error);
}

gboolean tf_cluster_node_lose(tf_cluster *c, guint i, double share, GError **error)
{
    if (!c->be->lose)
        return unsupported(c, "packet loss", error), FALSE;
    return c->be->lose(c, i, share, error);
}

gboolean tf_cluster_node_delay(tf_cluster *c, guint i, gint64 delay_us, GError **error)
{
    if (!c->be->delay)
        return unsupported(c, "delaying packets", error), FALSE;
    return c->be->delay(c, i, delay_us, error);
}

gboolean tf_cluster_node_unobserve(tf_cluster *c, guint i, GError **error)
{
    if (!c->be->unobserve)
        return unsupported(c, "cutting the observer off", error), FALSE;
    return c->be->unobserve(c, i, error);
}

gboolean tf_cluster_heal(tf_cluster *c, GError **error)
{
    return !c->be->heal || c->be->heal(c, error); /* nothing it can break: nothing to heal */
}
