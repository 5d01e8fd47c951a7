/* run_event.c: run events as JSON and back (run_event.h). One table of fields per kind
 * drives both directions, so an event kind or field added to one cannot be forgotten in
 * the other; test_run_event checks the round trip of a whole run. */
#include <stddef.h>
#include <string.h>
#include "run_event.h"
#include "tf/error.h"

static const char *const result_names[] = {"UNKNOWN", "PASSED", "SKIPPED", "PENDING",
                                           "UNDEFINED", "AMBIGUOUS", "FAILED"};

const char *tf_result_name(tf_result r) { return result_names[r]; }

const char *tf_result_word(tf_result r)
{
    static const char *const n[] = {"unknown", "passed", "skipped", "pending",
                                    "undefined", "ambiguous", "failed"};
    return n[r];
}

static const char *const kind_names[TF_EV_N_KINDS] = {
    "source", "step_definition", "hook", "parameter_type", "undefined_parameter_type",
    "run_started", "global_hook_started", "global_hook_finished", "test_case", "case_started",
    "step_started", "suggestion", "attachment", "step_finished", "case_finished", "run_finished",
};

const char *tf_event_kind_name(tf_event_kind kind) { return kind_names[kind]; }

gpointer tf_event_own(tf_event *ev, gpointer block)
{
    if (!ev->owned)
        ev->owned = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(ev->owned, block);
    return block;
}

void tf_event_clear(tf_event *ev)
{
    if (ev->owned)
        g_ptr_array_unref(ev->owned);
    memset(ev, 0, sizeof *ev);
}

void tf_event_free(tf_event *ev)
{
    if (!ev)
        return;
    tf_event_clear(ev);
    g_free(ev);
}

/* ---- the fields of each kind ---- */

typedef enum {
    F_STR,       /* const char *; optional ones may be NULL (absent in JSON) */
    F_INT,       /* gint64 */
    F_UINT,      /* guint */
    F_BOOL,      /* gboolean */
    F_STATUS,    /* tf_result, by name */
    F_HOOK_KIND, /* tf_hook_kind, by name */
    F_STRV,      /* const char *const *, NULL-terminated */
    F_BYTES,     /* const void * at offset, gsize length at offset2; base64 */
    F_STEPS,     /* const tf_ev_test_step * at offset, guint count at offset2 */
} field_type;

typedef struct {
    const char *name;
    field_type type;
    gsize offset, offset2;
    gboolean optional;
} field;

#define F(json, type, member) {json, type, offsetof(tf_event, member), 0, FALSE}
#define OPTIONAL(json, member) {json, F_STR, offsetof(tf_event, member), 0, TRUE}
#define F2(json, type, member, member2) \
    {json, type, offsetof(tf_event, member), offsetof(tf_event, member2), FALSE}

static const field step_definition_fields[] = {
    F("id", F_STR, step_definition.id), F("pattern", F_STR, step_definition.pattern),
    F("is_regex", F_BOOL, step_definition.is_regex), F("uri", F_STR, step_definition.uri),
    F("line", F_INT, step_definition.line), {NULL}};
static const field hook_fields[] = {
    F("id", F_STR, hook.id), F("kind", F_HOOK_KIND, hook.kind), OPTIONAL("name", hook.name),
    OPTIONAL("tag_expression", hook.tag_expression), F("uri", F_STR, hook.uri),
    F("line", F_INT, hook.line), {NULL}};
static const field parameter_type_fields[] = {
    F("id", F_STR, parameter_type.id), F("name", F_STR, parameter_type.name),
    F("regexps", F_STRV, parameter_type.regexps), F("prefer", F_BOOL, parameter_type.prefer),
    F("use_for_snippets", F_BOOL, parameter_type.use_for_snippets), {NULL}};
static const field undefined_parameter_type_fields[] = {
    F("name", F_STR, undefined_parameter_type.name),
    F("expression", F_STR, undefined_parameter_type.expression), {NULL}};
static const field run_started_fields[] = {F("id", F_STR, run_started.id), {NULL}};
static const field global_hook_started_fields[] = {
    F("id", F_STR, global_hook_started.id),
    F("test_run_started_id", F_STR, global_hook_started.test_run_started_id),
    F("hook_id", F_STR, global_hook_started.hook_id), {NULL}};
static const field global_hook_finished_fields[] = {
    F("hook_run_id", F_STR, global_hook_finished.hook_run_id),
    F("status", F_STATUS, global_hook_finished.result.status),
    OPTIONAL("message", global_hook_finished.result.message),
    F("duration_us", F_INT, global_hook_finished.result.duration_us), {NULL}};
static const field test_case_fields[] = {
    F("id", F_STR, test_case.id), F("pickle_id", F_STR, test_case.pickle_id),
    F("test_run_started_id", F_STR, test_case.test_run_started_id),
    F2("steps", F_STEPS, test_case.steps, test_case.n_steps), {NULL}};
static const field case_started_fields[] = {
    F("id", F_STR, case_started.id), F("test_case_id", F_STR, case_started.test_case_id),
    F("attempt", F_UINT, case_started.attempt), {NULL}};
static const field step_started_fields[] = {
    F("test_case_started_id", F_STR, step_started.test_case_started_id),
    F("test_step_id", F_STR, step_started.test_step_id), {NULL}};
static const field suggestion_fields[] = {
    F("id", F_STR, suggestion.id), F("pickle_step_id", F_STR, suggestion.pickle_step_id),
    F("snippet", F_STR, suggestion.snippet), {NULL}};
static const field attachment_fields[] = {
    OPTIONAL("test_case_started_id", attachment.test_case_started_id),
    OPTIONAL("test_step_id", attachment.test_step_id),
    OPTIONAL("hook_run_id", attachment.hook_run_id),
    F2("data", F_BYTES, attachment.data, attachment.len),
    F("media_type", F_STR, attachment.media_type), OPTIONAL("file_name", attachment.file_name),
    {NULL}};
static const field step_finished_fields[] = {
    F("test_case_started_id", F_STR, step_finished.test_case_started_id),
    F("test_step_id", F_STR, step_finished.test_step_id),
    F("status", F_STATUS, step_finished.result.status),
    OPTIONAL("message", step_finished.result.message),
    F("duration_us", F_INT, step_finished.result.duration_us), {NULL}};
static const field case_finished_fields[] = {
    F("test_case_started_id", F_STR, case_finished.test_case_started_id),
    F("will_be_retried", F_BOOL, case_finished.will_be_retried), {NULL}};
static const field run_finished_fields[] = {
    F("test_run_started_id", F_STR, run_finished.test_run_started_id),
    F("success", F_BOOL, run_finished.success), F("interrupted", F_BOOL, run_finished.interrupted),
    OPTIONAL("message", run_finished.message), {NULL}};

#undef F
#undef F2
#undef OPTIONAL

static const field *const kind_fields[TF_EV_N_KINDS] = {
    NULL, step_definition_fields, hook_fields, parameter_type_fields,
    undefined_parameter_type_fields, run_started_fields, global_hook_started_fields,
    global_hook_finished_fields, test_case_fields, case_started_fields, step_started_fields,
    suggestion_fields, attachment_fields, step_finished_fields, case_finished_fields,
    run_finished_fields,
};

static const char *const hook_kind_names[] = {
    [TF_HOOK_BEFORE] = "before",           [TF_HOOK_AFTER] = "after",
    [TF_HOOK_BEFORE_STEP] = "before_step", [TF_HOOK_AFTER_STEP] = "after_step",
    [TF_HOOK_BEFORE_ALL] = "before_all",   [TF_HOOK_AFTER_ALL] = "after_all",
};

/* ---- to JSON ---- */

json_t *tf_ev_group_to_json(const tf_ev_group *g)
{
    json_t *o = json_object();
    if (g->value) {
        json_object_set_new(o, "start", json_integer(g->start));
        json_object_set_new(o, "value", json_string(g->value));
    }
    if (g->n_children) {
        json_t *children = json_array();
        for (guint i = 0; i < g->n_children; i++)
            json_array_append_new(children, tf_ev_group_to_json(&g->children[i]));
        json_object_set_new(o, "children", children);
    }
    return o;
}

static json_t *match_to_json(const tf_ev_match *m)
{
    json_t *args = json_array();
    for (guint i = 0; i < m->n_args; i++) {
        json_t *a = json_pack("{s:o}", "group", tf_ev_group_to_json(&m->args[i].group));
        if (m->args[i].parameter_type_name)
            json_object_set_new(a, "parameter_type_name",
                                json_string(m->args[i].parameter_type_name));
        json_array_append_new(args, a);
    }
    return args;
}

/* The first n strings of v, or all of a NULL-terminated v when n < 0. */
static json_t *strv_to_json(const char *const *v, gssize n)
{
    json_t *a = json_array();
    for (gssize i = 0; v && (n >= 0 ? i < n : v[i] != NULL); i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *steps_to_json(const tf_ev_test_step *steps, guint n)
{
    json_t *a = json_array();
    for (guint i = 0; i < n; i++) {
        const tf_ev_test_step *s = &steps[i];
        json_t *o = json_pack("{s:s}", "id", s->id);
        if (s->hook_id)
            json_object_set_new(o, "hook_id", json_string(s->hook_id));
        if (s->pickle_step_id) {
            json_t *matches = json_array();
            for (guint k = 0; k < s->n_matches; k++)
                json_array_append_new(matches, match_to_json(&s->matches[k]));
            json_object_set_new(o, "pickle_step_id", json_string(s->pickle_step_id));
            json_object_set_new(o, "step_definition_ids",
                                strv_to_json(s->step_definition_ids, s->n_matches));
            json_object_set_new(o, "matches", matches);
        }
        json_array_append_new(a, o);
    }
    return a;
}

#define AT(ev, off, type) (*(type *)((char *)(ev) + (off)))

static json_t *field_to_json(const tf_event *ev, const field *f)
{
    switch (f->type) {
    case F_STR: {
        const char *s = AT(ev, f->offset, const char *);
        return s ? json_string(s) : NULL;
    }
    case F_INT: return json_integer(AT(ev, f->offset, gint64));
    case F_UINT: return json_integer(AT(ev, f->offset, guint));
    case F_BOOL: return json_boolean(AT(ev, f->offset, gboolean));
    case F_STATUS: return json_string(tf_result_name(AT(ev, f->offset, tf_result)));
    case F_HOOK_KIND: return json_string(hook_kind_names[AT(ev, f->offset, tf_hook_kind)]);
    case F_STRV: return strv_to_json(AT(ev, f->offset, const char *const *), -1);
    case F_BYTES: {
        char *b64 = g_base64_encode(AT(ev, f->offset, const guchar *), AT(ev, f->offset2, gsize));
        json_t *s = json_string(b64);
        g_free(b64);
        return s;
    }
    case F_STEPS:
        return steps_to_json(AT(ev, f->offset, const tf_ev_test_step *), AT(ev, f->offset2, guint));
    }
    return NULL;
}

json_t *tf_event_to_json(const tf_event *ev)
{
    const field *fields = kind_fields[ev->kind];
    if (!fields)
        return NULL;
    json_t *o = json_pack("{s:s,s:I}", "event", kind_names[ev->kind], "timestamp",
                          (json_int_t)ev->timestamp_us);
    for (const field *f = fields; f->name; f++) {
        json_t *v = field_to_json(ev, f);
        if (v)
            json_object_set_new(o, f->name, v);
    }
    return o;
}

/* ---- from JSON ---- */

typedef struct {
    tf_event *ev;
    const char *where; /* "step_finished" */
    GError **error;
} decoder;

static gboolean bad(decoder *d, const char *name, const char *want)
{
    g_set_error(d->error, TF_ERROR, TF_ERROR_INVALID, "%s event: '%s' is missing or not %s",
                d->where, name, want);
    return FALSE;
}

static const char *own_str(decoder *d, const json_t *s)
{
    return tf_event_own(d->ev, g_strdup(json_string_value(s)));
}

static gboolean group_from_json(decoder *d, const json_t *j, tf_ev_group *g)
{
    const json_t *start = json_object_get(j, "start"), *value = json_object_get(j, "value");
    const json_t *children = json_object_get(j, "children");
    if (!json_is_object(j) || (value && (!json_is_string(value) || !json_is_integer(start))) ||
        (children && !json_is_array(children)))
        return bad(d, "group", "a group {start, value, children}");
    g->start = value ? json_integer_value(start) : -1;
    g->value = value ? own_str(d, value) : NULL;
    g->n_children = (guint)json_array_size(children);
    tf_ev_group *kids = tf_event_own(d->ev, g_new0(tf_ev_group, g->n_children + 1));
    g->children = kids;
    for (guint i = 0; i < g->n_children; i++)
        if (!group_from_json(d, json_array_get(children, i), &kids[i]))
            return FALSE;
    return TRUE;
}

static gboolean match_from_json(decoder *d, const json_t *j, tf_ev_match *m)
{
    if (!json_is_array(j))
        return bad(d, "matches", "an array of argument arrays");
    m->n_args = (guint)json_array_size(j);
    tf_ev_argument *args = tf_event_own(d->ev, g_new0(tf_ev_argument, m->n_args + 1));
    m->args = args;
    for (guint i = 0; i < m->n_args; i++) {
        const json_t *a = json_array_get(j, i);
        const json_t *type = json_object_get(a, "parameter_type_name");
        if (type && !json_is_string(type))
            return bad(d, "parameter_type_name", "a string");
        args[i].parameter_type_name = type ? own_str(d, type) : NULL;
        if (!group_from_json(d, json_object_get(a, "group"), &args[i].group))
            return FALSE;
    }
    return TRUE;
}

/* A NULL-terminated array of the strings of j (a JSON array of strings), or NULL. */
static const char *const *strv_from_json(decoder *d, const json_t *j, const char *name)
{
    if (!json_is_array(j)) {
        bad(d, name, "an array of strings");
        return NULL;
    }
    const char **v = tf_event_own(d->ev, g_new0(const char *, json_array_size(j) + 1));
    for (size_t i = 0; i < json_array_size(j); i++) {
        const json_t *s = json_array_get(j, i);
        if (!json_is_string(s)) {
            bad(d, name, "an array of strings");
            return NULL;
        }
        v[i] = own_str(d, s);
    }
    return v;
}

static gboolean step_from_json(decoder *d, const json_t *j, tf_ev_test_step *s)
{
    const json_t *id = json_object_get(j, "id"), *hook = json_object_get(j, "hook_id");
    const json_t *pstep = json_object_get(j, "pickle_step_id");
    if (!json_is_string(id) || (hook && !json_is_string(hook)) ||
        (pstep && !json_is_string(pstep)) || !hook == !pstep)
        return bad(d, "steps", "an array of {id, hook_id or pickle_step_id}");
    s->id = own_str(d, id);
    s->hook_id = hook ? own_str(d, hook) : NULL;
    if (!pstep)
        return TRUE;
    s->pickle_step_id = own_str(d, pstep);
    const json_t *matches = json_object_get(j, "matches");
    if (!(s->step_definition_ids = strv_from_json(d, json_object_get(j, "step_definition_ids"),
                                                  "step_definition_ids")))
        return FALSE;
    s->n_matches = g_strv_length((char **)s->step_definition_ids);
    if (json_array_size(matches) != s->n_matches)
        return bad(d, "matches", "one argument array per step definition id");
    tf_ev_match *m = tf_event_own(d->ev, g_new0(tf_ev_match, s->n_matches + 1));
    s->matches = m;
    for (guint i = 0; i < s->n_matches; i++)
        if (!match_from_json(d, json_array_get(matches, i), &m[i]))
            return FALSE;
    return TRUE;
}

static gboolean steps_from_json(decoder *d, const json_t *j, const field *f)
{
    if (!json_is_array(j))
        return bad(d, f->name, "an array of test steps");
    guint n = (guint)json_array_size(j);
    tf_ev_test_step *steps = tf_event_own(d->ev, g_new0(tf_ev_test_step, n + 1));
    AT(d->ev, f->offset, const tf_ev_test_step *) = steps;
    AT(d->ev, f->offset2, guint) = n;
    for (guint i = 0; i < n; i++)
        if (!step_from_json(d, json_array_get(j, i), &steps[i]))
            return FALSE;
    return TRUE;
}

/* The index of name in names (n of them, NULL entries skipped), or -1. */
static int name_index(const char *const *names, guint n, const char *name)
{
    for (guint i = 0; name && i < n; i++)
        if (names[i] && !strcmp(names[i], name))
            return (int)i;
    return -1;
}

static gboolean bytes_from_json(decoder *d, const json_t *j, const field *f)
{
    if (!json_is_string(j))
        return bad(d, f->name, "base64 text");
    gsize len = 0;
    guchar *data = g_base64_decode(json_string_value(j), &len);
    AT(d->ev, f->offset, const void *) = tf_event_own(d->ev, data ? data : g_new0(guchar, 1));
    AT(d->ev, f->offset2, gsize) = len;
    return TRUE;
}

static gboolean field_from_json(decoder *d, const json_t *j, const field *f)
{
    tf_event *ev = d->ev;
    int i = -1;
    switch (f->type) {
    case F_STR:
        if (!j && f->optional)
            return TRUE;
        if (!json_is_string(j))
            return bad(d, f->name, "a string");
        AT(ev, f->offset, const char *) = own_str(d, j);
        return TRUE;
    case F_INT:
        if (!json_is_integer(j))
            return bad(d, f->name, "an integer");
        AT(ev, f->offset, gint64) = json_integer_value(j);
        return TRUE;
    case F_UINT:
        if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > G_MAXUINT)
            return bad(d, f->name, "a whole number");
        AT(ev, f->offset, guint) = (guint)json_integer_value(j);
        return TRUE;
    case F_BOOL:
        if (!json_is_boolean(j))
            return bad(d, f->name, "true or false");
        AT(ev, f->offset, gboolean) = json_is_true(j);
        return TRUE;
    case F_STATUS:
        if ((i = name_index(result_names, G_N_ELEMENTS(result_names), json_string_value(j))) < 0)
            return bad(d, f->name, "a result (PASSED, FAILED, ...)");
        AT(ev, f->offset, tf_result) = (tf_result)i;
        return TRUE;
    case F_HOOK_KIND:
        i = name_index(hook_kind_names, G_N_ELEMENTS(hook_kind_names), json_string_value(j));
        if (i < 0)
            return bad(d, f->name, "a hook kind (before, after, ...)");
        AT(ev, f->offset, tf_hook_kind) = (tf_hook_kind)i;
        return TRUE;
    case F_STRV:
        return (AT(ev, f->offset, const char *const *) = strv_from_json(d, j, f->name)) != NULL;
    case F_BYTES:
        return bytes_from_json(d, j, f);
    case F_STEPS:
        return steps_from_json(d, j, f);
    }
    return FALSE;
}

tf_event *tf_event_from_json(const json_t *j, GError **error)
{
    const json_t *kind = json_object_get(j, "event"), *ts = json_object_get(j, "timestamp");
    int k = name_index(kind_names, TF_EV_N_KINDS, json_string_value(kind));
    if (k < 0 || !kind_fields[k] || !json_is_integer(ts)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "not a run event: needs \"event\" (a serialisable kind) and \"timestamp\"");
        return NULL;
    }
    tf_event *ev = g_new0(tf_event, 1);
    ev->kind = (tf_event_kind)k;
    ev->timestamp_us = json_integer_value(ts);
    decoder d = {ev, kind_names[k], error};
    for (const field *f = kind_fields[k]; f->name; f++)
        if (!field_from_json(&d, json_object_get(j, f->name), f)) {
            tf_event_free(ev);
            return NULL;
        }
    return ev;
}
