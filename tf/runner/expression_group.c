/* expression_group.c: the nesting of a regex's capturing groups (Cucumber's TreeRegexp).
 * Top-level groups become arguments and the groups nested in them become the strings a
 * transformer receives, so the tree is read off the pattern once at compile time. */
#include "expression_priv.h"

#include <string.h>

void tf_regex_group_free(tf_regex_group *group)
{
    if (!group)
        return;
    g_ptr_array_unref(group->children);
    g_free(group->source);
    g_free(group);
}

static tf_regex_group *group_new(int index)
{
    tf_regex_group *g = g_new0(tf_regex_group, 1);
    g->index = index;
    g->children = g_ptr_array_new_with_free_func((GDestroyNotify)tf_regex_group_free);
    return g;
}

/* Whether the group opening at p[0] == '(' captures, in PCRE's terms. */
static gboolean is_capturing(const char *p)
{
    if (p[1] == '*')
        return FALSE; /* (*VERB) */
    if (p[1] != '?')
        return TRUE;
    if (p[2] == '<')
        return p[3] != '=' && p[3] != '!'; /* (?<name>...) vs look-behind */
    if (p[2] == 'P')
        return p[3] == '<'; /* (?P<name>...) vs (?P=name) (?P>name) */
    return p[2] == '\'';    /* (?'name'...) */
}

tf_regex_group *tf_regex_group_tree(const char *pattern)
{
    GPtrArray *stack = g_ptr_array_new(); /* tf_regex_group*, NULL-index for non-capturing */
    GArray *starts = g_array_new(FALSE, FALSE, sizeof(gsize));
    g_ptr_array_add(stack, group_new(0));
    int next_index = 1;
    gboolean in_class = FALSE;

    for (gsize i = 0; pattern[i]; i++) {
        const char *p = pattern + i;
        if (p[0] == '\\') {
            if (p[1] == 'Q') { /* \Q...\E quotes everything up to \E */
                const char *e = strstr(p + 2, "\\E");
                i = e ? (gsize)(e - pattern) + 1 : strlen(pattern) - 1;
            } else if (p[1]) {
                i++;
            }
            continue;
        }
        if (in_class) {
            if (p[0] == '[' && p[1] == ':') { /* [:alpha:] inside a class */
                const char *e = strstr(p + 2, ":]");
                if (e)
                    i = (gsize)(e - pattern) + 1;
            } else if (p[0] == ']') {
                in_class = FALSE;
            }
            continue;
        }
        if (p[0] == '[') {
            in_class = TRUE;
            /* A ']' right after '[' or '[^' is a literal in PCRE. */
            if (p[1] == '^')
                i++;
            if (pattern[i + 1] == ']')
                i++;
            continue;
        }
        if (p[0] == '(') {
            if (p[1] == '?' && p[2] == '#') { /* (?#comment) */
                const char *e = strchr(p, ')');
                i = e ? (gsize)(e - pattern) : strlen(pattern) - 1;
                continue;
            }
            tf_regex_group *g = group_new(is_capturing(p) ? next_index++ : -1);
            g_ptr_array_add(stack, g);
            g_array_append_val(starts, i);
            continue;
        }
        if (p[0] == ')' && stack->len > 1) {
            tf_regex_group *g = g_ptr_array_steal_index(stack, stack->len - 1);
            gsize start = g_array_index(starts, gsize, starts->len - 1);
            g_array_set_size(starts, starts->len - 1);
            tf_regex_group *parent = g_ptr_array_index(stack, stack->len - 1);
            if (g->index >= 0) {
                g->source = g_strndup(pattern + start + 1, i - start - 1);
                g_ptr_array_add(parent->children, g);
            } else {
                /* A non-capturing group's capturing children belong to its parent. */
                for (guint k = 0; k < g->children->len; k++)
                    g_ptr_array_add(parent->children, g->children->pdata[k]);
                g_ptr_array_set_free_func(g->children, NULL);
                g_ptr_array_set_size(g->children, 0);
                g_ptr_array_set_free_func(g->children, (GDestroyNotify)tf_regex_group_free);
                tf_regex_group_free(g);
            }
        }
    }
    /* An unbalanced pattern never reaches here (GRegex rejected it); be safe anyway. */
    while (stack->len > 1)
        tf_regex_group_free(g_ptr_array_steal_index(stack, stack->len - 1));
    tf_regex_group *root = g_ptr_array_index(stack, 0);
    root->source = g_strdup(pattern);
    g_ptr_array_unref(stack);
    g_array_unref(starts);
    return root;
}
