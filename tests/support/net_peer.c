/* net_peer.c: see net_peer.h. The peer is libmicrohttpd on the member's address; its
 * outgoing test connection is a raw socket with a deadline, so a dropped SYN shows as a
 * timeout, as it would for any client. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <jansson.h>
#include "net_peer.h"
#include "skip.h"

#define CONNECT_TIMEOUT_MS 1500

static int ms_left(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();
    return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

/* Connects to host:port, sends GET /ping, expects "pong" before the deadline. */
static gboolean try_ping(const char *target, GString *why)
{
    gchar **hp = g_strsplit(target, ":", 2);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    gboolean ok = hp[0] && hp[1] && inet_pton(AF_INET, hp[0], &sa.sin_addr) == 1;
    sa.sin_port = htons((uint16_t)(ok ? atoi(hp[1]) : 0));
    g_strfreev(hp);
    if (!ok) {
        g_string_append(why, "bad target");
        return FALSE;
    }
    gint64 deadline = g_get_monotonic_time() + CONNECT_TIMEOUT_MS * 1000;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        g_string_append_printf(why, "connect: %s", g_strerror(errno));
        close(fd);
        return FALSE;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, ms_left(deadline)) <= 0) {
        g_string_append(why, "connect: timed out");
        close(fd);
        return FALSE;
    }
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        g_string_append_printf(why, "connect: %s", g_strerror(err));
        close(fd);
        return FALSE;
    }
    const char req[] = "GET /ping HTTP/1.0\r\n\r\n";
    (void)!send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
    GString *resp = g_string_new(NULL);
    char buf[512];
    for (;;) {
        p.events = POLLIN;
        if (poll(&p, 1, ms_left(deadline)) <= 0)
            break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        g_string_append_len(resp, buf, n);
    }
    close(fd);
    ok = strstr(resp->str, "pong") != NULL;
    if (!ok)
        g_string_append_printf(why, "no pong (%zu bytes)", resp->len);
    g_string_free(resp, TRUE);
    return ok;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
    if (!*state) { /* first call: headers only */
        *state = conn;
        return MHD_YES;
    }
    unsigned status = 200;
    gchar *body;
    if (!strcmp(url, "/health") || !strcmp(url, "/ping")) {
        body = g_strdup(!strcmp(url, "/ping") ? "pong" : "{\"ok\":true}");
    } else if (!strcmp(url, "/connect")) {
        const char *to = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "to");
        GString *why = g_string_new(NULL);
        gboolean ok = to && try_ping(to, why);
        json_t *j = json_pack("{s:b, s:s}", "reached", ok, "why", why->str);
        body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        g_string_free(why, TRUE);
    } else {
        status = 404;
        body = g_strdup("{}");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

void net_peer_maybe_run(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], NET_PEER_FLAG))
        return;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1)
        _exit(2);
    sigset_t set; /* blocked before the server's threads exist, so sigwait gets it */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, answer, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "net peer: cannot listen on %s:%s: %s\n", argv[2], argv[3], g_strerror(errno));
        _exit(1);
    }
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    _exit(0);
}

void net_test_need_namespaces(void)
{
    static const char *const tools[][2] = {{"ip", "iproute2"}, {"iptables-restore", "iptables"}};
    for (guint i = 0; i < G_N_ELEMENTS(tools); i++) {
        gchar *path = g_find_program_in_path(tools[i][0]);
        for (const char *const *d = (const char *const[]){"/usr/sbin", "/sbin", NULL}; !path && *d; d++) {
            gchar *p = g_build_filename(*d, tools[i][0], NULL);
            if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE))
                path = p;
            else
                g_free(p);
        }
        if (!path)
            tf_test_skip_all(TF_NEED_REQUIRED, "%s is not installed (Debian package %s, which "
                             "scripts/install-deps.sh installs)", tools[i][0], tools[i][1]);
        g_free(path);
    }
    GError *e = NULL;
    if (!tf_cluster_network_usable(&e))
        tf_test_skip_all(TF_NEED_OPTIONAL, "%s", e->message);
}

tf_cluster_spec *net_peer_spec(guint n)
{
    gchar *exe = g_file_read_link("/proc/self/exe", NULL);
    json_t *root = json_pack(
        "{s:s, s:s, s:i, s:[s], s:[s, s, s], s:{s:s, s:i, s:i}, s:{s:s}, s:s, s:i}",
        "name", "net-peers", "binary", exe, "nodes", (int)n, "ports", "http",
        "argv", NET_PEER_FLAG, "{address}", "{port.http}",
        "ready", "http", "http://{address}:{port.http}/health", "timeout_ms", 20000, "interval_ms", 20,
        "source", "url", "http://{address}:{port.http}", "network", "namespaces",
        "stop_grace_ms", 2000);
    GError *e = NULL;
    tf_cluster_spec *s = tf_cluster_spec_from_json(root, "net-peers.json", &e);
    if (!s)
        g_error("net_peer_spec: %s", e->message);
    json_decref(root);
    g_free(exe);
    return s;
}

static gchar *connect_url(tf_cluster *c, guint from, guint to)
{
    return g_strdup_printf("%s/connect?to=%s:%u", tf_cluster_node_url(c, from),
                           tf_cluster_node_address(c, to), tf_cluster_node_port(c, to, "http"));
}

static gboolean reached(tf_http_req *r)
{
    json_t *j = tf_http_req_json(r, NULL);
    gboolean ok = j && json_is_true(json_object_get(j, "reached"));
    json_decref(j);
    return ok;
}

gboolean net_peer_reaches(tf_http *http, tf_cluster *c, guint from, guint to)
{
    tf_http_batch *b = tf_http_batch_new(http);
    gchar *url = connect_url(c, from, to);
    tf_http_req *r = tf_http_batch_add(b, "connect", "GET", url, NULL, 5 * G_USEC_PER_SEC);
    tf_http_batch_run(b);
    gboolean ok = reached(r);
    tf_http_batch_free(b);
    g_free(url);
    return ok;
}

gboolean *net_peer_matrix(tf_http *http, tf_cluster *c)
{
    guint n = tf_cluster_size(c);
    gboolean *m = g_new0(gboolean, n * n);
    tf_http_batch *b = tf_http_batch_new(http);
    for (guint f = 0; f < n; f++)
        for (guint t = 0; t < n; t++) {
            if (f == t)
                continue;
            gchar *url = connect_url(c, f, t);
            tf_http_batch_add(b, "connect", "GET", url, NULL, 5 * G_USEC_PER_SEC);
            g_free(url);
        }
    tf_http_batch_run(b);
    guint k = 0;
    for (guint f = 0; f < n; f++)
        for (guint t = 0; t < n; t++)
            m[f * n + t] = f == t ? TRUE : reached(tf_http_batch_req(b, k++));
    tf_http_batch_free(b);
    return m;
}

gchar *net_peer_matrix_text(tf_cluster *c, const gboolean *m)
{
    guint n = tf_cluster_size(c);
    GString *s = g_string_new(NULL);
    for (guint f = 0; f < n; f++)
        for (guint t = 0; t < n; t++)
            if (f != t)
                g_string_append_printf(s, "%s%s->%s %s", s->len ? ", " : "", tf_cluster_node_name(c, f),
                                       tf_cluster_node_name(c, t), m[f * n + t] ? "ok" : "CUT");
    return g_string_free(s, FALSE);
}
