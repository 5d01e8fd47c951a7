/* test_cli_options.c: every tf subcommand (run, wire, demo, gherkin, history, history
 * check) and a user's runner built on tf_run_main (examples/hello's hello_runner) parse
 * options one way, as a user types them (the built binaries): each prints usage with -h
 * and --help (exit 0, nothing run); every option a usage text lists is accepted in each
 * form it offers (--opt VALUE, --opt=VALUE, -o VALUE), which `OPTION... --help` proves (a
 * refused option exits 2 before --help is reached); an unknown option, a missing value
 * and a bad number read the same in every command that has the option; an option shared
 * by several commands takes the same value there. The runner built on tf_run_main takes
 * --plugin like `tf run` and loads it; --env is `tf run`'s alone, and neither usage lists
 * what the command refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <glib.h>

#define HELLO_DIR TF_BINARY_DIR "/examples"

typedef struct {
    const char *prog; /* how errors name the command */
    const char *argv[4];
} command;

static const command commands[] = {
    {"tf run", {"@TF", "run"}},
    {"tf wire", {"@TF", "wire"}},
    {"tf demo", {"@TF", "demo"}},
    {"tf gherkin", {"@TF", "gherkin"}},
    {"tf history", {"@TF", "history"}},
    {"tf history check", {"@TF", "history", "check"}},
    {"tf report merge", {"@TF", "report", "merge"}},
    {"hello_runner", {HELLO_DIR "/hello_runner"}},
};

typedef struct {
    int code;
    char *out, *err;
} result;

/* Runs cmd with the NULL-terminated extra args (at most 60 s). */
static result run_cmd(const command *cmd, const char *const *args)
{
    const char *tf = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "timeout");
    g_ptr_array_add(argv, "60");
    for (guint i = 0; i < G_N_ELEMENTS(cmd->argv) && cmd->argv[i]; i++)
        g_ptr_array_add(argv, (gpointer)(strcmp(cmd->argv[i], "@TF") ? cmd->argv[i] : tf));
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    result r = {-1, NULL, NULL};
    int status = 0;
    GError *err = NULL;
    if (!g_spawn_sync(HELLO_DIR, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                      &r.out, &r.err, &status, &err))
        fail_msg("cannot run %s: %s", cmd->prog, err->message);
    g_ptr_array_unref(argv);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

static void clear(result *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* One entry of a usage text: "  -l, --name VALUE  help". */
typedef struct {
    char letter; /* 0: none */
    char *name;  /* "--name" */
    char *value; /* NULL for a flag */
} entry;

static void entry_free(entry *e)
{
    g_free(e->name);
    g_free(e->value);
    g_free(e);
}

static GPtrArray *usage_entries(const char *usage)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    GRegex *re = g_regex_new("^  (?:-([a-zA-Z]), |    )(--[a-z][a-z-]*)(?: ([^ \\n]+))?(?:  |$)",
                             G_REGEX_MULTILINE, 0, NULL);
    GMatchInfo *m = NULL;
    for (g_regex_match(re, usage, 0, &m); g_match_info_matches(m); g_match_info_next(m, NULL)) {
        entry *e = g_new0(entry, 1);
        char *letter = g_match_info_fetch(m, 1), *value = g_match_info_fetch(m, 3);
        e->letter = letter[0];
        e->name = g_match_info_fetch(m, 2);
        e->value = *value ? value : (g_free(value), NULL);
        g_free(letter);
        g_ptr_array_add(out, e);
    }
    g_match_info_free(m);
    g_regex_unref(re);
    return out;
}

/* A value each documented value name accepts; an unknown name fails the test, so a new
 * option cannot go unchecked. */
static const char *good_value(const entry *e)
{
    static const char *const known[][2] = {
        {"N", "3"}, {"S", "500ms"}, {"PATH", "/nonexistent/tf-options-test.db"},
        {"FILE.so", HELLO_DIR "/libhello_steps.so"}, {"EXPR", "@a and not @b"}, {"REGEX", "x.*"},
        {"FMT[:FILE]", "summary"}, {"defined|random[:SEED]", "random:7"}, {"ENV", "local"},
        {"ADDR", "127.0.0.1"}, {"NAME", "raftkv"}, {"register|registers|kv", "registers"},
        {"DIR", "/nonexistent/tf-options-test"}, {"SECONDS", "3600"}, {"F", "2.5"},
        {"I/N", "1/3"}, {"FILE", "/nonexistent/tf-options-test.ndjson"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(known); i++)
        if (!strcmp(e->value, known[i][0]))
            return known[i][1];
    fail_msg("%s %s: no sample value for '%s': add one to good_value()", e->name, e->value,
             e->value);
    return NULL;
}

/* The usage of cmd (exit 0, on stdout, the same for -h and --help). */
static char *usage_of(const command *cmd)
{
    result r = run_cmd(cmd, (const char *const[]){"--help", NULL});
    if (r.code != 0 || !g_str_has_prefix(r.out, "usage: ") || *r.err)
        fail_msg("%s --help: exit %d, stdout:\n%s\nstderr:\n%s", cmd->prog, r.code, r.out, r.err);
    result h = run_cmd(cmd, (const char *const[]){"-h", NULL});
    assert_int_equal(h.code, 0);
    assert_string_equal(h.out, r.out);
    clear(&h);
    g_free(r.err);
    return r.out;
}

/* args followed by --help must print the usage and exit 0: each option was accepted. */
static void expect_accepted(const command *cmd, const char *usage, const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new();
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, "--help");
    g_ptr_array_add(argv, NULL);
    result r = run_cmd(cmd, (const char *const *)argv->pdata);
    if (r.code != 0 || strcmp(r.out, usage))
        fail_msg("%s %s %s: refused (exit %d):\n%s", cmd->prog, args[0], args[1] ? args[1] : "",
                 r.code, r.err);
    clear(&r);
    g_ptr_array_unref(argv);
}

/* Every option each usage lists is accepted in every form it offers. */
static void test_every_listed_option_is_accepted(void **state)
{
    for (guint c = 0; c < G_N_ELEMENTS(commands); c++) {
        const command *cmd = &commands[c];
        char *usage = usage_of(cmd);
        GPtrArray *entries = usage_entries(usage);
        assert_true(entries->len >= 1); /* -h, --help at least */
        for (guint i = 0; i < entries->len; i++) {
            const entry *e = g_ptr_array_index(entries, i);
            if (!strcmp(e->name, "--help"))
                continue;
            const char *v = e->value ? good_value(e) : NULL;
            char *eq = v ? g_strdup_printf("%s=%s", e->name, v) : NULL;
            char letter[3] = {'-', e->letter, 0};
            expect_accepted(cmd, usage, (const char *const[]){e->name, v, NULL});
            if (eq)
                expect_accepted(cmd, usage, (const char *const[]){eq, NULL});
            if (e->letter)
                expect_accepted(cmd, usage, (const char *const[]){letter, v, NULL});
            g_free(eq);
        }
        printf("%s: %u options listed, each accepted\n", cmd->prog, entries->len);
        g_ptr_array_unref(entries);
        g_free(usage);
    }
}

/* The first line of stderr, without the "PROG: " every error starts with. */
static char *error_line(const command *cmd, const result *r)
{
    char *prefix = g_strdup_printf("%s: ", cmd->prog);
    if (!g_str_has_prefix(r->err, prefix))
        fail_msg("%s: stderr does not start with '%s':\n%s", cmd->prog, prefix, r->err);
    const char *nl = strchr(r->err, '\n');
    char *line = g_strndup(r->err + strlen(prefix), nl ? (gsize)(nl - r->err) - strlen(prefix)
                                                       : strlen(r->err));
    g_free(prefix);
    return line;
}

/* A usage error: exit 2, nothing on stdout, the message then the usage on stderr. */
static char *usage_error(const command *cmd, const char *const *args)
{
    result r = run_cmd(cmd, args);
    if (r.code != 2 || *r.out || !strstr(r.err, "\nusage: "))
        fail_msg("%s %s: exit %d, stdout:\n%s\nstderr:\n%s", cmd->prog, args[0], r.code, r.out,
                 r.err);
    char *line = error_line(cmd, &r);
    clear(&r);
    return line;
}

static void test_unknown_option_reads_the_same(void **state)
{
    for (guint c = 0; c < G_N_ELEMENTS(commands); c++) {
        const command *cmd = &commands[c];
        const char *const forms[][2] = {{"--bogus", "unknown option '--bogus'"},
                                        {"--bogus=1", "unknown option '--bogus=1'"},
                                        {"-Z", "unknown option '-Z'"},
                                        {"--help=1", "--help takes no value"}};
        for (guint i = 0; i < G_N_ELEMENTS(forms); i++) {
            char *line = usage_error(cmd, (const char *const[]){forms[i][0], NULL});
            if (strcmp(line, forms[i][1]))
                fail_msg("%s %s: '%s', wanted '%s'", cmd->prog, forms[i][0], line, forms[i][1]);
            g_free(line);
        }
    }
}

/* A value that a documented value name refuses, and the error it must give. */
static const char *bad_value(const char *value_name, const char **want)
{
    if (!strcmp(value_name, "N") || !strcmp(value_name, "SECONDS")) {
        *want = "'x' is not a whole number";
        return "x";
    }
    if (!strcmp(value_name, "S")) {
        *want = "'nan' is not a number of seconds";
        return "nan";
    }
    return NULL;
}

/* Options that several commands list: the same value name everywhere, and the same error
 * text (after "PROG: ") for a missing value and a bad number. */
static void test_shared_options_agree(void **state)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    guint shared = 0;
    for (guint c = 0; c < G_N_ELEMENTS(commands); c++) {
        const command *cmd = &commands[c];
        char *usage = usage_of(cmd);
        GPtrArray *entries = usage_entries(usage);
        for (guint i = 0; i < entries->len; i++) {
            const entry *e = g_ptr_array_index(entries, i);
            const char *v = e->value ? e->value : "";
            const char *before = g_hash_table_lookup(seen, e->name);
            if (before && strcmp(before, v))
                fail_msg("%s %s takes %s; another command's takes %s", cmd->prog, e->name, v,
                         before);
            shared += before != NULL;
            g_hash_table_insert(seen, g_strdup(e->name), g_strdup(v));
            if (!e->value)
                continue;
            char *line = usage_error(cmd, (const char *const[]){e->name, NULL});
            char *want = g_strdup_printf("%s needs a value", e->name);
            if (strcmp(line, want))
                fail_msg("%s %s (no value): '%s', wanted '%s'", cmd->prog, e->name, line, want);
            g_free(want);
            g_free(line);
            const char *why = NULL;
            const char *bad = bad_value(e->value, &why);
            for (int form = 0; bad && form < 2; form++) {
                char *eq = g_strdup_printf("%s=%s", e->name, bad);
                line = form ? usage_error(cmd, (const char *const[]){eq, NULL})
                            : usage_error(cmd, (const char *const[]){e->name, bad, NULL});
                want = g_strdup_printf("%s: %s", e->name, why);
                if (!g_str_has_prefix(line, want))
                    fail_msg("%s %s %s: '%s', wanted '%s...'", cmd->prog, e->name, bad, line, want);
                g_free(want);
                g_free(line);
                g_free(eq);
            }
        }
        g_ptr_array_unref(entries);
        g_free(usage);
    }
    /* --store, --step-timeout and --plugin at least are in several commands */
    assert_true(shared >= 3);
    g_hash_table_unref(seen);
}

/* The examples the issue names, each in every command that lists the option. */
static void test_named_forms(void **state)
{
    const char *const forms[][2] = {{"--step-timeout", "500ms"}, {"--port", "3902"},
                                    {"--store", "/nonexistent/x.db"}};
    for (guint c = 0; c < G_N_ELEMENTS(commands); c++) {
        char *usage = usage_of(&commands[c]);
        for (guint i = 0; i < G_N_ELEMENTS(forms); i++) {
            char *listed = g_strdup_printf(" %s ", forms[i][0]);
            if (strstr(usage, listed)) {
                char *eq = g_strdup_printf("%s=%s", forms[i][0], forms[i][1]);
                expect_accepted(&commands[c], usage, (const char *const[]){forms[i][0], forms[i][1], NULL});
                expect_accepted(&commands[c], usage, (const char *const[]){eq, NULL});
                g_free(eq);
            }
            g_free(listed);
        }
        g_free(usage);
    }
}

/* A runner built on tf_run_main lists and loads --plugin (the hello steps, already linked
 * into hello_runner, are then registered twice: every step is ambiguous, naming both), and
 * neither lists nor takes tf run's --env. */
static void test_own_runner_plugin_and_env(void **state)
{
    const command *hello = &commands[G_N_ELEMENTS(commands) - 1];
    char *usage = usage_of(hello);
    assert_non_null(strstr(usage, "--plugin FILE.so"));
    assert_null(strstr(usage, "--env"));
    g_free(usage);
    char *line = usage_error(hello, (const char *const[]){"--env", "local", NULL});
    assert_string_equal(line, "unknown option '--env'");
    g_free(line);
    result r = run_cmd(hello, (const char *const[]){"--no-color", "--format", "summary", "--plugin",
                                                    HELLO_DIR "/libhello_steps.so",
                                                    TF_SOURCE_DIR "/examples/hello/hello.feature",
                                                    NULL});
    assert_int_equal(r.code, 1);
    if (!strstr(r.out, "ambiguous") || !strstr(r.out, "Multiple step definitions match"))
        fail_msg("hello_runner --plugin: the plug-in's steps were not loaded:\n%s%s", r.out, r.err);
    clear(&r);
    r = run_cmd(hello, (const char *const[]){"--plugin", "/nonexistent/x.so", NULL});
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "hello_runner: --plugin /nonexistent/x.so: "));
    clear(&r);
    usage = usage_of(&commands[0]);
    assert_non_null(strstr(usage, "--env ENV"));
    g_free(usage);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_listed_option_is_accepted),
        cmocka_unit_test(test_unknown_option_reads_the_same),
        cmocka_unit_test(test_shared_options_agree),
        cmocka_unit_test(test_named_forms),
        cmocka_unit_test(test_own_runner_plugin_and_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
