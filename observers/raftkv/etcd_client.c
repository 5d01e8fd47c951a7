/* etcd_client.c: see etcd_client.h. Keys and values travel base64-encoded, as the gateway
 * wants; the gateway leaves out default values (a txn's "succeeded": false, an empty
 * value), so an absent field is read as its default, but an answer without the parts
 * its request must produce is not trusted: for a write that is an unknown outcome. */
#include <stdlib.h>
#include <string.h>
#include "etcd_client.h"

static const char *const op_names[] = {"read", "write", "cas"};

/* Errors etcd answers before a request enters the Raft log: it certainly had no effect.
 * Everything else (time-outs, "leader changed", "server stopped"...) may follow a
 * proposal that still commits. */
static const char *const refused_before_proposal[] = {
    "etcdserver: too many requests",    /* the apply backlog is too long: not proposed */
    "raft proposal dropped",            /* raft refused it locally (no leader, transfer) */
    "etcdserver: request is too large", /* checked before proposing */
};

void raftkv_op_result_clear(raftkv_op_result *r)
{
    g_free(r->seen);
    g_free(r->error);
    r->seen = r->error = NULL;
}

static char *b64(const char *s)
{
    return g_base64_encode((const guchar *)s, strlen(s));
}

/* The input the history records (the registers model's). */
static json_t *op_input(const raftkv_op *op)
{
    switch (op->kind) {
    case RAFTKV_READ: {
        json_t *in = json_pack("{s:s, s:n}", "key", op->key, "value");
        if (op->serializable)
            json_object_set_new(in, "serializable", json_true());
        return in;
    }
    case RAFTKV_WRITE:
        return json_pack("{s:s, s:s}", "key", op->key, "value", op->value);
    default:
        return json_pack("{s:s, s:[s, s]}", "key", op->key, "value", op->expect, op->value);
    }
}

/* The gateway request of op (new JSON); *path receives its path. */
static json_t *request_body(const raftkv_op *op, const char **path)
{
    char *k = b64(op->key);
    json_t *body;
    if (op->kind == RAFTKV_READ) {
        *path = "/v3/kv/range";
        body = json_pack("{s:s, s:b}", "key", k, "serializable", op->serializable);
    } else if (op->kind == RAFTKV_WRITE) {
        *path = "/v3/kv/put";
        char *v = b64(op->value);
        body = json_pack("{s:s, s:s}", "key", k, "value", v);
        g_free(v);
    } else {
        *path = "/v3/kv/txn";
        char *e = b64(op->expect), *v = b64(op->value);
        body = json_pack("{s:[{s:s, s:s, s:s, s:s}], s:[{s:{s:s, s:s}}], s:[{s:{s:s}}]}",
                         "compare", "key", k, "target", "VALUE", "result", "EQUAL", "value", e,
                         "success", "request_put", "key", k, "value", v,
                         "failure", "request_range", "key", k);
        g_free(e);
        g_free(v);
    }
    g_free(k);
    return body;
}

/* The value of key in a range response: TRUE with *value (NULL: no such key), FALSE when
 * the response is not one. */
static gboolean range_value(json_t *range, char **value)
{
    *value = NULL;
    json_t *kvs = json_object_get(range, "kvs");
    if (!json_is_object(range) || (kvs && !json_is_array(kvs)))
        return FALSE;
    if (!kvs || json_array_size(kvs) == 0)
        return TRUE;
    json_t *v = json_object_get(json_array_get(kvs, 0), "value");
    if (v && !json_is_string(v))
        return FALSE;
    gsize len = 0;
    guchar *raw = v ? g_base64_decode(json_string_value(v), &len) : NULL;
    *value = g_strndup(raw ? (const char *)raw : "", len); /* etcd leaves out "" */
    g_free(raw);
    return TRUE;
}

/* A 2xx answer read as op's outcome: OK with *output and res->seen, or why not. */
static tf_op_status read_answer(const raftkv_op *op, json_t *resp, json_t **output,
                                raftkv_op_result *res)
{
    if (!json_is_object(json_object_get(resp, "header")))
        return TF_OP_PENDING; /* not an etcd answer */
    if (op->kind == RAFTKV_READ) {
        if (!range_value(resp, &res->seen))
            return TF_OP_PENDING;
        *output = res->seen ? json_string(res->seen) : json_null();
        return TF_OP_OK;
    }
    if (op->kind == RAFTKV_WRITE) {
        *output = json_null();
        res->seen = g_strdup(op->value);
        return TF_OP_OK;
    }
    json_t *first = json_array_get(json_object_get(resp, "responses"), 0);
    if (json_is_true(json_object_get(resp, "succeeded"))) {
        if (!json_object_get(first, "response_put"))
            return TF_OP_PENDING;
        *output = json_true();
        res->seen = g_strdup(op->value);
        return TF_OP_OK;
    }
    json_t *range = json_object_get(first, "response_range");
    if (!range || !range_value(range, &res->seen))
        return TF_OP_PENDING;
    /* refused, and the same txn read what the key held: a read as well as a refusal */
    *output = json_pack("{s:b, s:o}", "ok", FALSE, "value",
                        res->seen ? json_string(res->seen) : json_null());
    return TF_OP_OK;
}

/* The error text etcd put in a refused request's body, if it is one of those that come
 * before a proposal. */
static const char *refused_error(const tf_http_req *r)
{
    if (tf_http_req_status(r) < 400)
        return NULL;
    json_t *body = json_loads(tf_http_req_body(r, NULL), 0, NULL);
    const char *msg = json_string_value(json_object_get(body, "error"));
    const char *hit = NULL;
    for (guint i = 0; msg && !hit && i < G_N_ELEMENTS(refused_before_proposal); i++)
        if (!strcmp(msg, refused_before_proposal[i]))
            hit = refused_before_proposal[i];
    json_decref(body);
    return hit;
}

raftkv_op_result raftkv_client_run(tf_http *http, const char *base_url, tf_ophistory *h,
                                   gint64 process, const raftkv_op *op, gint64 timeout_us)
{
    raftkv_op_result res = {0};
    const char *name = op_names[op->kind], *path;
    json_t *input = op_input(op);
    json_t *body = request_body(op, &path);
    char *url = g_strconcat(base_url, path, NULL);
    char *label = g_strdup_printf("%s %s", name, op->key);
    guint64 id = tf_ophistory_invoke(h, process, name, input);

    tf_http_batch *b = tf_http_batch_new(http);
    tf_http_req *r = tf_http_batch_add_json(b, label, url, body, timeout_us);
    if (r && op->kind != RAFTKV_READ)
        tf_http_req_fresh_connection(r);
    tf_http_batch_run(b);
    GError *err = NULL;
    json_t *resp = r ? tf_http_req_json(r, &err) : NULL;
    json_t *output = NULL;
    const char *refused;
    if (!r) {
        res.status = TF_OP_FAIL;
        res.error = g_strdup_printf("%s: %s: invalid request, not sent", label, url);
    } else if (resp) {
        res.status = read_answer(op, resp, &output, &res);
        if (res.status == TF_OP_PENDING) {
            char *text = json_dumps(resp, JSON_COMPACT);
            char *quoted = g_strndup(text, 200);
            /* A read changes nothing, so a read with no usable answer did not happen. */
            res.status = op->kind == RAFTKV_READ ? TF_OP_FAIL : TF_OP_UNKNOWN;
            res.error = g_strdup_printf("%s: %s: not an answer to a %s: %s", label, url, name, quoted);
            g_free(quoted);
            free(text);
        }
    } else if (tf_http_req_unsent(r)) {
        res.status = TF_OP_FAIL;
        res.error = g_strdup_printf("never reached the member: %s", err->message);
    } else if (op->kind == RAFTKV_READ) {
        res.status = TF_OP_FAIL;
        res.error = g_strdup_printf("a read changes nothing: %s", err->message);
    } else if ((refused = refused_error(r))) {
        res.status = TF_OP_FAIL;
        res.error = g_strdup_printf("refused before it was proposed (%s): %s", refused, err->message);
    } else {
        res.status = TF_OP_UNKNOWN;
        res.error = g_strdup(err->message);
    }
    res.complete_time = g_get_monotonic_time();
    tf_ophistory_complete_at(h, res.complete_time, id, res.status, output, res.error, NULL);
    g_clear_error(&err);
    json_decref(output);
    json_decref(resp);
    tf_http_batch_free(b);
    json_decref(body);
    json_decref(input);
    g_free(label);
    g_free(url);
    return res;
}
