/* test_options.c: the one option parser of every tf command (tf/runner/options.c), in
 * process: --name=value, --name value, -l value and -l=value store the same; a missing
 * value, a value given to a flag and an unknown option are errors worded one way; "--"
 * ends the options; repeatable options keep every value in order; numeric values go
 * through option_value (range, nan refused); -h/--help stop parsing unless an error came
 * first; the generated usage lists each option once, aligned, and every option it lists
 * parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include "../../tf/runner/options.h"

typedef struct {
    int verbose;
    const char *store;
    GPtrArray *formats;
    guint64 port;
    gint64 timeout_us;
    char *seen; /* what opt_upper saw */
    int extra;  /* set through the second group */
} args;

static gboolean opt_upper(const char *option, const char *value, void *field, GError **error)
{
    if (!*value) {
        g_set_error(error, g_quark_from_static_string("test"), 1, "%s: empty", option);
        return FALSE;
    }
    g_free(*(char **)field);
    *(char **)field = g_ascii_strup(value, -1);
    return TRUE;
}

#define OPT(f) offsetof(args, f)
static const tf_opt table[] = {
    {"verbose", 'v', TF_OPT_FLAG, NULL, "say more", OPT(verbose), 1},
    {"quiet", 0, TF_OPT_FLAG, NULL, "say less", OPT(verbose), 0},
    {"store", 0, TF_OPT_TEXT, "PATH", "the store\nsecond line", OPT(store)},
    {"format", 'f', TF_OPT_TEXTS, "FMT", "a format", OPT(formats)},
    {"port", 0, TF_OPT_UINT, "N", "a port", OPT(port), .max = 65535},
    {"step-timeout", 0, TF_OPT_SECONDS, "S", "a duration", OPT(timeout_us)},
    {"upper", 'u', TF_OPT_CALL, "a-very-long-value-name-that-wraps", "upper-cased", OPT(seen),
     .call = opt_upper, .repeatable = TRUE},
    {NULL},
};
static const tf_opt extra_table[] = {
    {"extra", 'x', TF_OPT_FLAG, NULL, "from the second group", OPT(extra), 7},
    {NULL},
};
#undef OPT

static args a;
static GPtrArray *positional;
static tf_opt_cmd cmd;

static int setup(void **state)
{
    memset(&a, 0, sizeof a);
    a.formats = g_ptr_array_new();
    positional = g_ptr_array_new();
    cmd = (tf_opt_cmd){.prog = "tf test", .synopsis = "[OPTIONS] FILE...",
                       .preamble = "  FILE  a file\n", .epilogue = "exit: 0\n",
                       .groups = {{table, &a}, {extra_table, &a}}, .positional = TRUE};
    return 0;
}

static int teardown(void **state)
{
    g_ptr_array_unref(a.formats);
    g_ptr_array_unref(positional);
    g_free(a.seen);
    return 0;
}

/* Parses the NULL-terminated args after a program name; returns the result and sets
 * *message to the error's text (static buffer) on an error. */
static tf_opt_result parse(const char **message, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "prog");
    va_list ap;
    va_start(ap, message);
    const char *s;
    while ((s = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (gpointer)s);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    GError *error = NULL;
    tf_opt_result r = tf_opt_parse(&cmd, (int)argv->len - 1, (char **)argv->pdata, positional,
                                   &error);
    static char text[256];
    g_strlcpy(text, error ? error->message : "", sizeof text);
    if (message)
        *message = text;
    assert_true((r == TF_OPT_ERROR) == (error != NULL));
    g_clear_error(&error);
    g_ptr_array_unref(argv);
    return r;
}

static void test_value_forms_agree(void **state)
{
    const char *const forms[][3] = {{"--store=/a", NULL}, {"--store", "/a", NULL}};
    for (guint i = 0; i < G_N_ELEMENTS(forms); i++) {
        a.store = NULL;
        assert_int_equal(parse(NULL, forms[i][0], forms[i][1], NULL), TF_OPT_OK);
        assert_string_equal(a.store, "/a");
    }
    assert_int_equal(parse(NULL, "-f", "pretty", "-f=junit", "--format=message:x",
                           "--format", "summary", NULL), TF_OPT_OK);
    assert_int_equal(a.formats->len, 4);
    assert_string_equal(g_ptr_array_index(a.formats, 0), "pretty");
    assert_string_equal(g_ptr_array_index(a.formats, 1), "junit");
    assert_string_equal(g_ptr_array_index(a.formats, 2), "message:x");
    assert_string_equal(g_ptr_array_index(a.formats, 3), "summary");
    /* a value that looks like an option is still the value */
    assert_int_equal(parse(NULL, "--store", "--verbose", NULL), TF_OPT_OK);
    assert_string_equal(a.store, "--verbose");
    assert_int_equal(a.verbose, 0);
    /* the last of a non-repeatable option wins; "=" inside a value is kept */
    assert_int_equal(parse(NULL, "--store=/a", "--store=/b=c", NULL), TF_OPT_OK);
    assert_string_equal(a.store, "/b=c");
    assert_int_equal(parse(NULL, "--store=", NULL), TF_OPT_OK);
    assert_string_equal(a.store, "");
}

static void test_flags_and_groups(void **state)
{
    assert_int_equal(parse(NULL, "-v", NULL), TF_OPT_OK);
    assert_int_equal(a.verbose, 1);
    assert_int_equal(parse(NULL, "--verbose", "--quiet", NULL), TF_OPT_OK);
    assert_int_equal(a.verbose, 0);
    assert_int_equal(parse(NULL, "-x", NULL), TF_OPT_OK);
    assert_int_equal(a.extra, 7);
}

static void test_typed_values(void **state)
{
    const char *msg = NULL;
    assert_int_equal(parse(NULL, "--port=3902", "--step-timeout", "500ms", NULL), TF_OPT_OK);
    assert_int_equal(a.port, 3902);
    assert_int_equal(a.timeout_us, 500000);
    assert_int_equal(parse(&msg, "--port", "65536", NULL), TF_OPT_ERROR);
    assert_string_equal(msg, "--port: '65536' is out of range (0 to 65535)");
    assert_int_equal(parse(&msg, "--step-timeout=nan", NULL), TF_OPT_ERROR);
    assert_string_equal(msg, "--step-timeout: 'nan' is not a number of seconds (e.g. 30, 0.5 or "
                             "500ms)");
    /* a short name reports the long one */
    assert_int_equal(parse(&msg, "-u", "", NULL), TF_OPT_ERROR);
    assert_string_equal(msg, "--upper: empty");
    assert_int_equal(parse(NULL, "-u", "abc", NULL), TF_OPT_OK);
    assert_string_equal(a.seen, "ABC");
}

static void test_errors_read_the_same(void **state)
{
    const char *msg = NULL;
    const struct {
        const char *args[3];
        const char *want;
    } cases[] = {
        {{"--bogus"}, "unknown option '--bogus'"},
        {{"--bogus=1"}, "unknown option '--bogus=1'"},
        {{"-z"}, "unknown option '-z'"},
        {{"-vx"}, "unknown option '-vx'"}, /* no bundling of short flags */
        {{"--store"}, "--store needs a value"},
        {{"-f"}, "--format needs a value"},
        {{"--verbose=yes"}, "--verbose takes no value"},
        {{"-v=1"}, "--verbose takes no value"},
        {{"--help=1"}, "--help takes no value"},
        {{"--stor", "x"}, "unknown option '--stor'"}, /* no guessing from prefixes */
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        assert_int_equal(parse(&msg, cases[i].args[0], cases[i].args[1], NULL), TF_OPT_ERROR);
        assert_string_equal(msg, cases[i].want);
    }
    cmd.positional = FALSE;
    assert_int_equal(parse(&msg, "file", NULL), TF_OPT_ERROR);
    assert_string_equal(msg, "unexpected argument 'file'");
}

static void test_positional_and_double_dash(void **state)
{
    assert_int_equal(parse(NULL, "a", "-", "--verbose", "--", "--store", "-v", NULL), TF_OPT_OK);
    assert_int_equal(positional->len, 4);
    assert_string_equal(g_ptr_array_index(positional, 0), "a");
    assert_string_equal(g_ptr_array_index(positional, 1), "-");
    assert_string_equal(g_ptr_array_index(positional, 2), "--store");
    assert_string_equal(g_ptr_array_index(positional, 3), "-v");
    assert_int_equal(a.verbose, 1);
    assert_null(a.store);
}

static void test_help_stops_parsing(void **state)
{
    const char *msg = NULL;
    assert_int_equal(parse(NULL, "-h", NULL), TF_OPT_HELP);
    assert_int_equal(parse(NULL, "--port", "1", "--help", "--bogus", NULL), TF_OPT_HELP);
    assert_int_equal(parse(&msg, "--bogus", "--help", NULL), TF_OPT_ERROR);
    assert_string_equal(msg, "unknown option '--bogus'");
    assert_int_equal(parse(NULL, "--", "--help", NULL), TF_OPT_OK); /* a file named --help */
}

/* The "--name" of every entry of a generated usage text. */
static GPtrArray *listed_options(const char *usage)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GRegex *re = g_regex_new("^  (?:-[a-zA-Z], |    )(--[a-z][a-z-]*)", G_REGEX_MULTILINE, 0, NULL);
    GMatchInfo *m = NULL;
    for (g_regex_match(re, usage, 0, &m); g_match_info_matches(m); g_match_info_next(m, NULL))
        g_ptr_array_add(names, g_match_info_fetch(m, 1));
    g_match_info_free(m);
    g_regex_unref(re);
    return names;
}

static void test_usage_is_the_table(void **state)
{
    char *u = tf_opt_usage_text(&cmd);
    const char *want =
        "usage: tf test [OPTIONS] FILE...\n"
        "  FILE  a file\n"
        "  -v, --verbose         say more\n"
        "      --quiet           say less\n"
        "      --store PATH      the store\n"
        "                        second line\n"
        "  -f, --format FMT      a format (repeatable)\n"
        "      --port N          a port\n"
        "      --step-timeout S  a duration\n"
        "  -u, --upper a-very-long-value-name-that-wraps\n"
        "                        upper-cased (repeatable)\n"
        "  -x, --extra           from the second group\n"
        "  -h, --help            print this help and exit\n"
        "exit: 0\n";
    assert_string_equal(u, want);
    /* every option the usage lists parses (with a value where it takes one) */
    GPtrArray *names = listed_options(u);
    assert_int_equal(names->len, 9);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        gboolean flag = !strcmp(n, "--verbose") || !strcmp(n, "--quiet") ||
                        !strcmp(n, "--extra") || !strcmp(n, "--help");
        tf_opt_result r = flag ? parse(NULL, n, NULL) : parse(NULL, n, "7", NULL);
        if (r == TF_OPT_ERROR)
            fail_msg("usage lists %s but it is refused", n);
    }
    g_ptr_array_unref(names);
    g_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_value_forms_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags_and_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_read_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positional_and_double_dash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_stops_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_is_the_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
