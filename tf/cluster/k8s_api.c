/* k8s_api.c: requests to a Kubernetes API server with a kubeconfig's credentials.
 * Plain calls (list, delete) are one curl easy transfer; a watch is a streamed GET on a
 * multi handle, so it can be cut at once from another thread (curl_multi_wakeup) instead
 * of waiting for the server's next event. Certificates go to curl as in-memory blobs. */
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <curl/curl.h>
#include "tf/error.h"
#include "deploy_priv.h"

#define TF_K8S_CONNECT_TIMEOUT_MS 10000L

struct tf_k8s_api {
    gchar *server;
    gchar *auth;   /* "Authorization: Bearer ..." or NULL; never printed */
    GBytes *ca, *cert, *key;
    gboolean insecure;
    pthread_mutex_t lock; /* guards multi and interrupted */
    CURLM *multi;         /* the running stream, if any */
    gboolean interrupted;
};

tf_k8s_api *tf_k8s_api_new(const tf_kubeconfig *kc)
{
    tf_k8s_api *api = g_new0(tf_k8s_api, 1);
    api->server = g_strdup(kc->server);
    gsize len = strlen(api->server);
    if (len && api->server[len - 1] == '/')
        api->server[len - 1] = 0;
    if (kc->token)
        api->auth = g_strdup_printf("Authorization: Bearer %s", kc->token);
    api->ca = kc->ca ? g_bytes_ref(kc->ca) : NULL;
    api->cert = kc->cert ? g_bytes_ref(kc->cert) : NULL;
    api->key = kc->key ? g_bytes_ref(kc->key) : NULL;
    api->insecure = kc->insecure;
    pthread_mutex_init(&api->lock, NULL);
    return api;
}

void tf_k8s_api_free(tf_k8s_api *api)
{
    if (!api)
        return;
    g_free(api->server);
    if (api->auth)
        memset(api->auth, 0, strlen(api->auth));
    g_free(api->auth);
    if (api->ca)
        g_bytes_unref(api->ca);
    if (api->cert)
        g_bytes_unref(api->cert);
    if (api->key)
        g_bytes_unref(api->key);
    pthread_mutex_destroy(&api->lock);
    g_free(api);
}

static void set_blob(CURL *h, CURLoption opt, GBytes *b)
{
    gsize len = 0;
    struct curl_blob blob = {(void *)g_bytes_get_data(b, &len), 0, CURL_BLOB_COPY};
    blob.len = len;
    curl_easy_setopt(h, opt, &blob);
}

/* An easy handle for server+path with TLS and auth set; *hdrs is freed by the caller. */
static CURL *easy_for(tf_k8s_api *api, const char *method, const char *path,
                      struct curl_slist **hdrs)
{
    CURL *h = curl_easy_init();
    gchar *url = g_strconcat(api->server, path, NULL);
    curl_easy_setopt(h, CURLOPT_URL, url);
    g_free(url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, TF_K8S_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    *hdrs = curl_slist_append(NULL, "Accept: application/json");
    if (api->auth)
        *hdrs = curl_slist_append(*hdrs, api->auth);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    if (api->ca)
        set_blob(h, CURLOPT_CAINFO_BLOB, api->ca);
    if (api->cert) {
        set_blob(h, CURLOPT_SSLCERT_BLOB, api->cert);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        set_blob(h, CURLOPT_SSLKEY_BLOB, api->key);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (api->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return h;
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    g_string_append_len(user, data, (gssize)(size * n));
    return size * n;
}

json_t *tf_k8s_api_call(tf_k8s_api *api, const char *method, const char *path,
                        gint64 timeout_us, long *status, GError **error)
{
    return tf_k8s_api_send(api, method, path, NULL, NULL, timeout_us, status, error);
}

json_t *tf_k8s_api_send(tf_k8s_api *api, const char *method, const char *path,
                        const char *content_type, json_t *payload, gint64 timeout_us,
                        long *status, GError **error)
{
    struct curl_slist *hdrs = NULL;
    CURL *h = easy_for(api, method, path, &hdrs);
    char *sent = NULL;
    if (payload) {
        sent = json_dumps(payload, JSON_COMPACT);
        gchar *ct = g_strdup_printf("Content-Type: %s", content_type ? content_type : "application/json");
        hdrs = curl_slist_append(hdrs, ct);
        g_free(ct);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, sent);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(sent));
    }
    GString *body = g_string_new(NULL);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_us / 1000));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    json_t *out = NULL;
    if (rc != CURLE_OK) {
        g_set_error(error, TF_ERROR, rc == CURLE_OPERATION_TIMEDOUT ? TF_ERROR_TIMEOUT : TF_ERROR_HTTP,
                    "k8s: %s %s%s: %s", method, api->server, path,
                    *errbuf ? errbuf : curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        out = json_loadb(body->str, body->len, 0, NULL);
    }
    g_string_free(body, TRUE);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    free(sent);
    return out;
}

typedef struct {
    GString *buf;
    tf_k8s_line_fn fn;
    void *user;
    gboolean stopped;
} stream_ctx;

static size_t on_stream(char *data, size_t size, size_t n, void *user)
{
    stream_ctx *s = user;
    g_string_append_len(s->buf, data, (gssize)(size * n));
    gchar *nl;
    while ((nl = memchr(s->buf->str, '\n', s->buf->len))) {
        gsize len = (gsize)(nl - s->buf->str);
        *nl = 0;
        gboolean go = len == 0 || s->fn(s->buf->str, len, s->user);
        g_string_erase(s->buf, 0, (gssize)len + 1);
        if (!go) {
            s->stopped = TRUE;
            return 0; /* aborts the transfer */
        }
    }
    return size * n;
}

long tf_k8s_api_stream(tf_k8s_api *api, const char *path, tf_k8s_line_fn fn, void *user,
                       GError **error)
{
    struct curl_slist *hdrs = NULL;
    CURL *h = easy_for(api, "GET", path, &hdrs);
    stream_ctx s = {g_string_new(NULL), fn, user, FALSE};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    CURLM *m = curl_multi_init();
    curl_multi_add_handle(m, h);
    pthread_mutex_lock(&api->lock);
    gboolean stop = api->interrupted;
    api->multi = m;
    pthread_mutex_unlock(&api->lock);
    int running = 1;
    while (!stop && running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL); /* woken by curl_multi_wakeup */
        pthread_mutex_lock(&api->lock);
        stop = api->interrupted;
        pthread_mutex_unlock(&api->lock);
    }
    pthread_mutex_lock(&api->lock);
    api->multi = NULL;
    pthread_mutex_unlock(&api->lock);
    CURLcode rc = CURLE_OK;
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE)
            rc = msg->data.result;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (s.buf->len && !s.stopped && !stop) /* a last line without its newline */
        fn(s.buf->str, s.buf->len, user);
    if (stop) {
        g_set_error(error, TF_ERROR, TF_ERROR_STOPPED, "k8s: watch %s: interrupted", path);
        status = 0;
    } else if (rc != CURLE_OK && !s.stopped) {
        g_set_error(error, TF_ERROR, TF_ERROR_HTTP, "k8s: GET %s%s: %s", api->server, path,
                    *errbuf ? errbuf : curl_easy_strerror(rc));
        status = 0;
    }
    curl_multi_remove_handle(m, h);
    curl_multi_cleanup(m);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    g_string_free(s.buf, TRUE);
    return status;
}

void tf_k8s_api_interrupt(tf_k8s_api *api)
{
    pthread_mutex_lock(&api->lock);
    api->interrupted = TRUE;
    if (api->multi)
        curl_multi_wakeup(api->multi);
    pthread_mutex_unlock(&api->lock);
}
