/* httpjson.c: see httpjson.h. All sources are fetched in one tf_http batch per cycle, so
 * a cycle costs the slowest source's latency, not the sum of all of them. The batch is
 * built once and run again every cycle while the source set stays the same. */
#include <stdlib.h>
#include <string.h>
#include <tf/error.h>
#include <tf/http.h>
#include <tf/source.h>
#include "httpjson.h"

typedef struct {
    char *path;
    char *body;
    char **fields;
    GHashTable *nodes; /* name -> httpjson_node* (the live state) */
    /* The requests of the last cycle and what they were made for: the sources (referenced,
     * in order), the client and the timeout. */
    tf_http_batch *batch;
    GPtrArray *batch_sources;
    tf_http *batch_http;
    gint64 batch_timeout;
} httpjson_state;

json_t *httpjson_path_get(json_t *root, const char *path)
{
    json_t *cur = root;
    char **parts = g_strsplit(path, ".", -1);
    for (char **p = parts; cur && *p; p++) {
        if (json_is_object(cur)) {
            cur = json_object_get(cur, *p);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long i = strtoul(*p, &end, 10);
            cur = *end ? NULL : json_array_get(cur, i);
        } else {
            cur = NULL;
        }
    }
    g_strfreev(parts);
    return cur;
}

static void node_clear(httpjson_node *n)
{
    g_free(n->name);
    json_decref(n->values);
    g_free(n->error);
}

static void node_free(gpointer p)
{
    node_clear(p);
    g_free(p);
}

static void *hj_init(const void *config, GError **error)
{
    const httpjson_config *cfg = config;
    if (!cfg || !cfg->path) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "httpjson: config with a path is required");
        return NULL;
    }
    httpjson_state *s = g_new0(httpjson_state, 1);
    s->path = g_strdup(cfg->path);
    s->body = g_strdup(cfg->body);
    s->fields = g_strdupv((char **)cfg->fields);
    s->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, node_free);
    s->batch_sources = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    return s;
}

static json_t *extract(httpjson_state *s, json_t *body)
{
    json_t *out = json_object();
    if (!s->fields) {
        json_object_set(out, "body", body);
        return out;
    }
    for (char **f = s->fields; *f; f++) {
        json_t *v = httpjson_path_get(body, *f);
        json_object_set_new(out, *f, v ? json_incref(v) : json_null());
    }
    return out;
}

static httpjson_event *event_new(httpjson_event_kind kind, const char *source)
{
    httpjson_event *e = g_new0(httpjson_event, 1);
    e->kind = kind;
    e->source = g_strdup(source);
    return e;
}

static void record(httpjson_state *s, tf_poll_ctx *ctx, const tf_source *src, json_t *body,
                   const char *error)
{
    const char *name = tf_source_name(src);
    httpjson_node *n = g_hash_table_lookup(s->nodes, name);
    gboolean known = n != NULL;
    if (!n) {
        n = g_new0(httpjson_node, 1);
        n->name = g_strdup(name);
        g_hash_table_insert(s->nodes, n->name, n);
    }
    if (error) {
        if (n->up || !known) {
            httpjson_event *e = event_new(HTTPJSON_DOWN, name);
            e->error = g_strdup(error);
            tf_poll_emit(ctx, e);
        }
        n->up = FALSE;
        g_free(n->error);
        n->error = g_strdup(error);
        tf_poll_source_failed(ctx, src, error);
        return;
    }
    json_t *values = extract(s, body);
    if (!n->up)
        tf_poll_emit(ctx, event_new(HTTPJSON_UP, name));
    if (!n->values || !json_equal(n->values, values)) {
        if (n->values) {
            httpjson_event *e = event_new(HTTPJSON_CHANGED, name);
            e->old_values = json_incref(n->values);
            e->new_values = json_incref(values);
            tf_poll_emit(ctx, e);
            n->changes++;
        }
        json_decref(n->values);
        n->values = values;
    } else {
        json_decref(values);
    }
    n->up = TRUE;
    g_clear_pointer(&n->error, g_free);
    tf_poll_source_ok(ctx, src);
}

/* This cycle's batch: last cycle's while the sources, client and timeout are the same. */
static tf_http_batch *cycle_batch(httpjson_state *s, tf_poll_ctx *ctx, GPtrArray *sources)
{
    tf_http *http = tf_poll_http(ctx);
    gint64 timeout = tf_poll_request_timeout(ctx);
    gboolean same = s->batch && s->batch_http == http && s->batch_timeout == timeout &&
                    s->batch_sources->len == sources->len;
    for (guint i = 0; same && i < sources->len; i++)
        same = s->batch_sources->pdata[i] == sources->pdata[i];
    if (same)
        return s->batch;
    tf_http_batch_free(s->batch);
    g_ptr_array_set_size(s->batch_sources, 0);
    s->batch = tf_http_batch_new(http);
    s->batch_http = http;
    s->batch_timeout = timeout;
    for (guint i = 0; i < sources->len; i++) {
        const tf_source *src = sources->pdata[i];
        char *url = g_strconcat(tf_source_url(src) ? tf_source_url(src) : "", s->path, NULL);
        tf_http_batch_add(s->batch, tf_source_name(src), s->body ? "POST" : "GET", url, s->body,
                          timeout);
        g_free(url);
        g_ptr_array_add(s->batch_sources, tf_source_ref((tf_source *)src));
    }
    return s->batch;
}

static gboolean hj_poll(void *state, tf_poll_ctx *ctx, GError **error)
{
    httpjson_state *s = state;
    GPtrArray *removed = tf_poll_sources_removed(ctx);
    for (guint i = 0; i < removed->len; i++)
        g_hash_table_remove(s->nodes, tf_source_name(removed->pdata[i]));
    GPtrArray *sources = tf_poll_sources(ctx);
    tf_http_batch *b = cycle_batch(s, ctx, sources);
    tf_http_batch_run(b);
    for (guint i = 0; i < sources->len; i++) {
        GError *err = NULL;
        json_t *body = tf_http_req_json(tf_http_batch_req(b, i), &err);
        record(s, ctx, sources->pdata[i], body, err ? err->message : NULL);
        g_clear_error(&err);
        json_decref(body);
    }
    return TRUE;
}

static gint cmp_node(gconstpointer a, gconstpointer b)
{
    return strcmp(((const httpjson_node *)a)->name, ((const httpjson_node *)b)->name);
}

static void *hj_snapshot(void *state)
{
    httpjson_state *s = state;
    httpjson_snapshot *snap = g_new0(httpjson_snapshot, 1);
    snap->n = g_hash_table_size(s->nodes);
    snap->nodes = g_new0(httpjson_node, snap->n + 1);
    GHashTableIter it;
    gpointer v;
    guint i = 0;
    g_hash_table_iter_init(&it, s->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const httpjson_node *n = v;
        httpjson_node *c = &snap->nodes[i++];
        c->name = g_strdup(n->name);
        c->up = n->up;
        /* Shared, not copied: the live state replaces its values object on change and
         * never mutates it, and jansson's refcounts are atomic. */
        c->values = n->values ? json_incref(n->values) : NULL;
        c->error = g_strdup(n->error);
        c->changes = n->changes;
        snap->up += n->up;
    }
    qsort(snap->nodes, snap->n, sizeof *snap->nodes, (int (*)(const void *, const void *))cmp_node);
    return snap;
}

static void hj_free_state(void *state)
{
    httpjson_state *s = state;
    tf_http_batch_free(s->batch);
    g_ptr_array_unref(s->batch_sources);
    g_hash_table_unref(s->nodes);
    g_free(s->path);
    g_free(s->body);
    g_strfreev(s->fields);
    g_free(s);
}

static void hj_free_snapshot(void *p)
{
    httpjson_snapshot *s = p;
    for (guint i = 0; i < s->n; i++)
        node_clear(&s->nodes[i]);
    g_free(s->nodes);
    g_free(s);
}

static void hj_free_event(void *p)
{
    httpjson_event *e = p;
    g_free(e->source);
    json_decref(e->old_values);
    json_decref(e->new_values);
    g_free(e->error);
    g_free(e);
}

static json_t *hj_snapshot_json(const void *p)
{
    const httpjson_snapshot *s = p;
    json_t *nodes = json_array();
    for (guint i = 0; i < s->n; i++) {
        const httpjson_node *n = &s->nodes[i];
        json_array_append_new(nodes, json_pack("{s:s, s:b, s:O*, s:s*, s:I}", "name", n->name,
                                               "up", n->up, "values", n->values, "error",
                                               n->error, "changes", (json_int_t)n->changes));
    }
    return json_pack("{s:o, s:i}", "nodes", nodes, "up", s->up);
}

static json_t *hj_event_json(const void *p)
{
    const httpjson_event *e = p;
    static const char *kinds[] = {"changed", "up", "down"};
    return json_pack("{s:s, s:s, s:O*, s:O*, s:s*}", "type", kinds[e->kind], "source",
                     e->source, "old", e->old_values, "new", e->new_values, "error", e->error);
}

const tf_observer httpjson_observer = {
    .name = "httpjson",
    .version = 1,
    .init = hj_init,
    .poll = hj_poll,
    .snapshot = hj_snapshot,
    .free_state = hj_free_state,
    .free_snapshot = hj_free_snapshot,
    .free_event = hj_free_event,
    .snapshot_to_json = hj_snapshot_json,
    .event_to_json = hj_event_json,
};

const httpjson_node *httpjson_snapshot_node(const httpjson_snapshot *s, const char *name)
{
    for (guint i = 0; i < s->n; i++)
        if (!strcmp(s->nodes[i].name, name))
            return &s->nodes[i];
    return NULL;
}

json_t *httpjson_node_field(const httpjson_node *n, const char *field)
{
    return n->values ? json_object_get(n->values, field) : NULL;
}
