/* rpc.c: JSON-RPC 1.0 batches over tf_http for bitcoin-family nodes.
 * One chain_rpc_batch is one HTTP POST: a single call goes as an object (every node
 * version accepts it), several as an array whose answers are matched back by id. Errors
 * say which node and which method failed; credentials only ever reach curl. */
#include <string.h>
#include <tf/error.h>
#include "chain/rpc.h"

struct chain_rpc {
    char *name;
    char *url;        /* base URL without a trailing slash */
    char *user;
    char *password;
    char *cookie_file;
};

typedef struct {
    char *method;
    json_t *params;   /* owned */
    json_t *result;   /* owned, set after a run */
    char *error;      /* "why" of a failed call, NULL when it succeeded */
    gint code;        /* RPC error code, 0 when none */
} rpc_call;

struct chain_rpc_batch {
    chain_rpc *rpc;
    char *path;
    GArray *calls;    /* rpc_call */
    gboolean ran;
};

chain_rpc *chain_rpc_new(const char *name, const char *url, const char *user,
                         const char *password, const char *cookie_file)
{
    chain_rpc *rpc = g_new0(chain_rpc, 1);
    rpc->name = g_strdup(name ? name : "node");
    rpc->url = g_strdup(url ? url : "");
    gsize len = strlen(rpc->url);
    while (len && rpc->url[len - 1] == '/')
        rpc->url[--len] = '\0';
    rpc->user = g_strdup(user);
    rpc->password = g_strdup(password);
    rpc->cookie_file = g_strdup(cookie_file);
    return rpc;
}

chain_rpc *chain_rpc_from_source(const tf_source *src, GError **error)
{
    if (!tf_source_url(src)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: source has no url (the node's RPC base URL)",
                    tf_source_name(src));
        return NULL;
    }
    return chain_rpc_new(tf_source_name(src), tf_source_url(src),
                         tf_source_attr_str(src, "rpc_user"), tf_source_attr_str(src, "rpc_password"),
                         tf_source_attr_str(src, "rpc_cookie_file"));
}

static void wipe_free(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    g_free(s);
}

void chain_rpc_free(chain_rpc *rpc)
{
    if (!rpc)
        return;
    g_free(rpc->name);
    g_free(rpc->url);
    wipe_free(rpc->user);
    wipe_free(rpc->password);
    g_free(rpc->cookie_file);
    g_free(rpc);
}

const char *chain_rpc_name(const chain_rpc *rpc)
{
    return rpc->name;
}

const char *chain_rpc_url(const chain_rpc *rpc)
{
    return rpc->url;
}

static void call_clear(gpointer p)
{
    rpc_call *c = p;
    g_free(c->method);
    json_decref(c->params);
    json_decref(c->result);
    g_free(c->error);
}

chain_rpc_batch *chain_rpc_batch_new(chain_rpc *rpc, const char *path)
{
    chain_rpc_batch *b = g_new0(chain_rpc_batch, 1);
    b->rpc = rpc;
    b->path = g_strdup(path ? path : "");
    b->calls = g_array_new(FALSE, TRUE, sizeof(rpc_call));
    g_array_set_clear_func(b->calls, call_clear);
    return b;
}

guint chain_rpc_batch_add(chain_rpc_batch *b, const char *method, json_t *params)
{
    rpc_call c = {.method = g_strdup(method), .params = params ? params : json_array()};
    g_array_append_val(b->calls, c);
    return b->calls->len - 1;
}

guint chain_rpc_batch_len(const chain_rpc_batch *b)
{
    return b->calls->len;
}

void chain_rpc_batch_free(chain_rpc_batch *b)
{
    if (!b)
        return;
    g_array_unref(b->calls);
    g_free(b->path);
    g_free(b);
}

static json_t *call_json(const rpc_call *c, guint id)
{
    return json_pack("{s:s, s:i, s:s, s:O}", "jsonrpc", "1.0", "id", (int)id, "method", c->method,
                     "params", c->params);
}

/* Sets every unanswered call of b to fail with why (copied). */
static void fail_all(chain_rpc_batch *b, const char *why)
{
    for (guint i = 0; i < b->calls->len; i++) {
        rpc_call *c = &g_array_index(b->calls, rpc_call, i);
        if (!c->result && !c->error)
            c->error = g_strdup(why);
    }
}

/* Stores one answer object {"result","error","id"} into call c. */
static void take_answer(rpc_call *c, json_t *ans)
{
    json_t *err = json_object_get(ans, "error");
    if (err && !json_is_null(err)) {
        const char *msg = json_string_value(json_object_get(err, "message"));
        c->code = (gint)json_integer_value(json_object_get(err, "code"));
        c->error = g_strdup_printf("RPC error %d: %s", c->code, msg ? msg : "(no message)");
        return;
    }
    json_t *res = json_object_get(ans, "result");
    if (!res) {
        c->error = g_strdup("malformed answer: neither result nor error");
        return;
    }
    c->result = json_incref(res);
}

/* Reads "user:password" from the cookie file into the user and password out-params (new strings). */
static gboolean read_cookie(const chain_rpc *rpc, char **user, char **password, char **why)
{
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(rpc->cookie_file, &text, NULL, &err)) {
        *why = g_strdup_printf("cannot read the cookie file: %s", err->message);
        g_error_free(err);
        return FALSE;
    }
    g_strchomp(text);
    char *colon = strchr(text, ':');
    if (!colon) {
        wipe_free(text);
        *why = g_strdup_printf("cookie file %s: no \"user:password\" in it", rpc->cookie_file);
        return FALSE;
    }
    *colon = '\0';
    *user = g_strdup(text);
    *password = g_strdup(colon + 1);
    wipe_free(text);
    return TRUE;
}

static const char *strip_label(const char *msg, const char *label)
{
    gsize n = strlen(label);
    return !strncmp(msg, label, n) && !strncmp(msg + n, ": ", 2) ? msg + n + 2 : msg;
}

/* Distributes the HTTP answer of batch b over its calls. */
static void finish(chain_rpc_batch *b, tf_http_req *req)
{
    long status = tf_http_req_status(req);
    gsize len = 0;
    const char *body = tf_http_req_body(req, &len);
    if (status == 0) {
        GError *err = NULL;
        tf_http_req_ok(req, &err);
        fail_all(b, err ? strip_label(err->message, b->rpc->name) : "transport failed");
        g_clear_error(&err);
        return;
    }
    if (status == 401 || status == 403) {
        char *why = g_strdup_printf("authentication refused (HTTP %ld): check rpc_user and rpc_password "
                                    "or the cookie file", status);
        fail_all(b, why);
        g_free(why);
        return;
    }
    json_t *root = json_loadb(body, len, 0, NULL);
    gboolean batched = b->calls->len > 1;
    if (root && !batched && json_is_object(root)) {
        take_answer(&g_array_index(b->calls, rpc_call, 0), root);
    } else if (root && batched && json_is_array(root)) {
        size_t k;
        json_t *ans;
        json_array_foreach(root, k, ans) {
            json_t *id = json_object_get(ans, "id");
            if (!json_is_integer(id) || json_integer_value(id) < 0 ||
                json_integer_value(id) >= (json_int_t)b->calls->len)
                continue;
            rpc_call *c = &g_array_index(b->calls, rpc_call, json_integer_value(id));
            if (!c->result && !c->error)
                take_answer(c, ans);
        }
        fail_all(b, "no answer with this call's id in the batch reply");
    } else if (root && json_is_object(root) && json_object_get(root, "error")) {
        /* A batch refused as a whole (e.g. a node without batch support). */
        rpc_call tmp = {0};
        take_answer(&tmp, root);
        fail_all(b, tmp.error ? tmp.error : "the batch was refused");
        call_clear(&tmp);
    } else {
        char *cut = g_strndup(body, MIN(len, 200));
        char *shown = g_strescape(cut, NULL);
        g_free(cut);
        char *why = g_strdup_printf("HTTP %ld, not a JSON-RPC %s: \"%s\"", status,
                                    batched ? "batch reply" : "reply", shown);
        fail_all(b, why);
        g_free(why);
        g_free(shown);
    }
    json_decref(root);
}

guint chain_rpc_run(tf_http *http, chain_rpc_batch *const *batches, guint n, gint64 timeout_us)
{
    tf_http_batch *hb = tf_http_batch_new(http);
    GPtrArray *sent = g_ptr_array_new();
    for (guint i = 0; i < n; i++) {
        chain_rpc_batch *b = batches[i];
        if (!b || !b->calls->len)
            continue;
        for (guint k = 0; k < b->calls->len; k++) {
            rpc_call *c = &g_array_index(b->calls, rpc_call, k);
            g_clear_pointer(&c->result, json_decref);
            g_clear_pointer(&c->error, g_free);
            c->code = 0;
        }
        char *user = NULL, *password = NULL, *why = NULL;
        if (b->rpc->cookie_file && !read_cookie(b->rpc, &user, &password, &why)) {
            fail_all(b, why);
            g_free(why);
            continue;
        }
        json_t *body;
        if (b->calls->len == 1) {
            body = call_json(&g_array_index(b->calls, rpc_call, 0), 0);
        } else {
            body = json_array();
            for (guint k = 0; k < b->calls->len; k++)
                json_array_append_new(body, call_json(&g_array_index(b->calls, rpc_call, k), k));
        }
        char *url = g_strconcat(b->rpc->url, b->path[0] ? b->path : "/", NULL);
        tf_http_req *r = tf_http_batch_add_json(hb, b->rpc->name, url, body, timeout_us);
        g_free(url);
        json_decref(body);
        if (user || b->rpc->user)
            tf_http_req_basic_auth(r, user ? user : b->rpc->user,
                                   password ? password : (b->rpc->password ? b->rpc->password : ""));
        wipe_free(user);
        wipe_free(password);
        g_ptr_array_add(sent, b);
    }
    if (sent->len)
        tf_http_batch_run(hb);
    for (guint i = 0; i < sent->len; i++)
        finish(sent->pdata[i], tf_http_batch_req(hb, i));
    guint n_sent = sent->len;
    g_ptr_array_unref(sent);
    tf_http_batch_free(hb);
    return n_sent;
}

json_t *chain_rpc_batch_result(const chain_rpc_batch *b, guint i, GError **error)
{
    if (i >= b->calls->len) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: no call %u in the batch", b->rpc->name, i);
        return NULL;
    }
    const rpc_call *c = &g_array_index(b->calls, rpc_call, i);
    if (c->result)
        return c->result;
    g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: %s: %s", b->rpc->name, c->method,
                c->error ? c->error : "not sent");
    return NULL;
}

gint chain_rpc_batch_error_code(const chain_rpc_batch *b, guint i)
{
    return i < b->calls->len ? g_array_index(b->calls, rpc_call, i).code : 0;
}

gboolean chain_rpc_batch_ok(const chain_rpc_batch *b, GError **error)
{
    for (guint i = 0; i < b->calls->len; i++) {
        const rpc_call *c = &g_array_index(b->calls, rpc_call, i);
        if (c->error && !c->code) {
            g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: %s: %s", b->rpc->name, c->method, c->error);
            return FALSE;
        }
    }
    return TRUE;
}

json_t *chain_rpc_call(chain_rpc *rpc, tf_http *http, const char *path, const char *method,
                       json_t *params, gint64 timeout_us, GError **error)
{
    chain_rpc_batch *b = chain_rpc_batch_new(rpc, path);
    chain_rpc_batch_add(b, method, params);
    chain_rpc_run(http, &b, 1, timeout_us);
    json_t *res = chain_rpc_batch_result(b, 0, error);
    json_incref(res);
    chain_rpc_batch_free(b);
    return res;
}
