/* test_http_errors.c: how tf_http fails: connection refused, timeout, HTTP status with
 * the body quoted, garbage and empty bodies, oversized responses, credentials that
 * reach the server but never an error message, and when a failed request certainly never
 * reached the server (tf_http_req_unsent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "fixture_http_env.h"

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

/* One request of a batch failing does not touch the others. */
static void test_timeout_among_good_requests(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/hang", 200, NULL, "{}", -1, 60000);
    fixture_http_route_json(e->f, "/v", "[1]");
    char *hang = fixture_http_url(e->f, "/hang");
    char *quick = fixture_http_url(e->f, "/v");
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_batch_add(b, "a", "GET", quick, NULL, 30 * SEC);
    tf_http_batch_add(b, "b", "GET", hang, NULL, 100 * 1000);
    tf_http_batch_add(b, "c", "GET", quick, NULL, 30 * SEC);
    tf_http_batch_run(b);
    GError *err = NULL;
    assert_true(tf_http_req_ok(tf_http_batch_req(b, 0), NULL));
    assert_false(tf_http_req_ok(tf_http_batch_req(b, 1), &err));
    assert_int_equal(err->code, TF_ERROR_TIMEOUT);
    assert_true(g_str_has_suffix(err->message, ": timed out after 100 ms"));
    assert_true(tf_http_req_duration(tf_http_batch_req(b, 1)) >= 100 * 1000);
    g_clear_error(&err);
    json_t *v = tf_http_req_json(tf_http_batch_req(b, 2), &err);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_array_get(v, 0)), 1);
    json_decref(v);
    tf_http_batch_free(b);
    g_free(hang);
    g_free(quick);
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

/* Only the user-info of the authority is hidden: an '@' in the path stays. */
static void test_url_redaction(void **state)
{
    env *e = *state;
    guint16 port = fixture_http_closed_port();
    const char *forms[][2] = {
        {"http://u:pw@127.0.0.1:%u/a@b?c=@d", "http://***@127.0.0.1:%u/a@b?c=@d"},
        {"http://u@127.0.0.1:%u/", "http://***@127.0.0.1:%u/"},
        {"http://a%%40b:pw@127.0.0.1:%u", "http://***@127.0.0.1:%u"},
        {"http://a@b:p@w@127.0.0.1:%u", "http://***@127.0.0.1:%u"},
        {"http://127.0.0.1:%u/x@y", "http://127.0.0.1:%u/x@y"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(forms); i++) {
        char *url = g_strdup_printf(forms[i][0], port);
        char *shown = g_strdup_printf(forms[i][1], port);
        tf_http_batch *b = run_one(e, "r", "GET", url, NULL, 5 * SEC);
        char *msg = req_error(b, TF_ERROR_HTTP);
        /* curl refuses the form with two @ itself; the URL is hidden all the same. */
        char *want = g_strdup_printf("r: GET %s: ", shown);
        if (!g_str_has_prefix(msg, want) || strstr(msg, "pw") || strstr(msg, "p@w"))
            fail_msg("%s", msg);
        g_free(want);
        g_free(msg);
        tf_http_batch_free(b);
        g_free(shown);
        g_free(url);
    }
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

/* One request of method/url with the connection fresh or not; returns its batch. */
static tf_http_batch *send_one(env *e, const char *url, gboolean fresh, gint64 timeout_us)
{
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_req *r = tf_http_batch_add(b, "n", "POST", url, "{}", timeout_us);
    if (fresh)
        tf_http_req_fresh_connection(r);
    tf_http_batch_run(b);
    return b;
}

/* "Certainly never reached the server" only where it is certain: a fresh connection that
 * could not be made, or a request never run; never an answered or timed-out request, nor
 * a refusal on a client that reuses connections (curl resends there). */
static void test_unsent(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/ok", 200, NULL, "{}", -1, 0);
    fixture_http_route(e->f, "/hang", 200, NULL, "{}", -1, 60000);
    char *ok = fixture_http_url(e->f, "/ok"), *hang = fixture_http_url(e->f, "/hang");
    char *refused = g_strdup_printf("http://127.0.0.1:%u/x", fixture_http_closed_port());
    struct {
        const char *url;
        gboolean fresh, unsent;
    } cases[] = {
        {refused, TRUE, TRUE},
        {refused, FALSE, FALSE},
        {ok, TRUE, FALSE},
        {hang, TRUE, FALSE}, /* connected, then timed out: it may have arrived */
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        tf_http_batch *b = send_one(e, cases[i].url, cases[i].fresh, 200 * 1000);
        if (tf_http_req_unsent(tf_http_batch_req(b, 0)) != cases[i].unsent)
            fail_msg("case %u (%s, fresh %d): unsent should be %d", i, cases[i].url,
                     cases[i].fresh, cases[i].unsent);
        tf_http_batch_free(b);
    }
    /* a request whose batch never ran was never sent */
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_batch_add(b, "n", "GET", ok, NULL, SEC);
    assert_true(tf_http_req_unsent(tf_http_batch_req(b, 0)));
    tf_http_batch_free(b);
    /* fresh connections are not kept: one connection per request */
    guint64 before = fixture_http_connections(e->f);
    for (int i = 0; i < 3; i++)
        tf_http_batch_free(send_one(e, ok, TRUE, SEC));
    assert_int_equal(fixture_http_connections(e->f) - before, 3);
    before = fixture_http_connections(e->f);
    for (int i = 0; i < 3; i++)
        tf_http_batch_free(send_one(e, ok, FALSE, SEC));
    assert_int_equal(fixture_http_connections(e->f) - before, 1);
    g_free(ok);
    g_free(hang);
    g_free(refused);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_connection_refused),
        T(test_timeout),
        T(test_timeout_among_good_requests),
        T(test_http_error_quotes_body),
        T(test_garbage_body),
        T(test_empty_body),
        T(test_basic_auth_never_shown),
        T(test_response_size_limit),
        T(test_url_redaction),
        T(test_unsent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
