/* expression_compile.c: tf_expression — a Cucumber Expression or a regular expression
 * compiled once to a GRegex, plus matching that turns capture groups into typed tf_args.
 * The Cucumber AST is rewritten to a regex exactly as the official implementation does,
 * so generated regexes and argument grouping are identical across Cucumbers. */
#include "expression_priv.h"

#include "tf/error.h"

#include <string.h>

struct tf_expression {
    tf_param_registry *reg;
    char *source;
    char *regex_src;
    gboolean is_regex;
    GRegex *regex;
    tf_regex_group *groups; /* root's children: one per argument */
    GPtrArray *types;       /* per argument: tf_param_type* or NULL (borrowed) */
    GPtrArray *ambiguous;   /* per argument: candidate types when ambiguous, else NULL */
    char *prefix;           /* literal text every match starts with (a cheap pre-filter) */
    size_t prefix_len;
};

static const GRegexCompileFlags COMPILE_FLAGS = G_REGEX_OPTIMIZE | G_REGEX_DOLLAR_ENDONLY;

static void candidates_free(gpointer p)
{
    if (p)
        g_ptr_array_unref(p);
}

void tf_expression_free(tf_expression *expr)
{
    if (!expr)
        return;
    if (expr->regex)
        g_regex_unref(expr->regex);
    tf_regex_group_free(expr->groups);
    if (expr->types)
        g_ptr_array_unref(expr->types);
    if (expr->ambiguous)
        g_ptr_array_unref(expr->ambiguous);
    tf_param_registry_unref(expr->reg);
    g_free(expr->prefix);
    g_free(expr->regex_src);
    g_free(expr->source);
    g_free(expr);
}

/* ---- Cucumber Expression AST -> regex ---------------------------------------------- */

typedef struct {
    const char *source;
    const tf_param_registry *reg;
    GString *out;
    GPtrArray *types;
} rewrite_ctx;

static void node_error(const rewrite_ctx *c, const tf_expr_node *node, const char *problem,
                       const char *solution, GError **error)
{
    char *ptr = tf_expr_point_at_node(node);
    tf_expr_set_error(error, c->source, node->start, ptr, problem, solution);
    g_free(ptr);
}

static const tf_expr_node *first_child_of_type(const tf_expr_node *node, tf_expr_node_type type)
{
    for (guint i = 0; i < tf_expr_node_n_children(node); i++) {
        const tf_expr_node *child = tf_expr_node_child(node, i);
        if (child->type == type)
            return child;
    }
    return NULL;
}

static void escape_regex(GString *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (strchr("\\^[({$.|?*+})]", *p))
            g_string_append_c(out, '\\');
        g_string_append_c(out, *p);
    }
}

static gboolean rewrite(rewrite_ctx *c, const tf_expr_node *node, GError **error);

static gboolean rewrite_children(rewrite_ctx *c, const tf_expr_node *node, const char *sep,
                                 GError **error)
{
    for (guint i = 0; i < tf_expr_node_n_children(node); i++) {
        if (i > 0 && sep)
            g_string_append(c->out, sep);
        if (!rewrite(c, tf_expr_node_child(node, i), error))
            return FALSE;
    }
    return TRUE;
}

static gboolean rewrite_optional(rewrite_ctx *c, const tf_expr_node *node, GError **error)
{
    const tf_expr_node *bad;
    if ((bad = first_child_of_type(node, TF_EXPR_NODE_PARAMETER))) {
        node_error(c, bad, "An optional may not contain a parameter type",
                   "If you did not mean to use an parameter type you can use '\\{' to escape the "
                   "'{'",
                   error);
        return FALSE;
    }
    if ((bad = first_child_of_type(node, TF_EXPR_NODE_OPTIONAL))) {
        node_error(c, bad, "An optional may not contain an other optional",
                   "If you did not mean to use an optional type you can use '\\(' to escape the "
                   "'('. For more complicated expressions consider using a regular expression "
                   "instead.",
                   error);
        return FALSE;
    }
    if (!first_child_of_type(node, TF_EXPR_NODE_TEXT)) {
        node_error(c, node, "An optional must contain some text",
                   "If you did not mean to use an optional you can use '\\(' to escape the '('",
                   error);
        return FALSE;
    }
    g_string_append(c->out, "(?:");
    if (!rewrite_children(c, node, NULL, error))
        return FALSE;
    g_string_append(c->out, ")?");
    return TRUE;
}

static gboolean rewrite_alternation(rewrite_ctx *c, const tf_expr_node *node, GError **error)
{
    for (guint i = 0; i < tf_expr_node_n_children(node); i++) {
        const tf_expr_node *alt = tf_expr_node_child(node, i);
        if (tf_expr_node_n_children(alt) == 0) {
            node_error(c, alt, "Alternative may not be empty",
                       "If you did not mean to use an alternative you can use '\\/' to escape "
                       "the '/'",
                       error);
            return FALSE;
        }
        if (!first_child_of_type(alt, TF_EXPR_NODE_TEXT)) {
            node_error(c, alt, "An alternative may not exclusively contain optionals",
                       "If you did not mean to use an optional you can use '\\(' to escape the "
                       "'('",
                       error);
            return FALSE;
        }
    }
    g_string_append(c->out, "(?:");
    if (!rewrite_children(c, node, "|", error))
        return FALSE;
    g_string_append_c(c->out, ')');
    return TRUE;
}

static gboolean rewrite_parameter(rewrite_ctx *c, const tf_expr_node *node, GError **error)
{
    char *name = tf_expr_node_text(node);
    const tf_param_type *type = tf_param_registry_lookup(c->reg, name);
    if (!type) {
        char *problem = g_strdup_printf("Undefined parameter type '%s'", name);
        char *solution = g_strdup_printf("Please register a ParameterType for '%s'", name);
        node_error(c, node, problem, solution, error);
        g_free(problem);
        g_free(solution);
        g_free(name);
        return FALSE;
    }
    g_free(name);
    g_ptr_array_add(c->types, (gpointer)type);
    if (!type->regexps[1]) {
        g_string_append_printf(c->out, "(%s)", type->regexps[0]);
        return TRUE;
    }
    g_string_append(c->out, "((?:");
    for (guint i = 0; type->regexps[i]; i++)
        g_string_append_printf(c->out, "%s%s", i ? ")|(?:" : "", type->regexps[i]);
    g_string_append(c->out, "))");
    return TRUE;
}

static gboolean rewrite(rewrite_ctx *c, const tf_expr_node *node, GError **error)
{
    switch (node->type) {
    case TF_EXPR_NODE_TEXT:
        escape_regex(c->out, node->token);
        return TRUE;
    case TF_EXPR_NODE_OPTIONAL:
        return rewrite_optional(c, node, error);
    case TF_EXPR_NODE_ALTERNATION:
        return rewrite_alternation(c, node, error);
    case TF_EXPR_NODE_ALTERNATIVE:
        return rewrite_children(c, node, NULL, error);
    case TF_EXPR_NODE_PARAMETER:
        return rewrite_parameter(c, node, error);
    case TF_EXPR_NODE_EXPRESSION:
        g_string_append_c(c->out, '^');
        if (!rewrite_children(c, node, NULL, error))
            return FALSE;
        g_string_append_c(c->out, '$');
        return TRUE;
    }
    return FALSE;
}

/* Compiles expr->regex_src and reads its group tree. */
static gboolean compile_regex(tf_expression *expr, GError **error)
{
    GError *e = NULL;
    expr->regex = g_regex_new(expr->regex_src, COMPILE_FLAGS, 0, &e);
    if (!expr->regex) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: invalid regular expression: %s",
                    expr->source, e->message);
        g_error_free(e);
        return FALSE;
    }
    expr->groups = tf_regex_group_tree(expr->regex_src);
    return TRUE;
}

static GString *type_names(const GPtrArray *types)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < types->len; i++) {
        const tf_param_type *t = g_ptr_array_index(types, i);
        g_string_append_printf(s, "%s%s", i ? "," : "", t ? t->name : "");
    }
    return s;
}

tf_expression *tf_expression_new_cucumber(tf_param_registry *reg, const char *source,
                                          GError **error)
{
    tf_expr_node *ast = tf_expression_parse(source, error);
    if (!ast)
        return NULL;
    tf_expression *expr = g_new0(tf_expression, 1);
    expr->reg = tf_param_registry_ref(reg);
    expr->source = g_strdup(source);
    expr->types = g_ptr_array_new();
    rewrite_ctx c = {source, reg, g_string_new(NULL), expr->types};
    gboolean ok = rewrite(&c, ast, error);
    GString *prefix = g_string_new(NULL);
    for (guint i = 0; i < tf_expr_node_n_children(ast); i++) {
        const tf_expr_node *n = tf_expr_node_child(ast, i);
        if (n->type != TF_EXPR_NODE_TEXT)
            break;
        g_string_append(prefix, n->token);
    }
    expr->prefix_len = prefix->len;
    expr->prefix = g_string_free(prefix, FALSE);
    tf_expr_node_free(ast);
    expr->regex_src = g_string_free(c.out, FALSE);
    if (!ok || !compile_regex(expr, error)) {
        tf_expression_free(expr);
        return NULL;
    }
    if (expr->groups->children->len != expr->types->len) {
        /* A custom regexp with unbalanced groups, e.g. "a)(b", splits its parameter. */
        GString *names = type_names(expr->types);
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                    "%s: Group has %u capture groups, but there were %u parameter types (%s)",
                    source, expr->groups->children->len, expr->types->len, names->str);
        g_string_free(names, TRUE);
        tf_expression_free(expr);
        return NULL;
    }
    return expr;
}

/* The plain text an anchored pattern certainly starts with: "^I have (\\d+)" gives
 * "I have ". Conservative: stops at anything special and gives up on any '|'. */
static char *regex_literal_prefix(const char *pattern)
{
    if (pattern[0] != '^' || strchr(pattern, '|'))
        return g_strdup("");
    const char *p = pattern + 1;
    while (g_ascii_isalnum(*p) || *p == ' ' || *p == ',' || *p == '-' || *p == '_' || *p == '\'')
        p++;
    /* A quantifier after the last character makes that character optional or repeated. */
    if (p > pattern + 1 && *p && strchr("?*+{", *p))
        p--;
    return g_strndup(pattern + 1, (gsize)(p - pattern - 1));
}

tf_expression *tf_expression_new_regex(tf_param_registry *reg, const char *pattern,
                                       GError **error)
{
    tf_expression *expr = g_new0(tf_expression, 1);
    expr->reg = tf_param_registry_ref(reg);
    expr->source = g_strdup(pattern);
    expr->regex_src = g_strdup(pattern);
    expr->is_regex = TRUE;
    if (!compile_regex(expr, error)) {
        tf_expression_free(expr);
        return NULL;
    }
    expr->prefix = regex_literal_prefix(pattern);
    expr->prefix_len = strlen(expr->prefix);
    guint n = expr->groups->children->len;
    expr->types = g_ptr_array_sized_new(n);
    expr->ambiguous = g_ptr_array_new_full(n, candidates_free);
    for (guint i = 0; i < n; i++) {
        const tf_regex_group *g = g_ptr_array_index(expr->groups->children, i);
        GPtrArray *same = tf_param_registry_by_regexp(reg, g->source);
        const tf_param_type *first = same && same->len ? g_ptr_array_index(same, 0) : NULL;
        GPtrArray *ambiguous = NULL;
        if (same && same->len > 1 && !(first->flags & TF_PARAM_PREFER_FOR_REGEXP_MATCH)) {
            /* Reported when matching, as Cucumber does, with expressions for the text. */
            ambiguous = g_ptr_array_copy(same, NULL, NULL);
            first = NULL;
        }
        g_ptr_array_add(expr->types, (gpointer)first);
        g_ptr_array_add(expr->ambiguous, ambiguous);
    }
    return expr;
}

tf_expression *tf_expression_new(tf_param_registry *reg, const char *source, GError **error)
{
    size_t len = strlen(source);
    if (len > 0 && (source[0] == '^' || source[len - 1] == '$'))
        return tf_expression_new_regex(reg, source, error);
    if (len >= 2 && source[0] == '/' && source[len - 1] == '/') {
        char *inner = g_strndup(source + 1, len - 2);
        tf_expression *expr = tf_expression_new_regex(reg, inner, error);
        g_free(inner);
        return expr;
    }
    return tf_expression_new_cucumber(reg, source, error);
}

const char *tf_expression_source(const tf_expression *expr) { return expr->source; }
const char *tf_expression_regex(const tf_expression *expr) { return expr->regex_src; }
gboolean tf_expression_is_regex(const tf_expression *expr) { return expr->is_regex; }
guint tf_expression_n_params(const tf_expression *expr) { return expr->types->len; }

const tf_param_type *tf_expression_param(const tf_expression *expr, guint i)
{
    g_return_val_if_fail(i < expr->types->len, NULL);
    return g_ptr_array_index(expr->types, i);
}

/* ---- matching ------------------------------------------------------------------------ */

static char *fetch_group(GMatchInfo *mi, const char *text, int index, gssize *start)
{
    gint s = -1, e = -1;
    if (!g_match_info_fetch_pos(mi, index, &s, &e) || s < 0) {
        if (start)
            *start = -1;
        return NULL;
    }
    if (start)
        *start = s;
    return g_strndup(text + s, (gsize)(e - s));
}

static void ambiguous_error(const tf_expression *expr, const tf_regex_group *g,
                            const GPtrArray *candidates, const char *text, GError **error)
{
    GString *msg = g_string_new(NULL);
    g_string_append_printf(msg,
                           "Your Regular Expression /%s/\nmatches multiple parameter types with "
                           "regexp /%s/:\n",
                           expr->source, g->source);
    for (guint i = 0; i < candidates->len; i++)
        g_string_append_printf(msg, "   {%s}\n",
                               ((const tf_param_type *)g_ptr_array_index(candidates, i))->name);
    g_string_append(msg, "\nI couldn't decide which one to use. You have two options:\n\n"
                         "1) Use a Cucumber Expression instead of a Regular Expression. Try one "
                         "of these:\n");
    GPtrArray *gens = tf_expression_generate(expr->reg, text);
    for (guint i = 0; i < gens->len; i++)
        g_string_append_printf(msg, "   %s\n",
                               tf_generated_expression_source(g_ptr_array_index(gens, i)));
    g_ptr_array_unref(gens);
    g_string_append(msg, "\n2) Make one of the parameter types preferential and continue to "
                         "use a Regular Expression.\n");
    g_set_error_literal(error, TF_ERROR, TF_ERROR_INVALID, msg->str);
    g_string_free(msg, TRUE);
}

static tf_arg *build_arg(const tf_expression *expr, guint i, GMatchInfo *mi, const char *text,
                         GError **error)
{
    const tf_regex_group *g = g_ptr_array_index(expr->groups->children, i);
    const GPtrArray *ambiguous = expr->ambiguous ? g_ptr_array_index(expr->ambiguous, i) : NULL;
    if (ambiguous) {
        ambiguous_error(expr, g, ambiguous, text, error);
        return NULL;
    }
    const tf_param_type *type = g_ptr_array_index(expr->types, i);
    gssize start = -1;
    char *matched = fetch_group(mi, text, g->index, &start);
    tf_arg *arg = tf_arg_new(type, matched, start);
    if (!type || !type->transform) {
        tf_arg_set_string(arg, tf_arg_text(arg));
        return arg;
    }
    /* The transformer sees the group's own capture groups, or the whole group. */
    guint n = g->children->len ? g->children->len : 1;
    char **values = g_new0(char *, n + 1);
    if (g->children->len == 0) {
        values[0] = g_strdup(tf_arg_text(arg));
    } else {
        for (guint k = 0; k < n; k++) {
            const tf_regex_group *sub = g_ptr_array_index(g->children, k);
            values[k] = fetch_group(mi, text, sub->index, NULL);
        }
    }
    gboolean ok = type->transform((const char *const *)values, n, arg, type->data, error);
    for (guint k = 0; k < n; k++)
        g_free(values[k]);
    g_free(values);
    if (!ok) {
        if (error && !*error)
            g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "{%s}: transformer failed on '%s'",
                        type->name, tf_arg_text(arg) ? tf_arg_text(arg) : "");
        tf_arg_free(arg);
        return NULL;
    }
    return arg;
}

gboolean tf_expression_match(const tf_expression *expr, const char *text, GPtrArray **args,
                             GError **error)
{
    /* Most definitions fail on their first words: skip the regex engine for those. */
    if (expr->prefix_len && strncmp(text, expr->prefix, expr->prefix_len) != 0)
        return FALSE;
    if (!args)
        return g_regex_match(expr->regex, text, 0, NULL);
    GMatchInfo *mi = NULL;
    if (!g_regex_match(expr->regex, text, 0, &mi)) {
        g_match_info_free(mi);
        return FALSE;
    }
    guint n = expr->groups->children->len;
    GPtrArray *result = g_ptr_array_new_full(n, (GDestroyNotify)tf_arg_free);
    for (guint i = 0; i < n; i++) {
        tf_arg *arg = build_arg(expr, i, mi, text, error);
        if (!arg) {
            g_ptr_array_unref(result);
            g_match_info_free(mi);
            return FALSE;
        }
        g_ptr_array_add(result, arg);
    }
    g_match_info_free(mi);
    *args = result;
    return TRUE;
}
