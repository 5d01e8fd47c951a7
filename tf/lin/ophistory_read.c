/* ophistory_read.c: reads an operation history from text: tf's own NDJSON export, a
 * Jepsen log ("INFO jepsen.util - 3 :invoke :read nil") or Jepsen's EDN maps, one a line.
 * Everything malformed is refused with "name:line: why"; nothing is guessed. In Jepsen's
 * forms a process runs one operation at a time, which is how completions find their
 * invocations. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lin_priv.h"

typedef struct {
    guint64 id;  /* history op id */
    char *f;     /* Jepsen: the operation's :f */
    guint line;  /* line of the invocation */
} pending_op;

/* One history being read, and its operations still open. */
typedef struct {
    tf_ophistory_part *part;
    GHashTable *pending; /* Jepsen: process (gint64 *) -> pending_op; tf form: file op id */
} history_in;

typedef struct {
    const char *name;
    guint line;
    tf_ophistory *h;       /* the current history (of the line being read) */
    GHashTable *pending;   /* ... and its open operations */
    GPtrArray *histories;  /* history_in *, in order of appearance */
    GHashTable *by_stream; /* export stream key -> history_in * (borrowed) */
    GString *skipped;      /* the streams of an export that are not op histories */
    GError **error;
} reader;

static void pending_free(void *p)
{
    pending_op *o = p;
    g_free(o->f);
    g_free(o);
}

G_GNUC_PRINTF(2, 3) static gboolean bad(reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(r->error, TF_ERROR, TF_ERROR_PARSE, "%s:%u: %s", r->name, r->line, why);
    g_free(why);
    return FALSE;
}

static pending_op *pending_get(reader *r, gint64 key)
{
    return g_hash_table_lookup(r->pending, &key);
}

static void pending_put(reader *r, gint64 key, guint64 id, const char *f)
{
    pending_op *o = g_new0(pending_op, 1);
    o->id = id;
    o->f = g_strdup(f);
    o->line = r->line;
    g_hash_table_insert(r->pending, g_memdup2(&key, sizeof key), o);
}

/* ---- Jepsen: both forms end here ---------------------------------------------------- */

/* One Jepsen event. `value` and `extra` (an object of further invocation fields, or NULL)
 * are stolen. */
static gboolean jepsen_event(reader *r, gint64 process, const char *type, const char *f,
                             json_t *value, json_t *extra, const char *error_text)
{
    gboolean ok = TRUE;
    pending_op *p = pending_get(r, process);
    if (!strcmp(type, "invoke")) {
        if (p) {
            ok = bad(r, "process %" G_GINT64_FORMAT " invokes :%s while its :%s from line %u is "
                     "pending", process, f, p->f, p->line);
        } else {
            json_t *input = value;
            if (extra) {
                json_object_set(extra, "value", value);
                json_decref(value);
                input = extra;
                extra = NULL;
            }
            value = NULL;
            guint64 id = ophistory_add_read(r->h, r->line, process, f, input, r->line);
            pending_put(r, process, id, f);
        }
    } else {
        tf_op_status st = !strcmp(type, "ok") ? TF_OP_OK : !strcmp(type, "fail") ? TF_OP_FAIL
                          : !strcmp(type, "info") ? TF_OP_UNKNOWN : TF_OP_PENDING;
        if (st == TF_OP_PENDING) {
            ok = bad(r, "unknown type :%s (expected :invoke, :ok, :fail or :info)", type);
        } else if (!p) {
            ok = bad(r, "process %" G_GINT64_FORMAT " completes :%s (:%s) but has no operation "
                     "pending", process, f, type);
        } else if (strcmp(p->f, f)) {
            ok = bad(r, "process %" G_GINT64_FORMAT " completes :%s but its pending operation is "
                     ":%s (line %u)", process, f, p->f, p->line);
        } else {
            char *why = st == TF_OP_OK ? NULL
                        : error_text ? g_strdup(error_text)
                        : json_is_string(value) ? g_strdup(json_string_value(value))
                        : lin_json_text(value);
            tf_ophistory_complete_at(r->h, r->line, p->id, st, st == TF_OP_OK ? value : NULL,
                                     why, NULL);
            g_free(why);
            g_hash_table_remove(r->pending, &process);
        }
    }
    json_decref(value);
    json_decref(extra);
    return ok;
}

/* "INFO  jepsen.util - 3\t:invoke\t:cas\t[3 0]"; other lines carry no operation. */
static gboolean jepsen_log_line(reader *r, const char *line)
{
    char **w = g_strsplit_set(line, " \t", 0);
    const char *tok[6];
    int n = 0, i = 0;
    for (; w[i] && n < 6; i++)
        if (*w[i])
            tok[n++] = w[i];
    gboolean ok = TRUE;
    char *end = NULL;
    gint64 process = 0;
    if (n >= 4 && !strcmp(tok[1], "jepsen.util") && !strcmp(tok[2], "-")) {
        errno = 0;
        process = g_ascii_strtoll(tok[3], &end, 10);
        if (!*end && errno == 0 && g_ascii_isdigit(tok[3][0])) {
            /* an operation line: the rest must be ":TYPE :F VALUE" */
            if (n < 6 || tok[4][0] != ':' || tok[5][0] != ':') {
                ok = bad(r, "expected ':TYPE :F VALUE' after process %" G_GINT64_FORMAT, process);
            } else {
                const char *vstart = strstr(line, tok[5]) + strlen(tok[5]);
                const char *why = NULL;
                json_t *value = lin_edn_parse(vstart, strlen(vstart), &why);
                if (!value) {
                    char *shown = g_strstrip(g_strdup(vstart));
                    ok = bad(r, "bad value '%s': %s", shown, why);
                    g_free(shown);
                } else {
                    ok = jepsen_event(r, process, tok[4] + 1, tok[5] + 1, value, NULL, NULL);
                }
            }
        }
    }
    g_strfreev(w);
    return ok;
}

/* Jepsen's own fields of an operation map: not part of the operation's input. */
static gboolean jepsen_field(const char *k)
{
    static const char *const fields[] = {"process", "type", "f", "value", "time", "index", "error"};
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++)
        if (!strcmp(k, fields[i]))
            return TRUE;
    return FALSE;
}

/* {:process 0, :type :invoke, :f :get, :key "5", :value nil} */
static gboolean edn_line(reader *r, const char *line)
{
    const char *why = NULL;
    json_t *m = lin_edn_parse(line, strlen(line), &why);
    if (!m)
        return bad(r, "bad EDN: %s", why);
    gboolean ok;
    json_t *proc = json_object_get(m, "process"), *type = json_object_get(m, "type");
    json_t *f = json_object_get(m, "f");
    if (!json_is_object(m)) {
        ok = bad(r, "expected a map {:process P, :type T, :f F, :value V}");
    } else if (json_is_string(proc)) {
        ok = TRUE; /* :nemesis and other non-client processes carry no client operation */
    } else if (!json_is_integer(proc) || !json_is_string(type) || !json_is_string(f)) {
        ok = bad(r, "an operation needs :process (an integer), :type and :f");
    } else {
        json_t *extra = NULL, *v;
        const char *k;
        if (!strcmp(json_string_value(type), "invoke"))
            json_object_foreach(m, k, v) {
                if (!jepsen_field(k)) {
                    if (!extra)
                        extra = json_object();
                    json_object_set(extra, k, v);
                }
            }
        json_t *value = json_object_get(m, "value");
        json_t *err = json_object_get(m, "error");
        char *err_text = err ? lin_json_text(err) : NULL;
        ok = jepsen_event(r, json_integer_value(proc), json_string_value(type),
                          json_string_value(f), value ? json_incref(value) : json_null(), extra,
                          err_text);
        g_free(err_text);
    }
    json_decref(m);
    return ok;
}

/* ---- tf's own form -------------------------------------------------------------------- */

static gboolean get_int(json_t *e, const char *key, gint64 *out)
{
    json_t *v = json_object_get(e, key);
    if (!json_is_integer(v))
        return FALSE;
    *out = json_integer_value(v);
    return TRUE;
}

/* {"event":"fault","fault":"n1","what":"killed","time":T}, {"event":"healed",...} */
static gboolean fault_event(reader *r, json_t *e, const char *kind)
{
    const char *name = json_string_value(json_object_get(e, "fault"));
    json_t *what = json_object_get(e, "what");
    gint64 time = 0;
    if (!name)
        return bad(r, "%s event needs \"fault\" (a string)", kind);
    if (!get_int(e, "time", &time))
        return bad(r, "%s event of fault %s needs \"time\" (an integer)", kind, name);
    if (what && !json_is_string(what))
        return bad(r, "\"what\" of fault %s must be a string", name);
    if (!strcmp(kind, "fault"))
        tf_ophistory_fault_begin_at(r->h, time, name, json_string_value(what));
    else if (!tf_ophistory_fault_end_at(r->h, time, name))
        return bad(r, "fault %s heals but is not active", name);
    return TRUE;
}

static gboolean tf_event(reader *r, json_t *e)
{
    const char *kind = json_string_value(json_object_get(e, "event"));
    gint64 op = 0, time = 0, process = 0;
    if (!json_is_object(e) || !kind)
        return bad(r, "expected an operation event {\"event\": \"invoke\", ...}");
    if (!strcmp(kind, "fault") || !strcmp(kind, "healed"))
        return fault_event(r, e, kind);
    if (!get_int(e, "op", &op) || op <= 0)
        return bad(r, "%s event needs \"op\" (a positive integer)", kind);
    if (!get_int(e, "time", &time))
        return bad(r, "%s event of op %" G_GINT64_FORMAT " needs \"time\" (an integer)", kind, op);
    pending_op *p = pending_get(r, op);
    if (!strcmp(kind, "invoke")) {
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *input = json_object_get(e, "input");
        if (p)
            return bad(r, "op %" G_GINT64_FORMAT " is invoked twice (first on line %u)", op, p->line);
        if (!get_int(e, "process", &process) || !name)
            return bad(r, "invoke event of op %" G_GINT64_FORMAT " needs \"process\" (an integer) "
                       "and \"name\" (a string)", op);
        guint64 id = ophistory_add_read(r->h, time, process, name,
                                        input ? json_incref(input) : NULL, r->line);
        pending_put(r, op, id, name);
        return TRUE;
    }
    tf_op_status st = !strcmp(kind, "ok") ? TF_OP_OK : !strcmp(kind, "fail") ? TF_OP_FAIL
                      : !strcmp(kind, "unknown") ? TF_OP_UNKNOWN : TF_OP_PENDING;
    if (st == TF_OP_PENDING)
        return bad(r, "event \"%s\" is not invoke, ok, fail, unknown, fault or healed", kind);
    if (!p)
        return bad(r, "op %" G_GINT64_FORMAT " completes but was never invoked", op);
    json_t *err_v = json_object_get(e, "error");
    if (err_v && !json_is_string(err_v))
        return bad(r, "\"error\" of op %" G_GINT64_FORMAT " must be a string", op);
    GError *err = NULL;
    if (!tf_ophistory_complete_at(r->h, time, p->id, st, json_object_get(e, "output"),
                                  json_string_value(err_v), &err)) {
        bad(r, "op %" G_GINT64_FORMAT " (invoked on line %u) %s", op, p->line,
            strchr(err->message, ':') ? strchr(err->message, ':') + 2 : err->message);
        g_error_free(err);
        return FALSE;
    }
    return TRUE;
}

/* ---- several histories in one text ------------------------------------------------ */

static void history_in_free(void *p)
{
    history_in *in = p;
    if (in->part) {
        tf_ophistory_free(in->part->history);
        g_free(in->part->label);
        g_free(in->part);
    }
    g_hash_table_unref(in->pending);
    g_free(in);
}

/* Makes the history called key (NULL: the text's only one) the current one, new when
 * first met; label is stolen. */
static void use_history(reader *r, const char *key, char *label)
{
    history_in *in = g_hash_table_lookup(r->by_stream, key ? key : "");
    if (!in) {
        in = g_new0(history_in, 1);
        in->part = g_new0(tf_ophistory_part, 1);
        in->part->label = label;
        label = NULL;
        in->part->history = tf_ophistory_new();
        in->pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, pending_free);
        g_ptr_array_add(r->histories, in);
        g_hash_table_insert(r->by_stream, g_strdup(key ? key : ""), in);
    }
    g_free(label);
    r->h = in->part->history;
    r->pending = in->pending;
}

/* An export stream that holds a scenario's history: "ophistory", "ophistory#2" (a second
 * one in one execution) or "ophistory/<scenario>" (stores keyed by scenario name). */
static gboolean ophistory_stream(const char *stream)
{
    gsize n = strlen(TF_OPHISTORY_STREAM);
    return !strncmp(stream, TF_OPHISTORY_STREAM, n) &&
           (!stream[n] || stream[n] == '#' || stream[n] == '/');
}

/* A batch line of `tf history export`: its events belong to the history of its stream. */
static gboolean batch_line(reader *r, json_t *j, json_t *events)
{
    const char *stream = json_string_value(json_object_get(j, "stream"));
    if (!stream)
        return bad(r, "a batch line of an export needs \"stream\" (a string)");
    if (!ophistory_stream(stream)) {
        if (!strstr(r->skipped->str, stream) && r->skipped->len < 200)
            g_string_append_printf(r->skipped, "%s%s", r->skipped->len ? ", " : "", stream);
        return TRUE; /* an observer's journal, not a client history */
    }
    gint64 run = json_integer_value(json_object_get(j, "run"));
    json_t *exec = json_object_get(j, "execution");
    char *key, *label;
    if (json_is_integer(exec)) {
        const char *scenario = json_string_value(json_object_get(j, "scenario"));
        key = g_strdup_printf("%" G_GINT64_FORMAT "/%" JSON_INTEGER_FORMAT "/%s", run,
                              json_integer_value(exec), stream);
        label = g_strdup_printf("run %" G_GINT64_FORMAT ", execution %" JSON_INTEGER_FORMAT
                                " (scenario '%s', attempt %" JSON_INTEGER_FORMAT ")%s%s", run,
                                json_integer_value(exec), scenario ? scenario : "?",
                                json_integer_value(json_object_get(j, "attempt")),
                                strcmp(stream, TF_OPHISTORY_STREAM) ? ", stream " : "",
                                strcmp(stream, TF_OPHISTORY_STREAM) ? stream : "");
    } else {
        key = g_strdup_printf("%" G_GINT64_FORMAT "//%s", run, stream);
        label = g_strdup_printf("run %" G_GINT64_FORMAT ", stream %s", run, stream);
    }
    use_history(r, key, label);
    g_free(key);
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) {
        if (!tf_event(r, e))
            return FALSE;
    }
    return TRUE;
}

static gboolean tf_line(reader *r, const char *line)
{
    json_error_t jerr;
    json_t *j = json_loads(line, 0, &jerr);
    if (!j)
        return bad(r, "not JSON: %s", jerr.text);
    gboolean ok;
    json_t *events = json_object_get(j, "events");
    if (json_is_object(j) && !json_object_get(j, "event") && json_is_array(events)) {
        ok = batch_line(r, j, events);
    } else {
        use_history(r, NULL, NULL);
        ok = tf_event(r, j);
    }
    json_decref(j);
    return ok;
}

/* ---- the file ------------------------------------------------------------------------- */

typedef enum { FORMAT_TF, FORMAT_EDN, FORMAT_JEPSEN_LOG } format;

static format detect(const char *line)
{
    if (*line != '{')
        return FORMAT_JEPSEN_LOG;
    line++;
    while (g_ascii_isspace(*line))
        line++;
    return *line == ':' ? FORMAT_EDN : FORMAT_TF;
}

GPtrArray *tf_ophistory_parse_all(const char *name, const char *text, gsize len,
                                  GError **error)
{
    reader r = {.name = name, .error = error};
    r.histories = g_ptr_array_new_with_free_func(history_in_free);
    r.by_stream = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    r.skipped = g_string_new(NULL);
    gboolean known = FALSE, ok = TRUE;
    format fmt = FORMAT_JEPSEN_LOG;
    const char *p = text, *end = text + len;
    while (ok && p < end) {
        const char *nl = memchr(p, '\n', end - p);
        const char *stop = nl ? nl : end;
        r.line++;
        if (memchr(p, '\0', stop - p)) {
            ok = bad(&r, "a NUL byte: not a text history");
            break;
        }
        char *line = g_strstrip(g_strndup(p, stop - p));
        p = nl ? nl + 1 : end;
        if (*line && line[0] != ';') { /* ';' starts an EDN comment */
            if (!known) {
                fmt = detect(line);
                known = TRUE;
                if (fmt != FORMAT_TF)
                    use_history(&r, NULL, NULL);
            }
            ok = fmt == FORMAT_TF ? tf_line(&r, line)
                 : fmt == FORMAT_EDN ? edn_line(&r, line) : jepsen_log_line(&r, line);
        }
        g_free(line);
    }
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_ophistory_part_free);
    for (guint i = 0; ok && i < r.histories->len; i++) {
        history_in *in = r.histories->pdata[i];
        if (tf_ophistory_len(in->part->history) == 0)
            continue; /* faults alone: nothing to check */
        g_ptr_array_add(out, in->part);
        in->part = NULL;
    }
    if (ok && out->len == 0) {
        if (r.skipped->len)
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: no operations in it: an export "
                        "holds client histories in streams named '%s', and this one has only "
                        "%s", name, TF_OPHISTORY_STREAM, r.skipped->str);
        else
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: no operations in it (expected "
                        "tf's NDJSON {\"event\":...}, a Jepsen log \"INFO jepsen.util - PROC "
                        ":TYPE :F VALUE\" or Jepsen EDN maps {:process ...})", name);
        ok = FALSE;
    }
    g_ptr_array_unref(r.histories);
    g_hash_table_unref(r.by_stream);
    g_string_free(r.skipped, TRUE);
    if (!ok) {
        g_ptr_array_unref(out);
        return NULL;
    }
    return out;
}

void tf_ophistory_part_free(tf_ophistory_part *part)
{
    if (!part)
        return;
    tf_ophistory_free(part->history);
    g_free(part->label);
    g_free(part);
}

tf_ophistory *tf_ophistory_parse(const char *name, const char *text, gsize len, GError **error)
{
    GPtrArray *all = tf_ophistory_parse_all(name, text, len, error);
    if (!all)
        return NULL;
    tf_ophistory *h = NULL;
    if (all->len > 1) {
        GString *which = g_string_new(NULL);
        for (guint i = 0; i < all->len && i < 3; i++)
            g_string_append_printf(which, "%s%s", i ? "; " : "",
                                   ((tf_ophistory_part *)all->pdata[i])->label);
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: %u histories in it (%s%s): read "
                    "them one by one (tf_ophistory_parse_all)", name, all->len, which->str,
                    all->len > 3 ? "; ..." : "");
        g_string_free(which, TRUE);
    } else {
        tf_ophistory_part *part = all->pdata[0];
        h = part->history;
        part->history = NULL;
    }
    g_ptr_array_unref(all);
    return h;
}

static char *read_file(const char *path, gsize *len, GError **error)
{
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, len, &err)) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: %s", path, err->message);
        g_error_free(err);
        return NULL;
    }
    return text;
}

tf_ophistory *tf_ophistory_load(const char *path, GError **error)
{
    gsize len = 0;
    char *text = read_file(path, &len, error);
    tf_ophistory *h = text ? tf_ophistory_parse(path, text, len, error) : NULL;
    g_free(text);
    return h;
}

GPtrArray *tf_ophistory_load_all(const char *path, GError **error)
{
    gsize len = 0;
    char *text = read_file(path, &len, error);
    GPtrArray *all = text ? tf_ophistory_parse_all(path, text, len, error) : NULL;
    g_free(text);
    return all;
}
