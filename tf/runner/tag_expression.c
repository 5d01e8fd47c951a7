/* tag_expression.c: Cucumber tag expressions — tokenizer, shunting-yard parser into a
 * small boolean tree, evaluation against a tag list, and the canonical to-string.
 * Mirrors cucumber/tag-expressions so `--tags` behaves and fails like every Cucumber. */
#include "tf/tags.h"

#include "tf/error.h"

#include <string.h>

typedef enum { NODE_TRUE, NODE_LITERAL, NODE_NOT, NODE_AND, NODE_OR } node_kind;

typedef struct node {
    node_kind kind;
    char *value; /* NODE_LITERAL */
    struct node *left, *right; /* NOT uses left only */
} node;

struct tf_tag_expression {
    node *root;
};

static void node_free(node *n)
{
    if (!n)
        return;
    node_free(n->left);
    node_free(n->right);
    g_free(n->value);
    g_free(n);
}

static node *node_new(node_kind kind, char *value, node *left, node *right)
{
    node *n = g_new0(node, 1);
    n->kind = kind;
    n->value = value;
    n->left = left;
    n->right = right;
    return n;
}

/* ---- tokens ---------------------------------------------------------------------------- */

typedef enum { TOK_LITERAL, TOK_AND, TOK_OR, TOK_NOT, TOK_OPEN, TOK_CLOSE } tok_kind;

typedef struct {
    tok_kind kind;
    char *text;
} token;

static void token_clear(gpointer p)
{
    g_free(((token *)p)->text);
}

static void syntax_error(GError **error, const char *infix, const char *what)
{
    g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                "Tag expression \"%s\" could not be parsed because of syntax error: %s", infix,
                what);
}

/* Ends the current word: an operator keyword unless any of it was escaped. */
static void push_word(GArray *tokens, GString *word, gboolean *has_escape)
{
    if (word->len == 0)
        return;
    token t = {TOK_LITERAL, g_strdup(word->str)};
    if (!*has_escape)
        t.kind = !strcmp(t.text, "and")  ? TOK_AND
                 : !strcmp(t.text, "or") ? TOK_OR
                 : !strcmp(t.text, "not") ? TOK_NOT
                                          : TOK_LITERAL;
    g_array_append_val(tokens, t);
    g_string_truncate(word, 0);
    *has_escape = FALSE;
}

static const char COMMA_ERROR[] =
    "An invalid tag combination operator was detected. The use of a comma (\",\") to combine "
    "tags is not supported. Please replace it with either the \"or\" or \"and\" operators for "
    "tag combinations. For example, use \"@tag1 or @tag2\" or \"@tag1 and @tag2\"";

static GArray *tokenize(const char *infix, GError **error)
{
    GArray *tokens = g_array_new(FALSE, FALSE, sizeof(token));
    g_array_set_clear_func(tokens, token_clear);
    GString *word = g_string_new(NULL);
    /* A word holding an escape stays a literal: "\(" alone is a tag, not a parenthesis. */
    gboolean escaped = FALSE, word_has_escape = FALSE;
    for (const char *p = infix; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (escaped) {
            if (c == '(' || c == ')' || c == '\\' || g_unichar_isspace(c)) {
                g_string_append_unichar(word, c);
                escaped = FALSE;
                word_has_escape = TRUE;
                continue;
            }
            char buf[8] = {0};
            g_unichar_to_utf8(c, buf);
            char *what = g_strdup_printf("Illegal escape before \"%s\".", buf);
            syntax_error(error, infix, what);
            g_free(what);
            goto fail;
        }
        if (c == '\\') {
            escaped = TRUE;
        } else if (c == ',') { /* Cucumber 1.x's "@a,@b" meant "or"; refuse it loudly */
            syntax_error(error, infix, COMMA_ERROR);
            goto fail;
        } else if (c == '(' || c == ')' || g_unichar_isspace(c)) {
            push_word(tokens, word, &word_has_escape);
            if (c == '(' || c == ')') {
                token t = {c == '(' ? TOK_OPEN : TOK_CLOSE, g_strdup(c == '(' ? "(" : ")")};
                g_array_append_val(tokens, t);
            }
        } else {
            g_string_append_unichar(word, c);
        }
    }
    if (escaped) {
        syntax_error(error, infix, "Illegal escape at end of expression.");
        goto fail;
    }
    push_word(tokens, word, &word_has_escape);
    g_string_free(word, TRUE);
    return tokens;
fail:
    g_string_free(word, TRUE);
    g_array_unref(tokens);
    return NULL;
}

/* ---- parser (Dijkstra's shunting yard) --------------------------------------------- */

static int precedence(tok_kind k)
{
    switch (k) {
    case TOK_OPEN: return -2;
    case TOK_CLOSE: return -1;
    case TOK_OR: return 0;
    case TOK_AND: return 1;
    case TOK_NOT: return 2;
    default: return -3;
    }
}

static gboolean is_operator(tok_kind k)
{
    return k == TOK_OR || k == TOK_AND || k == TOK_NOT;
}

/* Applies operator `op` to the expression stack. Cannot underflow: the expected-token
 * checks guarantee every operator has its operands. */
static void apply(tok_kind op, GPtrArray *exprs)
{
    if (op == TOK_NOT) {
        node *operand = g_ptr_array_steal_index(exprs, exprs->len - 1);
        g_ptr_array_add(exprs, node_new(NODE_NOT, NULL, operand, NULL));
        return;
    }
    node *right = g_ptr_array_steal_index(exprs, exprs->len - 1);
    node *left = g_ptr_array_steal_index(exprs, exprs->len - 1);
    g_ptr_array_add(exprs, node_new(op == TOK_AND ? NODE_AND : NODE_OR, NULL, left, right));
}

tf_tag_expression *tf_tag_expression_parse(const char *infix, GError **error)
{
    GArray *tokens = tokenize(infix, error);
    if (!tokens)
        return NULL;
    tf_tag_expression *expr = g_new0(tf_tag_expression, 1);
    if (tokens->len == 0) {
        g_array_unref(tokens);
        expr->root = node_new(NODE_TRUE, NULL, NULL, NULL);
        return expr;
    }
    GPtrArray *exprs = g_ptr_array_new_with_free_func((GDestroyNotify)node_free);
    GArray *ops = g_array_new(FALSE, FALSE, sizeof(tok_kind));
    gboolean expect_operand = TRUE;
    const char *problem = NULL;
#define TOP_OP (g_array_index(ops, tok_kind, ops->len - 1))
#define POP_OP() g_array_set_size(ops, ops->len - 1)

    for (guint i = 0; i < tokens->len && !problem; i++) {
        token *t = &g_array_index(tokens, token, i);
        switch (t->kind) {
        case TOK_NOT:
        case TOK_OPEN:
            if (!expect_operand) {
                problem = "Expected operator.";
                break;
            }
            g_array_append_val(ops, t->kind);
            break;
        case TOK_AND:
        case TOK_OR:
            if (expect_operand) {
                problem = "Expected operand.";
                break;
            }
            /* Both binary operators are left-associative. */
            while (ops->len && is_operator(TOP_OP) && precedence(t->kind) <= precedence(TOP_OP)) {
                apply(TOP_OP, exprs);
                POP_OP();
            }
            g_array_append_val(ops, t->kind);
            expect_operand = TRUE;
            break;
        case TOK_CLOSE:
            if (expect_operand) {
                problem = "Expected operand.";
                break;
            }
            while (ops->len && TOP_OP != TOK_OPEN) {
                apply(TOP_OP, exprs);
                POP_OP();
            }
            if (!ops->len) {
                problem = "Unmatched ).";
                break;
            }
            POP_OP();
            break;
        case TOK_LITERAL:
            if (!expect_operand) {
                problem = "Expected operator.";
                break;
            }
            g_ptr_array_add(exprs, node_new(NODE_LITERAL, g_strdup(t->text), NULL, NULL));
            expect_operand = FALSE;
            break;
        }
    }
    if (!problem && expect_operand)
        problem = "Expected operand."; /* "a or", "not": an operator lacks its operand */
    while (!problem && ops->len) {
        if (TOP_OP == TOK_OPEN) {
            problem = "Unmatched (.";
            break;
        }
        apply(TOP_OP, exprs);
        POP_OP();
    }
#undef TOP_OP
#undef POP_OP
    g_array_unref(tokens);
    g_array_unref(ops);
    if (problem) {
        syntax_error(error, infix, problem);
        g_ptr_array_unref(exprs);
        g_free(expr);
        return NULL;
    }
    g_assert(exprs->len == 1);
    expr->root = g_ptr_array_steal_index(exprs, 0);
    g_ptr_array_unref(exprs);
    return expr;
}

void tf_tag_expression_free(tf_tag_expression *expr)
{
    if (!expr)
        return;
    node_free(expr->root);
    g_free(expr);
}

/* ---- evaluation and text --------------------------------------------------------------- */

static gboolean eval(const node *n, const char *const *tags, gsize n_tags)
{
    switch (n->kind) {
    case NODE_TRUE: return TRUE;
    case NODE_NOT: return !eval(n->left, tags, n_tags);
    case NODE_AND: return eval(n->left, tags, n_tags) && eval(n->right, tags, n_tags);
    case NODE_OR: return eval(n->left, tags, n_tags) || eval(n->right, tags, n_tags);
    case NODE_LITERAL:
        for (gsize i = 0; i < n_tags; i++)
            if (tags[i] && !strcmp(tags[i], n->value))
                return TRUE;
        return FALSE;
    }
    return FALSE;
}

gboolean tf_tag_expression_evaluate(const tf_tag_expression *expr, const char *const *tags,
                                    gssize n_tags)
{
    gsize n = 0;
    if (n_tags >= 0)
        n = (gsize)n_tags;
    else
        while (tags && tags[n])
            n++;
    return eval(expr->root, tags, n);
}

static void to_string(const node *n, GString *out)
{
    switch (n->kind) {
    case NODE_TRUE:
        g_string_append(out, "true");
        return;
    case NODE_LITERAL:
        for (const char *p = n->value; *p; p = g_utf8_next_char(p)) {
            gunichar c = g_utf8_get_char(p);
            if (c == '\\' || c == '(' || c == ')') {
                g_string_append_c(out, '\\');
                g_string_append_unichar(out, c);
            } else if (g_unichar_isspace(c)) {
                g_string_append(out, "\\ ");
            } else {
                g_string_append_unichar(out, c);
            }
        }
        return;
    case NODE_NOT:
        /* A binary operand already brings its own parentheses. */
        if (n->left->kind == NODE_AND || n->left->kind == NODE_OR) {
            g_string_append(out, "not ");
            to_string(n->left, out);
        } else {
            g_string_append(out, "not ( ");
            to_string(n->left, out);
            g_string_append(out, " )");
        }
        return;
    case NODE_AND:
    case NODE_OR:
        g_string_append(out, "( ");
        to_string(n->left, out);
        g_string_append(out, n->kind == NODE_AND ? " and " : " or ");
        to_string(n->right, out);
        g_string_append(out, " )");
        return;
    }
}

char *tf_tag_expression_to_string(const tf_tag_expression *expr)
{
    GString *out = g_string_new(NULL);
    to_string(expr->root, out);
    return g_string_free(out, FALSE);
}
