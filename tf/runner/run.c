/* run.c: the run loop: global hooks, attempts of each test case with retry, step and hook
 * bodies through exec.c (timeouts, Ctrl-C), world cleanup, and the typed events
 * (run_event.h) that tell the sink what happened. It knows no report format: reporters
 * build what they print from the events. Test cases and the static events before the
 * run starts are run_cases.c's. */
#include <string.h>
#include "runner_priv.h"
#include "tf/durable.h"
#include "tf/world_store.h"

static void emit_now(tf_run *run, tf_event *ev)
{
    ev->timestamp_us = g_get_real_time();
    tf_run_emit(run, ev);
}

void tf_run_emit_attachment(tf_run *run, tf_world *w, const void *data, gsize len,
                            const char *media_type, const char *file_name)
{
    gboolean in_case = w->tcs_id[0] != '\0';
    tf_event ev = {.kind = TF_EV_ATTACHMENT,
                   .attachment = {.test_case_started_id = in_case ? w->tcs_id : NULL,
                                  .test_step_id = in_case && w->step_id[0] ? w->step_id : NULL,
                                  .hook_run_id = !in_case && w->hook_run_id[0] ? w->hook_run_id
                                                                               : NULL,
                                  .data = data, .len = len, .media_type = media_type,
                                  .file_name = file_name}};
    emit_now(run, &ev);
}

/* ---- execution ---- */

static tf_result status_result(tf_step_status st)
{
    switch (st) {
    case TF_STEP_PASSED: return TF_RESULT_PASSED;
    case TF_STEP_PENDING: return TF_RESULT_PENDING;
    case TF_STEP_SKIPPED: return TF_RESULT_SKIPPED;
    default: return TF_RESULT_FAILED;
    }
}

static tf_step_status result_status(tf_result r)
{
    switch (r) {
    case TF_RESULT_PASSED: return TF_STEP_PASSED;
    case TF_RESULT_SKIPPED: return TF_STEP_SKIPPED;
    case TF_RESULT_PENDING: return TF_STEP_PENDING;
    default: return TF_STEP_FAILED;
    }
}

/* The wire server (wire_session.c) runs bodies the same way, so a timeout or a failed
 * wait reads the same there as here. */
tf_result tf_call_run(tf_exec *e, const tf_call *call, gint64 timeout_us,
                      tf_call_outcome *outcome, char **message)
{
    GError *err = NULL;
    tf_step_status st = TF_STEP_FAILED;
    tf_call_outcome out = tf_exec_call(e, call, timeout_us, &st, &err);
    if (outcome)
        *outcome = out;
    if (out == TF_CALL_TIMEOUT) {
        *message = g_strdup_printf("timed out after %.1f s (--step-timeout)", timeout_us / 1e6);
        return TF_RESULT_FAILED;
    }
    if (out == TF_CALL_INTERRUPTED) {
        *message = g_strdup("interrupted (SIGINT/SIGTERM)");
        return TF_RESULT_FAILED;
    }
    if (err) {
        *message = g_strdup(err->message);
        g_error_free(err);
    }
    return status_result(st);
}

/* Runs one body; returns its result and sets *message (newly allocated) on failure. */
static tf_result call_body(tf_run *run, const tf_call *call, char **message)
{
    tf_call_outcome out;
    tf_result r = tf_call_run(run->exec, call, run->opts.step_timeout_us, &out, message);
    /* A body that noticed the interrupt itself returns DONE; the run is interrupted anyway. */
    if (out == TF_CALL_INTERRUPTED || tf_exec_interrupted(run->exec))
        run->interrupted = TRUE;
    return r;
}

static tf_result run_step_hooks(tf_run *run, const tf_test_case *tc, tf_world *w,
                                tf_hook_kind kind, char **message)
{
    tf_result worst = TF_RESULT_PASSED;
    GPtrArray *hooks = tf_run_hooks_for(run->reg, kind, w->pickle, tf_test_case_uses_module, tc);
    for (guint i = 0; i < hooks->len && !run->interrupted; i++) {
        tf_hook_def *h = g_ptr_array_index(hooks, i);
        tf_call c = {.kind = TF_CALL_HOOK, .hook_fn = h->fn, .world = w};
        char *msg = NULL;
        tf_result r = call_body(run, &c, &msg);
        if (r > worst) {
            worst = r;
            g_free(*message);
            *message = msg;
        } else {
            g_free(msg);
        }
        if (r == TF_RESULT_FAILED && kind == TF_HOOK_BEFORE_STEP)
            break;
    }
    g_ptr_array_unref(hooks);
    return worst;
}

/* ---- one attempt of a test case ---- */

typedef struct {
    const tf_test_case *tc;
    tf_world *w;
    tf_result worst;           /* of every step and hook so far */
    gboolean skip_rest;        /* a step did not pass: the steps after it skip */
    gboolean skipped_scenario; /* a step said SKIPPED: even undefined ones skip */
} attempt;

static tf_world *attempt_begin(tf_run *run, const tf_test_case *tc, guint n)
{
    tf_world *w = tf_world_new_internal(run, run->exec, tc->pickle);
    tf_run_next_id(run, w->tcs_id);
    if (run->reg->world_new && !run->opts.dry_run)
        w->app = run->reg->world_new(run->reg->world_data);
    if (run->store)
        tf_world_use_store(w, run->store, run->store_run, n);
    tf_event ev = {.kind = TF_EV_CASE_STARTED,
                   .case_started = {.id = w->tcs_id, .test_case_id = tc->id, .attempt = n}};
    emit_now(run, &ev);
    return w;
}

static void suggest(tf_run *run, const tf_test_step *ts)
{
    char id[TF_ID_LEN];
    tf_run_next_id(run, id);
    char *snippet = tf_snippet_for_step(run->reg->params, ts->pstep);
    tf_event ev = {.kind = TF_EV_SUGGESTION,
                   .suggestion = {.id = id, .pickle_step_id = ts->pstep->id, .snippet = snippet}};
    emit_now(run, &ev);
    g_free(snippet);
}

/* A step of run_matched_step: it holds a reference to its arguments, since a body
 * abandoned with it may read them after the run freed the test case. */
static void step_free(gpointer p)
{
    tf_step *step = p;
    if (step->args)
        g_ptr_array_unref(step->args);
    g_free(step);
}

/* The one matching definition's body between the BeforeStep and AfterStep hooks. */
static tf_result run_matched_step(tf_run *run, const tf_test_case *tc, tf_world *w,
                                  const tf_test_step *ts, char **message)
{
    tf_result res = run_step_hooks(run, tc, w, TF_HOOK_BEFORE_STEP, message);
    if (res != TF_RESULT_PASSED || run->interrupted)
        return res;
    tf_match *m = g_ptr_array_index(ts->matches, 0);
    tf_step *step = g_new0(tf_step, 1);
    *step = (tf_step){.world = w, .pstep = ts->pstep,
                      .args = m->args ? g_ptr_array_ref(m->args) : NULL,
                      .timeout_us = run->opts.step_timeout_us};
    tf_call c = {.kind = TF_CALL_STEP, .step_fn = m->def->fn, .step = step,
                 .step_free = step_free, .world = w};
    res = call_body(run, &c, message);
    if (!w->abandoned)
        step_free(step); /* else the stuck thread frees it when the body returns */
    char *amsg = NULL;
    tf_result ar = run->interrupted ? TF_RESULT_PASSED
                                    : run_step_hooks(run, tc, w, TF_HOOK_AFTER_STEP, &amsg);
    if (ar > res) {
        res = ar;
        g_free(*message);
        *message = amsg;
    } else {
        g_free(amsg);
    }
    return res;
}

/* How a test step ends in this attempt; *message (newly allocated) says why it failed. */
static tf_result step_outcome(tf_run *run, attempt *a, const tf_test_step *ts, char **message)
{
    if (ts->hook) {
        gboolean is_before = ts->hook->kind == TF_HOOK_BEFORE;
        if (run->opts.dry_run || (is_before && (a->skip_rest || run->interrupted)))
            return TF_RESULT_SKIPPED;
        tf_call c = {.kind = TF_CALL_HOOK, .hook_fn = ts->hook->fn, .world = a->w};
        return call_body(run, &c, message);
    }
    if (a->skipped_scenario)
        return TF_RESULT_SKIPPED;
    if (ts->matches->len == 0) {
        suggest(run, ts);
        return TF_RESULT_UNDEFINED;
    }
    if (ts->matches->len > 1) /* the matches are in the test case: reporters list them */
        return TF_RESULT_AMBIGUOUS;
    if (a->skip_rest || run->opts.dry_run || run->interrupted)
        return TF_RESULT_SKIPPED;
    if (ts->match_error) {
        *message = g_strdup(ts->match_error);
        return TF_RESULT_FAILED;
    }
    return run_matched_step(run, a->tc, a->w, ts, message);
}

static void run_test_step(tf_run *run, attempt *a, const tf_test_step *ts)
{
    tf_world *w = a->w;
    g_strlcpy(w->step_id, ts->id, TF_ID_LEN);
    tf_event st = {.kind = TF_EV_STEP_STARTED,
                   .step_started = {.test_case_started_id = w->tcs_id, .test_step_id = ts->id}};
    emit_now(run, &st);
    gint64 t0 = g_get_monotonic_time();
    gboolean skip_rest_before = a->skip_rest;
    char *message = NULL;
    tf_result res = step_outcome(run, a, ts, &message);
    /* A journal that stopped recording during this step fails it (world_store.h). */
    GError *jerr = NULL;
    if (res == TF_RESULT_PASSED && !tf_world_journals_check(w, &jerr)) {
        res = TF_RESULT_FAILED;
        g_free(message);
        message = g_strdup(jerr->message);
        g_error_free(jerr);
    }
    gint64 dur = g_get_monotonic_time() - t0;
    if (res != TF_RESULT_PASSED && !ts->hook)
        a->skip_rest = TRUE;
    if (res == TF_RESULT_SKIPPED && !ts->hook && !skip_rest_before && !run->opts.dry_run)
        a->skipped_scenario = TRUE;
    if (res != TF_RESULT_PASSED && ts->hook && ts->hook->kind == TF_HOOK_BEFORE)
        a->skip_rest = TRUE;
    if (res > a->worst)
        a->worst = res;
    w->status = result_status(a->worst);
    tf_event fin = {.kind = TF_EV_STEP_FINISHED,
                    .step_finished = {.test_case_started_id = w->tcs_id, .test_step_id = ts->id,
                                      .result = {res, message, dur}}};
    emit_now(run, &fin);
    g_free(message);
    w->step_id[0] = '\0';
}

/* One attempt of a test case; returns its worst result. */
static tf_result run_attempt(tf_run *run, const tf_test_case *tc, guint n, gboolean *will_retry)
{
    attempt a = {.tc = tc, .w = attempt_begin(run, tc, n), .worst = TF_RESULT_PASSED};
    for (guint i = 0; i < tc->steps->len; i++)
        run_test_step(run, &a, g_ptr_array_index(tc->steps, i));
    /* Cleanups run however the scenario ended: they stop what the scenario started. */
    tf_world_cleanup(a.w);
    if (a.w->app && run->reg->world_free && !a.w->abandoned)
        run->reg->world_free(a.w->app);
    else if (a.w->app) /* the stuck body may still use it: the world's last reference frees it */
        a.w->app_free = run->reg->world_free;
    *will_retry = a.worst == TF_RESULT_FAILED && n < run->opts.retry && !run->interrupted;
    tf_event cf = {.kind = TF_EV_CASE_FINISHED,
                   .case_finished = {.test_case_started_id = a.w->tcs_id,
                                     .will_be_retried = *will_retry}};
    emit_now(run, &cf);
    tf_world_release(a.w);
    return a.worst;
}

/* ---- the run ---- */

/* A BeforeAll/AfterAll hook; FALSE (and a line in failures) when it failed. */
static gboolean run_global_hook(tf_run *run, const tf_hook_def *h, GString *failures)
{
    tf_world *w = tf_world_new_internal(run, run->exec, NULL);
    tf_run_next_id(run, w->hook_run_id);
    tf_event ev = {.kind = TF_EV_GLOBAL_HOOK_STARTED,
                   .global_hook_started = {.id = w->hook_run_id,
                                           .test_run_started_id = run->run_started_id,
                                           .hook_id = h->id}};
    emit_now(run, &ev);
    gint64 t0 = g_get_monotonic_time();
    char *message = NULL;
    tf_result res = TF_RESULT_SKIPPED;
    if (!run->opts.dry_run) {
        tf_call c = {.kind = TF_CALL_GLOBAL_HOOK, .global_fn = h->gfn,
                     .user_data = h->user_data, .world = w};
        res = call_body(run, &c, &message);
    }
    gint64 dur = g_get_monotonic_time() - t0;
    if (res == TF_RESULT_FAILED)
        g_string_append_printf(failures, "%s%s hook %s:%d failed: %s", failures->len ? "\n" : "",
                               h->kind == TF_HOOK_BEFORE_ALL ? "BeforeAll" : "AfterAll",
                               h->file, h->line, message ? message : "");
    tf_world_cleanup(w);
    tf_event fin = {.kind = TF_EV_GLOBAL_HOOK_FINISHED,
                    .global_hook_finished = {.hook_run_id = w->hook_run_id,
                                             .result = {res, message, dur}}};
    emit_now(run, &fin);
    g_free(message);
    tf_world_release(w);
    return res != TF_RESULT_FAILED;
}

gboolean tf_run_global_hooks(tf_run *run, tf_hook_kind kind, GString *failures)
{
    gboolean ok = TRUE;
    GPtrArray *hooks = tf_run_hooks_for(run->reg, kind, NULL, NULL, NULL);
    for (guint i = 0; i < hooks->len; i++)
        ok &= run_global_hook(run, g_ptr_array_index(hooks, i), failures);
    g_ptr_array_unref(hooks);
    return ok;
}

gboolean tf_run_counts_as_failure(const tf_run *run, tf_result r)
{
    if (r == TF_RESULT_FAILED || r == TF_RESULT_AMBIGUOUS)
        return TRUE;
    return run->opts.strict && (r == TF_RESULT_UNDEFINED || r == TF_RESULT_PENDING);
}

tf_result tf_run_case(tf_run *run, const tf_test_case *tc, guint first_attempt)
{
    tf_result res;
    gboolean retry = FALSE;
    guint attempt = first_attempt;
    do {
        res = run_attempt(run, tc, attempt++, &retry);
    } while (retry);
    return res;
}

/* Runs every test case (each until it passes or runs out of retries); FALSE when one
 * failed the run. Stops early on --fail-fast and on an interrupt. */
static gboolean run_cases(tf_run *run)
{
    gboolean ok = TRUE, stop = FALSE;
    for (guint i = 0; i < run->cases->len && !stop && !run->interrupted; i++) {
        tf_result res = tf_run_case(run, g_ptr_array_index(run->cases, i), 0);
        if (tf_run_counts_as_failure(run, res)) {
            ok = FALSE;
            stop = run->opts.fail_fast;
        }
    }
    return ok;
}

static void execute(tf_run *run, GPtrArray *features)
{
    tf_run_emit_static(run, features);
    tf_run_next_id(run, run->run_started_id);
    tf_event rs = {.kind = TF_EV_RUN_STARTED, .run_started = {.id = run->run_started_id}};
    emit_now(run, &rs);
    GString *failures = g_string_new(NULL);
    gboolean success = tf_run_global_hooks(run, TF_HOOK_BEFORE_ALL, failures);
    if (success) {
        tf_run_build_cases(run, features, TRUE);
        success = run_cases(run);
    }
    if (!tf_run_global_hooks(run, TF_HOOK_AFTER_ALL, failures))
        success = FALSE;
    if (run->interrupted) {
        success = FALSE;
        g_string_append_printf(failures, "%sinterrupted: the run was stopped by a signal",
                               failures->len ? "\n" : "");
    }
    run->success = success;
    tf_event rf = {.kind = TF_EV_RUN_FINISHED,
                   .run_finished = {.test_run_started_id = run->run_started_id,
                                    .success = success, .interrupted = run->interrupted,
                                    .message = failures->len ? failures->str : NULL}};
    emit_now(run, &rf);
    g_string_free(failures, TRUE);
}

typedef struct {
    tf_run *run;
    GPtrArray *features;
} execute_args;

static void execute_driven(void *data)
{
    execute_args *a = data;
    execute(a->run, a->features);
}

/* Bodies run inline on the run's own thread (exec.c): no thread hop per step. */
void tf_run_execute(tf_run *run, GPtrArray *features)
{
    execute_args a = {run, features};
    tf_exec_drive(run->exec, execute_driven, &a);
}
