/* report_outcomes.c: a Messages report folded into one status per scenario: pickles name
 * test cases, test cases name attempts (testCaseStarted), steps finish within attempts, and
 * the last finished attempt of a scenario is what it came to. */
#include <jansson.h>
#include "report_outcomes.h"

static const char *const rank[] = {"PASSED", "SKIPPED", "PENDING", "UNDEFINED", "AMBIGUOUS",
                                   "FAILED"};

static guint rank_of(const char *status)
{
    for (guint k = 0; k < G_N_ELEMENTS(rank); k++)
        if (!g_strcmp0(status, rank[k]))
            return k;
    return 0;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

GHashTable *report_outcomes(const char *path, GError **error)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    GHashTable *pick = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTable *tc = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTable *started = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTable *worst = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char **lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; out && lines[i] && lines[i][0]; i++) {
        json_t *env = json_loads(lines[i], 0, NULL);
        json_t *p = json_object_get(env, "pickle"), *c = json_object_get(env, "testCase");
        json_t *s = json_object_get(env, "testCaseStarted");
        json_t *f = json_object_get(env, "testStepFinished");
        json_t *e = json_object_get(env, "testCaseFinished");
        if (!env) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s:%u: not JSON", path, i + 1);
            g_clear_pointer(&out, g_hash_table_unref);
        }
        if (p)
            g_hash_table_insert(pick, g_strdup(str(p, "id")),
                                g_strdup_printf("%s: %s", str(p, "uri"), str(p, "name")));
        if (c)
            g_hash_table_insert(tc, g_strdup(str(c, "id")),
                                g_strdup(g_hash_table_lookup(pick, str(c, "pickleId"))));
        if (s)
            g_hash_table_insert(started, g_strdup(str(s, "id")),
                                g_strdup(g_hash_table_lookup(tc, str(s, "testCaseId"))));
        if (f) {
            const char *id = str(f, "testCaseStartedId");
            guint r = rank_of(str(json_object_get(f, "testStepResult"), "status"));
            gpointer had = NULL;
            if (!g_hash_table_lookup_extended(worst, id, NULL, &had) || r > GPOINTER_TO_UINT(had))
                g_hash_table_insert(worst, g_strdup(id), GUINT_TO_POINTER(r));
        }
        if (e && out) {
            const char *id = str(e, "testCaseStartedId");
            const char *name = g_hash_table_lookup(started, id);
            if (!name) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                            "%s:%u: test case attempt %s finished but never started", path, i + 1, id);
                g_clear_pointer(&out, g_hash_table_unref);
            } else {
                guint r = GPOINTER_TO_UINT(g_hash_table_lookup(worst, id));
                g_hash_table_insert(out, g_strdup(name), g_strdup(rank[r])); /* the last wins */
            }
        }
        json_decref(env);
    }
    g_strfreev(lines);
    g_free(text);
    g_hash_table_unref(pick);
    g_hash_table_unref(tc);
    g_hash_table_unref(started);
    g_hash_table_unref(worst);
    return out;
}
