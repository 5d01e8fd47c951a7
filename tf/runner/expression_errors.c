/* expression_errors.c: the official Cucumber Expression error layout.
 * Users compare these messages with other Cucumber implementations (and the conformance
 * data checks them byte for byte), so the wording and the pointer line are kept exact. */
#include "expression_priv.h"

#include "tf/error.h"

void tf_expr_set_error(GError **error, const char *expression, guint index,
                       const char *pointer, const char *problem, const char *solution)
{
    g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                "This Cucumber Expression has a problem at column %u:\n\n%s\n%s\n%s.\n%s",
                index + 1, expression, pointer, problem, solution);
}

char *tf_expr_point_at(guint index)
{
    GString *s = g_string_sized_new(index + 2);
    for (guint i = 0; i < index; i++)
        g_string_append_c(s, ' ');
    g_string_append_c(s, '^');
    return g_string_free(s, FALSE);
}

char *tf_expr_point_at_node(const tf_expr_node *node)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < node->start; i++)
        g_string_append_c(s, ' ');
    g_string_append_c(s, '^');
    if (node->start + 1 < node->end) {
        for (guint i = node->start + 1; i < node->end - 1; i++)
            g_string_append_c(s, '-');
        g_string_append_c(s, '^');
    }
    return g_string_free(s, FALSE);
}
