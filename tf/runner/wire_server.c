/* wire_server.c: the sockets and threads of the wire server: a listener on loopback by
 * default, one thread per connection reading newline-delimited requests with poll(), and
 * a stop that wakes every thread through one pipe and interrupts steps in flight. The
 * protocol itself is wire_session.c. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "wire_priv.h"

/* By default a request line longer than this is refused and the connection closed (a
 * data table of a few MB is fine; an endless line without a newline is not a client). */
#define WIRE_MAX_LINE (16u << 20)
/* A client that stops reading its replies for this long is dropped. */
#define WIRE_WRITE_TIMEOUT_MS 30000

typedef struct wire_conn wire_conn;

struct tf_wire_server {
    tf_registry *reg;
    gint64 step_timeout_us;
    FILE *log;
    gsize max_line;
    struct tf_store *store; /* borrowed, or NULL */
    gint64 store_run;
    int listen_fd;
    int wake[2]; /* written once at stop: every poll sees the read end ready from then on */
    guint16 port;
    pthread_t accept_thread;
    gboolean started;
    tf_mutex lock;
    tf_cond idle;
    GPtrArray *conns; /* wire_conn* still serving requests (borrowed): stop interrupts them */
    guint threads;    /* connection threads not yet finished (free waits for 0) */
    gboolean stopping;
};

struct wire_conn {
    tf_wire_server *srv;
    int fd;
    char peer[INET6_ADDRSTRLEN + 8];
    tf_wire_session *session;
};

static void note(tf_wire_server *srv, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(tf_wire_server *srv, const char *fmt, ...)
{
    if (!srv->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(srv->log, "tf wire: %s\n", m);
    fflush(srv->log);
    g_free(m);
}

tf_wire_server *tf_wire_server_new(tf_registry *reg, const tf_wire_options *opts,
                                   GError **error)
{
    const char *host = opts && opts->host ? opts->host : "127.0.0.1";
    char port_s[8];
    g_snprintf(port_s, sizeof port_s, "%u", opts ? opts->port : 0);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, port_s, &hints, &ai);
    if (gai != 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "--host %s: %s (a numeric address such as 127.0.0.1)", host,
                    gai_strerror(gai));
        return NULL;
    }
    /* CLOEXEC everywhere: steps start clusters, which must not inherit our sockets. The
     * backlog is the kernel's maximum: with 16, a burst of clients (a parallel Cucumber)
     * overflowed the accept queue and each dropped SYN cost its connect a 1 s retry. */
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "listen on %s:%s: %s", host, port_s,
                    g_strerror(e));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return NULL;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    tf_wire_server *srv = g_new0(tf_wire_server, 1);
    srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    srv->reg = reg;
    srv->step_timeout_us = opts ? opts->step_timeout_us : 0;
    srv->log = opts ? opts->log : NULL;
    srv->max_line = opts && opts->max_request ? opts->max_request : WIRE_MAX_LINE;
    srv->store = opts ? opts->store : NULL;
    srv->store_run = opts ? opts->store_run : 0;
    srv->listen_fd = fd;
    if (pipe2(srv->wake, O_CLOEXEC) != 0)
        g_error("tf wire: pipe2: %s", g_strerror(errno));
    tf_mutex_init(&srv->lock);
    tf_cond_init(&srv->idle);
    srv->conns = g_ptr_array_new();
    return srv;
}

guint16 tf_wire_server_port(const tf_wire_server *s) { return s->port; }

/* Sends all of data; FALSE when the peer is gone, stalls or the server stops. */
static gboolean send_all(wire_conn *c, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            len -= (gsize)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return FALSE;
        struct pollfd p[2] = {{c->fd, POLLOUT, 0}, {c->srv->wake[0], POLLIN, 0}};
        int r = poll(p, 2, WIRE_WRITE_TIMEOUT_MS);
        if (r == 0 || (r > 0 && p[1].revents))
            return FALSE;
        if (r < 0 && errno != EINTR)
            return FALSE;
    }
    return TRUE;
}

static gboolean stopping(tf_wire_server *srv)
{
    tf_mutex_lock(&srv->lock);
    gboolean s = srv->stopping;
    tf_mutex_unlock(&srv->lock);
    return s;
}

/* Answers every complete line in buf (consumed); FALSE when the connection must end.
 * *scanned: how much of buf is known to hold no newline (a long line is scanned once,
 * not once per chunk). */
static gboolean serve_lines(wire_conn *c, GString *buf, gsize *scanned)
{
    gsize off = 0;
    char *nl;
    gboolean ok = TRUE;
    while (ok && (nl = memchr(buf->str + MAX(off, *scanned), '\n',
                              buf->len - MAX(off, *scanned)))) {
        gsize len = (gsize)(nl - (buf->str + off));
        if (len > 0 && buf->str[off + len - 1] == '\r')
            len--;
        if (stopping(c->srv))
            return FALSE;
        char *reply = tf_wire_session_handle(c->session, buf->str + off, len);
        GString *out = g_string_new(reply);
        g_string_append_c(out, '\n');
        ok = send_all(c, out->str, out->len);
        g_string_free(out, TRUE);
        g_free(reply);
        off = (gsize)(nl - buf->str) + 1;
    }
    g_string_erase(buf, 0, (gssize)off);
    *scanned = buf->len;
    if (ok && buf->len > c->srv->max_line) {
        char *m = g_strdup_printf("[\"fail\",{\"message\":\"wire: request longer than %"
                                  G_GSIZE_FORMAT " bytes without a newline: closing\","
                                  "\"exception\":\"WireProtocolError\"}]\n", c->srv->max_line);
        send_all(c, m, strlen(m));
        g_free(m);
        return FALSE;
    }
    return ok;
}

static void *conn_main(void *data)
{
    wire_conn *c = data;
    tf_wire_server *srv = c->srv;
    GString *buf = g_string_new(NULL);
    gsize scanned = 0;
    char chunk[8192];
    for (;;) {
        struct pollfd p[2] = {{c->fd, POLLIN, 0}, {srv->wake[0], POLLIN, 0}};
        int r = poll(p, 2, -1); /* idle connections wait for the client or the stop */
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || p[1].revents)
            break;
        ssize_t n = recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n <= 0)
            break;
        g_string_append_len(buf, chunk, n);
        if (!serve_lines(c, buf, &scanned))
            break;
    }
    g_string_free(buf, TRUE);
    tf_mutex_lock(&srv->lock);
    g_ptr_array_remove_fast(srv->conns, c);
    tf_mutex_unlock(&srv->lock);
    /* Out of the list: a stop no longer interrupts it, and the After hooks and cleanups of
     * an open scenario (a client gone mid-scenario) run to the end. */
    tf_wire_session_free(c->session);
    close(c->fd);
    note(srv, "%s: connection closed", c->peer);
    g_free(c);
    tf_mutex_lock(&srv->lock);
    if (--srv->threads == 0)
        tf_cond_broadcast(&srv->idle);
    tf_mutex_unlock(&srv->lock);
    return NULL;
}

static void peer_name(const struct sockaddr_storage *ss, char *out, gsize size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    guint port = 0;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    }
    g_snprintf(out, size, "%s:%u", host, port);
}

static void *accept_main(void *data)
{
    tf_wire_server *srv = data;
    for (;;) {
        struct pollfd p[2] = {{srv->listen_fd, POLLIN, 0}, {srv->wake[0], POLLIN, 0}};
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || p[1].revents)
            break;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(srv->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                       errno == ENOMEM)) {
            /* Out of descriptors: the pending client stays queued and the listener stays
             * ready, so wait for a connection to close (or the stop) instead of spinning. */
            note(srv, "accept: %s (retrying in 1 s)", g_strerror(errno));
            struct pollfd w = {srv->wake[0], POLLIN, 0};
            if (poll(&w, 1, 1000) > 0)
                break;
            continue;
        }
        if (fd < 0)
            continue; /* the client gave up before we took it (ECONNABORTED) or EINTR */
        wire_conn *c = g_new0(wire_conn, 1);
        c->srv = srv;
        c->fd = fd;
        peer_name(&ss, c->peer, sizeof c->peer);
        c->session = tf_wire_session_new(srv->reg, srv->step_timeout_us, srv->log);
        if (srv->store)
            tf_wire_session_use_store(c->session, srv->store, srv->store_run);
        note(srv, "%s: connected", c->peer);
        tf_mutex_lock(&srv->lock);
        gboolean refused = srv->stopping;
        if (!refused) {
            g_ptr_array_add(srv->conns, c);
            srv->threads++;
        }
        tf_mutex_unlock(&srv->lock);
        pthread_t t;
        if (refused || pthread_create(&t, NULL, conn_main, c) != 0) {
            tf_mutex_lock(&srv->lock);
            if (!refused) {
                g_ptr_array_remove_fast(srv->conns, c);
                srv->threads--;
            }
            tf_mutex_unlock(&srv->lock);
            tf_wire_session_free(c->session);
            close(fd);
            g_free(c);
            continue;
        }
        pthread_detach(t); /* c is the thread's now */
    }
    return NULL;
}

gboolean tf_wire_server_start(tf_wire_server *s, GError **error)
{
    if (!tf_wire_global_hooks(s->reg, TF_HOOK_BEFORE_ALL, s->step_timeout_us, error))
        return FALSE;
    if (pthread_create(&s->accept_thread, NULL, accept_main, s) != 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "cannot start the accept thread");
        return FALSE;
    }
    s->started = TRUE;
    return TRUE;
}

void tf_wire_server_free(tf_wire_server *s)
{
    if (!s)
        return;
    tf_mutex_lock(&s->lock);
    s->stopping = TRUE;
    for (guint i = 0; i < s->conns->len; i++) {
        wire_conn *c = g_ptr_array_index(s->conns, i);
        tf_exec_interrupt(tf_wire_session_exec(c->session));
    }
    tf_mutex_unlock(&s->lock);
    while (write(s->wake[1], "x", 1) < 0 && errno == EINTR)
        ;
    if (s->started)
        pthread_join(s->accept_thread, NULL);
    tf_mutex_lock(&s->lock);
    while (s->threads > 0)
        tf_cond_wait(&s->idle, &s->lock);
    tf_mutex_unlock(&s->lock);
    if (s->started) {
        GError *err = NULL;
        if (!tf_wire_global_hooks(s->reg, TF_HOOK_AFTER_ALL, s->step_timeout_us, &err)) {
            note(s, "%s", err->message);
            g_error_free(err);
        }
    }
    close(s->listen_fd);
    close(s->wake[0]);
    close(s->wake[1]);
    g_ptr_array_unref(s->conns);
    tf_cond_clear(&s->idle);
    tf_mutex_clear(&s->lock);
    g_free(s);
}
