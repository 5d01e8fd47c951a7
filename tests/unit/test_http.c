/* test_http.c: tf_http against the in-process fixture server: JSON GET/POST, concurrent
 * batches, connection reuse across batches, easy handles reused by configuration (each
 * request still sends exactly its own method, body, headers and credentials; idle handles
 * stay bounded), kept connections whose server went away (no hang, no busy loop),
 * interrupts from another thread, unsent batches and the tf_http_json shortcut. Failures
 * are in test_http_errors.c. */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <sys/resource.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "fixture_http_env.h"

/* Internal (net/http_priv.h): idle easy handles and connections the client keeps; the
 * requests tf's own HTTP/1.1 client sent (every plain one here, unless TF_HTTP_CURL=1). */
guint tf_http_idle_handles(const tf_http *h);
guint64 tf_http_requests_own(const tf_http *h);

static void test_get_json(void **state)
{
    env *e = *state;
    fixture_http_route_json(e->f, "/v", "{\"a\": 1, \"b\": [true]}");
    char *url = fixture_http_url(e->f, "/v");
    tf_http_batch *b = run_one(e, "n1", "GET", url, NULL, 5 * SEC);
    tf_http_req *r = tf_http_batch_req(b, 0);
    GError *err = NULL;
    json_t *v = tf_http_req_json(r, &err);
    if (!v)
        fail_msg("%s", err->message);
    assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
    assert_int_equal(tf_http_req_status(r), 200);
    gsize len;
    assert_string_equal(tf_http_req_body(r, &len), "{\"a\": 1, \"b\": [true]}");
    assert_int_equal(len, strlen("{\"a\": 1, \"b\": [true]}"));
    assert_true(tf_http_req_duration(r) > 0);
    assert_int_equal(tf_http_requests_sent(e->h), 1);
    /* ctest runs this test twice: with tf's own client, and all on libcurl */
    assert_int_equal(tf_http_requests_own(e->h), g_strcmp0(g_getenv("TF_HTTP_CURL"), "1") ? 1 : 0);
    assert_int_equal(fixture_http_requests_to(e->f, "/v"), 1);
    char *method = fixture_http_last_method(e->f, "/v");
    assert_string_equal(method, "GET");
    g_free(method);
    json_decref(v);
    tf_http_batch_free(b);
    g_free(url);
}

/* Answers {"method": M, "got": <request body as JSON>}. */
static void echo(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    if (req->body_len == 0)
        g_string_printf(resp->body, "{\"method\": \"%s\", \"got\": null}", req->method);
    else
        g_string_printf(resp->body, "{\"method\": \"%s\", \"got\": %.*s}", req->method,
                        (int)req->body_len, req->body);
}

static void test_post_json(void **state)
{
    env *e = *state;
    fixture_http_route_handler(e->f, "/echo", echo, NULL);
    char *url = fixture_http_url(e->f, "/echo");
    json_t *body = json_pack("{s:[i,i], s:s}", "x", 1, 2, "y", "z");
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_req *r = tf_http_batch_add_json(b, "rpc", url, body, 5 * SEC);
    tf_http_req_header(r, "X-Trace: 42");
    tf_http_batch_run(b);
    GError *err = NULL;
    json_t *v = tf_http_req_json(r, &err);
    if (!v)
        fail_msg("%s", err->message);
    assert_string_equal(json_string_value(json_object_get(v, "method")), "POST");
    assert_true(json_equal(json_object_get(v, "got"), body));
    char *seen = fixture_http_last_body(e->f, "/echo");
    assert_string_equal(seen, "{\"x\":[1,2],\"y\":\"z\"}");
    char *ct = fixture_http_last_header(e->f, "/echo", "content-type");
    assert_string_equal(ct, "application/json");
    char *trace = fixture_http_last_header(e->f, "/echo", "X-TRACE");
    assert_string_equal(trace, "42");
    assert_null(fixture_http_last_header(e->f, "/echo", "Expect"));
    tf_http_batch_free(b);

    /* Other methods carry their body too. */
    b = tf_http_batch_new(e->h);
    tf_http_batch_add(b, "put", "put", url, "[3]", 5 * SEC);
    tf_http_batch_run(b);
    json_decref(v);
    v = tf_http_req_json(tf_http_batch_req(b, 0), NULL);
    assert_string_equal(json_string_value(json_object_get(v, "method")), "PUT");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(v, "got"), 0)), 3);
    tf_http_batch_free(b);

    /* A POST without a body is a POST of nothing, not a GET in disguise. */
    b = tf_http_batch_new(e->h);
    tf_http_batch_add(b, "post", "POST", url, NULL, 5 * SEC);
    tf_http_batch_run(b);
    json_decref(v);
    v = tf_http_req_json(tf_http_batch_req(b, 0), NULL);
    assert_string_equal(json_string_value(json_object_get(v, "method")), "POST");
    char *clen = fixture_http_last_header(e->f, "/echo", "Content-Length");
    assert_string_equal(clen, "0");
    g_free(clen);
    g_free(seen);
    g_free(ct);
    g_free(trace);
    json_decref(v);
    json_decref(body);
    tf_http_batch_free(b);
    g_free(url);
}

static void test_batch_runs_concurrently(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/slow", 200, NULL, "{\"ok\": true}", -1, 200);
    char *url = fixture_http_url(e->f, "/slow");
    tf_http_batch *b = tf_http_batch_new(e->h);
    for (int i = 0; i < 20; i++) {
        char *label = g_strdup_printf("n%d", i);
        tf_http_batch_add(b, label, "GET", url, NULL, 30 * SEC);
        g_free(label);
    }
    assert_int_equal(tf_http_batch_len(b), 20);
    tf_http_batch_run(b);
    for (guint i = 0; i < tf_http_batch_len(b); i++) {
        GError *err = NULL;
        if (!tf_http_req_ok(tf_http_batch_req(b, i), &err))
            fail_msg("%s", err->message);
    }
    /* Sequential requests would never overlap at the server. */
    guint max = fixture_http_max_in_flight(e->f);
    print_message("max requests in flight at the server: %u of 20\n", max);
    assert_true(max > 1);
    assert_int_equal(fixture_http_requests_to(e->f, "/slow"), 20);
    assert_int_equal(tf_http_requests_sent(e->h), 20);
    tf_http_batch_free(b);
    g_free(url);
}

/* Runs a batch of n requests to /d0.. /d{n-1}, all in flight at once, then finishing
 * at staggered times. */
static void staggered_batch(env *e, guint n)
{
    tf_http_batch *b = tf_http_batch_new(e->h);
    for (guint i = 0; i < n; i++) {
        char *path = g_strdup_printf("/d%u", i);
        char *url = fixture_http_url(e->f, path);
        tf_http_batch_add(b, path, "GET", url, NULL, 30 * SEC);
        g_free(url);
        g_free(path);
    }
    tf_http_batch_run(b);
    for (guint i = 0; i < n; i++)
        assert_true(tf_http_req_ok(tf_http_batch_req(b, i), NULL));
    tf_http_batch_free(b);
}

static void test_connections_reused(void **state)
{
    env *e = *state;
    fixture_http_route_json(e->f, "/v", "1");
    char *url = fixture_http_url(e->f, "/v");
    for (int i = 0; i < 5; i++)
        tf_http_batch_free(run_one(e, "n", "GET", url, NULL, 5 * SEC));
    assert_int_equal(fixture_http_requests_to(e->f, "/v"), 5);
    assert_int_equal(fixture_http_connections(e->f), 1);

    /* Concurrent requests need several connections; once they finish one by one the
     * client must keep them all for the next batch. */
    for (guint i = 0; i < 12; i++) {
        char *path = g_strdup_printf("/d%u", i);
        fixture_http_route(e->f, path, 200, NULL, "2", -1, 100 + 20 * i);
        g_free(path);
    }
    staggered_batch(e, 12);
    guint64 conns = fixture_http_connections(e->f);
    assert_true(conns > 1);
    staggered_batch(e, 12);
    staggered_batch(e, 12);
    assert_int_equal(fixture_http_connections(e->f), conns);
    assert_int_equal(fixture_http_requests(e->f), 5 + 36);

    /* The counter does count: another client opens its own connection. */
    tf_http *other = tf_http_new();
    GError *err = NULL;
    json_t *v = tf_http_json(other, "other", url, NULL, 5 * SEC, &err);
    assert_non_null(v);
    json_decref(v);
    assert_int_equal(fixture_http_connections(e->f), conns + 1);
    tf_http_free(other);
    g_free(url);
}

typedef struct {
    env *e;
    guint n;
    gboolean saw_all;
} interrupter;

static gpointer interrupt_when_hanging(gpointer data)
{
    interrupter *it = data;
    it->saw_all = fixture_http_wait_in_flight(it->e->f, it->n, 20000);
    tf_http_interrupt(it->e->h);
    return NULL;
}

static void test_interrupt_from_other_thread(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/hang", 200, NULL, "{}", -1, 60000);
    fixture_http_route_json(e->f, "/v", "7");
    char *url = fixture_http_url(e->f, "/hang");
    char *quick = fixture_http_url(e->f, "/v");
    tf_http_batch *b = tf_http_batch_new(e->h);
    for (int i = 0; i < 3; i++)
        tf_http_batch_add(b, "slow", "GET", url, NULL, 120 * SEC);
    tf_http_batch_add(b, "quick", "GET", quick, NULL, 120 * SEC);
    interrupter it = {e, 3, FALSE};
    GThread *t = g_thread_new("interrupter", interrupt_when_hanging, &it);
    tf_http_batch_run(b);
    g_thread_join(t);
    assert_true(it.saw_all); /* the requests were hanging at the server, then cut */
    for (guint i = 0; i < 3; i++) {
        GError *err = NULL;
        tf_http_req *r = tf_http_batch_req(b, i);
        assert_false(tf_http_req_ok(r, &err));
        assert_int_equal(err->code, TF_ERROR_STOPPED);
        char *want = g_strdup_printf("slow: GET %s: interrupted", url);
        assert_string_equal(err->message, want);
        assert_int_equal(tf_http_req_status(r), 0);
        assert_true(tf_http_req_duration(r) > 0);
        g_free(want);
        g_clear_error(&err);
    }
    /* The quick one was answered at once; unless its answer was still on the way when
     * the interrupt came, it keeps it. */
    GError *qerr = NULL;
    if (!tf_http_req_ok(tf_http_batch_req(b, 3), &qerr)) {
        assert_true(g_str_has_suffix(qerr->message, ": interrupted"));
        g_clear_error(&qerr);
    }
    tf_http_batch_free(b);

    /* The interrupt was used up: the client works on. */
    GError *err = NULL;
    json_t *v = tf_http_json(e->h, "after", quick, NULL, 5 * SEC, &err);
    assert_non_null(v);
    assert_int_equal(json_integer_value(v), 7);
    json_decref(v);
    g_free(url);
    g_free(quick);
}

static void test_interrupt_before_run_is_kept(void **state)
{
    env *e = *state;
    fixture_http_route_json(e->f, "/v", "8");
    char *url = fixture_http_url(e->f, "/v");
    tf_http_interrupt(e->h); /* e.g. a runtime stopping just before its next cycle */
    tf_http_batch *b = run_one(e, "n7", "GET", url, NULL, 5 * SEC);
    char *msg = req_error(b, TF_ERROR_STOPPED);
    assert_true(g_str_has_suffix(msg, ": interrupted"));
    g_free(msg);
    assert_int_equal(tf_http_requests_sent(e->h), 0); /* nothing went out */
    assert_int_equal(tf_http_req_duration(tf_http_batch_req(b, 0)), 0);
    tf_http_batch_run(b); /* the same batch again, now uninterrupted */
    assert_true(tf_http_req_ok(tf_http_batch_req(b, 0), NULL));
    assert_int_equal(tf_http_requests_sent(e->h), 1);
    assert_int_equal(fixture_http_requests_to(e->f, "/v"), 1);
    tf_http_batch_free(b);
    g_free(url);
}

static void test_free_unrun_batch(void **state)
{
    env *e = *state;
    fixture_http_route_json(e->f, "/v", "1");
    char *url = fixture_http_url(e->f, "/v");
    json_t *body = json_pack("{s:i}", "k", 1);
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_req *r = tf_http_batch_add(b, "n8", "GET", url, NULL, SEC);
    tf_http_req_header(r, "X-A: 1");
    tf_http_req_basic_auth(r, "u", "p");
    tf_http_batch_add_json(b, "n8", url, body, SEC);
    tf_http_batch_add(b, "n8", "PUT", url, "data", SEC);
    assert_int_equal(tf_http_batch_len(b), 3);
    GError *err = NULL;
    assert_false(tf_http_req_ok(r, &err));
    assert_int_equal(err->code, TF_ERROR_INVALID);
    assert_true(g_str_has_suffix(err->message, ": not sent (its batch was never run)"));
    g_clear_error(&err);
    assert_int_equal(tf_http_req_status(r), 0);
    assert_int_equal(tf_http_req_duration(r), 0);
    assert_string_equal(tf_http_req_body(r, NULL), "");
    tf_http_batch_free(b);
    tf_http_batch_free(NULL);
    assert_int_equal(tf_http_requests_sent(e->h), 0);
    assert_int_equal(fixture_http_requests(e->f), 0);
    json_decref(body);
    g_free(url);
}

static void test_http_json_convenience(void **state)
{
    env *e = *state;
    fixture_http_route_handler(e->f, "/echo", echo, NULL);
    char *url = fixture_http_url(e->f, "/echo");
    GError *err = NULL;
    json_t *v = tf_http_json(e->h, "c", url, NULL, 5 * SEC, &err);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "method")), "GET");
    assert_true(json_is_null(json_object_get(v, "got")));
    json_decref(v);

    json_t *body = json_pack("{s:s, s:[]}", "method", "getblockcount", "params");
    v = tf_http_json(e->h, "c", url, body, 5 * SEC, &err);
    assert_non_null(v);
    assert_true(json_equal(json_object_get(v, "got"), body));
    char *m = fixture_http_last_method(e->f, "/echo");
    assert_string_equal(m, "POST");
    g_free(m);
    json_decref(v);
    json_decref(body);

    char *nope = fixture_http_url(e->f, "/nope");
    assert_null(tf_http_json(e->h, "c", nope, NULL, 5 * SEC, &err));
    char *want = g_strdup_printf("c: GET %s: HTTP 404: no route for /nope", nope);
    assert_string_equal(err->message, want);
    g_clear_error(&err);
    assert_int_equal(tf_http_requests_sent(e->h), 3);
    g_free(want);
    g_free(nope);
    g_free(url);
}

/* One request on its own batch (so every step reuses what the last one left), checked
 * against what the server saw. header: an extra header or NULL; user: basic auth or NULL. */
static void one_on_echo(env *e, const char *method, const char *body, const char *header,
                        const char *user, gint64 timeout_us)
{
    char *url = fixture_http_url(e->f, "/echo");
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_req *r = tf_http_batch_add(b, "echo", method, url, body, timeout_us);
    if (header)
        tf_http_req_header(r, header);
    if (user)
        tf_http_req_basic_auth(r, user, "pw");
    tf_http_batch_run(b);
    GError *err = NULL;
    if (!tf_http_req_ok(r, &err))
        fail_msg("%s %s: %s", method, body ? body : "", err->message);
    char *m = fixture_http_last_method(e->f, "/echo");
    char *got = fixture_http_last_body(e->f, "/echo");
    char *trace = fixture_http_last_header(e->f, "/echo", "X-Trace");
    char *auth = fixture_http_last_header(e->f, "/echo", "Authorization");
    assert_string_equal(m, method);
    assert_string_equal(got, body ? body : "");
    if (header)
        assert_string_equal(trace, strchr(header, ' ') + 1);
    else
        assert_null(trace);
    if (user) {
        char *plain = g_strdup_printf("%s:pw", user);
        char *b64 = g_base64_encode((const guchar *)plain, strlen(plain));
        char *want = g_strdup_printf("Basic %s", b64);
        assert_string_equal(auth, want);
        g_free(want);
        g_free(b64);
        g_free(plain);
    } else {
        assert_null(auth); /* never credentials left over from an earlier request */
    }
    g_free(m);
    g_free(got);
    g_free(trace);
    g_free(auth);
    tf_http_batch_free(b);
    g_free(url);
}

static void test_reused_handles_send_each_request_as_asked(void **state)
{
    env *e = *state;
    fixture_http_route_handler(e->f, "/echo", echo, NULL);
    for (int round = 0; round < 2; round++) { /* the second round reuses every handle */
        one_on_echo(e, "GET", NULL, NULL, NULL, 5 * SEC);
        one_on_echo(e, "GET", NULL, NULL, "alice", 5 * SEC);
        one_on_echo(e, "GET", NULL, NULL, "bob", 5 * SEC);
        one_on_echo(e, "GET", NULL, NULL, NULL, 5 * SEC);
        one_on_echo(e, "POST", "[1]", NULL, NULL, 5 * SEC);
        one_on_echo(e, "POST", "[2, 3]", "X-Trace: 7", NULL, 5 * SEC);
        one_on_echo(e, "POST", "[4]", NULL, NULL, 5 * SEC);
        one_on_echo(e, "PUT", "[5]", NULL, NULL, 5 * SEC);
        one_on_echo(e, "GET", NULL, "X-Trace: 8", NULL, 4 * SEC);
        one_on_echo(e, "GET", NULL, NULL, NULL, 5 * SEC);
    }
    /* A batch run again after its request gained credentials sends them. */
    char *url = fixture_http_url(e->f, "/echo");
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_req *r = tf_http_batch_add(b, "echo", "GET", url, NULL, 5 * SEC);
    tf_http_batch_run(b);
    tf_http_req_basic_auth(r, "carol", "pw");
    tf_http_batch_run(b);
    assert_true(tf_http_req_ok(r, NULL));
    char *auth = fixture_http_last_header(e->f, "/echo", "Authorization");
    char *b64 = g_base64_encode((const guchar *)"carol:pw", 8);
    char *want = g_strdup_printf("Basic %s", b64);
    assert_string_equal(auth, want);
    g_free(want);
    g_free(b64);
    g_free(auth);
    tf_http_batch_free(b);
    g_free(url);
    /* one connection served them all: handles differ, the connection cache is shared */
    assert_int_equal(fixture_http_connections(e->f), 1);
    assert_int_equal(tf_http_requests_sent(e->h), 22);
}

static void test_idle_handles_stay_bounded(void **state)
{
    env *e = *state;
    /* 300 different URLs, one a batch: the client may not keep a handle for each. */
    for (guint i = 0; i < 300; i++) {
        char *path = g_strdup_printf("/u%u", i);
        fixture_http_route_json(e->f, path, "1");
        char *url = fixture_http_url(e->f, path);
        tf_http_batch_free(run_one(e, path, "GET", url, NULL, 5 * SEC));
        g_free(url);
        g_free(path);
    }
    guint idle = tf_http_idle_handles(e->h);
    print_message("idle handles after 300 one-URL batches: %u\n", idle);
    assert_true(idle > 0 && idle <= 64);
    /* a batch as large as all of them keeps them all (and the next reuses them) */
    tf_http_batch *b = tf_http_batch_new(e->h);
    for (guint i = 0; i < 300; i++) {
        char *path = g_strdup_printf("/u%u", i);
        char *url = fixture_http_url(e->f, path);
        tf_http_batch_add(b, path, "GET", url, NULL, 5 * SEC);
        g_free(url);
        g_free(path);
    }
    tf_http_batch_run(b);
    tf_http_batch_run(b);
    for (guint i = 0; i < 300; i++)
        assert_true(tf_http_req_ok(tf_http_batch_req(b, i), NULL));
    assert_int_equal(tf_http_idle_handles(e->h), 300);
    tf_http_batch_free(b);
}

static double thread_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void test_kept_connection_to_a_gone_server(void **state)
{
    env *e = *state;
    fixture_http *gone = fixture_http_start();
    guint16 port = fixture_http_port(gone);
    fixture_http_route_json(gone, "/v", "1");
    fixture_http_route(e->f, "/slow", 200, NULL, "2", -1, 300);
    char *url = fixture_http_url(gone, "/v"), *slow = fixture_http_url(e->f, "/slow");
    tf_http_batch_free(run_one(e, "v", "GET", url, NULL, 5 * SEC));
    tf_http_batch_free(run_one(e, "slow", "GET", slow, NULL, 5 * SEC));
    /* The server of the kept connection closes it: while the next batch waits on another
     * server, that idle socket reads end-of-file. It must not wake the client over and
     * over (a busy loop burns about the 300 ms the batch takes). */
    fixture_http_free(gone);
    double cpu0 = thread_cpu_s();
    tf_http_batch *b = run_one(e, "slow", "GET", slow, NULL, 5 * SEC);
    double cpu = thread_cpu_s() - cpu0;
    assert_true(tf_http_req_ok(tf_http_batch_req(b, 0), NULL));
    print_message("CPU of a 300 ms batch beside a closed idle socket: %.1f ms\n", cpu * 1000);
    assert_true(cpu < 0.15);
    tf_http_batch_free(b);
    /* A new server on the same port: the dead connection is replaced, not waited on. */
    fixture_http *back = fixture_http_start_on(port);
    fixture_http_route_json(back, "/v", "3");
    for (int i = 0; i < 2; i++) {
        b = run_one(e, "v", "GET", url, NULL, 5 * SEC);
        GError *err = NULL;
        if (!tf_http_req_ok(tf_http_batch_req(b, 0), &err))
            fail_msg("%s", err->message);
        tf_http_batch_free(b);
    }
    assert_int_equal(fixture_http_connections(back), 1);
    fixture_http_free(back);
    g_free(url);
    g_free(slow);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_get_json),
        T(test_post_json),
        T(test_batch_runs_concurrently),
        T(test_connections_reused),
        T(test_interrupt_from_other_thread),
        T(test_interrupt_before_run_is_kept),
        T(test_free_unrun_batch),
        T(test_http_json_convenience),
        T(test_reused_handles_send_each_request_as_asked),
        T(test_idle_handles_stay_bounded),
        T(test_kept_connection_to_a_gone_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
