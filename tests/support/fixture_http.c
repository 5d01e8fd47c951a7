/* fixture_http.c: the in-process HTTP test server of fixture_http.h over libmicrohttpd.
 * One thread per connection, so a delayed answer never holds up another request; every
 * shared field sits under one pthread mutex (visible to ThreadSanitizer) and delays are
 * timed waits on a condition variable that fixture_http_stop broadcasts. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "fixture_http.h"

typedef struct {
    guint status;
    char *content_type;
    GBytes *body;
    guint delay_ms;
    fixture_http_handler fn;
    void *user;
} route;

/* What the fixture remembers of the last request on a path. */
typedef struct {
    guint64 count;
    char *method;
    GString *body;
    GHashTable *headers; /* lower-case name -> value */
} seen;

/* One request being received (MHD's per-request context). */
typedef struct {
    GString *body;
    GHashTable *headers;
} pending;

struct fixture_http {
    struct MHD_Daemon *daemon;
    guint16 port;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC; signals stop and in-flight changes */
    gboolean stopping;
    GHashTable *routes;  /* path -> route* */
    GHashTable *seen;    /* path -> seen* */
    guint64 requests, connections;
    guint in_flight, max_in_flight;
};

static void route_free(route *r)
{
    g_free(r->content_type);
    if (r->body)
        g_bytes_unref(r->body);
    g_free(r);
}

static void seen_free(seen *s)
{
    g_free(s->method);
    if (s->body)
        g_string_free(s->body, TRUE);
    if (s->headers)
        g_hash_table_unref(s->headers);
    g_free(s);
}

static GHashTable *header_table(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static gint64 mono_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Waits on f->cond (lock held) until the monotonic deadline; FALSE once it passed. */
static gboolean wait_until(fixture_http *f, gint64 deadline_us)
{
    if (mono_now_us() >= deadline_us)
        return FALSE;
    struct timespec ts = {.tv_sec = deadline_us / G_USEC_PER_SEC,
                          .tv_nsec = (deadline_us % G_USEC_PER_SEC) * 1000};
    pthread_cond_timedwait(&f->cond, &f->lock, &ts);
    return TRUE;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    g_hash_table_replace(cls, g_ascii_strdown(key, -1), g_strdup(value ? value : ""));
    return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode toe)
{
    fixture_http *f = cls;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    pthread_mutex_lock(&f->lock);
    f->connections++;
    pthread_mutex_unlock(&f->lock);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    pending *p = *ctx;
    if (!p)
        return;
    g_string_free(p->body, TRUE);
    if (p->headers)
        g_hash_table_unref(p->headers);
    g_free(p);
    *ctx = NULL;
}

/* Books a complete request (lock held) and copies out the route's answer into resp. */
static route *book_request(fixture_http *f, const char *path, const char *method, pending *p,
                           fixture_http_response *resp)
{
    f->requests++;
    seen *s = g_hash_table_lookup(f->seen, path);
    if (!s) {
        s = g_new0(seen, 1);
        g_hash_table_insert(f->seen, g_strdup(path), s);
    }
    s->count++;
    g_free(s->method);
    s->method = g_strdup(method);
    if (s->body)
        g_string_free(s->body, TRUE);
    s->body = g_string_new_len(p->body->str, (gssize)p->body->len);
    if (s->headers)
        g_hash_table_unref(s->headers);
    s->headers = g_steal_pointer(&p->headers);

    f->in_flight++;
    f->max_in_flight = MAX(f->max_in_flight, f->in_flight);
    pthread_cond_broadcast(&f->cond);

    route *r = g_hash_table_lookup(f->routes, path);
    if (!r) { /* the longest prefix route (a path ending in a star) that matches */
        GHashTableIter it;
        gpointer k, v;
        gsize best = 0;
        g_hash_table_iter_init(&it, f->routes);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            gsize n = strlen(k);
            if (n && ((const char *)k)[n - 1] == '*' && n - 1 >= best && !strncmp(path, k, n - 1)) {
                best = n - 1;
                r = v;
            }
        }
    }
    if (!r) {
        resp->status = 404;
        resp->content_type = "text/plain";
        g_string_printf(resp->body, "no route for %s", path);
        return NULL;
    }
    resp->status = r->status;
    resp->delay_ms = r->delay_ms;
    if (r->body) {
        gsize len;
        const char *data = g_bytes_get_data(r->body, &len);
        g_string_append_len(resp->body, data, (gssize)len);
    }
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **ctx)
{
    fixture_http *f = cls;
    pending *p = *ctx;
    if (!p) { /* headers are in: remember them, wait for the body */
        p = g_new0(pending, 1);
        p->body = g_string_new(NULL);
        p->headers = header_table();
        MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, p->headers);
        *ctx = p;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        g_string_append_len(p->body, upload, (gssize)*upload_size);
        *upload_size = 0;
        return MHD_YES;
    }

    fixture_http_response resp = {.status = 200, .body = g_string_new(NULL),
                                  .content_type = "application/json"};
    fixture_http_handler fn = NULL;
    void *user = NULL;
    char *content_type = NULL; /* a copy: the route may be replaced meanwhile */
    pthread_mutex_lock(&f->lock);
    route *r = book_request(f, url, method, p, &resp);
    if (r) {
        fn = r->fn;
        user = r->user;
        content_type = g_strdup(r->content_type);
    }
    pthread_mutex_unlock(&f->lock);
    if (content_type)
        resp.content_type = content_type;
    if (fn) {
        fixture_http_request req = {method, url, p->body->str, p->body->len};
        fn(&req, &resp, user);
    }

    pthread_mutex_lock(&f->lock);
    gint64 deadline = mono_now_us() + (gint64)resp.delay_ms * 1000;
    while (!f->stopping && wait_until(f, deadline))
        ;
    f->in_flight--;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);

    gsize len = resp.body->len;
    struct MHD_Response *mr = MHD_create_response_from_buffer_with_free_callback(
        len, g_string_free(resp.body, FALSE), g_free);
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type);
    enum MHD_Result ret = MHD_queue_response(c, resp.status, mr);
    MHD_destroy_response(mr);
    g_free(content_type);
    return ret;
}


/* threads 0: a thread per connection; else a pool of that many polling threads. */
static fixture_http *start(guint16 port, guint threads)
{
    fixture_http *f = g_new0(fixture_http, 1);
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &attr);
    pthread_condattr_destroy(&attr);
    f->routes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)route_free);
    f->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)seen_free);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (threads)
        f->daemon = MHD_start_daemon(
            MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
            MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_NOTIFY_CONNECTION, on_connection, f,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, f, MHD_OPTION_END);
    else
        f->daemon = MHD_start_daemon(
            MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
            on_request, f, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, f, MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, f, MHD_OPTION_END);
    if (!f->daemon)
        g_error("fixture_http: cannot start libmicrohttpd on 127.0.0.1:%u: %s", (unsigned)port,
                g_strerror(errno));
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0)
        g_error("fixture_http: cannot read back the bound port");
    f->port = info->port;
    return f;
}

fixture_http *fixture_http_start(void)
{
    return start(0, 0);
}

fixture_http *fixture_http_start_on(guint16 port)
{
    return start(port, 0);
}

fixture_http *fixture_http_start_pooled(guint threads)
{
    return start(0, MAX(threads, 1u));
}

void fixture_http_stop(fixture_http *f)
{
    pthread_mutex_lock(&f->lock);
    f->stopping = TRUE;
    pthread_cond_broadcast(&f->cond);
    struct MHD_Daemon *d = f->daemon;
    f->daemon = NULL;
    pthread_mutex_unlock(&f->lock);
    if (d)
        MHD_stop_daemon(d); /* joins every connection thread */
}

void fixture_http_free(fixture_http *f)
{
    if (!f)
        return;
    fixture_http_stop(f);
    g_hash_table_unref(f->routes);
    g_hash_table_unref(f->seen);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    g_free(f);
}

guint16 fixture_http_port(const fixture_http *f) { return f->port; }

char *fixture_http_url(const fixture_http *f, const char *path)
{
    return g_strdup_printf("http://127.0.0.1:%u%s", (unsigned)f->port, path);
}

guint16 fixture_http_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    g_assert(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    g_assert(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    g_assert(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    close(fd); /* bound but never listening, then closed: connects are refused */
    return ntohs(addr.sin_port);
}

static void add_route(fixture_http *f, const char *path, route *r)
{
    pthread_mutex_lock(&f->lock);
    g_hash_table_replace(f->routes, g_strdup(path), r);
    pthread_mutex_unlock(&f->lock);
}

void fixture_http_route(fixture_http *f, const char *path, guint status,
                        const char *content_type, const char *body, gssize len,
                        guint delay_ms)
{
    route *r = g_new0(route, 1);
    r->status = status;
    r->content_type = g_strdup(content_type ? content_type : "application/json");
    if (body)
        r->body = g_bytes_new(body, len < 0 ? strlen(body) : (gsize)len);
    r->delay_ms = delay_ms;
    add_route(f, path, r);
}

void fixture_http_route_json(fixture_http *f, const char *path, const char *json)
{
    fixture_http_route(f, path, 200, "application/json", json, -1, 0);
}

void fixture_http_route_handler(fixture_http *f, const char *path, fixture_http_handler fn,
                                void *user)
{
    route *r = g_new0(route, 1);
    r->status = 200;
    r->content_type = g_strdup("application/json");
    r->fn = fn;
    r->user = user;
    add_route(f, path, r);
}

guint64 fixture_http_requests(fixture_http *f)
{
    pthread_mutex_lock(&f->lock);
    guint64 n = f->requests;
    pthread_mutex_unlock(&f->lock);
    return n;
}

guint64 fixture_http_requests_to(fixture_http *f, const char *path)
{
    pthread_mutex_lock(&f->lock);
    seen *s = g_hash_table_lookup(f->seen, path);
    guint64 n = s ? s->count : 0;
    pthread_mutex_unlock(&f->lock);
    return n;
}

guint64 fixture_http_connections(fixture_http *f)
{
    pthread_mutex_lock(&f->lock);
    guint64 n = f->connections;
    pthread_mutex_unlock(&f->lock);
    return n;
}

guint fixture_http_in_flight(fixture_http *f)
{
    pthread_mutex_lock(&f->lock);
    guint n = f->in_flight;
    pthread_mutex_unlock(&f->lock);
    return n;
}

guint fixture_http_max_in_flight(fixture_http *f)
{
    pthread_mutex_lock(&f->lock);
    guint n = f->max_in_flight;
    pthread_mutex_unlock(&f->lock);
    return n;
}

gboolean fixture_http_wait_in_flight(fixture_http *f, guint n, guint timeout_ms)
{
    gint64 deadline = mono_now_us() + (gint64)timeout_ms * 1000;
    pthread_mutex_lock(&f->lock);
    while (f->in_flight < n && wait_until(f, deadline))
        ;
    gboolean ok = f->in_flight >= n;
    pthread_mutex_unlock(&f->lock);
    return ok;
}

char *fixture_http_last_method(fixture_http *f, const char *path)
{
    pthread_mutex_lock(&f->lock);
    seen *s = g_hash_table_lookup(f->seen, path);
    char *m = s ? g_strdup(s->method) : NULL;
    pthread_mutex_unlock(&f->lock);
    return m;
}

char *fixture_http_last_body(fixture_http *f, const char *path)
{
    pthread_mutex_lock(&f->lock);
    seen *s = g_hash_table_lookup(f->seen, path);
    char *b = s ? g_strndup(s->body->str, s->body->len) : NULL;
    pthread_mutex_unlock(&f->lock);
    return b;
}

char *fixture_http_last_header(fixture_http *f, const char *path, const char *name)
{
    char *key = g_ascii_strdown(name, -1);
    pthread_mutex_lock(&f->lock);
    seen *s = g_hash_table_lookup(f->seen, path);
    char *v = s && s->headers ? g_strdup(g_hash_table_lookup(s->headers, key)) : NULL;
    pthread_mutex_unlock(&f->lock);
    g_free(key);
    return v;
}
