/* test_gherkin_parser.c: the Gherkin parser rule by rule: Rule, Background, outlines
 * with tagged Examples, tables and their escapes, doc strings, comments, descriptions,
 * CRLF, UTF-8 columns, languages, and every kind of error with its file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tf/gherkin.h"
#include "tf/error.h"

static tf_gherkin_id_gen *ids;

static int setup(void **state)
{
    ids = tf_gherkin_id_gen_new();
    return 0;
}

static int teardown(void **state)
{
    tf_gherkin_id_gen_free(ids);
    return 0;
}

static tf_gherkin_document *ok(const char *src)
{
    GPtrArray *errors = NULL;
    tf_gherkin_document *doc = tf_gherkin_parse("t.feature", src, -1, ids, &errors);
    if (!doc) {
        GError *e = NULL;
        tf_gherkin_errors_to_gerror(errors, &e);
        print_error("unexpected errors:\n%s\n", e->message);
        g_error_free(e);
    }
    assert_non_null(doc);
    assert_null(errors);
    return doc;
}

/* Parses a source that must fail; returns every error's human form, one per line. */
static char *bad(const char *src)
{
    GPtrArray *errors = NULL;
    tf_gherkin_document *doc = tf_gherkin_parse("t.feature", src, -1, ids, &errors);
    assert_null(doc);
    assert_non_null(errors);
    GError *e = NULL;
    tf_gherkin_errors_to_gerror(errors, &e);
    assert_true(g_error_matches(e, TF_ERROR, TF_ERROR_PARSE));
    char *s = g_strdup(e->message);
    g_error_free(e);
    tf_gherkin_errors_free(errors);
    return s;
}

static void test_rule_and_backgrounds(void **state)
{
    tf_gherkin_document *doc = ok("@f\nFeature: F\n  Background:\n    Given fb\n\n"
                                  "  @r\n  Rule: R\n    rule text\n    Background:\n      Given rb\n"
                                  "    Example: E\n      When e\n      And more\n      But less\n"
                                  "      * star\n");
    const tf_gherkin_feature *f = doc->feature;
    assert_int_equal(f->n_children, 2);
    assert_non_null(f->children[0].background);
    const tf_gherkin_rule *r = f->children[1].rule;
    assert_non_null(r);
    assert_string_equal(r->name, "R");
    assert_string_equal(r->description, "    rule text");
    assert_int_equal(r->n_tags, 1);
    assert_string_equal(r->tags[0].name, "@r");
    assert_int_equal(r->n_children, 2);
    const tf_gherkin_scenario *sc = r->children[1].scenario;
    assert_int_equal(sc->location.line, 11);
    assert_int_equal(sc->location.column, 5);
    assert_int_equal(sc->steps[1].keyword_type, TF_GHERKIN_KEYWORD_CONJUNCTION);
    assert_int_equal(sc->steps[3].keyword_type, TF_GHERKIN_KEYWORD_UNKNOWN);

    tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
    assert_int_equal(tf_gherkin_pickles_count(p), 1);
    const tf_gherkin_pickle *pk = tf_gherkin_pickles_get(p, 0);
    assert_int_equal(pk->n_steps, 6);
    assert_string_equal(pk->steps[0].text, "fb");
    assert_string_equal(pk->steps[1].text, "rb");
    assert_int_equal(pk->steps[2].type, TF_GHERKIN_STEP_ACTION);
    assert_int_equal(pk->steps[3].type, TF_GHERKIN_STEP_ACTION); /* And takes When's type */
    assert_int_equal(pk->steps[4].type, TF_GHERKIN_STEP_ACTION);
    assert_int_equal(pk->steps[5].type, TF_GHERKIN_STEP_UNKNOWN);
    assert_int_equal(pk->steps[2].location.line, 12);
    assert_int_equal(pk->n_tags, 2);
    assert_string_equal(pk->tags[0].name, "@f");
    assert_string_equal(pk->tags[1].name, "@r");
    assert_string_equal(pk->tags[1].ast_node_id, r->tags[0].id);
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(doc);
}

static void test_outline_with_tagged_examples(void **state)
{
    tf_gherkin_document *doc = ok("Feature: O\n  Scenario Outline: eat <n> <what>\n"
                                  "    Given I have <n>\n      | <what> | x |\n"
                                  "  @first\n  Examples: one\n    | n | what |\n    | 1 | apple |\n    | 2 | pear |\n"
                                  "  @second @third\n  Examples:\n    | n | what |\n    | 3 | <n> |\n"
                                  "  Examples: empty\n");
    const tf_gherkin_scenario *sc = doc->feature->children[0].scenario;
    assert_int_equal(sc->n_examples, 3);
    assert_null(sc->examples[2].table_header);
    assert_int_equal(sc->examples[1].n_tags, 2);
    tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
    assert_int_equal(tf_gherkin_pickles_count(p), 3);
    const tf_gherkin_pickle *a = tf_gherkin_pickles_get(p, 0), *c = tf_gherkin_pickles_get(p, 2);
    assert_string_equal(a->name, "eat 1 apple");
    assert_string_equal(a->steps[0].text, "I have 1");
    assert_true(a->steps[0].has_data_table);
    assert_string_equal(a->steps[0].rows[0].cells[0], "apple");
    assert_int_equal(a->location.line, 8); /* the examples row */
    assert_int_equal(a->n_ast_node_ids, 2);
    assert_string_equal(a->ast_node_ids[0], sc->id);
    assert_string_equal(a->ast_node_ids[1], sc->examples[0].table_body[0].id);
    assert_int_equal(a->n_tags, 1);
    assert_string_equal(a->tags[0].name, "@first");
    /* substitution is header by header: "<n>" inserted by <what> is not re-expanded */
    assert_string_equal(c->name, "eat 3 <n>");
    assert_int_equal(c->n_tags, 2);
    assert_string_equal(c->tags[1].name, "@third");
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(doc);
}

static void test_table_escapes_and_columns(void **state)
{
    tf_gherkin_document *doc = ok("Feature: T\n  Scenario: S\n    Given t\n"
                                  "      | a\\|b | c\\\\d | e\\nf | \\x |\n"
                                  "      |  é  | 漢字 |  | z |\n");
    const tf_gherkin_data_table *t = doc->feature->children[0].scenario->steps[0].data_table;
    assert_non_null(t);
    assert_int_equal(t->n_rows, 2);
    assert_string_equal(t->rows[0].cells[0].value, "a|b");
    assert_string_equal(t->rows[0].cells[1].value, "c\\d");
    assert_string_equal(t->rows[0].cells[2].value, "e\nf");
    assert_string_equal(t->rows[0].cells[3].value, "\\x");
    assert_int_equal(t->rows[0].cells[0].location.column, 9);
    /* columns count characters, not bytes: "|  é  | 漢字 |" */
    assert_int_equal(t->rows[1].cells[0].location.column, 10);
    assert_int_equal(t->rows[1].cells[1].location.column, 15);
    assert_string_equal(t->rows[1].cells[2].value, "");
    assert_int_equal(t->rows[1].cells[3].location.column, 23);
    tf_gherkin_document_free(doc);
}

static void test_ragged_table_is_an_error(void **state)
{
    char *e = bad("Feature: T\n  Scenario: S\n    Given t\n      | a | b |\n      | c |\n");
    assert_string_equal(e, "t.feature:5:7: inconsistent cell count within the table");
    g_free(e);
    e = bad("Feature: T\n  Scenario Outline: S\n    Given <a>\n  Examples:\n    | a |\n    | 1 | 2 |\n");
    assert_string_equal(e, "t.feature:6:5: inconsistent cell count within the table");
    g_free(e);
}

static void test_doc_strings(void **state)
{
    tf_gherkin_document *doc = ok("Feature: D\n  Scenario: S\n"
                                  "    Given a\n      \"\"\"json\n      {\n        \"k\": 1\n    }\n"
                                  "      \\\"\\\"\\\"\n      ```\n      \"\"\"\n"
                                  "    And b\n      ```\n      \\`\\`\\`\n      \"\"\"\n      ```\n"
                                  "    And c\n      \"\"\"\n      \"\"\"\n");
    const tf_gherkin_step *s = doc->feature->children[0].scenario->steps;
    assert_string_equal(s[0].doc_string->media_type, "json");
    assert_string_equal(s[0].doc_string->delimiter, "\"\"\"");
    /* indent of the separator is removed; a less indented line keeps its text only */
    assert_string_equal(s[0].doc_string->content, "{\n  \"k\": 1\n}\n\"\"\"\n```");
    assert_int_equal(s[0].doc_string->location.line, 4);
    assert_int_equal(s[0].doc_string->location.column, 7);
    assert_null(s[1].doc_string->media_type);
    assert_string_equal(s[1].doc_string->delimiter, "```");
    assert_string_equal(s[1].doc_string->content, "```\n\"\"\"");
    assert_string_equal(s[2].doc_string->content, "");
    tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
    const tf_gherkin_pickle *pk = tf_gherkin_pickles_get(p, 0);
    assert_string_equal(pk->steps[0].doc_string_media_type, "json");
    assert_false(pk->steps[0].has_data_table);
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(doc);

    char *e = bad("Feature: D\n  Scenario: S\n    Given a\n      \"\"\"\n      open");
    assert_string_equal(e, "t.feature:6: unexpected end of file, expected: #DocStringSeparator, #Other");
    g_free(e);
}

static void test_table_and_doc_string_on_one_step(void **state)
{
    tf_gherkin_document *doc = ok("Feature: D\n  Scenario: S\n    Given a\n      | x |\n      \"\"\"\n      d\n"
                                  "      \"\"\"\n    Given b\n      \"\"\"\n      d\n      \"\"\"\n      | y |\n");
    const tf_gherkin_step *s = doc->feature->children[0].scenario->steps;
    assert_non_null(s[0].data_table);
    assert_non_null(s[0].doc_string);
    assert_non_null(s[1].data_table);
    assert_non_null(s[1].doc_string);
    tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
    const tf_gherkin_pickle *pk = tf_gherkin_pickles_get(p, 0);
    /* the pickle step holds both, numbered in source order */
    assert_true(pk->steps[0].has_data_table);
    assert_string_equal(pk->steps[0].rows[0].cells[0], "x");
    assert_string_equal(pk->steps[0].doc_string, "d");
    assert_int_equal(pk->steps[0].data_table_index, 1);
    assert_int_equal(pk->steps[0].doc_string_index, 2);
    assert_int_equal(pk->steps[1].doc_string_index, 1);
    assert_int_equal(pk->steps[1].data_table_index, 2);
    json_t *j = tf_gherkin_pickle_envelope(pk);
    json_t *steps = json_object_get(json_object_get(j, "pickle"), "steps");
    json_error_t je;
    json_t *want = json_loads("{\"dataTable\":{\"argumentIndex\":1,\"rows\":[{\"cells\":[{\"value\":\"x\"}]}]},"
                              "\"docString\":{\"argumentIndex\":2,\"content\":\"d\"}}", 0, &je);
    assert_true(json_equal(json_object_get(json_array_get(steps, 0), "argument"), want));
    json_decref(want);
    want = json_loads("{\"docString\":{\"argumentIndex\":1,\"content\":\"d\"},"
                      "\"dataTable\":{\"argumentIndex\":2,\"rows\":[{\"cells\":[{\"value\":\"y\"}]}]}}", 0, &je);
    assert_true(json_equal(json_object_get(json_array_get(steps, 1), "argument"), want));
    json_decref(want);
    json_decref(j);
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(doc);

    /* one argument: no argumentIndex, as in every official pickle of one argument */
    doc = ok("Feature: D\n  Scenario: S\n    Given a\n      | x |\n    Given b\n      \"\"\"\n      d\n"
             "      \"\"\"\n");
    p = tf_gherkin_compile(doc, ids);
    pk = tf_gherkin_pickles_get(p, 0);
    assert_int_equal(pk->steps[0].data_table_index, 0);
    assert_int_equal(pk->steps[1].doc_string_index, 0);
    assert_null(pk->steps[0].doc_string);
    assert_false(pk->steps[1].has_data_table);
    j = tf_gherkin_pickle_envelope(pk);
    steps = json_object_get(json_object_get(j, "pickle"), "steps");
    want = json_loads("{\"dataTable\":{\"rows\":[{\"cells\":[{\"value\":\"x\"}]}]}}", 0, &je);
    assert_true(json_equal(json_object_get(json_array_get(steps, 0), "argument"), want));
    json_decref(want);
    want = json_loads("{\"docString\":{\"content\":\"d\"}}", 0, &je);
    assert_true(json_equal(json_object_get(json_array_get(steps, 1), "argument"), want));
    json_decref(want);
    json_decref(j);
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(doc);

    char *e = bad("Feature: D\n  Scenario: S\n    Given a\n      \"\"\"\n      \"\"\"\n      | x |\n"
                  "      \"\"\"\n");
    assert_string_equal(e, "t.feature:7:7: expected: #EOF, #TableRow, #StepLine, #TagLine, #ExamplesLine, "
                           "#ScenarioLine, #RuleLine, #Comment, #Empty, got '\"\"\"'");
    g_free(e);
}

static void test_comments_and_descriptions(void **state)
{
    tf_gherkin_document *doc = ok("# top\nFeature: C\n\n  first line\n\n  second line\n  # inside\n\n"
                                  "  Scenario: S\n    # before step\n    Given a # not a comment\n");
    assert_int_equal(doc->n_comments, 3);
    assert_string_equal(doc->comments[0].text, "# top");
    assert_string_equal(doc->comments[1].text, "  # inside");
    assert_int_equal(doc->comments[1].location.line, 7);
    assert_int_equal(doc->comments[1].location.column, 1);
    assert_string_equal(doc->feature->description, "  first line\n\n  second line");
    assert_string_equal(doc->feature->children[0].scenario->steps[0].text, "a # not a comment");
    tf_gherkin_document_free(doc);
}

static void test_crlf_matches_lf(void **state)
{
    const char *lf = "Feature: X\n  desc\n  Scenario: S\n    Given a\n      \"\"\"\n      x\n      \"\"\"\n";
    char *crlf = g_strjoinv("\r\n", (char *[]){"Feature: X", "  desc", "  Scenario: S", "    Given a",
                                               "      \"\"\"", "      x", "      \"\"\"", "", NULL});
    tf_gherkin_id_gen *a = tf_gherkin_id_gen_new(), *b = tf_gherkin_id_gen_new();
    tf_gherkin_document *d1 = tf_gherkin_parse("t.feature", lf, -1, a, NULL);
    tf_gherkin_document *d2 = tf_gherkin_parse("t.feature", crlf, -1, b, NULL);
    assert_non_null(d1);
    assert_non_null(d2);
    json_t *j1 = tf_gherkin_document_envelope(d1), *j2 = tf_gherkin_document_envelope(d2);
    assert_true(json_equal(j1, j2));
    json_decref(j1);
    json_decref(j2);
    tf_gherkin_document_free(d1);
    tf_gherkin_document_free(d2);
    tf_gherkin_id_gen_free(a);
    tf_gherkin_id_gen_free(b);
    g_free(crlf);
}

static void test_tags_columns(void **state)
{
    tf_gherkin_document *doc = ok("@é  @b@c #comment\nFeature: T\n");
    const tf_gherkin_feature *f = doc->feature;
    assert_int_equal(f->n_tags, 3);
    assert_string_equal(f->tags[0].name, "@é");
    assert_int_equal(f->tags[1].location.column, 5);
    assert_string_equal(f->tags[2].name, "@c");
    assert_int_equal(f->tags[2].location.column, 7);
    tf_gherkin_document_free(doc);
    char *e = bad("Feature: T\n  @a b\n  Scenario: S\n");
    assert_non_null(strstr(e, "t.feature:2:3: A tag may not contain whitespace"));
    g_free(e);
}

static void test_languages(void **state)
{
    tf_gherkin_document *doc = ok("# language: fr\nFonctionnalité: F\n  Scénario: S\n    Soit a\n"
                                  "    Quand b\n    Et c\n    Alors d\n");
    const tf_gherkin_feature *f = doc->feature;
    assert_string_equal(f->language, "fr");
    assert_string_equal(f->keyword, "Fonctionnalité");
    const tf_gherkin_scenario *sc = f->children[0].scenario;
    assert_int_equal(sc->n_steps, 4);
    assert_int_equal(sc->steps[0].keyword_type, TF_GHERKIN_KEYWORD_CONTEXT);
    assert_int_equal(sc->steps[3].keyword_type, TF_GHERKIN_KEYWORD_OUTCOME);
    tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
    assert_string_equal(tf_gherkin_pickles_get(p, 0)->language, "fr");
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(doc);

    doc = ok("#language:zh-CN\n功能: 中文\n  场景: 一\n    假如一\n");
    assert_string_equal(doc->feature->children[0].scenario->steps[0].text, "一");
    tf_gherkin_document_free(doc);

    char *e = bad("# language: xx-nope\nFeature: F\n");
    assert_string_equal(e, "t.feature:1:1: Language not supported: xx-nope");
    g_free(e);
}

static void test_every_error_is_reported(void **state)
{
    char *e = bad("\nnonsense one\nFeature: F\n  Scenario: S\n    Given a\n    not a step\n"
                  "    nor this\n  Examples\n");
    assert_string_equal(e,
                        "t.feature:2:1: expected: #EOF, #Language, #TagLine, #FeatureLine, #Comment, #Empty, "
                        "got 'nonsense one'\n"
                        "t.feature:6:5: expected: #EOF, #TableRow, #DocStringSeparator, #StepLine, #TagLine, "
                        "#ExamplesLine, #ScenarioLine, #RuleLine, #Comment, #Empty, got 'not a step'\n"
                        "t.feature:7:5: expected: #EOF, #TableRow, #DocStringSeparator, #StepLine, #TagLine, "
                        "#ExamplesLine, #ScenarioLine, #RuleLine, #Comment, #Empty, got 'nor this'\n"
                        "t.feature:8:3: expected: #EOF, #TableRow, #DocStringSeparator, #StepLine, #TagLine, "
                        "#ExamplesLine, #ScenarioLine, #RuleLine, #Comment, #Empty, got 'Examples'");
    g_free(e);
    /* tags must lead somewhere */
    e = bad("Feature: F\n  Scenario: S\n    Given a\n  @dangling\n");
    assert_string_equal(e, "t.feature:5: unexpected end of file, expected: #TagLine, #RuleLine, #Comment, #Empty");
    g_free(e);
    /* the parser gives up after 11 errors, like the official one */
    GString *s = g_string_new("Feature: F\n  Background:\n    Given a\n");
    for (int i = 0; i < 30; i++)
        g_string_append_printf(s, "junk %d\n", i);
    GPtrArray *errors = NULL;
    assert_null(tf_gherkin_parse("t.feature", s->str, -1, ids, &errors));
    assert_int_equal(errors->len, 11);
    tf_gherkin_error *first = errors->pdata[0];
    char *m = tf_gherkin_error_message(first);
    assert_true(g_str_has_prefix(m, "(4:1): expected: #EOF, #TableRow"));
    g_free(m);
    tf_gherkin_errors_free(errors);
    g_string_free(s, TRUE);
}

/* Text from the input that lands in an error is printed on terminals: its control
 * characters (C0, DEL, C1) come out escaped, everything else as written. */
static void test_control_characters_in_errors_are_escaped(void **state)
{
    char *e = bad("Feature: F\n  Scenario: S\n    Given a\n    \x1b[31mred\x07\x7f \xc2\x9b" "2J\tend é\n");
    assert_string_equal(e, "t.feature:4:5: expected: #EOF, #TableRow, #DocStringSeparator, #StepLine, "
                           "#TagLine, #ExamplesLine, #ScenarioLine, #RuleLine, #Comment, #Empty, "
                           "got '\\x1b[31mred\\x07\\x7f \\u009b2J\tend é'");
    g_free(e);
    /* the file name too, in the human form */
    GPtrArray *errors = NULL;
    assert_null(tf_gherkin_parse("bad\x1b.feature", "nonsense", -1, ids, &errors));
    char *h = tf_gherkin_error_format(errors->pdata[0]);
    assert_true(g_str_has_prefix(h, "bad\\x1b.feature:1:1: "));
    g_free(h);
    tf_gherkin_errors_free(errors);
}

static void test_ids_shared_across_documents(void **state)
{
    tf_gherkin_id_gen *g = tf_gherkin_id_gen_new();
    const char *src = "Feature: F\n  Scenario: S\n    Given a\n";
    tf_gherkin_document *a = tf_gherkin_parse("a.feature", src, -1, g, NULL);
    tf_gherkin_document *b = tf_gherkin_parse("b.feature", src, -1, g, NULL);
    assert_string_equal(a->feature->children[0].scenario->steps[0].id, "0");
    assert_string_equal(a->feature->children[0].scenario->id, "1");
    assert_string_equal(b->feature->children[0].scenario->steps[0].id, "2");
    tf_gherkin_pickles *p = tf_gherkin_compile(b, g);
    tf_gherkin_document_free(b); /* pickles outlive their document */
    assert_string_equal(tf_gherkin_pickles_get(p, 0)->steps[0].id, "4");
    assert_string_equal(tf_gherkin_pickles_get(p, 0)->id, "5");
    assert_string_equal(tf_gherkin_pickles_get(p, 0)->uri, "b.feature");
    assert_string_equal(tf_gherkin_pickles_get(p, 0)->steps[0].ast_node_ids[0], "2");
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(a);
    tf_gherkin_id_gen_free(g);
}

static void test_background_skipped_for_empty_scenario(void **state)
{
    tf_gherkin_document *doc = ok("Feature: F\n  Background: B\n    Given a\n  Scenario: empty\n"
                                  "  Scenario: full\n    Then b\n");
    tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
    assert_int_equal(tf_gherkin_pickles_count(p), 2);
    assert_int_equal(tf_gherkin_pickles_get(p, 0)->n_steps, 0);
    assert_int_equal(tf_gherkin_pickles_get(p, 1)->n_steps, 2);
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(doc);
}

static void test_messages_shapes(void **state)
{
    GPtrArray *errors = NULL;
    assert_null(tf_gherkin_parse("x.feature", "Feature: A\n@t", -1, ids, &errors));
    json_t *j = tf_gherkin_error_envelope(errors->pdata[0]);
    json_error_t je;
    json_t *want = json_loads("{\"parseError\":{\"message\":\"(3:0): unexpected end of file, expected: #TagLine, "
                              "#RuleLine, #Comment, #Empty\",\"source\":{\"location\":{\"line\":3},"
                              "\"uri\":\"x.feature\"}}}", 0, &je);
    assert_true(json_equal(j, want));
    json_decref(j);
    json_decref(want);
    tf_gherkin_errors_free(errors);
    j = tf_gherkin_source_envelope("x.feature", "Feature: A\n", -1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "source"), "mediaType")),
                        "text/x.cucumber.gherkin+plain");
    json_decref(j);
    /* an empty file is a document without a feature and without pickles */
    tf_gherkin_document *doc = ok("");
    assert_null(doc->feature);
    tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
    assert_int_equal(tf_gherkin_pickles_count(p), 0);
    tf_gherkin_pickles_free(p);
    tf_gherkin_document_free(doc);
}

static gboolean count_to_two(const tf_gherkin_pickle *p, void *ctx)
{
    int *n = ctx;
    return ++*n < 2;
}

static gboolean write_to(const tf_gherkin_pickle *p, void *out)
{
    return tf_gherkin_pickle_write(p, out);
}

/* The streamed forms: each *_write line is the JSON its *_envelope gives, pickles come
 * one at a time in the collected order and ids, fn can stop them, a failed write is
 * reported, invalid UTF-8 in a uri is written as U+FFFD. */
static void test_streaming_api(void **state)
{
    const char *src = "Feature: F\n  Scenario Outline: o <a>\n    Given s <a>\n      | <a> |\n"
                      "  Examples:\n    | a |\n    | 1 |\n    | 2 |\n    | 3 |\n";
    tf_gherkin_id_gen *g1 = tf_gherkin_id_gen_new(), *g2 = tf_gherkin_id_gen_new();
    tf_gherkin_document *doc = tf_gherkin_parse("s\xff.feature", src, -1, g1, NULL);
    tf_gherkin_document *doc2 = tf_gherkin_parse("s\xff.feature", src, -1, g2, NULL);
    assert_non_null(doc);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_true(tf_gherkin_source_write("s\xff.feature", src, -1, out));
    assert_true(tf_gherkin_document_write(doc, out));
    assert_true(tf_gherkin_compile_each(doc, g1, write_to, out));
    fclose(out);
    tf_gherkin_pickles *p = tf_gherkin_compile(doc2, g2);
    char **lines = g_strsplit(text, "\n", -1);
    assert_int_equal(g_strv_length(lines), 2 + 3 + 1);
    json_t *want[5] = {tf_gherkin_source_envelope("s\xff.feature", src, -1), tf_gherkin_document_envelope(doc2),
                       tf_gherkin_pickle_envelope(tf_gherkin_pickles_get(p, 0)),
                       tf_gherkin_pickle_envelope(tf_gherkin_pickles_get(p, 1)),
                       tf_gherkin_pickle_envelope(tf_gherkin_pickles_get(p, 2))};
    for (int i = 0; i < 5; i++) {
        json_error_t je;
        json_t *got = json_loads(lines[i], 0, &je);
        assert_non_null(got);
        assert_true(json_equal(got, want[i]));
        /* and the text is what jansson writes with sorted keys */
        char *dumped = json_dumps(want[i], JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(lines[i], dumped);
        free(dumped);
        json_decref(got);
        json_decref(want[i]);
    }
    assert_non_null(strstr(lines[0], "\"uri\":\"s\xef\xbf\xbd.feature\""));
    g_strfreev(lines);
    free(text);
    tf_gherkin_pickles_free(p);

    int n = 0;
    assert_false(tf_gherkin_compile_each(doc, g1, count_to_two, &n));
    assert_int_equal(n, 2);
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    assert_false(tf_gherkin_document_write(doc, ro));
    fclose(ro);
    tf_gherkin_document_free(doc);
    tf_gherkin_document_free(doc2);
    tf_gherkin_id_gen_free(g1);
    tf_gherkin_id_gen_free(g2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_and_backgrounds),
        cmocka_unit_test(test_outline_with_tagged_examples),
        cmocka_unit_test(test_table_escapes_and_columns),
        cmocka_unit_test(test_ragged_table_is_an_error),
        cmocka_unit_test(test_doc_strings),
        cmocka_unit_test(test_table_and_doc_string_on_one_step),
        cmocka_unit_test(test_comments_and_descriptions),
        cmocka_unit_test(test_crlf_matches_lf),
        cmocka_unit_test(test_tags_columns),
        cmocka_unit_test(test_languages),
        cmocka_unit_test(test_every_error_is_reported),
        cmocka_unit_test(test_control_characters_in_errors_are_escaped),
        cmocka_unit_test(test_ids_shared_across_documents),
        cmocka_unit_test(test_background_skipped_for_empty_scenario),
        cmocka_unit_test(test_messages_shapes),
        cmocka_unit_test(test_streaming_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
