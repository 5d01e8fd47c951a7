/* edn.c: the subset of EDN (Clojure's data notation) that Jepsen writes in its histories,
 * read into JSON: nil, booleans, integers, decimals, strings, keywords and symbols
 * (as strings without the colon), vectors, lists and sets (as arrays) and maps (as objects;
 * keys that are not strings or keywords are written as their EDN text). Commas are
 * whitespace, as in EDN. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lin_priv.h"

typedef struct {
    const char *p, *end;
    const char *error; /* static text, set once */
} edn;

static void skip_space(edn *e)
{
    while (e->p < e->end && (g_ascii_isspace(*e->p) || *e->p == ','))
        e->p++;
}

static gboolean is_delimiter(char c)
{
    return g_ascii_isspace(c) || strchr(",()[]{}\"", c);
}

static json_t *fail(edn *e, const char *why)
{
    if (!e->error)
        e->error = why;
    return NULL;
}

static json_t *parse_value(edn *e, int depth);

/* Elements up to `close` into a new array. */
static json_t *parse_seq(edn *e, char close, int depth)
{
    json_t *arr = json_array();
    for (;;) {
        skip_space(e);
        if (e->p >= e->end) {
            json_decref(arr);
            return fail(e, "unclosed collection");
        }
        if (*e->p == close) {
            e->p++;
            return arr;
        }
        json_t *v = parse_value(e, depth + 1);
        if (!v) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
}

static json_t *parse_map(edn *e, int depth)
{
    json_t *items = parse_seq(e, '}', depth);
    if (!items)
        return NULL;
    if (json_array_size(items) % 2) {
        json_decref(items);
        return fail(e, "a map needs an even number of forms");
    }
    json_t *obj = json_object();
    for (size_t i = 0; i < json_array_size(items); i += 2) {
        json_t *k = json_array_get(items, i);
        char *key = json_is_string(k) ? g_strdup(json_string_value(k)) : lin_json_text(k);
        json_object_set(obj, key, json_array_get(items, i + 1));
        g_free(key);
    }
    json_decref(items);
    return obj;
}

static json_t *parse_string(edn *e)
{
    GString *s = g_string_new(NULL);
    e->p++; /* opening quote */
    while (e->p < e->end && *e->p != '"') {
        char c = *e->p++;
        if (c == '\\') {
            if (e->p >= e->end)
                break;
            char x = *e->p++;
            c = x == 'n' ? '\n' : x == 't' ? '\t' : x == 'r' ? '\r' : x;
        }
        g_string_append_c(s, c);
    }
    if (e->p >= e->end) {
        g_string_free(s, TRUE);
        return fail(e, "unterminated string");
    }
    e->p++;
    if (!g_utf8_validate(s->str, s->len, NULL)) {
        g_string_free(s, TRUE);
        return fail(e, "a string is not valid UTF-8");
    }
    json_t *v = json_stringn(s->str, s->len);
    g_string_free(s, TRUE);
    return v;
}

/* A bare token: number, nil/true/false, keyword or symbol. */
static json_t *parse_atom(edn *e)
{
    const char *start = e->p;
    while (e->p < e->end && !is_delimiter(*e->p))
        e->p++;
    gsize n = e->p - start;
    if (!n)
        return fail(e, "unexpected character");
    char *tok = g_strndup(start, n);
    json_t *v = NULL;
    char *endp = NULL;
    if (g_ascii_isdigit(tok[0]) || ((tok[0] == '-' || tok[0] == '+') && g_ascii_isdigit(tok[1]))) {
        errno = 0;
        long long i = strtoll(tok, &endp, 10);
        if (*endp == 'N' && endp[1] == '\0')
            endp++; /* 42N: a big-integer literal that fits */
        if (!*endp && errno == 0)
            v = json_integer(i);
        else {
            double d = g_ascii_strtod(tok, &endp);
            if (*endp == 'M' && endp[1] == '\0')
                endp++;
            v = *endp ? fail(e, "bad number") : json_real(d);
        }
    } else if (!strcmp(tok, "nil")) {
        v = json_null();
    } else if (!strcmp(tok, "true") || !strcmp(tok, "false")) {
        v = json_boolean(tok[0] == 't');
    } else if (tok[0] == ':') {
        v = tok[1] ? json_string(tok + 1) : fail(e, "empty keyword");
    } else {
        v = json_string(tok); /* a symbol */
    }
    g_free(tok);
    return v;
}

static json_t *parse_value(edn *e, int depth)
{
    if (depth > 64)
        return fail(e, "nested too deeply");
    skip_space(e);
    if (e->p >= e->end)
        return fail(e, "missing value");
    switch (*e->p) {
    case '[':
        e->p++;
        return parse_seq(e, ']', depth);
    case '(':
        e->p++;
        return parse_seq(e, ')', depth);
    case '{':
        e->p++;
        return parse_map(e, depth);
    case '#':
        if (e->p + 1 < e->end && e->p[1] == '{') {
            e->p += 2;
            return parse_seq(e, '}', depth);
        }
        return fail(e, "unsupported tagged value");
    case '"':
        return parse_string(e);
    case ')': case ']': case '}':
        return fail(e, "unexpected closing bracket");
    default:
        return parse_atom(e);
    }
}

json_t *lin_edn_parse(const char *text, gsize len, const char **why)
{
    edn e = {text, text + len, NULL};
    json_t *v = parse_value(&e, 0);
    if (v) {
        skip_space(&e);
        if (e.p < e.end) {
            json_decref(v);
            v = fail(&e, "text after the value");
        }
    }
    *why = e.error;
    return v;
}
