/* test_http1.c: tf's own HTTP/1.1 client (tf/net/http1.c) against a scripted server that
 * answers each request with given bytes, in pieces: chunked bodies with extensions and
 * trailers, heads split across reads, interim 100 answers, "Connection: close" and
 * HTTP/1.0 bodies that end with the connection, a kept connection found dead (sent once
 * more on a new one), empty and truncated answers, garbage, the exact bytes of a request,
 * an IPv6 address literal, and which batches go to libcurl instead. The common behaviour of both ways to send is
 * in test_http.c and test_http_errors.c, which ctest runs with each. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "fixture_http.h"
#include "skip.h"
#include "tf/error.h"
#include "tf/http.h"

#define SEC G_USEC_PER_SEC

/* Internal (net/http_priv.h). */
guint64 tf_http_requests_own(const tf_http *h);

/* What the server does with the next request it reads. */
typedef struct {
    const char *answer;     /* bytes to write (NULL: none) */
    guint piece;            /* write them this many bytes at a time (0: at once) */
    gboolean close;         /* then close the connection */
} step;

/* A server on 127.0.0.1 serving one connection at a time, the steps in order. */
typedef struct {
    int lfd;
    guint16 port;
    GThread *thread;
    const step *steps;
    guint n_steps;
    gint next;              /* atomic: steps taken */
    gint connections;       /* atomic: connections accepted */
    gint stop;              /* atomic */
    GMutex lock;
    GString *last;          /* the last request read, whole */
} script;

/* Reads one whole request (head, and a body of its Content-Length) into req; FALSE when
 * the connection ends first or the test stops. */
static gboolean read_request(script *s, int fd, GString *req)
{
    char buf[4096];
    g_string_truncate(req, 0);
    for (;;) {
        const char *end = strstr(req->str, "\r\n\r\n");
        if (end) {
            const char *cl = g_strstr_len(req->str, end - req->str, "Content-Length: ");
            gsize want = (gsize)(end - req->str) + 4 + (cl ? strtoul(cl + 16, NULL, 10) : 0);
            if (req->len >= want)
                return TRUE;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) == 0) {
            if (g_atomic_int_get(&s->stop))
                return FALSE;
            continue;
        }
        gssize n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return FALSE;
        g_string_append_len(req, buf, n);
    }
}

static gpointer serve(gpointer data)
{
    script *s = data;
    GString *req = g_string_new(NULL);
    while (!g_atomic_int_get(&s->stop)) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        g_atomic_int_inc(&s->connections);
        while (read_request(s, fd, req)) {
            g_mutex_lock(&s->lock);
            g_string_assign(s->last, req->str);
            g_mutex_unlock(&s->lock);
            guint i = (guint)g_atomic_int_add(&s->next, 1);
            const step *st = i < s->n_steps ? &s->steps[i] : &(step){"HTTP/1.1 500 No step\r\nContent-Length: 0\r\n\r\n", 0, TRUE};
            gsize len = st->answer ? strlen(st->answer) : 0, piece = st->piece ? st->piece : len;
            for (gsize at = 0; at < len; at += piece) {
                if (send(fd, st->answer + at, MIN(piece, len - at), MSG_NOSIGNAL) < 0)
                    break;
                if (st->piece)
                    g_usleep(500);
            }
            if (st->close)
                break;
        }
        close(fd);
    }
    g_string_free(req, TRUE);
    return NULL;
}

/* A server on the loopback address of `family` (AF_INET, AF_INET6), or NULL when the
 * machine has none. */
static script *script_start_on(int family, const step *steps, guint n)
{
    struct sockaddr_storage a = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        len = sizeof *v6;
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *v4;
    }
    int lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, len) != 0) {
        if (lfd >= 0)
            close(lfd);
        return NULL;
    }
    assert_int_equal(listen(lfd, 16), 0);
    getsockname(lfd, (struct sockaddr *)&a, &len);
    script *s = g_new0(script, 1);
    s->steps = steps;
    s->n_steps = n;
    s->last = g_string_new(NULL);
    g_mutex_init(&s->lock);
    s->lfd = lfd;
    s->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port : ((struct sockaddr_in *)&a)->sin_port);
    s->thread = g_thread_new("script", serve, s);
    return s;
}

static script *script_start(const step *steps, guint n)
{
    script *s = script_start_on(AF_INET, steps, n);
    assert_non_null(s);
    return s;
}

static void script_free(script *s)
{
    g_atomic_int_set(&s->stop, 1);
    g_thread_join(s->thread);
    close(s->lfd);
    g_string_free(s->last, TRUE);
    g_mutex_clear(&s->lock);
    g_free(s);
}

static char *script_url(script *s, const char *path)
{
    return g_strdup_printf("http://127.0.0.1:%u%s", s->port, path);
}

/* One request on h; its body, or NULL with *err set. */
static char *fetch(tf_http *h, const char *method, const char *url, const char *body, GError **err)
{
    tf_http_batch *b = tf_http_batch_new(h);
    tf_http_req *r = tf_http_batch_add(b, "n", method, url, body, 5 * SEC);
    tf_http_batch_run(b);
    char *out = tf_http_req_ok(r, err) ? g_strdup(tf_http_req_body(r, NULL)) : NULL;
    tf_http_batch_free(b);
    return out;
}

static void want_body(tf_http *h, const char *url, const char *want)
{
    GError *err = NULL;
    char *got = fetch(h, "GET", url, NULL, &err);
    if (!got)
        fail_msg("%s", err->message);
    assert_string_equal(got, want);
    g_free(got);
}

static void want_error(tf_http *h, const char *url, const char *part)
{
    GError *err = NULL;
    char *got = fetch(h, "GET", url, NULL, &err);
    if (got)
        fail_msg("answered %s, expected an error with \"%s\"", got, part);
    if (!strstr(err->message, part))
        fail_msg("\"%s\" is not in: %s", part, err->message);
    g_error_free(err);
}

static void test_chunked_and_split(void **unused)
{
    static const step steps[] = {
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4;ext=1\r\n{\"a\"\r\n6\r\n: [1]}\r\n0\r\nX-Trailer: t\r\n\r\n", 1, FALSE},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Long: 0123456789012345678901234567890\r\n\r\nhello", 3, FALSE},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", 0, FALSE},
        {"HTTP/1.1 204 No Content\r\n\r\n", 0, FALSE},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, FALSE},
    };
    script *s = script_start(steps, G_N_ELEMENTS(steps));
    tf_http *h = tf_http_new();
    char *url = script_url(s, "/x");
    want_body(h, url, "{\"a\": [1]}");  /* chunked, one byte a read */
    want_body(h, url, "hello");         /* every boundary split */
    want_body(h, url, "{}");            /* an interim answer first */
    want_body(h, url, "");              /* no body at all */
    want_body(h, url, "");              /* an empty chunked body */
    assert_int_equal(g_atomic_int_get(&s->connections), 1); /* one kept connection */
    assert_int_equal(tf_http_requests_own(h), 5);
    g_free(url);
    tf_http_free(h);
    script_free(s);
}

static void test_bodies_to_the_close(void **unused)
{
    static const step steps[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n1", 0, TRUE},
        {"HTTP/1.0 200 OK\r\n\r\n[1,2]", 2, TRUE},       /* HTTP/1.0, no length */
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n3", 0, FALSE},
    };
    script *s = script_start(steps, G_N_ELEMENTS(steps));
    tf_http *h = tf_http_new();
    char *url = script_url(s, "/x");
    want_body(h, url, "1");
    want_body(h, url, "[1,2]");
    want_body(h, url, "3");
    assert_int_equal(g_atomic_int_get(&s->connections), 3);
    g_free(url);
    tf_http_free(h);
    script_free(s);
}

static void test_dead_kept_connection_sent_again(void **unused)
{
    static const step steps[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", 0, FALSE},
        {NULL, 0, TRUE},   /* the kept connection dies as the second request arrives */
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2", 0, FALSE},
        {NULL, 0, TRUE},   /* a new connection that dies: no second try */
    };
    script *s = script_start(steps, G_N_ELEMENTS(steps));
    tf_http *h = tf_http_new();
    char *url = script_url(s, "/x");
    want_body(h, url, "1");
    want_body(h, url, "2");
    assert_int_equal(g_atomic_int_get(&s->next), 3);
    assert_int_equal(g_atomic_int_get(&s->connections), 2);
    /* The kept connection answered "2" is used again: it dies now, and its retry on a
     * new connection meets no step: 500. */
    want_error(h, url, "HTTP 500");
    assert_int_equal(g_atomic_int_get(&s->next), 5);
    g_free(url);
    tf_http_free(h);
    script_free(s);
}

static void test_broken_answers(void **unused)
{
    static char endless[70 * 1024 + 1]; /* a head that never ends */
    memset(endless, 'A', sizeof endless - 1);
    const step steps[] = {
        {NULL, 0, TRUE},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", 0, TRUE},
        {"SSH-2.0-OpenSSH_9.2\r\n\r\n", 0, TRUE},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, TRUE},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n1", 0, TRUE},
        {"HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, TRUE},
        {endless, 0, TRUE},
    };
    script *s = script_start(steps, G_N_ELEMENTS(steps));
    tf_http *h = tf_http_new();
    char *url = script_url(s, "/x");
    want_error(h, url, "empty reply from server");
    want_error(h, url, "closed after 44 bytes, before the end of the answer");
    want_error(h, url, "not an HTTP/1.x answer: SSH-2.0-OpenSSH_9.2\\r\\n");
    want_error(h, url, "bad chunk size line: zz\\r\\n");
    want_error(h, url, "bad Content-Length: 1x");
    want_error(h, url, "switched protocols");
    want_error(h, url, "answer head over 64 KiB");
    assert_int_equal(g_atomic_int_get(&s->next), 7); /* a new connection each: no retries */
    g_free(url);
    tf_http_free(h);
    script_free(s);
}

/* The head the server read, without its Host line's port (which varies). */
static char *last_request(script *s)
{
    g_mutex_lock(&s->lock);
    char *port = g_strdup_printf(":%u\r\n", s->port);
    char **parts = g_strsplit(s->last->str, port, -1);
    char *out = g_strjoinv("\r\n", parts);
    g_strfreev(parts);
    g_free(port);
    g_mutex_unlock(&s->lock);
    return out;
}

static void test_request_bytes(void **unused)
{
    static const step ok = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0, FALSE};
    static step steps[4];
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++)
        steps[i] = ok;
    script *s = script_start(steps, G_N_ELEMENTS(steps));
    tf_http *h = tf_http_new();
    char *url = script_url(s, "/p?q=1#fragment");
    tf_http_batch *b = tf_http_batch_new(h);
    tf_http_req *r = tf_http_batch_add(b, "n", "GET", url, NULL, 5 * SEC);
    tf_http_req_header(r, "X-A: 1");
    tf_http_req_header(r, "Expect:");
    tf_http_req_basic_auth(r, "carol", "pw");
    tf_http_batch_run(b);
    assert_true(tf_http_req_ok(r, NULL));
    char *seen = last_request(s);
    assert_string_equal(seen, "GET /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic Y2Fyb2w6cHc=\r\n"
                              "Accept: */*\r\nX-A: 1\r\n\r\n");
    g_free(seen);
    tf_http_batch_free(b);
    /* A body without a type goes as libcurl sends fields; an empty POST says length 0. */
    char *bare = script_url(s, "");
    GError *err = NULL;
    g_free(fetch(h, "PUT", bare, "{}", &err));
    seen = last_request(s);
    assert_string_equal(seen, "PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2\r\n\r\n{}");
    g_free(seen);
    g_free(fetch(h, "POST", bare, NULL, &err));
    seen = last_request(s);
    assert_string_equal(seen, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n");
    g_free(seen);
    /* JSON, and a default left out */
    b = tf_http_batch_new(h);
    json_t *j = json_pack("{s:i}", "k", 1);
    r = tf_http_batch_add_json(b, "n", bare, j, 5 * SEC);
    tf_http_req_header(r, "Accept:");
    tf_http_batch_run(b);
    assert_true(tf_http_req_ok(r, NULL));
    seen = last_request(s);
    assert_string_equal(seen, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: 7\r\n\r\n{\"k\":1}");
    g_free(seen);
    json_decref(j);
    tf_http_batch_free(b);
    assert_int_equal(tf_http_requests_own(h), 4);
    g_free(bare);
    g_free(url);
    tf_http_free(h);
    script_free(s);
}

/* An IPv6 address literal is carried too; its Host header keeps the brackets. */
static void test_ipv6_literal(void **unused)
{
    static const step steps[] = {{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n[42]", 0, FALSE}};
    script *s = script_start_on(AF_INET6, steps, G_N_ELEMENTS(steps));
    if (!s)
        tf_test_skip(TF_NEED_OPTIONAL, "IPv6 loopback: ::1 cannot be bound here (%s)", g_strerror(errno));
    tf_http *h = tf_http_new();
    char *url = g_strdup_printf("http://[::1]:%u/six", s->port);
    want_body(h, url, "[42]");
    assert_int_equal(tf_http_requests_own(h), 1);
    g_mutex_lock(&s->lock);
    char *host = g_strdup_printf("\r\nHost: [::1]:%u\r\n", s->port);
    assert_non_null(strstr(s->last->str, host));
    assert_true(g_str_has_prefix(s->last->str, "GET /six HTTP/1.1\r\n"));
    g_mutex_unlock(&s->lock);
    g_free(host);
    g_free(url);
    tf_http_free(h);
    script_free(s);
}

/* Requests this client does not carry, and batches holding one, go to libcurl whole. */
static void test_what_goes_to_libcurl(void **unused)
{
    fixture_http *f = fixture_http_start();
    fixture_http_route_json(f, "/v", "1");
    tf_http *h = tf_http_new();
    guint port = fixture_http_port(f);
    char *plain = g_strdup_printf("http://127.0.0.1:%u/v", port);
    char *named = g_strdup_printf("http://localhost:%u/v", port);
    char *creds = g_strdup_printf("http://u:p@127.0.0.1:%u/v", port);
    char *space = g_strdup_printf("http://127.0.0.1:%u/a b", port);
    struct {
        const char *url, *method, *header;
        gboolean fresh;
    } curl_cases[] = {
        {named, "GET", NULL, FALSE},
        {creds, "GET", NULL, FALSE},
        {space, "GET", NULL, FALSE},
        {plain, "HEAD", NULL, FALSE},
        {plain, "OPTIONS", NULL, FALSE},
        {plain, "GET", "Host: other", FALSE},
        {plain, "GET", "Connection: close", FALSE},
        {plain, "GET", "X-Empty;", FALSE},
        {plain, "GET", NULL, TRUE},
        {"https://127.0.0.1:1/v", "GET", NULL, FALSE},
        {"http://[::1:1/v", "GET", NULL, FALSE},
        {"http://127.0.0.1:99999/v", "GET", NULL, FALSE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(curl_cases); i++) {
        tf_http_batch *b = tf_http_batch_new(h);
        tf_http_req *r = tf_http_batch_add(b, "n", curl_cases[i].method, curl_cases[i].url, NULL, SEC);
        if (curl_cases[i].header)
            tf_http_req_header(r, curl_cases[i].header);
        if (curl_cases[i].fresh)
            tf_http_req_fresh_connection(r);
        tf_http_batch_run(b);
        if (tf_http_requests_own(h) != 0)
            fail_msg("case %u (%s %s %s): sent by tf's own client", i, curl_cases[i].method,
                     curl_cases[i].url, curl_cases[i].header ? curl_cases[i].header : "");
        tf_http_batch_free(b);
    }
    /* A batch with one such request goes whole; without, whole here. */
    tf_http_batch *b = tf_http_batch_new(h);
    tf_http_batch_add(b, "n", "GET", plain, NULL, SEC);
    tf_http_req *r = tf_http_batch_add(b, "n", "GET", named, NULL, SEC);
    tf_http_batch_run(b);
    assert_int_equal(tf_http_requests_own(h), 0);
    assert_true(tf_http_req_ok(tf_http_batch_req(b, 0), NULL) && tf_http_req_ok(r, NULL));
    tf_http_batch_free(b);
    want_body(h, plain, "1");
    assert_int_equal(tf_http_requests_own(h), 1);
    /* A request that gains a header it cannot carry goes to libcurl from then on. */
    b = tf_http_batch_new(h);
    r = tf_http_batch_add(b, "n", "GET", plain, NULL, SEC);
    tf_http_batch_run(b);
    assert_int_equal(tf_http_requests_own(h), 2);
    tf_http_req_header(r, "Connection: close");
    tf_http_batch_run(b);
    assert_int_equal(tf_http_requests_own(h), 2);
    assert_true(tf_http_req_ok(r, NULL));
    tf_http_batch_free(b);
    g_free(plain);
    g_free(named);
    g_free(creds);
    g_free(space);
    tf_http_free(h);
    fixture_http_free(f);
}

int main(void)
{
    g_unsetenv("TF_HTTP_CURL"); /* this is the test of the other way */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunked_and_split),
        cmocka_unit_test(test_bodies_to_the_close),
        cmocka_unit_test(test_dead_kept_connection_sent_again),
        cmocka_unit_test(test_broken_answers),
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_ipv6_literal),
        cmocka_unit_test(test_what_goes_to_libcurl),
    };
    return tf_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
