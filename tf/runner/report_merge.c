/* report_merge.c: one report from the reports of several runs of one suite (the shards of
 * `tf run --shard I/N`, CI jobs, Indexed Job pods): `tf report merge`.
 *
 * Cucumber Messages: what the runs share is written once: meta (the first file's),
 * sources, documents, pickles and definitions, whose ids every shard made alike (each
 * shard parses every feature and registers every definition in the same order); one that
 * differs between files (other features, other step code) is an error, not a guess. What
 * each run made itself (its test run, test cases, attempts, hook runs, suggestions) keeps
 * its ids with the file's number in front ("2:17"), so nothing collides; every run's
 * testRunStartedId points at the one merged testRunStarted (the earliest), and the one
 * testRunFinished (the latest) succeeds only if every run did, with every run's message.
 * Test cases come first, then each file's run in file order: envelopes a reporter reads
 * in order, as from one run.
 *
 * JUnit: one <testsuite> with every input's test cases in file order and the counts and
 * time summed; the XML is read with GMarkup and written out again, escaped. */
#include <string.h>
#include <jansson.h>
#include "report_merge.h"
#include "tf/error.h"

/* ---- Cucumber Messages ---- */

static const char *const shared_kinds[] = {"source", "gherkinDocument", "pickle", "stepDefinition",
                                           "hook", "parameterType", "undefinedParameterType"};
static const char *const run_ref_keys[] = {"testCaseId", "testCaseStartedId", "testStepId",
                                           "testRunHookStartedId"};

static const char *kind_of(json_t *env)
{
    const char *k = NULL;
    json_t *v;
    json_object_foreach(env, k, v) return k;
    return NULL;
}

static gboolean is_shared(const char *kind)
{
    for (guint i = 0; i < G_N_ELEMENTS(shared_kinds); i++)
        if (!strcmp(kind, shared_kinds[i]))
            return TRUE;
    return FALSE;
}

/* The key a shared envelope is known by: its uri or id, or its whole text. */
static char *shared_key(const char *kind, json_t *body)
{
    const char *id = json_string_value(json_object_get(body, "id"));
    const char *uri = json_string_value(json_object_get(body, "uri"));
    if (!strcmp(kind, "source") || !strcmp(kind, "gherkinDocument"))
        return g_strdup_printf("%s %s", kind, uri ? uri : "?");
    if (id)
        return g_strdup_printf("%s %s", kind, id);
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    char *k = g_strdup_printf("%s %s", kind, text);
    free(text);
    return k;
}

/* Puts the file's number before every reference to what a run made in v (in place); a
 * reference to the run itself becomes the merged run's id. Envelopes' own ids are
 * take()'s. */
static void prefix_refs(json_t *v, guint file, const char *run_id)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) prefix_refs(e, file, run_id);
        return;
    }
    if (!json_is_object(v))
        return;
    const char *k;
    json_t *e;
    void *tmp;
    json_object_foreach_safe(v, tmp, k, e) {
        gboolean ref = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(run_ref_keys); i++)
            ref |= !strcmp(k, run_ref_keys[i]);
        if (json_is_string(e) && !strcmp(k, "testRunStartedId"))
            json_object_set_new(v, k, json_string(run_id));
        else if (json_is_string(e) && ref)
            json_object_set_new(v, k, json_sprintf("%u:%s", file, json_string_value(e)));
        else
            prefix_refs(e, file, run_id);
    }
}

typedef struct {
    GPtrArray *shared;   /* json_t* in first-seen order */
    GHashTable *seen;    /* shared_key -> json_t* (borrowed from shared) */
    json_t *meta;
    GPtrArray *cases;    /* testCase envelopes */
    GPtrArray *runs;     /* everything else each run made, in file order */
    gint64 started_s, started_ns, finished_s, finished_ns;
    gboolean any_started, any_finished, success;
    GString *messages;
    char run_id[32];
} msg_merge;

static gint64 ts_field(json_t *body, const char *f, const char *part)
{
    return json_integer_value(json_object_get(json_object_get(body, f), part));
}

/* Takes one envelope of file number file. */
static gboolean take(msg_merge *m, json_t *env, guint file, const char *path, guint line,
                     GError **error)
{
    const char *kind = kind_of(env);
    json_t *body = kind ? json_object_get(env, kind) : NULL;
    if (!kind || !json_is_object(body)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s:%u: not a Cucumber Messages envelope",
                    path, line);
        return FALSE;
    }
    if (!strcmp(kind, "meta")) {
        if (!m->meta)
            m->meta = json_incref(env);
        return TRUE;
    }
    if (is_shared(kind)) {
        char *key = shared_key(kind, body);
        json_t *had = g_hash_table_lookup(m->seen, key);
        if (had && !json_equal(had, env)) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "%s:%u: %s differs from an earlier file's: the reports were not made "
                        "from the same features and step definitions", path, line, key);
            g_free(key);
            return FALSE;
        }
        if (!had) {
            g_ptr_array_add(m->shared, json_incref(env));
            g_hash_table_insert(m->seen, key, env);
        } else {
            g_free(key);
        }
        return TRUE;
    }
    if (!strcmp(kind, "testRunStarted")) {
        gint64 s = ts_field(body, "timestamp", "seconds"), ns = ts_field(body, "timestamp", "nanos");
        if (!m->any_started || s < m->started_s || (s == m->started_s && ns < m->started_ns)) {
            m->started_s = s;
            m->started_ns = ns;
        }
        m->any_started = TRUE;
        return TRUE;
    }
    if (!strcmp(kind, "testRunFinished")) {
        gint64 s = ts_field(body, "timestamp", "seconds"), ns = ts_field(body, "timestamp", "nanos");
        if (!m->any_finished || s > m->finished_s || (s == m->finished_s && ns > m->finished_ns)) {
            m->finished_s = s;
            m->finished_ns = ns;
        }
        m->any_finished = TRUE;
        m->success &= json_is_true(json_object_get(body, "success"));
        const char *msg = json_string_value(json_object_get(body, "message"));
        if (msg)
            g_string_append_printf(m->messages, "%s%s: %s", m->messages->len ? "\n" : "", path,
                                   msg);
        return TRUE;
    }
    json_t *copy = json_deep_copy(env);
    prefix_refs(copy, file, m->run_id);
    /* the envelope's own id (testCase.id, testCaseStarted.id, ...) is the run's */
    json_t *b = json_object_get(copy, kind);
    const char *id = json_string_value(json_object_get(b, "id"));
    if (id)
        json_object_set_new(b, "id", json_sprintf("%u:%s", file, id));
    json_t *steps = json_object_get(b, "testSteps");
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st) {
        const char *sid = json_string_value(json_object_get(st, "id"));
        if (sid)
            json_object_set_new(st, "id", json_sprintf("%u:%s", file, sid));
    }
    g_ptr_array_add(!strcmp(kind, "testCase") ? m->cases : m->runs, copy);
    return TRUE;
}

static gboolean write_env(FILE *out, json_t *env)
{
    return json_dumpf(env, out, JSON_COMPACT) == 0 && fputc('\n', out) != EOF;
}

gboolean tf_report_merge_messages(const char *const *paths, guint n, FILE *out, GError **error)
{
    msg_merge m = {.shared = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref),
                   .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
                   .cases = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref),
                   .runs = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref),
                   .success = TRUE, .messages = g_string_new(NULL)};
    g_strlcpy(m.run_id, "merged-run", sizeof m.run_id);
    gboolean ok = TRUE;
    for (guint f = 0; f < n && ok; f++) {
        char *data = NULL;
        if (!g_file_get_contents(paths[f], &data, NULL, error))
            break;
        char **lines = g_strsplit(data, "\n", -1);
        g_free(data);
        for (guint l = 0; lines[l] && ok; l++) {
            if (!*g_strstrip(lines[l]))
                continue;
            json_error_t je;
            json_t *env = json_loads(lines[l], 0, &je);
            if (!json_is_object(env)) {
                g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s:%u: not JSON: %s", paths[f],
                            l + 1, env ? "not an object" : je.text);
                ok = FALSE;
            } else {
                ok = take(&m, env, f + 1, paths[f], l + 1, error);
            }
            json_decref(env);
        }
        g_strfreev(lines);
        if (ok && !m.any_started) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: no testRunStarted: not the "
                        "report of a run", paths[f]);
            ok = FALSE;
        }
    }
    ok = ok && !(error && *error);
    if (ok) {
        if (m.meta)
            ok &= write_env(out, m.meta);
        for (guint k = 0; k < G_N_ELEMENTS(shared_kinds); k++) /* sources first, as a run */
            for (guint i = 0; ok && i < m.shared->len; i++)
                if (json_object_get(m.shared->pdata[i], shared_kinds[k]))
                    ok &= write_env(out, m.shared->pdata[i]);
        json_t *rs = json_pack("{s:{s:s, s:{s:I, s:I}}}", "testRunStarted", "id", m.run_id,
                               "timestamp", "seconds", (json_int_t)m.started_s, "nanos",
                               (json_int_t)m.started_ns);
        ok &= write_env(out, rs);
        json_decref(rs);
        for (guint i = 0; ok && i < m.cases->len; i++)
            ok &= write_env(out, m.cases->pdata[i]);
        for (guint i = 0; ok && i < m.runs->len; i++)
            ok &= write_env(out, m.runs->pdata[i]);
        /* a run that never finished (killed) fails the merged run */
        gboolean success = m.success && m.any_finished;
        json_t *rf = json_pack("{s:{s:s, s:b, s:{s:I, s:I}}}", "testRunFinished",
                               "testRunStartedId", m.run_id, "success", success, "timestamp",
                               "seconds", (json_int_t)m.finished_s, "nanos",
                               (json_int_t)m.finished_ns);
        if (m.messages->len)
            json_object_set_new(json_object_get(rf, "testRunFinished"), "message",
                                json_string(m.messages->str));
        ok &= write_env(out, rf);
        json_decref(rf);
        if (!ok && error && !*error)
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "writing the merged report failed");
    }
    json_decref(m.meta);
    g_ptr_array_unref(m.shared);
    g_hash_table_unref(m.seen);
    g_ptr_array_unref(m.cases);
    g_ptr_array_unref(m.runs);
    g_string_free(m.messages, TRUE);
    return ok;
}

/* ---- JUnit ---- */

typedef struct {
    GString *cases;     /* the <testcase> elements, re-serialised */
    guint depth;        /* inside a testcase: its depth, else 0 */
    guint level;
    gboolean open_tag;  /* the last start tag is not closed yet ("<x a='1'") */
    gdouble tests, failures, errors, skipped, time;
    guint suites;
} junit_merge;

static void esc(GString *out, const char *text)
{
    char *e = g_markup_escape_text(text, -1);
    g_string_append(out, e);
    g_free(e);
}

static void close_open_tag(junit_merge *j)
{
    if (j->open_tag)
        g_string_append_c(j->cases, '>');
    j->open_tag = FALSE;
}

static void j_start(GMarkupParseContext *ctx, const char *name, const char **attr_names,
                    const char **attr_values, gpointer data, GError **error)
{
    junit_merge *j = data;
    j->level++;
    if (!strcmp(name, "testsuite") && !j->depth) {
        j->suites++;
        for (guint i = 0; attr_names[i]; i++) {
            double v = g_ascii_strtod(attr_values[i], NULL);
            if (!strcmp(attr_names[i], "tests"))
                j->tests += v;
            else if (!strcmp(attr_names[i], "failures"))
                j->failures += v;
            else if (!strcmp(attr_names[i], "errors"))
                j->errors += v;
            else if (!strcmp(attr_names[i], "skipped"))
                j->skipped += v;
            else if (!strcmp(attr_names[i], "time"))
                j->time += v;
        }
        return;
    }
    if (!strcmp(name, "testcase") && !j->depth) {
        j->depth = j->level;
        g_string_append(j->cases, "  ");
    }
    if (!j->depth)
        return;
    close_open_tag(j);
    g_string_append_printf(j->cases, "<%s", name);
    for (guint i = 0; attr_names[i]; i++) {
        g_string_append_printf(j->cases, " %s=\"", attr_names[i]);
        esc(j->cases, attr_values[i]);
        g_string_append_c(j->cases, '"');
    }
    j->open_tag = TRUE;
}

static void j_end(GMarkupParseContext *ctx, const char *name, gpointer data, GError **error)
{
    junit_merge *j = data;
    if (j->depth) {
        if (j->open_tag) {
            g_string_append(j->cases, "/>");
            j->open_tag = FALSE;
        } else {
            g_string_append_printf(j->cases, "</%s>", name);
        }
        if (j->level == j->depth) {
            g_string_append_c(j->cases, '\n');
            j->depth = 0;
        }
    }
    j->level--;
}

static void j_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                   GError **error)
{
    junit_merge *j = data;
    if (!j->depth || j->level == j->depth - 1)
        return;
    /* whitespace between a testcase's child elements is layout, not content */
    gboolean blank = TRUE;
    for (gsize i = 0; i < len && blank; i++)
        blank = g_ascii_isspace(text[i]);
    if (blank && !j->open_tag)
        return;
    close_open_tag(j);
    char *t = g_strndup(text, len);
    esc(j->cases, t);
    g_free(t);
}

gboolean tf_report_merge_junit(const char *const *paths, guint n, FILE *out, GError **error)
{
    junit_merge j = {.cases = g_string_new(NULL)};
    GMarkupParser parser = {.start_element = j_start, .end_element = j_end, .text = j_text};
    gboolean ok = TRUE;
    for (guint f = 0; f < n && ok; f++) {
        char *data = NULL;
        gsize len = 0;
        if (!(ok = g_file_get_contents(paths[f], &data, &len, error)))
            break;
        /* GMarkup takes no XML declaration: start after it */
        const char *start = data;
        if (g_str_has_prefix(start, "<?xml")) {
            const char *end = strstr(start, "?>");
            start = end ? end + 2 : start;
        }
        guint suites_before = j.suites;
        GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &j, NULL);
        GError *e = NULL;
        ok = g_markup_parse_context_parse(ctx, start, (gssize)(len - (start - data)), &e) &&
             g_markup_parse_context_end_parse(ctx, &e);
        g_markup_parse_context_free(ctx);
        g_free(data);
        if (!ok) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: not XML: %s", paths[f], e->message);
            g_error_free(e);
        } else if (j.suites == suites_before) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: no <testsuite>: not a JUnit report",
                        paths[f]);
            ok = FALSE;
        }
        j.depth = j.level = 0;
        j.open_tag = FALSE;
    }
    if (ok) {
        fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<testsuite name=\"tf\" tests=\"%.0f\" failures=\"%.0f\" skipped=\"%.0f\" "
                     "errors=\"%.0f\" time=\"%.6f\">\n%s</testsuite>\n",
                j.tests, j.failures, j.skipped, j.errors, j.time, j.cases->str);
        if (ferror(out)) {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "writing the merged report failed");
            ok = FALSE;
        }
    }
    g_string_free(j.cases, TRUE);
    return ok;
}
