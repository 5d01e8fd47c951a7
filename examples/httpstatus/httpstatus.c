/* httpstatus.c: the httpstatus observer (see httpstatus.h).
 * poll sends every request of the cycle in one tf_http batch, so N nodes cost one round
 * trip, not N; per-node results go to the runtime with tf_poll_source_ok/failed (its
 * freshness and "last error"), transitions become events, and a snapshot is a copy of
 * the per-node table that readers on other threads keep as long as they like. */
#include <string.h>
#include "httpstatus.h"

typedef struct {
    char *path;
    GHashTable *nodes; /* name -> httpstatus_node* (the current sources only) */
} hs_state;

static void node_clear(httpstatus_node *n)
{
    g_free(n->name);
    g_free(n->error);
    g_free(n->state);
}

static void node_free(gpointer p)
{
    node_clear(p);
    g_free(p);
}

static void *hs_init(const void *config, GError **error)
{
    const httpstatus_config *cfg = config;
    const char *path = cfg && cfg->path ? cfg->path : "/";
    if (path[0] != '/') {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "path '%s' must start with '/'", path);
        return NULL;
    }
    hs_state *s = g_new0(hs_state, 1);
    s->path = g_strdup(path);
    s->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, node_free);
    return s;
}

static void hs_free_state(void *state)
{
    hs_state *s = state;
    g_hash_table_unref(s->nodes);
    g_free(s->path);
    g_free(s);
}

static httpstatus_event *event_new(httpstatus_event_kind kind, const httpstatus_node *n)
{
    httpstatus_event *e = g_new0(httpstatus_event, 1);
    e->kind = kind;
    e->node = g_strdup(n->name);
    e->http_status = n->http_status;
    e->error = g_strdup(n->error);
    return e;
}

/* Records one node's answer (error NULL: it answered 2xx); emits an event when it
 * changed between up and down, or when the node is new. */
static void observe(hs_state *s, tf_poll_ctx *ctx, GHashTable *fresh, const tf_source *src,
                    long status, gint64 latency, const char *error)
{
    httpstatus_node *old = g_hash_table_lookup(s->nodes, tf_source_name(src));
    httpstatus_node *n = g_new0(httpstatus_node, 1);
    n->name = g_strdup(tf_source_name(src));
    n->up = error == NULL;
    n->http_status = status;
    n->latency_us = latency;
    n->error = g_strdup(error);
    n->state = g_strdup(tf_source_attr_str(src, "state")); /* set by tf_cluster_provider */
    if (!old || old->up != n->up)
        tf_poll_emit(ctx, event_new(n->up ? HTTPSTATUS_UP : HTTPSTATUS_DOWN, n));
    if (error)
        tf_poll_source_failed(ctx, src, error);
    else
        tf_poll_source_ok(ctx, src);
    g_hash_table_insert(fresh, n->name, n);
}

static gboolean hs_poll(void *state, tf_poll_ctx *ctx, GError **error)
{
    hs_state *s = state;
    GPtrArray *sources = tf_poll_sources(ctx);
    GHashTable *fresh = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, node_free);
    tf_http_batch *b = tf_http_batch_new(tf_poll_http(ctx));
    guint *req_of = g_new0(guint, sources->len + 1); /* request index + 1, 0 = none */
    for (guint i = 0; i < sources->len; i++) {
        const tf_source *src = sources->pdata[i];
        if (!tf_source_url(src))
            continue;
        char *url = g_strconcat(tf_source_url(src), s->path, NULL);
        tf_http_batch_add(b, tf_source_name(src), "GET", url, NULL, tf_poll_request_timeout(ctx));
        g_free(url);
        req_of[i] = tf_http_batch_len(b);
    }
    tf_http_batch_run(b); /* every node at once; returns when all answered or timed out */
    for (guint i = 0; i < sources->len; i++) {
        const tf_source *src = sources->pdata[i];
        if (!req_of[i]) {
            char *why = g_strdup_printf("%s: the source has no URL", tf_source_name(src));
            observe(s, ctx, fresh, src, 0, 0, why);
            g_free(why);
            continue;
        }
        tf_http_req *r = tf_http_batch_req(b, req_of[i] - 1);
        GError *err = NULL;
        gboolean ok = tf_http_req_ok(r, &err); /* "n2: GET url: connection refused" */
        if (g_error_matches(err, TF_ERROR, TF_ERROR_STOPPED)) {
            /* The runtime is stopping and cut the request short: that says nothing about
             * the node, so it keeps what was last seen and no event is made up. */
            httpstatus_node *old = g_hash_table_lookup(s->nodes, tf_source_name(src));
            if (old && g_hash_table_steal(s->nodes, old->name))
                g_hash_table_insert(fresh, old->name, old);
        } else {
            observe(s, ctx, fresh, src, tf_http_req_status(r), tf_http_req_duration(r),
                    ok ? NULL : err->message);
        }
        g_clear_error(&err);
    }
    g_free(req_of);
    tf_http_batch_free(b);
    /* Only the current sources are kept: a node that left is forgotten. */
    g_hash_table_unref(s->nodes);
    s->nodes = fresh;
    return TRUE;
}

static gint cmp_node(gconstpointer a, gconstpointer b)
{
    return strcmp(((const httpstatus_node *)a)->name, ((const httpstatus_node *)b)->name);
}

static void *hs_snapshot(void *state)
{
    hs_state *s = state;
    httpstatus_snapshot *snap = g_new0(httpstatus_snapshot, 1);
    snap->nodes = g_new0(httpstatus_node, g_hash_table_size(s->nodes) + 1);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const httpstatus_node *n = v;
        httpstatus_node *c = &snap->nodes[snap->n_nodes++];
        *c = *n;
        c->name = g_strdup(n->name);
        c->error = g_strdup(n->error);
        c->state = g_strdup(n->state);
        snap->n_up += n->up;
    }
    qsort(snap->nodes, snap->n_nodes, sizeof *snap->nodes, cmp_node);
    return snap;
}

static void hs_free_snapshot(void *p)
{
    httpstatus_snapshot *s = p;
    for (guint i = 0; i < s->n_nodes; i++)
        node_clear(&s->nodes[i]);
    g_free(s->nodes);
    g_free(s);
}

static void hs_free_event(void *p)
{
    httpstatus_event *e = p;
    g_free(e->node);
    g_free(e->error);
    g_free(e);
}

static json_t *hs_snapshot_json(const void *p)
{
    const httpstatus_snapshot *s = p;
    json_t *nodes = json_array();
    for (guint i = 0; i < s->n_nodes; i++) {
        const httpstatus_node *n = &s->nodes[i];
        json_t *o = json_pack("{s:s, s:b, s:i, s:I}", "name", n->name, "up", n->up, "status",
                              (int)n->http_status, "latency_us", (json_int_t)n->latency_us);
        if (n->error)
            json_object_set_new(o, "error", json_string(n->error));
        if (n->state)
            json_object_set_new(o, "state", json_string(n->state));
        json_array_append_new(nodes, o);
    }
    return json_pack("{s:i, s:o}", "up", (int)s->n_up, "nodes", nodes);
}

static json_t *hs_event_json(const void *p)
{
    const httpstatus_event *e = p;
    json_t *o = json_pack("{s:s, s:s, s:i}", "type", e->kind == HTTPSTATUS_UP ? "up" : "down",
                          "node", e->node, "status", (int)e->http_status);
    if (e->error)
        json_object_set_new(o, "error", json_string(e->error));
    return o;
}

const tf_observer httpstatus_observer = {
    .name = "httpstatus",
    .version = 1,
    .init = hs_init,
    .poll = hs_poll,
    .snapshot = hs_snapshot,
    .free_state = hs_free_state,
    .free_snapshot = hs_free_snapshot,
    .free_event = hs_free_event,
    .snapshot_to_json = hs_snapshot_json,
    .event_to_json = hs_event_json,
};

const httpstatus_node *httpstatus_find(const httpstatus_snapshot *s, const char *name)
{
    for (guint i = 0; i < s->n_nodes; i++)
        if (!strcmp(s->nodes[i].name, name))
            return &s->nodes[i];
    return NULL;
}
