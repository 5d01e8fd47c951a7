/* k8s.c: the Kubernetes backend of tf_cluster: pods matching a label selector.
 * One list, then a watch stream from its resourceVersion on a thread (ADDED, MODIFIED,
 * DELETED; a 410 Gone, as an ERROR event or as the HTTP status, means the version is
 * too old: list again). Pods are reached by pod IP (runner inside the cluster network)
 * or through `kubectl port-forward` (runner outside it). The faults are pod deletion and
 * isolation (a NetworkPolicy, k8s_netpol.c). */
#define _GNU_SOURCE
#include <string.h>
#include <pthread.h>
#include "tf/error.h"
#include "deploy_priv.h"
#include "owner.h"

#define TF_K8S_CALL_TIMEOUT_US (30 * G_USEC_PER_SEC)
#define TF_K8S_BACKOFF_US G_USEC_PER_SEC
#define TF_K8S_FORWARD_WAIT_MS 15000

typedef struct {
    tf_k8s_api *api;
    gchar *kubeconfig; /* for kubectl port-forward */
    gchar *ns;
    gchar *selector;
    gchar *label;      /* "k8s/NS" for messages */
    guint port;
    gboolean port_forward;
    tf_remote *r;      /* set by start (borrowed: the remote owns us) */
    GThread *watcher;
    pthread_mutex_t lock;       /* guards everything below */
    gchar *rv;         /* resourceVersion to watch from; NULL = list first */
    GError *last_error; /* of the last list/watch attempt, NULL when it went well */
    gboolean stopping;
    GHashTable *forwards; /* pod name -> forward * */
} k8s_drv;

static gboolean is_stopping(k8s_drv *d)
{
    pthread_mutex_lock(&d->lock);
    gboolean s = d->stopping;
    pthread_mutex_unlock(&d->lock);
    return s;
}

static void set_error(k8s_drv *d, GError *e)
{
    pthread_mutex_lock(&d->lock);
    g_clear_error(&d->last_error);
    d->last_error = e;
    pthread_mutex_unlock(&d->lock);
}

/* The URL of a running pod: by pod IP, or through a (re)started port-forward. */
static gchar *pod_url(k8s_drv *d, const char *pod, const char *uid, const char *ip, json_t *attrs)
{
    if (!d->port_forward)
        return strchr(ip, ':') ? g_strdup_printf("http://[%s]:%u", ip, d->port)
                               : g_strdup_printf("http://%s:%u", ip, d->port);
    pthread_mutex_lock(&d->lock);
    tf_k8s_forward *f = g_hash_table_lookup(d->forwards, pod);
    gboolean live = f && !g_strcmp0(tf_k8s_forward_uid(f), uid) && tf_k8s_forward_alive(f);
    gchar *url = live ? g_strdup(tf_k8s_forward_url(f)) : NULL;
    if (f && !live)
        g_hash_table_remove(d->forwards, pod);
    pthread_mutex_unlock(&d->lock);
    if (url)
        return url;
    GError *e = NULL;
    f = tf_k8s_forward_start(d->kubeconfig, d->ns, pod, uid, d->port,
                             TF_K8S_FORWARD_WAIT_MS * 1000LL, &e);
    if (!f) {
        json_object_set_new(attrs, "error", json_string(e->message));
        g_error_free(e);
        return NULL;
    }
    url = g_strdup(tf_k8s_forward_url(f));
    pthread_mutex_lock(&d->lock);
    g_hash_table_replace(d->forwards, g_strdup(pod), f);
    pthread_mutex_unlock(&d->lock);
    return url;
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

/* Applies one pod object to the member table (deleted: the pod is gone). */
static void apply_pod(k8s_drv *d, json_t *pod, gboolean deleted)
{
    const char *name = jstr(pod, "metadata", "name");
    if (!name)
        return;
    const char *uid = jstr(pod, "metadata", "uid");
    const char *phase = jstr(pod, "status", "phase");
    const char *ip = jstr(pod, "status", "podIP");
    gboolean terminating = json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL;
    gboolean ready = FALSE;
    size_t k;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), k, c)
        if (!g_strcmp0(jstr(c, "type", NULL), "Ready"))
            ready = !g_strcmp0(jstr(c, "status", NULL), "True");
    json_int_t restarts = 0;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "containerStatuses"), k, c)
        restarts += json_integer_value(json_object_get(c, "restartCount"));
    tf_node_state st = deleted || terminating       ? TF_NODE_STOPPED
                       : !g_strcmp0(phase, "Running") ? TF_NODE_RUNNING
                       : !g_strcmp0(phase, "Succeeded") || !g_strcmp0(phase, "Failed")
                           ? TF_NODE_EXITED : TF_NODE_CREATED;
    json_t *attrs = json_pack("{s:s, s:s?, s:s?, s:s?, s:b, s:I, s:{s:i}}", "namespace", d->ns,
                              "uid", uid, "phase", deleted ? "Deleted" : phase, "pod_ip",
                              deleted ? NULL : ip, "ready", ready && st == TF_NODE_RUNNING,
                              "restarts", (json_int_t)restarts, "ports", "client", (int)d->port);
    if (terminating)
        json_object_set_new(attrs, "terminating", json_true());
    gchar *url = st == TF_NODE_RUNNING && ip ? pod_url(d, name, uid, ip, attrs) : NULL;
    if (st != TF_NODE_RUNNING && d->port_forward) {
        pthread_mutex_lock(&d->lock);
        g_hash_table_remove(d->forwards, name);
        pthread_mutex_unlock(&d->lock);
    }
    tf_remote_update(d->r, name, url, st, attrs);
    g_free(url);
}

static gchar *pods_path(k8s_drv *d, const char *extra)
{
    gchar *sel = g_uri_escape_string(d->selector, NULL, FALSE);
    gchar *p = g_strdup_printf("/api/v1/namespaces/%s/pods?labelSelector=%s%s", d->ns, sel,
                               extra ? extra : "");
    g_free(sel);
    return p;
}

/* "HTTP 403: pods is forbidden: ..." from a Status body (or the bare code). */
static gchar *status_text(long status, json_t *body)
{
    const char *msg = jstr(body, "message", NULL);
    return msg ? g_strdup_printf("HTTP %ld: %s", status, msg) : g_strdup_printf("HTTP %ld", status);
}

/* Lists the pods: every member is refreshed, those absent are stopped, rv is reset. */
static gboolean list_pods(k8s_drv *d, GError **error)
{
    gchar *path = pods_path(d, NULL);
    long status = 0;
    json_t *body = tf_k8s_api_call(d->api, "GET", path, TF_K8S_CALL_TIMEOUT_US, &status, error);
    g_free(path);
    if (status == 0)
        return FALSE;
    if (status != 200 || !json_is_array(json_object_get(body, "items"))) {
        gchar *why = status == 200 ? g_strdup("not a PodList") : status_text(status, body);
        g_set_error(error, TF_ERROR, TF_ERROR_HTTP, "%s: list pods (%s): %s", d->label, d->selector, why);
        g_free(why);
        json_decref(body);
        return FALSE;
    }
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    size_t i;
    json_t *pod;
    json_array_foreach(json_object_get(body, "items"), i, pod) {
        apply_pod(d, pod, FALSE);
        if (jstr(pod, "metadata", "name"))
            g_hash_table_add(seen, (gpointer)jstr(pod, "metadata", "name"));
    }
    gchar **names = tf_remote_member_names(d->r);
    for (guint k = 0; names[k]; k++) {
        gint idx = tf_remote_index(d->r, names[k]);
        if (!g_hash_table_contains(seen, names[k]) && tf_remote_node_state(d->r, (guint)idx) != TF_NODE_STOPPED)
            tf_remote_update(d->r, names[k], NULL, TF_NODE_STOPPED, NULL);
    }
    g_strfreev(names);
    g_hash_table_unref(seen);
    pthread_mutex_lock(&d->lock);
    g_free(d->rv);
    d->rv = g_strdup(jstr(body, "metadata", "resourceVersion"));
    pthread_mutex_unlock(&d->lock);
    json_decref(body);
    return TRUE;
}

typedef struct {
    k8s_drv *d;
    gboolean gone;  /* 410: list again */
    GError *error;  /* an ERROR event other than 410 */
} watch_ctx;

static gboolean on_event(const char *line, gsize len, void *user)
{
    watch_ctx *w = user;
    json_t *ev = json_loadb(line, len, 0, NULL);
    const char *type = jstr(ev, "type", NULL);
    json_t *obj = json_object_get(ev, "object");
    gboolean go = TRUE;
    if (!type && !g_strcmp0(jstr(ev, "kind", NULL), "Status")) {
        obj = ev; /* the body of a non-2xx answer: a bare Status */
        type = "ERROR";
    }
    if (!ev || !type) {
        g_set_error(&w->error, TF_ERROR, TF_ERROR_PARSE, "%s: watch: not an event: %.200s",
                    w->d->label, line);
        go = FALSE;
    } else if (!strcmp(type, "ERROR")) {
        if (json_integer_value(json_object_get(obj, "code")) == 410)
            w->gone = TRUE;
        else
            g_set_error(&w->error, TF_ERROR, TF_ERROR_HTTP, "%s: watch: %s", w->d->label,
                        jstr(obj, "message", NULL) ? jstr(obj, "message", NULL) : line);
        go = FALSE;
    } else {
        if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") || !strcmp(type, "DELETED"))
            apply_pod(w->d, obj, !strcmp(type, "DELETED"));
        const char *rv = jstr(obj, "metadata", "resourceVersion"); /* BOOKMARK too */
        if (rv) {
            pthread_mutex_lock(&w->d->lock);
            g_free(w->d->rv);
            w->d->rv = g_strdup(rv);
            pthread_mutex_unlock(&w->d->lock);
        }
    }
    json_decref(ev);
    return go && !is_stopping(w->d);
}

static gpointer watch_main(gpointer data)
{
    k8s_drv *d = data;
    while (!is_stopping(d)) {
        GError *e = NULL;
        pthread_mutex_lock(&d->lock);
        gchar *rv = g_strdup(d->rv);
        pthread_mutex_unlock(&d->lock);
        if (!rv) {
            if (list_pods(d, &e)) {
                set_error(d, NULL);
            } else {
                set_error(d, e);
                tf_remote_pause(d->r, TF_K8S_BACKOFF_US); /* a failing server: back off */
            }
            continue;
        }
        gchar *q = g_strdup_printf("&watch=1&resourceVersion=%s&allowWatchBookmarks=true", rv);
        gchar *path = pods_path(d, q);
        g_free(q);
        g_free(rv);
        watch_ctx w = {d, FALSE, NULL};
        long status = tf_k8s_api_stream(d->api, path, on_event, &w, &e);
        g_free(path);
        if (w.gone || status == 410) { /* too old: list again, then watch from there */
            pthread_mutex_lock(&d->lock);
            g_clear_pointer(&d->rv, g_free);
            pthread_mutex_unlock(&d->lock);
            g_clear_error(&w.error);
            g_clear_error(&e);
            continue;
        }
        if (!e && w.error)
            e = w.error;
        else
            g_clear_error(&w.error);
        if (!e && status != 200)
            e = g_error_new(TF_ERROR, TF_ERROR_HTTP, "%s: watch pods: HTTP %ld", d->label, status);
        if (e && !is_stopping(d)) {
            set_error(d, e);
            tf_remote_pause(d->r, TF_K8S_BACKOFF_US);
        } else if (e) {
            g_error_free(e);
        }
        /* else the server ended the stream (its timeout): watch again from rv */
    }
    return NULL;
}

static gboolean k8s_start(void *self, tf_remote *r, GError **error)
{
    k8s_drv *d = self;
    d->r = r;
    if (d->watcher)
        return TRUE;
    /* The first list in the caller, so a bad token fails the step at once; with
     * port-forwards the watcher lists, as kubectl must be spawned from a thread that
     * lives as long as the forwards (it gets SIGTERM when its spawner ends). */
    if (!d->port_forward && !list_pods(d, error))
        return FALSE;
    d->watcher = g_thread_new("tf-k8s-watch", watch_main, d);
    return TRUE;
}

static gboolean k8s_refresh(void *self, tf_remote *r, gboolean force, GError **error)
{
    (void)r;
    (void)force; /* the watch keeps the table current */
    k8s_drv *d = self;
    pthread_mutex_lock(&d->lock);
    gboolean ok = d->last_error == NULL;
    if (!ok)
        g_propagate_error(error, g_error_copy(d->last_error));
    pthread_mutex_unlock(&d->lock);
    return ok;
}

static gboolean k8s_op(void *self, tf_remote *r, const char *member, tf_remote_op op,
                       tf_node_state *after, GError **error)
{
    k8s_drv *d = self;
    if (op == TF_REMOTE_PAUSE || op == TF_REMOTE_RESUME) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: %s is not supported by k8s (the "
                    "API cannot freeze a pod; use kill, stop or restart)", d->label, member,
                    tf_remote_op_name(op));
        return FALSE;
    }
    gint idx = tf_remote_index(r, member);
    tf_node_state now = idx >= 0 ? tf_remote_node_state(r, (guint)idx) : TF_NODE_STOPPED;
    if (op == TF_REMOTE_START || ((op == TF_REMOTE_STOP || op == TF_REMOTE_KILL) && now != TF_NODE_RUNNING && now != TF_NODE_CREATED)) {
        *after = now; /* the controller recreates deleted pods by itself */
        return TRUE;
    }
    gchar *path = g_strdup_printf("/api/v1/namespaces/%s/pods/%s%s", d->ns, member,
                                  op == TF_REMOTE_KILL ? "?gracePeriodSeconds=0" : "");
    long status = 0;
    GError *e = NULL;
    json_t *body = tf_k8s_api_call(d->api, "DELETE", path, TF_K8S_CALL_TIMEOUT_US, &status, &e);
    g_free(path);
    gboolean ok = status == 200 || status == 202;
    if (!ok) {
        gchar *why = e ? g_strdup(e->message) : status_text(status, body);
        g_set_error(error, TF_ERROR, status ? TF_ERROR_HTTP : TF_ERROR_IO, "%s/%s: %s (delete pod): %s",
                    d->label, member, tf_remote_op_name(op), why);
        g_free(why);
    }
    g_clear_error(&e);
    json_decref(body);
    *after = TF_NODE_STOPPED;
    return ok;
}

/* Isolation is a NetworkPolicy plus a pod label (k8s_netpol.c), owned by this process. */
static gboolean k8s_isolate(void *self, tf_remote *r, const char *member, gboolean on, GError **error)
{
    k8s_drv *d = self;
    return tf_k8s_isolate(d->api, d->ns, member, d->selector, tf_owner_token(), on, error);
}

static gboolean collect_line(const char *line, gsize len, void *user)
{
    g_string_append_len(user, line, (gssize)len);
    g_string_append_c(user, '\n');
    return TRUE;
}

static gchar *k8s_log_tail(void *self, const char *member, gsize max_bytes)
{
    k8s_drv *d = self;
    gchar *path = g_strdup_printf("/api/v1/namespaces/%s/pods/%s/log?limitBytes=%" G_GSIZE_FORMAT
                                  "&tailLines=500", d->ns, member, max_bytes);
    GString *out = g_string_new(NULL);
    GError *e = NULL;
    long status = tf_k8s_api_stream(d->api, path, collect_line, out, &e);
    if (status != 200) {
        g_string_printf(out, "%s/%s: no log: %s", d->label, member,
                        e ? e->message : "the API server refused");
        g_clear_error(&e);
    }
    g_free(path);
    return g_string_free(out, FALSE);
}

static void k8s_stop(void *self)
{
    k8s_drv *d = self;
    pthread_mutex_lock(&d->lock);
    d->stopping = TRUE;
    pthread_mutex_unlock(&d->lock);
    tf_k8s_api_interrupt(d->api);
    if (d->watcher) {
        g_thread_join(d->watcher);
        d->watcher = NULL;
    }
    pthread_mutex_lock(&d->lock);
    g_hash_table_remove_all(d->forwards);
    pthread_mutex_unlock(&d->lock);
}

static void k8s_free(void *self)
{
    k8s_drv *d = self;
    tf_k8s_api_free(d->api);
    g_hash_table_unref(d->forwards);
    g_clear_error(&d->last_error);
    pthread_mutex_destroy(&d->lock);
    g_free(d->rv);
    g_free(d->kubeconfig);
    g_free(d->ns);
    g_free(d->selector);
    g_free(d->label);
    g_free(d);
}

static const tf_remote_driver k8s_driver = {
    .kind = "k8s",
    .start = k8s_start,
    .refresh = k8s_refresh,
    .op = k8s_op,
    .isolate = k8s_isolate,
    .log_tail = k8s_log_tail,
    .stop = k8s_stop,
    .free = k8s_free,
};

tf_cluster *tf_cluster_k8s_new(const tf_k8s_config *cfg, GError **error)
{
    if (!cfg || !cfg->selector || !*cfg->selector || !cfg->port) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "k8s: a label selector and a port are needed");
        return NULL;
    }
    tf_kubeconfig *kc = tf_kubeconfig_load(cfg->kubeconfig, error);
    if (!kc)
        return NULL;
    k8s_drv *d = g_new0(k8s_drv, 1);
    d->api = tf_k8s_api_new(kc);
    d->kubeconfig = g_strdup(kc->path);
    d->ns = g_strdup(cfg->ns && *cfg->ns ? cfg->ns : kc->ns ? kc->ns : "default");
    d->selector = g_strdup(cfg->selector);
    d->label = g_strdup_printf("k8s/%s", d->ns);
    d->port = cfg->port;
    d->port_forward = cfg->port_forward;
    pthread_mutex_init(&d->lock, NULL);
    d->forwards = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)tf_k8s_forward_free);
    gchar *where = g_strdup_printf("k8s context %s, namespace %s, pods %s", kc->context, d->ns,
                                   d->selector);
    tf_kubeconfig_free(kc);
    tf_cluster *c = tf_cluster_remote_new(&k8s_driver, d, d->selector, where, cfg->expect,
                                          cfg->timeout_us > 0 ? cfg->timeout_us : 300 * G_USEC_PER_SEC);
    g_free(where);
    return c;
}
