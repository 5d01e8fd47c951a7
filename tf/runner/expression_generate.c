/* expression_generate.c: Cucumber Expressions generated from a step's text, for the
 * "undefined step" snippets ("I have 42 cukes" -> "I have {int} cukes").
 * Ports the official CucumberExpressionGenerator: the leftmost, longest whole-word match
 * of any snippet parameter type becomes a parameter; every type combination is offered. */
#include "expression_priv.h"

#include <string.h>

#define MAX_EXPRESSIONS 256

struct tf_generated_expression {
    char *source;
    GPtrArray *types; /* borrowed tf_param_type* */
    GPtrArray *names; /* owned char* */
};

static void generated_free(tf_generated_expression *g)
{
    g_free(g->source);
    g_ptr_array_unref(g->types);
    g_ptr_array_unref(g->names);
    g_free(g);
}

const char *tf_generated_expression_source(const tf_generated_expression *gen)
{
    return gen->source;
}
guint tf_generated_expression_n_params(const tf_generated_expression *gen)
{
    return gen->types->len;
}
const tf_param_type *tf_generated_expression_param(const tf_generated_expression *gen, guint i)
{
    g_return_val_if_fail(i < gen->types->len, NULL);
    return g_ptr_array_index(gen->types, i);
}
const char *tf_generated_expression_param_name(const tf_generated_expression *gen, guint i)
{
    g_return_val_if_fail(i < gen->names->len, NULL);
    return g_ptr_array_index(gen->names, i);
}

/* One regexp of one snippet type, positioned at its next acceptable match. */
typedef struct {
    const tf_param_type *type;
    const GRegex *re;
    gssize start; /* byte offset of the match, -1 when none */
    gsize len;
} matcher;

/* Unicode separator, punctuation or symbol: \p{Z}|\p{P}|\p{S}. */
static gboolean is_boundary(gunichar c)
{
    switch (g_unichar_type(c)) {
    case G_UNICODE_SPACE_SEPARATOR:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    case G_UNICODE_CONNECT_PUNCTUATION:
    case G_UNICODE_DASH_PUNCTUATION:
    case G_UNICODE_CLOSE_PUNCTUATION:
    case G_UNICODE_FINAL_PUNCTUATION:
    case G_UNICODE_INITIAL_PUNCTUATION:
    case G_UNICODE_OTHER_PUNCTUATION:
    case G_UNICODE_OPEN_PUNCTUATION:
    case G_UNICODE_CURRENCY_SYMBOL:
    case G_UNICODE_MODIFIER_SYMBOL:
    case G_UNICODE_MATH_SYMBOL:
    case G_UNICODE_OTHER_SYMBOL:
        return TRUE;
    default:
        return FALSE;
    }
}

static gboolean full_word(const char *text, gsize text_len, gsize start, gsize len)
{
    if (start > 0 && !is_boundary(g_utf8_get_char(g_utf8_prev_char(text + start))))
        return FALSE;
    return start + len == text_len || is_boundary(g_utf8_get_char(text + start + len));
}

/* Moves `m` to the first non-empty whole-word match found searching from each position
 * at or after `pos` (the official matcher re-matches on every suffix of the text). */
static void advance_to(matcher *m, const char *text, gsize text_len, gsize pos)
{
    m->start = -1;
    for (gsize p = pos; p < text_len; p = (gsize)(g_utf8_next_char(text + p) - text)) {
        GMatchInfo *mi = NULL;
        if (g_regex_match_full(m->re, text + p, (gssize)(text_len - p), 0, 0, &mi, NULL)) {
            gint s = -1, e = -1;
            g_match_info_fetch_pos(mi, 0, &s, &e);
            if (s >= 0 && e > s && full_word(text, text_len, p + (gsize)s, (gsize)(e - s))) {
                m->start = (gssize)(p + (gsize)s);
                m->len = (gsize)(e - s);
                g_match_info_free(mi);
                return;
            }
        }
        g_match_info_free(mi);
    }
}

static int compare_matchers(gconstpointer a, gconstpointer b)
{
    const matcher *x = *(const matcher *const *)a, *y = *(const matcher *const *)b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return 0;
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

/* Escapes what a Cucumber Expression would read as syntax. The official generator leaves
 * '\' alone, which makes text such as "a\[b" produce an expression that does not compile. */
static void escape_text(GString *out, const char *text, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (strchr("({/\\", text[i]))
            g_string_append_c(out, '\\');
        g_string_append_c(out, text[i]);
    }
}

typedef struct {
    GPtrArray *segments;     /* char*: literal text before each parameter, and after the last */
    GPtrArray *combinations; /* GPtrArray* of candidate types per parameter */
    GPtrArray *out;
} generator;

static void emit(generator *g, const tf_param_type **chosen)
{
    tf_generated_expression *ge = g_new0(tf_generated_expression, 1);
    ge->types = g_ptr_array_new();
    ge->names = g_ptr_array_new_with_free_func(g_free);
    GHashTable *usage = g_hash_table_new(g_str_hash, g_str_equal);
    GString *src = g_string_new(NULL);
    for (guint i = 0; i < g->combinations->len; i++) {
        const tf_param_type *t = chosen[i];
        g_string_append(src, g_ptr_array_index(g->segments, i));
        g_string_append_printf(src, "{%s}", t->name);
        g_ptr_array_add(ge->types, (gpointer)t);
        const char *base = t->name[0] ? t->name : "arg";
        guint count = GPOINTER_TO_UINT(g_hash_table_lookup(usage, base)) + 1;
        g_hash_table_insert(usage, (gpointer)base, GUINT_TO_POINTER(count));
        g_ptr_array_add(ge->names,
                        count == 1 ? g_strdup(base) : g_strdup_printf("%s%u", base, count));
    }
    g_string_append(src, g_ptr_array_index(g->segments, g->combinations->len));
    ge->source = g_string_free(src, FALSE);
    g_hash_table_unref(usage);
    g_ptr_array_add(g->out, ge);
}

static void permute(generator *g, guint depth, const tf_param_type **chosen)
{
    if (g->out->len >= MAX_EXPRESSIONS)
        return;
    if (depth == g->combinations->len) {
        emit(g, chosen);
        return;
    }
    GPtrArray *candidates = g_ptr_array_index(g->combinations, depth);
    for (guint i = 0; i < candidates->len && g->out->len < MAX_EXPRESSIONS; i++) {
        chosen[depth] = g_ptr_array_index(candidates, i);
        permute(g, depth + 1, chosen);
    }
}

GPtrArray *tf_expression_generate(const tf_param_registry *reg, const char *text)
{
    gsize len = strlen(text);
    GArray *matchers = g_array_new(FALSE, FALSE, sizeof(matcher));
    GPtrArray *types = tf_param_registry_list(reg);
    for (guint i = 0; i < types->len; i++) {
        const tf_param_type *t = g_ptr_array_index(types, i);
        if (!(t->flags & TF_PARAM_USE_FOR_SNIPPETS))
            continue;
        for (guint k = 0; t->snippet_regexes[k]; k++) {
            matcher m = {t, t->snippet_regexes[k], -1, 0};
            g_array_append_val(matchers, m);
        }
    }
    g_ptr_array_unref(types);

    generator g = {g_ptr_array_new_with_free_func(g_free),
                   g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref),
                   g_ptr_array_new_with_free_func((GDestroyNotify)generated_free)};
    GPtrArray *found = g_ptr_array_new();
    gsize pos = 0;
    for (;;) {
        g_ptr_array_set_size(found, 0);
        for (guint i = 0; i < matchers->len; i++) {
            matcher *m = &g_array_index(matchers, matcher, i);
            advance_to(m, text, len, pos);
            if (m->start >= 0)
                g_ptr_array_add(found, m);
        }
        if (found->len == 0)
            break;
        g_ptr_array_sort(found, compare_matchers);
        const matcher *best = g_ptr_array_index(found, 0);
        GPtrArray *candidates = g_ptr_array_new();
        for (guint i = 0; i < found->len; i++) {
            const matcher *m = g_ptr_array_index(found, i);
            if (compare_matchers(&m, &best) == 0 && !g_ptr_array_find(candidates, m->type, NULL))
                g_ptr_array_add(candidates, (gpointer)m->type);
        }
        g_ptr_array_sort(candidates, compare_types);
        g_ptr_array_add(g.combinations, candidates);
        GString *seg = g_string_new(NULL);
        escape_text(seg, text + pos, (gsize)best->start - pos);
        g_ptr_array_add(g.segments, g_string_free(seg, FALSE));
        pos = (gsize)best->start + best->len;
        if (pos >= len)
            break;
    }
    GString *seg = g_string_new(NULL);
    escape_text(seg, text + pos, len - pos);
    g_ptr_array_add(g.segments, g_string_free(seg, FALSE));
    g_ptr_array_unref(found);
    g_array_unref(matchers);

    const tf_param_type **chosen = g_new0(const tf_param_type *, g.combinations->len + 1);
    permute(&g, 0, chosen);
    g_free(chosen);
    g_ptr_array_unref(g.segments);
    g_ptr_array_unref(g.combinations);
    return g.out;
}
