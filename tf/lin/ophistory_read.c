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

typedef struct {
    const char *name;
    guint line;
    tf_ophistory *h;
    GHashTable *pending; /* Jepsen: process (gint64 *) -> pending_op; tf form: file op id */
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

static gboolean tf_event(reader *r, json_t *e)
{
    const char *kind = json_string_value(json_object_get(e, "event"));
    gint64 op = 0, time = 0, process = 0;
    if (!json_is_object(e) || !kind)
        return bad(r, "expected an operation event {\"event\": \"invoke\", ...}");
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
        return bad(r, "event \"%s\" is not invoke, ok, fail or unknown", kind);
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

static gboolean tf_line(reader *r, const char *line)
{
    json_error_t jerr;
    json_t *j = json_loads(line, 0, &jerr);
    if (!j)
        return bad(r, "not JSON: %s", jerr.text);
    gboolean ok = TRUE;
    json_t *events = json_object_get(j, "events");
    if (json_is_object(j) && !json_object_get(j, "event") && json_is_array(events)) {
        /* a batch line of `tf history export` */
        size_t i;
        json_t *e;
        json_array_foreach(events, i, e) {
            if (!(ok = tf_event(r, e)))
                break;
        }
    } else {
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

tf_ophistory *tf_ophistory_parse(const char *name, const char *text, gsize len, GError **error)
{
    reader r = {.name = name, .h = tf_ophistory_new(), .error = error};
    r.pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, pending_free);
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
            }
            ok = fmt == FORMAT_TF ? tf_line(&r, line)
                 : fmt == FORMAT_EDN ? edn_line(&r, line) : jepsen_log_line(&r, line);
        }
        g_free(line);
    }
    if (ok && tf_ophistory_len(r.h) == 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: no operations in it (expected tf's "
                    "NDJSON {\"event\":...}, a Jepsen log \"INFO jepsen.util - PROC :TYPE :F "
                    "VALUE\" or Jepsen EDN maps {:process ...})", name);
        ok = FALSE;
    }
    g_hash_table_unref(r.pending);
    if (!ok) {
        tf_ophistory_free(r.h);
        return NULL;
    }
    return r.h;
}

tf_ophistory *tf_ophistory_load(const char *path, GError **error)
{
    char *text = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, &len, &err)) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: %s", path, err->message);
        g_error_free(err);
        return NULL;
    }
    tf_ophistory *h = tf_ophistory_parse(path, text, len, error);
    g_free(text);
    return h;
}
