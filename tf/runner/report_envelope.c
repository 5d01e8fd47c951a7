/* report_envelope.c: run events as Cucumber Messages envelopes (protocol 27), the form the
 * official HTML formatter and other Cucumber tools read. Keys come in the order cucumber
 * writes them, so a deterministic run gives byte-identical NDJSON. Stack traces are built
 * here from where a step or hook is (the query knows), not by the run loop. */
#include <string.h>
#include <sys/utsname.h>
#include "report_envelope.h"
#include "tf/version.h"

static json_t *time_json(gint64 us)
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

json_t *tf_envelope_meta(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    json_t *m = json_pack("{s:s,s:{s:s,s:s},s:{s:s},s:{s:s,s:s},s:{s:s,s:s}}",
                          "protocolVersion", "27.0.0", "implementation", "name", "tf",
                          "version", TF_VERSION, "cpu", "name", u.machine, "os", "name",
                          u.sysname, "version", u.release, "runtime", "name", "C",
                          "version", "C11");
    return wrap("meta", m);
}

/* A result: where ("uri:line") makes the stack trace of a failure. Cucumber gives an
 * ambiguous step no message: the list of matches is for human readers. */
static json_t *result_json(const tf_ev_result *r, const char *where)
{
    json_t *o = json_object();
    if (r->message && r->status != TF_RESULT_AMBIGUOUS) {
        json_object_set_new(o, "message", json_string(r->message));
        json_t *ex = json_object();
        json_object_set_new(ex, "type", json_string("GError"));
        json_object_set_new(ex, "message", json_string(r->message));
        if (where)
            json_object_set_new(ex, "stackTrace",
                                json_sprintf("GError: %s\n%s", r->message, where));
        json_object_set_new(o, "exception", ex);
    }
    json_object_set_new(o, "status", json_string(tf_result_name(r->status)));
    json_object_set_new(o, "duration", time_json(r->duration_us));
    return o;
}

/* ---- definitions ---- */

static json_t *source_ref(const char *uri, gint64 line)
{
    return json_pack("{s:s,s:{s:I}}", "uri", uri, "location", "line", (json_int_t)line);
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

static json_t *step_definition(const tf_ev_step_definition *d)
{
    return wrap("stepDefinition",
                json_pack("{s:s,s:{s:s,s:s},s:o}", "id", d->id, "pattern", "type",
                          d->is_regex ? "REGULAR_EXPRESSION" : "CUCUMBER_EXPRESSION", "source",
                          d->pattern, "sourceReference", source_ref(d->uri, d->line)));
}

static json_t *hook(const tf_ev_hook *h)
{
    json_t *o = json_pack("{s:s,s:s}", "id", h->id, "type", hook_type(h->kind));
    if (h->name)
        json_object_set_new(o, "name", json_string(h->name));
    if (h->tag_expression)
        json_object_set_new(o, "tagExpression", json_string(h->tag_expression));
    json_object_set_new(o, "sourceReference", source_ref(h->uri, h->line));
    return wrap("hook", o);
}

static json_t *parameter_type(const tf_ev_parameter_type *p)
{
    json_t *res = json_array();
    for (const char *const *s = p->regexps; s && *s; s++)
        json_array_append_new(res, json_string(*s));
    return wrap("parameterType",
                json_pack("{s:s,s:s,s:o,s:b,s:b}", "id", p->id, "name", p->name,
                          "regularExpressions", res, "preferForRegularExpressionMatch",
                          p->prefer, "useForSnippets", p->use_for_snippets));
}

/* ---- test cases ---- */

static json_t *match_json(const tf_ev_match *m)
{
    json_t *list = json_array();
    for (guint i = 0; i < m->n_args; i++) {
        json_t *arg = wrap("group", tf_ev_group_to_json(&m->args[i].group));
        if (m->args[i].parameter_type_name)
            json_object_set_new(arg, "parameterTypeName",
                                json_string(m->args[i].parameter_type_name));
        json_array_append_new(list, arg);
    }
    return wrap("stepMatchArguments", list);
}

static json_t *test_step_json(const tf_ev_test_step *s)
{
    if (s->hook_id)
        return json_pack("{s:s,s:s}", "id", s->id, "hookId", s->hook_id);
    json_t *ids = json_array(), *lists = json_array();
    for (guint k = 0; k < s->n_matches; k++) {
        json_array_append_new(ids, json_string(s->step_definition_ids[k]));
        json_array_append_new(lists, match_json(&s->matches[k]));
    }
    return json_pack("{s:s,s:s,s:o,s:o}", "id", s->id, "pickleStepId", s->pickle_step_id,
                     "stepDefinitionIds", ids, "stepMatchArgumentsLists", lists);
}

static json_t *test_case(const tf_ev_test_case *tc)
{
    json_t *steps = json_array();
    for (guint i = 0; i < tc->n_steps; i++)
        json_array_append_new(steps, test_step_json(&tc->steps[i]));
    return wrap("testCase", json_pack("{s:s,s:s,s:o,s:s}", "id", tc->id, "pickleId",
                                      tc->pickle_id, "testSteps", steps, "testRunStartedId",
                                      tc->test_run_started_id));
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

static json_t *attachment(const tf_event *ev)
{
    const tf_ev_attachment *a = &ev->attachment;
    json_t *o = json_object();
    if (a->test_case_started_id) {
        json_object_set_new(o, "testCaseStartedId", json_string(a->test_case_started_id));
        if (a->test_step_id)
            json_object_set_new(o, "testStepId", json_string(a->test_step_id));
    } else if (a->hook_run_id) {
        json_object_set_new(o, "testRunHookStartedId", json_string(a->hook_run_id));
    }
    if (is_textual(a->media_type, a->data, a->len)) {
        json_object_set_new(o, "body", json_stringn(a->data, a->len));
        json_object_set_new(o, "contentEncoding", json_string("IDENTITY"));
    } else {
        char *b64 = g_base64_encode(a->data, a->len);
        json_object_set_new(o, "body", json_string(b64));
        g_free(b64);
        json_object_set_new(o, "contentEncoding", json_string("BASE64"));
    }
    json_object_set_new(o, "mediaType", json_string(a->media_type));
    if (a->file_name)
        json_object_set_new(o, "fileName", json_string(a->file_name));
    json_object_set_new(o, "timestamp", time_json(ev->timestamp_us));
    return wrap("attachment", o);
}

/* ---- the run ---- */

static json_t *step_finished(const tf_query *q, const tf_event *ev)
{
    const tf_ev_step_finished *e = &ev->step_finished;
    char *where = e->result.message ? tf_query_step_where(q, e->test_step_id) : NULL;
    json_t *env = wrap("testStepFinished",
        json_pack("{s:s,s:s,s:o,s:o}", "testCaseStartedId", e->test_case_started_id,
                  "testStepId", e->test_step_id, "testStepResult", result_json(&e->result, where),
                  "timestamp", time_json(ev->timestamp_us)));
    g_free(where);
    return env;
}

static json_t *global_hook_finished(const tf_query *q, const tf_event *ev)
{
    const tf_ev_global_hook_finished *e = &ev->global_hook_finished;
    const tf_q_hook *h = tf_query_hook_run(q, e->hook_run_id);
    char *where = e->result.message && h ? g_strdup_printf("%s:%d", h->uri, h->line) : NULL;
    json_t *env = wrap("testRunHookFinished",
        json_pack("{s:s,s:o,s:o}", "testRunHookStartedId", e->hook_run_id, "timestamp",
                  time_json(ev->timestamp_us), "result", result_json(&e->result, where)));
    g_free(where);
    return env;
}

static json_t *run_finished(const tf_event *ev)
{
    const tf_ev_run_finished *e = &ev->run_finished;
    json_t *o = json_pack("{s:s,s:o,s:b}", "testRunStartedId", e->test_run_started_id,
                          "timestamp", time_json(ev->timestamp_us), "success", e->success);
    if (e->interrupted && e->message)
        json_object_set_new(o, "message", json_string(e->message));
    return wrap("testRunFinished", o);
}

static void sources(const tf_ev_source *s, tf_envelope_fn out, void *data)
{
    out(data, tf_gherkin_source_envelope(s->uri, s->data, -1));
    out(data, tf_gherkin_document_envelope(s->doc));
    for (guint i = 0; i < s->n_pickles; i++)
        out(data, tf_gherkin_pickle_envelope(s->pickles[i]));
}

/* The one envelope of an event of any kind but TF_EV_SOURCE. */
static json_t *envelope(const tf_query *q, const tf_event *ev)
{
    switch (ev->kind) {
    case TF_EV_STEP_DEFINITION: return step_definition(&ev->step_definition);
    case TF_EV_HOOK: return hook(&ev->hook);
    case TF_EV_PARAMETER_TYPE: return parameter_type(&ev->parameter_type);
    case TF_EV_UNDEFINED_PARAMETER_TYPE:
        return wrap("undefinedParameterType",
                    json_pack("{s:s,s:s}", "name", ev->undefined_parameter_type.name,
                              "expression", ev->undefined_parameter_type.expression));
    case TF_EV_RUN_STARTED:
        return wrap("testRunStarted", json_pack("{s:s,s:o}", "id", ev->run_started.id,
                                                "timestamp", time_json(ev->timestamp_us)));
    case TF_EV_GLOBAL_HOOK_STARTED:
        return wrap("testRunHookStarted",
                    json_pack("{s:s,s:s,s:s,s:o}", "testRunStartedId",
                              ev->global_hook_started.test_run_started_id, "id",
                              ev->global_hook_started.id, "hookId", ev->global_hook_started.hook_id,
                              "timestamp", time_json(ev->timestamp_us)));
    case TF_EV_GLOBAL_HOOK_FINISHED: return global_hook_finished(q, ev);
    case TF_EV_TEST_CASE: return test_case(&ev->test_case);
    case TF_EV_CASE_STARTED:
        return wrap("testCaseStarted",
                    json_pack("{s:s,s:s,s:o,s:i}", "id", ev->case_started.id, "testCaseId",
                              ev->case_started.test_case_id, "timestamp",
                              time_json(ev->timestamp_us), "attempt", (int)ev->case_started.attempt));
    case TF_EV_STEP_STARTED:
        return wrap("testStepStarted",
                    json_pack("{s:s,s:s,s:o}", "testCaseStartedId",
                              ev->step_started.test_case_started_id, "testStepId",
                              ev->step_started.test_step_id, "timestamp", time_json(ev->timestamp_us)));
    case TF_EV_SUGGESTION:
        return wrap("suggestion",
                    json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", ev->suggestion.id, "pickleStepId",
                              ev->suggestion.pickle_step_id, "snippets", "language", "c", "code",
                              ev->suggestion.snippet));
    case TF_EV_ATTACHMENT: return attachment(ev);
    case TF_EV_STEP_FINISHED: return step_finished(q, ev);
    case TF_EV_CASE_FINISHED:
        return wrap("testCaseFinished",
                    json_pack("{s:s,s:o,s:b}", "testCaseStartedId",
                              ev->case_finished.test_case_started_id, "timestamp",
                              time_json(ev->timestamp_us), "willBeRetried",
                              ev->case_finished.will_be_retried));
    case TF_EV_RUN_FINISHED: return run_finished(ev);
    default: return NULL;
    }
}

void tf_envelopes_of_event(const tf_query *q, const tf_event *ev, tf_envelope_fn out, void *data)
{
    if (ev->kind == TF_EV_SOURCE) {
        sources(&ev->source, out, data);
        return;
    }
    json_t *env = envelope(q, ev);
    if (env)
        out(data, env);
}
