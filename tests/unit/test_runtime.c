/* test_runtime.c: the runtime's cycle: lifecycle, validation, dynamic sources, error
 * stages, per-source status and staleness. Cycles run on the test thread (deterministic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "rt_fixture.h"

static void cycle_ok(fix *f)
{
    GError *err = NULL;
    gboolean ok = tf_runtime_cycle(f->rt, &err);
    if (!ok)
        fail_msg("cycle failed: %s", err->message);
}

static const counter_snapshot *latest_data(fix *f, tf_snapshot **keep)
{
    *keep = tf_handle_latest(f->h);
    assert_non_null(*keep);
    return tf_snapshot_data(*keep);
}

static tf_source_status *status_of(GPtrArray *st, const char *name)
{
    for (guint i = 0; i < st->len; i++)
        if (!strcmp(((tf_source_status *)st->pdata[i])->name, name))
            return st->pdata[i];
    return NULL;
}

static void test_first_cycle_publishes_snapshot(void **unused)
{
    fix *f = fix_new(3, NULL, NULL);
    assert_null(tf_handle_latest(f->h));
    f->cells[0].value = 5;
    f->cells[2].value = 7;
    cycle_ok(f);
    tf_snapshot *snap;
    const counter_snapshot *d = latest_data(f, &snap);
    assert_int_equal(tf_snapshot_cycle(snap), 1);
    assert_int_equal(tf_snapshot_cycle_started(snap), 1000000);
    assert_int_equal(d->n, 3);
    assert_int_equal(counter_snapshot_value(d, "n0"), 5);
    assert_int_equal(counter_snapshot_value(d, "n2"), 7);
    const char *const *names = tf_snapshot_sources(snap);
    assert_string_equal(names[0], "n0");
    assert_string_equal(names[2], "n2");
    assert_null(names[3]);
    json_t *j = tf_snapshot_to_json(snap);
    assert_int_equal(json_integer_value(json_object_get(j, "cycle")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(j, "state"), "values"), "n2")), 7);
    json_decref(j);
    tf_snapshot_unref(snap);
    /* One batch: three "changed" events from unknown to the first values. */
    assert_int_equal(tf_handle_last_seq(f->h), 1);
    fix_free(f);
}

static void test_no_events_no_batch(void **unused)
{
    fix *f = fix_new(2, NULL, NULL);
    cycle_ok(f);
    cycle_ok(f);
    cycle_ok(f);
    assert_int_equal(tf_handle_last_seq(f->h), 1); /* only the first cycle changed anything */
    f->cells[1].value = 9;
    cycle_ok(f);
    assert_int_equal(tf_handle_last_seq(f->h), 2);
    GPtrArray *hist = tf_handle_batches(f->h);
    assert_int_equal(hist->len, 2);
    tf_batch *b = hist->pdata[1];
    assert_int_equal(tf_batch_cycle(b), 4);
    assert_int_equal(tf_batch_len(b), 1);
    const counter_event *ev = tf_batch_event(b, 0);
    assert_string_equal(ev->source, "n1");
    assert_int_equal(ev->old_value, 0);
    assert_int_equal(ev->new_value, 9);
    g_ptr_array_unref(hist);
    fix_free(f);
}

static void test_sources_come_and_go(void **unused)
{
    fix *f = fix_new(2, NULL, NULL);
    cycle_ok(f);
    fix_add_source(f, "n5", 5);
    fix_remove_source(f, "n0");
    f->cells[5].value = 55;
    cycle_ok(f);
    tf_snapshot *snap;
    const counter_snapshot *d = latest_data(f, &snap);
    assert_int_equal(d->n, 2);
    assert_int_equal(counter_snapshot_value(d, "n0"), -1);
    assert_int_equal(counter_snapshot_value(d, "n5"), 55);
    tf_snapshot_unref(snap);
    GPtrArray *st = tf_handle_source_status(f->h);
    assert_int_equal(st->len, 3); /* n0 is remembered as gone */
    assert_false(status_of(st, "n0")->present);
    assert_true(status_of(st, "n0")->stale);
    assert_true(status_of(st, "n5")->present);
    assert_int_equal(status_of(st, "n5")->last_success, 1000000);
    g_ptr_array_unref(st);
    /* n0 returns: present again, its staleness counts from its return. */
    fix_add_source(f, "n0", 0);
    f->now += 10 * G_USEC_PER_SEC;
    cycle_ok(f);
    st = tf_handle_source_status(f->h);
    assert_true(status_of(st, "n0")->present);
    assert_false(status_of(st, "n0")->stale);
    g_ptr_array_unref(st);
    fix_free(f);
}

/* A source whose description changes (a cluster node's "state" attribute going from
 * running to stopped) is replaced, not gone: it stays present in the statuses. */
static void test_changed_source_stays_present(void **unused)
{
    fix *f = fix_new(1, NULL, NULL);
    cycle_ok(f);
    fix_remove_source(f, "n0");
    pthread_mutex_lock(&f->prov->lock);
    g_ptr_array_add(f->prov->sources, tf_source_new("n0", NULL, json_pack("{s:s}", "state", "stopped"),
                                                    &f->cells[0], NULL));
    pthread_mutex_unlock(&f->prov->lock);
    f->now += 10 * G_USEC_PER_SEC;
    cycle_ok(f);
    GPtrArray *st = tf_handle_source_status(f->h);
    assert_int_equal(st->len, 1);
    assert_true(status_of(st, "n0")->present);
    assert_false(status_of(st, "n0")->stale); /* it answered in this cycle */
    g_ptr_array_unref(st);
    fix_free(f);
}

static void test_refresh_failure_keeps_previous_set(void **unused)
{
    fix *f = fix_new(2, NULL, NULL);
    cycle_ok(f);
    fix_provider_fail(f, TRUE);
    f->cells[1].value = 3;
    GError *err = NULL;
    assert_false(tf_runtime_cycle(f->rt, &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, "planned refresh failure"));
    g_clear_error(&err);
    tf_failure *fl = tf_handle_last_error(f->h);
    assert_non_null(fl);
    assert_int_equal(fl->stage, TF_STAGE_REFRESH);
    assert_int_equal(fl->cycle, 2);
    assert_null(fl->source);
    char *d = tf_failure_describe(fl);
    assert_string_equal(d, "cycle 2, refresh: fixture provider: planned refresh failure");
    g_free(d);
    tf_failure_free(fl);
    /* The poll still ran on the previous sources and saw the new value. */
    tf_snapshot *snap;
    const counter_snapshot *cs = latest_data(f, &snap);
    assert_int_equal(tf_snapshot_cycle(snap), 2);
    assert_int_equal(counter_snapshot_value(cs, "n1"), 3);
    tf_snapshot_unref(snap);
    fix_free(f);
}

static void test_poll_failure_recorded(void **unused)
{
    counter_config cc = {.fail_cycles = {2}};
    fix *f = fix_new(1, NULL, &cc);
    cycle_ok(f);
    GError *err = NULL;
    assert_false(tf_runtime_cycle(f->rt, &err));
    assert_string_equal(err->message, "observer 'counter': planned failure on cycle 2");
    g_clear_error(&err);
    tf_failure *fl = tf_handle_last_error(f->h);
    assert_int_equal(fl->stage, TF_STAGE_POLL);
    assert_int_equal(fl->cycle, 2);
    tf_failure_free(fl);
    tf_snapshot *snap = tf_handle_latest(f->h);
    assert_int_equal(tf_snapshot_cycle(snap), 2); /* the failed cycle is still published */
    tf_snapshot_unref(snap);
    cycle_ok(f);
    fix_free(f);
}

static void test_source_failure_and_staleness(void **unused)
{
    fix *f = fix_new(2, NULL, NULL);
    cycle_ok(f);
    g_atomic_int_set(&f->cells[1].fail, 1);
    f->now += G_USEC_PER_SEC;
    cycle_ok(f); /* a failed source does not fail the cycle */
    f->now += G_USEC_PER_SEC;
    cycle_ok(f);
    GPtrArray *st = tf_handle_source_status(f->h);
    tf_source_status *s1 = status_of(st, "n1"), *s0 = status_of(st, "n0");
    assert_int_equal(s1->consecutive_failures, 2);
    assert_string_equal(s1->last_error, "cell is switched to fail");
    assert_int_equal(s1->last_success, 1000000);
    assert_false(s1->stale); /* 2 s without success, stale_after is 3 s */
    assert_int_equal(s0->consecutive_failures, 0);
    assert_null(s0->last_error);
    g_ptr_array_unref(st);
    tf_failure *fl = tf_handle_last_error(f->h);
    assert_int_equal(fl->stage, TF_STAGE_SOURCE);
    assert_string_equal(fl->source, "n1");
    assert_int_equal(fl->cycle, 3);
    tf_failure_free(fl);

    f->now += 2 * G_USEC_PER_SEC;
    st = tf_handle_source_status(f->h);
    assert_true(status_of(st, "n1")->stale); /* 4 s now */
    assert_false(status_of(st, "n0")->stale); /* answered at the last cycle, 2 s ago */
    f->now += 2 * G_USEC_PER_SEC;
    g_ptr_array_unref(st);
    st = tf_handle_source_status(f->h);
    assert_true(status_of(st, "n0")->stale); /* no cycle for 4 s */
    g_ptr_array_unref(st);

    g_atomic_int_set(&f->cells[1].fail, 0);
    cycle_ok(f);
    st = tf_handle_source_status(f->h);
    assert_int_equal(status_of(st, "n1")->consecutive_failures, 0);
    assert_null(status_of(st, "n1")->last_error);
    assert_false(status_of(st, "n1")->stale);
    g_ptr_array_unref(st);
    fix_free(f);
}

static void test_bad_config(void **unused)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 0;
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&cfg, &counter_observer, NULL,
                                    tf_source_provider_new_static(NULL, 0), &err);
    assert_null(rt);
    assert_int_equal(err->code, TF_ERROR_INVALID);
    assert_string_equal(err->message, "runtime config: interval_us must be > 0");
    g_clear_error(&err);

    tf_runtime_config_init(&cfg);
    tf_observer broken = counter_observer;
    broken.poll = NULL;
    rt = tf_runtime_new(&cfg, &broken, NULL, tf_source_provider_new_static(NULL, 0), &err);
    assert_null(rt);
    assert_string_equal(err->message, "observer 'counter': missing vtable function 'poll'");
    g_clear_error(&err);
    broken = counter_observer;
    broken.snapshot_to_json = NULL;
    rt = tf_runtime_new(&cfg, &broken, NULL, tf_source_provider_new_static(NULL, 0), &err);
    assert_string_equal(err->message, "observer 'counter': missing vtable function 'snapshot_to_json'");
    g_clear_error(&err);
    /* The event functions are optional, but only as a pair: one alone is a mistake. */
    broken = counter_observer;
    broken.event_to_json = NULL;
    rt = tf_runtime_new(&cfg, &broken, NULL, tf_source_provider_new_static(NULL, 0), &err);
    assert_null(rt);
    assert_string_equal(err->message, "observer 'counter': free_event and event_to_json go "
                                      "together: set both (to emit events) or neither");
    g_clear_error(&err);
    broken = counter_observer;
    broken.free_event = NULL;
    rt = tf_runtime_new(&cfg, &broken, NULL, tf_source_provider_new_static(NULL, 0), &err);
    assert_null(rt);
    assert_non_null(strstr(err->message, "go together"));
    g_clear_error(&err);
    rt = tf_runtime_new(&cfg, NULL, NULL, tf_source_provider_new_static(NULL, 0), &err);
    assert_null(rt);
    assert_non_null(err);
    g_clear_error(&err);
    rt = tf_runtime_new(&cfg, &counter_observer, NULL, NULL, &err);
    assert_null(rt);
    assert_string_equal(err->message, "observer 'counter': no source provider");
    g_clear_error(&err);
}

static void *failing_init(const void *config, GError **error)
{
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "no endpoint configured");
    return NULL;
}

static void test_init_failure(void **unused)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    tf_observer obs = counter_observer;
    obs.init = failing_init;
    GError *err = NULL;
    assert_null(tf_runtime_new(&cfg, &obs, NULL, tf_source_provider_new_static(NULL, 0), &err));
    assert_string_equal(err->message, "observer 'counter': init: no endpoint configured");
    g_clear_error(&err);
}

static void test_duplicate_source_names(void **unused)
{
    fix *f = fix_new(2, NULL, NULL);
    fix_add_source(f, "n1", 3);
    GError *err = NULL;
    assert_false(tf_runtime_cycle(f->rt, &err));
    assert_string_equal(err->message, "fixture: duplicate source name 'n1'");
    g_clear_error(&err);
    fix_free(f);
}

static void test_free_while_handles_referenced(void **unused)
{
    /* The real clock: handles outlive the fixture that would own a fake one. */
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    fix *f = fix_new(1, &cfg, NULL);
    f->cells[0].value = 4;
    cycle_ok(f);
    tf_handle *h2 = tf_handle_ref(f->h);
    tf_sub *sub = tf_handle_subscribe(f->h, 0);
    fix_free(f); /* frees the runtime and one handle ref */
    assert_true(tf_handle_closed(h2));
    tf_snapshot *snap = tf_handle_latest(h2);
    assert_int_equal(counter_snapshot_value(tf_snapshot_data(snap), "n0"), 4);
    tf_snapshot_unref(snap);
    tf_handle_wake(h2); /* harmless after the runtime is gone */
    tf_batch *b;
    assert_int_equal(tf_sub_next(sub, 0, &b, NULL), TF_SUB_BATCH);
    tf_batch_unref(b);
    assert_int_equal(tf_sub_next(sub, -1, &b, NULL), TF_SUB_CLOSED);
    GError *err = NULL;
    assert_null(tf_handle_wait_fresh(h2, g_get_monotonic_time(), G_USEC_PER_SEC, &err));
    assert_int_equal(err->code, TF_ERROR_STOPPED);
    g_clear_error(&err);
    tf_sub_free(sub);
    tf_handle_unref(h2);
}

/* An observer without events, as observer.h allows: no free_event, no event_to_json.
 * Its state is the test's `emit` flag, so the test can make it break the rule. */
static const char quiet_event[] = "an event nobody can free";

static void *quiet_init(const void *config, GError **error) { return (void *)config; }
static gboolean quiet_poll(void *state, tf_poll_ctx *ctx, GError **error)
{
    GPtrArray *sources = tf_poll_sources(ctx);
    for (guint i = 0; i < sources->len; i++)
        tf_poll_source_ok(ctx, sources->pdata[i]);
    if (*(const gboolean *)state)
        tf_poll_emit(ctx, (void *)quiet_event);
    return TRUE;
}
static void *quiet_snapshot(void *state) { return g_strdup("quiet"); }
static void quiet_free_state(void *state) {}
static json_t *quiet_json(const void *snap) { return json_string(snap); }

static const tf_observer quiet_observer = {
    .name = "quiet", .version = 1, .init = quiet_init, .poll = quiet_poll,
    .snapshot = quiet_snapshot, .free_state = quiet_free_state, .free_snapshot = g_free,
    .snapshot_to_json = quiet_json,
};

static void test_observer_without_events(void **unused)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    gboolean emit = FALSE;
    counter_cell cell = {0};
    tf_source *src = counter_source_new("n0", &cell);
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&cfg, &quiet_observer, &emit,
                                    tf_source_provider_new_static(&src, 1), &err);
    tf_source_unref(src);
    assert_no_gerror(err);
    tf_handle *h = tf_runtime_handle(rt);
    assert_true(tf_runtime_cycle(rt, &err));
    assert_true(tf_runtime_cycle(rt, &err));
    assert_int_equal(tf_handle_last_seq(h), 0);
    assert_null(tf_handle_last_error(h));

    /* Emitting without the functions to free and print events fails the cycle loudly,
     * naming the observer; the event is dropped (tf cannot free what it cannot know). */
    emit = TRUE;
    assert_false(tf_runtime_cycle(rt, &err));
    const char *want = "observer 'quiet': poll emitted 1 event, but the observer has no "
                       "free_event and event_to_json (set both in its tf_observer to emit "
                       "events); dropped";
    assert_string_equal(err->message, want);
    g_clear_error(&err);
    tf_failure *f = tf_handle_last_error(h);
    assert_int_equal(f->stage, TF_STAGE_POLL);
    assert_int_equal(f->cycle, 3);
    assert_string_equal(f->message, want);
    tf_failure_free(f);
    assert_int_equal(tf_handle_last_seq(h), 0); /* no batch */
    tf_snapshot *snap = tf_handle_latest(h);      /* the cycle is still published */
    assert_int_equal(tf_snapshot_cycle(snap), 3);
    assert_string_equal(tf_snapshot_data(snap), "quiet");
    tf_snapshot_unref(snap);
    tf_handle_unref(h);
    tf_runtime_free(rt);
}

static void test_start_stop_lifecycle(void **unused)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 1000;
    fix *f = fix_new(2, &cfg, NULL);
    GError *err = NULL;
    assert_true(tf_runtime_start(f->rt, &err));
    assert_false(tf_runtime_start(f->rt, &err));
    assert_string_equal(err->message, "observer 'counter': runtime already started");
    g_clear_error(&err);
    assert_false(tf_runtime_cycle(f->rt, &err));
    g_clear_error(&err);
    tf_runtime_stop(f->rt);
    tf_runtime_stop(f->rt); /* idempotent */
    assert_true(tf_handle_closed(f->h));
    assert_false(tf_runtime_start(f->rt, &err));
    assert_string_equal(err->message, "observer 'counter': runtime already stopped");
    g_clear_error(&err);
    fix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_cycle_publishes_snapshot),
        cmocka_unit_test(test_no_events_no_batch),
        cmocka_unit_test(test_sources_come_and_go),
        cmocka_unit_test(test_changed_source_stays_present),
        cmocka_unit_test(test_refresh_failure_keeps_previous_set),
        cmocka_unit_test(test_poll_failure_recorded),
        cmocka_unit_test(test_source_failure_and_staleness),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_init_failure),
        cmocka_unit_test(test_duplicate_source_names),
        cmocka_unit_test(test_free_while_handles_referenced),
        cmocka_unit_test(test_start_stop_lifecycle),
        cmocka_unit_test(test_observer_without_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
