/* test_cli.c: the `tf` command as a user types it (the built binary, $TF_BIN): `tf
 * --version` and `tf version` print the version and ABI that tf/version.h declares; `tf demo`
 * runs, exits 0 and shows what README.md says it shows; `--help` of demo and wire prints
 * usage and exits 0 without running anything; `tf wire --help` and README.md give the same
 * tf.wire timeouts; tf wire's numeric options are range-checked like tf run's; the C
 * snippets `tf run` prints for undefined steps compile, as pasted, into a plug-in whose
 * steps then run (as pending). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "store_fixture.h"

typedef struct {
    int code;
    char *out, *err;
} cli_result;

/* Runs the tf binary with args (NULL-terminated), at most 60 s. */
static cli_result tf(const char *const *args)
{
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "timeout");
    g_ptr_array_add(argv, "60");
    g_ptr_array_add(argv, (char *)bin);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    cli_result r = {-1, NULL, NULL};
    int status = 0;
    GError *err = NULL;
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                      &r.out, &r.err, &status, &err))
        fail_msg("cannot run %s: %s", bin, err->message);
    g_ptr_array_unref(argv);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

static void clear(cli_result *r)
{
    g_free(r->out);
    g_free(r->err);
}

static void expect_contains(const char *what, const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("%s lacks '%s':\n%s", what, want, text);
}

/* "tf X.Y.Z (ABI N)" from tf/version.h, the one place the version is written (CMake's
 * project() reads it there), by its own reading, not through the header's macros. */
static char *header_version_line(void)
{
    char *text = NULL;
    assert_true(g_file_get_contents(TF_SOURCE_DIR "/tf/include/tf/version.h", &text, NULL, NULL));
    GRegex *re = g_regex_new("^#define TF_VERSION \"([0-9]+\\.[0-9]+\\.[0-9]+)\"$.*"
                             "^#define TF_ABI_VERSION ([0-9]+)$",
                             G_REGEX_MULTILINE | G_REGEX_DOTALL, 0, NULL);
    GMatchInfo *m = NULL;
    assert_true(g_regex_match(re, text, 0, &m));
    char *v = g_match_info_fetch(m, 1), *abi = g_match_info_fetch(m, 2);
    char *line = g_strdup_printf("tf %s (ABI %s)\n", v, abi);
    g_free(v);
    g_free(abi);
    g_match_info_free(m);
    g_regex_unref(re);
    g_free(text);
    return line;
}

static void test_version(void **state)
{
    char *want = header_version_line();
    const char *const forms[][2] = {{"--version", NULL}, {"version", NULL}};
    for (guint i = 0; i < G_N_ELEMENTS(forms); i++) {
        cli_result r = tf(forms[i]);
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, want);
        assert_string_equal(r.err, "");
        clear(&r);
    }
    cli_result r = tf((const char *const[]){"--help", NULL});
    expect_contains("tf --help", r.out, "version");
    clear(&r);
    g_free(want);
}

/* --help prints usage on stdout, exits 0 and runs nothing; a bad argument is a usage
 * error (2) with the usage on stderr. */
static void test_subcommand_help(void **state)
{
    const char *const cmds[] = {"demo", "wire"};
    for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
        cli_result r = tf((const char *const[]){cmds[i], "--help", NULL});
        assert_int_equal(r.code, 0);
        char *want = g_strdup_printf("usage: tf %s", cmds[i]);
        expect_contains("--help", r.out, want);
        g_free(want);
        /* nothing ran: no demo service, no listener */
        assert_null(strstr(r.out, "toy service"));
        assert_null(strstr(r.out, "listening on 127.0.0.1:"));
        clear(&r);
        r = tf((const char *const[]){cmds[i], "-h", NULL});
        assert_int_equal(r.code, 0);
        clear(&r);
        r = tf((const char *const[]){cmds[i], "--bogus", NULL});
        assert_int_equal(r.code, 2);
        expect_contains("stderr", r.err, "--bogus");
        expect_contains("stderr", r.err, "usage: tf");
        clear(&r);
    }
}

/* key -> value of the `timeout:` entries of a tf.wire example, comments dropped. */
static GHashTable *wire_timeouts(const char *text, const char *what)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *start = strstr(text, "timeout:");
    if (!start)
        fail_msg("%s has no tf.wire timeout block:\n%s", what, text);
    char **lines = g_strsplit(strchr(start, '\n') + 1, "\n", -1);
    GRegex *re = g_regex_new("^\\s+([a-z_]+):\\s*([0-9.]+)\\s*(#.*)?$", 0, 0, NULL);
    for (char **l = lines; *l; l++) {
        GMatchInfo *m = NULL;
        if (!g_regex_match(re, *l, 0, &m)) {
            g_match_info_free(m);
            break; /* the block ends at the first line that is not "  key: seconds" */
        }
        g_hash_table_insert(t, g_match_info_fetch(m, 1), g_match_info_fetch(m, 2));
        g_match_info_free(m);
    }
    g_regex_unref(re);
    g_strfreev(lines);
    if (g_hash_table_size(t) == 0)
        fail_msg("%s: empty tf.wire timeout block", what);
    return t;
}

/* README.md's tf.wire example and `tf wire --help` give the same timeouts, and the one
 * test_wire_cucumber runs real Cucumber with (30 s for step_matches) is among them. */
static void test_wire_help_matches_readme(void **state)
{
    char *readme = NULL;
    assert_true(g_file_get_contents(TF_SOURCE_DIR "/README.md", &readme, NULL, NULL));
    const char *block = strstr(readme, "features/step_definitions/tf.wire");
    assert_non_null(block);
    GHashTable *doc = wire_timeouts(block, "README.md");
    cli_result r = tf((const char *const[]){"wire", "--help", NULL});
    assert_int_equal(r.code, 0);
    GHashTable *help = wire_timeouts(r.out, "tf wire --help");
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, doc);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (g_strcmp0(g_hash_table_lookup(help, k), v))
            fail_msg("timeout %s: README says %s, tf wire --help says %s", (char *)k,
                     (char *)v, (char *)g_hash_table_lookup(help, k));
    assert_int_equal(g_hash_table_size(doc), g_hash_table_size(help));
    assert_string_equal(g_hash_table_lookup(help, "step_matches"), "30");
    g_hash_table_unref(doc);
    g_hash_table_unref(help);
    clear(&r);
    g_free(readme);
}

/* tf wire's numeric options: the whole text, in range, or exit 2 naming the option
 * (before it listens: nothing is printed on stdout). */
static void test_wire_numeric_options(void **state)
{
    const char *const bad[][3] = {
        {"--port", "65536", "--port: '65536' is out of range (0 to 65535)"},
        {"--port", "99999999999999999999", "--port: '99999999999999999999' is out of range"},
        {"--port", "-1", "--port: '-1' is not a whole number"},
        {"--port", " 80", "--port: ' 80' is not a whole number"},
        {"--step-timeout", "nan", "--step-timeout: 'nan' is not a number of seconds"},
        {"--step-timeout", "inf", "--step-timeout: 'inf' is not a number of seconds"},
        {"--step-timeout", "1e309", "--step-timeout: '1e309' is out of range"},
        {"--step-timeout", "1e-300", "--step-timeout: '1e-300' is below 1 microsecond"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        cli_result r = tf((const char *const[]){"wire", bad[i][0], bad[i][1], NULL});
        if (r.code != 2 || !strstr(r.err, bad[i][2]))
            fail_msg("tf wire %s %s: exit %d, stderr:\n%s\nwanted 2 and '%s'", bad[i][0],
                     bad[i][1], r.code, r.err, bad[i][2]);
        assert_string_equal(r.out, "");
        clear(&r);
    }
    /* the same forms as tf run: --opt=value and a duration in ms */
    cli_result r = tf((const char *const[]){"wire", "--port=70000", NULL});
    assert_int_equal(r.code, 2);
    expect_contains("stderr", r.err, "--port: '70000' is out of range");
    clear(&r);
}

/* README: "./build/bin/tf demo shows all of it": a wait instead of a poll loop, the
 * recorded event batches, a wait for a snapshot fresher than an action, and a timeout
 * that names what was awaited with the last snapshot and the last error. */
static void test_demo(void **state)
{
    cli_result r = tf((const char *const[]){"demo", NULL});
    fputs(r.out, stdout);
    fputs(r.err, stdout);
    assert_int_equal(r.code, 0);
    const char *const want[] = {
        "demo: 3-node toy service on 127.0.0.1:",
        "demo: condition held at cycle ",
        "snapshot {\"cycle\":",
        "event batches recorded",
        "batch {\"cycle\":1,\"events\":[",
        "\"type\":\"changed\"",
        "fresh_after",
        "began after the action",
        "an expectation that fails explains itself:",
        "timed out after 0.3 s waiting for: every node's value reaches 1000000",
        "last snapshot (httpjson, cycle ",
        "last error: ",
        "n2: ",
    };
    for (guint i = 0; i < G_N_ELEMENTS(want); i++)
        expect_contains("tf demo", r.out, want[i]);
    assert_null(strstr(r.out, "last error: none"));
    clear(&r);
}

/* Runs argv (NULL-terminated, searched on PATH) in dir; fails the test unless it exits 0. */
static void must_run(const char *dir, const char *const *argv)
{
    char *out = NULL, *err_text = NULL;
    int status = 0;
    GError *err = NULL;
    if (!g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                      &err_text, &status, &err))
        fail_msg("cannot run %s: %s", argv[0], err->message);
    if (!g_spawn_check_wait_status(status, NULL))
        fail_msg("%s failed:\n%s%s", argv[0], out, err_text);
    g_free(out);
    g_free(err_text);
}

/* README: "Undefined steps print a ready-to-paste C snippet". Every snippet of a run is
 * pasted as the text says (the function at file level, the registration in the module's
 * init), compiled into a plug-in, and the same feature then runs with no undefined step. */
static char *snippet_dir; /* removed by main, also after a failed assertion */

static void test_snippets_compile_and_run(void **state)
{
    const char *dir = snippet_dir = sf_tmpdir_new("tf-snippet");
    char *feature = g_build_filename(dir, "new.feature", NULL);
    assert_true(g_file_set_contents(feature,
        "Feature: new steps\n"
        "  Scenario: every kind of argument\n"
        "    Given a cluster of 3 nodes named \"raft\"\n"
        "    When the leader is paused for 2.5 seconds\n"
        "    Then these nodes answer:\n"
        "      | node | role   |\n"
        "      | n1   | leader |\n"
        "    And the log says:\n"
        "      \"\"\"\n"
        "      elected\n"
        "      \"\"\"\n", -1, NULL));
    cli_result r = tf((const char *const[]){"run", "--dry-run", "--format", "summary",
                                            feature, NULL});
    assert_int_equal(r.code, 1); /* undefined steps fail a strict run */
    GString *code = g_string_new("#include \"tf/plugin.h\"\n\n");
    GString *init = g_string_new("static gboolean steps_init(tf_registry *reg, GError **error)\n{\n");
    guint snippets = 0;
    char **lines = g_strsplit(r.out, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!g_str_has_suffix(*l, "Paste this C:"))
            continue;
        snippets++;
        GString *target = code;
        for (l++; *l && g_str_has_prefix(*l, "    "); l++) {
            if (strstr(*l, "/* in your module's init: */"))
                target = init;
            else
                g_string_append_printf(target, "%s\n", *l + 4);
        }
        l--;
    }
    g_strfreev(lines);
    assert_int_equal(snippets, 4);
    g_string_append(init, "    return TRUE;\n}\n\nTF_PLUGIN_DEFINE(steps_init)\n");
    g_string_append(code, init->str);
    char *src = g_build_filename(dir, "steps.c", NULL);
    assert_true(g_file_set_contents(src, code->str, -1, NULL));
    char *cflags = NULL;
    const char *pc[] = {"pkg-config", "--cflags", "glib-2.0", "jansson", NULL};
    assert_true(g_spawn_sync(NULL, (char **)pc, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &cflags,
                             NULL, NULL, NULL));
    GPtrArray *cc = g_ptr_array_new();
    const char *const fixed[] = {"cc", "-std=c11", "-Wall", "-Wno-unused-variable", "-Werror",
                                 "-shared", "-fPIC", "-o", "steps.so", "steps.c",
                                 "-I" TF_SOURCE_DIR "/tf/include"};
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(cc, (gpointer)fixed[i]);
    char **flags = g_strsplit_set(g_strstrip(cflags), " ", -1);
    for (char **f = flags; *f; f++)
        if (**f)
            g_ptr_array_add(cc, *f);
    g_ptr_array_add(cc, NULL);
    must_run(dir, (const char *const *)cc->pdata);
    clear(&r);
    char *so = g_build_filename(dir, "steps.so", NULL);
    r = tf((const char *const[]){"run", "--plugin", so, "--format", "summary", feature, NULL});
    fputs(r.out, stdout);
    assert_int_equal(r.code, 1); /* pending fails a strict run */
    expect_contains("tf run --plugin", r.out, "1 scenario (1 pending)");
    expect_contains("tf run --plugin", r.out, "4 steps (1 pending, 3 skipped)");
    assert_null(strstr(r.out, "undefined"));
    clear(&r);
    g_free(so);
    g_strfreev(flags);
    g_ptr_array_unref(cc);
    g_free(cflags);
    g_free(src);
    g_string_free(init, TRUE);
    g_string_free(code, TRUE);
    g_free(feature);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_subcommand_help),
        cmocka_unit_test(test_wire_help_matches_readme),
        cmocka_unit_test(test_wire_numeric_options),
        cmocka_unit_test(test_demo),
        cmocka_unit_test(test_snippets_compile_and_run),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sf_tmpdir_remove(snippet_dir);
    return rc;
}
