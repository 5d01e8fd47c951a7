/* etcd_kv.c: see etcd_kv.h. Keys and values travel base64-encoded, as the gateway wants. */
#include <string.h>
#include <tf/error.h>
#include "etcd_kv.h"

static char *b64(const char *s) { return g_base64_encode((const guchar *)s, strlen(s)); }

gboolean raftkv_etcd_put(tf_http *http, const char *base_url, const char *key,
                         const char *value, gint64 timeout_us, GError **error)
{
    char *k = b64(key), *v = b64(value);
    json_t *body = json_pack("{s:s, s:s}", "key", k, "value", v);
    char *url = g_strconcat(base_url, "/v3/kv/put", NULL);
    char *label = g_strdup_printf("put %s", key);
    json_t *resp = tf_http_json(http, label, url, body, timeout_us, error);
    gboolean ok = resp && json_is_object(json_object_get(resp, "header"));
    if (resp && !ok)
        g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: %s: no header in the answer", label, url);
    json_decref(resp);
    json_decref(body);
    g_free(label);
    g_free(url);
    g_free(k);
    g_free(v);
    return ok;
}

char *raftkv_etcd_get(tf_http *http, const char *base_url, const char *key,
                      gboolean serializable, gint64 timeout_us, gboolean *found,
                      GError **error)
{
    char *k = b64(key);
    json_t *body = json_pack("{s:s, s:b}", "key", k, "serializable", serializable);
    char *url = g_strconcat(base_url, "/v3/kv/range", NULL);
    char *label = g_strdup_printf("get %s", key);
    json_t *resp = tf_http_json(http, label, url, body, timeout_us, error);
    char *value = NULL;
    *found = FALSE;
    if (resp) {
        json_t *kvs = json_object_get(resp, "kvs");
        const char *v = json_string_value(json_object_get(json_array_get(kvs, 0), "value"));
        if (v) {
            gsize len;
            guchar *raw = g_base64_decode(v, &len);
            value = g_strndup((const char *)raw, len);
            g_free(raw);
            *found = TRUE;
        } else if (json_array_size(kvs) > 0) {
            *found = TRUE;
            value = g_strdup(""); /* etcd omits empty values */
        }
    }
    json_decref(resp);
    json_decref(body);
    g_free(label);
    g_free(url);
    g_free(k);
    return value;
}
