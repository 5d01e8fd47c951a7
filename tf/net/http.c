/* http.c: tf_http, the observers' HTTP client, and its batches.
 * A batch is sent whole at once from the calling thread, and connections are kept between
 * batches, so a cycle that polls N nodes costs one round trip, not N sequential ones or N
 * new TCP handshakes. Plain keep-alive requests (http:// to an IP address) go through
 * tf's own HTTP/1.1 client (http1.c), everything else through one libcurl multi handle
 * per client, which also keeps configured easy handles, so no request pays a full setup. */
#include <pthread.h>
#include <string.h>
#include "net/http_priv.h"
#include "tf/error.h"

/* Upper bound on one curl_multi_poll wait; curl shortens it to its own next timeout. */
#define POLL_CAP_MS 1000
/* Idle connections kept at least; raised to the largest batch seen. */
#define MIN_IDLE_CONNECTIONS 32

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    /* Never cleaned up: curl_global_cleanup is not thread-safe and the process ends anyway. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        g_error("tf_http: curl_global_init failed");
}

/* --- configured easy handles -------------------------------------------------------- */

/* Idle easy handles by the configuration they carry (req_key: method, timeout, body or
 * not, URL, credentials). A request like an earlier one takes that handle back and sets
 * only its own pointers: a curl_easy_reset and full setup per request cost a third of the
 * CPU of a 1,000-source cycle (bench_scale: 9 of 33 µs a request). */
static void easy_drop(gpointer e, gpointer user)
{
    (void)user;
    curl_easy_cleanup(e);
}

tf_http *tf_http_new(void)
{
    pthread_once(&curl_once, curl_init_once);
    tf_http *h = g_new0(tf_http, 1);
    h->multi = curl_multi_init();
    if (!h->multi)
        g_error("tf_http: curl_multi_init failed");
    tf_idle_pool_init(&h->idle, easy_drop, NULL);
    h->max_idle = MIN_IDLE_CONNECTIONS;
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, h->max_idle);
    h->h1 = tf_http1_new();
    h->curl_only = !g_strcmp0(g_getenv("TF_HTTP_CURL"), "1");
    return h;
}

void tf_http_free(tf_http *h)
{
    if (!h)
        return;
    tf_idle_pool_clear(&h->idle);
    curl_multi_cleanup(h->multi); /* closes the cached connections */
    tf_http1_free(h->h1);
    g_free(h);
}

void tf_http_interrupt(tf_http *h)
{
    /* The flag stays set until a run sees it: an interrupt that lands just before a run
     * starts still cuts that run short (a stopping runtime must never wait a timeout). */
    g_atomic_int_set(&h->interrupted, 1);
    curl_multi_wakeup(h->multi);
    tf_http1_wake(h->h1);
}

guint tf_http_idle_handles(const tf_http *h) { return h->idle.n + tf_http1_idle(h->h1); }

guint64 tf_http_requests_sent(const tf_http *h)
{
    return __atomic_load_n(&h->sent, __ATOMIC_RELAXED);
}

/* --- batches --------------------------------------------------------------------- */

tf_http_batch *tf_http_batch_new(tf_http *http)
{
    g_return_val_if_fail(http != NULL, NULL);
    tf_http_batch *b = g_new0(tf_http_batch, 1);
    b->http = http;
    b->reqs = g_ptr_array_new();
    return b;
}

static void req_free(tf_http_req *r)
{
    g_free(r->label);
    g_free(r->method);
    g_free(r->url);
    g_free(r->shown_url);
    g_free(r->body);
    curl_slist_free_all(r->headers);
    if (r->password)
        memset(r->password, 0, strlen(r->password));
    g_free(r->user);
    g_free(r->password);
    g_clear_pointer(&r->key, tf_http_wipe_free);
    tf_http1_req_free(r->h1);
    if (r->resp)
        g_string_free(r->resp, TRUE);
    g_free(r);
}

void tf_http_batch_free(tf_http_batch *b)
{
    if (!b)
        return;
    for (guint i = 0; i < b->reqs->len; i++)
        req_free(b->reqs->pdata[i]);
    g_ptr_array_unref(b->reqs);
    g_free(b);
}

tf_http_req *tf_http_batch_add(tf_http_batch *b, const char *label, const char *method,
                               const char *url, const char *body, gint64 timeout_us)
{
    g_return_val_if_fail(b && method && url && timeout_us > 0, NULL);
    tf_http_req *r = g_new0(tf_http_req, 1);
    r->batch = b;
    r->label = g_strdup(label ? label : "http");
    r->method = g_ascii_strup(method, -1);
    r->url = g_strdup(url);
    r->shown_url = tf_http_redact_url(url);
    if (body) {
        r->body = g_strdup(body);
        r->body_len = strlen(body);
    }
    r->timeout_us = timeout_us;
    /* No "Expect: 100-continue" round trip before larger POST bodies. */
    r->headers = curl_slist_append(NULL, "Expect:");
    r->resp = g_string_new(NULL);
    g_ptr_array_add(b->reqs, r);
    return r;
}

tf_http_req *tf_http_batch_add_json(tf_http_batch *b, const char *label, const char *url,
                                    json_t *body, gint64 timeout_us)
{
    g_return_val_if_fail(body != NULL, NULL);
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    g_return_val_if_fail(text != NULL, NULL);
    tf_http_req *r = tf_http_batch_add(b, label, "POST", url, text, timeout_us);
    free(text);
    if (r)
        tf_http_req_header(r, "Content-Type: application/json");
    return r;
}

void tf_http_req_header(tf_http_req *r, const char *header)
{
    g_return_if_fail(r && header);
    r->headers = curl_slist_append(r->headers, header);
    tf_http1_req_changed(r);
}

void tf_http_req_fresh_connection(tf_http_req *r)
{
    g_return_if_fail(r);
    g_clear_pointer(&r->key, tf_http_wipe_free); /* freshness is part of it */
    r->fresh = TRUE;
    tf_http1_req_changed(r);
}

void tf_http_req_basic_auth(tf_http_req *r, const char *user, const char *password)
{
    g_return_if_fail(r && user);
    g_free(r->user);
    g_free(r->password);
    g_clear_pointer(&r->key, tf_http_wipe_free); /* the credentials are part of it */
    r->user = g_strdup(user);
    r->password = g_strdup(password ? password : "");
    tf_http1_req_changed(r);
}

guint tf_http_batch_len(const tf_http_batch *b) { return b->reqs->len; }

tf_http_req *tf_http_batch_req(const tf_http_batch *b, guint i)
{
    g_return_val_if_fail(i < b->reqs->len, NULL);
    return b->reqs->pdata[i];
}

/* --- running --------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    tf_http_req *r = user;
    gsize len = size * n;
    if (r->resp->len + len > TF_HTTP_MAX_BODY) {
        r->outcome = TF_HTTP_TOO_LARGE;
        return 0; /* makes curl abort the transfer with CURLE_WRITE_ERROR */
    }
    g_string_append_len(r->resp, data, (gssize)len);
    return len;
}

/* The options every use of a handle configured for r's key shares. */
static void req_configure(tf_http_req *r, CURL *e)
{
    long ms = (long)MAX(1, (r->timeout_us + 999) / 1000);
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TF_HTTP_MAX_BODY);
    /* Requests go exactly where told: no proxy from the environment, no redirects,
     * nothing but HTTP(S). */
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (r->fresh) { /* part of the handle's key: only fresh requests reuse such a handle */
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    gboolean post = strcmp(r->method, "POST") == 0;
    if (r->body || post) {
        if (!post)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    }
    if (r->user) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, r->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, r->password);
    }
}

gboolean tf_http_req_has_body(const tf_http_req *r)
{
    return r->body || strcmp(r->method, "POST") == 0; /* an empty POST says Content-Length: 0 */
}

/* Points a configured handle at r for one transfer; unbinding (r NULL) leaves nothing of
 * r behind in an idle handle. */
static void req_bind(tf_http_req *r, CURL *e, gboolean body)
{
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r ? r->errbuf : NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r ? r->headers : NULL);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, r ? (curl_off_t)r->body_len : 0);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r ? (r->body ? r->body : "") : NULL);
    }
}

static char *req_key(const tf_http_req *r)
{
    return g_strdup_printf("%s %" G_GINT64_FORMAT " %c%c %s\n%s%s\n%s", r->method, r->timeout_us,
                           tf_http_req_has_body(r) ? 'b' : '-', r->fresh ? 'f' : '-', r->url, r->user ? "u:" : "-",
                           r->user ? r->user : "", r->user ? r->password : "");
}

/* A handle for r, configured and bound: one that served the same key before, or new. */
static CURL *easy_take(tf_http *h, tf_http_req *r)
{
    if (!r->key)
        r->key = req_key(r);
    CURL *e = tf_idle_pool_take(&h->idle, r->key, h->runs);
    if (!e) {
        e = curl_easy_init();
        if (!e)
            g_error("tf_http: curl_easy_init failed");
        req_configure(r, e);
    }
    req_bind(r, e, tf_http_req_has_body(r));
    return e;
}

/* Returns r's handle to the idle set of its key; it keeps its connection there. */
static void easy_give(tf_http *h, tf_http_req *r)
{
    req_bind(NULL, r->easy, tf_http_req_has_body(r));
    tf_idle_pool_give(&h->idle, r->key, r->easy, h->runs);
    r->easy = NULL;
}

static void req_reset(tf_http_req *r)
{
    g_string_truncate(r->resp, 0);
    r->outcome = TF_HTTP_NOT_RUN;
    r->result = CURLE_OK;
    r->status = 0;
    r->os_errno = 0;
    r->connected = r->sent_bytes = FALSE;
    r->started_us = r->duration_us = 0;
    r->errbuf[0] = '\0';
}

/* Detaches a request's easy handle from the multi and the request. */
static void req_detach(tf_http *h, tf_http_req *r)
{
    curl_multi_remove_handle(h->multi, r->easy);
    easy_give(h, r);
}

static void req_finished(tf_http *h, tf_http_req *r, CURLcode result)
{
    curl_off_t total_us = 0;
    r->result = result;
    if (curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK && total_us > 0)
        r->duration_us = (gint64)total_us;
    else
        r->duration_us = MAX(1, g_get_monotonic_time() - r->started_us);
    if (result == CURLE_FILESIZE_EXCEEDED)
        r->outcome = TF_HTTP_TOO_LARGE;
    if (r->outcome == TF_HTTP_TOO_LARGE) {
        g_string_free(r->resp, TRUE); /* give the partial huge body back at once */
        r->resp = g_string_new(NULL);
    } else {
        r->outcome = TF_HTTP_DONE;
    }
    if (result == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    else
        curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &r->os_errno);
    curl_off_t connect_us = 0;
    long request_size = 0;
    r->connected = curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &connect_us) != CURLE_OK ||
                   connect_us > 0;
    r->sent_bytes = curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &request_size) != CURLE_OK ||
                    request_size > 0;
    req_detach(h, r);
}

/* Reads curl's completion messages; returns how many requests finished. */
static guint collect_done(tf_http *h)
{
    guint done = 0;
    CURLMsg *m;
    int queued;
    while ((m = curl_multi_info_read(h->multi, &queued))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        tf_http_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode result = m->data.result; /* m is invalid once the handle is removed */
        req_finished(h, r, result);
        done++;
    }
    return done;
}

void tf_http_batch_run(tf_http_batch *b)
{
    tf_http *h = b->http;
    guint pending = 0;
    h->runs++;
    /* curl's default cache (4 x the transfers still attached) shrinks as a batch drains
     * and would close connections the next batch needs: keep one per request. */
    if ((long)b->reqs->len > h->max_idle) {
        h->max_idle = (long)b->reqs->len;
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, h->max_idle);
    }
    /* An interrupt that came before the run: send nothing at all. */
    gboolean interrupted = g_atomic_int_compare_and_exchange(&h->interrupted, 1, 0);
    for (guint i = 0; i < b->reqs->len; i++) {
        tf_http_req *r = b->reqs->pdata[i];
        req_reset(r);
        if (interrupted)
            r->outcome = TF_HTTP_INTERRUPTED;
    }
    if (interrupted)
        return;
    if (!h->curl_only && tf_http1_carries(b)) {
        tf_http1_run(h, b);
        return;
    }
    for (guint i = 0; i < b->reqs->len; i++) {
        tf_http_req *r = b->reqs->pdata[i];
        r->easy = easy_take(h, r);
        r->started_us = g_get_monotonic_time();
        curl_multi_add_handle(h->multi, r->easy);
        __atomic_add_fetch(&h->sent, 1, __ATOMIC_RELAXED);
        pending++;
    }
    while (pending > 0) {
        if (g_atomic_int_compare_and_exchange(&h->interrupted, 1, 0))
            break;
        int running = 0;
        CURLMcode mc = curl_multi_perform(h->multi, &running);
        pending -= collect_done(h);
        if (pending == 0)
            break;
        if (mc == CURLM_OK)
            mc = curl_multi_poll(h->multi, NULL, 0, POLL_CAP_MS, NULL);
        if (mc != CURLM_OK) {
            /* The multi itself failed (out of memory, say): fail what is left. */
            for (guint i = 0; i < b->reqs->len; i++) {
                tf_http_req *r = b->reqs->pdata[i];
                if (!r->easy)
                    continue;
                g_strlcpy(r->errbuf, curl_multi_strerror(mc), sizeof r->errbuf);
                req_finished(h, r, CURLE_SEND_ERROR);
            }
            pending = 0;
        }
    }
    /* Whatever is still attached was cut short by tf_http_interrupt. */
    for (guint i = 0; i < b->reqs->len; i++) {
        tf_http_req *r = b->reqs->pdata[i];
        if (!r->easy)
            continue;
        r->outcome = TF_HTTP_INTERRUPTED;
        r->duration_us = MAX(1, g_get_monotonic_time() - r->started_us);
        g_string_truncate(r->resp, 0);
        req_detach(h, r);
    }
    tf_idle_pool_trim(&h->idle, h->runs, (guint)h->max_idle);
}

json_t *tf_http_json(tf_http *http, const char *label, const char *url, json_t *body,
                     gint64 timeout_us, GError **error)
{
    tf_http_batch *b = tf_http_batch_new(http);
    if (body)
        tf_http_batch_add_json(b, label, url, body, timeout_us);
    else
        tf_http_batch_add(b, label, "GET", url, NULL, timeout_us);
    if (tf_http_batch_len(b) == 0) { /* refused by tf_http_batch_add's checks */
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: %s: invalid request",
                    label ? label : "http", url ? url : "(no url)");
        tf_http_batch_free(b);
        return NULL;
    }
    tf_http_batch_run(b);
    json_t *v = tf_http_req_json(tf_http_batch_req(b, 0), error);
    tf_http_batch_free(b);
    return v;
}
