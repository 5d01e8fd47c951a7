/* test_tag_expression.c: tag expressions, table-driven. The parsing, evaluation and
 * error tables port cucumber/tag-expressions' testdata (parsing.yml, evaluations.yml,
 * errors.yml); the extra rows cover tf's own edge cases (empty input, escapes, arrays). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tf/error.h"
#include "tf/tags.h"

static tf_tag_expression *parse_ok(const char *infix)
{
    GError *err = NULL;
    tf_tag_expression *e = tf_tag_expression_parse(infix, &err);
    if (!e)
        fail_msg("parse %s: %s", infix, err->message);
    return e;
}

/* expression -> canonical text (official parsing.yml, then tf's own rows). */
static const struct {
    const char *expression, *formatted;
} parsing[] = {
    {"@a and @b", "( @a and @b )"},
    {"@a or @b", "( @a or @b )"},
    {"not @a", "not ( @a )"},
    {"@a and @b and @c", "( ( @a and @b ) and @c )"},
    {"( @a and @b ) or ( @c and @d )", "( ( @a and @b ) or ( @c and @d ) )"},
    {"not @a or @b and not @c or not @d or @e and @f",
     "( ( ( not ( @a ) or ( @b and not ( @c ) ) ) or not ( @d ) ) or ( @e and @f ) )"},
    {"not @a\\(\\) or @b and not @c or not @d or @e and @f",
     "( ( ( not ( @a\\(\\) ) or ( @b and not ( @c ) ) ) or not ( @d ) ) or ( @e and @f ) )"},
    {"not (@a and @b)", "not ( @a and @b )"},
    {"not (@a or @b)", "not ( @a or @b )"},
    {"not (@a and @b) and @c or not (@d or @f)",
     "( ( not ( @a and @b ) and @c ) or not ( @d or @f ) )"},
    {"@a\\\\ and @b", "( @a\\\\ and @b )"},
    {"@\\\\a and @b", "( @\\\\a and @b )"},
    {"@a and @b\\\\", "( @a and @b\\\\ )"},
    {"( @a and @b\\\\\\\\)", "( @a and @b\\\\\\\\ )"},
    {"@a\\\\\\( and @b\\\\\\)", "( @a\\\\\\( and @b\\\\\\) )"},
    {"(@a and @\\\\b)", "( @a and @\\\\b )"},
    {"@x or(@y) ", "( @x or @y )"},
    {"@x\\(1\\) or(@y\\(2\\))", "( @x\\(1\\) or @y\\(2\\) )"},
    {"@\\\\x or @y\\\\ or @z\\\\", "( ( @\\\\x or @y\\\\ ) or @z\\\\ )"},
    {"@x\\\\ or(@y\\\\\\)) or(@z\\\\)", "( ( @x\\\\ or @y\\\\\\) ) or @z\\\\ )"},
    {"@x\\  or @y", "( @x\\  or @y )"},
    /* tf's own rows */
    {"", "true"},
    {"   \t ", "true"},
    {"@a", "@a"},
    {"not not @a", "not ( not ( @a ) )"},
    {"not @a and @b", "( not ( @a ) and @b )"},
    {"@a or @b and @c", "( @a or ( @b and @c ) )"},
    {"((@a))", "@a"},
    {"\\(", "\\("},
    {"@a\tand\n@b", "( @a and @b )"},
    {"@ünï and @b", "( @ünï and @b )"},
};

static void test_parsing(void **state)
{
    for (guint i = 0; i < G_N_ELEMENTS(parsing); i++) {
        tf_tag_expression *e = parse_ok(parsing[i].expression);
        char *s = tf_tag_expression_to_string(e);
        if (strcmp(s, parsing[i].formatted) != 0)
            fail_msg("%s: expected %s, got %s", parsing[i].expression, parsing[i].formatted, s);
        /* The canonical text is itself an expression that formats to itself. */
        tf_tag_expression *again = parse_ok(s);
        char *s2 = tf_tag_expression_to_string(again);
        assert_string_equal(s2, s);
        g_free(s2);
        tf_tag_expression_free(again);
        g_free(s);
        tf_tag_expression_free(e);
    }
}

/* expression, tags (NULL-terminated, at most 3), result (official evaluations.yml + tf's). */
static const struct {
    const char *expression;
    const char *tags[4];
    gboolean result;
} evaluations[] = {
    {"not @x", {"@x"}, FALSE},
    {"not @x", {"@y"}, TRUE},
    {"@x and @y", {"@x", "@y"}, TRUE},
    {"@x and @y", {"@x"}, FALSE},
    {"@x and @y", {"@y"}, FALSE},
    {"@x or @y", {NULL}, FALSE},
    {"@x or @y", {"@x", "@y"}, TRUE},
    {"@x or @y", {"@x"}, TRUE},
    {"@x or @y", {"@y"}, TRUE},
    {"@x\\(1\\) or @y\\(2\\)", {"@x(1)"}, TRUE},
    {"@x\\(1\\) or @y\\(2\\)", {"@y(2)"}, TRUE},
    {"@x\\\\ or @y\\\\\\) or @z\\\\", {"@x\\"}, TRUE},
    {"@x\\\\ or @y\\\\\\) or @z\\\\", {"@y\\)"}, TRUE},
    {"@x\\\\ or @y\\\\\\) or @z\\\\", {"@z\\"}, TRUE},
    {"@x\\\\ or @y\\\\\\) or @z\\\\", {"@x"}, FALSE},
    {"@x\\\\ or @y\\\\\\) or @z\\\\", {"@y)"}, FALSE},
    {"@x\\\\ or @y\\\\\\) or @z\\\\", {"@z"}, FALSE},
    {"@\\\\x or @y\\\\ or @z\\\\", {"@\\x"}, TRUE},
    {"@\\\\x or @y\\\\ or @z\\\\", {"@y\\"}, TRUE},
    {"@\\\\x or @y\\\\ or @z\\\\", {"@z\\"}, TRUE},
    {"@\\\\x or @y\\\\ or @z\\\\", {"@x"}, FALSE},
    {"@\\\\x or @y\\\\ or @z\\\\", {"@y"}, FALSE},
    {"@\\\\x or @y\\\\ or @z\\\\", {"@z"}, FALSE},
    /* tf's own rows */
    {"", {NULL}, TRUE},
    {"", {"@a"}, TRUE},
    {"@a", {"@ab"}, FALSE},
    {"@a", {"a"}, FALSE},
    {"not @a and @b", {"@b"}, TRUE},
    {"not (@a and @b)", {"@b"}, TRUE},
    {"not (@a and @b)", {"@a", "@b"}, FALSE},
    {"@a or @b and @c", {"@a"}, TRUE},
    {"(@a or @b) and @c", {"@a"}, FALSE},
    {"(@a or @b) and @c", {"@b", "@c"}, TRUE},
    {"@x\\ y", {"@x y"}, TRUE},
    {"@x\\ y", {"@x", "y"}, FALSE},
    {"not not @a", {"@a"}, TRUE},
};

static void test_evaluations(void **state)
{
    for (guint i = 0; i < G_N_ELEMENTS(evaluations); i++) {
        tf_tag_expression *e = parse_ok(evaluations[i].expression);
        const char *const *tags = evaluations[i].tags;
        gssize n = 0;
        while (tags[n])
            n++;
        gboolean counted = tf_tag_expression_evaluate(e, tags, n);
        gboolean terminated = tf_tag_expression_evaluate(e, tags, -1);
        if (counted != evaluations[i].result || terminated != evaluations[i].result)
            fail_msg("row %u: %s with %zd tags: expected %d", i, evaluations[i].expression, n,
                     evaluations[i].result);
        tf_tag_expression_free(e);
    }
}

/* expression -> the official message after 'Tag expression "X" could not be parsed because
 * of syntax error: ' (official errors.yml, then tf's rows). */
static const struct {
    const char *expression, *error;
} errors[] = {
    {"@a @b or", "Expected operator."},
    {"@a and (@b not)", "Expected operator."},
    {"@a and (@b @c) or", "Expected operator."},
    {"@a and or", "Expected operand."},
    {"@a,@b",
     "An invalid tag combination operator was detected. The use of a comma (\",\") to combine "
     "tags is not supported. Please replace it with either the \"or\" or \"and\" operators for "
     "tag combinations. For example, use \"@tag1 or @tag2\" or \"@tag1 and @tag2\""},
    {"(@a ,@b)",
     "An invalid tag combination operator was detected. The use of a comma (\",\") to combine "
     "tags is not supported. Please replace it with either the \"or\" or \"and\" operators for "
     "tag combinations. For example, use \"@tag1 or @tag2\" or \"@tag1 and @tag2\""},
    {"or or", "Expected operand."},
    {"@a @b", "Expected operator."},
    {"( @a and @b ) )", "Unmatched )."},
    {"( ( @a and @b )", "Unmatched (."},
    {"@x or @\\y or @z", "Illegal escape before \"y\"."},
    {"@x\\ or @y", "Expected operator."},
    /* tf's own rows */
    {"a or", "Expected operand."},
    {"not", "Expected operand."},
    {"@a and not", "Expected operand."},
    {"()", "Expected operand."},
    {")", "Expected operand."},
    {"(", "Expected operand."},
    {"@a (", "Expected operator."},
    {"@a\\", "Illegal escape at end of expression."},
    {"@a\\,", "Illegal escape before \",\"."},
};

static void test_errors(void **state)
{
    for (guint i = 0; i < G_N_ELEMENTS(errors); i++) {
        GError *err = NULL;
        tf_tag_expression *e = tf_tag_expression_parse(errors[i].expression, &err);
        if (e)
            fail_msg("%s should not parse", errors[i].expression);
        assert_true(g_error_matches(err, TF_ERROR, TF_ERROR_PARSE));
        char *want = g_strdup_printf("Tag expression \"%s\" could not be parsed because of "
                                     "syntax error: %s",
                                     errors[i].expression, errors[i].error);
        if (strcmp(want, err->message) != 0)
            fail_msg("expected\n%s\ngot\n%s", want, err->message);
        g_free(want);
        g_error_free(err);
    }
}

/* Deep nesting must neither overflow nor lose structure. */
static void test_long_expressions(void **state)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < 500; i++)
        g_string_append_printf(s, "%s@t%d", i ? " or " : "", i);
    tf_tag_expression *e = parse_ok(s->str);
    const char *hit[] = {"@zzz", "@t499"};
    const char *miss[] = {"@zzz", "@t500"};
    assert_true(tf_tag_expression_evaluate(e, hit, 2));
    assert_false(tf_tag_expression_evaluate(e, miss, 2));
    tf_tag_expression_free(e);
    g_string_free(s, TRUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsing),
        cmocka_unit_test(test_evaluations),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_expressions),
    };
    return cmocka_run_group_tests_name("tag_expression", tests, NULL, NULL);
}
