/* test_gherkin_keywords.c: step keywords in every dialect. When one keyword is a prefix
 * of another ("Tha " and "Tha the " in en-old), the official matcher tries the longest
 * first; here every step keyword of tf/gherkin/data/gherkin-languages.json is parsed in
 * a step and must come back whole, with the type the JSON gives it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "tf/gherkin.h"

/* Parses one step line in language lang; returns the document (caller frees). */
static tf_gherkin_document *parse_step(tf_gherkin_id_gen *ids, const char *lang,
                                       const char *feature_kw, const char *scenario_kw,
                                       const char *line)
{
    char *src = g_strdup_printf("# language: %s\n%s: F\n  %s: S\n    %s\n", lang, feature_kw,
                                scenario_kw, line);
    GPtrArray *errors = NULL;
    tf_gherkin_document *doc = tf_gherkin_parse("k.feature", src, -1, ids, &errors);
    if (!doc)
        print_error("%s: cannot parse:\n%s\n", lang, src);
    tf_gherkin_errors_free(errors);
    g_free(src);
    return doc;
}

static void expect_step(const char *lang, const char *line, const char *keyword,
                        tf_gherkin_keyword_type type, const char *text)
{
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    json_t *langs = json_load_file(TF_SOURCE_DIR "/tf/gherkin/data/gherkin-languages.json", 0, NULL);
    assert_non_null(langs);
    json_t *d = json_object_get(langs, lang);
    assert_non_null(d);
    tf_gherkin_document *doc =
        parse_step(ids, lang, json_string_value(json_array_get(json_object_get(d, "feature"), 0)),
                   json_string_value(json_array_get(json_object_get(d, "scenario"), 0)), line);
    assert_non_null(doc);
    const tf_gherkin_step *s = &doc->feature->children[0].scenario->steps[0];
    assert_string_equal(s->keyword, keyword);
    assert_int_equal(s->keyword_type, type);
    assert_string_equal(s->text, text);
    tf_gherkin_document_free(doc);
    json_decref(langs);
    tf_gherkin_id_gen_free(ids);
}

/* The languages where a step keyword is a prefix of a later one (found with the JSON). */
static void test_prefixed_keywords(void **state)
{
    expect_step("en-old", "Tha the it holds", "Tha the ", TF_GHERKIN_KEYWORD_OUTCOME, "it holds");
    expect_step("en-old", "Þa þe it holds", "Þa þe ", TF_GHERKIN_KEYWORD_OUTCOME, "it holds");
    expect_step("en-old", "Ða ðe it holds", "Ða ðe ", TF_GHERKIN_KEYWORD_OUTCOME, "it holds");
    expect_step("en-old", "Tha it holds", "Tha ", TF_GHERKIN_KEYWORD_OUTCOME, "it holds");
    expect_step("ht", "Sipoze ke yon bagay", "Sipoze ke ", TF_GHERKIN_KEYWORD_CONTEXT, "yon bagay");
    expect_step("ht", "Sipoze Ke yon bagay", "Sipoze Ke ", TF_GHERKIN_KEYWORD_CONTEXT, "yon bagay");
    /* the longer keyword is of another kind: When "Lè " vs Then "Lè sa a " */
    expect_step("ht", "Lè sa a li bon", "Lè sa a ", TF_GHERKIN_KEYWORD_OUTCOME, "li bon");
    expect_step("ht", "Le sa a li bon", "Le sa a ", TF_GHERKIN_KEYWORD_OUTCOME, "li bon");
    expect_step("ht", "Lè li bon", "Lè ", TF_GHERKIN_KEYWORD_ACTION, "li bon");
    expect_step("sk", "A tiež niečo", "A tiež ", TF_GHERKIN_KEYWORD_CONJUNCTION, "niečo");
    expect_step("sk", "A taktiež niečo", "A taktiež ", TF_GHERKIN_KEYWORD_CONJUNCTION, "niečo");
    expect_step("sk", "A zároveň niečo", "A zároveň ", TF_GHERKIN_KEYWORD_CONJUNCTION, "niečo");
    expect_step("tr", "Eğer ki bir şey", "Eğer ki ", TF_GHERKIN_KEYWORD_ACTION, "bir şey");
    expect_step("tr", "Ne zaman ki bir şey", "Ne zaman ki ", TF_GHERKIN_KEYWORD_ACTION, "bir şey");
}

static tf_gherkin_keyword_type type_of(json_t *d, const char *k)
{
    static const char *const kinds[] = {"given", "when", "then", "and", "but"};
    static const tf_gherkin_keyword_type types[] = {
        TF_GHERKIN_KEYWORD_CONTEXT, TF_GHERKIN_KEYWORD_ACTION, TF_GHERKIN_KEYWORD_OUTCOME,
        TF_GHERKIN_KEYWORD_CONJUNCTION, TF_GHERKIN_KEYWORD_CONJUNCTION};
    int seen = 0;
    tf_gherkin_keyword_type t = TF_GHERKIN_KEYWORD_UNKNOWN;
    for (int i = 0; i < 5; i++) {
        size_t j;
        json_t *v;
        json_array_foreach(json_object_get(d, kinds[i]), j, v)
            if (!strcmp(json_string_value(v), k)) {
                seen++;
                t = types[i];
            }
    }
    return seen == 1 ? t : TF_GHERKIN_KEYWORD_UNKNOWN; /* listed twice: ambiguous */
}

/* Every step keyword of every language, followed by "x": the keyword matched is the
 * longest keyword of the language that starts the line. */
static void test_every_step_keyword(void **state)
{
    json_t *langs = json_load_file(TF_SOURCE_DIR "/tf/gherkin/data/gherkin-languages.json", 0, NULL);
    assert_non_null(langs);
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    const char *code;
    json_t *d;
    int checked = 0;
    json_object_foreach(langs, code, d) {
        const char *feature_kw = json_string_value(json_array_get(json_object_get(d, "feature"), 0));
        const char *scenario_kw = json_string_value(json_array_get(json_object_get(d, "scenario"), 0));
        GPtrArray *all = g_ptr_array_new();
        static const char *const kinds[] = {"given", "when", "then", "and", "but"};
        for (int i = 0; i < 5; i++) {
            size_t j;
            json_t *v;
            json_array_foreach(json_object_get(d, kinds[i]), j, v)
                g_ptr_array_add(all, (gpointer)json_string_value(v));
        }
        for (guint i = 0; i < all->len; i++) {
            char *line = g_strconcat(all->pdata[i], "x", NULL);
            const char *want = NULL;
            for (guint k = 0; k < all->len; k++)
                if (g_str_has_prefix(line, all->pdata[k]) && (!want || strlen(all->pdata[k]) > strlen(want)))
                    want = all->pdata[k];
            tf_gherkin_document *doc = parse_step(ids, code, feature_kw, scenario_kw, line);
            assert_non_null(doc);
            const tf_gherkin_step *s = &doc->feature->children[0].scenario->steps[0];
            if (strcmp(s->keyword, want) != 0)
                fail_msg("%s: '%s' matched keyword '%s', want '%s'", code, line, s->keyword, want);
            assert_int_equal(s->keyword_type, type_of(d, want));
            tf_gherkin_document_free(doc);
            g_free(line);
            checked++;
        }
        g_ptr_array_free(all, TRUE);
    }
    printf("%d step keywords checked in %zu languages\n", checked, json_object_size(langs));
    assert_true(checked > 1000);
    tf_gherkin_id_gen_free(ids);
    json_decref(langs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefixed_keywords),
        cmocka_unit_test(test_every_step_keyword),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
