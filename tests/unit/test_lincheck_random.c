/* test_lincheck_random.c: the checker against histories whose verdict is known by
 * construction. A simulated register (and a simulated key-value store) applies each
 * client's operation atomically at one instant between its invocation and completion, so
 * the history is linearizable; some operations fail (no effect) or time out (effect or
 * not). Then one read is changed to a value that a write completed before the read began
 * had already overwritten: a truly stale read, never linearizable, and the checker must
 * name that read as the failing operation. Seeds are fixed; a failure prints its seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <tf/tf.h>
#include "raftkv/lin_models.h"

typedef enum { IDLE, INVOKED, APPLIED } phase;

/* One simulated client's operation in flight. */
typedef struct {
    phase ph;
    guint64 id;
    tf_op_status end;   /* how it will complete */
    const char *name;
    json_t *input;
    json_t *output;     /* once applied */
} client;

/* A simulated register run: unique values, so a value identifies the write of it. */
typedef struct {
    GRand *rng;
    gint64 t;
    gint64 value;        /* -1 = nil */
    gint64 next_value;
    GArray *seen;        /* values written so far (candidates for cas `from`) */
} reg_sim;

/* Records cl's completion at time t (its output when ok) and makes it idle again. */
static void client_complete(tf_ophistory *h, gint64 t, client *cl)
{
    assert_true(tf_ophistory_complete_at(h, t, cl->id, cl->end,
                                         cl->end == TF_OP_OK ? cl->output : NULL, NULL, NULL));
    json_decref(cl->output);
    json_decref(cl->input);
    cl->output = cl->input = NULL;
    cl->ph = IDLE;
}

static json_t *value_json(gint64 v)
{
    return v < 0 ? json_null() : json_integer(v);
}

/* A history of `ops` operations by `procs` clients, linearizable by construction. */
static tf_ophistory *simulate_register(guint32 seed, int procs, int ops)
{
    reg_sim s = {g_rand_new_with_seed(seed), 0, -1, 0, g_array_new(FALSE, FALSE, sizeof(gint64))};
    tf_ophistory *h = tf_ophistory_new();
    client *c = g_new0(client, procs);
    int invoked = 0, busy = 0;
    while (invoked < ops || busy) {
        int p = g_rand_int_range(s.rng, 0, procs);
        client *cl = &c[p];
        s.t++;
        if (cl->ph == IDLE) {
            if (invoked == ops)
                continue;
            int kind = g_rand_int_range(s.rng, 0, 10);
            const char *name = kind < 5 ? "read" : kind < 8 ? "write" : "cas";
            json_t *in;
            if (kind < 5) {
                in = json_null();
            } else if (kind < 8) {
                in = json_integer(s.next_value++);
            } else {
                gint64 from = s.seen->len && g_rand_boolean(s.rng)
                                  ? g_array_index(s.seen, gint64, g_rand_int_range(s.rng, 0, s.seen->len))
                                  : s.value;
                in = json_pack("[o, I]", value_json(from), (json_int_t)s.next_value++);
            }
            cl->id = tf_ophistory_invoke_at(h, s.t, p, name, in);
            cl->name = name;
            cl->input = in;
            int fate = g_rand_int_range(s.rng, 0, 100);
            cl->end = fate < 5 ? TF_OP_FAIL : fate < 8 ? TF_OP_UNKNOWN : TF_OP_OK;
            cl->ph = INVOKED;
            invoked++;
            busy++;
        } else if (cl->ph == INVOKED) {
            /* the linearization point: applied atomically now (unless it fails, or times
             * out and the coin says it never took effect) */
            const client *op = cl;
            gboolean apply = cl->end == TF_OP_OK || (cl->end == TF_OP_UNKNOWN && g_rand_boolean(s.rng));
            if (apply) {
                if (!strcmp(op->name, "read")) {
                    cl->output = value_json(s.value);
                } else if (!strcmp(op->name, "write")) {
                    s.value = json_integer_value(op->input);
                    g_array_append_val(s.seen, s.value);
                    cl->output = json_null();
                } else {
                    json_t *from = json_array_get(op->input, 0);
                    gboolean hit = json_is_null(from) ? s.value < 0 : json_integer_value(from) == s.value;
                    if (hit) {
                        s.value = json_integer_value(json_array_get(op->input, 1));
                        g_array_append_val(s.seen, s.value);
                    }
                    cl->output = json_boolean(hit);
                }
            }
            cl->ph = APPLIED;
        } else {
            client_complete(h, s.t, cl);
            busy--;
        }
    }
    g_free(c);
    g_array_unref(s.seen);
    g_rand_free(s.rng);
    return h;
}

/* The value an op wrote for sure (ok write, or ok cas answered true), or -1. */
static gint64 written(const tf_op *op)
{
    if (op->status != TF_OP_OK)
        return -1;
    if (!strcmp(op->name, "write"))
        return json_integer_value(op->input);
    if (!strcmp(op->name, "cas") && json_is_true(op->output))
        return json_integer_value(json_array_get(op->input, 1));
    return -1;
}

/* Makes one read stale: it returns the value of a write W1 that a write W2 overwrote,
 * where W1 completed before W2 began and W2 completed before the read began. Returns the
 * read's id, or 0 when the history has no such triple. */
static guint64 make_stale(tf_ophistory **hp, GRand *rng)
{
    GPtrArray *ops = tf_ophistory_ops(*hp);
    typedef struct {
        guint read, first_write;
    } stale_pick;
    GArray *cands = g_array_new(FALSE, FALSE, sizeof(stale_pick));
    GArray *w2s = g_array_new(FALSE, FALSE, sizeof(guint)), *w1s = g_array_new(FALSE, FALSE, sizeof(guint));
    /* reads in random order; for the first that has one, a random W2 then a random W1 */
    guint *order = g_new(guint, ops->len);
    for (guint i = 0; i < ops->len; i++)
        order[i] = i;
    for (guint i = ops->len; i > 1; i--) {
        guint j = g_rand_int_range(rng, 0, i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (guint k = 0; k < ops->len && !cands->len; k++) {
        const tf_op *rd = ops->pdata[order[k]];
        if (strcmp(rd->name, "read") || rd->status != TF_OP_OK)
            continue;
        g_array_set_size(w2s, 0);
        for (guint w2 = 0; w2 < ops->len; w2++) {
            const tf_op *b = ops->pdata[w2];
            if (written(b) >= 0 && b->complete_time < rd->invoke_time)
                g_array_append_val(w2s, w2);
        }
        if (!w2s->len)
            continue;
        const tf_op *b = ops->pdata[g_array_index(w2s, guint, g_rand_int_range(rng, 0, w2s->len))];
        g_array_set_size(w1s, 0);
        for (guint w1 = 0; w1 < ops->len; w1++) {
            const tf_op *a = ops->pdata[w1];
            gint64 v = written(a);
            if (v >= 0 && a->complete_time < b->invoke_time &&
                !(json_is_integer(rd->output) && json_integer_value(rd->output) == v))
                g_array_append_val(w1s, w1);
        }
        if (w1s->len) {
            stale_pick pick = {order[k], g_array_index(w1s, guint, g_rand_int_range(rng, 0, w1s->len))};
            g_array_append_val(cands, pick);
        }
    }
    g_free(order);
    g_array_unref(w1s);
    g_array_unref(w2s);
    guint64 id = 0;
    if (cands->len) {
        stale_pick pick = g_array_index(cands, stale_pick, 0);
        const tf_op *rd = ops->pdata[pick.read];
        id = rd->id;
        /* rebuild the history with the read's output changed */
        tf_ophistory *h = tf_ophistory_new();
        for (guint i = 0; i < ops->len; i++) {
            const tf_op *o = ops->pdata[i];
            tf_ophistory_invoke_at(h, o->invoke_time, o->process, o->name, o->input);
        }
        for (guint i = 0; i < ops->len; i++) {
            const tf_op *o = ops->pdata[i];
            if (o->status == TF_OP_PENDING)
                continue;
            json_t *out = o->output ? json_incref(o->output) : NULL;
            if (o == rd) {
                json_decref(out);
                out = json_integer(written(ops->pdata[pick.first_write]));
            }
            tf_ophistory_complete_at(h, o->complete_time, o->id, o->status, out, o->error, NULL);
            json_decref(out);
        }
        tf_ophistory_free(*hp);
        *hp = h;
    }
    g_array_unref(cands);
    g_ptr_array_unref(ops);
    return id;
}

static void test_register_by_construction(void **unused)
{
    GRand *rng = g_rand_new_with_seed(19);
    guint ok = 0, refuted = 0, no_triple = 0;
    for (guint32 seed = 1; seed <= 300; seed++) {
        int procs = 2 + seed % 6, ops = 20 + (seed * 37) % 130;
        tf_ophistory *h = simulate_register(seed, procs, ops);
        tf_lin_result *r = tf_lin_check(h, &raftkv_register_model, NULL, NULL);
        if (r->verdict != TF_LIN_OK)
            fail_msg("seed %u (%d clients, %d ops): %s: %s", seed, procs, ops,
                     tf_lin_verdict_name(r->verdict), r->summary);
        ok++;
        tf_lin_result_free(r);
        guint64 stale = make_stale(&h, rng);
        if (!stale) {
            no_triple++;
            tf_ophistory_free(h);
            continue;
        }
        r = tf_lin_check(h, &raftkv_register_model, NULL, NULL);
        if (r->verdict != TF_LIN_VIOLATION || r->failing_op != stale)
            fail_msg("seed %u with op %" G_GUINT64_FORMAT " stale: %s (failing op %" G_GUINT64_FORMAT
                     "): %s", seed, stale, tf_lin_verdict_name(r->verdict), r->failing_op, r->summary);
        refuted++;
        tf_lin_result_free(r);
        tf_ophistory_free(h);
    }
    print_message("%u histories linearizable, %u stale variants refuted at the stale read, "
                  "%u without a stale candidate\n", ok, refuted, no_triple);
    assert_true(refuted >= 250); /* the mutation is not vacuous */
    g_rand_free(rng);
}

/* ---- kv: keys checked apart and together agree ------------------------------------------- */

static tf_ophistory *simulate_kv(guint32 seed, int procs, int ops, int keys)
{
    GRand *rng = g_rand_new_with_seed(seed);
    GPtrArray *vals = g_ptr_array_new_with_free_func(g_free);
    for (int k = 0; k < keys; k++)
        g_ptr_array_add(vals, g_strdup(""));
    tf_ophistory *h = tf_ophistory_new();
    client *c = g_new0(client, procs);
    int invoked = 0, busy = 0, n = 0;
    gint64 t = 0;
    while (invoked < ops || busy) {
        client *cl = &c[g_rand_int_range(rng, 0, procs)];
        t++;
        if (cl->ph == IDLE && invoked < ops) {
            int kind = g_rand_int_range(rng, 0, 3), key = g_rand_int_range(rng, 0, keys);
            char k[8], v[24];
            g_snprintf(k, sizeof k, "k%d", key);
            g_snprintf(v, sizeof v, "x%dy", n++);
            json_t *in = json_pack("{s:s, s:s}", "key", k, "value", v);
            cl->name = kind == 0 ? "get" : kind == 1 ? "put" : "append";
            cl->id = tf_ophistory_invoke_at(h, t, cl - c, cl->name, in);
            cl->input = in;
            cl->end = g_rand_int_range(rng, 0, 100) < 8 ? TF_OP_UNKNOWN : TF_OP_OK;
            cl->ph = INVOKED;
            invoked++;
            busy++;
        } else if (cl->ph == INVOKED) {
            const client *op = cl;
            int key = atoi(json_string_value(json_object_get(op->input, "key")) + 1);
            const char *v = json_string_value(json_object_get(op->input, "value"));
            if (cl->end == TF_OP_OK || g_rand_boolean(rng)) {
                char **cur = (char **)&vals->pdata[key];
                if (!strcmp(op->name, "get")) {
                    cl->output = json_string(*cur);
                } else {
                    char *nv = !strcmp(op->name, "put") ? g_strdup(v) : g_strconcat(*cur, v, NULL);
                    g_free(*cur);
                    *cur = nv;
                    cl->output = json_null();
                }
            }
            cl->ph = APPLIED;
        } else if (cl->ph == APPLIED) {
            client_complete(h, t, cl);
            busy--;
        }
    }
    g_free(c);
    g_ptr_array_unref(vals);
    g_rand_free(rng);
    return h;
}

static void test_kv_parts_agree_with_whole(void **unused)
{
    tf_lin_options whole = {.whole = TRUE};
    for (guint32 seed = 1; seed <= 60; seed++) {
        tf_ophistory *h = simulate_kv(seed, 2 + seed % 3, 24, 3);
        tf_lin_result *a = tf_lin_check(h, &raftkv_kv_model, NULL, NULL);
        tf_lin_result *b = tf_lin_check(h, &raftkv_kv_model, &whole, NULL);
        if (a->verdict != TF_LIN_OK || b->verdict != TF_LIN_OK)
            fail_msg("seed %u: by key %s, whole %s", seed, a->summary, b->summary);
        assert_int_equal(a->parts, 3);
        tf_lin_result_free(a);
        tf_lin_result_free(b);
        /* a get that reads a value no put or append ever produced is refuted both ways */
        GPtrArray *ops = tf_ophistory_ops(h);
        for (guint i = 0; i < ops->len; i++) {
            tf_op *op = ops->pdata[i];
            if (!strcmp(op->name, "get") && op->status == TF_OP_OK) {
                json_decref(op->output);
                op->output = json_string("never");
                break;
            }
        }
        a = tf_lin_check_ops(ops, &raftkv_kv_model, NULL, NULL);
        b = tf_lin_check_ops(ops, &raftkv_kv_model, &whole, NULL);
        assert_int_equal(a->verdict, b->verdict);
        assert_int_equal(a->failing_op, b->failing_op);
        tf_lin_result_free(a);
        tf_lin_result_free(b);
        g_ptr_array_unref(ops);
        tf_ophistory_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_by_construction),
        cmocka_unit_test(test_kv_parts_agree_with_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
