/* test_httpjson.c: bad input reaching the runtime through HTTP: a garbage body, a refused
 * connection and a timeout each become that source's error (quoting what it got), while
 * the good source is observed in the same cycle and the cycle itself succeeds; the batch
 * the observer runs again each cycle follows the source set when it changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "fixture_http.h"
#include "httpjson/httpjson.h"
#include "rt_fixture.h"

static tf_source_status *status_of(GPtrArray *st, const char *name)
{
    for (guint i = 0; i < st->len; i++)
        if (!strcmp(((tf_source_status *)st->pdata[i])->name, name))
            return st->pdata[i];
    return NULL;
}

static void test_bad_sources_fail_alone(void **unused)
{
    fixture_http *fx = fixture_http_start();
    fixture_http_route_json(fx, "/good", "{\"value\":7}");
    GString *garbage = g_string_new("<html>");
    for (int i = 0; i < 100; i++)
        g_string_append(garbage, "oops ");
    fixture_http_route(fx, "/garbage", 200, "text/html", garbage->str, -1, 0);
    fixture_http_route(fx, "/slow", 200, NULL, "{\"value\":1}", -1, 3000);
    char *urls[4] = {fixture_http_url(fx, "/good"), fixture_http_url(fx, "/garbage"),
                     fixture_http_url(fx, "/slow"),
                     g_strdup_printf("http://127.0.0.1:%u/x", fixture_http_closed_port())};
    const char *names[4] = {"good", "garbage", "slow", "refused"};
    tf_source *src[4];
    for (int i = 0; i < 4; i++)
        src[i] = tf_source_new(names[i], urls[i], NULL, NULL, NULL);
    static const char *const fields[] = {"value", NULL};
    httpjson_config hc = {.path = "", .fields = fields};
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.request_timeout_us = 200000;
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&cfg, &httpjson_observer, &hc, tf_source_provider_new_static(src, 4), &err);
    assert_non_null(rt);
    tf_handle *h = tf_runtime_handle(rt);
    assert_true(tf_runtime_cycle(rt, &err)); /* failing sources do not fail the cycle */

    tf_snapshot *snap = tf_handle_latest(h);
    const httpjson_snapshot *s = tf_snapshot_data(snap);
    assert_int_equal(s->up, 1);
    assert_int_equal(json_integer_value(httpjson_node_field(httpjson_snapshot_node(s, "good"), "value")), 7);
    const httpjson_node *g = httpjson_snapshot_node(s, "garbage");
    assert_false(g->up);
    tf_snapshot_unref(snap);

    GPtrArray *st = tf_handle_source_status(h);
    tf_source_status *sg = status_of(st, "garbage"), *sr = status_of(st, "refused"),
                     *ss = status_of(st, "slow"), *ok = status_of(st, "good");
    print_message("garbage: %s\nrefused: %s\nslow: %s\n", sg->last_error, sr->last_error, ss->last_error);
    assert_null(ok->last_error);
    assert_int_equal(ok->consecutive_failures, 0);
    assert_non_null(strstr(sg->last_error, "garbage: GET "));
    assert_non_null(strstr(sg->last_error, "body is not JSON"));
    assert_non_null(strstr(sg->last_error, "<html>oops oops"));
    assert_true(strlen(sg->last_error) < 400); /* the quote is cut at 200 bytes */
    assert_non_null(strstr(sr->last_error, "refused: GET "));
    assert_non_null(strstr(sr->last_error, "onnection refused"));
    assert_non_null(strstr(ss->last_error, "timed out after 200 ms"));
    assert_int_equal(sg->consecutive_failures, 1);
    g_ptr_array_unref(st);

    /* Each went down once: one event batch with one "up" and three "down" events. */
    GPtrArray *hist = tf_handle_batches(h);
    assert_int_equal(hist->len, 1);
    assert_int_equal(tf_batch_len(hist->pdata[0]), 4);
    g_ptr_array_unref(hist);

    tf_handle_unref(h);
    tf_runtime_free(rt);
    for (int i = 0; i < 4; i++) {
        tf_source_unref(src[i]);
        g_free(urls[i]);
    }
    g_string_free(garbage, TRUE);
    fixture_http_free(fx);
}

static void test_stop_interrupts_slow_cycle(void **unused)
{
    fixture_http *fx = fixture_http_start();
    fixture_http_route(fx, "/slow", 200, NULL, "{}", -1, 10000);
    char *url = fixture_http_url(fx, "/slow");
    tf_source *src = tf_source_new("slow", url, NULL, NULL, NULL);
    httpjson_config hc = {.path = ""};
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.request_timeout_us = 60 * G_USEC_PER_SEC;
    tf_runtime *rt = tf_runtime_new(&cfg, &httpjson_observer, &hc, tf_source_provider_new_static(&src, 1), NULL);
    assert_true(tf_runtime_start(rt, NULL));
    assert_true(fixture_http_wait_in_flight(fx, 1, 5000)); /* the cycle hangs on the source */
    tf_runtime_stop(rt);
    /* Structural, not timed: the server still holds the request unanswered (its 10 s
     * delay runs), so stop interrupted the cycle instead of waiting for the answer. */
    assert_int_equal(fixture_http_in_flight(fx), 1);
    tf_handle *h = tf_runtime_handle(rt);
    tf_failure *f = tf_handle_last_error(h);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "interrupted"));
    tf_failure_free(f);
    tf_handle_unref(h);
    tf_runtime_free(rt);
    tf_source_unref(src);
    g_free(url);
    fixture_http_free(fx);
}

/* A provider whose set the test changes between cycles (sources referenced). */
typedef struct {
    GPtrArray *now;
} changing;

static gboolean changing_list(void *self, GPtrArray *out, GError **error)
{
    changing *c = self;
    for (guint i = 0; i < c->now->len; i++)
        g_ptr_array_add(out, tf_source_ref(c->now->pdata[i]));
    return TRUE;
}

static void changing_free(void *self) {}

static const tf_source_provider_vtable changing_vt = {"changing", changing_list, changing_free};

static void expect_values(tf_handle *h, const char *const *names, const int *values, guint n)
{
    tf_snapshot *snap = tf_handle_latest(h);
    const httpjson_snapshot *s = tf_snapshot_data(snap);
    assert_int_equal(s->n, n);
    assert_int_equal(s->up, n);
    for (guint i = 0; i < n; i++) {
        const httpjson_node *node = httpjson_snapshot_node(s, names[i]);
        assert_non_null(node);
        assert_int_equal(json_integer_value(httpjson_node_field(node, "value")), values[i]);
    }
    tf_snapshot_unref(snap);
}

/* The observer runs one batch again while the sources stay; when they change, the next
 * cycle polls exactly the new set (a new source, one gone, one at a new URL). */
static void test_batch_follows_the_source_set(void **unused)
{
    fixture_http *fx = fixture_http_start();
    for (int i = 1; i <= 4; i++) {
        char *path = g_strdup_printf("/n%d", i), *body = g_strdup_printf("{\"value\":%d}", i);
        fixture_http_route_json(fx, path, body);
        g_free(path);
        g_free(body);
    }
    char *u[5];
    for (int i = 1; i <= 4; i++) {
        char *path = g_strdup_printf("/n%d", i);
        u[i] = fixture_http_url(fx, path);
        g_free(path);
    }
    changing c = {g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref)};
    g_ptr_array_add(c.now, tf_source_new("a", u[1], NULL, NULL, NULL));
    g_ptr_array_add(c.now, tf_source_new("b", u[2], NULL, NULL, NULL));
    static const char *const fields[] = {"value", NULL};
    httpjson_config hc = {.path = "", .fields = fields};
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    tf_runtime *rt = tf_runtime_new(&cfg, &httpjson_observer, &hc,
                                    tf_source_provider_new(&changing_vt, &c), NULL);
    tf_handle *h = tf_runtime_handle(rt);
    for (int i = 0; i < 3; i++)
        assert_true(tf_runtime_cycle(rt, NULL));
    expect_values(h, (const char *[]){"a", "b"}, (const int[]){1, 2}, 2);
    assert_int_equal(fixture_http_requests_to(fx, "/n1"), 3);
    assert_int_equal(fixture_http_requests_to(fx, "/n2"), 3);

    /* b moves to /n3, c comes (/n4), a goes */
    g_ptr_array_set_size(c.now, 0);
    g_ptr_array_add(c.now, tf_source_new("b", u[3], NULL, NULL, NULL));
    g_ptr_array_add(c.now, tf_source_new("c", u[4], NULL, NULL, NULL));
    for (int i = 0; i < 2; i++)
        assert_true(tf_runtime_cycle(rt, NULL));
    expect_values(h, (const char *[]){"b", "c"}, (const int[]){3, 4}, 2);
    assert_int_equal(fixture_http_requests_to(fx, "/n1"), 3);
    assert_int_equal(fixture_http_requests_to(fx, "/n2"), 3);
    assert_int_equal(fixture_http_requests_to(fx, "/n3"), 2);
    assert_int_equal(fixture_http_requests_to(fx, "/n4"), 2);

    tf_handle_unref(h);
    tf_runtime_free(rt);
    g_ptr_array_unref(c.now);
    for (int i = 1; i <= 4; i++)
        g_free(u[i]);
    fixture_http_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_sources_fail_alone),
        cmocka_unit_test(test_stop_interrupts_slow_cycle),
        cmocka_unit_test(test_batch_follows_the_source_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
