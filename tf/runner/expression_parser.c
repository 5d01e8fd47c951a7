/* expression_parser.c: builds the AST of a Cucumber Expression from its tokens.
 * A recursive-descent port of the official grammar (alternation, optional, parameter,
 * text) so node boundaries and syntax errors are the same as every other Cucumber. */
#include "expression_priv.h"

#include "tf/error.h"

static const char *const node_names[] = {
    [TF_EXPR_NODE_TEXT] = "TEXT_NODE",
    [TF_EXPR_NODE_OPTIONAL] = "OPTIONAL_NODE",
    [TF_EXPR_NODE_ALTERNATION] = "ALTERNATION_NODE",
    [TF_EXPR_NODE_ALTERNATIVE] = "ALTERNATIVE_NODE",
    [TF_EXPR_NODE_PARAMETER] = "PARAMETER_NODE",
    [TF_EXPR_NODE_EXPRESSION] = "EXPRESSION_NODE",
};

const char *tf_expr_node_type_name(tf_expr_node_type type)
{
    if ((guint)type >= G_N_ELEMENTS(node_names))
        return "UNKNOWN";
    return node_names[type];
}

tf_expr_node *tf_expr_node_new(tf_expr_node_type type, guint start, guint end, char *token,
                               GPtrArray *children)
{
    tf_expr_node *n = g_new0(tf_expr_node, 1);
    n->type = type;
    n->start = start;
    n->end = end;
    n->token = token;
    n->children = children;
    return n;
}

void tf_expr_node_free(tf_expr_node *node)
{
    if (!node)
        return;
    if (node->children)
        g_ptr_array_unref(node->children);
    g_free(node->token);
    g_free(node);
}

tf_expr_node_type tf_expr_node_type_of(const tf_expr_node *node) { return node->type; }
guint tf_expr_node_start(const tf_expr_node *node) { return node->start; }
guint tf_expr_node_end(const tf_expr_node *node) { return node->end; }
const char *tf_expr_node_token(const tf_expr_node *node) { return node->token; }

guint tf_expr_node_n_children(const tf_expr_node *node)
{
    return node->children ? node->children->len : 0;
}

const tf_expr_node *tf_expr_node_child(const tf_expr_node *node, guint i)
{
    g_return_val_if_fail(node->children && i < node->children->len, NULL);
    return g_ptr_array_index(node->children, i);
}

char *tf_expr_node_text(const tf_expr_node *node)
{
    if (node->token)
        return g_strdup(node->token);
    GString *s = g_string_new(NULL);
    for (guint i = 0; node->children && i < node->children->len; i++) {
        char *t = tf_expr_node_text(g_ptr_array_index(node->children, i));
        g_string_append(s, t);
        g_free(t);
    }
    return g_string_free(s, FALSE);
}

static GPtrArray *node_list(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)tf_expr_node_free);
}

/* ------------------------------------------------------------------------------------ */

typedef struct {
    const char *source;
    const tf_expr_token *tokens;
    guint n;
} parse_ctx;

/* A parser tries to parse at token `at`: returns tokens consumed (0: not applicable) and
 * appends its nodes to `out`; returns -1 with `error` set on a syntax error. */
typedef int (*parser_fn)(const parse_ctx *c, guint at, GPtrArray *out, GError **error);

static gboolean looking_at(const parse_ctx *c, int at, tf_expr_token_type type)
{
    if (at < 0)
        return type == TF_EXPR_TOKEN_START_OF_LINE;
    if ((guint)at >= c->n)
        return type == TF_EXPR_TOKEN_END_OF_LINE;
    return c->tokens[at].type == type;
}

static gboolean looking_at_any(const parse_ctx *c, int at, const tf_expr_token_type *types,
                               guint n_types)
{
    for (guint i = 0; i < n_types; i++)
        if (looking_at(c, at, types[i]))
            return TRUE;
    return FALSE;
}

static tf_expr_node *text_node(const tf_expr_token *t)
{
    return tf_expr_node_new(TF_EXPR_NODE_TEXT, t->start, t->end, g_strdup(t->text), NULL);
}

static void token_error(const parse_ctx *c, const tf_expr_token *t, const char *problem,
                        const char *solution, GError **error)
{
    char *ptr = tf_expr_point_at(t->start);
    tf_expr_set_error(error, c->source, t->start, ptr, problem, solution);
    g_free(ptr);
}

/* text := whitespace | ')' | '}' | . */
static int parse_text(const parse_ctx *c, guint at, GPtrArray *out, GError **error)
{
    const tf_expr_token *t = &c->tokens[at];
    switch (t->type) {
    case TF_EXPR_TOKEN_WHITE_SPACE:
    case TF_EXPR_TOKEN_TEXT:
    case TF_EXPR_TOKEN_END_PARAMETER:
    case TF_EXPR_TOKEN_END_OPTIONAL:
        g_ptr_array_add(out, text_node(t));
        return 1;
    case TF_EXPR_TOKEN_ALTERNATION:
        token_error(c, t, "An alternation can not be used inside an optional",
                    "If you did not mean to use an alternation you can use '\\/' to escape the "
                    "'/'. Otherwise rephrase your expression or consider using a regular "
                    "expression instead.",
                    error);
        return -1;
    default:
        return 0;
    }
}

/* name := whitespace | . */
static int parse_name(const parse_ctx *c, guint at, GPtrArray *out, GError **error)
{
    const tf_expr_token *t = &c->tokens[at];
    switch (t->type) {
    case TF_EXPR_TOKEN_WHITE_SPACE:
    case TF_EXPR_TOKEN_TEXT:
        g_ptr_array_add(out, text_node(t));
        return 1;
    case TF_EXPR_TOKEN_BEGIN_OPTIONAL:
    case TF_EXPR_TOKEN_END_OPTIONAL:
    case TF_EXPR_TOKEN_BEGIN_PARAMETER:
    case TF_EXPR_TOKEN_END_PARAMETER:
    case TF_EXPR_TOKEN_ALTERNATION:
        token_error(c, t,
                    "Parameter names may not contain '{', '}', '(', ')', '\\' or '/'",
                    "Did you mean to use a regular expression?", error);
        return -1;
    default:
        return 0;
    }
}

/* Runs `parsers` from `at` until one of `ends`; returns tokens consumed or -1. */
static int parse_until(const parse_ctx *c, const parser_fn *parsers, guint n_parsers, guint at,
                       const tf_expr_token_type *ends, guint n_ends, GPtrArray *out,
                       GError **error)
{
    guint current = at;
    while (current < c->n) {
        if (looking_at_any(c, (int)current, ends, n_ends))
            break;
        int consumed = 0;
        for (guint i = 0; i < n_parsers && consumed == 0; i++) {
            consumed = parsers[i](c, current, out, error);
            if (consumed < 0)
                return -1;
        }
        if (consumed == 0) {
            /* Unreachable with the grammar below; kept so a bug cannot loop forever. */
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: no eligible parser at token %u",
                        c->source, current);
            return -1;
        }
        current += (guint)consumed;
    }
    return (int)(current - at);
}

static const char *purpose_of(tf_expr_token_type type)
{
    return type == TF_EXPR_TOKEN_BEGIN_OPTIONAL ? "optional text"
           : type == TF_EXPR_TOKEN_BEGIN_PARAMETER ? "a parameter"
                                                   : "alternation";
}

static const char *symbol_of(tf_expr_token_type type)
{
    switch (type) {
    case TF_EXPR_TOKEN_BEGIN_OPTIONAL: return "(";
    case TF_EXPR_TOKEN_END_OPTIONAL: return ")";
    case TF_EXPR_TOKEN_BEGIN_PARAMETER: return "{";
    case TF_EXPR_TOKEN_END_PARAMETER: return "}";
    case TF_EXPR_TOKEN_ALTERNATION: return "/";
    default: return "";
    }
}

/* BEGIN sub* END, producing one node of `type`. */
static int parse_between(const parse_ctx *c, guint at, tf_expr_node_type type,
                         tf_expr_token_type begin, tf_expr_token_type end,
                         const parser_fn *parsers, guint n_parsers, GPtrArray *out,
                         GError **error)
{
    if (!looking_at(c, (int)at, begin))
        return 0;
    GPtrArray *children = node_list();
    tf_expr_token_type ends[] = {end, TF_EXPR_TOKEN_END_OF_LINE};
    int consumed = parse_until(c, parsers, n_parsers, at + 1, ends, 2, children, error);
    if (consumed < 0) {
        g_ptr_array_unref(children);
        return -1;
    }
    guint sub = at + 1 + (guint)consumed;
    if (!looking_at(c, (int)sub, end)) {
        g_ptr_array_unref(children);
        char *problem = g_strdup_printf("The '%s' does not have a matching '%s'", symbol_of(begin),
                                        symbol_of(end));
        char *solution = g_strdup_printf("If you did not intend to use %s you can use '\\%s' to "
                                         "escape the %s",
                                         purpose_of(begin), symbol_of(begin), purpose_of(begin));
        token_error(c, &c->tokens[at], problem, solution, error);
        g_free(problem);
        g_free(solution);
        return -1;
    }
    g_ptr_array_add(out, tf_expr_node_new(type, c->tokens[at].start, c->tokens[sub].end, NULL,
                                          children));
    return (int)(sub + 1 - at);
}

static int parse_parameter(const parse_ctx *c, guint at, GPtrArray *out, GError **error)
{
    static const parser_fn name_parsers[] = {parse_name};
    return parse_between(c, at, TF_EXPR_NODE_PARAMETER, TF_EXPR_TOKEN_BEGIN_PARAMETER,
                         TF_EXPR_TOKEN_END_PARAMETER, name_parsers, 1, out, error);
}

static int parse_optional(const parse_ctx *c, guint at, GPtrArray *out, GError **error);

/* optional := '(' option* ')' ; option := optional | parameter | text */
static int parse_optional(const parse_ctx *c, guint at, GPtrArray *out, GError **error)
{
    static const parser_fn option_parsers[] = {parse_optional, parse_parameter, parse_text};
    return parse_between(c, at, TF_EXPR_NODE_OPTIONAL, TF_EXPR_TOKEN_BEGIN_OPTIONAL,
                         TF_EXPR_TOKEN_END_OPTIONAL, option_parsers, 3, out, error);
}

/* The '/' between alternatives: kept as a temporary ALTERNATIVE marker node. */
static int parse_alternative_separator(const parse_ctx *c, guint at, GPtrArray *out,
                                       GError **error)
{
    if (!looking_at(c, (int)at, TF_EXPR_TOKEN_ALTERNATION))
        return 0;
    const tf_expr_token *t = &c->tokens[at];
    g_ptr_array_add(out, tf_expr_node_new(TF_EXPR_NODE_ALTERNATIVE, t->start, t->end,
                                          g_strdup(t->text), NULL));
    return 1;
}

/* Groups the flat node list at the '/' markers into ALTERNATIVE nodes. */
static GPtrArray *split_alternatives(guint start, guint end, GPtrArray *flat)
{
    GPtrArray *result = node_list();
    GPtrArray *current = node_list();
    guint left = start;
    for (guint i = 0; i < flat->len; i++) {
        tf_expr_node *n = g_ptr_array_index(flat, i);
        if (n->type == TF_EXPR_NODE_ALTERNATIVE && !n->children) {
            g_ptr_array_add(result,
                            tf_expr_node_new(TF_EXPR_NODE_ALTERNATIVE, left, n->start, NULL, current));
            current = node_list();
            left = n->end;
        } else {
            g_ptr_array_add(current, g_ptr_array_index(flat, i));
            flat->pdata[i] = NULL;
        }
    }
    g_ptr_array_add(result, tf_expr_node_new(TF_EXPR_NODE_ALTERNATIVE, left, end, NULL, current));
    return result;
}

/* alternation := (?<=left-boundary) alternative* ( '/' alternative* )+ (?=right-boundary)
 * left-boundary := whitespace | '}' | ^ ; right-boundary := whitespace | '{' | $ */
static int parse_alternation(const parse_ctx *c, guint at, GPtrArray *out, GError **error)
{
    static const tf_expr_token_type left[] = {TF_EXPR_TOKEN_START_OF_LINE,
                                              TF_EXPR_TOKEN_WHITE_SPACE,
                                              TF_EXPR_TOKEN_END_PARAMETER};
    static const tf_expr_token_type right[] = {TF_EXPR_TOKEN_WHITE_SPACE,
                                               TF_EXPR_TOKEN_END_OF_LINE,
                                               TF_EXPR_TOKEN_BEGIN_PARAMETER};
    static const parser_fn alternative_parsers[] = {parse_alternative_separator, parse_optional,
                                                    parse_parameter, parse_text};
    if (!looking_at_any(c, (int)at - 1, left, 3))
        return 0;
    GPtrArray *flat = g_ptr_array_new_with_free_func((GDestroyNotify)tf_expr_node_free);
    int consumed = parse_until(c, alternative_parsers, 4, at, right, 3, flat, error);
    if (consumed < 0) {
        g_ptr_array_unref(flat);
        return -1;
    }
    gboolean has_separator = FALSE;
    for (guint i = 0; i < flat->len; i++) {
        tf_expr_node *n = g_ptr_array_index(flat, i);
        if (n->type == TF_EXPR_NODE_ALTERNATIVE && !n->children)
            has_separator = TRUE;
    }
    if (!has_separator) {
        g_ptr_array_unref(flat);
        return 0;
    }
    guint start = c->tokens[at].start;
    guint end = c->tokens[at + (guint)consumed].start; /* the boundary is not consumed */
    GPtrArray *alternatives = split_alternatives(start, end, flat);
    g_ptr_array_unref(flat);
    g_ptr_array_add(out, tf_expr_node_new(TF_EXPR_NODE_ALTERNATION, start, end, NULL,
                                          alternatives));
    return consumed;
}

tf_expr_node *tf_expression_parse(const char *source, GError **error)
{
    static const parser_fn top_parsers[] = {parse_alternation, parse_optional, parse_parameter,
                                            parse_text};
    GArray *tokens = tf_expression_tokenize(source, error);
    if (!tokens)
        return NULL;
    parse_ctx c = {source, (const tf_expr_token *)tokens->data, tokens->len};
    GPtrArray *out = node_list();
    int consumed = parse_between(&c, 0, TF_EXPR_NODE_EXPRESSION, TF_EXPR_TOKEN_START_OF_LINE,
                                 TF_EXPR_TOKEN_END_OF_LINE, top_parsers, 4, out, error);
    g_array_unref(tokens);
    if (consumed < 0) {
        g_ptr_array_unref(out);
        return NULL;
    }
    tf_expr_node *root = g_ptr_array_steal_index(out, 0);
    g_ptr_array_unref(out);
    return root;
}
