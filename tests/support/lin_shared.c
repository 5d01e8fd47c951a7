/* lin_shared.c: reads the verdicts.tsv of a ../shared/linearizability folder and checks
 * that it and the folder's histories match one to one, so a count can be exact. */
#include <string.h>
#include "lin_shared.h"

char *lin_shared_root(void)
{
    const char *env = g_getenv("TF_SHARED_DIR");
    return env && *env ? g_build_filename(env, "linearizability", NULL)
                       : g_build_filename(TF_SOURCE_DIR, "..", "shared", "linearizability", NULL);
}

static void case_free(void *p)
{
    lin_case *c = p;
    g_free(c->file);
    g_free(c->path);
    g_free(c);
}

GPtrArray *lin_cases_load(const char *root, const char *folder, GError **error)
{
    char *dir = g_build_filename(root, folder, NULL);
    char *tsv = g_build_filename(dir, "verdicts.tsv", NULL);
    char *text = NULL;
    GPtrArray *cases = NULL;
    if (!g_file_get_contents(tsv, &text, NULL, error))
        goto out;
    cases = g_ptr_array_new_with_free_func(case_free);
    GHashTable *listed = g_hash_table_new(g_str_hash, g_str_equal);
    char **lines = g_strsplit(text, "\n", -1);
    for (guint i = 1; lines[i] && cases; i++) { /* line 1 is the header */
        if (!*lines[i])
            continue;
        char **f = g_strsplit(lines[i], "\t", -1);
        if (g_strv_length(f) != 2 || (strcmp(f[1], "true") && strcmp(f[1], "false"))) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s:%u: expected FILE\\ttrue|false",
                        tsv, i + 1);
            g_clear_pointer(&cases, g_ptr_array_unref);
        } else {
            lin_case *c = g_new0(lin_case, 1);
            c->file = g_strdup(f[0]);
            c->path = g_build_filename(dir, f[0], NULL);
            c->linearizable = !strcmp(f[1], "true");
            g_ptr_array_add(cases, c);
            g_hash_table_add(listed, c->file);
            if (!g_file_test(c->path, G_FILE_TEST_IS_REGULAR)) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s:%u: %s is missing", tsv,
                            i + 1, c->path);
                g_clear_pointer(&cases, g_ptr_array_unref);
            }
        }
        g_strfreev(f);
    }
    GDir *d = cases ? g_dir_open(dir, 0, error) : NULL;
    if (cases && !d)
        g_clear_pointer(&cases, g_ptr_array_unref);
    for (const char *n; d && cases && (n = g_dir_read_name(d));) {
        if (strcmp(n, "verdicts.tsv") && !g_hash_table_contains(listed, n)) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: %s has no verdict", tsv, n);
            g_clear_pointer(&cases, g_ptr_array_unref);
        }
    }
    if (d)
        g_dir_close(d);
    g_strfreev(lines);
    g_hash_table_unref(listed);
out:
    g_free(text);
    g_free(tsv);
    g_free(dir);
    return cases;
}
