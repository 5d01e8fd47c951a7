/* test_cucumber_expressions.c: runs every case of the official Cucumber Expressions test
 * data (the five JSON files in $TF_SHARED_DIR/cucumber-expressions) — tokens, AST, generated
 * regex, argument matching and error messages — comparing each exactly, and prints the
 * tally. Each file must hold exactly the cases it had when this was written (104 in all):
 * fewer fail instead of passing on less. Without the folder: skip.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "tf/expression.h"
#include "skip.h"

#define ALL_CASES 104 /* the sum of files[].cases */

static guint passed, failed;
static gchar *data_dir; /* $TF_SHARED_DIR/cucumber-expressions */

/* The cases of one file: a JSON array of exactly `want` cases. */
static json_t *load_cases(const char *file, size_t want)
{
    char *path = g_build_filename(data_dir, file, NULL);
    json_error_t jerr;
    json_t *cases = json_load_file(path, 0, &jerr);
    char *why = NULL;
    if (!cases)
        why = g_strdup_printf("%s: %s", path, jerr.text);
    else if (!json_is_array(cases) || json_array_size(cases) != want)
        why = g_strdup_printf("%s: %zu cases, the official data has %zu: the data changed "
                              "(update files[]) or is incomplete",
                              path, json_is_array(cases) ? json_array_size(cases) : 0, want);
    g_free(path);
    if (why) {
        json_decref(cases);
        print_error("%s\n", why);
        g_free(why);
        fail();
    }
    return cases;
}

/* Records one case's verdict; `why` (owned, may be NULL) explains a failure. */
static void verdict(const char *file, json_t *c, char *why)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    if (!why) {
        passed++;
        return;
    }
    failed++;
    print_message("FAIL %s: %s: %s\n", file, name ? name : "?", why);
    g_free(why);
}

/* Compares an error (or its absence) with the case's "exception". Returns a failure
 * description or NULL. */
static char *check_exception(json_t *c, GError *err)
{
    const char *want = json_string_value(json_object_get(c, "exception"));
    if (!err)
        return g_strdup_printf("expected error:\n%s\nbut got none", want);
    if (strcmp(want, err->message) != 0)
        return g_strdup_printf("expected error:\n%s\ngot:\n%s", want, err->message);
    return NULL;
}

/* ---- tokenizer --------------------------------------------------------------------------- */

static char *run_tokenizer_case(json_t *c)
{
    const char *src = json_string_value(json_object_get(c, "expression"));
    GError *err = NULL;
    GArray *tokens = tf_expression_tokenize(src, &err);
    if (json_object_get(c, "exception")) {
        char *why = check_exception(c, err);
        if (tokens)
            g_array_unref(tokens);
        g_clear_error(&err);
        return why;
    }
    if (!tokens) {
        char *why = g_strdup_printf("unexpected error: %s", err->message);
        g_error_free(err);
        return why;
    }
    json_t *want = json_object_get(c, "expected_tokens");
    char *why = NULL;
    if (json_array_size(want) != tokens->len)
        why = g_strdup_printf("expected %zu tokens, got %u", json_array_size(want), tokens->len);
    for (guint i = 0; !why && i < tokens->len; i++) {
        const tf_expr_token *t = &g_array_index(tokens, tf_expr_token, i);
        json_t *w = json_array_get(want, i);
        const char *wtype = json_string_value(json_object_get(w, "type"));
        const char *wtext = json_string_value(json_object_get(w, "text"));
        json_int_t ws = json_integer_value(json_object_get(w, "start"));
        json_int_t we = json_integer_value(json_object_get(w, "end"));
        if (strcmp(wtype, tf_expr_token_type_name(t->type)) || strcmp(wtext, t->text) ||
            ws != t->start || we != t->end)
            why = g_strdup_printf("token %u: expected %s '%s' %lld-%lld, got %s '%s' %u-%u", i,
                                  wtype, wtext, (long long)ws, (long long)we,
                                  tf_expr_token_type_name(t->type), t->text, t->start, t->end);
    }
    g_array_unref(tokens);
    return why;
}

/* ---- parser -------------------------------------------------------------------------------- */

static json_t *node_to_json(const tf_expr_node *n)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(tf_expr_node_type_name(tf_expr_node_type_of(n))));
    json_object_set_new(o, "start", json_integer(tf_expr_node_start(n)));
    json_object_set_new(o, "end", json_integer(tf_expr_node_end(n)));
    if (tf_expr_node_type_of(n) == TF_EXPR_NODE_TEXT) {
        json_object_set_new(o, "token", json_string(tf_expr_node_token(n)));
    } else {
        json_t *kids = json_array();
        for (guint i = 0; i < tf_expr_node_n_children(n); i++)
            json_array_append_new(kids, node_to_json(tf_expr_node_child(n, i)));
        json_object_set_new(o, "nodes", kids);
    }
    return o;
}

static char *run_parser_case(json_t *c)
{
    const char *src = json_string_value(json_object_get(c, "expression"));
    GError *err = NULL;
    tf_expr_node *ast = tf_expression_parse(src, &err);
    if (json_object_get(c, "exception")) {
        char *why = check_exception(c, err);
        tf_expr_node_free(ast);
        g_clear_error(&err);
        return why;
    }
    if (!ast) {
        char *why = g_strdup_printf("unexpected error: %s", err->message);
        g_error_free(err);
        return why;
    }
    json_t *got = node_to_json(ast);
    tf_expr_node_free(ast);
    char *why = NULL;
    if (!json_equal(got, json_object_get(c, "expected_ast"))) {
        char *g = json_dumps(got, JSON_COMPACT);
        char *w = json_dumps(json_object_get(c, "expected_ast"), JSON_COMPACT);
        why = g_strdup_printf("AST differs:\nexpected %s\ngot      %s", w, g);
        free(g);
        free(w);
    }
    json_decref(got);
    return why;
}

/* ---- transformation (expression -> regex) ------------------------------------------------ */

static char *run_transformation_case(json_t *c)
{
    const char *src = json_string_value(json_object_get(c, "expression"));
    const char *want = json_string_value(json_object_get(c, "expected_regex"));
    tf_param_registry *reg = tf_param_registry_new();
    GError *err = NULL;
    tf_expression *e = tf_expression_new_cucumber(reg, src, &err);
    char *why = NULL;
    if (!e)
        why = g_strdup_printf("unexpected error: %s", err->message);
    else if (strcmp(want, tf_expression_regex(e)))
        why = g_strdup_printf("expected regex %s, got %s", want, tf_expression_regex(e));
    g_clear_error(&err);
    tf_expression_free(e);
    tf_param_registry_unref(reg);
    return why;
}

/* ---- matching ---------------------------------------------------------------------------- */

static char *describe_arg(const tf_arg *a)
{
    switch (tf_arg_kind_of(a)) {
    case TF_ARG_NULL: return g_strdup("null");
    case TF_ARG_INT: return g_strdup_printf("int %" G_GINT64_FORMAT, tf_arg_int(a));
    case TF_ARG_DOUBLE: return g_strdup_printf("double %.17g", tf_arg_double(a));
    case TF_ARG_STRING: return g_strdup_printf("string \"%s\"", tf_arg_string(a));
    case TF_ARG_CUSTOM: return g_strdup("custom");
    }
    return g_strdup("?");
}

/* Does the argument hold exactly the JSON value (integer, real, string or null)? */
static gboolean arg_equals(const tf_arg *a, json_t *want)
{
    switch (json_typeof(want)) {
    case JSON_NULL: return tf_arg_kind_of(a) == TF_ARG_NULL;
    case JSON_INTEGER:
        return tf_arg_kind_of(a) == TF_ARG_INT && tf_arg_int(a) == json_integer_value(want);
    case JSON_REAL:
        return tf_arg_kind_of(a) == TF_ARG_DOUBLE && tf_arg_double(a) == json_real_value(want);
    case JSON_STRING:
        return tf_arg_kind_of(a) == TF_ARG_STRING &&
               strcmp(tf_arg_string(a), json_string_value(want)) == 0;
    default: return FALSE;
    }
}

static char *run_matching_case(json_t *c, gboolean regex)
{
    const char *src = json_string_value(json_object_get(c, "expression"));
    const char *text = json_string_value(json_object_get(c, "text"));
    gboolean want_error = json_object_get(c, "exception") != NULL;
    tf_param_registry *reg = tf_param_registry_new();
    GError *err = NULL;
    GPtrArray *args = NULL;
    tf_expression *e = regex ? tf_expression_new_regex(reg, src, &err)
                             : tf_expression_new_cucumber(reg, src, &err);
    gboolean matched = e && text && tf_expression_match(e, text, &args, &err);
    char *why = NULL;
    if (want_error) {
        why = check_exception(c, err);
    } else if (err) {
        why = g_strdup_printf("unexpected error: %s", err->message);
    } else {
        json_t *want = json_object_get(c, "expected_args");
        if (json_is_null(want)) {
            if (matched)
                why = g_strdup_printf("expected no match, but it matched");
        } else if (!matched) {
            why = g_strdup_printf("expected a match of \"%s\" (regex %s), got none", text,
                                  tf_expression_regex(e));
        } else if (json_array_size(want) != args->len) {
            why = g_strdup_printf("expected %zu args, got %u", json_array_size(want), args->len);
        } else {
            for (guint i = 0; !why && i < args->len; i++) {
                const tf_arg *a = g_ptr_array_index(args, i);
                json_t *w = json_array_get(want, i);
                if (!arg_equals(a, w)) {
                    char *ws = json_dumps(w, JSON_ENCODE_ANY);
                    char *gs = describe_arg(a);
                    why = g_strdup_printf("arg %u: expected %s, got %s", i, ws, gs);
                    free(ws);
                    g_free(gs);
                }
            }
        }
    }
    if (args)
        g_ptr_array_unref(args);
    g_clear_error(&err);
    tf_expression_free(e);
    tf_param_registry_unref(reg);
    return why;
}

/* ---- driver ------------------------------------------------------------------------------ */

typedef enum { K_TOKENIZER, K_PARSER, K_TRANSFORMATION, K_MATCHING, K_REGEX } kind;

static const struct {
    const char *file;
    kind k;
    size_t cases; /* how many the official file holds */
} files[] = {
    {"cucumber-expression-tokenizer.json", K_TOKENIZER, 16},
    {"cucumber-expression-parser.json", K_PARSER, 28},
    {"cucumber-expression-transformation.json", K_TRANSFORMATION, 8},
    {"cucumber-expression-matching.json", K_MATCHING, 49},
    {"regular-expression-matching.json", K_REGEX, 3},
};

static void run_file(void **state)
{
    guint idx = (guint)(uintptr_t)*state;
    guint failed_before = failed;
    json_t *cases = load_cases(files[idx].file, files[idx].cases);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        char *why = NULL;
        switch (files[idx].k) {
        case K_TOKENIZER: why = run_tokenizer_case(c); break;
        case K_PARSER: why = run_parser_case(c); break;
        case K_TRANSFORMATION: why = run_transformation_case(c); break;
        case K_MATCHING: why = run_matching_case(c, FALSE); break;
        case K_REGEX: why = run_matching_case(c, TRUE); break;
        }
        verdict(files[idx].file, c, why);
    }
    json_decref(cases);
    assert_int_equal(failed, failed_before);
}

static int set_file(void **state, guint i)
{
    *state = (void *)(uintptr_t)i;
    return 0;
}
static int f0(void **s) { return set_file(s, 0); }
static int f1(void **s) { return set_file(s, 1); }
static int f2(void **s) { return set_file(s, 2); }
static int f3(void **s) { return set_file(s, 3); }
static int f4(void **s) { return set_file(s, 4); }

int main(void)
{
    data_dir = tf_test_shared_data("cucumber-expressions",
                                   "the official Cucumber Expressions test data: "
                                   "cucumber-expression-{tokenizer,parser,transformation,matching}.json "
                                   "and regular-expression-matching.json");
    /* One cmocka test per data file, named after it. */
    const CMFixtureFunction setups[] = {f0, f1, f2, f3, f4};
    struct CMUnitTest tests[G_N_ELEMENTS(files)];
    for (guint i = 0; i < G_N_ELEMENTS(files); i++)
        tests[i] = (struct CMUnitTest){files[i].file, run_file, setups[i], NULL, NULL};
    int rc = _cmocka_run_group_tests("cucumber_expressions", tests, G_N_ELEMENTS(tests), NULL,
                                     NULL);
    printf("%s: %u cases\n", data_dir, passed + failed);
    printf("%u passed, %u failed\n", passed, failed);
    g_free(data_dir);
    if (!rc && passed != ALL_CASES) {
        printf("FAIL: %u cases passed, %u expected\n", passed, ALL_CASES);
        return 1;
    }
    return rc || failed;
}
