/* test_stress.c: 8 reader threads against a 1 ms runtime while a writer changes sources.
 * Meant for ThreadSanitizer; the invariants (monotonic cycles, every batch either
 * delivered or counted as lost) must hold for every reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "rt_fixture.h"

#define READERS 8

typedef struct {
    tf_handle *h;
    gint *stop;
    guint64 delivered, lost, waits_ok;
    gboolean monotonic;
    gboolean slow; /* falls behind the ring on purpose */
} reader;

static gboolean cycle_past(const tf_snapshot *snap, void *data)
{
    return tf_snapshot_cycle(snap) > *(guint64 *)data;
}

static gpointer read_loop(gpointer data)
{
    reader *r = data;
    tf_sub *sub = tf_handle_subscribe(r->h, 0);
    guint64 last_cycle = 0, last_seq = 0;
    r->monotonic = TRUE;
    for (;;) {
        tf_batch *b;
        guint64 lost;
        tf_sub_status st = tf_sub_next(sub, 2000, &b, &lost);
        if (st == TF_SUB_BATCH) {
            if (tf_batch_seq(b) != last_seq + 1)
                r->monotonic = FALSE;
            last_seq = tf_batch_seq(b);
            r->delivered++;
            tf_batch_unref(b);
            if (r->slow)
                g_usleep(2000);
        } else if (st == TF_SUB_LAGGED) {
            r->lost += lost;
            last_seq += lost;
        } else if (st == TF_SUB_CLOSED) {
            break;
        }
        if (!g_atomic_int_get(r->stop)) {
            tf_snapshot *s = tf_handle_latest(r->h);
            if (s) {
                if (tf_snapshot_cycle(s) < last_cycle)
                    r->monotonic = FALSE;
                last_cycle = tf_snapshot_cycle(s);
                json_t *j = tf_snapshot_to_json(s);
                json_decref(j);
                tf_snapshot_unref(s);
            }
            tf_snapshot *w = tf_handle_wait(r->h, cycle_past, &last_cycle, "next cycle",
                                            5 * G_USEC_PER_SEC, NULL);
            if (w) {
                r->waits_ok++;
                tf_snapshot_unref(w);
            }
            GPtrArray *st2 = tf_handle_source_status(r->h);
            g_ptr_array_unref(st2);
            GPtrArray *hist = tf_handle_batches(r->h);
            g_ptr_array_unref(hist);
        }
    }
    tf_sub_free(sub);
    return NULL;
}

static void test_readers_against_fast_runtime(void **unused)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 1000;
    cfg.event_history = 16; /* small ring: readers will lag and must count it */
    cfg.snapshot_history = 4;
    fix *f = fix_new(4, &cfg, NULL);
    gint stop = 0;
    reader rs[READERS];
    GThread *t[READERS];
    for (int i = 0; i < READERS; i++) {
        rs[i] = (reader){.h = f->h, .stop = &stop, .slow = i == 0};
        t[i] = g_thread_new("reader", read_loop, &rs[i]);
    }
    assert_true(tf_runtime_start(f->rt, NULL));
    gint64 end = g_get_monotonic_time() + 500000;
    for (guint i = 0; g_get_monotonic_time() < end; i++) {
        g_atomic_int_inc(&f->cells[i % 4].value);
        if (i % 50 == 0)
            fix_add_source(f, "extra", 5);
        if (i % 50 == 25)
            fix_remove_source(f, "extra");
        g_thread_yield();
    }
    g_atomic_int_set(&stop, 1);
    tf_runtime_stop(f->rt);
    guint64 total = tf_handle_last_seq(f->h);
    assert_true(total > 0);
    for (int i = 0; i < READERS; i++) {
        g_thread_join(t[i]);
        assert_true(rs[i].monotonic);
        assert_int_equal(rs[i].delivered + rs[i].lost, total);
        assert_true(rs[i].waits_ok > 0);
    }
    print_message("batches %" G_GUINT64_FORMAT ", reader 0 delivered %" G_GUINT64_FORMAT
                  " lost %" G_GUINT64_FORMAT "\n", total, rs[0].delivered, rs[0].lost);
    fix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readers_against_fast_runtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
