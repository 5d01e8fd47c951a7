/* test_expression.c: the expression API as the step registry uses it — typed arguments
 * and offsets, custom parameter types and transformers, registry errors, regular
 * expression patterns, snippet generation, and matching from several threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "tf/error.h"
#include "tf/expression.h"

static tf_expression *compile(tf_param_registry *reg, const char *src)
{
    GError *err = NULL;
    tf_expression *e = tf_expression_new(reg, src, &err);
    if (!e)
        fail_msg("compile %s: %s", src, err->message);
    return e;
}

/* Matches and returns the args, failing the test on no match or an error. */
static GPtrArray *must_match(const tf_expression *e, const char *text)
{
    GError *err = NULL;
    GPtrArray *args = NULL;
    if (!tf_expression_match(e, text, &args, &err))
        fail_msg("%s should match \"%s\"%s%s", tf_expression_source(e), text,
                 err ? ": " : "", err ? err->message : "");
    return args;
}

static const tf_arg *arg(GPtrArray *args, guint i)
{
    assert_true(i < args->len);
    return g_ptr_array_index(args, i);
}

static void test_builtin_typed_args(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    tf_expression *e = compile(reg, "I have {int} {word} cukes at {float}°, {string} and {}!");
    assert_int_equal(tf_expression_n_params(e), 5);
    assert_string_equal(tf_param_type_name(tf_expression_param(e, 0)), "int");
    assert_false(tf_expression_is_regex(e));

    const char *text = "I have -42 green cukes at 1.5e+3°, 'it\\'s' and the rest!";
    /* 1.5e+3 has a lower-case e: the official float regexp only knows 'E', so no match. */
    assert_false(tf_expression_match(e, text, NULL, NULL));
    text = "I have -42 green cukes at 1.5E+3°, 'it\\'s' and the rest!";
    GPtrArray *args = must_match(e, text);
    assert_int_equal(args->len, 5);

    assert_int_equal(tf_arg_kind_of(arg(args, 0)), TF_ARG_INT);
    assert_int_equal(tf_arg_int(arg(args, 0)), -42);
    assert_string_equal(tf_arg_text(arg(args, 0)), "-42");
    assert_int_equal(tf_arg_start(arg(args, 0)), 7);
    assert_string_equal(tf_arg_param_type(arg(args, 0)), "int");

    assert_int_equal(tf_arg_kind_of(arg(args, 1)), TF_ARG_STRING);
    assert_string_equal(tf_arg_string(arg(args, 1)), "green");
    assert_int_equal(tf_arg_start(arg(args, 1)), 11);

    assert_int_equal(tf_arg_kind_of(arg(args, 2)), TF_ARG_DOUBLE);
    assert_true(tf_arg_double(arg(args, 2)) == 1500.0);

    /* {string}: the value is unquoted and unescaped, the text keeps both. */
    assert_string_equal(tf_arg_string(arg(args, 3)), "it's");
    assert_string_equal(tf_arg_text(arg(args, 3)), "'it\\'s'");
    assert_int_equal(tf_arg_start(arg(args, 3)), (gssize)(strstr(text, "'it") - text));

    assert_string_equal(tf_arg_param_type(arg(args, 4)), "");
    assert_string_equal(tf_arg_string(arg(args, 4)), "the rest");

    /* Wrong-kind getters return neutral values rather than reinterpreting bits. */
    assert_null(tf_arg_string(arg(args, 0)));
    assert_int_equal(tf_arg_int(arg(args, 1)), 0);
    g_ptr_array_unref(args);
    tf_expression_free(e);
    tf_param_registry_unref(reg);
}

static void test_offsets_are_bytes(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    tf_expression *e = compile(reg, "😀 has {int}");
    GPtrArray *args = must_match(e, "😀 has 5");
    assert_int_equal(tf_arg_start(arg(args, 0)), 9); /* 4-byte emoji + " has " */
    g_ptr_array_unref(args);
    tf_expression_free(e);
    tf_param_registry_unref(reg);
}

static void test_integer_ranges(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    struct {
        const char *expr, *text;
        gboolean ok;
        gint64 value;
    } cases[] = {
        {"{byte}", "127", TRUE, 127},       {"{byte}", "-128", TRUE, -128},
        {"{byte}", "128", FALSE, 0},        {"{short}", "-32768", TRUE, -32768},
        {"{short}", "32768", FALSE, 0},     {"{int}", "4294967296", TRUE, 4294967296LL},
        {"{long}", "-9223372036854775808", TRUE, G_MININT64},
        {"{long}", "9223372036854775808", FALSE, 0},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        tf_expression *e = compile(reg, cases[i].expr);
        GPtrArray *args = NULL;
        GError *err = NULL;
        gboolean ok = tf_expression_match(e, cases[i].text, &args, &err);
        if (ok != cases[i].ok)
            fail_msg("%s on %s: expected %s", cases[i].expr, cases[i].text,
                     cases[i].ok ? "a value" : "an error");
        if (ok) {
            assert_int_equal(tf_arg_int(arg(args, 0)), cases[i].value);
            g_ptr_array_unref(args);
        } else {
            assert_non_null(err);
            assert_null(args);
            assert_non_null(strstr(err->message, cases[i].text));
            g_error_free(err);
        }
        tf_expression_free(e);
    }
    tf_param_registry_unref(reg);
}

static void test_optional_alternation_escapes(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    tf_expression *e = compile(reg, "I have {int} cuke(s) in my belly/stomach \\(really\\)");
    GPtrArray *args = must_match(e, "I have 1 cuke in my belly (really)");
    assert_int_equal(tf_arg_int(arg(args, 0)), 1);
    g_ptr_array_unref(args);
    assert_true(tf_expression_match(e, "I have 2 cukes in my stomach (really)", NULL, NULL));
    assert_false(tf_expression_match(e, "I have 2 cukes in my belly/stomach (really)", NULL, NULL));
    assert_false(tf_expression_match(e, "I have 2 cukes in my belly really", NULL, NULL));
    /* The whole text must match: nothing before, nothing after, not even a newline. */
    assert_false(tf_expression_match(e, "I have 2 cukes in my belly (really)\n", NULL, NULL));
    assert_false(tf_expression_match(e, "So I have 2 cukes in my belly (really)", NULL, NULL));
    tf_expression_free(e);
    tf_param_registry_unref(reg);
}

static void test_compile_errors(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    struct {
        const char *src, *fragment;
    } cases[] = {
        {"{color}", "Undefined parameter type 'color'"},
        {"a ({int})", "An optional may not contain a parameter type"},
        {"a ((b))", "An optional may not contain an other optional"},
        {"a/(b) c", "An alternative may not exclusively contain optionals"},
        {"a \\x", "Only the characters"},
        {"a (b", "The '(' does not have a matching ')'"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *err = NULL;
        tf_expression *e = tf_expression_new_cucumber(reg, cases[i].src, &err);
        if (e)
            fail_msg("%s should not compile", cases[i].src);
        assert_true(g_error_matches(err, TF_ERROR, TF_ERROR_PARSE));
        if (!strstr(err->message, cases[i].fragment))
            fail_msg("%s: message %s lacks %s", cases[i].src, err->message, cases[i].fragment);
        assert_true(g_str_has_prefix(err->message, "This Cucumber Expression has a problem"));
        g_error_free(err);
    }
    GError *err = NULL;
    assert_null(tf_expression_new_regex(reg, "^a(b$", &err));
    assert_true(g_error_matches(err, TF_ERROR, TF_ERROR_PARSE));
    g_error_free(err);
    tf_param_registry_unref(reg);
}

/* ---- custom parameter types ----------------------------------------------------------- */

typedef struct {
    int x, y;
} point;

static int points_freed;

static void point_free(gpointer p)
{
    points_freed++;
    g_free(p);
}

static gboolean transform_point(const char *const *groups, guint n, tf_arg *out, void *data,
                                GError **error)
{
    assert_int_equal(n, 2);
    assert_ptr_equal(data, &points_freed);
    point *p = g_new(point, 1);
    p->x = atoi(groups[0]);
    p->y = atoi(groups[1]);
    if (p->x > 1000) {
        g_free(p);
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "{point}: %s is off the map", groups[0]);
        return FALSE;
    }
    tf_arg_set_custom(out, p, point_free);
    return TRUE;
}

static gboolean transform_upper(const char *const *groups, guint n, tf_arg *out, void *data,
                                GError **error)
{
    assert_int_equal(n, 1);
    tf_arg_take_string(out, g_ascii_strup(groups[0], -1));
    return TRUE;
}

static void test_custom_types(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    static const char *const point_res[] = {"\\((\\d+), ?(\\d+)\\)", NULL};
    static const char *const color_res[] = {"red|green|blue", "cyan", NULL};
    GError *err = NULL;
    const tf_param_type *pt = tf_param_registry_define(reg, "point", point_res, transform_point,
                                                       &points_freed, NULL,
                                                       TF_PARAM_USE_FOR_SNIPPETS, &err);
    assert_non_null(pt);
    assert_non_null(tf_param_registry_define(reg, "color", color_res, transform_upper, NULL, NULL,
                                             0, &err));
    assert_ptr_equal(tf_param_registry_lookup(reg, "point"), pt);
    assert_false(tf_param_type_is_builtin(pt));
    assert_true(tf_param_type_is_builtin(tf_param_registry_lookup(reg, "int")));
    assert_string_equal(tf_param_type_regexps(pt)[0], point_res[0]);

    tf_expression *e = compile(reg, "a {color} robot at {point}");
    assert_string_equal(tf_expression_regex(e),
                        "^a ((?:red|green|blue)|(?:cyan)) robot at (\\((\\d+), ?(\\d+)\\))$");
    points_freed = 0;
    GPtrArray *args = must_match(e, "a cyan robot at (3, 4)");
    assert_string_equal(tf_arg_string(arg(args, 0)), "CYAN");
    assert_int_equal(tf_arg_kind_of(arg(args, 1)), TF_ARG_CUSTOM);
    const point *p = tf_arg_custom(arg(args, 1));
    assert_int_equal(p->x, 3);
    assert_int_equal(p->y, 4);
    assert_string_equal(tf_arg_text(arg(args, 1)), "(3, 4)");
    g_ptr_array_unref(args);
    assert_int_equal(points_freed, 1);

    /* A transformer's error fails the match and reaches the caller. */
    args = NULL;
    assert_false(tf_expression_match(e, "a red robot at (3000, 4)", &args, &err));
    assert_null(args);
    assert_true(g_error_matches(err, TF_ERROR, TF_ERROR_INVALID));
    assert_string_equal(err->message, "{point}: 3000 is off the map");
    g_clear_error(&err);
    tf_expression_free(e);

    /* Without a transformer the value is the matched text. */
    static const char *const hex_res[] = {"0x[0-9a-f]+", NULL};
    assert_non_null(tf_param_registry_define(reg, "hex", hex_res, NULL, NULL, NULL, 0, &err));
    e = compile(reg, "key {hex}");
    args = must_match(e, "key 0xbeef");
    assert_string_equal(tf_arg_string(arg(args, 0)), "0xbeef");
    g_ptr_array_unref(args);
    tf_expression_free(e);

    GPtrArray *all = tf_param_registry_list(reg);
    assert_int_equal(all->len, 14); /* 11 built-ins + 3 */
    assert_string_equal(tf_param_type_name(g_ptr_array_index(all, 0)), "int");
    assert_string_equal(tf_param_type_name(g_ptr_array_index(all, 13)), "hex");
    g_ptr_array_unref(all);
    tf_param_registry_unref(reg);
}

static void data_free_counter(gpointer p)
{
    (*(int *)p)++;
}

static void test_define_errors_and_lifetime(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    static const char *const re[] = {"[a-z]+", NULL};
    static const char *const bad_re[] = {"([a-z]+", NULL};
    static const char *const int_re[] = {"-?\\d+", NULL};
    struct {
        const char *name;
        const char *const *regexps;
        tf_param_flags flags;
        const char *message;
    } cases[] = {
        {"int", re, 0, "There is already a parameter type with name int"},
        {"", re, 0, "The anonymous parameter type has already been defined"},
        {"a/b", re, 0,
         "Illegal character in parameter name {a/b}. Parameter names may not contain '{', '}', "
         "'(', ')', '\\' or '/'"},
        {"broken", bad_re, 0, NULL},
        {"number", int_re, TF_PARAM_PREFER_FOR_REGEXP_MATCH,
         "There can only be one preferential parameter type per regexp. The regexp /-?\\d+/ is "
         "used for two preferential parameter types, {int} and {number}"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *err = NULL;
        assert_null(tf_param_registry_define(reg, cases[i].name, cases[i].regexps, NULL, NULL,
                                             NULL, cases[i].flags, &err));
        assert_true(g_error_matches(err, TF_ERROR, TF_ERROR_INVALID));
        if (cases[i].message)
            assert_string_equal(err->message, cases[i].message);
        g_error_free(err);
    }
    assert_null(tf_param_registry_lookup(reg, "broken"));

    /* The registry frees transformer data with it; expressions keep it alive. */
    int freed = 0;
    assert_non_null(tf_param_registry_define(reg, "animal", re, NULL, &freed, data_free_counter,
                                             0, NULL));
    tf_expression *e = compile(reg, "a {animal}");
    tf_param_registry_unref(reg);
    assert_int_equal(freed, 0);
    assert_true(tf_expression_match(e, "a cat", NULL, NULL));
    tf_expression_free(e);
    assert_int_equal(freed, 1);
}

/* ---- regular expressions ------------------------------------------------------------------ */

static void test_regex_patterns(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    /* \d+ is a regexp of {int} (preferential), .* of {} : those groups are transformed. */
    tf_expression *e = compile(reg, "^I have (\\d+) (?:big )?cukes? in (.*) named ([A-Z]\\w*)$");
    assert_true(tf_expression_is_regex(e));
    assert_int_equal(tf_expression_n_params(e), 3);
    assert_string_equal(tf_param_type_name(tf_expression_param(e, 0)), "int");
    assert_string_equal(tf_param_type_name(tf_expression_param(e, 1)), "");
    assert_null(tf_expression_param(e, 2));
    GPtrArray *args = must_match(e, "I have 12 big cukes in the jar named Bob");
    assert_int_equal(tf_arg_kind_of(arg(args, 0)), TF_ARG_INT);
    assert_int_equal(tf_arg_int(arg(args, 0)), 12);
    assert_string_equal(tf_arg_string(arg(args, 1)), "the jar");
    assert_int_equal(tf_arg_start(arg(args, 1)), 23);
    assert_string_equal(tf_arg_string(arg(args, 2)), "Bob");
    assert_null(tf_arg_param_type(arg(args, 2)));
    g_ptr_array_unref(args);
    tf_expression_free(e);

    /* /.../ and $-terminated sources are regexes too; others are Cucumber Expressions. */
    e = compile(reg, "/cukes? (\\d+)/");
    assert_true(tf_expression_is_regex(e));
    assert_true(tf_expression_match(e, "several cukes 3 and more", NULL, NULL));
    tf_expression_free(e);
    e = compile(reg, "(\\d+) cukes$");
    assert_true(tf_expression_is_regex(e));
    tf_expression_free(e);
    e = compile(reg, "(a) cuke");
    assert_false(tf_expression_is_regex(e));
    tf_expression_free(e);

    /* The literal-prefix pre-filter must not reject what the regex accepts. */
    struct {
        const char *pattern, *text;
    } prefixed[] = {
        {"^ab?c$", "ac"},         {"^ab*c$", "ac"},        {"^ab{0,2}c$", "ac"},
        {"^a b|c d$", "c d"},     {"^x\\d$", "x7"},        {"^(?i)abc$", "ABC"},
        {"^no cukes?$", "no cuke"}, {"cukes$", "many cukes"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(prefixed); i++) {
        e = compile(reg, prefixed[i].pattern);
        if (!tf_expression_match(e, prefixed[i].text, NULL, NULL))
            fail_msg("%s should match %s", prefixed[i].pattern, prefixed[i].text);
        args = must_match(e, prefixed[i].text);
        g_ptr_array_unref(args);
        tf_expression_free(e);
    }

    /* Named, non-capturing, look-around and in-class parentheses are told apart. */
    e = compile(reg, "^(?<first>[a-z]+)(?=[ ])[ ](?:x|[()])?(?P<n>\\d+)(\\((\\w)\\))?$");
    assert_int_equal(tf_expression_n_params(e), 3);
    args = must_match(e, "abc (42(z)");
    assert_string_equal(tf_arg_string(arg(args, 0)), "abc");
    /* As in Cucumber, a named group's source includes its name, so no type claims it. */
    assert_string_equal(tf_arg_string(arg(args, 1)), "42");
    assert_string_equal(tf_arg_string(arg(args, 2)), "(z)");
    g_ptr_array_unref(args);
    args = must_match(e, "abc 42");
    assert_int_equal(tf_arg_kind_of(arg(args, 2)), TF_ARG_NULL);
    assert_int_equal(tf_arg_start(arg(args, 2)), -1);
    g_ptr_array_unref(args);
    tf_expression_free(e);
    tf_param_registry_unref(reg);
}

static void test_regex_ambiguous_and_preferred(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    static const char *const re[] = {"[a-z]+", NULL};
    assert_non_null(tf_param_registry_define(reg, "color", re, transform_upper, NULL, NULL,
                                             TF_PARAM_USE_FOR_SNIPPETS, NULL));
    assert_non_null(tf_param_registry_define(reg, "animal", re, NULL, NULL, NULL, 0, NULL));
    tf_expression *e = compile(reg, "^I see a ([a-z]+)$");
    GError *err = NULL;
    GPtrArray *args = NULL;
    assert_false(tf_expression_match(e, "I see a cat", &args, &err));
    assert_null(args);
    assert_non_null(err);
    assert_true(g_str_has_prefix(err->message, "Your Regular Expression /^I see a ([a-z]+)$/\n"
                                               "matches multiple parameter types with regexp "
                                               "/[a-z]+/:\n   {animal}\n   {color}\n"));
    /* ...and suggests expressions generated from the text with the snippet types. */
    assert_non_null(strstr(err->message, "Try one of these:\n   I {color} {color} {color}\n"));
    g_error_free(err);
    /* A plain yes/no match does not transform, so it is not ambiguous. */
    assert_true(tf_expression_match(e, "I see a cat", NULL, NULL));
    tf_expression_free(e);

    static const char *const re2[] = {"[A-Z]+", NULL};
    assert_non_null(tf_param_registry_define(reg, "shout", re2, NULL, NULL, NULL, 0, NULL));
    assert_non_null(tf_param_registry_define(reg, "loud", re2, transform_upper, NULL, NULL,
                                             TF_PARAM_PREFER_FOR_REGEXP_MATCH, NULL));
    e = compile(reg, "^I hear ([A-Z]+)$");
    assert_string_equal(tf_param_type_name(tf_expression_param(e, 0)), "loud");
    args = must_match(e, "I hear HEY");
    assert_string_equal(tf_arg_param_type(arg(args, 0)), "loud");
    g_ptr_array_unref(args);
    tf_expression_free(e);
    tf_param_registry_unref(reg);
}

/* ---- snippets ----------------------------------------------------------------------------- */

static void test_generate_snippets(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    struct {
        const char *text, *first, *second;
    } cases[] = {
        {"I have 42 cukes", "I have {int} cukes", "I have {float} cukes"},
        {"I have 1.5 cukes", "I have {float} cukes", NULL},
        {"I have \"blue\" and 'red' cukes", "I have {string} and {string} cukes", NULL},
        {"a3 b 5", "a3 b {int}", "a3 b {float}"},
        {"I (may) have {some}/more cukes", "I \\(may) have \\{some}\\/more cukes", NULL},
        {"no parameters here", "no parameters here", NULL},
        {"back\\slash 7", "back\\\\slash {int}", "back\\\\slash {float}"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GPtrArray *gens = tf_expression_generate(reg, cases[i].text);
        assert_true(gens->len >= 1);
        assert_string_equal(tf_generated_expression_source(g_ptr_array_index(gens, 0)),
                            cases[i].first);
        if (cases[i].second) {
            assert_true(gens->len >= 2);
            assert_string_equal(tf_generated_expression_source(g_ptr_array_index(gens, 1)),
                                cases[i].second);
        }
        /* Every generated expression compiles and matches the text it came from. */
        for (guint k = 0; k < gens->len; k++) {
            const char *src = tf_generated_expression_source(g_ptr_array_index(gens, k));
            GError *err = NULL;
            tf_expression *e = tf_expression_new_cucumber(reg, src, &err);
            if (!e)
                fail_msg("%s: %s", src, err->message);
            if (!tf_expression_match(e, cases[i].text, NULL, NULL))
                fail_msg("generated %s does not match %s", src, cases[i].text);
            tf_expression_free(e);
        }
        g_ptr_array_unref(gens);
    }

    GPtrArray *gens = tf_expression_generate(reg, "move 3 to 4 with \"x\"");
    /* int|float for each number: 4 combinations, int first. */
    assert_int_equal(gens->len, 4);
    const tf_generated_expression *g = g_ptr_array_index(gens, 0);
    assert_string_equal(tf_generated_expression_source(g), "move {int} to {int} with {string}");
    assert_int_equal(tf_generated_expression_n_params(g), 3);
    assert_string_equal(tf_generated_expression_param_name(g, 0), "int");
    assert_string_equal(tf_generated_expression_param_name(g, 1), "int2");
    assert_string_equal(tf_generated_expression_param_name(g, 2), "string");
    assert_string_equal(tf_param_type_name(tf_generated_expression_param(g, 2)), "string");
    assert_string_equal(tf_generated_expression_source(g_ptr_array_index(gens, 3)),
                        "move {float} to {float} with {string}");
    g_ptr_array_unref(gens);

    /* Custom snippet types take part; combinations stop at 256. */
    static const char *const re[] = {"x", NULL};
    assert_non_null(tf_param_registry_define(reg, "ex", re, NULL, NULL, NULL,
                                             TF_PARAM_USE_FOR_SNIPPETS, NULL));
    gens = tf_expression_generate(reg, "1 2 3 4 5 6 7 8 9 x");
    assert_int_equal(gens->len, 256);
    assert_string_equal(tf_generated_expression_source(g_ptr_array_index(gens, 0)),
                        "{int} {int} {int} {int} {int} {int} {int} {int} {int} {ex}");
    g_ptr_array_unref(gens);
    tf_param_registry_unref(reg);
}

/* ---- threads ------------------------------------------------------------------------------ */

static gpointer match_many(gpointer data)
{
    const tf_expression *e = data;
    guint good = 0;
    for (int i = 0; i < 2000; i++) {
        char *text = g_strdup_printf("I have %d cukes", i);
        GPtrArray *args = NULL;
        if (tf_expression_match(e, text, &args, NULL) &&
            tf_arg_int(g_ptr_array_index(args, 0)) == i)
            good++;
        if (args)
            g_ptr_array_unref(args);
        g_free(text);
    }
    return GUINT_TO_POINTER(good);
}

static void test_match_from_threads(void **state)
{
    tf_param_registry *reg = tf_param_registry_new();
    tf_expression *e = compile(reg, "I have {int} cuke(s)");
    GThread *threads[4];
    for (int i = 0; i < 4; i++)
        threads[i] = g_thread_new("match", match_many, e);
    for (int i = 0; i < 4; i++)
        assert_int_equal(GPOINTER_TO_UINT(g_thread_join(threads[i])), 2000);
    tf_expression_free(e);
    tf_param_registry_unref(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_typed_args),
        cmocka_unit_test(test_offsets_are_bytes),
        cmocka_unit_test(test_integer_ranges),
        cmocka_unit_test(test_optional_alternation_escapes),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_custom_types),
        cmocka_unit_test(test_define_errors_and_lifetime),
        cmocka_unit_test(test_regex_patterns),
        cmocka_unit_test(test_regex_ambiguous_and_preferred),
        cmocka_unit_test(test_generate_snippets),
        cmocka_unit_test(test_match_from_threads),
    };
    return cmocka_run_group_tests_name("expression", tests, NULL, NULL);
}
