/* test_wait.c: waiting until a condition holds: at once, after k cycles, after another
 * thread changes a source, fresh reads, wake, stop while waiting, and what a timeout says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "rt_fixture.h"

static fix *stopped_fix(guint n, gint64 interval_us)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = interval_us;
    return fix_new(n, &cfg, NULL);
}

static fix *running_fix(guint n, gint64 interval_us)
{
    fix *f = stopped_fix(n, interval_us);
    assert_true(tf_runtime_start(f->rt, NULL));
    return f;
}

static gboolean value_is(const tf_snapshot *snap, void *data)
{
    return counter_snapshot_value(tf_snapshot_data(snap), "n0") == GPOINTER_TO_INT(data);
}

static gboolean polls_at_least(const tf_snapshot *snap, void *data)
{
    return ((const counter_snapshot *)tf_snapshot_data(snap))->polls >= GPOINTER_TO_UINT(data);
}

static gboolean cycle_at_least(const tf_snapshot *snap, void *data)
{
    return tf_snapshot_cycle(snap) >= GPOINTER_TO_UINT(data);
}

static gboolean never(const tf_snapshot *snap, void *data) { return FALSE; }

static char *n0_progress(const tf_snapshot *snap, void *data)
{
    return g_strdup_printf("n0 is %d", counter_snapshot_value(tf_snapshot_data(snap), "n0"));
}

static void test_true_at_once(void **unused)
{
    fix *f = fix_new(1, NULL, NULL);
    f->cells[0].value = 3;
    assert_true(tf_runtime_cycle(f->rt, NULL));
    GError *err = NULL;
    tf_snapshot *s = tf_handle_wait(f->h, value_is, GINT_TO_POINTER(3), "n0 is 3", G_USEC_PER_SEC, &err);
    assert_no_gerror(err);
    assert_int_equal(tf_snapshot_cycle(s), 1);
    tf_snapshot_unref(s);
    fix_free(f);
}

static void test_true_after_k_cycles(void **unused)
{
    fix *f = running_fix(1, 1000);
    GError *err = NULL;
    tf_snapshot *s = tf_handle_wait(f->h, polls_at_least, GUINT_TO_POINTER(5), "5 polls",
                                    10 * G_USEC_PER_SEC, &err);
    assert_no_gerror(err);
    assert_true(((const counter_snapshot *)tf_snapshot_data(s))->polls >= 5);
    tf_snapshot_unref(s);
    fix_free(f);
}

static gpointer set_later(gpointer data)
{
    counter_cell *cell = data;
    g_usleep(20000); /* the test's actor; the waiter itself never sleeps */
    g_atomic_int_set(&cell->value, 42);
    return NULL;
}

static void test_sees_change_from_other_thread(void **unused)
{
    fix *f = running_fix(2, 2000);
    GThread *t = g_thread_new("actor", set_later, &f->cells[0]);
    GError *err = NULL;
    tf_snapshot *s = tf_handle_wait(f->h, value_is, GINT_TO_POINTER(42), "n0 is 42",
                                    10 * G_USEC_PER_SEC, &err);
    assert_no_gerror(err);
    assert_int_equal(counter_snapshot_value(tf_snapshot_data(s), "n0"), 42);
    tf_snapshot_unref(s);
    g_thread_join(t);
    fix_free(f);
}

static void test_timeout_explains(void **unused)
{
    fix *f = stopped_fix(2, 5000);
    f->cells[0].value = 3;
    f->cells[1].fail = 1;
    assert_true(tf_runtime_start(f->rt, NULL));
    tf_wait w = {.pred = value_is, .data = GINT_TO_POINTER(99), .what = "n0 reaches 99",
                 .timeout_us = 200000, .progress = n0_progress};
    GError *err = NULL;
    assert_null(tf_handle_wait_for(f->h, &w, &err));
    assert_int_equal(err->code, TF_ERROR_TIMEOUT);
    const char *m = err->message;
    print_message("%s\n", m);
    assert_non_null(strstr(m, "timed out after 0.2 s waiting for: n0 reaches 99 (n0 is 3)"));
    assert_non_null(strstr(m, "last snapshot (counter, cycle "));
    assert_non_null(strstr(m, "\"values\":{\"n0\":3}"));
    assert_non_null(strstr(m, "last error: cycle "));
    assert_non_null(strstr(m, "source n1: cell is switched to fail"));
    g_clear_error(&err);
    fix_free(f);
}

/* The last error can be old and its node healthy again: the timeout says how old it is,
 * when it happened, and that its source has answered since; times read by a human
 * (ages and wall-clock), never the raw monotonic count. Fake clock: exact ages. */
static void test_timeout_dates_old_error(void **unused)
{
    fix *f = fix_new(2, NULL, NULL);
    f->cells[1].fail = 1;
    assert_true(tf_runtime_cycle(f->rt, NULL)); /* cycle 1: n1 fails */
    f->cells[1].fail = 0;
    f->now += 2 * G_USEC_PER_SEC;
    assert_true(tf_runtime_cycle(f->rt, NULL)); /* cycle 2: n1 answers again */
    f->now += G_USEC_PER_SEC / 2;
    assert_true(tf_runtime_cycle(f->rt, NULL)); /* cycle 3 */
    f->now += 300000;
    GError *err = NULL;
    assert_null(tf_handle_wait(f->h, never, NULL, "nothing", 10000, &err));
    const char *m = err->message;
    print_message("%s\n", m);
    assert_non_null(strstr(m, "\n  last snapshot (counter, cycle 3, taken 0.3 s ago at 20"));
    assert_non_null(strstr(m, "Z): {\"cycle\":3,\"sources\":[\"n0\",\"n1\"],\"state\":"));
    assert_null(strstr(m, "\"time\""));      /* the monotonic count means nothing to a reader */
    assert_null(strstr(m, "\"wall_time\"")); /* shown once, in the line's head */
    assert_non_null(strstr(m, "\n  last error: cycle 1, 2.8 s ago (20"));
    assert_non_null(strstr(m, "Z), source n1: cell is switched to fail\n"
                              "    n1 has answered since (last in cycle 3, 0.3 s ago): "
                              "this error is not current"));
    g_clear_error(&err);

    /* Still failing: no such note. Gone from the source set: said so. */
    f->cells[1].fail = 1;
    assert_true(tf_runtime_cycle(f->rt, NULL));
    assert_null(tf_handle_wait(f->h, never, NULL, "nothing", 10000, &err));
    assert_non_null(strstr(err->message, "\n  last error: cycle 4, 0.0 s ago ("));
    assert_null(strstr(err->message, "answered since"));
    g_clear_error(&err);
    fix_remove_source(f, "n1");
    assert_true(tf_runtime_cycle(f->rt, NULL));
    assert_null(tf_handle_wait(f->h, never, NULL, "nothing", 10000, &err));
    assert_non_null(strstr(err->message, "source n1: cell is switched to fail\n"
                                         "    n1 has left the source set since"));
    g_clear_error(&err);
    fix_free(f);
}

/* A source's message may start with its name (the "where: what: why" rule): it is named once. */
static void test_failure_names_source_once(void **unused)
{
    tf_failure f = {.stage = TF_STAGE_SOURCE, .cycle = 7, .source = "n3",
                    .message = "n3: GET http://127.0.0.1:1/debug/vars: connection refused"};
    char *d = tf_failure_describe(&f);
    assert_string_equal(d, "cycle 7, source n3: GET http://127.0.0.1:1/debug/vars: connection refused");
    g_free(d);
    f.message = "n30: refused"; /* another name that merely starts the same */
    d = tf_failure_describe(&f);
    assert_string_equal(d, "cycle 7, source n3: n30: refused");
    g_free(d);
    f.message = "n3";
    d = tf_failure_describe(&f);
    assert_string_equal(d, "cycle 7, source n3: n3");
    g_free(d);
    tf_failure p = {.stage = TF_STAGE_POLL, .cycle = 2, .message = "observer 'x': broken"};
    d = tf_failure_describe(&p);
    assert_string_equal(d, "cycle 2, poll: observer 'x': broken");
    g_free(d);
}

static void test_timeout_without_snapshot(void **unused)
{
    fix *f = fix_new(1, NULL, NULL); /* never started: no snapshot */
    GError *err = NULL;
    assert_null(tf_handle_wait(f->h, never, NULL, "anything", 10000, &err));
    assert_non_null(strstr(err->message, "timed out after 0.0 s waiting for: anything"));
    assert_non_null(strstr(err->message, "last snapshot: none (observer 'counter' published no cycle)"));
    assert_non_null(strstr(err->message, "last error: none"));
    g_clear_error(&err);
    fix_free(f);
}

static void test_fresh_timeout_shows_older_snapshot(void **unused)
{
    fix *f = fix_new(1, NULL, NULL); /* not started: no cycle after the action will come */
    f->cells[0].value = 6;
    assert_true(tf_runtime_cycle(f->rt, NULL));
    GError *err = NULL;
    assert_null(tf_handle_wait_fresh(f->h, f->now + 1, 20000, &err));
    assert_int_equal(err->code, TF_ERROR_TIMEOUT);
    assert_non_null(strstr(err->message, "waiting for: a snapshot taken after the last action"));
    assert_non_null(strstr(err->message, "last snapshot (counter, cycle 1, "));
    assert_non_null(strstr(err->message, "Z, before the awaited point): "));
    assert_non_null(strstr(err->message, "\"n0\":6"));
    g_clear_error(&err);
    fix_free(f);
}

/* While the waiter checks its first snapshot, the runtime publishes `cycles` more in which
 * n0 is 42 only in the first: a condition that held for one cycle the waiter never saw
 * as the newest. Deterministic: the cycles run on the waiting thread, inside the
 * predicate (it runs without locks). */
typedef struct {
    fix *f;
    int cycles;
    int calls;
    guint64 seen[8];
} blink;

static gboolean n0_is_42_blinking(const tf_snapshot *snap, void *data)
{
    blink *b = data;
    if (b->calls < (int)G_N_ELEMENTS(b->seen))
        b->seen[b->calls] = tf_snapshot_cycle(snap);
    if (b->calls++ == 0) {
        for (int i = 0; i < b->cycles; i++) {
            g_atomic_int_set(&b->f->cells[0].value, i == 0 ? 42 : 0);
            assert_true(tf_runtime_cycle(b->f->rt, NULL));
        }
    }
    return counter_snapshot_value(tf_snapshot_data(snap), "n0") == 42;
}

static void test_every_snapshot_checked_in_order(void **unused)
{
    fix *f = fix_new(1, NULL, NULL);
    assert_true(tf_runtime_cycle(f->rt, NULL)); /* cycle 1: n0 = 0 */
    blink b = {.f = f, .cycles = 2};           /* cycle 2: n0 = 42, cycle 3: n0 = 0 */
    GError *err = NULL;
    tf_snapshot *s = tf_handle_wait(f->h, n0_is_42_blinking, &b, "n0 is 42", 200000, &err);
    assert_no_gerror(err);
    assert_non_null(s);
    assert_int_equal(tf_snapshot_cycle(s), 2); /* the first on which it held, not the newest */
    assert_int_equal(b.calls, 2);
    assert_int_equal(b.seen[0], 1);
    assert_int_equal(b.seen[1], 2);
    tf_snapshot_unref(s);
    tf_snapshot *latest = tf_handle_latest(f->h);
    assert_int_equal(tf_snapshot_cycle(latest), 3);
    tf_snapshot_unref(latest);
    fix_free(f);
}

static void test_unchecked_snapshots_named_in_timeout(void **unused)
{
    /* A ring of 2 snapshots: while the predicate runs on cycle 1, cycles 2-5 are
     * published and 2-3 (n0 = 42 in 2) leave the ring before the waiter can check them. */
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.snapshot_history = 1;
    fix *f = fix_new(1, &cfg, NULL);
    assert_true(tf_runtime_cycle(f->rt, NULL));
    blink b = {.f = f, .cycles = 4};
    GError *err = NULL;
    assert_null(tf_handle_wait(f->h, n0_is_42_blinking, &b, "n0 is 42", 20000, &err));
    assert_int_equal(err->code, TF_ERROR_TIMEOUT);
    assert_int_equal(b.calls, 3); /* cycles 1, 4, 5 */
    assert_int_equal(b.seen[1], 4);
    assert_int_equal(b.seen[2], 5);
    print_message("%s\n", err->message);
    assert_non_null(strstr(err->message,
                           "\n  not checked: cycles 2 to 3 (2 snapshots) left the snapshot "
                           "history (snapshot_history 1) before this wait could check them"));
    g_clear_error(&err);
    fix_free(f);
}

/* A backlog does not stretch the deadline: once the time is up, the snapshots published
 * meanwhile are left unchecked (the first check always happens). */
static gboolean slow_blinking(const tf_snapshot *snap, void *data)
{
    blink *b = data;
    gboolean held = n0_is_42_blinking(snap, data);
    if (b->calls == 1)
        g_usleep(5000); /* the predicate is slow: the 1 ms wait is over when it returns */
    return held;
}

static void test_deadline_ends_backlog(void **unused)
{
    fix *f = fix_new(1, NULL, NULL);
    assert_true(tf_runtime_cycle(f->rt, NULL));
    blink b = {.f = f, .cycles = 3};
    GError *err = NULL;
    assert_null(tf_handle_wait(f->h, slow_blinking, &b, "n0 is 42", 1000, &err));
    assert_int_equal(err->code, TF_ERROR_TIMEOUT);
    assert_int_equal(b.calls, 1);
    g_clear_error(&err);
    fix_free(f);
}

typedef struct {
    tf_handle *h;
    GError *err;
    tf_snapshot *got;
} waiter;

static gpointer wait_forever(gpointer data)
{
    waiter *w = data;
    w->got = tf_handle_wait(w->h, never, NULL, "a condition that never holds",
                            600 * G_USEC_PER_SEC, &w->err);
    return NULL;
}

static void test_stop_wakes_waiters(void **unused)
{
    fix *f = running_fix(1, 1000);
    waiter ws[3] = {{f->h, NULL, NULL}, {f->h, NULL, NULL}, {f->h, NULL, NULL}};
    GThread *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = g_thread_new("waiter", wait_forever, &ws[i]);
    /* Let the waiters see a few cycles, then stop. */
    tf_snapshot *s = tf_handle_wait(f->h, cycle_at_least, GUINT_TO_POINTER(3), "3 cycles",
                                    10 * G_USEC_PER_SEC, NULL);
    tf_snapshot_unref(s);
    tf_runtime_stop(f->rt);
    for (int i = 0; i < 3; i++) {
        g_thread_join(t[i]);
        assert_null(ws[i].got);
        assert_int_equal(ws[i].err->code, TF_ERROR_STOPPED);
        assert_non_null(strstr(ws[i].err->message,
                               "runtime stopped after "));
        assert_non_null(strstr(ws[i].err->message, "waiting for: a condition that never holds"));
        g_clear_error(&ws[i].err);
    }
    fix_free(f);
}

static void test_wake_runs_cycle_now(void **unused)
{
    fix *f = running_fix(1, (gint64)3600 * G_USEC_PER_SEC); /* an hour: only wake can make cycle 2 */
    GError *err = NULL;
    tf_snapshot *s = tf_handle_wait(f->h, cycle_at_least, GUINT_TO_POINTER(1), "cycle 1",
                                    10 * G_USEC_PER_SEC, &err);
    assert_no_gerror(err);
    tf_snapshot_unref(s);
    tf_runtime_wake(f->rt);
    s = tf_handle_wait(f->h, cycle_at_least, GUINT_TO_POINTER(2), "cycle 2",
                       10 * G_USEC_PER_SEC, &err);
    assert_no_gerror(err);
    tf_snapshot_unref(s);
    /* A fresh read wakes the runtime by itself and only accepts a later cycle. */
    g_atomic_int_set(&f->cells[0].value, 8);
    gint64 acted = g_get_monotonic_time();
    s = tf_handle_wait_fresh(f->h, acted, 10 * G_USEC_PER_SEC, &err);
    assert_no_gerror(err);
    assert_true(tf_snapshot_cycle_started(s) > acted);
    assert_int_equal(counter_snapshot_value(tf_snapshot_data(s), "n0"), 8);
    tf_snapshot_unref(s);
    fix_free(f);
}

typedef struct {
    int calls;
    char what[64];
    char progress[64];
    gint64 timeout;
} seen;

static void listen(const char *what, const char *progress, gint64 elapsed, gint64 timeout, void *data)
{
    seen *s = data;
    s->calls++;
    g_strlcpy(s->what, what, sizeof s->what);
    g_strlcpy(s->progress, progress ? progress : "", sizeof s->progress);
    s->timeout = timeout;
}

/* Holds from the 4th poll on; until then it runs the next cycle itself (the runtime is
 * not started), so the waiter sees exactly polls 1, 2, 3 fail and 4 hold, whatever the
 * machine's load: a running runtime could reach 4 polls before the wait even began. */
static gboolean fourth_poll_stepping(const tf_snapshot *snap, void *data)
{
    if (((const counter_snapshot *)tf_snapshot_data(snap))->polls >= 4)
        return TRUE;
    assert_true(tf_runtime_cycle(((fix *)data)->rt, NULL));
    return FALSE;
}

static void test_listener_sees_progress(void **unused)
{
    fix *f = fix_new(1, NULL, NULL);
    g_atomic_int_set(&f->cells[0].value, 5);
    assert_true(tf_runtime_cycle(f->rt, NULL));
    seen s = {0};
    tf_wait_set_listener(listen, &s);
    tf_wait w = {.pred = fourth_poll_stepping, .data = f, .what = "4 polls",
                 .timeout_us = 10 * G_USEC_PER_SEC, .progress = n0_progress};
    tf_snapshot *snap = tf_handle_wait_for(f->h, &w, NULL);
    assert_non_null(snap);
    assert_int_equal(tf_snapshot_cycle(snap), 4);
    tf_snapshot_unref(snap);
    tf_wait_set_listener(NULL, NULL);
    assert_int_equal(s.calls, 3); /* after each snapshot that did not hold */
    assert_string_equal(s.what, "4 polls");
    assert_string_equal(s.progress, "n0 is 5");
    assert_int_equal(s.timeout, 10 * G_USEC_PER_SEC);
    fix_free(f);
}

static void test_invalid_wait(void **unused)
{
    fix *f = fix_new(1, NULL, NULL);
    GError *err = NULL;
    assert_null(tf_handle_wait(f->h, NULL, NULL, "x", 1000, &err));
    assert_string_equal(err->message, "wait for x: no predicate given");
    g_clear_error(&err);
    assert_null(tf_handle_wait(f->h, never, NULL, "y", 0, &err));
    assert_string_equal(err->message, "wait for y: timeout must be > 0");
    g_clear_error(&err);
    fix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_at_once),
        cmocka_unit_test(test_true_after_k_cycles),
        cmocka_unit_test(test_sees_change_from_other_thread),
        cmocka_unit_test(test_timeout_explains),
        cmocka_unit_test(test_timeout_without_snapshot),
        cmocka_unit_test(test_timeout_dates_old_error),
        cmocka_unit_test(test_failure_names_source_once),
        cmocka_unit_test(test_fresh_timeout_shows_older_snapshot),
        cmocka_unit_test(test_stop_wakes_waiters),
        cmocka_unit_test(test_wake_runs_cycle_now),
        cmocka_unit_test(test_listener_sees_progress),
        cmocka_unit_test(test_invalid_wait),
        cmocka_unit_test(test_every_snapshot_checked_in_order),
        cmocka_unit_test(test_unchecked_snapshots_named_in_timeout),
        cmocka_unit_test(test_deadline_ends_backlog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
