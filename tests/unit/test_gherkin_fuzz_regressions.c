/* test_gherkin_fuzz_regressions.c: parses every input kept in tests/unit/data/gherkin-fuzz
 * (inputs that once crashed the parser under libFuzzer, plus hand-made edge cases) and
 * checks the parser's contract on each: a document that renders, or at least one error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "tf/gherkin.h"

static void check_one(const char *name, const char *data, gsize len)
{
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    GPtrArray *errors = NULL;
    tf_gherkin_document *doc = tf_gherkin_parse(name, data, len, ids, &errors);
    if (doc) {
        assert_null(errors);
        json_t *j = tf_gherkin_document_envelope(doc);
        assert_non_null(j);
        char *s = json_dumps(j, JSON_COMPACT);
        assert_non_null(s);
        free(s);
        json_decref(j);
        tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
        for (guint i = 0; i < tf_gherkin_pickles_count(p); i++) {
            json_t *pj = tf_gherkin_pickle_envelope(tf_gherkin_pickles_get(p, i));
            assert_non_null(pj);
            json_decref(pj);
        }
        tf_gherkin_pickles_free(p);
        tf_gherkin_document_free(doc);
    } else {
        assert_non_null(errors);
        assert_true(errors->len > 0);
        for (guint i = 0; i < errors->len; i++) {
            json_t *e = tf_gherkin_error_envelope(errors->pdata[i]);
            assert_non_null(e);
            json_decref(e);
            char *h = tf_gherkin_error_format(errors->pdata[i]);
            assert_true(g_str_has_prefix(h, name));
            g_free(h);
        }
        tf_gherkin_errors_free(errors);
    }
    tf_gherkin_id_gen_free(ids);
}

static void test_fuzz_inputs(void **state)
{
    char *dir = g_build_filename(TF_SOURCE_DIR, "tests", "unit", "data", "gherkin-fuzz", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    assert_non_null(d);
    int n = 0;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);
        char *data = NULL;
        gsize len = 0;
        assert_true(g_file_get_contents(path, &data, &len, NULL));
        check_one(name, data, len);
        g_free(data);
        g_free(path);
        n++;
    }
    g_dir_close(d);
    g_free(dir);
    printf("%d fuzz inputs parsed\n", n);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
