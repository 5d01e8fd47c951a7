/* observer.c: the raftkv tf_observer: a member's status requests per cycle (two for etcd,
 * one otherwise; all in one HTTP batch), fed to the model; snapshots and events to JSON
 * for reports. */
#include <string.h>
#include <tf/http.h>
#include <tf/source.h>
#include "raftkv.h"

static void *rk_init(const void *config, GError **error) { return raftkv_model_new(); }

typedef struct {
    const tf_source *src;
    json_t *spec; /* generic status spec, NULL for etcd */
} target;

static gboolean is_json_kind(const tf_source *src)
{
    return !g_strcmp0(tf_source_attr_str(src, "kind"), "json");
}

static void emit_to_ctx(raftkv_event *ev, void *data) { tf_poll_emit(data, ev); }

static gboolean rk_poll(void *state, tf_poll_ctx *ctx, GError **error)
{
    raftkv_model *m = state;
    GPtrArray *sources = tf_poll_sources(ctx);
    const char **names = g_new0(const char *, sources->len + 1);
    for (guint i = 0; i < sources->len; i++)
        names[i] = tf_source_name(sources->pdata[i]);
    raftkv_model_begin(m, names, sources->len);
    g_free(names);

    /* Per source: its status request; for etcd also its v3 status (the store's applied
     * index, see adapter.c), in the same batch so both answer in one cycle. */
    tf_http_batch *b = tf_http_batch_new(tf_poll_http(ctx));
    tf_http_req **main_req = g_new0(tf_http_req *, sources->len + 1);
    tf_http_req **kv_req = g_new0(tf_http_req *, sources->len + 1);
    gint64 timeout = tf_poll_request_timeout(ctx);
    json_t *empty = json_object();
    for (guint i = 0; i < sources->len; i++) {
        const tf_source *src = sources->pdata[i];
        const char *base = tf_source_url(src) ? tf_source_url(src) : "";
        const char *name = tf_source_name(src);
        if (is_json_kind(src)) {
            json_t *spec = json_object_get(tf_source_attrs(src), "status");
            const char *path = json_string_value(json_object_get(spec, "path"));
            const char *method = json_string_value(json_object_get(spec, "method"));
            char *url = g_strconcat(base, path ? path : "", NULL);
            main_req[i] = tf_http_batch_add(b, name, method ? method : "GET", url, NULL, timeout);
            g_free(url);
        } else {
            char *url = g_strconcat(base, "/debug/vars", NULL);
            main_req[i] = tf_http_batch_add(b, name, "GET", url, NULL, timeout);
            g_free(url);
            url = g_strconcat(base, "/v3/maintenance/status", NULL);
            kv_req[i] = tf_http_batch_add_json(b, name, url, empty, timeout);
            g_free(url);
        }
    }
    json_decref(empty);
    tf_http_batch_run(b);
    for (guint i = 0; i < sources->len; i++) {
        const tf_source *src = sources->pdata[i];
        const char *name = tf_source_name(src);
        GError *err = NULL;
        raftkv_status st = {0};
        json_t *body = tf_http_req_json(main_req[i], &err);
        json_t *kv = body && kv_req[i] ? tf_http_req_json(kv_req[i], &err) : NULL;
        gboolean answered = body && (!kv_req[i] || kv);
        gboolean ok = answered && (is_json_kind(src)
                                       ? raftkv_parse_json(body, json_object_get(tf_source_attrs(src), "status"), &st, &err)
                                       : raftkv_parse_etcd_member(body, kv, &st, &err));
        char *msg = NULL;
        if (ok && raftkv_model_observe(m, name, &st, NULL, tf_poll_now(ctx), emit_to_ctx, ctx)) {
            tf_poll_source_ok(ctx, src);
        } else if (ok) { /* answered, but as another member: the model says why */
            tf_poll_source_failed(ctx, src, raftkv_model_node_error(m, name));
        } else {
            msg = answered ? g_strdup_printf("%s: %s", name, err->message) : g_strdup(err->message);
            raftkv_model_observe(m, name, NULL, msg, tf_poll_now(ctx), emit_to_ctx, ctx);
            tf_poll_source_failed(ctx, src, msg);
        }
        g_free(msg);
        raftkv_status_clear(&st);
        json_decref(body);
        json_decref(kv);
        g_clear_error(&err);
    }
    g_free(main_req);
    g_free(kv_req);
    tf_http_batch_free(b);
    raftkv_model_end(m, tf_poll_now(ctx), emit_to_ctx, ctx);
    return TRUE;
}

static void *rk_snapshot(void *state) { return raftkv_model_snapshot(state); }
static void rk_free_state(void *state) { raftkv_model_free(state); }
static void rk_free_snapshot(void *s) { raftkv_snapshot_free(s); }
static void rk_free_event(void *e) { raftkv_event_free(e); }
static json_t *rk_snapshot_json(const void *s) { return raftkv_snapshot_to_json(s); }
static json_t *rk_event_json(const void *e) { return raftkv_event_to_json(e); }

const tf_observer raftkv_observer = {
    .name = "raftkv",
    .version = 3, /* 2: etcd through /debug/vars (exact terms); 3: applied from the store */
    .init = rk_init,
    .poll = rk_poll,
    .snapshot = rk_snapshot,
    .free_state = rk_free_state,
    .free_snapshot = rk_free_snapshot,
    .free_event = rk_free_event,
    .snapshot_to_json = rk_snapshot_json,
    .event_to_json = rk_event_json,
};

const char *raftkv_event_kind_name(raftkv_event_kind kind)
{
    static const char *names[] = {"node_up", "node_down", "leader_elected",
                                  "leader_lost", "term_changed", "election_safety_violation"};
    return kind <= RAFTKV_SAFETY_VIOLATION ? names[kind] : "unknown";
}

json_t *raftkv_snapshot_to_json(const raftkv_snapshot *s)
{
    json_t *nodes = json_array();
    for (guint i = 0; i < s->n; i++) {
        const raftkv_node *n = &s->nodes[i];
        json_array_append_new(
            nodes, json_pack("{s:s, s:s*, s:b, s:b, s:s*, s:I, s:I, s:I, s:s*}", "name", n->name,
                             "id", n->id, "reachable", n->reachable, "is_leader", n->is_leader,
                             "leader", n->leader, "term", (json_int_t)n->term, "commit",
                             (json_int_t)n->commit, "applied", (json_int_t)n->applied, "error",
                             n->error));
    }
    return json_pack("{s:o, s:i, s:b, s:s*, s:I, s:I, s:I, s:i, s:s*}", "nodes", nodes,
                     "reachable", s->reachable, "quorum", s->quorum, "leader", s->leader,
                     "leader_term", (json_int_t)s->leader_term, "max_term",
                     (json_int_t)s->max_term, "elections", (json_int_t)s->elections,
                     "violations", s->violations, "violation", s->violation);
}

json_t *raftkv_event_to_json(const raftkv_event *e)
{
    json_t *j = json_pack("{s:s}", "type", raftkv_event_kind_name(e->kind));
    if (e->node)
        json_object_set_new(j, "node", json_string(e->node));
    if (e->leader)
        json_object_set_new(j, "leader", json_string(e->leader));
    if (e->other)
        json_object_set_new(j, "other", json_string(e->other));
    if (e->error)
        json_object_set_new(j, "error", json_string(e->error));
    if (e->term)
        json_object_set_new(j, "term", json_integer((json_int_t)e->term));
    if (e->old_term)
        json_object_set_new(j, "old_term", json_integer((json_int_t)e->old_term));
    return j;
}
