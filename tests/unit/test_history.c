/* test_history.c: bounded history and subscriptions: exactly the last N batches and
 * snapshots are kept, sequence numbers are gapless, cursors are independent and a reader
 * that falls behind is told exactly how many batches it lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "rt_fixture.h"

static fix *fix_with_history(guint batches, guint snapshots)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.event_history = batches;
    cfg.snapshot_history = snapshots;
    return fix_new(1, &cfg, NULL);
}

/* Runs a cycle that changes n0, so each cycle records exactly one batch. */
static void changing_cycle(fix *f)
{
    g_atomic_int_inc(&f->cells[0].value);
    assert_true(tf_runtime_cycle(f->rt, NULL));
}

static void test_keeps_exactly_last_n(void **unused)
{
    fix *f = fix_with_history(5, 0);
    for (int i = 0; i < 12; i++)
        changing_cycle(f);
    GPtrArray *hist = tf_handle_batches(f->h);
    assert_int_equal(hist->len, 5);
    for (guint i = 0; i < hist->len; i++) {
        assert_int_equal(tf_batch_seq(hist->pdata[i]), 8 + i); /* 8..12, gapless */
        const counter_event *ev = tf_batch_event(hist->pdata[i], 0);
        assert_int_equal(ev->new_value, 8 + i);
    }
    g_ptr_array_unref(hist);
    assert_int_equal(tf_handle_last_seq(f->h), 12);
    fix_free(f);
}

static void test_zero_history_keeps_none(void **unused)
{
    fix *f = fix_with_history(0, 0);
    for (int i = 0; i < 4; i++)
        changing_cycle(f);
    GPtrArray *hist = tf_handle_batches(f->h);
    assert_int_equal(hist->len, 0);
    g_ptr_array_unref(hist);
    assert_int_equal(tf_handle_last_seq(f->h), 4); /* the sequence still counts */
    tf_sub *sub = tf_handle_subscribe(f->h, 0);
    tf_batch *b;
    guint64 lost = 0;
    assert_int_equal(tf_sub_next(sub, 0, &b, &lost), TF_SUB_LAGGED);
    assert_int_equal(lost, 4);
    assert_int_equal(tf_sub_next(sub, 0, &b, &lost), TF_SUB_TIMEOUT);
    tf_sub_free(sub);
    fix_free(f);
}

static void test_snapshot_history(void **unused)
{
    fix *f = fix_with_history(1, 3);
    for (int i = 0; i < 10; i++)
        changing_cycle(f);
    GPtrArray *snaps = tf_handle_snapshots(f->h);
    assert_int_equal(snaps->len, 4); /* 3 past + the latest */
    for (guint i = 0; i < snaps->len; i++)
        assert_int_equal(tf_snapshot_cycle(snaps->pdata[i]), 7 + i);
    g_ptr_array_unref(snaps);
    fix_free(f);

    f = fix_with_history(1, 0);
    changing_cycle(f);
    changing_cycle(f);
    snaps = tf_handle_snapshots(f->h);
    assert_int_equal(snaps->len, 1);
    assert_int_equal(tf_snapshot_cycle(snaps->pdata[0]), 2);
    g_ptr_array_unref(snaps);
    fix_free(f);
}

static void test_independent_cursors(void **unused)
{
    fix *f = fix_with_history(100, 0);
    tf_sub *a = tf_handle_subscribe(f->h, 0), *b = tf_handle_subscribe(f->h, 0);
    for (int i = 0; i < 3; i++)
        changing_cycle(f);
    tf_batch *x;
    assert_int_equal(tf_sub_next(a, 0, &x, NULL), TF_SUB_BATCH);
    assert_int_equal(tf_batch_seq(x), 1);
    tf_batch_unref(x);
    assert_int_equal(tf_sub_next(a, 0, &x, NULL), TF_SUB_BATCH);
    assert_int_equal(tf_batch_seq(x), 2);
    tf_batch_unref(x);
    /* b has not moved */
    assert_int_equal(tf_sub_next(b, 0, &x, NULL), TF_SUB_BATCH);
    assert_int_equal(tf_batch_seq(x), 1);
    tf_batch_unref(x);
    assert_int_equal(tf_sub_cursor(a), 2);
    assert_int_equal(tf_sub_cursor(b), 1);
    /* a subscriber from "now" sees only later batches */
    tf_sub *c = tf_handle_subscribe(f->h, tf_handle_last_seq(f->h));
    assert_int_equal(tf_sub_next(c, 0, &x, NULL), TF_SUB_TIMEOUT);
    changing_cycle(f);
    assert_int_equal(tf_sub_next(c, 0, &x, NULL), TF_SUB_BATCH);
    assert_int_equal(tf_batch_seq(x), 4);
    json_t *j = tf_batch_to_json(x);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 4);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 1);
    json_decref(j);
    tf_batch_unref(x);
    tf_sub_free(a);
    tf_sub_free(b);
    tf_sub_free(c);
    fix_free(f);
}

static void test_lag_count_is_exact(void **unused)
{
    fix *f = fix_with_history(4, 0);
    tf_sub *sub = tf_handle_subscribe(f->h, 0);
    changing_cycle(f);
    tf_batch *x;
    guint64 lost = 99;
    assert_int_equal(tf_sub_next(sub, 0, &x, &lost), TF_SUB_BATCH);
    assert_int_equal(lost, 0);
    tf_batch_unref(x);
    for (int i = 0; i < 10; i++)
        changing_cycle(f); /* seqs 2..11; ring keeps 8..11 */
    assert_int_equal(tf_sub_next(sub, 0, &x, &lost), TF_SUB_LAGGED);
    assert_int_equal(lost, 6); /* 2..7 */
    assert_null(x);
    assert_int_equal(tf_sub_cursor(sub), 7);
    for (guint64 want = 8; want <= 11; want++) {
        assert_int_equal(tf_sub_next(sub, 0, &x, &lost), TF_SUB_BATCH);
        assert_int_equal(tf_batch_seq(x), want);
        tf_batch_unref(x);
    }
    assert_int_equal(tf_sub_next(sub, 1000, &x, &lost), TF_SUB_TIMEOUT);
    tf_runtime_stop(f->rt);
    assert_int_equal(tf_sub_next(sub, -1, &x, &lost), TF_SUB_CLOSED);
    tf_sub_free(sub);
    fix_free(f);
}

static void test_closed_after_draining(void **unused)
{
    fix *f = fix_with_history(8, 0);
    tf_sub *sub = tf_handle_subscribe(f->h, 0);
    changing_cycle(f);
    changing_cycle(f);
    tf_runtime_stop(f->rt);
    tf_batch *x;
    /* recorded batches are still delivered before CLOSED */
    assert_int_equal(tf_sub_next(sub, -1, &x, NULL), TF_SUB_BATCH);
    tf_batch_unref(x);
    assert_int_equal(tf_sub_next(sub, -1, &x, NULL), TF_SUB_BATCH);
    tf_batch_unref(x);
    assert_int_equal(tf_sub_next(sub, -1, &x, NULL), TF_SUB_CLOSED);
    tf_sub_free(sub);
    fix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keeps_exactly_last_n),
        cmocka_unit_test(test_zero_history_keeps_none),
        cmocka_unit_test(test_snapshot_history),
        cmocka_unit_test(test_independent_cursors),
        cmocka_unit_test(test_lag_count_is_exact),
        cmocka_unit_test(test_closed_after_draining),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
