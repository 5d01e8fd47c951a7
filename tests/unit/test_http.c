/* test_http.c: tf_http against the in-process fixture server: JSON GET/POST, concurrent
 * batches, connection reuse, every failure's wording (refused, timeout, HTTP status,
 * garbage, empty, oversized), credentials kept out of messages, and interrupts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "fixture_http.h"
#include "tf/error.h"
#include "tf/http.h"

#define SEC G_USEC_PER_SEC

typedef struct {
    fixture_http *f;
    tf_http *h;
} env;

static int setup(void **state)
{
    env *e = g_new0(env, 1);
    e->f = fixture_http_start();
    e->h = tf_http_new();
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    tf_http_free(e->h);
    fixture_http_free(e->f);
    g_free(e);
    return 0;
}

/* Runs one request and returns its batch (caller frees). */
static tf_http_batch *run_one(env *e, const char *label, const char *method, const char *url,
                              const char *body, gint64 timeout_us)
{
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_batch_add(b, label, method, url, body, timeout_us);
    tf_http_batch_run(b);
    return b;
}

/* The error of request 0 of b (asserting there is one, with the given code). */
static char *req_error(tf_http_batch *b, int code)
{
    GError *err = NULL;
    assert_false(tf_http_req_ok(tf_http_batch_req(b, 0), &err));
    assert_non_null(err);
    assert_true(err->domain == TF_ERROR);
    if (err->code != code)
        fail_msg("code %d, expected %d: %s", err->code, code, err->message);
    char *msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static void assert_printable(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((guchar)*p < 0x20 || (guchar)*p >= 0x7f)
            fail_msg("unprintable byte 0x%02x in: %s", (guchar)*p, s);
}

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

static void test_connection_refused(void **state)
{
    env *e = *state;
    char *url = g_strdup_printf("http://127.0.0.1:%u/x", fixture_http_closed_port());
    tf_http_batch *b = run_one(e, "node1", "GET", url, NULL, 5 * SEC);
    assert_int_equal(tf_http_req_status(tf_http_batch_req(b, 0)), 0);
    char *msg = req_error(b, TF_ERROR_HTTP);
    char *want = g_strdup_printf("node1: GET %s: connection refused", url);
    assert_string_equal(msg, want);
    g_free(want);
    g_free(msg);
    tf_http_batch_free(b);
    g_free(url);
}

static void test_timeout(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/hang", 200, NULL, "{}", -1, 60000);
    char *url = fixture_http_url(e->f, "/hang");
    tf_http_batch *b = run_one(e, "node2", "POST", url, "{}", 150 * 1000);
    char *msg = req_error(b, TF_ERROR_TIMEOUT);
    char *want = g_strdup_printf("node2: POST %s: timed out after 150 ms", url);
    assert_string_equal(msg, want);
    assert_int_equal(tf_http_req_status(tf_http_batch_req(b, 0)), 0);
    g_free(want);
    g_free(msg);
    tf_http_batch_free(b);
    g_free(url);
}

static void test_http_error_quotes_body(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/down", 500, "text/plain", "boom: disk on fire\n", -1, 0);
    char *url = fixture_http_url(e->f, "/down");
    tf_http_batch *b = run_one(e, "n3", "GET", url, NULL, 5 * SEC);
    assert_int_equal(tf_http_req_status(tf_http_batch_req(b, 0)), 500);
    char *msg = req_error(b, TF_ERROR_HTTP);
    char *want = g_strdup_printf("n3: GET %s: HTTP 500: boom: disk on fire\\n", url);
    assert_string_equal(msg, want);
    g_free(want);
    g_free(msg);
    /* tf_http_req_json reports the status, not a parse error. */
    GError *err = NULL;
    assert_null(tf_http_req_json(tf_http_batch_req(b, 0), &err));
    assert_int_equal(err->code, TF_ERROR_HTTP);
    g_clear_error(&err);
    tf_http_batch_free(b);

    /* A long body is cut at 200 bytes. */
    GString *big = g_string_new(NULL);
    for (int i = 0; i < 30; i++)
        g_string_append_printf(big, "line %03d.\n", i); /* 10 bytes each */
    fixture_http_route(e->f, "/busy", 503, "text/plain", big->str, -1, 0);
    g_free(url);
    url = fixture_http_url(e->f, "/busy");
    b = run_one(e, "n3", "GET", url, NULL, 5 * SEC);
    msg = req_error(b, TF_ERROR_HTTP);
    assert_non_null(strstr(msg, "HTTP 503: line 000.\\nline 001."));
    assert_non_null(strstr(msg, "line 019.\\n... (300 bytes)"));
    assert_null(strstr(msg, "line 020"));
    g_free(msg);
    g_string_free(big, TRUE);
    tf_http_batch_free(b);
    g_free(url);
}

static void test_garbage_body(void **state)
{
    env *e = *state;
    char garbage[1000];
    for (int i = 0; i < 1000; i++)
        garbage[i] = (char)(i % 256);
    fixture_http_route(e->f, "/bin", 200, "application/octet-stream", garbage, 1000, 0);
    char *url = fixture_http_url(e->f, "/bin");
    tf_http_batch *b = run_one(e, "n4", "GET", url, NULL, 5 * SEC);
    tf_http_req *r = tf_http_batch_req(b, 0);
    assert_true(tf_http_req_ok(r, NULL)); /* the transport was fine */
    gsize len;
    const char *body = tf_http_req_body(r, &len);
    assert_int_equal(len, 1000);
    assert_memory_equal(body, garbage, 1000);
    GError *err = NULL;
    assert_null(tf_http_req_json(r, &err));
    assert_int_equal(err->code, TF_ERROR_PARSE);
    char *prefix = g_strdup_printf("n4: GET %s: body is not JSON (", url);
    assert_true(g_str_has_prefix(err->message, prefix));
    assert_printable(err->message);
    /* Bytes 0..199 are quoted, escaped; byte 200 (0xc8) and later are not. */
    assert_non_null(strstr(err->message, "\\x00\\x01\\x02"));
    assert_non_null(strstr(err->message, " !\"#$%&'()*+,-./0123"));
    assert_non_null(strstr(err->message, "\\xc6\\xc7... (1000 bytes)"));
    assert_null(strstr(err->message, "\\xc8"));
    g_clear_error(&err);
    g_free(prefix);
    tf_http_batch_free(b);

    fixture_http_route(e->f, "/html", 200, "text/html", "<html>oops</html>", -1, 0);
    g_free(url);
    url = fixture_http_url(e->f, "/html");
    assert_null(tf_http_json(e->h, "n4", url, NULL, 5 * SEC, &err));
    assert_int_equal(err->code, TF_ERROR_PARSE);
    assert_true(g_str_has_suffix(err->message, "): <html>oops</html>"));
    g_clear_error(&err);
    g_free(url);
}

static void test_empty_body(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/empty", 200, NULL, "", 0, 0);
    char *url = fixture_http_url(e->f, "/empty");
    tf_http_batch *b = run_one(e, "n5", "GET", url, NULL, 5 * SEC);
    tf_http_req *r = tf_http_batch_req(b, 0);
    assert_true(tf_http_req_ok(r, NULL));
    gsize len = 99;
    assert_string_equal(tf_http_req_body(r, &len), "");
    assert_int_equal(len, 0);
    GError *err = NULL;
    assert_null(tf_http_req_json(r, &err));
    assert_int_equal(err->code, TF_ERROR_PARSE);
    char *want = g_strdup_printf("n5: GET %s: empty body where JSON was expected (HTTP 200)", url);
    assert_string_equal(err->message, want);
    g_clear_error(&err);
    g_free(want);
    tf_http_batch_free(b);
    g_free(url);
}

static void assert_no_secret(const char *msg, const char *const *secrets)
{
    for (; *secrets; secrets++)
        if (strstr(msg, *secrets))
            fail_msg("'%s' leaked into: %s", *secrets, msg);
}

static void test_basic_auth_never_shown(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/auth", 401, "text/plain", "denied", -1, 0);
    char *url = fixture_http_url(e->f, "/auth");
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_req_basic_auth(tf_http_batch_add(b, "n6", "GET", url, NULL, 5 * SEC), "alice",
                           "s3cr3t-pw");
    tf_http_batch_run(b);
    char *b64 = g_base64_encode((const guchar *)"alice:s3cr3t-pw", 15);
    char *want_auth = g_strdup_printf("Basic %s", b64);
    char *seen = fixture_http_last_header(e->f, "/auth", "Authorization");
    assert_string_equal(seen, want_auth);
    char *msg = req_error(b, TF_ERROR_HTTP);
    char *want = g_strdup_printf("n6: GET %s: HTTP 401: denied", url);
    assert_string_equal(msg, want);
    const char *const secrets[] = {"s3cr3t", "hunter2", "bob", "YWxpY2U6czNjcjN0LXB3",
                                   "Ym9iOmh1bnRlcjI", NULL};
    assert_no_secret(msg, secrets);
    g_free(msg);
    g_free(want);
    g_free(seen);
    g_free(want_auth);
    g_free(b64);
    tf_http_batch_free(b);

    /* Credentials in the URL reach the server but are redacted from every message. */
    char *cred_url = g_strdup_printf("http://bob:hunter2@127.0.0.1:%u/auth",
                                     fixture_http_port(e->f));
    b = run_one(e, "n6", "GET", cred_url, NULL, 5 * SEC);
    seen = fixture_http_last_header(e->f, "/auth", "Authorization");
    b64 = g_base64_encode((const guchar *)"bob:hunter2", 11);
    want_auth = g_strdup_printf("Basic %s", b64);
    assert_string_equal(seen, want_auth);
    msg = req_error(b, TF_ERROR_HTTP);
    want = g_strdup_printf("n6: GET http://***@127.0.0.1:%u/auth: HTTP 401: denied",
                           fixture_http_port(e->f));
    assert_string_equal(msg, want);
    g_free(msg);
    g_free(want);
    g_free(seen);
    g_free(want_auth);
    g_free(b64);
    tf_http_batch_free(b);
    g_free(cred_url);

    /* Nor in transport failures. */
    fixture_http_route(e->f, "/hang", 200, NULL, "{}", -1, 60000);
    const char *paths[] = {"/hang", NULL};
    for (int i = 0; i < 2; i++) {
        guint16 port = paths[i] ? fixture_http_port(e->f) : fixture_http_closed_port();
        cred_url = g_strdup_printf("http://bob:hunter2@127.0.0.1:%u%s", port,
                                   paths[i] ? paths[i] : "/");
        b = tf_http_batch_new(e->h);
        tf_http_req_basic_auth(tf_http_batch_add(b, "n6", "GET", cred_url, NULL, 100 * 1000),
                               "alice", "s3cr3t-pw");
        tf_http_batch_run(b);
        msg = req_error(b, paths[i] ? TF_ERROR_TIMEOUT : TF_ERROR_HTTP);
        assert_non_null(strstr(msg, "http://***@127.0.0.1:"));
        assert_no_secret(msg, secrets);
        g_free(msg);
        tf_http_batch_free(b);
        g_free(cred_url);
    }
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
    tf_http_batch_run(b); /* the same batch again, now uninterrupted */
    assert_true(tf_http_req_ok(tf_http_batch_req(b, 0), NULL));
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

static void huge(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    g_string_set_size(resp->body, 64 * 1024 * 1024 + 1);
    memset(resp->body->str, ' ', resp->body->len);
}

static void test_response_size_limit(void **state)
{
    env *e = *state;
    fixture_http_route_handler(e->f, "/huge", huge, NULL);
    fixture_http_route_json(e->f, "/v", "3");
    char *url = fixture_http_url(e->f, "/huge");
    tf_http_batch *b = run_one(e, "n9", "GET", url, NULL, 60 * SEC);
    char *msg = req_error(b, TF_ERROR_HTTP);
    char *want = g_strdup_printf("n9: GET %s: response larger than 64 MiB", url);
    assert_string_equal(msg, want);
    gsize len = 1;
    tf_http_req_body(tf_http_batch_req(b, 0), &len);
    assert_int_equal(len, 0);
    g_free(msg);
    g_free(want);
    tf_http_batch_free(b);
    g_free(url);
    url = fixture_http_url(e->f, "/v");
    json_t *v = tf_http_json(e->h, "n9", url, NULL, 5 * SEC, NULL);
    assert_int_equal(json_integer_value(v), 3);
    json_decref(v);
    g_free(url);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_get_json),
        T(test_post_json),
        T(test_batch_runs_concurrently),
        T(test_connections_reused),
        T(test_connection_refused),
        T(test_timeout),
        T(test_http_error_quotes_body),
        T(test_garbage_body),
        T(test_empty_body),
        T(test_basic_auth_never_shown),
        T(test_interrupt_from_other_thread),
        T(test_interrupt_before_run_is_kept),
        T(test_free_unrun_batch),
        T(test_http_json_convenience),
        T(test_response_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
