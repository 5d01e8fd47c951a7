/* test_lin_registers.c: the keyed-registers model (one register per key, what the etcd
 * client workload records): hand cases where keys must be told apart (a history that is
 * linearizable per key but not as one register), a stale read refuted in its key's part,
 * cas on keys, malformed operations refused with their reason; random histories of a
 * simulated store (linearizable by construction) checked by key and whole, which must
 * agree, and each with one read made truly stale, which must be refuted; and the prune
 * of unknown operations, which must leave out what it can and never change a verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <tf/tf.h>
#include "raftkv/lin_models.h"

static const tf_lin_model *regs = &raftkv_registers_model;

/* An operation [t0, t1] of process p on key: value/out are JSON texts (NULL: none). */
static guint64 op(tf_ophistory *h, gint64 p, gint64 t0, gint64 t1, const char *name,
                  const char *key, const char *value, tf_op_status st, const char *out)
{
    json_t *v = value ? json_loads(value, JSON_DECODE_ANY, NULL) : json_null();
    json_t *in = json_pack("{s:s, s:o}", "key", key, "value", v);
    json_t *o = out ? json_loads(out, JSON_DECODE_ANY, NULL) : NULL;
    guint64 id = tf_ophistory_invoke_at(h, t0, p, name, in);
    if (st != TF_OP_PENDING) /* an unknown one's completion time does not matter: t1 0 */
        assert_true(tf_ophistory_complete_at(h, MAX(t0, t1), id, st, o, NULL, NULL));
    json_decref(in);
    json_decref(o);
    return id;
}

static tf_lin_result *check(tf_ophistory *h, gboolean whole)
{
    GError *err = NULL;
    tf_lin_options o = {.whole = whole};
    tf_lin_result *r = tf_lin_check(h, regs, &o, &err);
    if (!r)
        fail_msg("check failed: %s", err->message);
    return r;
}

static tf_lin_verdict verdict(tf_ophistory *h, gboolean whole)
{
    tf_lin_result *r = check(h, whole);
    tf_lin_verdict v = r->verdict;
    tf_lin_result_free(r);
    return v;
}

static void test_keys_are_apart(void **unused)
{
    /* "a" is written, then "b" reads nil: fine for two registers, and it would not be
     * for one (the register model, which ignores keys, refutes the same operations) */
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 10, "write", "a", "\"1\"", TF_OP_OK, "null");
    op(h, 1, 20, 30, "read", "b", NULL, TF_OP_OK, "null");
    op(h, 1, 40, 50, "read", "a", NULL, TF_OP_OK, "\"1\"");
    assert_int_equal(verdict(h, FALSE), TF_LIN_OK);
    assert_int_equal(verdict(h, TRUE), TF_LIN_OK);
    GPtrArray *ops = tf_ophistory_ops(h);
    for (guint i = 0; i < ops->len; i++) { /* the same operations on one register */
        tf_op *o = ops->pdata[i];
        json_t *v = json_incref(json_object_get(o->input, "value"));
        json_decref(o->input);
        o->input = v;
    }
    tf_lin_result *r = tf_lin_check_ops(ops, &raftkv_register_model, NULL, NULL);
    assert_int_equal(r->verdict, TF_LIN_VIOLATION);
    tf_lin_result_free(r);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

static void test_stale_read_in_its_part(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 10, "write", "a", "\"1\"", TF_OP_OK, "null");
    op(h, 0, 11, 20, "write", "b", "\"x\"", TF_OP_OK, "null");
    op(h, 1, 21, 30, "cas", "b", "[\"x\", \"y\"]", TF_OP_OK, "true");
    op(h, 2, 22, 31, "cas", "a", "[\"0\", \"2\"]", TF_OP_OK, "false");
    guint64 stale = op(h, 2, 40, 50, "read", "b", NULL, TF_OP_OK, "\"x\"");
    op(h, 3, 40, 50, "read", "a", NULL, TF_OP_OK, "\"1\"");
    tf_lin_result *r = check(h, FALSE);
    assert_int_equal(r->verdict, TF_LIN_VIOLATION);
    assert_string_equal(r->part, "b");
    assert_int_equal(r->failing_op, stale);
    assert_non_null(strstr(r->state, "b = \"y\""));
    tf_lin_result_free(r);
    r = check(h, TRUE); /* the same verdict without the partition */
    assert_int_equal(r->verdict, TF_LIN_VIOLATION);
    assert_null(r->part);
    tf_lin_result_free(r);
    /* the SVG labels an operation with its key */
    GPtrArray *ops = tf_ophistory_ops(h);
    r = check(h, FALSE);
    char *svg = tf_lin_svg(ops, regs, r);
    assert_non_null(strstr(svg, "b: read() -&gt; &quot;x&quot;"));
    g_free(svg);
    tf_lin_result_free(r);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

/* Fault windows are drawn behind the operations, among them by time, and named; the
 * drawing stays well-formed XML. */
static void test_svg_faults(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    op(h, 0, 0, 10, "write", "a", "\"1\"", TF_OP_OK, "null");
    tf_ophistory_fault_begin_at(h, 15, "n1", "paused <for> a while");
    op(h, 0, 20, 30, "write", "a", "\"2\"", TF_OP_OK, "null");
    tf_ophistory_fault_end_at(h, 35, "n1");
    op(h, 1, 40, 50, "read", "a", NULL, TF_OP_OK, "\"1\"");
    tf_ophistory_fault_begin_at(h, 45, "partition", NULL); /* active to the end */
    GPtrArray *ops = tf_ophistory_ops(h), *faults = tf_ophistory_faults(h);
    tf_lin_result *r = check(h, FALSE);
    assert_int_equal(r->verdict, TF_LIN_VIOLATION);
    char *svg = tf_lin_svg_faults(ops, faults, regs, r);
    assert_non_null(strstr(svg, "<g class=\"fault\"><title>fault: n1 paused &lt;for&gt; a while</title>"));
    assert_non_null(strstr(svg, "<title>fault: partition (until the end)</title>"));
    GMarkupParser p = {0};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&p, 0, NULL, NULL);
    GError *err = NULL;
    if (!g_markup_parse_context_parse(ctx, strstr(svg, "<svg"), -1, &err) ||
        !g_markup_parse_context_end_parse(ctx, &err))
        fail_msg("not well-formed: %s\n%s", err->message, svg);
    g_markup_parse_context_free(ctx);
    g_free(svg);
    svg = tf_lin_svg(ops, regs, r); /* without faults: none drawn */
    assert_null(strstr(svg, "class=\"fault\""));
    g_free(svg);
    tf_lin_result_free(r);
    g_ptr_array_unref(faults);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

static void test_malformed_operations(void **unused)
{
    static const struct {
        const char *name, *input, *why;
    } cases[] = {
        {"read", "null", "read input must be {\"key\": K, \"value\": V} with a string key"},
        {"write", "{\"value\": 1}", "write input must be {\"key\": K, \"value\": V} with a string key"},
        {"cas", "{\"key\": \"a\", \"value\": 1}", "cas input must be [from, to]"},
        {"append", "{\"key\": \"a\", \"value\": 1}", "the register model has no operation \"append\" (read, write, cas)"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *in = json_loads(cases[i].input, JSON_DECODE_ANY, NULL);
        GError *err = NULL;
        void *o = regs->op_new(cases[i].name, in, NULL, &err);
        assert_null(o);
        assert_string_equal(err->message, cases[i].why);
        g_error_free(err);
        json_decref(in);
    }
    json_t *in = json_pack("{s:i, s:n}", "key", 7, "value");
    void *o = regs->op_new("read", in, NULL, NULL); /* an integer key is a key */
    assert_non_null(o);
    assert_string_equal(regs->op_partition(o), "7");
    char *d = regs->op_describe(o);
    assert_string_equal(d, "7: read() -> ?");
    g_free(d);
    regs->op_free(o);
    json_decref(in);
}

/* The registers model without its prune: the plain search, to compare verdicts with. */
static tf_lin_model no_prune(void)
{
    tf_lin_model m = raftkv_registers_model;
    m.prune = NULL;
    return m;
}

/* Unknown writes nobody observed cannot change a verdict and are left out: a history of
 * many of them is checked at once instead of searching their 2^n subsets. Two cases show
 * the limits of that rule: a refused cas that did not say what the register held, and a
 * value expected by an unknown cas, each keep the unknown write they may need. */
static void test_prune_unknown_writes(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    for (int i = 0; i < 40; i++) {
        char v[16];
        g_snprintf(v, sizeof v, "\"%d\"", i);
        op(h, 100 + i, 10 * i, 0, "write", "a", v, TF_OP_UNKNOWN, NULL); /* a timed-out write each */
        op(h, 0, 10 * i + 1, 10 * i + 2, "read", "a", NULL, TF_OP_OK, "null");
    }
    op(h, 1, 500, 0, "read", "a", NULL, TF_OP_UNKNOWN, NULL);
    tf_lin_result *r = check(h, FALSE);
    assert_int_equal(r->verdict, TF_LIN_OK);
    assert_int_equal(r->pruned, 41);
    assert_non_null(strstr(r->summary, "(41 of unknown outcome that cannot change the verdict left out)"));
    tf_lin_result_free(r);
    /* one of them read: that one stays, and the history is still linearizable */
    op(h, 2, 600, 610, "read", "a", NULL, TF_OP_OK, "\"7\"");
    r = check(h, FALSE);
    assert_int_equal(r->verdict, TF_LIN_OK);
    assert_int_equal(r->pruned, 40);
    tf_lin_result_free(r);
    tf_ophistory_free(h);

    /* w is written; an unknown write of v; a refused cas from w. Only v explains the
     * refusal: with a plain "false" nothing may be dropped, ... */
    h = tf_ophistory_new();
    op(h, 0, 0, 10, "write", "a", "\"w\"", TF_OP_OK, "null");
    op(h, 1, 20, 0, "write", "a", "\"v\"", TF_OP_UNKNOWN, NULL);
    op(h, 0, 30, 40, "cas", "a", "[\"w\", \"z\"]", TF_OP_OK, "false");
    r = check(h, FALSE);
    assert_int_equal(r->verdict, TF_LIN_OK);
    assert_int_equal(r->pruned, 0);
    tf_lin_result_free(r);
    tf_ophistory_free(h);
    /* ... and one that said what it held observed v: kept, linearizable */
    h = tf_ophistory_new();
    op(h, 0, 0, 10, "write", "a", "\"w\"", TF_OP_OK, "null");
    op(h, 1, 20, 0, "write", "a", "\"v\"", TF_OP_UNKNOWN, NULL);
    op(h, 0, 30, 40, "cas", "a", "[\"w\", \"z\"]", TF_OP_OK, "{\"ok\": false, \"value\": \"v\"}");
    r = check(h, FALSE);
    assert_int_equal(r->verdict, TF_LIN_OK);
    assert_int_equal(r->pruned, 0);
    tf_lin_result_free(r);
    /* a refusal that held w would be a lie: the cas expected w */
    op(h, 2, 50, 60, "cas", "a", "[\"w\", \"z\"]", TF_OP_OK, "{\"ok\": false, \"value\": \"w\"}");
    assert_int_equal(verdict(h, FALSE), TF_LIN_VIOLATION);
    tf_ophistory_free(h);

    /* an unknown cas expecting v needs the unknown write of v to explain a read of t */
    h = tf_ophistory_new();
    op(h, 1, 0, 0, "write", "a", "\"v\"", TF_OP_UNKNOWN, NULL);
    op(h, 2, 10, 0, "cas", "a", "[\"v\", \"t\"]", TF_OP_UNKNOWN, NULL);
    op(h, 3, 20, 30, "read", "a", NULL, TF_OP_OK, "\"t\"");
    r = check(h, FALSE);
    assert_int_equal(r->verdict, TF_LIN_OK);
    assert_int_equal(r->pruned, 0);
    tf_lin_result_free(r);
    tf_ophistory_free(h);

    /* a refused cas's output must say what it held */
    json_t *in = json_pack("{s:s, s:[s, s]}", "key", "a", "value", "1", "2");
    json_t *out = json_pack("{s:b}", "ok", FALSE);
    GError *err = NULL;
    assert_null(regs->op_new("cas", in, out, &err));
    assert_string_equal(err->message, "a refused cas's output {\"ok\": false, \"value\": V} needs the value V it held");
    g_error_free(err);
    json_decref(in);
    json_decref(out);
}

/* ---- random histories ---------------------------------------------------------------- */

/* One planned operation of a simulated run. */
typedef struct {
    gint64 invoke, effect, complete; /* effect: when it applies, inside [invoke, complete] */
    gint64 process;
    char key[8];
    const char *name;
    json_t *input, *output;          /* output: once applied */
    tf_op_status end;
    guint64 id;
} planned;

typedef struct {
    gint64 t;
    guint i;
    int kind; /* 0 invoke, 1 complete; effects are ordered apart */
} event;

static int event_cmp(gconstpointer a, gconstpointer b)
{
    const event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return x->i < y->i ? -1 : x->i > y->i;
}

static json_t *text_of(gint64 v)
{
    return json_sprintf("%" G_GINT64_FORMAT, v);
}

/* A history of `ops` operations by `procs` clients on `keys` keys: every operation takes
 * effect atomically at one instant inside its interval on a simulated store (unless it
 * fails, or times out and a coin says it never applied): linearizable by construction.
 * Values are unique per write. */
static tf_ophistory *simulate(guint32 seed, guint procs, guint ops, guint keys, int unknown_pct)
{
    GRand *rng = g_rand_new_with_seed(seed);
    planned *pl = g_new0(planned, ops);
    gint64 *free_at = g_new0(gint64, procs), t = 0, next = 0;
    for (guint i = 0; i < ops; i++) {
        planned *o = &pl[i];
        o->process = g_rand_int_range(rng, 0, procs);
        o->invoke = MAX(free_at[o->process], t) + g_rand_int_range(rng, 0, 3);
        o->effect = o->invoke + g_rand_int_range(rng, 0, 20);
        o->complete = o->effect + g_rand_int_range(rng, 0, 20);
        free_at[o->process] = o->complete + 1;
        t = o->invoke;
        g_snprintf(o->key, sizeof o->key, "k%d", g_rand_int_range(rng, 0, keys));
        int kind = g_rand_int_range(rng, 0, 10), fate = g_rand_int_range(rng, 0, 100);
        json_t *v;
        if (kind < 4) {
            o->name = "read";
            v = json_null();
        } else if (kind < 8 || next == 0) {
            o->name = "write";
            v = text_of(next++);
        } else {
            o->name = "cas";
            v = json_pack("[o, o]", text_of(g_rand_int_range(rng, 0, next)), text_of(next));
            next++;
        }
        o->input = json_pack("{s:s, s:o}", "key", o->key, "value", v);
        o->end = fate < 5 ? TF_OP_FAIL : fate < 5 + unknown_pct ? TF_OP_UNKNOWN : TF_OP_OK;
    }
    /* apply the effects in time order */
    GArray *effects = g_array_new(FALSE, FALSE, sizeof(event));
    for (guint i = 0; i < ops; i++) {
        event e = {pl[i].effect, i, 0};
        g_array_append_val(effects, e);
    }
    g_array_sort(effects, event_cmp);
    GHashTable *store = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    for (guint n = 0; n < effects->len; n++) {
        planned *o = &pl[g_array_index(effects, event, n).i];
        if (o->end == TF_OP_FAIL || (o->end == TF_OP_UNKNOWN && g_rand_boolean(rng)))
            continue;
        json_t *v = json_object_get(o->input, "value");
        const char *cur = g_hash_table_lookup(store, o->key);
        if (!strcmp(o->name, "read")) {
            o->output = cur ? json_string(cur) : json_null();
        } else if (!strcmp(o->name, "write")) {
            g_hash_table_insert(store, o->key, g_strdup(json_string_value(v)));
            o->output = json_null();
        } else {
            gboolean hit = cur && !strcmp(cur, json_string_value(json_array_get(v, 0)));
            /* a refusal says what the key held (as etcd's txn does), or not (Jepsen's) */
            o->output = hit ? json_true()
                        : g_rand_boolean(rng) ? json_false()
                        : json_pack("{s:b, s:o}", "ok", FALSE, "value", cur ? json_string(cur) : json_null());
            if (hit)
                g_hash_table_insert(store, o->key, g_strdup(json_string_value(json_array_get(v, 1))));
        }
    }
    g_hash_table_unref(store);
    /* record invocations and completions in time order */
    GArray *evs = g_array_new(FALSE, FALSE, sizeof(event));
    for (guint i = 0; i < ops; i++) {
        event a = {pl[i].invoke, i, 0}, b = {pl[i].complete, i, 1};
        g_array_append_val(evs, a);
        g_array_append_val(evs, b);
    }
    g_array_sort(evs, event_cmp);
    tf_ophistory *h = tf_ophistory_new();
    for (guint k = 0; k < evs->len; k++) {
        event e = g_array_index(evs, event, k);
        planned *o = &pl[e.i];
        if (e.kind == 0)
            o->id = tf_ophistory_invoke_at(h, e.t, o->process, o->name, o->input);
        else
            assert_true(tf_ophistory_complete_at(h, e.t, o->id, o->end,
                                                 o->end == TF_OP_OK ? o->output : NULL, NULL, NULL));
    }
    for (guint i = 0; i < ops; i++) {
        json_decref(pl[i].input);
        json_decref(pl[i].output);
    }
    g_array_unref(evs);
    g_array_unref(effects);
    g_free(free_at);
    g_free(pl);
    g_rand_free(rng);
    return h;
}

/* The value an op surely wrote on its key (ok write, or ok cas answered true), or NULL. */
static const char *written(const tf_op *op)
{
    json_t *v = json_object_get(op->input, "value");
    if (op->status != TF_OP_OK)
        return NULL;
    if (!strcmp(op->name, "write"))
        return json_string_value(v);
    if (!strcmp(op->name, "cas") && json_is_true(op->output))
        return json_string_value(json_array_get(v, 1));
    return NULL;
}

static const char *key_of(const tf_op *op)
{
    return json_string_value(json_object_get(op->input, "key"));
}

/* A copy of ops with one ok read made truly stale: it returns the value of a write W1 of
 * its key that a write W2 of that key overwrote, W1 completing before W2 began and W2
 * before the read began. *read receives its id (0 when the history has no such triple). */
static GPtrArray *with_stale_read(GPtrArray *ops, guint64 *read)
{
    *read = 0;
    for (guint r = 0; r < ops->len && !*read; r++) {
        const tf_op *rd = ops->pdata[r];
        if (strcmp(rd->name, "read") || rd->status != TF_OP_OK)
            continue;
        for (guint w2 = 0; w2 < ops->len && !*read; w2++) {
            const tf_op *b = ops->pdata[w2];
            if (!written(b) || strcmp(key_of(b), key_of(rd)) || b->complete_time >= rd->invoke_time)
                continue;
            for (guint w1 = 0; w1 < ops->len && !*read; w1++) {
                const tf_op *a = ops->pdata[w1];
                if (!written(a) || strcmp(key_of(a), key_of(rd)) || a->complete_time >= b->invoke_time ||
                    (json_is_string(rd->output) && !strcmp(json_string_value(rd->output), written(a))))
                    continue;
                *read = rd->id;
                json_decref(((tf_op *)rd)->output);
                ((tf_op *)rd)->output = json_string(written(a));
            }
        }
    }
    return ops;
}

static void test_random_histories(void **unused)
{
    guint refuted = 0;
    for (guint32 seed = 1; seed <= 40; seed++) {
        tf_ophistory *h = simulate(seed, 5, 150, 3, 5);
        tf_lin_result *by_key = check(h, FALSE), *whole = check(h, TRUE);
        if (by_key->verdict != TF_LIN_OK || whole->verdict != TF_LIN_OK)
            fail_msg("seed %u: linearizable by construction, got %s by key (%s) and %s whole",
                     seed, tf_lin_verdict_name(by_key->verdict), by_key->summary,
                     tf_lin_verdict_name(whole->verdict));
        assert_int_equal(by_key->parts, 3);
        tf_lin_result_free(by_key);
        tf_lin_result_free(whole);

        guint64 stale;
        GPtrArray *ops = with_stale_read(tf_ophistory_ops(h), &stale);
        if (stale) {
            tf_lin_result *r = tf_lin_check_ops(ops, regs, NULL, NULL);
            if (r->verdict != TF_LIN_VIOLATION)
                fail_msg("seed %u: read %" G_GUINT64_FORMAT " made stale, got %s", seed, stale,
                         tf_lin_verdict_name(r->verdict));
            tf_lin_options o = {.whole = TRUE};
            tf_lin_result *w = tf_lin_check_ops(ops, regs, &o, NULL);
            assert_int_equal(w->verdict, TF_LIN_VIOLATION);
            tf_lin_result_free(w);
            tf_lin_result_free(r);
            refuted++;
        }
        g_ptr_array_unref(ops);
        tf_ophistory_free(h);
    }
    assert_true(refuted >= 30); /* most seeds give a stale read to plant */
}

/* Leaving unknown operations out never changes a verdict: with many of them (a third of
 * the operations), the pruned and the plain search agree on linearizable histories and
 * on the same histories with a read made stale. */
static void test_prune_keeps_verdicts(void **unused)
{
    tf_lin_model plain = no_prune();
    tf_lin_options o = {.timeout_us = 20 * G_USEC_PER_SEC};
    guint pruned = 0, compared = 0;
    for (guint32 seed = 100; seed < 140; seed++) {
        tf_ophistory *h = simulate(seed, 4, 60, 2, 30);
        GPtrArray *ops = tf_ophistory_ops(h);
        for (int stale = 0; stale < 2; stale++) {
            guint64 read = 0;
            if (stale && (with_stale_read(ops, &read), !read))
                break;
            tf_lin_result *a = tf_lin_check_ops(ops, regs, &o, NULL);
            tf_lin_result *b = tf_lin_check_ops(ops, &plain, &o, NULL);
            if (b->verdict != TF_LIN_UNKNOWN) {
                if (a->verdict != b->verdict)
                    fail_msg("seed %u%s: %s pruned, %s plain", seed, stale ? " (stale read)" : "",
                             tf_lin_verdict_name(a->verdict), tf_lin_verdict_name(b->verdict));
                compared++;
            }
            assert_int_equal(a->verdict, stale ? TF_LIN_VIOLATION : TF_LIN_OK);
            pruned += a->pruned;
            tf_lin_result_free(a);
            tf_lin_result_free(b);
        }
        g_ptr_array_unref(ops);
        tf_ophistory_free(h);
    }
    assert_true(compared >= 60);
    assert_true(pruned > 100); /* the rule did leave many out */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_are_apart),
        cmocka_unit_test(test_stale_read_in_its_part),
        cmocka_unit_test(test_svg_faults),
        cmocka_unit_test(test_malformed_operations),
        cmocka_unit_test(test_random_histories),
        cmocka_unit_test(test_prune_unknown_writes),
        cmocka_unit_test(test_prune_keeps_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
