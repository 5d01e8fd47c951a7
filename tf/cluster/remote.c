/* remote.c: the remote backend: a tf_cluster whose nodes someone else runs (compose
 * services, Kubernetes pods). A member table fed by a driver (compose.c, k8s.c: a table of
 * their own, tf_remote_driver, for what differs between them), behind the same API the
 * local backend offers, so steps written against tf_cluster_* do not change with the
 * environment. Members are never removed (informer-style, like the local provider): one
 * that goes away stays listed as stopped, keeps its index, and comes back under its name
 * with a new URL. */
#include <string.h>
#include <pthread.h>
#include "tf/error.h"
#include "backend_priv.h"
#include "cluster_priv.h"
#include "deploy_priv.h"

#define TF_REMOTE_START_POLL_US (500 * 1000)

typedef struct {
    gchar *name;
    gchar *url;           /* NULL when unreachable */
    tf_node_state state;
    json_t *attrs;        /* from the driver */
    pthread_mutex_t op;   /* serialises faults on this member */
} rmember;

struct tf_remote {
    gint ref;
    const tf_remote_driver *drv;
    void *self;
    gchar *name;
    gchar *where;
    guint expect;
    gint64 start_timeout_us;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* signalled on every update and on close */
    GPtrArray *members;   /* rmember *, never shrinks */
    GPtrArray *old_urls;  /* replaced URLs: tf_cluster_node_url hands out borrowed ones */
    guint64 gen;
    gboolean closing;
};

static void rmember_free(gpointer p)
{
    rmember *m = p;
    g_free(m->name);
    g_free(m->url);
    json_decref(m->attrs);
    pthread_mutex_destroy(&m->op);
    g_free(m);
}

const char *tf_remote_op_name(tf_remote_op op)
{
    static const char *names[] = {"start", "stop", "kill", "pause", "resume", "restart",
                                  "isolate", "rejoin"};
    return (guint)op < G_N_ELEMENTS(names) ? names[op] : "?";
}

tf_cluster *tf_cluster_remote_new(const tf_remote_driver *drv, void *self, const char *name,
                                  const char *where, guint expect, gint64 start_timeout_us)
{
    tf_remote *r = g_new0(tf_remote, 1);
    r->ref = 1;
    r->drv = drv;
    r->self = self;
    r->name = g_strdup(name);
    r->where = g_strdup(where);
    r->expect = expect;
    r->start_timeout_us = start_timeout_us;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &attr);
    pthread_condattr_destroy(&attr);
    r->members = g_ptr_array_new_with_free_func(rmember_free);
    r->old_urls = g_ptr_array_new_with_free_func(g_free);
    return tf_cluster_alloc(&tf_cluster_remote_backend, r);
}

/* The remote behind a cluster of this backend. */
static tf_remote *R(const tf_cluster *c)
{
    return c->backend_data;
}

/* Every entry point that can take long (engine commands, waits) holds a reference, so
 * that tf_cluster_free on another thread (a runner abandoning a timed-out step) ends the
 * wait instead of freeing what it uses. */
static tf_remote *hold(tf_remote *r)
{
    g_atomic_int_inc(&r->ref);
    return r;
}

static void remote_unref(tf_remote *r)
{
    if (!r || !g_atomic_int_dec_and_test(&r->ref))
        return;
    if (r->drv->stop)
        r->drv->stop(r->self);
    r->drv->free(r->self);
    g_ptr_array_unref(r->members);
    g_ptr_array_unref(r->old_urls);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    g_free(r->name);
    g_free(r->where);
    g_free(r);
}

static rmember *find_locked(tf_remote *r, const char *name)
{
    for (guint i = 0; i < r->members->len; i++)
        if (!strcmp(((rmember *)r->members->pdata[i])->name, name))
            return r->members->pdata[i];
    return NULL;
}

static rmember *get(tf_remote *r, guint i)
{
    pthread_mutex_lock(&r->lock);
    rmember *m = i < r->members->len ? r->members->pdata[i] : NULL;
    pthread_mutex_unlock(&r->lock);
    return m;
}

void tf_remote_update(tf_remote *r, const char *name, const char *url, tf_node_state state,
                      json_t *attrs)
{
    pthread_mutex_lock(&r->lock);
    rmember *m = find_locked(r, name);
    if (!m) {
        m = g_new0(rmember, 1);
        m->name = g_strdup(name);
        pthread_mutex_init(&m->op, NULL);
        g_ptr_array_add(r->members, m);
    }
    if (g_strcmp0(m->url, url)) {
        if (m->url)
            g_ptr_array_add(r->old_urls, m->url);
        m->url = g_strdup(url);
    }
    m->state = state;
    if (attrs) {
        json_decref(m->attrs);
        m->attrs = attrs;
    }
    r->gen++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

guint64 tf_remote_generation(tf_remote *r)
{
    pthread_mutex_lock(&r->lock);
    guint64 g = r->gen;
    pthread_mutex_unlock(&r->lock);
    return g;
}

static gboolean timed_wait_locked(tf_remote *r, gint64 until)
{
    struct timespec ts = {until / G_USEC_PER_SEC, (until % G_USEC_PER_SEC) * 1000};
    return pthread_cond_timedwait(&r->cond, &r->lock, &ts) == 0;
}

gboolean tf_remote_wait(tf_remote *r, guint64 after, gint64 timeout_us)
{
    gint64 until = g_get_monotonic_time() + timeout_us;
    pthread_mutex_lock(&r->lock);
    while (r->gen <= after && !r->closing && g_get_monotonic_time() < until)
        timed_wait_locked(r, until);
    gboolean changed = r->gen > after && !r->closing;
    pthread_mutex_unlock(&r->lock);
    return changed;
}

gboolean tf_remote_pause(tf_remote *r, gint64 timeout_us)
{
    gint64 until = g_get_monotonic_time() + timeout_us;
    pthread_mutex_lock(&r->lock);
    while (!r->closing && g_get_monotonic_time() < until)
        timed_wait_locked(r, until);
    gboolean open = !r->closing;
    pthread_mutex_unlock(&r->lock);
    return open;
}

gchar **tf_remote_member_names(tf_remote *r)
{
    pthread_mutex_lock(&r->lock);
    gchar **out = g_new0(gchar *, r->members->len + 1);
    for (guint i = 0; i < r->members->len; i++)
        out[i] = g_strdup(((rmember *)r->members->pdata[i])->name);
    pthread_mutex_unlock(&r->lock);
    return out;
}

static gboolean member_ready_locked(const rmember *m)
{
    json_t *ready = json_object_get(m->attrs, "ready");
    return m->state == TF_NODE_RUNNING && m->url && !json_is_false(ready) &&
           !json_is_true(json_object_get(m->attrs, TF_REMOTE_ISOLATED));
}

/* "n1 running, n2 created (not ready)" for timeouts. */
static gchar *describe_locked(tf_remote *r)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < r->members->len; i++) {
        rmember *m = r->members->pdata[i];
        gboolean cut = json_is_true(json_object_get(m->attrs, TF_REMOTE_ISOLATED));
        g_string_append_printf(s, "%s%s %s%s", i ? ", " : "", m->name, tf_node_state_name(m->state),
                               cut ? " (isolated)"
                               : m->state == TF_NODE_RUNNING && !member_ready_locked(m) ? " (not ready)"
                                                                                         : "");
    }
    if (!s->len)
        g_string_append(s, "no members found");
    return g_string_free(s, FALSE);
}

/* Waits until `want` members (or member `only`) are running and ready. */
static gboolean wait_ready(tf_remote *r, gint only, guint want, gint64 timeout_us, GError **error)
{
    gint64 start = g_get_monotonic_time(), until = start + timeout_us;
    for (gboolean first = TRUE;; first = FALSE) {
        /* The first look may use a listing made just now; later ones read afresh. */
        if (r->drv->refresh && !r->drv->refresh(r->self, r, !first, error))
            return FALSE;
        pthread_mutex_lock(&r->lock);
        guint ready = 0;
        for (guint i = 0; i < r->members->len; i++)
            if ((only < 0 || (guint)only == i) && member_ready_locked(r->members->pdata[i]))
                ready++;
        guint64 gen = r->gen;
        gboolean closing = r->closing;
        gboolean done = ready >= (only >= 0 ? 1 : want ? want : MAX(1, r->members->len));
        gchar *what = done ? NULL : describe_locked(r);
        pthread_mutex_unlock(&r->lock);
        if (done)
            return TRUE;
        gint64 now = g_get_monotonic_time();
        if (closing) {
            g_set_error(error, TF_ERROR, TF_ERROR_STOPPED, "%s/%s: stopped following it while "
                        "waiting (%u of %u ready): %s", r->drv->kind, r->name, ready,
                        only >= 0 ? 1 : want ? want : MAX(1, r->members->len), what);
            g_free(what);
            return FALSE;
        }
        if (now >= until) {
            g_set_error(error, TF_ERROR, TF_ERROR_TIMEOUT, "%s/%s: not ready after %" G_GINT64_FORMAT
                        " ms (%u wanted): %s", r->drv->kind, r->name, (now - start) / 1000,
                        only >= 0 ? 1 : want, what);
            g_free(what);
            return FALSE;
        }
        g_free(what);
        /* A watching driver wakes this at its next event; one that lists re-reads. */
        tf_remote_wait(r, gen, MIN(TF_REMOTE_START_POLL_US, until - now));
    }
}

static gboolean remote_start(tf_cluster *c, GError **error)
{
    tf_remote *r = hold(R(c));
    gboolean ok = (!r->drv->start || r->drv->start(r->self, r, error)) &&
                  wait_ready(r, -1, r->expect, r->start_timeout_us, error);
    remote_unref(r);
    return ok;
}

static gboolean remote_node_wait_ready(tf_cluster *c, guint i, gint64 timeout_us, GError **error)
{
    tf_remote *r = R(c);
    if (!get(r, i)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: no node %u", r->drv->kind, r->name, i);
        return FALSE;
    }
    hold(r);
    gboolean ok = wait_ready(r, (gint)i, 1, timeout_us > 0 ? timeout_us : r->start_timeout_us, error);
    remote_unref(r);
    return ok;
}

static void remote_stop(tf_cluster *c)
{
    tf_remote *r = R(c);
    guint n = tf_remote_size(r);
    for (guint i = 0; i < n; i++) {
        tf_node_state st = tf_remote_node_state(r, i);
        if (st == TF_NODE_RUNNING || st == TF_NODE_PAUSED)
            tf_remote_node_op(r, i, TF_REMOTE_STOP, NULL);
    }
}

/* tf_cluster_free: the deployment is not ours: stop following it, leave it running. */
static void remote_release(tf_cluster *c)
{
    tf_remote *r = R(c);
    pthread_mutex_lock(&r->lock);
    r->closing = TRUE;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    if (r->drv->stop)
        r->drv->stop(r->self);
}

static void remote_destroy(tf_cluster *c)
{
    remote_unref(R(c));
}

static void unsupported(tf_remote *r, const char *what, GError **error)
{
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: %s is not supported by this environment",
                r->drv->kind, r->name, what);
}

static const char *remote_kind(const tf_cluster *c)
{
    return R(c)->drv->kind;
}

static const char *remote_where(const tf_cluster *c)
{
    return R(c)->where;
}

void *tf_remote_self(tf_remote *r)
{
    return r->self;
}

static const char *remote_name(const tf_cluster *c)
{
    return R(c)->name;
}

guint tf_remote_size(tf_remote *r)
{
    pthread_mutex_lock(&r->lock);
    guint n = r->members->len;
    pthread_mutex_unlock(&r->lock);
    return n;
}

gint tf_remote_index(tf_remote *r, const char *name)
{
    gint found = -1;
    pthread_mutex_lock(&r->lock);
    for (guint i = 0; found < 0 && i < r->members->len; i++)
        if (!strcmp(((rmember *)r->members->pdata[i])->name, name))
            found = (gint)i;
    pthread_mutex_unlock(&r->lock);
    return found;
}

static guint remote_size(tf_cluster *c)
{
    return tf_remote_size(R(c));
}

static gint remote_node_index(tf_cluster *c, const char *name)
{
    return tf_remote_index(R(c), name);
}

static const char *remote_node_name(tf_cluster *c, guint i)
{
    rmember *m = get(R(c), i);
    return m ? m->name : NULL;
}

const char *tf_remote_node_url(tf_remote *r, guint i)
{
    rmember *m = get(r, i);
    pthread_mutex_lock(&r->lock);
    const char *url = m ? m->url : NULL;
    pthread_mutex_unlock(&r->lock);
    return url;
}

static const char *remote_node_url(tf_cluster *c, guint i)
{
    return tf_remote_node_url(R(c), i);
}

static guint remote_node_port(tf_cluster *c, guint i, const char *port_name)
{
    tf_remote *r = R(c);
    rmember *m = get(r, i);
    pthread_mutex_lock(&r->lock);
    json_int_t p = m && port_name ? json_integer_value(json_object_get(
                                        json_object_get(m->attrs, "ports"), port_name)) : 0;
    pthread_mutex_unlock(&r->lock);
    return (guint)p;
}

tf_node_state tf_remote_node_state(tf_remote *r, guint i)
{
    rmember *m = get(r, i);
    pthread_mutex_lock(&r->lock);
    tf_node_state st = m ? m->state : TF_NODE_STOPPED;
    pthread_mutex_unlock(&r->lock);
    return st;
}

static tf_source *source_locked(tf_remote *r, guint i)
{
    rmember *m = r->members->pdata[i];
    json_t *attrs = m->attrs ? json_deep_copy(m->attrs) : json_object();
    json_object_set_new(attrs, "cluster", json_string(r->name));
    json_object_set_new(attrs, "env", json_string(r->drv->kind));
    json_object_set_new(attrs, "index", json_integer(i));
    json_object_set_new(attrs, "state", json_string(tf_node_state_name(m->state)));
    return tf_source_new(m->name, m->url, attrs, NULL, NULL);
}

static tf_source *remote_node_source(tf_cluster *c, guint i)
{
    tf_remote *r = R(c);
    pthread_mutex_lock(&r->lock);
    tf_source *src = i < r->members->len ? source_locked(r, i) : NULL;
    pthread_mutex_unlock(&r->lock);
    return src;
}

static gboolean remote_list_sources(tf_cluster *c, GPtrArray *out, GError **error)
{
    tf_remote *r = hold(R(c));
    gboolean ok = !r->drv->refresh || r->drv->refresh(r->self, r, FALSE, error);
    pthread_mutex_lock(&r->lock);
    if (ok && !r->closing)
        for (guint i = 0; i < r->members->len; i++)
            g_ptr_array_add(out, source_locked(r, i));
    pthread_mutex_unlock(&r->lock);
    remote_unref(r);
    return ok;
}

/* Sets or clears the member's isolated attribute (lock held; attrs are the member's own:
 * sources get deep copies). Until the driver's next listing says otherwise. */
static void set_isolated_locked(rmember *m, gboolean on)
{
    if (!m->attrs)
        m->attrs = json_object();
    json_object_set_new(m->attrs, TF_REMOTE_ISOLATED, json_boolean(on));
}

gboolean tf_remote_node_op(tf_remote *r, guint i, tf_remote_op op, GError **error)
{
    rmember *m = get(r, i);
    if (!m) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: no node %u (cluster has %u)",
                    r->drv->kind, r->name, i, tf_remote_size(r));
        return FALSE;
    }
    gboolean net = op == TF_REMOTE_ISOLATE || op == TF_REMOTE_REJOIN;
    if (net && !r->drv->isolate) {
        unsupported(r, op == TF_REMOTE_ISOLATE ? "isolating a member" : "rejoining a member",
                              error);
        return FALSE;
    }
    hold(r);
    pthread_mutex_lock(&m->op);
    pthread_mutex_lock(&r->lock);
    tf_node_state before = m->state;
    pthread_mutex_unlock(&r->lock);
    tf_node_state after = before;
    gboolean ok;
    if (net)
        ok = r->drv->isolate(r->self, r, m->name, op == TF_REMOTE_ISOLATE, error);
    else if ((op == TF_REMOTE_STOP || op == TF_REMOTE_KILL) &&
             (before == TF_NODE_STOPPED || before == TF_NODE_EXITED))
        ok = TRUE; /* already down, as for a local node (engines refuse to kill an exited one) */
    else
        ok = r->drv->op(r->self, r, m->name, op, &after, error);
    if (ok) {
        pthread_mutex_lock(&r->lock);
        gchar *url = g_strdup(m->url);
        if (net)
            set_isolated_locked(m, op == TF_REMOTE_ISOLATE);
        pthread_mutex_unlock(&r->lock);
        tf_remote_update(r, m->name, url, after, NULL);
        g_free(url);
    }
    pthread_mutex_unlock(&m->op);
    remote_unref(r);
    return ok;
}

gboolean tf_remote_node_isolated(tf_remote *r, guint i)
{
    rmember *m = get(r, i);
    pthread_mutex_lock(&r->lock);
    gboolean on = m && json_is_true(json_object_get(m->attrs, TF_REMOTE_ISOLATED));
    pthread_mutex_unlock(&r->lock);
    return on;
}

/* A deployment has one log per member, the engine's: which does not choose. */
static gchar *remote_node_log_tail(tf_cluster *c, guint i, tf_cluster_log which, gsize max_bytes)
{
    (void)which;
    tf_remote *r = R(c);
    rmember *m = get(r, i);
    hold(r);
    gchar *tail = m && r->drv->log_tail ? r->drv->log_tail(r->self, m->name, max_bytes) : NULL;
    remote_unref(r);
    return tail ? tail : g_strdup("");
}

static tf_node_state remote_node_state(tf_cluster *c, guint i, int *wait_status)
{
    if (wait_status)
        *wait_status = 0; /* not our process */
    return tf_remote_node_state(R(c), i);
}

static gboolean remote_node_start(tf_cluster *c, guint i, GError **error)
{
    return tf_remote_node_op(R(c), i, TF_REMOTE_START, error);
}

static gboolean remote_node_stop(tf_cluster *c, guint i, GError **error)
{
    return tf_remote_node_op(R(c), i, TF_REMOTE_STOP, error);
}

static gboolean remote_node_kill(tf_cluster *c, guint i, GError **error)
{
    return tf_remote_node_op(R(c), i, TF_REMOTE_KILL, error);
}

static gboolean remote_node_pause(tf_cluster *c, guint i, GError **error)
{
    return tf_remote_node_op(R(c), i, TF_REMOTE_PAUSE, error);
}

static gboolean remote_node_resume(tf_cluster *c, guint i, GError **error)
{
    return tf_remote_node_op(R(c), i, TF_REMOTE_RESUME, error);
}

static gboolean remote_node_restart(tf_cluster *c, guint i, GError **error)
{
    return tf_remote_node_op(R(c), i, TF_REMOTE_RESTART, error);
}

static gboolean remote_isolate(tf_cluster *c, guint i, GError **error)
{
    return tf_remote_node_op(R(c), i, TF_REMOTE_ISOLATE, error);
}

static gboolean remote_rejoin(tf_cluster *c, guint i, GError **error)
{
    return tf_remote_node_op(R(c), i, TF_REMOTE_REJOIN, error);
}

static gboolean remote_isolated(tf_cluster *c, guint i)
{
    return tf_remote_node_isolated(R(c), i);
}

/* Isolation is the only network fault a driver offers: healing rejoins every cut member. */
static gboolean remote_heal(tf_cluster *c, GError **error)
{
    tf_remote *r = R(c);
    for (guint i = 0; i < tf_remote_size(r); i++)
        if (tf_remote_node_isolated(r, i) && !tf_remote_node_op(r, i, TF_REMOTE_REJOIN, error))
            return FALSE;
    return TRUE;
}

/* What a deployment cannot do (no dir, argv, templates, pid, members added by tf, partial
 * network faults) is left NULL: cluster.c answers for it. */
const tf_cluster_backend tf_cluster_remote_backend = {
    .kind = remote_kind,
    .start = remote_start,
    .stop = remote_stop,
    .release = remote_release,
    .destroy = remote_destroy,
    .name = remote_name,
    .where = remote_where,
    .size = remote_size,
    .node_index = remote_node_index,
    .node_name = remote_node_name,
    .node_port = remote_node_port,
    .node_url = remote_node_url,
    .node_log_tail = remote_node_log_tail,
    .node_source = remote_node_source,
    .list_sources = remote_list_sources,
    .node_start = remote_node_start,
    .node_stop = remote_node_stop,
    .node_kill = remote_node_kill,
    .node_pause = remote_node_pause,
    .node_resume = remote_node_resume,
    .node_restart = remote_node_restart,
    .node_wait_ready = remote_node_wait_ready,
    .node_state = remote_node_state,
    .isolate = remote_isolate,
    .rejoin = remote_rejoin,
    .isolated = remote_isolated,
    .heal = remote_heal,
};
