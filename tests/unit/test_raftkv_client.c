/* test_raftkv_client.c: how one etcd client operation is recorded (raftkv_client_run)
 * against an in-process stand-in member answering as etcd's gateway does: each answer,
 * error and failure to reach the member must give the completion the client can honestly
 * claim (ok with the answer; fail only when the operation certainly took no effect;
 * unknown otherwise), the txn must be the compare-and-set it claims to be, and the history
 * must hold the registers model's inputs and outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <tf/tf.h>
#include "fixture_http.h"
#include "raftkv/etcd_client.h"
#include "raftkv/lin_models.h"

#define HEADER "\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"3\",\"raft_term\":\"2\"}"
#define TIMED_OUT "{\"error\":\"etcdserver: request timed out\",\"code\":14,\"message\":\"etcdserver: request timed out\"}"

typedef struct {
    fixture_http *f;
    tf_http *http;
    tf_ophistory *h;
    char *url;
} env;

static int setup(void **state)
{
    env *e = g_new0(env, 1);
    e->f = fixture_http_start();
    e->http = tf_http_new();
    e->h = tf_ophistory_new();
    e->url = fixture_http_url(e->f, "");
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    tf_http_free(e->http);
    fixture_http_free(e->f);
    tf_ophistory_free(e->h);
    g_free(e->url);
    g_free(e);
    return 0;
}

static char *json_text(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    char *t = g_strdup(s);
    free(s);
    return t;
}

/* The last operation of the history as "name input -> status output|error". */
static char *last_op(env *e)
{
    GPtrArray *ops = tf_ophistory_ops(e->h);
    assert_true(ops->len > 0);
    const tf_op *op = ops->pdata[ops->len - 1];
    char *in = json_text(op->input);
    char *out = op->status == TF_OP_OK ? json_text(op->output) : g_strdup(op->error ? op->error : "");
    char *s = g_strdup_printf("%s %s -> %s %s", op->name, in, tf_op_status_name(op->status), out);
    g_free(in);
    g_free(out);
    g_ptr_array_unref(ops);
    return s;
}

/* Runs op against the member (or `url` when not NULL) and checks the recorded op. */
static raftkv_op_result run_op(env *e, const char *url, const raftkv_op *op, gint64 timeout_us,
                               tf_op_status want, const char *want_op)
{
    raftkv_op_result r = raftkv_client_run(e->http, url ? url : e->url, e->h, 7, op, timeout_us);
    char *got = last_op(e);
    if (r.status != want || !g_str_has_prefix(got, want_op))
        fail_msg("expected %s (%s...), got %s (%s)", tf_op_status_name(want), want_op,
                 tf_op_status_name(r.status), got);
    g_free(got);
    return r;
}

static const raftkv_op rd = {RAFTKV_READ, "k", NULL, NULL, FALSE};
static const raftkv_op wr = {RAFTKV_WRITE, "k", "5", NULL, FALSE};
static const raftkv_op cas = {RAFTKV_CAS, "k", "6", "5", FALSE};

static void test_answers(void **state)
{
    env *e = *state;
    fixture_http_route_json(e->f, "/v3/kv/put", "{" HEADER "}");
    raftkv_op_result r = run_op(e, NULL, &wr, G_USEC_PER_SEC, TF_OP_OK,
                                "write {\"key\":\"k\",\"value\":\"5\"} -> ok null");
    assert_string_equal(r.seen, "5");
    raftkv_op_result_clear(&r);
    char *body = fixture_http_last_body(e->f, "/v3/kv/put");
    assert_string_equal(body, "{\"key\":\"aw==\",\"value\":\"NQ==\"}");
    g_free(body);

    /* "NQ==" is "5"; an absent key reads nil; etcd leaves an empty value out */
    fixture_http_route_json(e->f, "/v3/kv/range", "{" HEADER ",\"kvs\":[{\"key\":\"aw==\",\"value\":\"NQ==\"}],\"count\":\"1\"}");
    r = run_op(e, NULL, &rd, G_USEC_PER_SEC, TF_OP_OK, "read {\"key\":\"k\",\"value\":null} -> ok \"5\"");
    assert_string_equal(r.seen, "5");
    raftkv_op_result_clear(&r);
    body = fixture_http_last_body(e->f, "/v3/kv/range");
    assert_string_equal(body, "{\"key\":\"aw==\",\"serializable\":false}");
    g_free(body);
    fixture_http_route_json(e->f, "/v3/kv/range", "{" HEADER "}");
    r = run_op(e, NULL, &rd, G_USEC_PER_SEC, TF_OP_OK, "read {\"key\":\"k\",\"value\":null} -> ok null");
    assert_null(r.seen);
    raftkv_op_result_clear(&r);
    fixture_http_route_json(e->f, "/v3/kv/range", "{" HEADER ",\"kvs\":[{\"key\":\"aw==\"}],\"count\":\"1\"}");
    r = run_op(e, NULL, &rd, G_USEC_PER_SEC, TF_OP_OK, "read {\"key\":\"k\",\"value\":null} -> ok \"\"");
    raftkv_op_result_clear(&r);

    /* a serializable read says so, in the request and in the history */
    raftkv_op srd = rd;
    srd.serializable = TRUE;
    r = run_op(e, NULL, &srd, G_USEC_PER_SEC, TF_OP_OK,
               "read {\"key\":\"k\",\"serializable\":true,\"value\":null} -> ok");
    raftkv_op_result_clear(&r);
    body = fixture_http_last_body(e->f, "/v3/kv/range");
    assert_string_equal(body, "{\"key\":\"aw==\",\"serializable\":true}");
    g_free(body);
}

/* The txn is a compare-and-set: compare the value, put on success, range on failure; the
 * answer's "succeeded" (left out when false) says which, and the branch must be there. */
static void test_compare_and_set(void **state)
{
    env *e = *state;
    fixture_http_route_json(e->f, "/v3/kv/txn", "{" HEADER ",\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":{}}}]}");
    raftkv_op_result r = run_op(e, NULL, &cas, G_USEC_PER_SEC, TF_OP_OK,
                                "cas {\"key\":\"k\",\"value\":[\"5\",\"6\"]} -> ok true");
    assert_string_equal(r.seen, "6");
    raftkv_op_result_clear(&r);
    char *body = fixture_http_last_body(e->f, "/v3/kv/txn");
    json_t *got = json_loads(body, 0, NULL), *want = json_loads(
        "{\"compare\":[{\"key\":\"aw==\",\"target\":\"VALUE\",\"result\":\"EQUAL\",\"value\":\"NQ==\"}],"
        "\"success\":[{\"request_put\":{\"key\":\"aw==\",\"value\":\"Ng==\"}}],"
        "\"failure\":[{\"request_range\":{\"key\":\"aw==\"}}]}", 0, NULL);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    g_free(body);

    /* refused: the range of the failure branch tells the current value ("Nw==" = "7") */
    fixture_http_route_json(e->f, "/v3/kv/txn", "{" HEADER ",\"responses\":[{\"response_range\":{\"header\":{},"
                                                "\"kvs\":[{\"key\":\"aw==\",\"value\":\"Nw==\"}],\"count\":\"1\"}}]}");
    r = run_op(e, NULL, &cas, G_USEC_PER_SEC, TF_OP_OK,
               "cas {\"key\":\"k\",\"value\":[\"5\",\"6\"]} -> ok {\"ok\":false,\"value\":\"7\"}");
    assert_string_equal(r.seen, "7");
    raftkv_op_result_clear(&r);

    /* an answer without the branch it claims is no proof either way: unknown */
    fixture_http_route_json(e->f, "/v3/kv/txn", "{" HEADER ",\"succeeded\":true}");
    r = run_op(e, NULL, &cas, G_USEC_PER_SEC, TF_OP_UNKNOWN, "cas {\"key\":\"k\",\"value\":[\"5\",\"6\"]} -> unknown");
    raftkv_op_result_clear(&r);
    fixture_http_route_json(e->f, "/v3/kv/txn", "{" HEADER "}");
    r = run_op(e, NULL, &cas, G_USEC_PER_SEC, TF_OP_UNKNOWN, "cas");
    raftkv_op_result_clear(&r);
}

/* Errors: a write may still commit after any error but those etcd gives before proposing;
 * a read never changes anything, so a read that got no answer simply did not happen. */
static void test_errors(void **state)
{
    env *e = *state;
    fixture_http_route(e->f, "/v3/kv/put", 503, NULL, TIMED_OUT, -1, 0);
    raftkv_op_result r = run_op(e, NULL, &wr, G_USEC_PER_SEC, TF_OP_UNKNOWN,
                                "write {\"key\":\"k\",\"value\":\"5\"} -> unknown write k: POST ");
    assert_non_null(strstr(r.error, "HTTP 503: {\"error\":\"etcdserver: request timed out\""));
    raftkv_op_result_clear(&r);
    fixture_http_route(e->f, "/v3/kv/txn", 503, NULL, TIMED_OUT, -1, 0);
    r = run_op(e, NULL, &cas, G_USEC_PER_SEC, TF_OP_UNKNOWN, "cas");
    raftkv_op_result_clear(&r);
    fixture_http_route(e->f, "/v3/kv/put", 503, NULL,
                       "{\"error\":\"etcdserver: leader changed\",\"code\":14}", -1, 0);
    r = run_op(e, NULL, &wr, G_USEC_PER_SEC, TF_OP_UNKNOWN, "write");
    raftkv_op_result_clear(&r);

    /* refused before it was proposed: certainly no effect */
    static const char *const refused[] = {"etcdserver: too many requests", "raft proposal dropped",
                                          "etcdserver: request is too large"};
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        char *b = g_strdup_printf("{\"error\":\"%s\",\"code\":14,\"message\":\"%s\"}", refused[i], refused[i]);
        fixture_http_route(e->f, "/v3/kv/put", 503, NULL, b, -1, 0);
        r = run_op(e, NULL, &wr, G_USEC_PER_SEC, TF_OP_FAIL,
                   "write {\"key\":\"k\",\"value\":\"5\"} -> fail refused before it was proposed (");
        raftkv_op_result_clear(&r);
        g_free(b);
    }

    /* garbage: a write's outcome is unknown, a read did not happen */
    fixture_http_route(e->f, "/v3/kv/put", 200, "text/plain", "<html>", -1, 0);
    r = run_op(e, NULL, &wr, G_USEC_PER_SEC, TF_OP_UNKNOWN, "write");
    raftkv_op_result_clear(&r);
    fixture_http_route_json(e->f, "/v3/kv/put", "{\"no\":\"header\"}");
    r = run_op(e, NULL, &wr, G_USEC_PER_SEC, TF_OP_UNKNOWN, "write {\"key\":\"k\",\"value\":\"5\"} -> unknown "
                                                             "write k: ");
    assert_non_null(strstr(r.error, "not an answer to a write: {\"no\":\"header\"}"));
    raftkv_op_result_clear(&r);
    fixture_http_route(e->f, "/v3/kv/range", 503, NULL, TIMED_OUT, -1, 0);
    r = run_op(e, NULL, &rd, G_USEC_PER_SEC, TF_OP_FAIL, "read {\"key\":\"k\",\"value\":null} -> fail a read "
                                                          "changes nothing: read k: POST ");
    raftkv_op_result_clear(&r);
    fixture_http_route_json(e->f, "/v3/kv/range", "{" HEADER ",\"kvs\":7}");
    r = run_op(e, NULL, &rd, G_USEC_PER_SEC, TF_OP_FAIL, "read");
    raftkv_op_result_clear(&r);

    /* no answer in time: the write may commit later (unknown), the read did not happen */
    fixture_http_route(e->f, "/v3/kv/put", 200, NULL, "{" HEADER "}", -1, 5000);
    r = run_op(e, NULL, &wr, 200 * 1000, TF_OP_UNKNOWN, "write {\"key\":\"k\",\"value\":\"5\"} -> unknown write k: "
                                                         "POST ");
    assert_non_null(strstr(r.error, "timed out after 200 ms"));
    raftkv_op_result_clear(&r);
    fixture_http_route(e->f, "/v3/kv/range", 200, NULL, "{" HEADER "}", -1, 5000);
    r = run_op(e, NULL, &rd, 200 * 1000, TF_OP_FAIL, "read");
    raftkv_op_result_clear(&r);
}

/* A member that refuses the connection never saw the request: the write did not happen
 * (writes go on a fresh connection, so curl cannot have sent it on an older one). */
static void test_unreachable_member(void **state)
{
    env *e = *state;
    char *closed = g_strdup_printf("http://127.0.0.1:%u", fixture_http_closed_port());
    raftkv_op_result r = run_op(e, closed, &wr, G_USEC_PER_SEC, TF_OP_FAIL,
                                "write {\"key\":\"k\",\"value\":\"5\"} -> fail never reached the member: "
                                "write k: POST ");
    assert_non_null(strstr(r.error, "connection refused"));
    raftkv_op_result_clear(&r);
    r = run_op(e, closed, &cas, G_USEC_PER_SEC, TF_OP_FAIL, "cas");
    raftkv_op_result_clear(&r);
    r = run_op(e, closed, &rd, G_USEC_PER_SEC, TF_OP_FAIL, "read");
    raftkv_op_result_clear(&r);
    g_free(closed);
    /* the writes went on fresh connections, the reads reuse theirs */
    fixture_http_route_json(e->f, "/v3/kv/put", "{" HEADER "}");
    fixture_http_route_json(e->f, "/v3/kv/range", "{" HEADER "}");
    guint64 before = fixture_http_connections(e->f);
    for (int i = 0; i < 3; i++) {
        raftkv_op_result a = raftkv_client_run(e->http, e->url, e->h, 1, &wr, G_USEC_PER_SEC);
        raftkv_op_result b = raftkv_client_run(e->http, e->url, e->h, 1, &rd, G_USEC_PER_SEC);
        raftkv_op_result_clear(&a);
        raftkv_op_result_clear(&b);
    }
    assert_int_equal(fixture_http_connections(e->f) - before, 3 + 1);
}

/* What is recorded checks against the registers model: the times bracket the request,
 * and a history of these operations on one consistent member is linearizable. */
static void test_history_is_checkable(void **state)
{
    env *e = *state;
    fixture_http_route_json(e->f, "/v3/kv/put", "{" HEADER "}");
    gint64 t0 = g_get_monotonic_time();
    raftkv_op_result r = raftkv_client_run(e->http, e->url, e->h, 3, &wr, G_USEC_PER_SEC);
    gint64 t1 = g_get_monotonic_time();
    raftkv_op_result_clear(&r);
    GPtrArray *ops = tf_ophistory_ops(e->h);
    const tf_op *op = ops->pdata[0];
    assert_int_equal(op->process, 3);
    assert_true(op->invoke_time >= t0 && op->invoke_time <= op->complete_time && op->complete_time <= t1);
    tf_lin_result *res = tf_lin_check_ops(ops, &raftkv_registers_model, NULL, NULL);
    assert_non_null(res);
    assert_int_equal(res->verdict, TF_LIN_OK);
    tf_lin_result_free(res);
    g_ptr_array_unref(ops);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_answers),
        T(test_compare_and_set),
        T(test_errors),
        T(test_unreachable_member),
        T(test_history_is_checkable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
