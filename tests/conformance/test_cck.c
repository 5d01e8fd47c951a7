/* test_cck.c: the Cucumber Compatibility Kit: runs every sample's .feature with its step
 * definitions ported to C (cck_steps.h) and `--format message`, and compares the NDJSON
 * with the sample's after normalising ids (renumbered by first appearance), timestamps,
 * durations, paths (basename), source references (TypeScript lines), exceptions/stack
 * traces (JavaScript types), snippets (C instead of TypeScript) and meta. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <glib/gstdio.h>
#include "tf/runner.h"
#include "cck_steps.h"

static gboolean is_id_key(const char *k)
{
    return !strcmp(k, "id") || g_str_has_suffix(k, "Id");
}

static json_t *map_id(json_t *v, GHashTable *ids)
{
    if (!json_is_string(v))
        return json_incref(v);
    const char *s = json_string_value(v);
    gpointer n = g_hash_table_lookup(ids, s);
    if (!n) {
        n = GUINT_TO_POINTER(g_hash_table_size(ids) + 1);
        g_hash_table_insert(ids, g_strdup(s), n);
    }
    return json_sprintf("id%u", GPOINTER_TO_UINT(n));
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *normalise(json_t *v, GHashTable *ids)
{
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) json_array_append_new(out, normalise(e, ids));
        return out;
    }
    if (!json_is_object(v))
        return json_incref(v);
    GPtrArray *keys = g_ptr_array_new();
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) g_ptr_array_add(keys, (gpointer)k);
    g_ptr_array_sort(keys, cmp_str);
    json_t *out = json_object();
    for (guint i = 0; i < keys->len; i++) {
        k = g_ptr_array_index(keys, i);
        e = json_object_get(v, k);
        if (!strcmp(k, "timestamp") || !strcmp(k, "duration") || !strcmp(k, "sourceReference") ||
            !strcmp(k, "exception") || !strcmp(k, "snippets"))
            continue;
        if (!strcmp(k, "uri") && json_is_string(e)) {
            char *b = g_path_get_basename(json_string_value(e));
            json_object_set_new(out, k, json_string(b));
            g_free(b);
        } else if (is_id_key(k)) {
            json_object_set_new(out, k, map_id(e, ids));
        } else if (g_str_has_suffix(k, "Ids") && json_is_array(e)) {
            json_t *arr = json_array();
            size_t j;
            json_t *x;
            json_array_foreach(e, j, x) json_array_append_new(arr, map_id(x, ids));
            json_object_set_new(out, k, arr);
        } else {
            json_object_set_new(out, k, normalise(e, ids));
        }
    }
    g_ptr_array_unref(keys);
    return out;
}

static GPtrArray *load_normalised(const char *path)
{
    char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, NULL))
        return NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char **lines = g_strsplit(data, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        json_t *env = json_loads(*l, 0, NULL);
        if (!env)
            continue;
        if (!json_object_get(env, "meta"))
            g_ptr_array_add(out, normalise(env, ids));
        json_decref(env);
    }
    g_strfreev(lines);
    g_hash_table_unref(ids);
    g_free(data);
    return out;
}

/* Runs one sample; returns NULL when it conforms, else a description of the first diff. */
static char *run_sample(const cck_sample *s, const char *dir, const char *tmp)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup("tf-run"));
    char *out = g_strdup_printf("%s/%s.ndjson", tmp, s->name);
    g_ptr_array_add(argv, g_strdup_printf("--format=message:%s", out));
    char *argfile = g_strdup_printf("%s/%s.arguments.txt", dir, s->name);
    char *args = NULL;
    if (g_file_get_contents(argfile, &args, NULL, NULL)) {
        char **parts = g_strsplit_set(g_strstrip(args), " \n", -1);
        for (char **p = parts; *p; p++)
            if (**p)
                g_ptr_array_add(argv, g_strdup(*p));
        g_strfreev(parts);
    }
    GDir *d = g_dir_open(dir, 0, NULL);
    GPtrArray *feats = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while (d && (n = g_dir_read_name(d)))
        if (g_str_has_suffix(n, ".feature"))
            g_ptr_array_add(feats, g_build_filename(dir, n, NULL));
    if (d)
        g_dir_close(d);
    g_ptr_array_sort(feats, cmp_str);
    for (guint i = 0; i < feats->len; i++)
        g_ptr_array_add(argv, g_strdup(g_ptr_array_index(feats, i)));
    g_ptr_array_add(argv, NULL);

    cck_dir = dir;
    tf_plugin_init_fn mods[] = {s->init};
    int code = tf_run_main((int)argv->len - 1, (char **)argv->pdata, mods, 1);
    char *why = NULL;
    char *expected_path = g_strdup_printf("%s/%s.ndjson", dir, s->name);
    GPtrArray *want = load_normalised(expected_path);
    GPtrArray *got = load_normalised(out);
    if (code == TF_RUN_EXIT_USAGE || !got) {
        why = g_strdup_printf("run failed (exit %d)", code);
    } else if (!want) {
        why = g_strdup("no expected .ndjson");
    } else {
        for (guint i = 0; i < MAX(want->len, got->len) && !why; i++) {
            json_t *w = i < want->len ? g_ptr_array_index(want, i) : NULL;
            json_t *g = i < got->len ? g_ptr_array_index(got, i) : NULL;
            if (w && g && json_equal(w, g))
                continue;
            char *ws = w ? json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS) : g_strdup("(none)");
            char *gs = g ? json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS) : g_strdup("(none)");
            why = g_strdup_printf("envelope %u differs\n    want: %.600s\n    got:  %.600s", i,
                                  ws, gs);
            free(ws);
            free(gs);
        }
    }
    if (want)
        g_ptr_array_unref(want);
    if (got)
        g_ptr_array_unref(got);
    g_free(expected_path);
    g_free(args);
    g_free(argfile);
    g_free(out);
    g_ptr_array_unref(feats);
    g_ptr_array_unref(argv);
    return why;
}

static void test_cck_samples(void **state)
{
    const char *shared = g_getenv("TF_SHARED_DIR") ? g_getenv("TF_SHARED_DIR") : TF_SHARED_DIR;
    char *tmp = g_dir_make_tmp("tf-cck-XXXXXX", NULL);
    assert_non_null(tmp);
    guint passed = 0, failed = 0, unsupported = 0;
    for (guint i = 0; i < G_N_ELEMENTS(cck_samples); i++) {
        const cck_sample *s = &cck_samples[i];
        if (s->unsupported) {
            printf("UNSUPPORTED %s: %s\n", s->name, s->unsupported);
            unsupported++;
            continue;
        }
        char *dir = g_build_filename(shared, "cck", s->name, NULL);
        char *why = run_sample(s, dir, tmp);
        if (why) {
            printf("FAIL %s: %s\n", s->name, why);
            failed++;
        } else {
            printf("ok   %s\n", s->name);
            passed++;
        }
        g_free(why);
        g_free(dir);
    }
    printf("%u passed, %u failed\n", passed, failed);
    printf("(%u samples not supported, listed above)\n", unsupported);
    /* remove the temp outputs */
    GDir *d = g_dir_open(tmp, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(tmp, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmp);
    g_free(tmp);
    assert_true(passed > 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cck_samples)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
