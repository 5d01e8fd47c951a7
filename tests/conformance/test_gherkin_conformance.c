/* test_gherkin_conformance.c: runs the Gherkin parser over every official conformance
 * file in $TF_SHARED_DIR/gherkin/testdata: good files must give the .ast.ndjson and
 * .pickles.ndjson messages, bad files the .errors.ndjson ones (compared as JSON values).
 * Every file present must pass, and exactly 38 good + 9 bad must be present: a folder
 * that lost files fails instead of passing on fewer. Without the folder: skip.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "tf/gherkin.h"
#include "skip.h"

/* The official testdata this suite was written against (../shared/gherkin/testdata). */
#define GOOD_FILES 38
#define BAD_FILES 9

static gchar *testdata; /* $TF_SHARED_DIR/gherkin/testdata */

/* Reads an NDJSON file into a JSON array (NULL if unreadable). */
static json_t *read_ndjson(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    json_t *arr = json_array();
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        json_error_t err;
        json_t *j = json_loads(*l, 0, &err);
        if (!j) {
            json_decref(arr);
            arr = NULL;
            break;
        }
        json_array_append_new(arr, j);
    }
    g_strfreev(lines);
    g_free(text);
    return arr;
}

/* What tf produces for one file, as the official CLI with --no-source would. */
static json_t *actual(const char *uri, const char *data, gsize len, gboolean good)
{
    json_t *arr = json_array();
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    GPtrArray *errors = NULL;
    tf_gherkin_document *doc = tf_gherkin_parse(uri, data, len, ids, &errors);
    if (doc) {
        json_array_append_new(arr, tf_gherkin_document_envelope(doc));
        tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
        for (guint i = 0; i < tf_gherkin_pickles_count(p); i++)
            json_array_append_new(arr, tf_gherkin_pickle_envelope(tf_gherkin_pickles_get(p, i)));
        tf_gherkin_pickles_free(p);
        tf_gherkin_document_free(doc);
    }
    for (guint i = 0; errors && i < errors->len; i++)
        json_array_append_new(arr, tf_gherkin_error_envelope(errors->pdata[i]));
    tf_gherkin_errors_free(errors);
    tf_gherkin_id_gen_free(ids);
    (void)good;
    return arr;
}

/* Prints the first differing message of got and want, shortened. */
static void diff_hint(const char *name, json_t *got, json_t *want)
{
    size_t n = json_array_size(got) > json_array_size(want) ? json_array_size(got) : json_array_size(want);
    for (size_t i = 0; i < n; i++) {
        json_t *g = json_array_get(got, i), *w = json_array_get(want, i);
        if (g && w && json_equal(g, w))
            continue;
        char *gs = g ? json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS) : strdup("(missing)");
        char *ws = w ? json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS) : strdup("(missing)");
        size_t k = 0;
        while (gs[k] && gs[k] == ws[k])
            k++;
        size_t from = k > 60 ? k - 60 : 0;
        printf("FAIL %s: message %zu differs at byte %zu\n  got:  ...%.160s\n  want: ...%.160s\n", name, i, k,
               gs + from, ws + from);
        free(gs);
        free(ws);
        return;
    }
}

static void test_conformance(void **state)
{
    int passed = 0, failed = 0;
    const char *kinds[] = {"good", "bad"};
    const guint want_files[] = {GOOD_FILES, BAD_FILES};
    guint present[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        char *dir = g_build_filename(testdata, kinds[k], NULL);
        GError *derr = NULL;
        GDir *d = g_dir_open(dir, 0, &derr);
        if (!d)
            fail_msg("%s", derr->message);
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        const char *n;
        while ((n = g_dir_read_name(d)))
            if (g_str_has_suffix(n, ".feature"))
                g_ptr_array_add(names, g_strdup(n));
        g_dir_close(d);
        g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
        present[k] = names->len;
        for (guint i = 0; i < names->len; i++) {
            const char *name = names->pdata[i];
            char *path = g_build_filename(dir, name, NULL);
            /* the expected files name each source as the official suite ran it */
            char *uri = g_strdup_printf("../testdata/%s/%s", kinds[k], name);
            char *data = NULL;
            gsize len = 0;
            json_t *want = NULL;
            if (k == 0) {
                char *a = g_strconcat(path, ".ast.ndjson", NULL), *p = g_strconcat(path, ".pickles.ndjson", NULL);
                want = read_ndjson(a);
                json_t *pk = read_ndjson(p);
                if (want && pk)
                    json_array_extend(want, pk);
                else if (want) {
                    json_decref(want);
                    want = NULL;
                }
                json_decref(pk);
                g_free(a);
                g_free(p);
            } else {
                char *e = g_strconcat(path, ".errors.ndjson", NULL);
                want = read_ndjson(e);
                g_free(e);
            }
            gboolean ok = FALSE;
            if (!want || !g_file_get_contents(path, &data, &len, NULL)) {
                printf("FAIL %s/%s: cannot read the file or its expected messages\n", kinds[k], name);
            } else {
                json_t *got = actual(uri, data, len, k == 0);
                ok = json_equal(got, want);
                if (!ok)
                    diff_hint(uri, got, want);
                json_decref(got);
            }
            ok ? passed++ : failed++;
            json_decref(want);
            g_free(data);
            g_free(uri);
            g_free(path);
        }
        g_ptr_array_free(names, TRUE);
        g_free(dir);
    }
    printf("%s: %u good and %u bad .feature files\n", testdata, present[0], present[1]);
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    assert_int_equal(failed, 0);
    for (int k = 0; k < 2; k++)
        if (present[k] != want_files[k])
            fail_msg("%s/%s holds %u .feature files, the official testdata has %u: the data "
                     "changed (update GOOD_FILES/BAD_FILES with the data) or is incomplete",
                     testdata, kinds[k], present[k], want_files[k]);
    assert_int_equal(passed, GOOD_FILES + BAD_FILES);
}

int main(void)
{
    testdata = tf_test_shared_data("gherkin/testdata",
                                   "the official Gherkin conformance files: good/*.feature with their "
                                   ".ast.ndjson and .pickles.ndjson, bad/*.feature with .errors.ndjson");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    g_free(testdata);
    return rc;
}
