/* expression.h: step patterns — Cucumber Expressions and regular expressions — with
 * typed parameter types, argument matching and snippet generation.
 * Compile a pattern once (to one GRegex), then match it against many step texts from
 * any thread; behaviour and error messages follow the official cucumber-expressions. */
#ifndef TF_EXPRESSION_H
#define TF_EXPRESSION_H

#include <glib.h>
#include "tf/api.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------------------------
 * Arguments: one per parameter (Cucumber Expression) or capture group (regex).
 * --------------------------------------------------------------------------------- */

/* What a tf_arg holds after its parameter type transformed the matched text. */
typedef enum {
    TF_ARG_NULL,   /* nothing: the capture group did not take part in the match */
    TF_ARG_INT,    /* gint64: {int} {long} {short} {byte} */
    TF_ARG_DOUBLE, /* double: {float} {double} */
    TF_ARG_STRING, /* UTF-8 string: {string} {word} {} {bigdecimal} {biginteger}, regex groups */
    TF_ARG_CUSTOM, /* a pointer made by a custom transformer, freed with its own function */
} tf_arg_kind;

/* One matched argument (opaque). Owned by the GPtrArray tf_expression_match returns. */
typedef struct tf_arg tf_arg;

/* Frees an argument and its value (custom values with their free function). NULL-safe. */
TF_API void tf_arg_free(tf_arg *arg);
/* The kind of value the argument holds. */
TF_API tf_arg_kind tf_arg_kind_of(const tf_arg *arg);
/* The integer value (0 unless the kind is TF_ARG_INT). */
TF_API gint64 tf_arg_int(const tf_arg *arg);
/* The floating-point value (0 unless the kind is TF_ARG_DOUBLE). */
TF_API double tf_arg_double(const tf_arg *arg);
/* The string value, owned by the argument (NULL unless the kind is TF_ARG_STRING). */
TF_API const char *tf_arg_string(const tf_arg *arg);
/* The custom value, owned by the argument (NULL unless the kind is TF_ARG_CUSTOM). */
TF_API void *tf_arg_custom(const tf_arg *arg);
/* The matched substring before transformation, owned by the argument (NULL when the
 * group did not take part in the match). */
TF_API const char *tf_arg_text(const tf_arg *arg);
/* Byte offset of the matched substring in the step text, -1 when it did not take part. */
TF_API gssize tf_arg_start(const tf_arg *arg);
/* Name of the parameter type that produced the value ("int", "" for {}), NULL for a
 * regex capture group no parameter type claimed. Owned by the registry. */
TF_API const char *tf_arg_param_type(const tf_arg *arg);

/* Setters for transformers: each replaces the value the argument held before. */
TF_API void tf_arg_set_null(tf_arg *arg);
/* Stores an integer value. */
TF_API void tf_arg_set_int(tf_arg *arg, gint64 value);
/* Stores a floating-point value. */
TF_API void tf_arg_set_double(tf_arg *arg, double value);
/* Stores a copy of `value` (NULL stores TF_ARG_NULL). */
TF_API void tf_arg_set_string(tf_arg *arg, const char *value);
/* Stores `value`, taking ownership of it (g_free'd with the argument). */
TF_API void tf_arg_take_string(tf_arg *arg, char *value);
/* Stores a custom pointer; the argument owns it and calls `free_fn` (may be NULL). */
TF_API void tf_arg_set_custom(tf_arg *arg, void *value, GDestroyNotify free_fn);

/* ---------------------------------------------------------------------------------
 * Parameter types and their registry.
 * --------------------------------------------------------------------------------- */

/* A parameter type (opaque, owned by its registry, immutable once defined). */
typedef struct tf_param_type tf_param_type;
/* A set of parameter types by name and by regexp (opaque, refcounted). Define all types
 * before compiling expressions that use them; matching may then run on many threads. */
typedef struct tf_param_registry tf_param_registry;

/* Turns the capture groups of one parameter into `out`'s value. `groups` holds one string
 * per capturing group of the type's regexp, or the whole match when it has none; an entry
 * is NULL when its group did not take part. Return FALSE with `error` set to fail the match. */
typedef gboolean (*tf_param_transform_fn)(const char *const *groups, guint n_groups,
                                          tf_arg *out, void *user_data, GError **error);

/* Flags of a parameter type, as Cucumber's useForSnippets / preferForRegexpMatch. */
typedef enum {
    TF_PARAM_USE_FOR_SNIPPETS = 1 << 0,       /* offer it when generating snippets */
    TF_PARAM_PREFER_FOR_REGEXP_MATCH = 1 << 1, /* wins when several types share a regexp */
} tf_param_flags;

/* A new registry holding the built-in types int, float, word, string, {} (anonymous),
 * bigdecimal, biginteger, byte, short, long and double. Caller owns the reference. */
TF_API tf_param_registry *tf_param_registry_new(void);
/* Takes a reference; returns `reg`. */
TF_API tf_param_registry *tf_param_registry_ref(tf_param_registry *reg);
/* Drops a reference; the last one frees the registry and its types. NULL-safe. */
TF_API void tf_param_registry_unref(tf_param_registry *reg);
/* Defines a custom parameter type `name` matching any of the NULL-terminated `regexps`
 * (PCRE syntax). `transform` may be NULL (the value is then the whole match, a string);
 * `data` is passed to it and freed with `data_free` when the registry goes. Fails on a
 * bad or duplicate name, a regexp that does not compile, or a second preferential type
 * for one regexp. Returns the type (owned by the registry) or NULL. */
TF_API const tf_param_type *tf_param_registry_define(tf_param_registry *reg, const char *name,
                                                     const char *const *regexps,
                                                     tf_param_transform_fn transform, void *data,
                                                     GDestroyNotify data_free, tf_param_flags flags,
                                                     GError **error);
/* The type called `name` ("" is the anonymous type), or NULL. Owned by the registry. */
TF_API const tf_param_type *tf_param_registry_lookup(const tf_param_registry *reg,
                                                     const char *name);
/* Every type in definition order, built-ins first: a new array the caller frees, whose
 * elements are borrowed from the registry. */
TF_API GPtrArray *tf_param_registry_list(const tf_param_registry *reg);

/* The type's name ("" for the anonymous type); owned by the type. */
TF_API const char *tf_param_type_name(const tf_param_type *type);
/* The type's regexps, NULL-terminated; owned by the type. */
TF_API const char *const *tf_param_type_regexps(const tf_param_type *type);
/* The type's flags. */
TF_API tf_param_flags tf_param_type_flags(const tf_param_type *type);
/* TRUE for the types every registry starts with. */
TF_API gboolean tf_param_type_is_builtin(const tf_param_type *type);

/* ---------------------------------------------------------------------------------
 * Expressions: compile once, match many times.
 * --------------------------------------------------------------------------------- */

/* A compiled step pattern (opaque, immutable, safe to match from several threads). */
typedef struct tf_expression tf_expression;

/* Compiles a Cucumber Expression against `reg` (which it keeps a reference to). Errors
 * carry the official multi-line message ("This Cucumber Expression has a problem at
 * column N: ..."). Caller owns the result; NULL on error. */
TF_API tf_expression *tf_expression_new_cucumber(tf_param_registry *reg, const char *source,
                                                 GError **error);
/* Compiles a regular expression step pattern (PCRE; `$` matches only at the very end).
 * Each top-level capture group becomes an argument, transformed by the parameter type
 * whose regexp is exactly the group's source. Caller owns the result; NULL on error. */
TF_API tf_expression *tf_expression_new_regex(tf_param_registry *reg, const char *pattern,
                                              GError **error);
/* Compiles `source` as a regular expression when it starts with '^' or ends with '$',
 * or is wrapped in '/'...'/', and as a Cucumber Expression otherwise (as cucumber-jvm). */
TF_API tf_expression *tf_expression_new(tf_param_registry *reg, const char *source, GError **error);
/* Frees an expression. NULL-safe. */
TF_API void tf_expression_free(tf_expression *expr);
/* The source the expression was compiled from; owned by the expression. */
TF_API const char *tf_expression_source(const tf_expression *expr);
/* The regular expression it compiled to ("^...$" for a Cucumber Expression). */
TF_API const char *tf_expression_regex(const tf_expression *expr);
/* TRUE for a regular expression, FALSE for a Cucumber Expression. */
TF_API gboolean tf_expression_is_regex(const tf_expression *expr);
/* How many arguments a match yields. */
TF_API guint tf_expression_n_params(const tf_expression *expr);
/* The parameter type of argument `i` (NULL for an unclaimed regex group). */
TF_API const tf_param_type *tf_expression_param(const tf_expression *expr, guint i);
/* Matches the whole of `text`. Returns TRUE on a match and, if `args` is not NULL, stores a
 * new GPtrArray of tf_arg (caller frees it with g_ptr_array_unref). Returns FALSE with
 * `*args` untouched when the text does not match (error unset) or when a transformer or an
 * ambiguous regexp parameter failed (error set). Pass args=NULL for a fast yes/no. */
TF_API gboolean tf_expression_match(const tf_expression *expr, const char *text, GPtrArray **args,
                                    GError **error);

/* ---------------------------------------------------------------------------------
 * Snippets: Cucumber Expressions generated from an undefined step's text.
 * --------------------------------------------------------------------------------- */

/* One generated expression with its parameter types (opaque). */
typedef struct tf_generated_expression tf_generated_expression;

/* Generates Cucumber Expressions for `text`, best first ("I have 42 cukes" gives
 * "I have {int} cukes" then "I have {float} cukes"), using the types flagged
 * TF_PARAM_USE_FOR_SNIPPETS; at most 256, at least one. Caller owns the array, which
 * frees its elements. */
TF_API GPtrArray *tf_expression_generate(const tf_param_registry *reg, const char *text);
/* The generated Cucumber Expression; owned by `gen`. */
TF_API const char *tf_generated_expression_source(const tf_generated_expression *gen);
/* How many parameters it has. */
TF_API guint tf_generated_expression_n_params(const tf_generated_expression *gen);
/* The type of parameter `i`; owned by the registry. */
TF_API const tf_param_type *tf_generated_expression_param(const tf_generated_expression *gen,
                                                          guint i);
/* A variable name for parameter `i`: the type name, numbered on repeats ("int", "int2");
 * "arg" for the anonymous type. Owned by `gen`. */
TF_API const char *tf_generated_expression_param_name(const tf_generated_expression *gen, guint i);

/* ---------------------------------------------------------------------------------
 * Syntax trees, for tools and conformance tests: tokens and AST of a Cucumber Expression.
 * Positions count Unicode code points from 0.
 * --------------------------------------------------------------------------------- */

/* Token types, named as the official implementation names them. */
typedef enum {
    TF_EXPR_TOKEN_START_OF_LINE,
    TF_EXPR_TOKEN_END_OF_LINE,
    TF_EXPR_TOKEN_WHITE_SPACE,
    TF_EXPR_TOKEN_BEGIN_OPTIONAL,
    TF_EXPR_TOKEN_END_OPTIONAL,
    TF_EXPR_TOKEN_BEGIN_PARAMETER,
    TF_EXPR_TOKEN_END_PARAMETER,
    TF_EXPR_TOKEN_ALTERNATION,
    TF_EXPR_TOKEN_TEXT,
} tf_expr_token_type;

/* One token: a plain read-only value record (text owned by the array holding it). */
typedef struct {
    tf_expr_token_type type;
    guint start; /* first code point */
    guint end;   /* one past the last code point, escapes included */
    char *text;  /* the token's text with escapes removed */
} tf_expr_token;

/* The official name of a token type ("START_OF_LINE", ...); static. */
TF_API const char *tf_expr_token_type_name(tf_expr_token_type type);
/* Tokenizes a Cucumber Expression: a new GArray of tf_expr_token (it frees the texts),
 * or NULL with `error` set. */
TF_API GArray *tf_expression_tokenize(const char *source, GError **error);

/* AST node types, named as the official implementation names them. */
typedef enum {
    TF_EXPR_NODE_TEXT,
    TF_EXPR_NODE_OPTIONAL,
    TF_EXPR_NODE_ALTERNATION,
    TF_EXPR_NODE_ALTERNATIVE,
    TF_EXPR_NODE_PARAMETER,
    TF_EXPR_NODE_EXPRESSION,
} tf_expr_node_type;

/* An AST node (opaque); a tree is owned by its root. */
typedef struct tf_expr_node tf_expr_node;

/* The official name of a node type ("TEXT_NODE", ...); static. */
TF_API const char *tf_expr_node_type_name(tf_expr_node_type type);
/* Parses a Cucumber Expression into its AST (an EXPRESSION node). Caller frees it with
 * tf_expr_node_free; NULL with `error` set on a syntax error. */
TF_API tf_expr_node *tf_expression_parse(const char *source, GError **error);
/* Frees a node and its children. NULL-safe. */
TF_API void tf_expr_node_free(tf_expr_node *node);
/* The node's type. */
TF_API tf_expr_node_type tf_expr_node_type_of(const tf_expr_node *node);
/* First code point covered by the node. */
TF_API guint tf_expr_node_start(const tf_expr_node *node);
/* One past the last code point covered by the node. */
TF_API guint tf_expr_node_end(const tf_expr_node *node);
/* A TEXT node's text (NULL for other nodes); owned by the node. */
TF_API const char *tf_expr_node_token(const tf_expr_node *node);
/* Number of children (0 for TEXT nodes). */
TF_API guint tf_expr_node_n_children(const tf_expr_node *node);
/* Child `i`; owned by `node`. */
TF_API const tf_expr_node *tf_expr_node_child(const tf_expr_node *node, guint i);

G_END_DECLS

#endif
