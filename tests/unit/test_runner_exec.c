/* test_runner_exec.c: how tf run runs step bodies (tf/runner/exec.c). Bodies run inline
 * on the thread that runs the scenarios (the one that made the world), with no hand-off
 * to another thread per step; a body that overruns its timeout keeps its thread and the
 * run goes on on a fresh one, as often as it happens, with After hooks and cleanups run
 * each time; an abandoned body that returns later changes nothing. In process, through
 * tf_run_main (summary report read back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>
#include "tf/runner.h"
#include "run_fixture.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static GString *trail;        /* what bodies, hooks and cleanups did, in order */
static GPtrArray *threads;    /* distinct threads step bodies ran on */
static gboolean released, returned;

typedef struct {
    pthread_t loop; /* the thread that made the world: the one running the scenario */
} world;

static void note(const char *what)
{
    pthread_mutex_lock(&mu);
    g_string_append_printf(trail, "%s;", what);
    pthread_mutex_unlock(&mu);
}

static void *world_new(void *data)
{
    world *w = g_new0(world, 1);
    w->loop = pthread_self();
    return w;
}

static void seen_thread(void)
{
    pthread_t self = pthread_self();
    pthread_mutex_lock(&mu);
    gboolean known = FALSE;
    for (guint i = 0; i < threads->len && !known; i++)
        known = pthread_equal(*(pthread_t *)g_ptr_array_index(threads, i), self);
    if (!known)
        g_ptr_array_add(threads, g_memdup2(&self, sizeof self));
    pthread_mutex_unlock(&mu);
}

static tf_step_status st_inline(tf_step *s, GError **e)
{
    world *w = tf_world_app(tf_step_world(s));
    seen_thread();
    note("step");
    if (!pthread_equal(w->loop, pthread_self()))
        return TF_FAIL(e, "the body ran on another thread than its scenario");
    return TF_STEP_PASSED;
}

static tf_step_status st_hang(tf_step *s, GError **e)
{
    seen_thread();
    note("hang");
    pthread_mutex_lock(&mu);
    for (;;) /* never signalled for this: the runner must give up on this thread */
        pthread_cond_wait(&cv, &mu);
    return TF_STEP_PASSED;
}

/* The run never frees the step and world it leaves to an abandoned body (world.c: a stuck
 * thread may still use them), also once that body returns: kept reachable here so that
 * LeakSanitizer judges the rest. */
static tf_step *late_step;

static tf_step_status st_hang_until_released(tf_step *s, GError **e)
{
    late_step = s;
    note("held");
    pthread_mutex_lock(&mu);
    while (!released)
        pthread_cond_wait(&cv, &mu);
    returned = TRUE;
    g_string_append(trail, "returned;");
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return TF_FAIL(e, "this answer comes too late and must be dropped");
}

/* Lets the held body of an earlier scenario return and waits (10 s at most) until it has. */
static tf_step_status st_release(tf_step *s, GError **e)
{
    pthread_mutex_lock(&mu);
    released = TRUE;
    pthread_cond_broadcast(&cv);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    struct timespec ts;
    while (!returned) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&cv, &mu, &ts);
        if (g_get_monotonic_time() > deadline)
            break;
    }
    gboolean ok = returned;
    pthread_mutex_unlock(&mu);
    return ok ? TF_STEP_PASSED : TF_FAIL(e, "the held body did not return within 10 s");
}

static void cleanup_note(void *what) { note(what); }

static tf_step_status hk_after(tf_world *w, GError **e)
{
    note("after");
    return TF_STEP_PASSED;
}

static tf_step_status hk_before(tf_world *w, GError **e)
{
    tf_world_defer(w, cleanup_note, (void *)"cleanup");
    return TF_STEP_PASSED;
}

static gboolean module(tf_registry *reg, GError **error)
{
    tf_registry_set_world(reg, world_new, g_free, NULL);
    TF_GIVEN("a step on the scenario's thread", st_inline);
    TF_GIVEN("a step that hangs", st_hang);
    TF_GIVEN("a step that hangs until released", st_hang_until_released);
    TF_GIVEN("the held step is released", st_release);
    static const tf_hook_options before = {.name = "before"}, after = {.name = "after"};
    return tf_registry_add_hook(reg, TF_HOOK_BEFORE, &before, hk_before, __FILE__, __LINE__,
                                error) &&
           tf_registry_add_hook(reg, TF_HOOK_AFTER, &after, hk_after, __FILE__, __LINE__, error);
}

/* Runs a feature with extra args; returns the summary report (g_free) and sets *code. */
static char *run(const char *feature, int *code, ...)
{
    char *path = rf_write("exec.feature", feature);
    char *report = g_build_filename(rf_tmp(), "summary.txt", NULL);
    char *fmt = g_strdup_printf("--format=summary:%s", report);
    GPtrArray *args = g_ptr_array_new();
    g_ptr_array_add(args, fmt);
    va_list ap;
    va_start(ap, code);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(args, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(args, path);
    g_ptr_array_add(args, NULL);
    g_string_truncate(trail, 0);
    g_ptr_array_set_size(threads, 0);
    rf_result r = rf_run(module, (const char *const *)args->pdata);
    *code = r.code;
    rf_result_clear(&r);
    char *text = rf_read(report);
    g_ptr_array_unref(args);
    g_free(fmt);
    g_free(report);
    g_free(path);
    return text;
}

static void test_bodies_run_inline(void **state)
{
    GString *f = g_string_new("Feature: inline\n");
    for (int i = 0; i < 50; i++)
        g_string_append_printf(f, "  Scenario: s%d\n    Given a step on the scenario's thread\n"
                                  "    And a step on the scenario's thread\n"
                                  "    And a step on the scenario's thread\n", i);
    int code;
    char *report = run(f->str, &code, NULL);
    assert_int_equal(code, 0);
    assert_non_null(strstr(report, "50 scenarios (50 passed)"));
    assert_non_null(strstr(report, "150 steps (150 passed)"));
    /* one thread ran every body, the one running the scenarios, and not the caller's */
    assert_int_equal(threads->len, 1);
    assert_false(pthread_equal(*(pthread_t *)g_ptr_array_index(threads, 0), pthread_self()));
    g_free(report);
    g_string_free(f, TRUE);
}

static void test_each_timeout_moves_the_run_on(void **state)
{
    const char *stuck = "  Scenario: stuck\n    Given a step on the scenario's thread\n"
                        "    And a step that hangs\n    And a step on the scenario's thread\n";
    char *feature = g_strdup_printf("Feature: timeouts\n%s%s%s  Scenario: fine\n"
                                    "    Given a step on the scenario's thread\n"
                                    "    And a step on the scenario's thread\n",
                                    stuck, stuck, stuck);
    int code;
    char *report = run(feature, &code, "--step-timeout", "0.1", NULL);
    assert_int_equal(code, 1);
    assert_non_null(strstr(report, "4 scenarios (3 failed, 1 passed)"));
    assert_non_null(strstr(report, "11 steps (3 failed, 3 skipped, 5 passed)"));
    assert_non_null(strstr(report, "timed out after 0.1 s"));
    /* every scenario's After hook and cleanup ran, the stuck ones' too */
    assert_string_equal(trail->str, "step;hang;after;cleanup;step;hang;after;cleanup;"
                                    "step;hang;after;cleanup;step;step;after;cleanup;");
    /* each stuck body kept its thread; the next scenario ran on a new one */
    assert_int_equal(threads->len, 4);
    g_free(report);
    g_free(feature);
}

static void test_abandoned_body_returning_later_changes_nothing(void **state)
{
    released = returned = FALSE;
    int code;
    char *report = run("Feature: late\n  Scenario: held\n    Given a step that hangs until released\n"
                       "  Scenario: release\n    Given the held step is released\n"
                       "    And a step on the scenario's thread\n",
                       &code, "--step-timeout", "0.1", NULL);
    assert_int_equal(code, 1);
    assert_non_null(strstr(report, "2 scenarios (1 failed, 1 passed)"));
    assert_non_null(strstr(report, "3 steps (1 failed, 2 passed)"));
    assert_null(strstr(report, "too late"));
    assert_string_equal(trail->str, "held;after;cleanup;returned;step;after;cleanup;");
    g_free(report);
}

static int setup(void **state)
{
    trail = g_string_new(NULL);
    threads = g_ptr_array_new_with_free_func(g_free);
    return rf_setup("tf-exec") ? 0 : -1;
}

static int teardown(void **state)
{
    rf_teardown();
    g_ptr_array_unref(threads);
    pthread_mutex_lock(&mu); /* stuck bodies may still hold a moment of it */
    g_string_free(trail, TRUE);
    pthread_mutex_unlock(&mu);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies_run_inline),
        cmocka_unit_test(test_each_timeout_moves_the_run_on),
        cmocka_unit_test(test_abandoned_body_returning_later_changes_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
