/* test_gherkin_fuzz_regressions.c: parses every input kept in tests/unit/data/gherkin-fuzz
 * and checks the parser's contract on each: a document that renders (as json_t and as
 * streamed NDJSON lines that load back), or at least one error whose human form holds
 * no control character. The inputs are hand-made edge cases (edge-*: a backslash at the
 * end of a cell, invalid UTF-8 in an open doc string, stray arguments, a mix of odd
 * headers, control bytes, both step arguments in an outline); no libFuzzer run has
 * found a crashing input yet. One that does (scripts/fuzz-gherkin.sh) lands here too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tf/gherkin.h"

static gboolean stream_pickle(const tf_gherkin_pickle *p, void *out)
{
    return tf_gherkin_pickle_write(p, out);
}

/* Every line of an NDJSON text is a JSON object; returns how many lines. */
static int check_lines(const char *text, size_t len)
{
    int n = 0;
    for (const char *line = text, *nl; line < text + len; line = nl + 1, n++) {
        nl = memchr(line, '\n', text + len - line);
        assert_non_null(nl);
        json_error_t je;
        json_t *j = json_loadb(line, nl - line, 0, &je);
        assert_true(json_is_object(j));
        json_decref(j);
    }
    return n;
}

static void check_one(const char *name, const char *data, gsize len)
{
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    GPtrArray *errors = NULL;
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    assert_true(tf_gherkin_source_write(name, data, len, out));
    int lines = 1;
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
        assert_true(tf_gherkin_document_write(doc, out));
        assert_true(tf_gherkin_compile_each(doc, ids, stream_pickle, out));
        lines += 1 + tf_gherkin_pickles_count(p);
        tf_gherkin_pickles_free(p);
        tf_gherkin_document_free(doc);
    } else {
        assert_non_null(errors);
        assert_true(errors->len > 0);
        for (guint i = 0; i < errors->len; i++) {
            json_t *e = tf_gherkin_error_envelope(errors->pdata[i]);
            assert_non_null(e);
            json_decref(e);
            assert_true(tf_gherkin_error_write(errors->pdata[i], out));
            char *h = tf_gherkin_error_format(errors->pdata[i]);
            assert_true(g_str_has_prefix(h, name));
            for (const unsigned char *c = (const unsigned char *)h; *c; c++)
                if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
                    fail_msg("%s: raw control byte 0x%02x in: %s", name, *c, h);
            g_free(h);
        }
        lines += errors->len;
        tf_gherkin_errors_free(errors);
    }
    fclose(out);
    assert_int_equal(check_lines(text, text_len), lines);
    free(text);
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
