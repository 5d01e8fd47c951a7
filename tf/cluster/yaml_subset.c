/* yaml_subset.c: the part of YAML that kubeconfig files use, read into a jansson tree.
 * Block mappings and sequences by indentation, plain/'single'/"double" quoted scalars,
 * comments, one-level flow collections ({a: b}, [a, b]). Anything else (anchors, tags,
 * block scalars, nested flow collections) is refused with its line number, not misread. */
#include <string.h>
#include "tf/error.h"
#include "deploy_priv.h"

typedef struct {
    guint no;      /* 1-based line number */
    guint indent;
    gchar *text;   /* content without indentation, comment or trailing blanks */
} yline;

typedef struct {
    yline *lines;
    guint n, i;
    const char *where;
} yparser;

static gboolean fail(yparser *p, guint no, GError **error, const char *fmt, const char *what)
{
    gchar *msg = g_strdup_printf(fmt, what);
    g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s:%u: %s", p->where, no, msg);
    g_free(msg);
    return FALSE;
}

/* Cuts a comment ('#' at the start or after a blank, outside quotes) and trailing blanks. */
static void strip_comment(gchar *s)
{
    char quote = 0;
    for (gchar *c = s; *c; c++) {
        if (quote) {
            if (*c == quote)
                quote = 0;
            else if (quote == '"' && *c == '\\' && c[1])
                c++;
        } else if (*c == '"' || *c == '\'') {
            if (c == s || c[-1] == ' ' || c[-1] == ':' || c[-1] == '-')
                quote = *c;
        } else if (*c == '#' && (c == s || c[-1] == ' ' || c[-1] == '\t')) {
            *c = 0;
            break;
        }
    }
    g_strchomp(s);
}

static json_t *scalar(yparser *p, guint no, const char *s, GError **error);

/* Splits the inside of a one-level flow collection at commas outside quotes. */
static GPtrArray *flow_items(const char *s, gsize len)
{
    GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
    char quote = 0;
    gsize start = 1;
    for (gsize k = 1; k < len; k++) {
        char ch = s[k];
        if (quote) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '"' || ch == '\'') {
            quote = ch;
        } else if (ch == ',' || k == len - 1) {
            gchar *item = g_strstrip(g_strndup(s + start, k - start));
            if (*item || ch == ',')
                g_ptr_array_add(items, item);
            else
                g_free(item);
            start = k + 1;
        }
    }
    return items;
}

/* {a: b, c: d} and [a, b] of scalars; nested collections are refused. */
static json_t *flow(yparser *p, guint no, const char *s, gsize len, GError **error)
{
    gboolean map = s[0] == '{';
    json_t *out = map ? json_object() : json_array();
    GPtrArray *items = flow_items(s, len);
    for (guint k = 0; out && k < items->len; k++) {
        gchar *it = items->pdata[k];
        if (strpbrk(it, "{}[]")) {
            fail(p, no, error, "nested flow collections are not read: %s", s);
            json_decref(out);
            out = NULL;
            break;
        }
        json_t *v;
        if (map) {
            gchar *colon = strstr(it, ": ");
            if (!colon && g_str_has_suffix(it, ":"))
                colon = it + strlen(it) - 1;
            if (!colon) {
                fail(p, no, error, "expected \"key: value\" in %s", s);
                json_decref(out);
                out = NULL;
                break;
            }
            *colon = 0;
            json_t *k2 = scalar(p, no, g_strstrip(it), error);
            gchar *val = g_strstrip(colon + 1);
            v = k2 ? (*val ? scalar(p, no, val, error) : json_null()) : NULL;
            if (v)
                json_object_set_new(out, json_string_value(k2), v);
            json_decref(k2);
        } else {
            v = scalar(p, no, it, error);
            if (v)
                json_array_append_new(out, v);
        }
        if (!v) {
            json_decref(out);
            out = NULL;
        }
    }
    g_ptr_array_unref(items);
    return out;
}

/* A scalar: quoted forms are unquoted and unescaped; plain ones are taken as they are. */
static json_t *scalar(yparser *p, guint no, const char *s, GError **error)
{
    gsize len = strlen(s);
    if ((s[0] == '{' && s[len - 1] == '}') || (s[0] == '[' && s[len - 1] == ']'))
        return flow(p, no, s, len, error);
    if (s[0] == '"' || s[0] == '\'') {
        if (len < 2 || s[len - 1] != s[0]) {
            fail(p, no, error, "unterminated quoted string %s", s);
            return NULL;
        }
        GString *out = g_string_new(NULL);
        for (gsize k = 1; k < len - 1; k++) {
            if (s[0] == '\'' && s[k] == '\'' && s[k + 1] == '\'') {
                g_string_append_c(out, '\'');
                k++;
            } else if (s[0] == '"' && s[k] == '\\' && k + 1 < len - 1) {
                char e = s[++k];
                g_string_append_c(out, e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e);
            } else {
                g_string_append_c(out, s[k]);
            }
        }
        json_t *v = json_stringn(out->str, out->len);
        g_string_free(out, TRUE);
        if (!v)
            fail(p, no, error, "quoted string is not UTF-8: %s", s);
        return v;
    }
    if (strchr("&*!|>{[%@`", s[0])) {
        fail(p, no, error, "unsupported YAML (anchors, tags and block scalars are not read): %s", s);
        return NULL;
    }
    json_t *v = json_string(s);
    if (!v)
        fail(p, no, error, "scalar is not UTF-8: %s", s);
    return v;
}

/* Where "key: value" splits: the ':' followed by a blank or the end, outside quotes. */
static gchar *key_colon(gchar *s)
{
    char quote = 0;
    for (gchar *c = s; *c; c++) {
        if (quote) {
            if (*c == quote)
                quote = 0;
        } else if ((*c == '"' || *c == '\'') && c == s) {
            quote = *c;
        } else if (*c == ':' && (c[1] == 0 || c[1] == ' ' || c[1] == '\t')) {
            return c;
        }
    }
    return NULL;
}

static gboolean is_item(const char *t)
{
    return t[0] == '-' && (t[1] == 0 || t[1] == ' ');
}

static json_t *parse_node(yparser *p, guint indent, GError **error);

static json_t *parse_sequence(yparser *p, guint indent, GError **error)
{
    json_t *arr = json_array();
    while (p->i < p->n && p->lines[p->i].indent == indent && is_item(p->lines[p->i].text)) {
        yline *l = &p->lines[p->i];
        const char *rest = l->text + 1;
        guint skip = 1;
        while (*rest == ' ') {
            rest++;
            skip++;
        }
        json_t *item;
        if (!*rest) {
            p->i++;
            item = p->i < p->n && p->lines[p->i].indent > indent
                       ? parse_node(p, p->lines[p->i].indent, error) : json_null();
        } else {
            /* "- key: v" opens a mapping whose column is that of "key": re-read the line so. */
            gchar *moved = g_strdup(rest);
            g_free(l->text);
            l->text = moved;
            l->indent = indent + skip;
            item = parse_node(p, l->indent, error);
        }
        if (!item) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, item);
    }
    return arr;
}

static json_t *parse_mapping(yparser *p, guint indent, GError **error)
{
    json_t *obj = json_object();
    while (p->i < p->n && p->lines[p->i].indent == indent && !is_item(p->lines[p->i].text)) {
        yline *l = &p->lines[p->i];
        gchar *colon = key_colon(l->text);
        if (!colon) {
            fail(p, l->no, error, "expected \"key: value\", got: %s", l->text);
            json_decref(obj);
            return NULL;
        }
        *colon = 0;
        gchar *rawkey = g_strstrip(l->text);
        json_t *k = scalar(p, l->no, rawkey, error);
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        p->i++;
        json_t *v = NULL;
        if (k && !json_is_string(k))
            fail(p, l->no, error, "a key must be a string: %s", rawkey);
        else if (k && *value)
            v = scalar(p, l->no, value, error);
        else if (k && p->i < p->n && p->lines[p->i].indent > indent)
            v = parse_node(p, p->lines[p->i].indent, error);
        else if (k && p->i < p->n && p->lines[p->i].indent == indent && is_item(p->lines[p->i].text))
            v = parse_sequence(p, indent, error); /* "key:\n- a" is a sequence at the key's column */
        else if (k)
            v = json_null();
        if (!v) {
            json_decref(k);
            json_decref(obj);
            return NULL;
        }
        json_object_set_new(obj, json_string_value(k), v);
        json_decref(k);
    }
    return obj;
}

static json_t *parse_node(yparser *p, guint indent, GError **error)
{
    yline *l = &p->lines[p->i];
    if (is_item(l->text))
        return parse_sequence(p, indent, error);
    if (!key_colon(l->text)) { /* a lone scalar */
        p->i++;
        return scalar(p, l->no, l->text, error);
    }
    return parse_mapping(p, indent, error);
}

json_t *tf_yaml_subset_parse(const char *text, const char *where, GError **error)
{
    gchar **raw = g_strsplit(text, "\n", -1);
    GArray *lines = g_array_new(FALSE, TRUE, sizeof(yline));
    gboolean ok = TRUE;
    for (guint k = 0; raw[k]; k++) {
        gchar *s = raw[k];
        gsize len = strlen(s);
        if (len && s[len - 1] == '\r')
            s[len - 1] = 0;
        guint ind = 0;
        while (s[ind] == ' ')
            ind++;
        if (s[ind] == '\t') {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s:%u: a tab in indentation", where, k + 1);
            ok = FALSE;
            break;
        }
        gchar *t = g_strdup(s + ind);
        strip_comment(t);
        if (!*t || !strcmp(t, "---") || (ind == 0 && t[0] == '%')) {
            g_free(t);
            continue;
        }
        yline l = {k + 1, ind, t};
        g_array_append_val(lines, l);
    }
    g_strfreev(raw);
    yparser p = {(yline *)(void *)lines->data, lines->len, 0, where};
    json_t *root = NULL;
    if (ok) {
        root = p.n ? parse_node(&p, p.lines[0].indent, error) : json_object();
        if (root && p.i < p.n) {
            fail(&p, p.lines[p.i].no, error, "unexpected indentation at: %s", p.lines[p.i].text);
            json_decref(root);
            root = NULL;
        }
    }
    for (guint k = 0; k < lines->len; k++)
        g_free(g_array_index(lines, yline, k).text);
    g_array_free(lines, TRUE);
    return root;
}
