/* probe.c: readiness probes, one attempt each: an HTTP request or a TCP connect.
 * A tiny blocking-with-deadline HTTP/1.1 client on a raw socket: the launcher must not
 * depend on the observation stack it exists to test, and probes only ever talk to the
 * node itself: 127.0.0.1, or its own address in its network namespace. Success is a 2xx
 * status (etcd's /health is 503 while it has no leader). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tf/error.h"
#include "cluster_priv.h"

#define TF_PROBE_MAX_RESPONSE 8192

static int ms_left(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();
    return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

/* Waits for events on fd until deadline. FALSE + error on timeout or poll failure. */
static gboolean wait_fd(int fd, short events, gint64 deadline, const char *doing,
                        gint64 timeout_us, GError **error)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, ms_left(deadline));
        if (rc > 0)
            return TRUE;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            g_set_error(error, TF_ERROR, TF_ERROR_TIMEOUT, "%s: timed out after %d ms", doing,
                        (int)(timeout_us / 1000));
        else
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: poll: %s", doing, g_strerror(errno));
        return FALSE;
    }
}

static int connect_node(const char *host, guint port, gint64 deadline, gint64 timeout_us,
                        GError **error)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "socket: %s", g_strerror(errno));
        return -1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host ? host : "127.0.0.1", &sa.sin_addr) != 1) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "'%s' is not an IPv4 address", host);
        close(fd);
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno != EINPROGRESS) {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "connect: %s", g_strerror(errno));
            close(fd);
            return -1;
        }
        if (!wait_fd(fd, POLLOUT, deadline, "connect", timeout_us, error)) {
            close(fd);
            return -1;
        }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "connect: %s", g_strerror(err));
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* Accepts only http://127.0.0.1:PORT/..., http://localhost:PORT/... or the node's own
 * address (host): probes never leave the machine. *loopback tells which was named. */
static gboolean parse_url(const char *url, const char *host, gboolean *loopback, guint *port,
                          const char **path, GError **error)
{
    const char *rest = NULL;
    gchar *own = g_strdup_printf("http://%s:", host ? host : "127.0.0.1");
    *loopback = TRUE;
    if (g_str_has_prefix(url, "http://127.0.0.1:"))
        rest = url + strlen("http://127.0.0.1:");
    else if (g_str_has_prefix(url, "http://localhost:"))
        rest = url + strlen("http://localhost:");
    else if (g_str_has_prefix(url, own))
        rest = url + strlen(own), *loopback = FALSE;
    g_free(own);
    if (!rest) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "URL must be http://127.0.0.1:PORT/... or the node's own address");
        return FALSE;
    }
    char *end = NULL;
    unsigned long p = strtoul(rest, &end, 10);
    if (end == rest || p == 0 || p > 65535 || (*end && *end != '/')) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "URL has no valid port");
        return FALSE;
    }
    *port = (guint)p;
    *path = *end ? end : "/";
    return TRUE;
}

static gboolean send_all(int fd, const char *buf, gsize len, gint64 deadline, gint64 timeout_us,
                         GError **error)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n, len -= (gsize)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(fd, POLLOUT, deadline, "send", timeout_us, error))
                return FALSE;
        } else {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "send: %s", g_strerror(errno));
            return FALSE;
        }
    }
    return TRUE;
}

/* Reads until the peer closes (we asked for Connection: close), the buffer is full, or
 * the deadline passes with at least a status line in hand. */
static gboolean read_response(int fd, GString *resp, gint64 deadline, gint64 timeout_us,
                              GError **error)
{
    char buf[2048];
    while (resp->len < TF_PROBE_MAX_RESPONSE) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            g_string_append_len(resp, buf, n);
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            GError *tmo = NULL;
            if (!wait_fd(fd, POLLIN, deadline, "response", timeout_us, &tmo)) {
                if (strstr(resp->str, "\r\n")) {
                    g_error_free(tmo);
                    break;
                }
                g_propagate_error(error, tmo);
                return FALSE;
            }
        } else {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "recv: %s", g_strerror(errno));
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean probe_http(const tf_probe *p, gint64 timeout_us, GError **error)
{
    guint port;
    const char *path;
    gboolean loopback;
    if (!parse_url(p->target, p->host, &loopback, &port, &path, error))
        return FALSE;
    const char *host = loopback ? "127.0.0.1" : p->host;
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    int fd = connect_node(host, port, deadline, timeout_us, error);
    if (fd < 0)
        return FALSE;
    const char *method = p->method ? p->method : "GET";
    GString *req = g_string_new(NULL);
    g_string_append_printf(req, "%s %s HTTP/1.1\r\nHost: %s:%u\r\n"
                                "Connection: close\r\nUser-Agent: tf-cluster-probe\r\n",
                           method, path, host, port);
    if (p->user) {
        gchar *cred = g_strdup_printf("%s:%s", p->user, p->password ? p->password : "");
        gchar *b64 = g_base64_encode((const guchar *)cred, strlen(cred));
        g_string_append_printf(req, "Authorization: Basic %s\r\n", b64);
        memset(cred, 0, strlen(cred));
        g_free(cred);
        g_free(b64);
    }
    if (p->body)
        g_string_append_printf(req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                               strlen(p->body));
    g_string_append(req, "\r\n");
    if (p->body)
        g_string_append(req, p->body);
    GString *resp = g_string_new(NULL);
    gboolean ok = send_all(fd, req->str, req->len, deadline, timeout_us, error) &&
                  read_response(fd, resp, deadline, timeout_us, error);
    close(fd);
    g_string_free(req, TRUE);
    if (ok) {
        int status = 0;
        if (sscanf(resp->str, "HTTP/%*d.%*d %d", &status) != 1) {
            g_set_error(error, TF_ERROR, TF_ERROR_HTTP, "not an HTTP response (%zu bytes)",
                        resp->len);
            ok = FALSE;
        } else if (status < 200 || status > 299) {
            const char *body = strstr(resp->str, "\r\n\r\n");
            gchar *shown = g_strndup(body ? body + 4 : "", 200);
            g_strstrip(shown);
            g_set_error(error, TF_ERROR, TF_ERROR_HTTP, "HTTP %d%s%s", status, *shown ? ": " : "",
                        shown);
            g_free(shown);
            ok = FALSE;
        }
    }
    g_string_free(resp, TRUE);
    return ok;
}

static gboolean probe_tcp(const tf_probe *p, gint64 timeout_us, GError **error)
{
    char *end = NULL;
    unsigned long port = strtoul(p->target, &end, 10);
    if (end == p->target || *end || port == 0 || port > 65535) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "'%s' is not a port", p->target);
        return FALSE;
    }
    int fd = connect_node(p->host, (guint)port, g_get_monotonic_time() + timeout_us, timeout_us,
                          error);
    if (fd < 0)
        return FALSE;
    close(fd);
    return TRUE;
}

gboolean tf_cluster_probe_once(const tf_probe *p, gint64 timeout_us, GError **error)
{
    return p->kind == TF_PROBE_HTTP ? probe_http(p, timeout_us, error)
                                    : probe_tcp(p, timeout_us, error);
}

gchar *tf_cluster_probe_describe(const tf_probe *p)
{
    if (p->kind == TF_PROBE_TCP)
        return g_strdup_printf("tcp %s:%s", p->host ? p->host : "127.0.0.1", p->target);
    return g_strdup_printf("%s %s", p->method ? p->method : "GET", p->target);
}

void tf_cluster_probe_clear(tf_probe *p)
{
    g_free(p->target);
    g_free(p->method);
    g_free(p->body);
    g_free(p->user);
    g_free(p->host);
    if (p->password)
        memset(p->password, 0, strlen(p->password));
    g_free(p->password);
    memset(p, 0, sizeof *p);
}
