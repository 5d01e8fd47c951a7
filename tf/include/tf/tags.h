/* tags.h: Cucumber tag expressions ("@smoke and not (@slow or @wip)") for `--tags` and
 * tag-filtered hooks: parse once, evaluate against each pickle's tags. Syntax, canonical
 * text and error messages follow the official cucumber/tag-expressions. */
#ifndef TF_TAGS_H
#define TF_TAGS_H

#include <glib.h>
#include "tf/api.h"

G_BEGIN_DECLS

/* A parsed tag expression (opaque, immutable, safe to evaluate from several threads). */
typedef struct tf_tag_expression tf_tag_expression;

/* Parses `infix`: tags, `not`, `and`, `or` (that precedence, `and`/`or` left-associative),
 * parentheses, and the escapes "\(" "\)" "\\" "\ " inside tags. An empty or all-blank
 * expression matches everything. Errors (TF_ERROR_PARSE) carry the official message, e.g.
 * 'Tag expression "a or" could not be parsed because of syntax error: Expected operand.'
 * Caller owns the result; NULL on error. */
TF_API tf_tag_expression *tf_tag_expression_parse(const char *infix, GError **error);
/* Frees an expression. NULL-safe. */
TF_API void tf_tag_expression_free(tf_tag_expression *expr);
/* TRUE when the tags (exact names with their '@'; `n_tags` of them, or NULL-terminated
 * when `n_tags` is -1) satisfy the expression. Reads only; the caller keeps the tags. */
TF_API gboolean tf_tag_expression_evaluate(const tf_tag_expression *expr, const char *const *tags,
                                           gssize n_tags);
/* The canonical, fully parenthesised text ("( @a and not ( @b ) )"; "true" when empty),
 * which parses back to the same expression. Caller frees it with g_free. */
TF_API char *tf_tag_expression_to_string(const tf_tag_expression *expr);

G_END_DECLS

#endif
