/* test_gherkin_step_args.c: a step with both a data table and a doc string (either
 * order) reaches its step definition with both: tf_step_table and tf_step_doc_string
 * each see theirs through tf_run_main, and a step with one argument sees only that. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include "tf/runner.h"

static GString *seen; /* what each step saw: "table=<cells>|doc=<text>;" */

static tf_step_status st_args(tf_step *s, GError **e)
{
    guint n = 0;
    const tf_gherkin_pickle_row *rows = tf_step_table(s, &n);
    const char *media = NULL;
    const char *doc = tf_step_doc_string(s, &media);
    g_string_append(seen, "table=");
    for (guint r = 0; rows && r < n; r++)
        for (guint c = 0; c < rows[r].n_cells; c++)
            g_string_append_printf(seen, "%s,", rows[r].cells[c]);
    g_string_append_printf(seen, "|doc=%s|media=%s;", doc ? doc : "(none)", media ? media : "(none)");
    return TF_STEP_PASSED;
}

static gboolean module(tf_registry *reg, GError **error)
{
    TF_GIVEN("a step with {word}", st_args);
    return TRUE;
}

static void test_both_arguments_reach_the_step(void **state)
{
    char *dir = g_dir_make_tmp("tf-step-args-XXXXXX", NULL);
    assert_non_null(dir);
    char *path = g_build_filename(dir, "args.feature", NULL);
    assert_true(g_file_set_contents(path,
                                    "Feature: arguments\n"
                                    "  Scenario: both\n"
                                    "    Given a step with table-then-doc\n"
                                    "      | a | b |\n"
                                    "      \"\"\"text\n"
                                    "      first\n"
                                    "      \"\"\"\n"
                                    "    Given a step with doc-then-table\n"
                                    "      ```\n"
                                    "      second\n"
                                    "      ```\n"
                                    "      | c |\n"
                                    "    Given a step with table\n"
                                    "      | d |\n"
                                    "    Given a step with doc\n"
                                    "      \"\"\"\n"
                                    "      third\n"
                                    "      \"\"\"\n"
                                    "    Given a step with nothing\n",
                                    -1, NULL));
    seen = g_string_new(NULL);
    char *argv[] = {"tf-run", "--format=summary:/dev/null", path, NULL};
    tf_plugin_init_fn mods[] = {module};
    assert_int_equal(tf_run_main(3, argv, mods, 1), 0);
    assert_string_equal(seen->str, "table=a,b,|doc=first|media=text;"
                                   "table=c,|doc=second|media=(none);"
                                   "table=d,|doc=(none)|media=(none);"
                                   "table=|doc=third|media=(none);"
                                   "table=|doc=(none)|media=(none);");
    g_string_free(seen, TRUE);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_arguments_reach_the_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
