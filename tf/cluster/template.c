/* template.c: "{var}" expansion for cluster spec strings.
 * Every argv element, URL and attribute of a spec is a template over per-node
 * variables; an unknown name is an error listing the known ones, so a typo in a spec
 * fails at load time instead of starting a node with a literal "{port.clinet}". */
#include <string.h>
#include "tf/error.h"
#include "cluster_priv.h"

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gchar *known_names(GHashTable *vars)
{
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, vars);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, cmp_str);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < keys->len; i++)
        g_string_append_printf(s, "%s{%s}", i ? ", " : "", (const char *)keys->pdata[i]);
    g_ptr_array_free(keys, TRUE);
    return g_string_free(s, FALSE);
}

gchar *tf_cluster_tmpl_expand(const char *tmpl, GHashTable *vars, GError **error)
{
    GString *out = g_string_new(NULL);
    const char *p = tmpl;
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            g_string_append_c(out, '{');
            p += 2;
        } else if (p[0] == '}' && p[1] == '}') {
            g_string_append_c(out, '}');
            p += 2;
        } else if (p[0] == '}') {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                        "unmatched '}' at offset %d (write '}}' for a brace)", (int)(p - tmpl));
            g_string_free(out, TRUE);
            return NULL;
        } else if (p[0] == '{') {
            const char *end = strchr(p + 1, '}');
            if (!end) {
                g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                            "unterminated '{' at offset %d (write '{{' for a brace)",
                            (int)(p - tmpl));
                g_string_free(out, TRUE);
                return NULL;
            }
            gchar *name = g_strndup(p + 1, (gsize)(end - p - 1));
            const char *val = g_hash_table_lookup(vars, name);
            if (!val) {
                gchar *known = known_names(vars);
                g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "unknown variable {%s} (known: %s)",
                            name, known);
                g_free(known);
                g_free(name);
                g_string_free(out, TRUE);
                return NULL;
            }
            g_string_append(out, val);
            g_free(name);
            p = end + 1;
        } else {
            g_string_append_c(out, *p++);
        }
    }
    return g_string_free(out, FALSE);
}
