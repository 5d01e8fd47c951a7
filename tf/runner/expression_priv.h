/* expression_priv.h: what the expression_*.c files share and nobody else needs —
 * the AST node and parameter-type structs, the official error-message builders, and the
 * capture-group tree that maps regex groups to arguments. */
#ifndef TF_EXPRESSION_PRIV_H
#define TF_EXPRESSION_PRIV_H

#include "tf/expression.h"

struct tf_expr_node {
    tf_expr_node_type type;
    guint start, end; /* code points */
    char *token;      /* TEXT nodes only */
    GPtrArray *children; /* of tf_expr_node*, owning; NULL for TEXT nodes */
};

/* A new node; takes ownership of `token` and `children` (either may be NULL). */
tf_expr_node *tf_expr_node_new(tf_expr_node_type type, guint start, guint end, char *token,
                               GPtrArray *children);
/* The node's text: its token, or its children's texts joined (a parameter's name). */
char *tf_expr_node_text(const tf_expr_node *node);

struct tf_param_type {
    char *name;
    char **regexps; /* NULL-terminated */
    tf_param_transform_fn transform;
    void *data;
    GDestroyNotify data_free;
    tf_param_flags flags;
    gboolean builtin;
    GRegex **snippet_regexes; /* "(regexp)" per regexp, for snippet generation */
};

/* Types sharing exactly the regexp source `regexp`, preferential first, or NULL. */
GPtrArray *tf_param_registry_by_regexp(const tf_param_registry *reg, const char *regexp);

/* A new argument holding nothing yet. */
tf_arg *tf_arg_new(const tf_param_type *type, char *text, gssize start);

/* Sets the official error message:
 * "This Cucumber Expression has a problem at column N:\n\nEXPR\nPOINTER\nPROBLEM.\nSOLUTION". */
void tf_expr_set_error(GError **error, const char *expression, guint index,
                       const char *pointer, const char *problem, const char *solution);
/* A pointer line with '^' under code point `index`. */
char *tf_expr_point_at(guint index);
/* A pointer line spanning a node: "^" or "^---^". */
char *tf_expr_point_at_node(const tf_expr_node *node);

/* One capturing group of a regex, as the official TreeRegexp sees it. */
typedef struct tf_regex_group {
    int index;          /* PCRE group number (0 for the root) */
    char *source;       /* the group's pattern between its parentheses */
    GPtrArray *children; /* capturing groups nested directly inside (tf_regex_group*) */
} tf_regex_group;

/* The tree of capturing groups of `pattern`; the root stands for the whole match. */
tf_regex_group *tf_regex_group_tree(const char *pattern);
/* Frees a group tree. */
void tf_regex_group_free(tf_regex_group *group);

#endif
