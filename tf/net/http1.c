/* http1.c: tf_http's own HTTP/1.1 client, for the small requests observers send every
 * cycle. libcurl's fixed cost per transfer is about twice what the kernel's loopback TCP
 * costs for such a request (bench_scale: 1,000 sources, the libcurl loop 2.3x the raw
 * socket floor), so a batch whose every request a plain keep-alive connection carries as
 * it is -- http:// to an IP address literal, GET, POST, PUT, DELETE or PATCH, no
 * credentials in the URL, no fresh connection asked for, no header that changes the
 * framing -- runs here: the request's bytes are built once and kept with it, connections
 * are kept per address between batches and sit in one epoll set from their connect to
 * their close (an idle one the server closes is seen and dropped, never retried into),
 * one request at a time per connection. A request that finds its reused connection dead
 * before any byte of an answer is sent once more on a new one, as libcurl does. Any other
 * batch runs on libcurl (http.c); TF_HTTP_CURL=1 sends every batch there. Results fill
 * the fields libcurl's path fills (http_priv.h), so http_result.c words both alike. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "net/http_priv.h"

/* A response head larger than this is refused (a node sending garbage without end). */
#define H1_MAX_HEAD (64 * 1024)

/* One kept connection to an address. */
typedef struct h1_conn {
    int fd;
    char *key;              /* the address ("127.0.0.1:2379"), shared with its idle set */
    gboolean connecting;    /* the non-blocking connect has not finished */
    gboolean writing;       /* EPOLLOUT is asked for */
    gboolean reused;        /* it has carried an answer before */
    tf_http_req *req;       /* the request it carries; NULL while idle */
} h1_conn;

typedef enum {
    H1_HEAD,                /* reading the status line and headers */
    H1_BODY_LENGTH,         /* `left` more bytes of body */
    H1_BODY_CLOSE,          /* body until the server closes */
    H1_CHUNK_SIZE,          /* a chunk-size line */
    H1_CHUNK_DATA,          /* `left` bytes of chunk data, then CRLF */
    H1_CHUNK_CRLF,          /* the CRLF after chunk data */
    H1_TRAILER,             /* trailer lines until an empty one */
    H1_DONE,
} h1_state;

/* A request's part of this client: its target and bytes (built once, kept while the
 * request's headers and credentials stay), and the state of its current transfer. */
struct tf_http1_req {
    gboolean built, eligible;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char *key;              /* the address, for the idle sets */
    GString *out;           /* the request's bytes */
    /* the transfer */
    h1_conn *conn;
    gsize sent;             /* bytes of out written */
    h1_state state;
    GString *line;          /* the head, or the chunk-size/trailer line being read */
    guint64 left;
    gboolean keep_alive, head_only_body_none;
    gboolean retried;       /* sent again after a reused connection died */
    gsize got;              /* bytes of answer received (head and body) */
    gint64 deadline;
    gboolean pending;
};

struct tf_http1 {
    int ep;                 /* every kept connection, and the wake fd */
    int wake;               /* eventfd: tf_http_interrupt writes it */
    tf_idle_pool idle;      /* kept connections by address */
    guint64 carried;        /* requests run here (for tests) */
};

/* ---- the client ------------------------------------------------------------------------ */

static void conn_close(tf_http1 *c, h1_conn *k)
{
    epoll_ctl(c->ep, EPOLL_CTL_DEL, k->fd, NULL);
    close(k->fd);
    g_free(k->key);
    g_free(k);
}

static void conn_drop(gpointer k, gpointer c)
{
    conn_close(c, k);
}

tf_http1 *tf_http1_new(void)
{
    tf_http1 *c = g_new0(tf_http1, 1);
    c->ep = epoll_create1(EPOLL_CLOEXEC);
    c->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->ep < 0 || c->wake < 0)
        g_error("tf_http: epoll_create1/eventfd: %s", g_strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL: the wake fd */
    epoll_ctl(c->ep, EPOLL_CTL_ADD, c->wake, &ev);
    tf_idle_pool_init(&c->idle, conn_drop, c);
    return c;
}

void tf_http1_free(tf_http1 *c)
{
    if (!c)
        return;
    tf_idle_pool_clear(&c->idle);
    close(c->wake);
    close(c->ep);
    g_free(c);
}

void tf_http1_wake(tf_http1 *c)
{
    guint64 one = 1;
    if (write(c->wake, &one, sizeof one) < 0 && errno != EAGAIN)
        g_warning("tf_http: waking a batch: %s", g_strerror(errno));
}

guint tf_http1_idle(const tf_http1 *c) { return c ? c->idle.n : 0; }

guint64 tf_http_requests_own(const tf_http *h) { return h->h1->carried; }

void tf_http1_req_free(tf_http1_req *x)
{
    if (!x)
        return;
    g_assert(!x->conn); /* a request is never freed while it runs */
    g_free(x->key);
    if (x->out) {
        memset(x->out->str, 0, x->out->len); /* may hold credentials */
        g_string_free(x->out, TRUE);
    }
    if (x->line)
        g_string_free(x->line, TRUE);
    g_free(x);
}

void tf_http1_req_changed(tf_http_req *r)
{
    if (r->h1)
        r->h1->built = FALSE;
}

/* ---- what this client carries ---------------------------------------------------------- */

/* Whether header line h ("Name: value") is one this client cannot pass through as it is:
 * curl's "Name;" form, a removal ("Name:") of anything but the defaults it may leave out,
 * or a header that frames or routes the request. */
static gboolean header_unsupported(const char *h)
{
    static const char *const framing[] = {"host", "content-length", "transfer-encoding",
                                          "connection", "authorization", "expect", NULL};
    const char *colon = strchr(h, ':');
    if (!colon || colon == h || memchr(h, ';', (gsize)(colon - h)))
        return TRUE;
    for (const char *const *f = framing; *f; f++)
        if ((gsize)(colon - h) == strlen(*f) && !g_ascii_strncasecmp(h, *f, strlen(*f)))
            return strcmp(*f, "expect") || colon[1 + strspn(colon + 1, " \t")]; /* "Expect:" only */
    return FALSE;
}

/* A header "Name: value" of the list with that name (case-insensitive), or NULL. */
static const char *header_find(const struct curl_slist *l, const char *name)
{
    gsize n = strlen(name);
    for (; l; l = l->next)
        if (!g_ascii_strncasecmp(l->data, name, n) && l->data[n] == ':')
            return l->data;
    return NULL;
}

/* Parses an http:// URL with an IP address literal into the request's address, Host
 * header value and request target; FALSE when it is anything else. */
static gboolean parse_url(tf_http1_req *x, const char *url, GString *host, GString *target)
{
    if (g_ascii_strncasecmp(url, "http://", 7))
        return FALSE;
    const char *auth = url + 7;
    gsize auth_len = strcspn(auth, "/?#");
    if (!auth_len || memchr(auth, '@', auth_len))
        return FALSE;
    g_string_append_len(host, auth, (gssize)auth_len);
    char ip[64];
    const char *port_at;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', auth_len);
        if (!close || (gsize)(close - auth - 1) >= sizeof ip)
            return FALSE;
        memcpy(ip, auth + 1, (gsize)(close - auth - 1));
        ip[close - auth - 1] = '\0';
        port_at = close + 1;
    } else {
        gsize n = strcspn(auth, ":/?#");
        if (n >= sizeof ip)
            return FALSE;
        memcpy(ip, auth, n);
        ip[n] = '\0';
        port_at = auth + n;
    }
    guint64 port = 80;
    if (port_at < auth + auth_len) {
        if (*port_at != ':' || port_at + 1 == auth + auth_len)
            return FALSE;
        char *end;
        port = g_ascii_strtoull(port_at + 1, &end, 10);
        if (end != auth + auth_len || port == 0 || port > 65535)
            return FALSE;
    }
    memset(&x->addr, 0, sizeof x->addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&x->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&x->addr;
    if (auth[0] != '[' && inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((guint16)port);
        x->addr_len = sizeof *v4;
    } else if (auth[0] == '[' && inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((guint16)port);
        x->addr_len = sizeof *v6;
    } else {
        return FALSE; /* a name: resolving it is libcurl's job */
    }
    const char *path = auth + auth_len;
    gsize path_len = strcspn(path, "#"); /* the fragment is never sent */
    for (gsize i = 0; i < path_len; i++)
        if ((guchar)path[i] <= 0x20 || (guchar)path[i] >= 0x7f)
            return FALSE; /* libcurl decides how such bytes go out */
    if (path[0] != '/')
        g_string_append_c(target, '/');
    g_string_append_len(target, path, (gssize)path_len);
    g_free(x->key);
    x->key = g_strdup_printf("%s%s%s:%u", auth[0] == '[' ? "[" : "", ip, auth[0] == '[' ? "]" : "",
                             (guint)port);
    return TRUE;
}

/* Builds r's bytes and decides whether this client carries r (see the top comment). */
static void req_build(tf_http_req *r)
{
    if (!r->h1)
        r->h1 = g_new0(tf_http1_req, 1);
    tf_http1_req *x = r->h1;
    x->built = TRUE;
    x->eligible = FALSE;
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", NULL};
    gboolean known = FALSE;
    for (const char *const *m = methods; *m; m++)
        known |= !strcmp(r->method, *m);
    if (!known || r->fresh)
        return;
    for (const struct curl_slist *l = r->headers; l; l = l->next)
        if (header_unsupported(l->data))
            return;
    GString *host = g_string_new(NULL), *target = g_string_new(NULL);
    gboolean ok = parse_url(x, r->url, host, target);
    if (ok) {
        if (x->out) {
            memset(x->out->str, 0, x->out->len);
            g_string_truncate(x->out, 0);
        } else {
            x->out = g_string_sized_new(128 + r->body_len);
        }
        GString *o = x->out;
        g_string_append_printf(o, "%s %s HTTP/1.1\r\nHost: %s\r\n", r->method, target->str, host->str);
        if (r->user) {
            char *plain = g_strdup_printf("%s:%s", r->user, r->password);
            char *b64 = g_base64_encode((const guchar *)plain, strlen(plain));
            g_string_append_printf(o, "Authorization: Basic %s\r\n", b64);
            memset(plain, 0, strlen(plain));
            memset(b64, 0, strlen(b64));
            g_free(plain);
            g_free(b64);
        }
        if (!header_find(r->headers, "Accept"))
            g_string_append(o, "Accept: */*\r\n");
        for (const struct curl_slist *l = r->headers; l; l = l->next) {
            const char *value = strchr(l->data, ':') + 1;
            if (value[strspn(value, " \t")]) /* "Name:" only leaves a default out */
                g_string_append_printf(o, "%s\r\n", l->data);
        }
        if (tf_http_req_has_body(r)) {
            /* As libcurl sends a body given as fields: a form type unless one is set. */
            if (!header_find(r->headers, "Content-Type"))
                g_string_append(o, "Content-Type: application/x-www-form-urlencoded\r\n");
            g_string_append_printf(o, "Content-Length: %" G_GSIZE_FORMAT "\r\n", r->body_len);
        }
        g_string_append(o, "\r\n");
        if (r->body)
            g_string_append_len(o, r->body, (gssize)r->body_len);
        x->eligible = TRUE;
    }
    g_string_free(host, TRUE);
    g_string_free(target, TRUE);
}

gboolean tf_http1_carries(tf_http_batch *b)
{
    for (guint i = 0; i < b->reqs->len; i++) {
        tf_http_req *r = b->reqs->pdata[i];
        if (!r->h1 || !r->h1->built)
            req_build(r);
        if (!r->h1->eligible)
            return FALSE;
    }
    return b->reqs->len > 0;
}

/* ---- one transfer ---------------------------------------------------------------------- */

static void watch(tf_http1 *c, h1_conn *k, gboolean write_too)
{
    if (k->writing == write_too)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (write_too ? EPOLLOUT : 0), .data.ptr = k};
    epoll_ctl(c->ep, EPOLL_CTL_MOD, k->fd, &ev);
    k->writing = write_too;
}

/* A new connection for x (connecting); NULL with *err set when the socket cannot be had. */
static h1_conn *conn_open(tf_http1 *c, tf_http1_req *x, int *err)
{
    int fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    h1_conn *k = g_new0(h1_conn, 1);
    k->fd = fd;
    k->key = g_strdup(x->key);
    k->connecting = TRUE;
    k->writing = TRUE;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = k};
    epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev);
    if (connect(fd, (struct sockaddr *)&x->addr, x->addr_len) == 0)
        k->connecting = FALSE;
    else if (errno != EINPROGRESS) {
        *err = errno;
        conn_close(c, k);
        return NULL;
    }
    return k;
}

/* Ends x's transfer on r: the outcome is set by the caller; the connection is kept when
 * keep is TRUE, else closed. */
static void finish(tf_http1 *c, tf_http_req *r, gboolean keep, guint64 run)
{
    tf_http1_req *x = r->h1;
    h1_conn *k = x->conn;
    r->duration_us = MAX(1, g_get_monotonic_time() - r->started_us);
    x->pending = FALSE;
    x->conn = NULL;
    if (!k)
        return;
    k->req = NULL;
    if (!keep) {
        conn_close(c, k);
        return;
    }
    k->reused = TRUE;
    watch(c, k, FALSE);
    tf_idle_pool_give(&c->idle, k->key, k, run);
}

/* Ends r as failed with curl's code for it (and the errno behind it, 0 when none); the
 * connection goes: its state is unknown. */
static void fail_code(tf_http1 *c, tf_http_req *r, CURLcode code, int os_errno, guint64 run)
{
    r->outcome = TF_HTTP_DONE;
    r->result = code;
    r->os_errno = os_errno;
    r->status = 0;
    g_string_truncate(r->resp, 0);
    finish(c, r, FALSE, run);
}

/* fail_code with the words of why in the request's error buffer. */
G_GNUC_PRINTF(6, 7)
static void fail(tf_http1 *c, tf_http_req *r, CURLcode code, int os_errno, guint64 run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_vsnprintf(r->errbuf, sizeof r->errbuf, fmt, ap);
    va_end(ap);
    fail_code(c, r, code, os_errno, run);
}

static void too_large(tf_http1 *c, tf_http_req *r, guint64 run)
{
    r->outcome = TF_HTTP_TOO_LARGE;
    r->status = 0;
    g_string_free(r->resp, TRUE); /* give the partial huge body back at once */
    r->resp = g_string_new(NULL);
    finish(c, r, FALSE, run);
}

/* Starts (or restarts) x's transfer on a kept connection to its address or a new one. */
static void start(tf_http1 *c, tf_http_req *r, guint64 run);

/* A kept connection found dead before any byte of an answer (the server closed it while
 * idle): r goes once more on a new connection, as libcurl does. FALSE when that does not
 * apply (then r's failure is the caller's). */
static gboolean retry_if_dead(tf_http1 *c, tf_http_req *r, guint64 run)
{
    tf_http1_req *x = r->h1;
    h1_conn *k = x->conn;
    if (!k->reused || x->retried || x->got)
        return FALSE;
    x->retried = TRUE;
    x->conn = NULL;
    k->req = NULL;
    conn_close(c, k);
    start(c, r, run);
    return TRUE;
}

/* Writes what the connection takes of r's bytes. */
static void push(tf_http1 *c, tf_http_req *r, guint64 run)
{
    tf_http1_req *x = r->h1;
    h1_conn *k = x->conn;
    while (x->sent < x->out->len) {
        gssize n = send(k->fd, x->out->str + x->sent, x->out->len - x->sent, MSG_NOSIGNAL);
        if (n > 0) {
            x->sent += (gsize)n;
            r->sent_bytes = TRUE;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(c, k, TRUE);
            return;
        }
        int e = n < 0 ? errno : EPIPE;
        if (retry_if_dead(c, r, run))
            return;
        fail(c, r, CURLE_SEND_ERROR, e, run, "sending the request failed: %s", g_strerror(e));
        return;
    }
    watch(c, k, FALSE);
}

static void start(tf_http1 *c, tf_http_req *r, guint64 run)
{
    tf_http1_req *x = r->h1;
    h1_conn *k = x->retried ? NULL : tf_idle_pool_take(&c->idle, x->key, run);
    if (!k) {
        int err = 0;
        k = conn_open(c, x, &err);
        if (!k) {
            fail_code(c, r, CURLE_COULDNT_CONNECT, err, run);
            return;
        }
    }
    k->req = r;
    x->conn = k;
    x->sent = 0;
    x->got = 0;
    x->state = H1_HEAD;
    x->left = 0;
    x->keep_alive = TRUE;
    if (!x->line)
        x->line = g_string_sized_new(256);
    g_string_truncate(x->line, 0);
    g_string_truncate(r->resp, 0);
    if (!k->connecting) {
        r->connected = TRUE;
        push(c, r, run);
    }
}

/* The value of header `name` in the head's lines (after the status line), or NULL; the
 * returned span ends at its line's end (*len). */
static const char *head_value(const char *head, const char *name, gsize *len)
{
    gsize n = strlen(name);
    for (const char *l = strchr(head, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        const char *line = l + 1;
        if (!g_ascii_strncasecmp(line, name, n) && line[n] == ':') {
            const char *v = line + n + 1;
            v += strspn(v, " \t");
            gsize vl = strcspn(v, "\r\n");
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            *len = vl;
            return v;
        }
    }
    return NULL;
}

/* Whether the comma-separated list v (len bytes) holds token t (case-insensitive). */
static gboolean has_token(const char *v, gsize len, const char *t)
{
    gsize tl = strlen(t);
    for (gsize i = 0; i < len;) {
        i += strspn(v + i, " \t,");
        gsize w = 0;
        while (i + w < len && v[i + w] != ',' && v[i + w] != ' ' && v[i + w] != '\t')
            w++;
        if (w == tl && !g_ascii_strncasecmp(v + i, t, tl))
            return TRUE;
        i += w ? w : 1;
    }
    return FALSE;
}

/* Reads the complete head in x->line: the status and how the body is framed. FALSE (with
 * r's failure set) on a malformed one; *again when it was an interim 1xx answer. */
static gboolean take_head(tf_http1 *c, tf_http_req *r, guint64 run, gboolean *again)
{
    tf_http1_req *x = r->h1;
    const char *head = x->line->str;
    *again = FALSE;
    if (strncmp(head, "HTTP/1.", 7) || !g_ascii_isdigit(head[7]) || head[8] != ' ' ||
        !g_ascii_isdigit(head[9]) || !g_ascii_isdigit(head[10]) || !g_ascii_isdigit(head[11]) ||
        (head[12] != ' ' && head[12] != '\r' && head[12] != '\n')) {
        char *q = tf_http_quote(head, MIN(x->line->len, 80), 60);
        fail(c, r, CURLE_WEIRD_SERVER_REPLY, 0, run, "not an HTTP/1.x answer: %s", q);
        g_free(q);
        return FALSE;
    }
    long status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    if (status >= 100 && status < 200) {
        if (status == 101) {
            fail(c, r, CURLE_WEIRD_SERVER_REPLY, 0, run, "the server switched protocols (HTTP 101)");
            return FALSE;
        }
        *again = TRUE; /* interim: the real answer follows */
        return TRUE;
    }
    r->status = status;
    gsize len;
    const char *conn = head_value(head, "Connection", &len);
    if (head[7] == '0')
        x->keep_alive = conn && has_token(conn, len, "keep-alive");
    else
        x->keep_alive = !(conn && has_token(conn, len, "close"));
    const char *te = head_value(head, "Transfer-Encoding", &len);
    const char *cl = head_value(head, "Content-Length", &len);
    gsize cl_len = len;
    if (status == 204 || status == 304) {
        x->state = H1_DONE;
    } else if (te && has_token(te, strcspn(te, "\r\n"), "chunked")) {
        x->state = H1_CHUNK_SIZE;
    } else if (te) {
        x->state = H1_BODY_CLOSE; /* another coding: the body ends with the connection */
        x->keep_alive = FALSE;
    } else if (cl) {
        char *end;
        char digits[32];
        if (!cl_len || cl_len >= sizeof digits || strspn(cl, "0123456789") < cl_len) {
            fail(c, r, CURLE_WEIRD_SERVER_REPLY, 0, run, "bad Content-Length: %.*s", (int)MIN(cl_len, 40), cl);
            return FALSE;
        }
        memcpy(digits, cl, cl_len);
        digits[cl_len] = '\0';
        x->left = g_ascii_strtoull(digits, &end, 10);
        if (x->left > TF_HTTP_MAX_BODY) {
            too_large(c, r, run);
            return FALSE;
        }
        x->state = x->left ? H1_BODY_LENGTH : H1_DONE;
    } else {
        x->state = H1_BODY_CLOSE;
        x->keep_alive = FALSE;
    }
    return TRUE;
}

/* Feeds n received bytes to x's parser. Returns FALSE once r is finished (answered or
 * failed); bytes after a complete answer make the connection unusable. */
static gboolean feed(tf_http1 *c, tf_http_req *r, const char *p, gsize n, guint64 run)
{
    tf_http1_req *x = r->h1;
    x->got += n;
    while (n > 0 || x->state == H1_DONE) {
        switch (x->state) {
        case H1_HEAD: {
            /* The head ends at an empty line (bytes of a broken answer may be NULs);
             * it is searched from a little before the new bytes, so a terminator split
             * between reads is found. */
            gsize from = x->line->len > 3 ? x->line->len - 3 : 0;
            gsize take = MIN(n, (gsize)H1_MAX_HEAD + 4 - x->line->len);
            g_string_append_len(x->line, p, (gssize)take);
            const char *at = x->line->str + from;
            gsize span = x->line->len - from;
            const char *end = memmem(at, span, "\r\n\r\n", 4);
            gsize head_len = end ? (gsize)(end - x->line->str) + 4 : 0;
            if (!end) {
                const char *lf = memmem(at, span, "\n\n", 2);
                if (lf)
                    head_len = (gsize)(lf - x->line->str) + 2;
            }
            if (!head_len) {
                if (x->line->len > H1_MAX_HEAD) {
                    fail(c, r, CURLE_WEIRD_SERVER_REPLY, 0, run, "answer head over %d KiB", H1_MAX_HEAD / 1024);
                    return FALSE;
                }
                return TRUE; /* all taken, more to come */
            }
            gsize used = head_len - (x->line->len - take); /* of the new bytes */
            g_string_truncate(x->line, head_len);
            p += used;
            n -= used;
            gboolean again;
            if (!take_head(c, r, run, &again))
                return FALSE;
            g_string_truncate(x->line, 0);
            if (again)
                x->state = H1_HEAD;
            break;
        }
        case H1_BODY_LENGTH:
        case H1_CHUNK_DATA: { /* `left` more bytes, then the end or the chunk's CRLF */
            gsize take = (gsize)MIN((guint64)n, x->left);
            g_string_append_len(r->resp, p, (gssize)take);
            p += take;
            n -= take;
            x->left -= take;
            if (!x->left)
                x->state = x->state == H1_BODY_LENGTH ? H1_DONE : H1_CHUNK_CRLF;
            break;
        }
        case H1_BODY_CLOSE:
            if (r->resp->len + n > TF_HTTP_MAX_BODY) {
                too_large(c, r, run);
                return FALSE;
            }
            g_string_append_len(r->resp, p, (gssize)n);
            n = 0;
            break;
        case H1_CHUNK_SIZE:
        case H1_TRAILER: {
            const char *lf = memchr(p, '\n', n);
            gsize take = lf ? (gsize)(lf - p) + 1 : n;
            g_string_append_len(x->line, p, (gssize)take);
            p += take;
            n -= take;
            if (x->line->len > 4096) {
                fail(c, r, CURLE_WEIRD_SERVER_REPLY, 0, run, "chunk line over 4 KiB");
                return FALSE;
            }
            if (!lf)
                break;
            if (x->state == H1_TRAILER) {
                gboolean empty = x->line->str[0] == '\n' || !strcmp(x->line->str, "\r\n");
                g_string_truncate(x->line, 0);
                if (empty)
                    x->state = H1_DONE;
                break;
            }
            char *end;
            guint64 size = g_ascii_strtoull(x->line->str, &end, 16);
            if (end == x->line->str || (*end != '\r' && *end != '\n' && *end != ';' && *end != ' ')) {
                char *q = tf_http_quote(x->line->str, x->line->len, 40);
                fail(c, r, CURLE_WEIRD_SERVER_REPLY, 0, run, "bad chunk size line: %s", q);
                g_free(q);
                return FALSE;
            }
            g_string_truncate(x->line, 0);
            if (size > TF_HTTP_MAX_BODY - r->resp->len) {
                too_large(c, r, run);
                return FALSE;
            }
            x->left = size;
            x->state = size ? H1_CHUNK_DATA : H1_TRAILER;
            break;
        }
        case H1_CHUNK_CRLF:
            if (*p == '\r' && x->left == 0) {
                x->left = 1; /* the CR is in: the LF comes next */
            } else if (*p == '\n') {
                x->left = 0;
                x->state = H1_CHUNK_SIZE;
            } else {
                fail(c, r, CURLE_WEIRD_SERVER_REPLY, 0, run, "chunk data not followed by CRLF");
                return FALSE;
            }
            p++;
            n--;
            break;
        case H1_DONE:
            r->outcome = TF_HTTP_DONE;
            r->result = CURLE_OK;
            /* A request still being sent, or bytes past the answer: the connection is not
             * in a state to carry another request. */
            finish(c, r, x->keep_alive && n == 0 && x->sent == x->out->len, run);
            return FALSE;
        }
    }
    return TRUE;
}

/* The connection of r reached end-of-file or an error (e: 0 for end-of-file). */
static void conn_ended(tf_http1 *c, tf_http_req *r, int e, guint64 run)
{
    tf_http1_req *x = r->h1;
    if (!e && x->state == H1_BODY_CLOSE) {
        r->outcome = TF_HTTP_DONE;
        r->result = CURLE_OK;
        finish(c, r, FALSE, run);
        return;
    }
    if (retry_if_dead(c, r, run))
        return;
    if (!x->got && !e)
        fail(c, r, CURLE_GOT_NOTHING, 0, run, "empty reply from server (the connection closed)");
    else if (!e)
        fail(c, r, CURLE_PARTIAL_FILE, 0, run,
             "the connection closed after %" G_GSIZE_FORMAT " bytes, before the end of the answer", x->got);
    else
        fail(c, r, CURLE_RECV_ERROR, e, run, "receiving the answer failed: %s", g_strerror(e));
}

/* Handles readiness of connection k. */
static void on_event(tf_http1 *c, h1_conn *k, guint32 events, guint64 run)
{
    tf_http_req *r = k->req;
    if (!r) { /* an idle connection the server closed (or wrote to): drop it */
        tf_idle_pool_remove(&c->idle, k->key, k);
        conn_close(c, k);
        return;
    }
    tf_http1_req *x = r->h1;
    if (k->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (!err && !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        if (err || (events & (EPOLLERR | EPOLLHUP))) {
            fail_code(c, r, CURLE_COULDNT_CONNECT, err ? err : ECONNREFUSED, run);
            return;
        }
        k->connecting = FALSE;
        r->connected = TRUE;
        push(c, r, run);
        if (!x->pending || x->conn != k)
            return;
    } else if ((events & EPOLLOUT) && x->sent < x->out->len) {
        push(c, r, run);
        if (!x->pending || x->conn != k)
            return;
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    char buf[16384];
    for (;;) {
        gssize n = recv(k->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (!feed(c, r, buf, (gsize)n, run))
                return;
            if ((gsize)n < sizeof buf)
                return; /* drained: the rest comes with the next readiness */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_ended(c, r, n < 0 ? errno : 0, run);
        return;
    }
}

void tf_http1_run(tf_http *h, tf_http_batch *b)
{
    tf_http1 *c = h->h1;
    gint64 now = g_get_monotonic_time();
    for (guint i = 0; i < b->reqs->len; i++) {
        tf_http_req *r = b->reqs->pdata[i];
        tf_http1_req *x = r->h1;
        x->retried = FALSE;
        x->pending = TRUE;
        r->started_us = now;
        x->deadline = now + r->timeout_us;
        __atomic_add_fetch(&h->sent, 1, __ATOMIC_RELAXED);
        c->carried++;
        start(c, r, h->runs);
    }
    struct epoll_event evs[256];
    gboolean interrupted = FALSE;
    while (!interrupted) {
        /* Fail what is past its deadline; wait until the first of the others. */
        now = g_get_monotonic_time();
        gint64 first = G_MAXINT64;
        guint pending = 0;
        for (guint i = 0; i < b->reqs->len; i++) {
            tf_http_req *r = b->reqs->pdata[i];
            if (!r->h1->pending)
                continue;
            if (r->h1->deadline <= now) {
                fail_code(c, r, CURLE_OPERATION_TIMEDOUT, 0, h->runs);
            } else {
                first = MIN(first, r->h1->deadline);
                pending++;
            }
        }
        if (!pending)
            break;
        int wait_ms = (int)MIN((first - now + 999) / 1000, 60000);
        int n = epoll_wait(c->ep, evs, G_N_ELEMENTS(evs), MAX(wait_ms, 0));
        if (n < 0 && errno != EINTR)
            g_error("tf_http: epoll_wait: %s", g_strerror(errno));
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr) { /* the wake fd: an interrupt, or an old one's echo */
                guint64 count;
                while (read(c->wake, &count, sizeof count) > 0)
                    ;
                if (g_atomic_int_compare_and_exchange(&h->interrupted, 1, 0))
                    interrupted = TRUE;
                continue;
            }
            /* Handling an event closes at most its own connection, which is in evs once:
             * no later entry of evs points at a freed one. */
            on_event(c, evs[i].data.ptr, evs[i].events, h->runs);
        }
    }
    /* Whatever is still pending was cut short by tf_http_interrupt. */
    for (guint i = 0; i < b->reqs->len; i++) {
        tf_http_req *r = b->reqs->pdata[i];
        if (!r->h1->pending)
            continue;
        r->outcome = TF_HTTP_INTERRUPTED;
        r->status = 0;
        g_string_truncate(r->resp, 0);
        finish(c, r, FALSE, h->runs);
    }
    tf_idle_pool_trim(&c->idle, h->runs, (guint)h->max_idle);
}
