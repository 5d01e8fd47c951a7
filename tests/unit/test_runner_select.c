/* test_runner_select.c: which scenarios `tf run` selects. PATH:LINE picks the block the
 * line lies in (a Feature or Rule header, a Background, a scenario with its steps, doc
 * strings and tables, an Examples header or one row); a line between blocks, past the
 * end of the file or in a block that yields no scenario is an error naming FILE:LINE.
 * Directories are walked visiting each real file and directory once (a symlink to a
 * parent or a second name of a file runs nothing twice). --tags filters scenarios
 * (tags inherited from Feature, Rule, Scenario and Examples), alone and with lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include "run_fixture.h"

static GString *trail; /* the text argument of every step that ran, ';'-separated */

static tf_step_status st_note(tf_step *s, GError **e)
{
    g_string_append_printf(trail, "%s;", tf_step_arg_str(s, 0));
    return TF_STEP_PASSED;
}

static gboolean module(tf_registry *reg, GError **error)
{
    TF_STEP("the step {string}", st_note);
    return TRUE;
}

/* Line numbers matter below: every line of this feature is listed in the tests. */
static const char feature[] =
    "@ftag\n"                                  /*  1 */
    "Feature: selection\n"                     /*  2 */
    "  A description line\n"                   /*  3 */
    "  and another\n"                          /*  4 */
    "\n"                                       /*  5 */
    "  Background:\n"                          /*  6 */
    "    Given the step \"bg\"\n"              /*  7 */
    "\n"                                       /*  8 */
    "  Scenario: plain\n"                      /*  9 */
    "    Given the step \"plain-1\"\n"         /* 10 */
    "    # a comment inside\n"                 /* 11 */
    "    And the step \"plain-2\"\n"           /* 12 */
    "      \"\"\"\n"                           /* 13 */
    "      doc\n"                              /* 14 */
    "      \"\"\"\n"                           /* 15 */
    "\n"                                       /* 16 */
    "  @otag\n"                                /* 17 */
    "  Scenario Outline: outline <n>\n"        /* 18 */
    "    Given the step \"outline-<n>\"\n"     /* 19 */
    "\n"                                       /* 20 */
    "    Examples: first\n"                    /* 21 */
    "      | n |\n"                            /* 22 */
    "      | 1 |\n"                            /* 23 */
    "      | 2 |\n"                            /* 24 */
    "\n"                                       /* 25 */
    "    @etag\n"                              /* 26 */
    "    Examples: second\n"                   /* 27 */
    "      | n |\n"                            /* 28 */
    "      | 3 |\n"                            /* 29 */
    "\n"                                       /* 30 */
    "  Scenario Outline: empty outline\n"      /* 31 */
    "    Given the step \"never <x>\"\n"       /* 32 */
    "\n"                                       /* 33 */
    "    Examples:\n"                          /* 34 */
    "      | x |\n"                            /* 35 */
    "\n"                                       /* 36 */
    "  @rtag\n"                                /* 37 */
    "  Rule: a rule\n"                         /* 38 */
    "    Rule description\n"                   /* 39 */
    "\n"                                       /* 40 */
    "    Background:\n"                        /* 41 */
    "      Given the step \"rule-bg\"\n"       /* 42 */
    "\n"                                       /* 43 */
    "    Scenario: in rule\n"                  /* 44 */
    "      Given the step \"ruled\"\n"         /* 45 */
    "      And the step \"table\"\n"           /* 46 */
    "        | a |\n"                          /* 47 */
    "        | b |\n";                         /* 48 */
#define N_LINES 48

/* The scenarios of the feature, by the step only each runs. */
#define PLAIN "plain-1"
#define O1 "outline-1"
#define O2 "outline-2"
#define O3 "outline-3"
#define RULED "ruled"
static const char *const all_scenarios[] = {PLAIN, O1, O2, O3, RULED, NULL};

static char *path; /* the feature above, written once */

/* Runs with args (NULL-terminated); returns the exit code, stderr in *err (may be NULL). */
static int run(char **err, const char *const *args)
{
    g_string_truncate(trail, 0);
    GPtrArray *a = g_ptr_array_new();
    g_ptr_array_add(a, "--format=summary:/dev/null");
    for (const char *const *p = args; *p; p++)
        g_ptr_array_add(a, (gpointer)*p);
    g_ptr_array_add(a, NULL);
    rf_result r = rf_run(module, (const char *const *)a->pdata);
    g_ptr_array_unref(a);
    if (err)
        *err = g_strdup(r.err);
    int code = r.code;
    rf_result_clear(&r);
    return code;
}

/* How many times step text `what` ran in the last run. */
static guint ran(const char *what)
{
    char *needle = g_strdup_printf("%s;", what);
    guint n = 0;
    for (const char *p = trail->str; (p = strstr(p, needle)); p += strlen(needle))
        n += p == trail->str || p[-1] == ';';
    g_free(needle);
    return n;
}

/* Runs PATH:LINE and checks that exactly the scenarios in want (NULL-terminated) ran,
 * each once. */
static void expect_line(guint line, const char *const *want)
{
    char *arg = g_strdup_printf("%s:%u", path, line);
    char *err = NULL;
    int code = run(&err, (const char *const[]){arg, NULL});
    if (code != 0)
        fail_msg("line %u: exit %d: %s", line, code, err);
    for (const char *const *s = all_scenarios; *s; s++) {
        gboolean wanted = FALSE;
        for (const char *const *w = want; *w; w++)
            wanted |= !strcmp(*w, *s);
        if (ran(*s) != (wanted ? 1u : 0u))
            fail_msg("line %u: '%s' ran %u times, wanted %u (trail %s)", line, *s, ran(*s),
                     wanted ? 1 : 0, trail->str);
    }
    g_free(err);
    g_free(arg);
}

/* Runs PATH:LINE and checks it is a usage error naming PATH:LINE and saying why. */
static void expect_line_error(guint line, const char *why)
{
    char *arg = g_strdup_printf("%s:%u", path, line);
    char *err = NULL;
    int code = run(&err, (const char *const[]){arg, NULL});
    char *where = g_strdup_printf("%s:%u: ", path, line);
    if (code != TF_RUN_EXIT_USAGE || !strstr(err, where) || !strstr(err, why))
        fail_msg("line %u: exit %d, stderr:\n%s\nwanted 2 naming '%s' and '%s'", line, code,
                 err, where, why);
    assert_string_equal(trail->str, ""); /* nothing ran */
    g_free(where);
    g_free(err);
    g_free(arg);
}

#define SET(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_line_in_a_scenario_selects_it(void **state)
{
    for (guint l = 9; l <= 15; l++) /* keyword, steps, a comment, a doc string */
        expect_line(l, SET(PLAIN));
    for (guint l = 44; l <= 48; l++) /* a scenario in a rule, its data table */
        expect_line(l, SET(RULED));
    /* the scenario ran with its Background steps */
    expect_line(10, SET(PLAIN));
    assert_int_equal(ran("bg"), 1);
    assert_int_equal(ran("plain-2"), 1);
}

static void test_outline_lines(void **state)
{
    for (guint l = 17; l <= 19; l++) /* tags, keyword, steps: every row of every table */
        expect_line(l, SET(O1, O2, O3));
    expect_line(21, SET(O1, O2)); /* an Examples header: its rows */
    expect_line(22, SET(O1, O2));
    expect_line(23, SET(O1)); /* a row: that row */
    expect_line(24, SET(O2));
    for (guint l = 26; l <= 29; l++)
        expect_line(l, SET(O3));
}

static void test_header_and_background_lines(void **state)
{
    for (guint l = 1; l <= 4; l++) /* feature tags, keyword, description */
        expect_line(l, all_scenarios);
    for (guint l = 6; l <= 7; l++) /* the feature's Background applies to every scenario */
        expect_line(l, all_scenarios);
    for (guint l = 37; l <= 39; l++) /* rule tags, keyword, description */
        expect_line(l, SET(RULED));
    for (guint l = 41; l <= 42; l++) /* the rule's Background: the rule's scenarios */
        expect_line(l, SET(RULED));
}

static void test_lines_that_select_nothing_are_errors(void **state)
{
    const guint between[] = {5, 8, 16, 20, 25, 30, 33, 36, 40, 43};
    for (guint i = 0; i < G_N_ELEMENTS(between); i++)
        expect_line_error(between[i], "selects no scenario: the line is between blocks");
    expect_line_error(31, "selects no scenario: the Scenario Outline at line 31 has no "
                          "example rows");
    expect_line_error(32, "has no example rows");
    expect_line_error(34, "selects no scenario: the Examples at line 34 has no rows");
    expect_line_error(35, "the Examples at line 34 has no rows");
    expect_line_error(N_LINES + 1, "past the end of the file (48 lines)");
    expect_line_error(1000, "past the end of the file (48 lines)");
    /* one bad line among good ones still fails, before anything runs */
    char *arg = g_strdup_printf("%s:10:16", path);
    char *err = NULL;
    assert_int_equal(run(&err, (const char *const[]){arg, NULL}), TF_RUN_EXIT_USAGE);
    assert_string_equal(trail->str, "");
    g_free(err);
    g_free(arg);
    /* a line number needs a file */
    char *dir = g_strdup_printf("%s:3", rf_tmp());
    assert_int_equal(run(&err, (const char *const[]){dir, NULL}), TF_RUN_EXIT_USAGE);
    assert_non_null(strstr(err, "a line number needs a .feature file"));
    g_free(err);
    g_free(dir);
}

/* Runs args and checks each scenario in want ran exactly once and no other did. */
static void expect_run(const char *const *args, const char *const *want)
{
    char *err = NULL;
    int code = run(&err, args);
    if (code != 0)
        fail_msg("exit %d: %s", code, err);
    for (const char *const *s = all_scenarios; *s; s++) {
        gboolean wanted = FALSE;
        for (const char *const *w = want; *w; w++)
            wanted |= !strcmp(*w, *s);
        if (ran(*s) != (wanted ? 1u : 0u))
            fail_msg("'%s' ran %u times, wanted %u (trail %s)", *s, ran(*s), wanted ? 1 : 0,
                     trail->str);
    }
    g_free(err);
}

/* Lines given several ways select the union, and every scenario runs once: a file named
 * twice (also through a symlink) is one file. */
static void test_several_lines_and_names_of_one_file(void **state)
{
    char *a = g_strdup_printf("%s:23:10", path);
    expect_run(SET(a), SET(O1, PLAIN));
    g_free(a);
    a = g_strdup_printf("%s:9:10:12", path);
    expect_run(SET(a), SET(PLAIN));
    g_free(a);
    a = g_strdup_printf("%s:10", path);
    char *b = g_strdup_printf("%s:29", path);
    expect_run(SET(a, b), SET(PLAIN, O3));
    expect_run(SET(path, a), all_scenarios); /* the whole file wins */
    expect_run(SET(a, path), all_scenarios);
    char *alias = g_build_filename(rf_tmp(), "alias.feature", NULL);
    assert_int_equal(symlink(path, alias), 0);
    g_free(b);
    b = g_strdup_printf("%s:29", alias);
    expect_run(SET(a, b), SET(PLAIN, O3));
    expect_run(SET(path, alias), all_scenarios);
    assert_int_equal(unlink(alias), 0);
    g_free(alias);
    g_free(b);
    g_free(a);
}

/* A tree with a symlink to its parent, one to itself, a symlinked feature and a hard
 * link: each real feature file runs once, and the walk ends. */
static void test_directory_walk_visits_each_file_once(void **state)
{
    char *fa = rf_write("walk/a.feature", "Feature: a\n  Scenario: a\n    Given the step \"a\"\n");
    char *fb = rf_write("walk/sub/b.feature", "Feature: b\n  Scenario: b\n    Given the step \"b\"\n");
    char *walk = g_build_filename(rf_tmp(), "walk", NULL);
    char *sub = g_build_filename(walk, "sub", NULL);
    char *up = g_build_filename(sub, "up", NULL);
    char *self = g_build_filename(sub, "self", NULL);
    char *same = g_build_filename(walk, "same.feature", NULL);
    char *hard = g_build_filename(walk, "hard.feature", NULL);
    assert_int_equal(symlink("..", up), 0);
    assert_int_equal(symlink(".", self), 0);
    assert_int_equal(symlink("a.feature", same), 0);
    assert_int_equal(link(fb, hard), 0);
    char *err = NULL;
    const char *const *args[] = {SET(walk), SET(walk, fa, sub), SET(sub), SET(up)};
    for (guint i = 0; i < G_N_ELEMENTS(args); i++) {
        assert_int_equal(run(&err, args[i]), 0);
        if (ran("a") != 1 || ran("b") != 1)
            fail_msg("walk %u: a ran %u times, b %u times (trail %s)", i, ran("a"), ran("b"),
                     trail->str);
        g_free(err);
    }
    g_free(fa);
    g_free(fb);
    g_free(walk);
    g_free(sub);
    g_free(up);
    g_free(self);
    g_free(same);
    g_free(hard);
}

static void test_tags_filter(void **state)
{
    const struct {
        const char *expr;
        const char *const *want;
    } cases[] = {
        {"@ftag", all_scenarios},                 /* inherited from the Feature */
        {"@otag", SET(O1, O2, O3)},               /* the outline's own tag */
        {"@etag", SET(O3)},                       /* an Examples block's tag */
        {"@rtag", SET(RULED)},                    /* inherited from the Rule */
        {"not @otag", SET(PLAIN, RULED)},
        {"@otag and not @etag", SET(O1, O2)},
        {"@etag or @rtag", SET(O3, RULED)},
        {"@nosuchtag", SET(NULL)},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *err = NULL;
        int code = run(&err, (const char *const[]){"--tags", cases[i].expr, path, NULL});
        if (code != 0)
            fail_msg("--tags '%s': exit %d: %s", cases[i].expr, code, err);
        for (const char *const *s = all_scenarios; *s; s++) {
            gboolean wanted = FALSE;
            for (const char *const *w = cases[i].want; *w; w++)
                wanted |= !strcmp(*w, *s);
            if (ran(*s) != (wanted ? 1u : 0u))
                fail_msg("--tags '%s': '%s' ran %u times (trail %s)", cases[i].expr, *s,
                         ran(*s), trail->str);
        }
        g_free(err);
    }
    /* two --tags options must both hold; lines and tags combine */
    assert_int_equal(run(NULL, (const char *const[]){"-t", "@otag", "-t", "not @etag", path,
                                                     NULL}), 0);
    assert_int_equal(ran(O1) + ran(O2) + ran(O3) + ran(PLAIN), 2);
    assert_int_equal(ran(O3), 0);
    char *line = g_strdup_printf("%s:18", path);
    assert_int_equal(run(NULL, (const char *const[]){"--tags", "@etag", line, NULL}), 0);
    assert_string_equal(trail->str, "bg;outline-3;");
    g_free(line);
}

static int setup(void **state)
{
    trail = g_string_new(NULL);
    rf_setup("tf-select");
    path = rf_write("select.feature", feature);
    return 0;
}

static int teardown(void **state)
{
    g_free(path);
    rf_teardown();
    g_string_free(trail, TRUE);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_in_a_scenario_selects_it),
        cmocka_unit_test(test_outline_lines),
        cmocka_unit_test(test_header_and_background_lines),
        cmocka_unit_test(test_lines_that_select_nothing_are_errors),
        cmocka_unit_test(test_several_lines_and_names_of_one_file),
        cmocka_unit_test(test_directory_walk_visits_each_file_once),
        cmocka_unit_test(test_tags_filter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
