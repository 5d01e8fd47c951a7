/* test_lincheck.c: the linearizability checker on small histories whose verdict is known
 * by hand: the register examples of the MIT 6.824 quiz that Porcupine's tests use,
 * fail/unknown/pending completions, cas answers, equal timestamps, the exact place of a
 * violation, partitions, the time limit (unknown, never linearizable), model errors with
 * file:line, and the SVG drawing (well-formed XML, the failing operation marked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <tf/tf.h>
#include "raftkv/lin_models.h"

static const tf_lin_model *reg = &raftkv_register_model;

/* An operation [t0, t1] of process p; the input/output are JSON texts ("null" allowed). */
static guint64 op(tf_ophistory *h, gint64 p, gint64 t0, gint64 t1, const char *name,
                  const char *in, tf_op_status st, const char *out)
{
    json_t *i = json_loads(in, JSON_DECODE_ANY, NULL), *o = out ? json_loads(out, JSON_DECODE_ANY, NULL) : NULL;
    assert_non_null(i);
    guint64 id = tf_ophistory_invoke_at(h, t0, p, name, i);
    if (st != TF_OP_PENDING)
        assert_true(tf_ophistory_complete_at(h, t1, id, st, o, NULL, NULL));
    json_decref(i);
    json_decref(o);
    return id;
}

static tf_lin_verdict verdict(tf_ophistory *h, const tf_lin_model *m)
{
    GError *err = NULL;
    tf_lin_result *r = tf_lin_check(h, m, NULL, &err);
    if (!r)
        fail_msg("check failed: %s", err->message);
    tf_lin_verdict v = r->verdict;
    tf_lin_result_free(r);
    return v;
}

static void test_quiz_examples(void **unused)
{
    /* linearizable: the first read may come before the write, the second after */
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 100, "write", "100", TF_OP_OK, "null");
    op(h, 1, 25, 75, "read", "null", TF_OP_OK, "100");
    op(h, 2, 30, 60, "read", "null", TF_OP_OK, "null");
    assert_int_equal(verdict(h, reg), TF_LIN_OK);
    tf_ophistory_free(h);
    /* not: once a read saw 200, a later read cannot see the old nil */
    h = tf_ophistory_new();
    op(h, 0, 0, 100, "write", "200", TF_OP_OK, "null");
    op(h, 1, 10, 30, "read", "null", TF_OP_OK, "200");
    op(h, 2, 40, 90, "read", "null", TF_OP_OK, "null");
    assert_int_equal(verdict(h, reg), TF_LIN_VIOLATION);
    tf_ophistory_free(h);
}

static void test_equal_times_overlap(void **unused)
{
    /* zero-length operations: a tie counts as overlapping (Porcupine's TestZeroDuration) */
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 100, "write", "100", TF_OP_OK, "null");
    op(h, 1, 25, 75, "read", "null", TF_OP_OK, "100");
    op(h, 2, 30, 30, "read", "null", TF_OP_OK, "null");
    op(h, 3, 30, 30, "read", "null", TF_OP_OK, "null");
    assert_int_equal(verdict(h, reg), TF_LIN_OK);
    tf_ophistory_free(h);
    h = tf_ophistory_new();
    op(h, 0, 0, 100, "write", "200", TF_OP_OK, "null");
    op(h, 1, 10, 10, "read", "null", TF_OP_OK, "200");
    op(h, 2, 10, 10, "read", "null", TF_OP_OK, "200");
    op(h, 3, 40, 90, "read", "null", TF_OP_OK, "null");
    assert_int_equal(verdict(h, reg), TF_LIN_VIOLATION);
    tf_ophistory_free(h);
    /* a read completing at the very tick a write begins may still see it */
    h = tf_ophistory_new();
    op(h, 0, 50, 60, "write", "1", TF_OP_OK, "null");
    op(h, 1, 10, 50, "read", "null", TF_OP_OK, "1");
    assert_int_equal(verdict(h, reg), TF_LIN_OK);
    tf_ophistory_free(h);
}

static void test_fail_unknown_pending(void **unused)
{
    /* a failed write did not happen: nobody may read its value */
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 10, "write", "1", TF_OP_FAIL, NULL);
    op(h, 1, 20, 30, "read", "null", TF_OP_OK, "1");
    assert_int_equal(verdict(h, reg), TF_LIN_VIOLATION);
    tf_ophistory_free(h);
    /* an unknown write may take effect after the client gave up, even after a later read
     * saw the old value */
    for (int pending = 0; pending < 2; pending++) {
        h = tf_ophistory_new();
        op(h, 0, 0, 5, "write", "1", pending ? TF_OP_PENDING : TF_OP_UNKNOWN, NULL);
        op(h, 1, 10, 20, "read", "null", TF_OP_OK, "null");
        op(h, 1, 30, 40, "read", "null", TF_OP_OK, "1");
        assert_int_equal(verdict(h, reg), TF_LIN_OK);
        tf_ophistory_free(h);
    }
    /* the same write known to be done by 5 cannot be read as nil at 10 */
    h = tf_ophistory_new();
    op(h, 0, 0, 5, "write", "1", TF_OP_OK, "null");
    op(h, 1, 10, 20, "read", "null", TF_OP_OK, "null");
    op(h, 1, 30, 40, "read", "null", TF_OP_OK, "1");
    assert_int_equal(verdict(h, reg), TF_LIN_VIOLATION);
    tf_ophistory_free(h);
    /* an unknown write takes effect at most once: 1 cannot come back after 2 */
    h = tf_ophistory_new();
    op(h, 0, 0, 5, "write", "1", TF_OP_UNKNOWN, NULL);
    op(h, 1, 10, 20, "read", "null", TF_OP_OK, "1");
    op(h, 1, 30, 40, "write", "2", TF_OP_OK, "null");
    op(h, 1, 50, 60, "read", "null", TF_OP_OK, "1");
    assert_int_equal(verdict(h, reg), TF_LIN_VIOLATION);
    tf_ophistory_free(h);
    /* an unknown read matches anything */
    h = tf_ophistory_new();
    op(h, 0, 0, 5, "write", "1", TF_OP_OK, "null");
    op(h, 1, 10, 20, "read", "null", TF_OP_UNKNOWN, NULL);
    assert_int_equal(verdict(h, reg), TF_LIN_OK);
    tf_ophistory_free(h);
}

static void test_cas_answers(void **unused)
{
    /* cas answered true needs the register to hold `from`; false needs it not to */
    const struct {
        const char *out;
        const char *later_read;
        tf_lin_verdict want;
    } cases[] = {
        {"true", "2", TF_LIN_OK},        {"true", "1", TF_LIN_VIOLATION},
        {"[1,2]", "2", TF_LIN_OK},       /* Jepsen's echo of the arguments counts as done */
        {"false", "2", TF_LIN_VIOLATION}, {"false", "1", TF_LIN_VIOLATION},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        tf_ophistory *h = tf_ophistory_new();
        op(h, 0, 0, 5, "write", "1", TF_OP_OK, "null");
        op(h, 0, 10, 20, "cas", "[1,2]", TF_OP_OK, cases[i].out);
        op(h, 0, 30, 40, "read", "null", TF_OP_OK, cases[i].later_read);
        if (verdict(h, reg) != cases[i].want)
            fail_msg("case %u: cas -> %s then read %s", i, cases[i].out, cases[i].later_read);
        tf_ophistory_free(h);
    }
    /* cas refused while the register held something else */
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 5, "write", "3", TF_OP_OK, "null");
    op(h, 0, 10, 20, "cas", "[1,2]", TF_OP_OK, "false");
    op(h, 0, 30, 40, "read", "null", TF_OP_OK, "3");
    assert_int_equal(verdict(h, reg), TF_LIN_OK);
    tf_ophistory_free(h);
    /* values compare as JSON, whatever their spelling; nil is not "" */
    h = tf_ophistory_new();
    op(h, 0, 0, 5, "write", "{\"b\": 1, \"a\": [1, 2]}", TF_OP_OK, "null");
    op(h, 0, 10, 20, "read", "null", TF_OP_OK, "{\"a\":[1,2],\"b\":1}");
    assert_int_equal(verdict(h, reg), TF_LIN_OK);
    op(h, 0, 30, 40, "read", "null", TF_OP_OK, "\"\"");
    assert_int_equal(verdict(h, reg), TF_LIN_VIOLATION);
    tf_ophistory_free(h);
}

static void test_violation_is_located(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    guint64 w = op(h, 0, 0, 100, "write", "200", TF_OP_OK, "null");
    guint64 r1 = op(h, 1, 10, 30, "read", "null", TF_OP_OK, "200");
    guint64 r2 = op(h, 2, 40, 90, "read", "null", TF_OP_OK, "null");
    op(h, 3, 200, 210, "read", "null", TF_OP_OK, "200"); /* after the failure: irrelevant */
    tf_lin_result *r = tf_lin_check(h, reg, NULL, NULL);
    assert_int_equal(r->verdict, TF_LIN_VIOLATION);
    assert_int_equal(r->failing_op, r2);
    /* events: w+ r1+ r1- r2+ | r2- ...: four can be linearized, the fifth cannot */
    assert_int_equal(r->part_events, 8);
    assert_int_equal(r->prefix_events, 4);
    assert_int_equal(r->linearized->len, 2);
    assert_int_equal(g_array_index(r->linearized, guint64, 0), w);
    assert_int_equal(g_array_index(r->linearized, guint64, 1), r1);
    assert_int_equal(r->involved->len, 1);
    assert_int_equal(g_array_index(r->involved, guint64, 0), w);
    assert_string_equal(r->state, "register = 200");
    assert_null(r->part);
    assert_int_equal(r->ops, 4);
    assert_string_equal(r->summary,
                        "the first 4 of 8 events can be linearized (2 operations, then register "
                        "= 200) but not event 5: the completion of op 3 (process 2, read() -> "
                        "nil); concurrent with it: op 1 (process 0, write(200))");
    tf_lin_result_free(r);
    tf_ophistory_free(h);
}

/* kv: keys are checked apart; a violation names its key */
static void test_partitions(void **unused)
{
    const tf_lin_model *kv = &raftkv_kv_model;
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 10, "put", "{\"key\":\"a\",\"value\":\"x\"}", TF_OP_OK, "null");
    op(h, 1, 0, 10, "append", "{\"key\":\"b\",\"value\":\"1\"}", TF_OP_OK, "null");
    op(h, 0, 20, 30, "append", "{\"key\":\"a\",\"value\":\"y\"}", TF_OP_OK, "null");
    op(h, 1, 20, 30, "append", "{\"key\":\"b\",\"value\":\"2\"}", TF_OP_OK, "null");
    op(h, 2, 40, 50, "get", "{\"key\":\"a\"}", TF_OP_OK, "\"xy\"");
    op(h, 2, 60, 70, "get", "{\"key\":\"c\"}", TF_OP_OK, "null"); /* never written: "" */
    guint64 bad = op(h, 3, 40, 50, "get", "{\"key\":\"b\"}", TF_OP_OK, "\"2\"");
    tf_lin_result *r = tf_lin_check(h, kv, NULL, NULL);
    assert_int_equal(r->verdict, TF_LIN_VIOLATION);
    assert_int_equal(r->parts, 3); /* smallest first: c, then a and b (3 ops each) */
    assert_string_equal(r->part, "b");
    assert_int_equal(r->failing_op, bad);
    assert_string_equal(r->state, "\"b\" = \"12\"");
    assert_int_equal(r->part_events, 6);
    tf_lin_result_free(r);
    tf_lin_options whole = {.whole = TRUE};
    r = tf_lin_check(h, kv, &whole, NULL);
    assert_int_equal(r->verdict, TF_LIN_VIOLATION);
    assert_int_equal(r->parts, 1);
    assert_null(r->part);
    assert_int_equal(r->failing_op, bad);
    assert_int_equal(r->part_events, 14);
    tf_lin_result_free(r);
    tf_ophistory_free(h);
}

/* n writes of distinct values overlapping each other and a read of a value never written:
 * refuting it means trying every order of every subset of the writes. */
static tf_ophistory *hard_history(int n)
{
    tf_ophistory *h = tf_ophistory_new();
    for (int i = 0; i < n; i++) {
        char v[16];
        g_snprintf(v, sizeof v, "%d", i);
        op(h, i, i, 1000, "write", v, TF_OP_OK, "null");
    }
    op(h, n, 500, 600, "read", "null", TF_OP_OK, "-1");
    return h;
}

static void test_time_limit_gives_unknown(void **unused)
{
    tf_ophistory *h = hard_history(10);
    assert_int_equal(verdict(h, reg), TF_LIN_VIOLATION); /* small: refuted in full */
    tf_ophistory_free(h);
    h = hard_history(60); /* 2^60 sets: no verdict in any time */
    tf_lin_options o = {.timeout_us = 200 * 1000};
    tf_lin_result *r = tf_lin_check(h, reg, &o, NULL);
    assert_int_equal(r->verdict, TF_LIN_UNKNOWN);
    assert_true(r->elapsed_us >= o.timeout_us);
    assert_true(r->steps > 0);
    assert_null(r->linearized);
    assert_true(g_str_has_prefix(r->summary, "time limit of 0.2 s reached (61 operations) after "));
    tf_lin_result_free(r);
    tf_ophistory_free(h);
}

static void test_model_errors_name_the_line(void **unused)
{
    static const char text[] = "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
                               "INFO  jepsen.util - 1\t:ok\t:read\t3\n"
                               "INFO  jepsen.util - 2\t:invoke\t:cas\t[1 2 3]\n";
    tf_ophistory *h = tf_ophistory_parse("x.log", text, sizeof text - 1, NULL);
    GError *err = NULL;
    tf_lin_options o = {.source = "x.log"};
    assert_null(tf_lin_check(h, reg, &o, &err));
    assert_string_equal(err->message, "x.log:3: op 2 cas([1,2,3]) -> ?: cas input must be [from, to]");
    g_clear_error(&err);
    assert_null(tf_lin_check(h, &raftkv_kv_model, NULL, &err));
    assert_string_equal(err->message, "op 1 read() -> 3: the kv model has no operation \"read\" "
                                      "(get, put, append)");
    g_clear_error(&err);
    tf_ophistory_free(h);
}

/* Each model refuses malformed operations with a reason. */
static void test_models_refuse_malformed(void **unused)
{
    const struct {
        const tf_lin_model *m;
        const char *name, *in, *out, *why;
    } cases[] = {
        {&raftkv_register_model, "cas", "[1]", "true", "cas input must be [from, to]"},
        {&raftkv_register_model, "cas", "{\"from\":1}", NULL, "cas input must be [from, to]"},
        {&raftkv_register_model, "delete", "null", NULL,
         "the register model has no operation \"delete\" (read, write, cas)"},
        {&raftkv_kv_model, "get", "\"k\"", "\"\"", "get input must be {\"key\": K, ...} with a string key"},
        {&raftkv_kv_model, "put", "{\"key\":[1]}", NULL, "put input must be {\"key\": K, ...} with a string key"},
        {&raftkv_kv_model, "append", "{\"key\":\"k\"}", NULL, "append input needs a string \"value\""},
        {&raftkv_kv_model, "get", "{\"key\":\"k\"}", "[1]", "get output must be a string"},
        {&raftkv_kv_model, "cas", "{\"key\":\"k\"}", NULL,
         "the kv model has no operation \"cas\" (get, put, append)"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *in = json_loads(cases[i].in, JSON_DECODE_ANY, NULL);
        json_t *out = cases[i].out ? json_loads(cases[i].out, JSON_DECODE_ANY, NULL) : NULL;
        GError *err = NULL;
        assert_null(cases[i].m->op_new(cases[i].name, in, out, &err));
        assert_true(g_error_matches(err, TF_ERROR, TF_ERROR_INVALID));
        assert_string_equal(err->message, cases[i].why);
        g_error_free(err);
        json_decref(in);
        json_decref(out);
    }
    /* integer keys are keys too; a get of null reads "" */
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 10, "put", "{\"key\":7,\"value\":\"a\"}", TF_OP_OK, "null");
    op(h, 0, 20, 30, "get", "{\"key\":\"7\"}", TF_OP_OK, "\"a\"");
    op(h, 0, 40, 50, "get", "{\"key\":8}", TF_OP_OK, "null");
    op(h, 0, 60, 70, "put", "{\"key\":7,\"value\":\"\"}", TF_OP_OK, "null");
    op(h, 0, 80, 90, "get", "{\"key\":7}", TF_OP_OK, "\"\"");
    assert_int_equal(verdict(h, &raftkv_kv_model), TF_LIN_OK);
    tf_ophistory_free(h);
    assert_ptr_equal(raftkv_lin_model("register"), &raftkv_register_model);
    assert_ptr_equal(raftkv_lin_model("kv"), &raftkv_kv_model);
    assert_null(raftkv_lin_model("queue"));
}

/* ---- SVG ------------------------------------------------------------------------------- */

typedef struct {
    GString *failing, *involved; /* data-op of each such group */
    guint groups;
    gboolean svg_root;
} svg_scan;

static void svg_start(GMarkupParseContext *ctx, const char *el, const char **names,
                      const char **values, void *data, GError **err)
{
    svg_scan *s = data;
    if (!strcmp(el, "svg"))
        s->svg_root = g_markup_parse_context_get_element_stack(ctx)->next == NULL;
    if (strcmp(el, "g"))
        return;
    const char *cls = NULL, *id = NULL;
    for (int i = 0; names[i]; i++) {
        if (!strcmp(names[i], "class"))
            cls = values[i];
        if (!strcmp(names[i], "data-op"))
            id = values[i];
    }
    if (!cls || !g_str_has_prefix(cls, "op"))
        return;
    s->groups++;
    if (strstr(cls, "failing"))
        g_string_append_printf(s->failing, "%s ", id);
    if (strstr(cls, "involved"))
        g_string_append_printf(s->involved, "%s ", id);
}

/* Parses svg as XML (fails the test when it is not well-formed). */
static svg_scan scan_svg(const char *svg)
{
    GMarkupParser p = {.start_element = svg_start};
    svg_scan s = {g_string_new(NULL), g_string_new(NULL), 0, FALSE};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&p, 0, &s, NULL);
    GError *err = NULL;
    const char *body = strstr(svg, "<svg"); /* GMarkup does not take the XML declaration */
    assert_true(g_str_has_prefix(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    if (!g_markup_parse_context_parse(ctx, body, -1, &err) ||
        !g_markup_parse_context_end_parse(ctx, &err))
        fail_msg("not well-formed: %s\n%s", err->message, svg);
    g_markup_parse_context_free(ctx);
    assert_true(s.svg_root);
    return s;
}

static void scan_free(svg_scan *s)
{
    g_string_free(s->failing, TRUE);
    g_string_free(s->involved, TRUE);
}

static void test_svg_marks_the_failure(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 100, "write", "\"<&'\\\">\"", TF_OP_OK, "null"); /* markup in values */
    op(h, 1, 10, 30, "read", "null", TF_OP_OK, "\"<&'\\\">\"");
    op(h, 2, 40, 90, "read", "null", TF_OP_OK, "null");
    op(h, 3, 45, 95, "write", "2", TF_OP_FAIL, NULL);
    op(h, 4, 35, 50, "write", "\"<&'\\\">\"", TF_OP_UNKNOWN, NULL);
    GPtrArray *ops = tf_ophistory_ops(h);
    tf_lin_result *r = tf_lin_check_ops(ops, reg, NULL, NULL);
    assert_int_equal(r->verdict, TF_LIN_VIOLATION);
    assert_int_equal(r->failing_op, 3);
    char *svg = tf_lin_svg(ops, reg, r);
    svg_scan s = scan_svg(svg);
    assert_string_equal(s.failing->str, "3 ");
    assert_string_equal(s.involved->str, "1 5 ");
    assert_int_equal(s.groups, 4); /* the failed write had no effect: not drawn */
    assert_non_null(strstr(svg, "class=\"op involved unknown\" data-op=\"5\""));
    assert_non_null(strstr(svg, "&lt;&amp;&apos;\\&quot;&gt;"));
    assert_non_null(strstr(svg, "read() -&gt; nil"));
    scan_free(&s);
    g_free(svg);
    /* without a result: every operation, failed ones too, nothing marked */
    svg = tf_lin_svg(ops, NULL, NULL);
    s = scan_svg(svg);
    assert_int_equal(s.groups, 5);
    assert_string_equal(s.failing->str, "");
    assert_non_null(strstr(svg, "class=\"op fail\""));
    scan_free(&s);
    g_free(svg);
    tf_lin_result_free(r);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

static void test_svg_of_a_part(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 10, "put", "{\"key\":\"a\",\"value\":\"x\"}", TF_OP_OK, "null");
    op(h, 1, 0, 10, "put", "{\"key\":\"b\",\"value\":\"x\"}", TF_OP_OK, "null");
    op(h, 2, 20, 30, "get", "{\"key\":\"b\"}", TF_OP_OK, "\"\"");
    GPtrArray *ops = tf_ophistory_ops(h);
    tf_lin_result *r = tf_lin_check_ops(ops, &raftkv_kv_model, NULL, NULL);
    assert_string_equal(r->part, "b");
    char *svg = tf_lin_svg(ops, &raftkv_kv_model, r);
    svg_scan s = scan_svg(svg);
    assert_int_equal(s.groups, 2); /* only key b's operations */
    assert_string_equal(s.failing->str, "3 ");
    assert_non_null(strstr(svg, "NOT linearizable (part b)"));
    scan_free(&s);
    g_free(svg);
    tf_lin_result_free(r);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

static void test_empty_history(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    tf_lin_result *r = tf_lin_check(h, reg, NULL, NULL);
    assert_int_equal(r->verdict, TF_LIN_OK);
    assert_int_equal(r->ops, 0);
    tf_lin_result_free(r);
    tf_ophistory_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiz_examples),
        cmocka_unit_test(test_equal_times_overlap),
        cmocka_unit_test(test_fail_unknown_pending),
        cmocka_unit_test(test_cas_answers),
        cmocka_unit_test(test_violation_is_located),
        cmocka_unit_test(test_partitions),
        cmocka_unit_test(test_time_limit_gives_unknown),
        cmocka_unit_test(test_model_errors_name_the_line),
        cmocka_unit_test(test_models_refuse_malformed),
        cmocka_unit_test(test_svg_marks_the_failure),
        cmocka_unit_test(test_svg_of_a_part),
        cmocka_unit_test(test_empty_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
