/* expression_param.c: parameter types and the registry that finds them by name (for
 * Cucumber Expressions) and by regexp (for regex capture groups), with Cucumber's
 * built-in types and their transformers. Filled at start-up, then only read. */
#include "expression_priv.h"

#include "tf/error.h"

#include <math.h>
#include <string.h>

struct tf_param_registry {
    gint refcount;
    GPtrArray *types;       /* owning, definition order */
    GHashTable *by_name;    /* name -> tf_param_type* (borrowed) */
    GHashTable *by_regexp;  /* regexp source -> GPtrArray of tf_param_type* (borrowed) */
};

/* The official built-in regexps (cucumber-expressions' ParameterTypeRegistry). */
#define INT_RE_SIGNED "-?\\d+"
#define INT_RE_UNSIGNED "\\d+"
#define FLOAT_RE "(?=.*\\d.*)[-+]?\\d*(?:\\.(?=\\d.*))?\\d*(?:\\d+[E][+-]?\\d+)?"
#define WORD_RE "[^\\s]+"
#define STRING_RE "\"([^\"\\\\]*(\\\\.[^\"\\\\]*)*)\"|'([^'\\\\]*(\\\\.[^'\\\\]*)*)'"
#define ANONYMOUS_RE ".*"

static void param_type_free(tf_param_type *t)
{
    if (t->data_free)
        t->data_free(t->data);
    for (guint i = 0; t->snippet_regexes && t->snippet_regexes[i]; i++)
        g_regex_unref(t->snippet_regexes[i]);
    g_free(t->snippet_regexes);
    g_strfreev(t->regexps);
    g_free(t->name);
    g_free(t);
}

static int compare_types(gconstpointer a, gconstpointer b)
{
    const tf_param_type *x = *(const tf_param_type *const *)a;
    const tf_param_type *y = *(const tf_param_type *const *)b;
    gboolean px = (x->flags & TF_PARAM_PREFER_FOR_REGEXP_MATCH) != 0;
    gboolean py = (y->flags & TF_PARAM_PREFER_FOR_REGEXP_MATCH) != 0;
    if (px != py)
        return px ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* ---- built-in transformers -------------------------------------------------------- */

typedef struct {
    gint64 min, max;
} int_range;

static const int_range range_int = {G_MININT64, G_MAXINT64};
static const int_range range_byte = {G_MININT8, G_MAXINT8};
static const int_range range_short = {G_MININT16, G_MAXINT16};

static gboolean transform_int(const char *const *groups, guint n, tf_arg *out, void *data,
                              GError **error)
{
    const int_range *r = data;
    if (!groups[0])
        return TRUE;
    gint64 v = 0;
    GError *e = NULL;
    if (!g_ascii_string_to_signed(groups[0], 10, r->min, r->max, &v, &e)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "{%s}: '%s': %s",
                    tf_arg_param_type(out), groups[0], e->message);
        g_error_free(e);
        return FALSE;
    }
    tf_arg_set_int(out, v);
    return TRUE;
}

static gboolean transform_double(const char *const *groups, guint n, tf_arg *out, void *data,
                                 GError **error)
{
    if (!groups[0])
        return TRUE;
    char *end = NULL;
    double v = g_ascii_strtod(groups[0], &end);
    /* parseFloat of text with no number in it is NaN, not 0. */
    tf_arg_set_double(out, end == groups[0] ? NAN : v);
    return TRUE;
}

/* {string}: the quoted content with \" and \' unescaped. */
static gboolean transform_string(const char *const *groups, guint n, tf_arg *out, void *data,
                                 GError **error)
{
    const char *s = "";
    if (n > 0 && groups[0] && groups[0][0])
        s = groups[0];
    else if (n > 1 && groups[1] && groups[1][0])
        s = groups[1];
    GString *r = g_string_sized_new(strlen(s));
    for (const char *p = s; *p; p++) {
        if (p[0] == '\\' && (p[1] == '"' || p[1] == '\''))
            p++;
        g_string_append_c(r, *p);
    }
    tf_arg_take_string(out, g_string_free(r, FALSE));
    return TRUE;
}

static gboolean transform_text(const char *const *groups, guint n, tf_arg *out, void *data,
                               GError **error)
{
    tf_arg_set_string(out, groups[0]);
    return TRUE;
}

/* ---- registry ---------------------------------------------------------------------- */

static gboolean valid_name(const char *name)
{
    return strpbrk(name, "{}()\\/") == NULL;
}

static const tf_param_type *define(tf_param_registry *reg, const char *name,
                                   const char *const *regexps, tf_param_transform_fn transform,
                                   void *data, GDestroyNotify data_free, tf_param_flags flags,
                                   gboolean builtin, GError **error)
{
    if (!name || !valid_name(name)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "Illegal character in parameter name {%s}. Parameter names may not contain "
                    "'{', '}', '(', ')', '\\' or '/'",
                    name ? name : "(null)");
        return NULL;
    }
    if (g_hash_table_contains(reg->by_name, name)) {
        if (name[0] == '\0')
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "The anonymous parameter type has already been defined");
        else
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "There is already a parameter type with name %s", name);
        return NULL;
    }
    guint n = regexps ? g_strv_length((char **)regexps) : 0;
    if (n == 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "parameter type {%s}: no regexp given",
                    name);
        return NULL;
    }
    GRegex **snippet = g_new0(GRegex *, n + 1);
    for (guint i = 0; i < n; i++) {
        GError *e = NULL;
        char *wrapped = g_strdup_printf("(%s)", regexps[i]);
        snippet[i] = g_regex_new(wrapped, G_REGEX_OPTIMIZE | G_REGEX_DOLLAR_ENDONLY, 0, &e);
        g_free(wrapped);
        if (!snippet[i]) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "parameter type {%s}: regexp /%s/ does not compile: %s", name,
                        regexps[i], e->message);
            g_error_free(e);
            for (guint j = 0; j < i; j++)
                g_regex_unref(snippet[j]);
            g_free(snippet);
            return NULL;
        }
        GPtrArray *same = g_hash_table_lookup(reg->by_regexp, regexps[i]);
        const tf_param_type *first = same && same->len ? g_ptr_array_index(same, 0) : NULL;
        if (first && (first->flags & TF_PARAM_PREFER_FOR_REGEXP_MATCH) &&
            (flags & TF_PARAM_PREFER_FOR_REGEXP_MATCH)) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "There can only be one preferential parameter type per regexp. The "
                        "regexp /%s/ is used for two preferential parameter types, {%s} and {%s}",
                        regexps[i], first->name, name);
            for (guint j = 0; j <= i; j++)
                g_regex_unref(snippet[j]);
            g_free(snippet);
            return NULL;
        }
    }

    tf_param_type *t = g_new0(tf_param_type, 1);
    t->name = g_strdup(name);
    t->regexps = g_strdupv((char **)regexps);
    t->transform = transform;
    t->data = data;
    t->data_free = data_free;
    t->flags = flags;
    t->builtin = builtin;
    t->snippet_regexes = snippet;
    g_ptr_array_add(reg->types, t);
    g_hash_table_insert(reg->by_name, t->name, t);
    for (guint i = 0; i < n; i++) {
        GPtrArray *same = g_hash_table_lookup(reg->by_regexp, regexps[i]);
        if (!same) {
            same = g_ptr_array_new();
            g_hash_table_insert(reg->by_regexp, g_strdup(regexps[i]), same);
        }
        if (!g_ptr_array_find(same, t, NULL)) {
            g_ptr_array_add(same, t);
            g_ptr_array_sort(same, compare_types);
        }
    }
    return t;
}

tf_param_registry *tf_param_registry_new(void)
{
    tf_param_registry *reg = g_new0(tf_param_registry, 1);
    reg->refcount = 1;
    reg->types = g_ptr_array_new_with_free_func((GDestroyNotify)param_type_free);
    reg->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    reg->by_regexp = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)g_ptr_array_unref);

    static const char *const ints[] = {INT_RE_SIGNED, INT_RE_UNSIGNED, NULL};
    static const char *const floats[] = {FLOAT_RE, NULL};
    static const char *const words[] = {WORD_RE, NULL};
    static const char *const strings[] = {STRING_RE, NULL};
    static const char *const anything[] = {ANONYMOUS_RE, NULL};
    const tf_param_flags snip = TF_PARAM_USE_FOR_SNIPPETS;
    const tf_param_flags prefer = TF_PARAM_PREFER_FOR_REGEXP_MATCH;
    static const struct {
        const char *name;
        const char *const *regexps;
        tf_param_transform_fn fn;
        const void *data;
        int flags; /* 1 snippets, 2 prefer */
    } builtins[] = {
        {"int", ints, transform_int, &range_int, 3},
        {"float", floats, transform_double, NULL, 1},
        {"word", words, transform_text, NULL, 0},
        {"string", strings, transform_string, NULL, 1},
        {"", anything, transform_text, NULL, 2},
        {"bigdecimal", floats, transform_text, NULL, 0},
        {"biginteger", ints, transform_text, NULL, 0},
        {"byte", ints, transform_int, &range_byte, 0},
        {"short", ints, transform_int, &range_short, 0},
        {"long", ints, transform_int, &range_int, 0},
        {"double", floats, transform_double, NULL, 0},
    };
    for (guint i = 0; i < G_N_ELEMENTS(builtins); i++) {
        tf_param_flags f = ((builtins[i].flags & 1) ? snip : 0) | ((builtins[i].flags & 2) ? prefer : 0);
        const tf_param_type *t = define(reg, builtins[i].name, builtins[i].regexps, builtins[i].fn,
                                        (void *)builtins[i].data, NULL, f, TRUE, NULL);
        g_assert(t);
    }
    return reg;
}

tf_param_registry *tf_param_registry_ref(tf_param_registry *reg)
{
    g_atomic_int_inc(&reg->refcount);
    return reg;
}

void tf_param_registry_unref(tf_param_registry *reg)
{
    if (!reg || !g_atomic_int_dec_and_test(&reg->refcount))
        return;
    g_hash_table_unref(reg->by_regexp);
    g_hash_table_unref(reg->by_name);
    g_ptr_array_unref(reg->types);
    g_free(reg);
}

const tf_param_type *tf_param_registry_define(tf_param_registry *reg, const char *name,
                                              const char *const *regexps,
                                              tf_param_transform_fn transform, void *data,
                                              GDestroyNotify data_free, tf_param_flags flags,
                                              GError **error)
{
    return define(reg, name, regexps, transform, data, data_free, flags, FALSE, error);
}

const tf_param_type *tf_param_registry_lookup(const tf_param_registry *reg, const char *name)
{
    return g_hash_table_lookup(reg->by_name, name);
}

GPtrArray *tf_param_registry_list(const tf_param_registry *reg)
{
    GPtrArray *a = g_ptr_array_sized_new(reg->types->len);
    for (guint i = 0; i < reg->types->len; i++)
        g_ptr_array_add(a, g_ptr_array_index(reg->types, i));
    return a;
}

GPtrArray *tf_param_registry_by_regexp(const tf_param_registry *reg, const char *regexp)
{
    return g_hash_table_lookup(reg->by_regexp, regexp);
}

const char *tf_param_type_name(const tf_param_type *type) { return type->name; }
const char *const *tf_param_type_regexps(const tf_param_type *type)
{
    return (const char *const *)type->regexps;
}
tf_param_flags tf_param_type_flags(const tf_param_type *type) { return type->flags; }
gboolean tf_param_type_is_builtin(const tf_param_type *type) { return type->builtin; }
