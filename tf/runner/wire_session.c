/* wire_session.c: one wire connection's protocol: step_matches (an id per definition and
 * step text, argument positions in characters as Ruby counts them), invoke (typed arguments
 * from the match, data table or doc string from the request), begin/end_scenario (a world
 * with Before/After hooks), snippet_text. Bodies run through the runner's exec (tf_call_run),
 * so failures and timeouts read exactly as under `tf run`. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "wire_priv.h"
#include "tf/durable.h"
#include "tf/world_store.h"

typedef struct {
    tf_step_def *def;
    char *text;
    GPtrArray *args;   /* tf_arg*; NULL when a parameter transformer rejected the text */
    char *match_error; /* why, when args is NULL */
} wire_entry;

typedef struct {
    tf_gherkin_pickle pickle; /* what hooks and steps see: only tags are known on the wire */
    tf_gherkin_pickle_tag *tags;
    char **tag_names;
    tf_world *world;
    tf_result worst;
    GHashTable *modules; /* modules (+ 1) of the steps invoked so far: TF_HOOK_OWN_STEPS */
} wire_scenario;

/* A tf_uses_module_fn over the steps a wire scenario invoked so far. */
static gboolean scenario_uses_module(const void *data, guint module)
{
    const wire_scenario *sc = data;
    return g_hash_table_contains(sc->modules, GUINT_TO_POINTER(module + 1));
}

/* Everything a step body may touch, owned together. When the body is abandoned (it timed
 * out) this is leaked on purpose: the stuck thread still reads it. */
typedef struct {
    tf_step step;
    tf_gherkin_pickle_step pstep;
    char *text;
    tf_gherkin_pickle_row *rows;
    GPtrArray *cells; /* char*, owned: the table's cells */
    char *doc;
    GPtrArray *args;  /* a reference to the entry's arguments */
} wire_call;

/* How a body (or the worst of several hooks) ended. */
typedef struct {
    tf_result res;
    char *message;
    char *where;
    tf_call_outcome outcome;
} wire_outcome;

struct tf_wire_session {
    tf_registry *reg;
    gint64 timeout_us;
    FILE *log;
    tf_exec *exec;
    tf_run run;          /* only carries attachments to log_attachment (worlds point here) */
    GPtrArray *entries; /* wire_entry*; the id is the index */
    GHashTable *ids;    /* "seq\x1ftext" -> index + 1 */
    wire_scenario *sc;  /* the open scenario or NULL */
    struct tf_store *store; /* borrowed, or NULL: worlds carry it (journals, claims) */
    gint64 store_run;
};

static void entry_free(wire_entry *e)
{
    if (e->args)
        g_ptr_array_unref(e->args);
    g_free(e->match_error);
    g_free(e->text);
    g_free(e);
}

static void outcome_clear(wire_outcome *o)
{
    g_free(o->message);
    g_free(o->where);
    memset(o, 0, sizeof *o);
}

/* Keeps the worse of two outcomes in *worst (a tie keeps the first). */
static void outcome_merge(wire_outcome *worst, wire_outcome *o)
{
    if (o->res > worst->res) {
        outcome_clear(worst);
        *worst = *o;
    } else {
        outcome_clear(o);
    }
}

/* The wire protocol has no place for what steps log (tf_world_log) or attach: log lines
 * go to the server's log (data, NULL when quiet) as the run's attachment events, the rest
 * is named. */
static void log_attachment(void *data, const tf_event *ev)
{
    FILE *log = data;
    const tf_ev_attachment *a = &ev->attachment;
    if (ev->kind != TF_EV_ATTACHMENT || !log)
        return;
    if (!strcmp(a->media_type, "text/x.cucumber.log+plain"))
        fprintf(log, "tf wire: log: %.*s\n", (int)a->len, (const char *)a->data);
    else
        fprintf(log, "tf wire: attachment %s (%" G_GSIZE_FORMAT " bytes) not sent: the wire "
                     "protocol has no attachments\n", a->media_type, a->len);
}

tf_wire_session *tf_wire_session_new(tf_registry *reg, gint64 step_timeout_us, FILE *log)
{
    tf_wire_session *s = g_new0(tf_wire_session, 1);
    s->reg = reg;
    s->timeout_us = step_timeout_us;
    s->log = log;
    s->exec = tf_exec_new();
    s->entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    s->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->run.reg = reg;
    s->run.exec = s->exec;
    s->run.sink = log_attachment;
    s->run.sink_data = log;
    return s;
}

tf_exec *tf_wire_session_exec(tf_wire_session *s) { return s->exec; }

void tf_wire_session_use_store(tf_wire_session *s, struct tf_store *store, gint64 run)
{
    s->store = store;
    s->store_run = run;
}

/* ---- replies ---- */

static json_t *text_json(const char *text)
{
    char *valid = g_utf8_make_valid(text ? text : "", -1);
    json_t *j = json_string(valid);
    g_free(valid);
    return j;
}

static char *dump(json_t *reply)
{
    char *s = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    char *out = g_strdup(s);
    free(s);
    return out;
}

static char *reply_fail(const char *exception, const char *message, const char *where)
{
    json_t *o = json_object();
    json_object_set_new(o, "message", text_json(message));
    json_object_set_new(o, "exception", json_string(exception));
    if (where)
        json_object_set_new(o, "backtrace", json_pack("[o]", text_json(where)));
    return dump(json_pack("[s,o]", "fail", o));
}

static char *reply_protocol(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static char *reply_protocol(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *r = reply_fail("WireProtocolError", m, NULL);
    g_free(m);
    return r;
}

static char *reply_success(json_t *value)
{
    return dump(value ? json_pack("[s,o]", "success", value) : json_pack("[s]", "success"));
}

/* The reply for a finished body or hook list. */
static char *reply_outcome(const wire_outcome *o)
{
    switch (o->res) {
    case TF_RESULT_PASSED:
        return reply_success(NULL);
    case TF_RESULT_PENDING:
        return dump(json_pack("[s,o]", "pending", text_json(o->message ? o->message : "TODO")));
    case TF_RESULT_SKIPPED: {
        /* The wire protocol has no "skipped": pending is the nearest, and says why. */
        char *m = g_strdup_printf("skipped%s%s", o->message ? ": " : "",
                                  o->message ? o->message : "");
        char *r = dump(json_pack("[s,o]", "pending", text_json(m)));
        g_free(m);
        return r;
    }
    default:
        return reply_fail(o->outcome == TF_CALL_TIMEOUT       ? "Timeout"
                          : o->outcome == TF_CALL_INTERRUPTED ? "Interrupted"
                                                              : "GError",
                          o->message ? o->message : "failed", o->where);
    }
}

/* ---- running bodies ---- */

static void run_body(tf_wire_session *s, const tf_call *call, const char *file, int line,
                     wire_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->res = tf_call_run(s->exec, call, s->timeout_us, &o->outcome, &o->message);
    if (o->res != TF_RESULT_PASSED)
        o->where = g_strdup_printf("%s:%d", file, line);
}

/* Runs the scenario's hooks of one kind; *o gets the worst. Before hooks stop at the
 * first failure (the rest are skipped, as under tf run); After hooks all run. */
static void run_hooks(tf_wire_session *s, tf_hook_kind kind, wire_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->res = TF_RESULT_PASSED;
    GPtrArray *hooks = tf_run_hooks_for(s->reg, kind, &s->sc->pickle, scenario_uses_module, s->sc);
    gboolean stop_on_failure = kind == TF_HOOK_BEFORE || kind == TF_HOOK_BEFORE_STEP;
    for (guint i = 0; i < hooks->len; i++) {
        tf_hook_def *h = g_ptr_array_index(hooks, i);
        tf_call c = {.kind = TF_CALL_HOOK, .hook_fn = h->fn, .world = s->sc->world};
        wire_outcome one;
        run_body(s, &c, h->file, h->line, &one);
        gboolean failed = one.res == TF_RESULT_FAILED;
        outcome_merge(o, &one);
        if (failed && stop_on_failure)
            break;
    }
    g_ptr_array_unref(hooks);
}

static void scenario_note(wire_scenario *sc, tf_result r)
{
    if (r > sc->worst)
        sc->worst = r;
    /* After hooks read the scenario's status through tf_world_status. */
    sc->world->status = sc->worst == TF_RESULT_PASSED    ? TF_STEP_PASSED
                        : sc->worst == TF_RESULT_SKIPPED ? TF_STEP_SKIPPED
                        : sc->worst == TF_RESULT_PENDING ? TF_STEP_PENDING
                                                         : TF_STEP_FAILED;
}

static void scenario_begin(tf_wire_session *s, json_t *tags, wire_outcome *o)
{
    wire_scenario *sc = g_new0(wire_scenario, 1);
    sc->modules = g_hash_table_new(NULL, NULL);
    guint n = json_is_array(tags) ? (guint)json_array_size(tags) : 0;
    sc->tags = g_new0(tf_gherkin_pickle_tag, n ? n : 1);
    sc->tag_names = g_new0(char *, n + 1);
    guint k = 0;
    for (guint i = 0; i < n; i++) {
        const char *t = json_string_value(json_array_get(tags, i));
        if (!t)
            continue;
        /* cucumber-wire strips the '@'; tag expressions name tags with it */
        sc->tag_names[k] = g_strdup_printf("%s%s", t[0] == '@' ? "" : "@", t);
        sc->tags[k].name = sc->tag_names[k];
        sc->tags[k].ast_node_id = "";
        k++;
    }
    sc->pickle.id = "";
    sc->pickle.name = "";
    sc->pickle.language = "en";
    sc->pickle.tags = sc->tags;
    sc->pickle.n_tags = k;
    sc->worst = TF_RESULT_PASSED;
    sc->world = tf_world_new_internal(s->log ? &s->run : NULL, s->exec, &sc->pickle);
    if (s->reg->world_new)
        sc->world->app = s->reg->world_new(s->reg->world_data);
    if (s->store)
        tf_world_use_store(sc->world, s->store, s->store_run, 0);
    s->sc = sc;
    run_hooks(s, TF_HOOK_BEFORE, o);
    scenario_note(sc, o->res);
}

/* After hooks, then the world's cleanups (they stop what the scenario started), then the
 * run's reference to the world (a stuck step holds its own). */
static void scenario_end(tf_wire_session *s, wire_outcome *o)
{
    wire_scenario *sc = s->sc;
    run_hooks(s, TF_HOOK_AFTER, o);
    tf_world *w = sc->world;
    tf_world_cleanup(w);
    gboolean abandoned = w->abandoned; /* only this thread's tf_exec_call sets it */
    if (w->app && s->reg->world_free && !abandoned)
        s->reg->world_free(w->app);
    else if (w->app) /* the stuck body may still use it: the world's last reference frees it */
        w->app_free = s->reg->world_free;
    tf_world_release(w);
    s->sc = NULL;
    if (abandoned)
        return; /* the pickle stays: the stuck step may still read it */
    g_strfreev(sc->tag_names);
    g_free(sc->tags);
    g_hash_table_unref(sc->modules);
    g_free(sc);
}

gboolean tf_wire_global_hooks(tf_registry *reg, tf_hook_kind kind, gint64 timeout_us,
                              GError **error)
{
    tf_exec *exec = tf_exec_new();
    GPtrArray *hooks = tf_run_hooks_for(reg, kind, NULL, NULL, NULL);
    gboolean ok = TRUE;
    for (guint i = 0; i < hooks->len; i++) {
        tf_hook_def *h = g_ptr_array_index(hooks, i);
        tf_world *w = tf_world_new_internal(NULL, exec, NULL);
        tf_call c = {.kind = TF_CALL_GLOBAL_HOOK, .global_fn = h->gfn,
                     .user_data = h->user_data, .world = w};
        char *message = NULL;
        tf_result r = tf_call_run(exec, &c, timeout_us, NULL, &message);
        if (r == TF_RESULT_FAILED && ok) {
            ok = FALSE;
            g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s hook %s:%d failed: %s",
                        kind == TF_HOOK_BEFORE_ALL ? "BeforeAll" : "AfterAll", h->file,
                        h->line, message ? message : "");
        }
        g_free(message);
        tf_world_cleanup(w);
        tf_world_release(w);
    }
    g_ptr_array_unref(hooks);
    tf_exec_shutdown(exec);
    tf_exec_unref(exec);
    return ok;
}

/* ---- messages ---- */

static guint entry_for(tf_wire_session *s, tf_match *m, const char *text, const char *merr)
{
    char *key = g_strdup_printf("%u\x1f%s", m->def->seq, text);
    gpointer found = g_hash_table_lookup(s->ids, key);
    if (found) {
        g_free(key);
        return GPOINTER_TO_UINT(found) - 1;
    }
    wire_entry *e = g_new0(wire_entry, 1);
    e->def = m->def;
    e->text = g_strdup(text);
    e->args = m->args; /* taken from the match */
    m->args = NULL;
    if (!e->args)
        e->match_error = g_strdup(merr ? merr : "a parameter transformer rejected the text");
    g_ptr_array_add(s->entries, e);
    g_hash_table_insert(s->ids, key, GUINT_TO_POINTER(s->entries->len));
    return s->entries->len - 1;
}

static char *on_step_matches(tf_wire_session *s, json_t *params)
{
    const char *name = json_string_value(json_object_get(params, "name_to_match"));
    if (!name)
        return reply_protocol("wire: step_matches needs {\"name_to_match\": STRING}");
    tf_gherkin_pickle_step ps = {.text = name};
    char *merr = NULL;
    GPtrArray *ms = tf_match_step(s->reg, &ps, &merr);
    json_t *list = json_array();
    for (guint i = 0; i < ms->len; i++) {
        tf_match *m = g_ptr_array_index(ms, i);
        guint id = entry_for(s, m, name, merr);
        const wire_entry *e = g_ptr_array_index(s->entries, id);
        json_t *args = json_array();
        for (guint k = 0; e->args && k < e->args->len; k++) {
            const tf_arg *a = g_ptr_array_index(e->args, k);
            gssize start = tf_arg_start(a);
            const char *val = tf_arg_text(a);
            /* Ruby indexes strings by character: a byte offset would misplace the
             * highlighting after any multi-byte character. */
            if (start >= 0 && val)
                json_array_append_new(args, json_pack("{s:o,s:I}", "val", text_json(val), "pos",
                    (json_int_t)g_utf8_pointer_to_offset(name, name + start)));
            else
                json_array_append_new(args, json_pack("{s:n,s:n}", "val", "pos"));
        }
        char *id_s = g_strdup_printf("%u", id);
        char *source = g_strdup_printf("%s:%d", e->def->file, e->def->line);
        json_array_append_new(list, json_pack("{s:s,s:o,s:s,s:o}", "id", id_s, "args", args,
                                              "source", source, "regexp",
                                              text_json(e->def->pattern)));
        g_free(source);
        g_free(id_s);
    }
    g_ptr_array_unref(ms);
    g_free(merr);
    return reply_success(list);
}

static void wire_call_free(wire_call *c)
{
    if (c->args)
        g_ptr_array_unref(c->args);
    if (c->cells)
        g_ptr_array_unref(c->cells);
    g_free(c->rows);
    g_free(c->doc);
    g_free(c->text);
    g_free(c);
}

/* The multiline argument cucumber appends after the captured values: a data table (a
 * list of rows of strings) or a doc string. NULL or an error message (newly allocated). */
static char *take_multiline(wire_call *c, json_t *arg)
{
    if (json_is_string(arg)) {
        c->doc = g_strdup(json_string_value(arg));
        c->pstep.doc_string = c->doc;
        return NULL;
    }
    if (!json_is_array(arg))
        return g_strdup("wire: the argument after the captured values must be a data table "
                        "(a list of rows) or a doc string");
    guint n = (guint)json_array_size(arg);
    c->rows = g_new0(tf_gherkin_pickle_row, n ? n : 1);
    c->cells = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *starts = g_ptr_array_new(); /* row start indexes into cells, filled after */
    for (guint r = 0; r < n; r++) {
        json_t *row = json_array_get(arg, r);
        if (!json_is_array(row)) {
            g_ptr_array_unref(starts);
            return g_strdup_printf("wire: data table row %u is not a list of cells", r + 1);
        }
        g_ptr_array_add(starts, GUINT_TO_POINTER(c->cells->len));
        for (size_t k = 0; k < json_array_size(row); k++) {
            const char *cell = json_string_value(json_array_get(row, k));
            if (!cell) {
                g_ptr_array_unref(starts);
                return g_strdup_printf("wire: data table cell %u,%zu is not a string", r + 1,
                                       k + 1);
            }
            g_ptr_array_add(c->cells, g_strdup(cell));
        }
        c->rows[r].n_cells = (guint)json_array_size(row);
    }
    /* Cells are in place only now: the array may have moved while growing. */
    for (guint r = 0; r < n; r++)
        c->rows[r].cells = (const char *const *)&c->cells->pdata[GPOINTER_TO_UINT(
            g_ptr_array_index(starts, r))];
    g_ptr_array_unref(starts);
    c->pstep.has_data_table = TRUE;
    c->pstep.rows = c->rows;
    c->pstep.n_rows = n;
    return NULL;
}

static char *on_invoke(tf_wire_session *s, json_t *params)
{
    const char *id_s = json_string_value(json_object_get(params, "id"));
    json_t *args = json_object_get(params, "args");
    if (!id_s || (args && !json_is_array(args)))
        return reply_protocol("wire: invoke needs {\"id\": STRING, \"args\": [...]}");
    char *end = NULL;
    guint64 id = g_ascii_strtoull(id_s, &end, 10);
    if (!*id_s || *end || id >= s->entries->len)
        return reply_protocol("wire: invoke: no step definition with id '%s' on this "
                              "connection (ids come from step_matches)", id_s);
    wire_entry *e = g_ptr_array_index(s->entries, id);
    if (!e->args)
        return reply_fail("GError", e->match_error, NULL);
    size_t n_sent = args ? json_array_size(args) : 0, n_want = e->args->len;
    if (n_sent != n_want && n_sent != n_want + 1)
        return reply_protocol("wire: invoke: '%s' takes %zu argument%s (+ a table or doc "
                              "string), got %zu", e->def->pattern, n_want,
                              n_want == 1 ? "" : "s", n_sent);
    /* Steps get the typed arguments tf matched; values changed on the way (a Ruby
     * Transform) would be ignored silently, so they are refused instead. */
    for (guint i = 0; i < n_want; i++) {
        const char *ours = tf_arg_start(g_ptr_array_index(e->args, i)) >= 0
            ? tf_arg_text(g_ptr_array_index(e->args, i)) : NULL;
        json_t *sent = json_array_get(args, i);
        if (json_is_null(sent) ? ours != NULL : g_strcmp0(json_string_value(sent), ours) != 0)
            return reply_protocol("wire: invoke: argument %u of '%s' was matched as %s%s%s but "
                                  "sent back changed (tf steps take the matched text)", i + 1,
                                  e->def->pattern, ours ? "'" : "", ours ? ours : "nothing",
                                  ours ? "'" : "");
    }
    wire_call *c = g_new0(wire_call, 1);
    c->text = g_strdup(e->text);
    c->pstep.id = "";
    c->pstep.text = c->text;
    c->pstep.type = e->def->kw == TF_KEYWORD_WHEN   ? TF_GHERKIN_STEP_ACTION
                    : e->def->kw == TF_KEYWORD_THEN ? TF_GHERKIN_STEP_OUTCOME
                                                    : TF_GHERKIN_STEP_CONTEXT;
    char *bad = n_sent > n_want ? take_multiline(c, json_array_get(args, n_sent - 1)) : NULL;
    if (bad) {
        wire_call_free(c);
        char *r = reply_protocol("%s", bad);
        g_free(bad);
        return r;
    }
    wire_outcome o = {0};
    if (!s->sc) { /* cucumber sends begin_scenario first; a bare client may not */
        scenario_begin(s, NULL, &o);
        if (o.res != TF_RESULT_PASSED) {
            wire_call_free(c);
            char *r = reply_outcome(&o);
            outcome_clear(&o);
            return r;
        }
        outcome_clear(&o);
    }
    c->args = g_ptr_array_ref(e->args);
    c->step.world = s->sc->world;
    c->step.pstep = &c->pstep;
    c->step.args = c->args;
    c->step.timeout_us = s->timeout_us;
    g_hash_table_add(s->sc->modules, GUINT_TO_POINTER(e->def->module + 1));
    run_hooks(s, TF_HOOK_BEFORE_STEP, &o);
    gboolean abandoned = FALSE;
    if (o.res == TF_RESULT_PASSED) {
        outcome_clear(&o);
        tf_call call = {.kind = TF_CALL_STEP, .step_fn = e->def->fn, .step = &c->step,
                        .world = s->sc->world};
        run_body(s, &call, e->def->file, e->def->line, &o);
        abandoned = o.outcome != TF_CALL_DONE;
        if (o.outcome != TF_CALL_INTERRUPTED) {
            wire_outcome after;
            run_hooks(s, TF_HOOK_AFTER_STEP, &after);
            outcome_merge(&o, &after);
        }
    }
    if (!abandoned)
        wire_call_free(c);
    scenario_note(s->sc, o.res);
    if (o.res == TF_RESULT_FAILED && s->log)
        fprintf(s->log, "tf wire: step '%s' failed: %s\n", e->text, o.message ? o.message : "");
    char *r = reply_outcome(&o);
    outcome_clear(&o);
    return r;
}

static char *on_begin_scenario(tf_wire_session *s, json_t *params)
{
    wire_outcome o;
    if (s->sc) { /* no end_scenario came: finish the previous one first */
        scenario_end(s, &o);
        outcome_clear(&o);
    }
    scenario_begin(s, json_object_get(params, "tags"), &o);
    char *r = reply_outcome(&o);
    outcome_clear(&o);
    return r;
}

static char *on_end_scenario(tf_wire_session *s)
{
    if (!s->sc)
        return reply_success(NULL);
    wire_outcome o;
    scenario_end(s, &o);
    char *r = reply_outcome(&o);
    outcome_clear(&o);
    return r;
}

static char *on_snippet_text(tf_wire_session *s, json_t *params)
{
    const char *kw = json_string_value(json_object_get(params, "step_keyword"));
    const char *name = json_string_value(json_object_get(params, "step_name"));
    const char *multi = json_string_value(json_object_get(params, "multiline_arg_class"));
    if (!name)
        return reply_protocol("wire: snippet_text needs {\"step_keyword\", \"step_name\", "
                              "\"multiline_arg_class\"}");
    char *k = g_strstrip(g_strdup(kw ? kw : ""));
    tf_gherkin_pickle_step ps = {.text = name};
    ps.type = !g_ascii_strcasecmp(k, "When")   ? TF_GHERKIN_STEP_ACTION
              : !g_ascii_strcasecmp(k, "Then") ? TF_GHERKIN_STEP_OUTCOME
                                               : TF_GHERKIN_STEP_CONTEXT;
    ps.has_data_table = multi && g_str_has_suffix(multi, "DataTable");
    if (multi && g_str_has_suffix(multi, "DocString"))
        ps.doc_string = "";
    g_free(k);
    char *snippet = tf_snippet_for_step(s->reg->params, &ps);
    char *r = reply_success(text_json(snippet));
    g_free(snippet);
    return r;
}

char *tf_wire_session_handle(tf_wire_session *s, const char *line, gsize len)
{
    json_error_t je;
    json_t *req = json_loadb(line, len, 0, &je);
    if (!req)
        return reply_protocol("wire: malformed JSON request: %s (column %d)", je.text,
                              je.column);
    const char *msg = json_string_value(json_array_get(req, 0));
    json_t *params = json_array_get(req, 1);
    char *r;
    if (!json_is_array(req) || !msg || json_array_size(req) > 2)
        r = reply_protocol("wire: a request is [\"message\"] or [\"message\", {params}]");
    else if (params && !json_is_object(params) && !json_is_null(params))
        r = reply_protocol("wire: %s: params must be an object", msg);
    else if (!strcmp(msg, "step_matches"))
        r = on_step_matches(s, params);
    else if (!strcmp(msg, "invoke"))
        r = on_invoke(s, params);
    else if (!strcmp(msg, "begin_scenario"))
        r = on_begin_scenario(s, params);
    else if (!strcmp(msg, "end_scenario"))
        r = on_end_scenario(s);
    else if (!strcmp(msg, "snippet_text"))
        r = on_snippet_text(s, params);
    else
        r = reply_protocol("wire: unknown message '%s' (tf serves step_matches, invoke, "
                           "begin_scenario, end_scenario, snippet_text)", msg);
    json_decref(req);
    return r;
}

void tf_wire_session_free(tf_wire_session *s)
{
    if (!s)
        return;
    if (s->sc) {
        wire_outcome o;
        scenario_end(s, &o);
        if (o.res == TF_RESULT_FAILED && s->log)
            fprintf(s->log, "tf wire: After hook of the abandoned scenario failed: %s\n",
                    o.message ? o.message : "");
        outcome_clear(&o);
    }
    tf_exec_shutdown(s->exec);
    tf_exec_unref(s->exec);
    g_hash_table_unref(s->ids);
    g_ptr_array_unref(s->entries);
    g_free(s);
}
