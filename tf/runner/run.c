/* run.c: the run loop: global hooks, test cases built from pickles (hooks + matched
 * steps), attempts with retry, step/hook execution through exec.c (timeouts, Ctrl-C),
 * world cleanup, and the event stream (with Cucumber Messages envelopes) reporters read. */
#include <string.h>
#include <sys/utsname.h>
#include "runner_priv.h"
#include "tf/durable.h"

const char *tf_result_name(tf_result r)
{
    static const char *const n[] = {"UNKNOWN", "PASSED", "SKIPPED", "PENDING",
                                    "UNDEFINED", "AMBIGUOUS", "FAILED"};
    return n[r];
}

const char *tf_result_word(tf_result r)
{
    static const char *const n[] = {"unknown", "passed", "skipped", "pending",
                                    "undefined", "ambiguous", "failed"};
    return n[r];
}

static void next_id(tf_run *run, char *out)
{
    g_snprintf(out, TF_ID_LEN, "%" G_GUINT64_FORMAT, tf_gherkin_id_gen_next(run->ids));
}

static json_t *timestamp_json(void)
{
    gint64 t = g_get_real_time();
    return json_pack("{s:I,s:i}", "seconds", (json_int_t)(t / G_USEC_PER_SEC), "nanos",
                     (int)(t % G_USEC_PER_SEC) * 1000);
}

static json_t *duration_json(gint64 us)
{
    return json_pack("{s:I,s:i}", "seconds", (json_int_t)(us / G_USEC_PER_SEC), "nanos",
                     (int)(us % G_USEC_PER_SEC) * 1000);
}

static json_t *wrap(const char *key, json_t *value)
{
    json_t *o = json_object();
    json_object_set_new(o, key, value);
    return o;
}

static void emit(tf_run *run, tf_event *ev)
{
    for (guint i = 0; i < run->reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(run->reporters, i);
        r->event(r, ev);
    }
    if (ev->envelope)
        json_decref(ev->envelope);
}

static void emit_envelope(tf_run *run, json_t *env)
{
    if (!run->want_env) {
        json_decref(env);
        return;
    }
    tf_event ev = {.kind = TF_EV_ENVELOPE, .envelope = env};
    emit(run, &ev);
}

static json_t *result_json(tf_result res, const char *message, const char *where,
                           gint64 duration_us)
{
    json_t *o = json_object();
    /* Cucumber gives ambiguous steps no message; the list is for the human reporters. */
    if (message && res != TF_RESULT_AMBIGUOUS) {
        json_object_set_new(o, "message", json_string(message));
        json_t *ex = json_object();
        json_object_set_new(ex, "type", json_string("GError"));
        json_object_set_new(ex, "message", json_string(message));
        if (where)
            json_object_set_new(ex, "stackTrace",
                                json_sprintf("GError: %s\n%s", message, where));
        json_object_set_new(o, "exception", ex);
    }
    json_object_set_new(o, "status", json_string(tf_result_name(res)));
    json_object_set_new(o, "duration", duration_json(duration_us));
    return o;
}

/* ---- static envelopes ---- */

static json_t *source_ref(const char *file, int line)
{
    return json_pack("{s:s,s:{s:i}}", "uri", file, "location", "line", line);
}

static const char *hook_type(tf_hook_kind k)
{
    switch (k) {
    case TF_HOOK_BEFORE_ALL: return "BEFORE_TEST_RUN";
    case TF_HOOK_AFTER_ALL: return "AFTER_TEST_RUN";
    case TF_HOOK_BEFORE: return "BEFORE_TEST_CASE";
    case TF_HOOK_AFTER: return "AFTER_TEST_CASE";
    case TF_HOOK_BEFORE_STEP: return "BEFORE_TEST_STEP";
    case TF_HOOK_AFTER_STEP: return "AFTER_TEST_STEP";
    }
    return "BEFORE_TEST_CASE";
}

static void emit_meta(tf_run *run)
{
    struct utsname u;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    json_t *m = json_pack("{s:s,s:{s:s,s:s},s:{s:s},s:{s:s,s:s},s:{s:s,s:s}}",
                          "protocolVersion", "27.0.0", "implementation", "name", "tf",
                          "version", TF_PROJECT_VERSION, "cpu", "name", u.machine, "os", "name",
                          u.sysname, "version", u.release, "runtime", "name", "C",
                          "version", "C11");
    emit_envelope(run, wrap("meta", m));
}

typedef struct {
    guint seq;
    int kind; /* 0 step, 1 hook, 2 param, 3 undefined param */
    void *p;
} def_ref;

static gint def_ref_cmp(gconstpointer a, gconstpointer b)
{
    const def_ref *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Definitions get ids and envelopes in registration order, as cucumber numbers them. */
static void emit_definitions(tf_run *run)
{
    tf_registry *reg = run->reg;
    GArray *all = g_array_new(FALSE, FALSE, sizeof(def_ref));
    for (guint i = 0; i < reg->steps->len; i++) {
        tf_step_def *d = g_ptr_array_index(reg->steps, i);
        def_ref r = {d->seq, 0, d};
        g_array_append_val(all, r);
    }
    for (guint i = 0; i < reg->hooks->len; i++) {
        tf_hook_def *h = g_ptr_array_index(reg->hooks, i);
        def_ref r = {h->seq, 1, h};
        g_array_append_val(all, r);
    }
    for (guint i = 0; i < reg->param_defs->len; i++) {
        tf_param_def *p = g_ptr_array_index(reg->param_defs, i);
        def_ref r = {p->seq, 2, p};
        g_array_append_val(all, r);
    }
    for (guint i = 0; i < reg->undefined->len; i++) {
        tf_undefined_param *u = g_ptr_array_index(reg->undefined, i);
        def_ref r = {u->seq, 3, u};
        g_array_append_val(all, r);
    }
    g_array_sort(all, def_ref_cmp);
    for (guint i = 0; i < all->len; i++) {
        def_ref *r = &g_array_index(all, def_ref, i);
        if (r->kind == 0) {
            tf_step_def *d = r->p;
            next_id(run, d->id);
            if (run->want_env)
                emit_envelope(run, wrap("stepDefinition",
                    json_pack("{s:s,s:{s:s,s:s},s:o}", "id", d->id, "pattern", "type",
                              d->is_regex ? "REGULAR_EXPRESSION" : "CUCUMBER_EXPRESSION",
                              "source", d->pattern, "sourceReference",
                              source_ref(d->file, d->line))));
        } else if (r->kind == 1) {
            tf_hook_def *h = r->p;
            next_id(run, h->id);
            if (run->want_env) {
                json_t *o = json_pack("{s:s,s:s}", "id", h->id, "type", hook_type(h->kind));
                if (h->name)
                    json_object_set_new(o, "name", json_string(h->name));
                if (h->tags_src)
                    json_object_set_new(o, "tagExpression", json_string(h->tags_src));
                json_object_set_new(o, "sourceReference", source_ref(h->file, h->line));
                emit_envelope(run, wrap("hook", o));
            }
        } else if (r->kind == 2) {
            tf_param_def *p = r->p;
            next_id(run, p->id);
            if (run->want_env) {
                json_t *res = json_array();
                for (char **s = p->regexps; *s; s++)
                    json_array_append_new(res, json_string(*s));
                emit_envelope(run, wrap("parameterType",
                    json_pack("{s:s,s:s,s:o,s:b,s:b}", "id", p->id, "name", p->name,
                              "regularExpressions", res, "preferForRegularExpressionMatch",
                              p->prefer, "useForSnippets", p->use_for_snippets)));
            }
        } else if (run->want_env) {
            tf_undefined_param *u = r->p;
            emit_envelope(run, wrap("undefinedParameterType",
                json_pack("{s:s,s:s}", "name", u->name, "expression", u->expression)));
        }
    }
    g_array_unref(all);
}

/* ---- test cases ---- */

static void test_step_free(tf_test_step *ts)
{
    if (ts->matches)
        g_ptr_array_unref(ts->matches);
    g_free(ts->match_error);
    g_free(ts);
}

static void test_case_free(tf_test_case *tc)
{
    g_ptr_array_unref(tc->steps);
    g_free(tc);
}

static gint hook_before_cmp(gconstpointer a, gconstpointer b)
{
    const tf_hook_def *x = *(tf_hook_def *const *)a, *y = *(tf_hook_def *const *)b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static gint hook_after_cmp(gconstpointer a, gconstpointer b) { return -hook_before_cmp(a, b); }

/* Hooks of one kind that apply to pickle (all when pickle is NULL), in run order. */
GPtrArray *tf_run_hooks_for(tf_registry *reg, tf_hook_kind kind, const tf_gherkin_pickle *p)
{
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < reg->hooks->len; i++) {
        tf_hook_def *h = g_ptr_array_index(reg->hooks, i);
        if (h->kind == kind && (!p || !h->tags || tf_tag_matcher_match(h->tags, p)))
            g_ptr_array_add(out, h);
    }
    gboolean after = kind == TF_HOOK_AFTER || kind == TF_HOOK_AFTER_STEP ||
                     kind == TF_HOOK_AFTER_ALL;
    g_ptr_array_sort(out, after ? hook_after_cmp : hook_before_cmp);
    return out;
}

static tf_test_step *hook_step(tf_run *run, tf_hook_def *h)
{
    tf_test_step *ts = g_new0(tf_test_step, 1);
    next_id(run, ts->id);
    ts->hook = h;
    return ts;
}

static tf_test_case *build_case(tf_run *run, const tf_gherkin_pickle *p, GHashTable *ast_steps)
{
    tf_test_case *tc = g_new0(tf_test_case, 1);
    next_id(run, tc->id);
    tc->pickle = p;
    tc->steps = g_ptr_array_new_with_free_func((GDestroyNotify)test_step_free);
    GPtrArray *before = tf_run_hooks_for(run->reg, TF_HOOK_BEFORE, p);
    for (guint i = 0; i < before->len; i++)
        g_ptr_array_add(tc->steps, hook_step(run, g_ptr_array_index(before, i)));
    g_ptr_array_unref(before);
    for (guint i = 0; i < p->n_steps; i++) {
        tf_test_step *ts = g_new0(tf_test_step, 1);
        next_id(run, ts->id);
        ts->pstep = &p->steps[i];
        const tf_gherkin_step *ast = ts->pstep->n_ast_node_ids
            ? g_hash_table_lookup(ast_steps, ts->pstep->ast_node_ids[0]) : NULL;
        ts->keyword = ast ? ast->keyword : "* ";
        ts->matches = tf_match_step(run->reg, ts->pstep, &ts->match_error);
        g_ptr_array_add(tc->steps, ts);
    }
    GPtrArray *after = tf_run_hooks_for(run->reg, TF_HOOK_AFTER, p);
    for (guint i = 0; i < after->len; i++)
        g_ptr_array_add(tc->steps, hook_step(run, g_ptr_array_index(after, i)));
    g_ptr_array_unref(after);
    return tc;
}

static void index_steps(const tf_gherkin_child *children, guint n, GHashTable *out)
{
    for (guint i = 0; i < n; i++) {
        const tf_gherkin_step *steps = NULL;
        guint ns = 0;
        if (children[i].background) {
            steps = children[i].background->steps;
            ns = children[i].background->n_steps;
        } else if (children[i].scenario) {
            steps = children[i].scenario->steps;
            ns = children[i].scenario->n_steps;
        } else if (children[i].rule) {
            index_steps(children[i].rule->children, children[i].rule->n_children, out);
        }
        for (guint k = 0; k < ns; k++)
            g_hash_table_insert(out, (gpointer)steps[k].id, (gpointer)&steps[k]);
    }
}

static json_t *test_case_json(tf_run *run, const tf_test_case *tc)
{
    json_t *steps = json_array();
    for (guint i = 0; i < tc->steps->len; i++) {
        const tf_test_step *ts = g_ptr_array_index(tc->steps, i);
        if (ts->hook) {
            json_array_append_new(steps, json_pack("{s:s,s:s}", "id", ts->id, "hookId",
                                                   ts->hook->id));
            continue;
        }
        json_t *ids = json_array(), *lists = json_array();
        for (guint k = 0; k < ts->matches->len; k++) {
            const tf_match *m = g_ptr_array_index(ts->matches, k);
            json_array_append_new(ids, json_string(m->def->id));
            json_array_append_new(lists, tf_match_arguments_json(m, ts->pstep->text));
        }
        json_array_append_new(steps, json_pack("{s:s,s:s,s:o,s:o}", "id", ts->id,
                                               "pickleStepId", ts->pstep->id,
                                               "stepDefinitionIds", ids,
                                               "stepMatchArgumentsLists", lists));
    }
    return wrap("testCase", json_pack("{s:s,s:s,s:o,s:s}", "id", tc->id, "pickleId",
                                      tc->pickle->id, "testSteps", steps, "testRunStartedId",
                                      run->run_started_id));
}

/* ---- attachments ---- */

/* Text goes as IDENTITY and everything else as BASE64. A C caller only has bytes, so
 * "text" means valid UTF-8 without control characters (ANSI escapes allowed); images
 * are always encoded, as cucumber does for files and streams. */
static gboolean is_textual(const char *media_type, const char *data, gsize len)
{
    if (g_str_has_prefix(media_type, "image/") || !g_utf8_validate(data, len, NULL))
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        guchar c = (guchar)data[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != 0x1b)
            return FALSE;
    }
    return TRUE;
}

void tf_run_emit_attachment(tf_run *run, tf_world *w, const void *data, gsize len,
                            const char *media_type, const char *file_name)
{
    tf_event ev = {.kind = TF_EV_ATTACHMENT, .data = data, .len = len,
                   .media_type = media_type};
    if (run->want_env) {
        json_t *o = json_object();
        if (w->tcs_id[0]) {
            json_object_set_new(o, "testCaseStartedId", json_string(w->tcs_id));
            if (w->step_id[0])
                json_object_set_new(o, "testStepId", json_string(w->step_id));
        } else if (w->hook_run_id[0]) {
            json_object_set_new(o, "testRunHookStartedId", json_string(w->hook_run_id));
        }
        if (is_textual(media_type, data, len)) {
            json_object_set_new(o, "body", json_stringn(data, len));
            json_object_set_new(o, "contentEncoding", json_string("IDENTITY"));
        } else {
            char *b64 = g_base64_encode(data, len);
            json_object_set_new(o, "body", json_string(b64));
            g_free(b64);
            json_object_set_new(o, "contentEncoding", json_string("BASE64"));
        }
        json_object_set_new(o, "mediaType", json_string(media_type));
        if (file_name)
            json_object_set_new(o, "fileName", json_string(file_name));
        json_object_set_new(o, "timestamp", timestamp_json());
        ev.envelope = wrap("attachment", o);
    }
    emit(run, &ev);
}

/* ---- execution ---- */

static tf_result status_result(tf_status st)
{
    switch (st) {
    case TF_STATUS_PASSED: return TF_RESULT_PASSED;
    case TF_STATUS_PENDING: return TF_RESULT_PENDING;
    case TF_STATUS_SKIPPED: return TF_RESULT_SKIPPED;
    default: return TF_RESULT_FAILED;
    }
}

static tf_status result_status(tf_result r)
{
    switch (r) {
    case TF_RESULT_PASSED: return TF_STATUS_PASSED;
    case TF_RESULT_SKIPPED: return TF_STATUS_SKIPPED;
    case TF_RESULT_PENDING: return TF_STATUS_PENDING;
    default: return TF_STATUS_FAILED;
    }
}

/* The wire server (wire_session.c) runs bodies the same way, so a timeout or a failed
 * wait reads the same there as here. */
tf_result tf_call_run(tf_exec *e, const tf_call *call, gint64 timeout_us,
                      tf_call_outcome *outcome, char **message)
{
    GError *err = NULL;
    tf_status st = TF_STATUS_FAILED;
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

static tf_result run_step_hooks(tf_run *run, tf_world *w, tf_hook_kind kind, char **message)
{
    tf_result worst = TF_RESULT_PASSED;
    GPtrArray *hooks = tf_run_hooks_for(run->reg, kind, w->pickle);
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

static char *where_of(const tf_test_case *tc, const tf_test_step *ts)
{
    if (ts->hook)
        return g_strdup_printf("%s:%d", ts->hook->file, ts->hook->line);
    return g_strdup_printf("%s:%u", tc->pickle->uri, ts->pstep->location.line);
}

/* One attempt of a test case; returns its worst result. */
static tf_result run_attempt(tf_run *run, tf_test_case *tc, guint attempt,
                             gboolean *will_retry)
{
    tf_world *w = tf_world_new_internal(run, run->exec, tc->pickle);
    next_id(run, w->tcs_id);
    if (run->reg->world_new && !run->opts.dry_run)
        w->app = run->reg->world_new(run->reg->world_data);
    if (run->store)
        tf_world_use_store(w, run->store, run->store_run, attempt);
    tf_event ev = {.kind = TF_EV_CASE_STARTED, .tc = tc, .attempt = attempt};
    if (run->want_env) {
        json_t *o = json_pack("{s:s,s:s,s:o,s:i}", "id", w->tcs_id, "testCaseId", tc->id,
                              "timestamp", timestamp_json(), "attempt", attempt);
        ev.envelope = wrap("testCaseStarted", o);
    }
    emit(run, &ev);

    tf_result worst = TF_RESULT_PASSED;
    gboolean skip_rest = FALSE;
    gboolean skipped_scenario = FALSE; /* a step said SKIPPED: even undefined ones skip */
    guint step_counts[TF_RESULT_FAILED + 1] = {0};
    for (guint i = 0; i < tc->steps->len; i++) {
        tf_test_step *ts = g_ptr_array_index(tc->steps, i);
        g_strlcpy(w->step_id, ts->id, TF_ID_LEN);
        tf_event st = {.kind = TF_EV_STEP_STARTED, .tc = tc, .ts = ts, .attempt = attempt};
        if (run->want_env)
            st.envelope = wrap("testStepStarted",
                               json_pack("{s:s,s:s,s:o}", "testCaseStartedId", w->tcs_id,
                                         "testStepId", ts->id, "timestamp", timestamp_json()));
        emit(run, &st);

        gint64 t0 = g_get_monotonic_time();
        gboolean skip_rest_before = skip_rest;
        tf_result res = TF_RESULT_PASSED;
        char *message = NULL;
        if (ts->hook) {
            gboolean is_before = ts->hook->kind == TF_HOOK_BEFORE;
            if (run->opts.dry_run || (is_before && (skip_rest || run->interrupted))) {
                res = TF_RESULT_SKIPPED;
            } else {
                tf_call c = {.kind = TF_CALL_HOOK, .hook_fn = ts->hook->fn, .world = w};
                res = call_body(run, &c, &message);
            }
        } else if (skipped_scenario) {
            res = TF_RESULT_SKIPPED;
        } else if (ts->matches->len == 0) {
            res = TF_RESULT_UNDEFINED;
            tf_event sg = {.kind = TF_EV_SUGGESTION, .tc = tc, .ts = ts};
            char *snippet = tf_snippet_for_step(run->reg->params, ts->pstep);
            sg.snippet = snippet;
            if (run->want_env) {
                char id[TF_ID_LEN];
                next_id(run, id);
                sg.envelope = wrap("suggestion",
                    json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", id, "pickleStepId",
                              ts->pstep->id, "snippets", "language", "c", "code", snippet));
            }
            emit(run, &sg);
            g_free(snippet);
        } else if (ts->matches->len > 1) {
            res = TF_RESULT_AMBIGUOUS;
            GString *m = g_string_new("Multiple step definitions match:");
            for (guint k = 0; k < ts->matches->len; k++) {
                const tf_match *mt = g_ptr_array_index(ts->matches, k);
                g_string_append_printf(m, "\n  %s  # %s:%d", mt->def->pattern, mt->def->file,
                                       mt->def->line);
            }
            message = g_string_free(m, FALSE);
        } else if (skip_rest || run->opts.dry_run || run->interrupted) {
            res = TF_RESULT_SKIPPED;
        } else if (ts->match_error) {
            res = TF_RESULT_FAILED;
            message = g_strdup(ts->match_error);
        } else {
            tf_match *m = g_ptr_array_index(ts->matches, 0);
            res = run_step_hooks(run, w, TF_HOOK_BEFORE_STEP, &message);
            if (res == TF_RESULT_PASSED && !run->interrupted) {
                tf_step *step = g_new0(tf_step, 1);
                step->world = w;
                step->pstep = ts->pstep;
                step->args = m->args;
                step->timeout_us = run->opts.step_timeout_us;
                tf_call c = {.kind = TF_CALL_STEP, .step_fn = m->def->fn, .step = step,
                             .world = w};
                res = call_body(run, &c, &message);
                if (!w->abandoned)
                    g_free(step); /* else the stuck thread still holds it */
                char *amsg = NULL;
                tf_result ar = run->interrupted ? TF_RESULT_PASSED
                                                : run_step_hooks(run, w, TF_HOOK_AFTER_STEP,
                                                                 &amsg);
                if (ar > res) {
                    res = ar;
                    g_free(message);
                    message = amsg;
                } else {
                    g_free(amsg);
                }
            }
        }
        /* A journal that stopped recording during this step fails it (durable.h). */
        GError *jerr = NULL;
        if (res == TF_RESULT_PASSED && !tf_world_journals_check(w, &jerr)) {
            res = TF_RESULT_FAILED;
            g_free(message);
            message = g_strdup(jerr->message);
            g_error_free(jerr);
        }
        gint64 dur = g_get_monotonic_time() - t0;
        if (res != TF_RESULT_PASSED && !ts->hook)
            skip_rest = TRUE;
        if (res == TF_RESULT_SKIPPED && !ts->hook && !skip_rest_before && !run->opts.dry_run)
            skipped_scenario = TRUE;
        if (res != TF_RESULT_PASSED && ts->hook && ts->hook->kind == TF_HOOK_BEFORE)
            skip_rest = TRUE;
        if (res > worst)
            worst = res;
        w->status = result_status(worst);
        tf_event fin = {.kind = TF_EV_STEP_FINISHED, .tc = tc, .ts = ts, .attempt = attempt,
                        .result = res, .message = message, .duration_us = dur};
        if (run->want_env) {
            char *where = message ? where_of(tc, ts) : NULL;
            fin.envelope = wrap("testStepFinished",
                json_pack("{s:s,s:s,s:o,s:o}", "testCaseStartedId", w->tcs_id, "testStepId",
                          ts->id, "testStepResult", result_json(res, message, where, dur),
                          "timestamp", timestamp_json()));
            g_free(where);
        }
        emit(run, &fin);
        g_free(message);
        if (!ts->hook)
            step_counts[res]++;
        w->step_id[0] = '\0';
    }
    /* Cleanups run however the scenario ended: they stop what the scenario started. */
    tf_world_cleanup(w);
    if (w->app && run->reg->world_free && !w->abandoned)
        run->reg->world_free(w->app);

    *will_retry = worst == TF_RESULT_FAILED && attempt < run->opts.retry && !run->interrupted;
    if (!*will_retry)
        for (guint r = 0; r <= TF_RESULT_FAILED; r++) {
            run->stats.steps[r] += step_counts[r];
            run->stats.n_steps += step_counts[r];
        }
    tf_event cf = {.kind = TF_EV_CASE_FINISHED, .tc = tc, .attempt = attempt, .result = worst,
                   .will_be_retried = *will_retry};
    if (run->want_env)
        cf.envelope = wrap("testCaseFinished",
                           json_pack("{s:s,s:o,s:b}", "testCaseStartedId", w->tcs_id,
                                     "timestamp", timestamp_json(), "willBeRetried",
                                     *will_retry));
    emit(run, &cf);
    tf_world_release(w);
    return worst;
}

/* BeforeAll/AfterAll hooks; returns FALSE when one failed. */
static gboolean run_global_hooks(tf_run *run, tf_hook_kind kind, GString *failures)
{
    gboolean ok = TRUE;
    GPtrArray *hooks = tf_run_hooks_for(run->reg, kind, NULL);
    for (guint i = 0; i < hooks->len; i++) {
        tf_hook_def *h = g_ptr_array_index(hooks, i);
        tf_world *w = tf_world_new_internal(run, run->exec, NULL);
        next_id(run, w->hook_run_id);
        tf_event ev = {.kind = TF_EV_GLOBAL_HOOK_STARTED, .hook = h};
        if (run->want_env)
            ev.envelope = wrap("testRunHookStarted",
                json_pack("{s:s,s:s,s:s,s:o}", "testRunStartedId", run->run_started_id, "id",
                          w->hook_run_id, "hookId", h->id, "timestamp", timestamp_json()));
        emit(run, &ev);
        gint64 t0 = g_get_monotonic_time();
        char *message = NULL;
        tf_result res = TF_RESULT_SKIPPED;
        if (!run->opts.dry_run) {
            tf_call c = {.kind = TF_CALL_GLOBAL_HOOK, .global_fn = h->gfn,
                         .user_data = h->user_data, .world = w};
            res = call_body(run, &c, &message);
        }
        gint64 dur = g_get_monotonic_time() - t0;
        if (res == TF_RESULT_FAILED) {
            ok = FALSE;
            g_string_append_printf(failures, "%s%s hook %s:%d failed: %s",
                                   failures->len ? "\n" : "",
                                   kind == TF_HOOK_BEFORE_ALL ? "BeforeAll" : "AfterAll",
                                   h->file, h->line, message ? message : "");
        }
        tf_world_cleanup(w);
        tf_event fin = {.kind = TF_EV_GLOBAL_HOOK_FINISHED, .hook = h, .result = res,
                        .message = message, .duration_us = dur};
        if (run->want_env) {
            char *where = g_strdup_printf("%s:%d", h->file, h->line);
            fin.envelope = wrap("testRunHookFinished",
                json_pack("{s:s,s:o,s:o}", "testRunHookStartedId", w->hook_run_id,
                          "timestamp", timestamp_json(), "result",
                          result_json(res, message, message ? where : NULL, dur)));
            g_free(where);
        }
        emit(run, &fin);
        g_free(message);
        tf_world_release(w);
    }
    g_ptr_array_unref(hooks);
    return ok;
}

static gboolean counts_as_failure(tf_run *run, tf_result r)
{
    if (r == TF_RESULT_FAILED || r == TF_RESULT_AMBIGUOUS)
        return TRUE;
    return run->opts.strict && (r == TF_RESULT_UNDEFINED || r == TF_RESULT_PENDING);
}

void tf_run_execute(tf_run *run, GPtrArray *features)
{
    run->t0 = g_get_monotonic_time();
    run->cases = g_ptr_array_new_with_free_func((GDestroyNotify)test_case_free);
    emit_meta(run);
    for (guint f = 0; f < features->len; f++) {
        tf_run_feature *feat = g_ptr_array_index(features, f);
        if (run->want_env) {
            emit_envelope(run, tf_gherkin_source_envelope(feat->uri, feat->data, -1));
            emit_envelope(run, tf_gherkin_document_envelope(feat->doc));
            for (guint i = 0; i < feat->selected->len; i++)
                emit_envelope(run, tf_gherkin_pickle_envelope(
                                       g_ptr_array_index(feat->selected, i)));
        }
    }
    emit_definitions(run);
    next_id(run, run->run_started_id);
    tf_event rs = {.kind = TF_EV_RUN_STARTED};
    if (run->want_env)
        rs.envelope = wrap("testRunStarted", json_pack("{s:s,s:o}", "id", run->run_started_id,
                                                       "timestamp", timestamp_json()));
    emit(run, &rs);

    GString *failures = g_string_new(NULL);
    gboolean ok = run_global_hooks(run, TF_HOOK_BEFORE_ALL, failures);
    gboolean success = ok;
    if (ok) {
        for (guint f = 0; f < features->len; f++) {
            tf_run_feature *feat = g_ptr_array_index(features, f);
            GHashTable *ast_steps = g_hash_table_new(g_str_hash, g_str_equal);
            if (feat->doc->feature)
                index_steps(feat->doc->feature->children, feat->doc->feature->n_children,
                            ast_steps);
            for (guint i = 0; i < feat->selected->len; i++) {
                tf_test_case *tc = build_case(run, g_ptr_array_index(feat->selected, i),
                                              ast_steps);
                tc->feature_name = feat->doc->feature ? feat->doc->feature->name : "";
                g_ptr_array_add(run->cases, tc);
            }
            g_hash_table_unref(ast_steps);
        }
        if (run->opts.random) {
            GRand *rand = g_rand_new_with_seed((guint32)run->opts.seed);
            for (guint i = run->cases->len; i > 1; i--) {
                guint j = g_rand_int_range(rand, 0, (gint32)i);
                gpointer t = run->cases->pdata[i - 1];
                run->cases->pdata[i - 1] = run->cases->pdata[j];
                run->cases->pdata[j] = t;
            }
            g_rand_free(rand);
        }
        for (guint i = 0; i < run->cases->len; i++) {
            tf_test_case *tc = g_ptr_array_index(run->cases, i);
            tf_event ev = {.kind = TF_EV_TEST_CASE, .tc = tc};
            if (run->want_env)
                ev.envelope = test_case_json(run, tc);
            emit(run, &ev);
        }
        gboolean stop = FALSE;
        for (guint i = 0; i < run->cases->len && !stop && !run->interrupted; i++) {
            tf_test_case *tc = g_ptr_array_index(run->cases, i);
            tf_result res;
            gboolean retry = FALSE;
            guint attempt = 0;
            do {
                res = run_attempt(run, tc, attempt++, &retry);
            } while (retry);
            run->stats.scenarios[res]++;
            run->stats.n_scenarios++;
            if (counts_as_failure(run, res)) {
                success = FALSE;
                stop = run->opts.fail_fast;
            }
        }
    }
    if (!run_global_hooks(run, TF_HOOK_AFTER_ALL, failures))
        success = FALSE;
    if (run->interrupted) {
        success = FALSE;
        g_string_append_printf(failures, "%sinterrupted: the run was stopped by a signal",
                               failures->len ? "\n" : "");
    }
    run->stats.success = success;
    run->stats.interrupted = run->interrupted;
    run->stats.duration_us = g_get_monotonic_time() - run->t0;
    run->stats.message = failures->len ? failures->str : NULL;
    tf_event rf = {.kind = TF_EV_RUN_FINISHED, .stats = &run->stats};
    if (run->want_env) {
        json_t *o = json_pack("{s:s,s:o,s:b}", "testRunStartedId", run->run_started_id,
                              "timestamp", timestamp_json(), "success", success);
        if (run->interrupted)
            json_object_set_new(o, "message", json_string(failures->str));
        rf.envelope = wrap("testRunFinished", o);
    }
    emit(run, &rf);
    run->stats.message = NULL;
    g_string_free(failures, TRUE);
}
