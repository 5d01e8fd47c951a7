/* test_plugins.c: what `tf run` loads and what runs. A user's plug-in runs alone when
 * given with --plugin (its 2 definitions, not the bundled ones beside them, so "When node
 * n1 is killed" is the user's step); the bundled plug-ins load by default, with --bundled
 * and never with --no-bundled; a bundled module's hooks never run on a scenario without
 * one of its steps. A plug-in built against another tf (another ABI, no ABI record as
 * before 0.2.0, a struct of another size) is refused before any of its code runs, naming
 * both versions, by tf run, tf wire and a user's runner built on tf_run_main alike; one of
 * another release with this ABI loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "tf/plugin.h"

#define PLUGIN(name) TF_BINARY_DIR "/tests/plugins/user_" name ".so"

typedef struct {
    int code;
    char *out, *err;
} result;

static char *dir; /* the features */

static result run(const char *const *argv)
{
    result r = {-1, NULL, NULL};
    int status = -1;
    GError *err = NULL;
    if (!g_spawn_sync(dir, (char **)argv, NULL, 0, NULL, NULL, &r.out, &r.err, &status, &err))
        fail_msg("cannot run %s: %s", argv[0], err->message);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

static void clear(result *r)
{
    g_free(r->out);
    g_free(r->err);
}

static int setup(void **state)
{
    dir = g_dir_make_tmp("tf-test-plugins-XXXXXX", NULL);
    assert_non_null(dir);
    char *f = g_build_filename(dir, "user.feature", NULL);
    assert_true(g_file_set_contents(f,
        "Feature: a user's plug-in\n"
        "  Scenario: only the user's steps\n"
        "    When node n1 is killed\n"
        "    Then the user saw node n1 killed\n"
        "  Scenario: a bundled step too\n"
        "    Given a 3-node etcd cluster is running\n"
        "    Then the user saw node n1 killed\n", -1, NULL));
    g_free(f);
    return 0;
}

static int teardown(void **state)
{
    char *f = g_build_filename(dir, "user.feature", NULL);
    g_unlink(f);
    g_free(f);
    g_rmdir(dir);
    g_free(dir);
    return 0;
}

/* The message envelopes of stdout, one JSON object a line (caller frees the array). */
static json_t *envelopes(const char *out)
{
    json_t *all = json_array();
    char **lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        json_t *j = json_loads(*l, 0, NULL);
        if (!j)
            fail_msg("not a message envelope: %s", *l);
        json_array_append_new(all, j);
    }
    g_strfreev(lines);
    return all;
}

static guint count_kind(json_t *envs, const char *kind)
{
    guint n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(envs, i, e) n += json_object_get(e, kind) != NULL;
    return n;
}

/* "killed" step's definitions as "FILE-BASENAME:LINE" entries of the first test case. */
static char *first_step_definitions(json_t *envs)
{
    GHashTable *where = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    size_t i;
    json_t *e;
    json_array_foreach(envs, i, e) {
        json_t *d = json_object_get(e, "stepDefinition");
        if (!d)
            continue;
        json_t *src = json_object_get(d, "sourceReference");
        char *base = g_path_get_basename(json_string_value(json_object_get(src, "uri")));
        g_hash_table_insert(where, (gpointer)json_string_value(json_object_get(d, "id")), base);
    }
    GString *s = g_string_new("");
    json_array_foreach(envs, i, e) {
        json_t *tc = json_object_get(e, "testCase");
        if (!tc)
            continue;
        size_t k;
        json_t *step;
        json_array_foreach(json_object_get(tc, "testSteps"), k, step) {
            json_t *ids = json_object_get(step, "stepDefinitionIds");
            size_t m;
            json_t *id;
            json_array_foreach(ids, m, id)
                g_string_append_printf(s, "%s%s", s->len ? " " : "",
                                       (char *)g_hash_table_lookup(where, json_string_value(id)));
            if (json_array_size(ids))
                break;
        }
        break;
    }
    g_hash_table_unref(where);
    return g_string_free(s, FALSE);
}

/* The source files of the hooks each test case runs, "a.c b.c|c.c" (test cases by '|'). */
static char *hooks_per_case(json_t *envs)
{
    GHashTable *where = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    size_t i;
    json_t *e;
    json_array_foreach(envs, i, e) {
        json_t *h = json_object_get(e, "hook");
        if (h)
            g_hash_table_insert(where, (gpointer)json_string_value(json_object_get(h, "id")),
                                g_path_get_basename(json_string_value(json_object_get(
                                    json_object_get(h, "sourceReference"), "uri"))));
    }
    GString *s = g_string_new("");
    gboolean first = TRUE;
    json_array_foreach(envs, i, e) {
        json_t *tc = json_object_get(e, "testCase");
        if (!tc)
            continue;
        if (!first)
            g_string_append_c(s, '|');
        first = FALSE;
        size_t k;
        json_t *step;
        gboolean any = FALSE;
        json_array_foreach(json_object_get(tc, "testSteps"), k, step) {
            const char *hook = json_string_value(json_object_get(step, "hookId"));
            if (hook) {
                g_string_append_printf(s, "%s%s", any ? " " : "",
                                       (char *)g_hash_table_lookup(where, hook));
                any = TRUE;
            }
        }
    }
    g_hash_table_unref(where);
    return g_string_free(s, FALSE);
}

/* A dry run of user.feature with args; its envelopes. */
static json_t *dry_run(const char *const *args, int want_code)
{
    GPtrArray *argv = g_ptr_array_new();
    for (const char *const *a = (const char *const[]){TF_BINARY_DIR "/bin/tf", "run",
                                 "--dry-run", "--format", "message", NULL}; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, "user.feature");
    g_ptr_array_add(argv, NULL);
    result r = run((const char *const *)argv->pdata);
    g_ptr_array_unref(argv);
    if (r.code != want_code)
        fail_msg("tf run exited %d, not %d:\n%s", r.code, want_code, r.err);
    json_t *envs = envelopes(r.out);
    clear(&r);
    return envs;
}

static void test_plugin_runs_alone(void **state)
{
    /* really run, not dry: the user's own step runs, and its After hook */
    result r = run((const char *const[]){TF_BINARY_DIR "/bin/tf", "run", "--no-color",
                                         "--format", "pretty", "--plugin", PLUGIN("ok"),
                                         "user.feature:2", NULL});
    if (r.code != 0 || !strstr(r.out, "user step: node n1 killed") ||
        !strstr(r.out, "user After hook") || !strstr(r.out, "1 scenario (1 passed)"))
        fail_msg("exit %d:\n%s%s", r.code, r.out, r.err);
    clear(&r);

    json_t *envs = dry_run((const char *const[]){"--plugin", PLUGIN("ok"), NULL}, 1);
    assert_int_equal(count_kind(envs, "stepDefinition"), 2);
    assert_int_equal(count_kind(envs, "hook"), 1);
    char *defs = first_step_definitions(envs);
    assert_string_equal(defs, "user_steps.c");
    g_free(defs);
    json_decref(envs);
}

static void test_bundled_by_default_or_asked(void **state)
{
    /* no --plugin: the bundled ones, so the etcd step binds "When node n1 is killed" */
    json_t *envs = dry_run((const char *const[]){NULL}, 1);
    guint bundled = count_kind(envs, "stepDefinition");
    assert_true(bundled > 10);
    char *defs = first_step_definitions(envs);
    assert_string_equal(defs, "raftkv_steps.c");
    g_free(defs);
    json_decref(envs);
    /* --bundled and a plug-in: both, so the step is ambiguous */
    envs = dry_run((const char *const[]){"--bundled", "--plugin", PLUGIN("ok"), NULL}, 1);
    assert_int_equal(count_kind(envs, "stepDefinition"), bundled + 2);
    defs = first_step_definitions(envs);
    assert_string_equal(defs, "raftkv_steps.c user_steps.c");
    g_free(defs);
    json_decref(envs);
    /* --no-bundled: nothing at all */
    envs = dry_run((const char *const[]){"--no-bundled", NULL}, 1);
    assert_int_equal(count_kind(envs, "stepDefinition"), 0);
    json_decref(envs);
}

/* A bundled module's After hook runs where one of its steps is used, nowhere else; the
 * user's untagged TF_AFTER hook runs everywhere (Cucumber's rule). */
static void test_bundled_hooks_stay_on_their_scenarios(void **state)
{
    json_t *envs = dry_run((const char *const[]){"--bundled", "--plugin", PLUGIN("ok"), NULL}, 1);
    assert_true(count_kind(envs, "hook") >= 3); /* the bundled ones are registered */
    char *hooks = hooks_per_case(envs);
    assert_string_equal(hooks, "user_steps.c|user_steps.c raftkv_clients.c raftkv_steps.c");
    g_free(hooks);
    json_decref(envs);
}

/* Runs prog with --plugin file on user.feature: exit 2 and the error names the file and
 * says why; nothing ran. */
static void expect_refused(const char *prog, const char *file, const char *why)
{
    const char *sub = g_str_has_suffix(prog, "/tf") ? "run" : NULL;
    const char *argv[] = {prog, sub ? sub : "--plugin", sub ? "--plugin" : file,
                          sub ? file : "user.feature", sub ? "user.feature" : NULL, NULL};
    result r = run(argv);
    char *want = g_strdup_printf("--plugin %s: %s", file, why);
    if (r.code != 2 || !strstr(r.err, want) || strstr(r.out, "scenario"))
        fail_msg("%s --plugin %s: exit %d, wanted 2 and '%s':\n%s%s", prog, file, r.code, want,
                 r.out, r.err);
    g_free(want);
    clear(&r);
}

static void test_other_abi_refused(void **state)
{
    char *next = g_strdup_printf("built against tf 9.9.9 (ABI %d); this tf is %s (ABI %d): "
                                 "rebuild it against this tf",
                                 TF_ABI_VERSION + 1, TF_VERSION, TF_ABI_VERSION);
    char *pre = g_strdup_printf("no tf_plugin_abi record: built against a tf older than 0.2.0 "
                                "(before plug-ins recorded their ABI) or without "
                                "TF_PLUGIN_DEFINE; this tf is %s (ABI %d): rebuild it against "
                                "this tf with TF_PLUGIN_DEFINE (tf/plugin.h)",
                                TF_VERSION, TF_ABI_VERSION);
    char *drift = g_strdup_printf("built against tf %s where tf_observer has %zu bytes; in this "
                                  "tf (%s) it has %zu: rebuild it", TF_VERSION,
                                  sizeof(tf_observer) + 8, TF_VERSION, sizeof(tf_observer));
    const char *progs[] = {TF_BINARY_DIR "/bin/tf", TF_BINARY_DIR "/examples/hello_runner"};
    for (guint i = 0; i < G_N_ELEMENTS(progs); i++) {
        expect_refused(progs[i], PLUGIN("next_abi"), next);
        /* it calls a function this tf lacks: its record is read all the same */
        expect_refused(progs[i], PLUGIN("next_calls"), next);
        expect_refused(progs[i], PLUGIN("pre_record"), pre);
        expect_refused(progs[i], PLUGIN("size_drift"), drift);
    }
    /* tf wire refuses it before it listens */
    result r = run((const char *const[]){TF_BINARY_DIR "/bin/tf", "wire", "--plugin",
                                         PLUGIN("next_abi"), NULL});
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, next));
    assert_null(strstr(r.out, "listening"));
    clear(&r);
    g_free(next);
    g_free(pre);
    g_free(drift);
}

/* The ABI, not the version, decides: a plug-in of another tf release with this ABI and the
 * same struct sizes loads and runs (as a program linked with libtf.so.1 runs on any 1.x). */
static void test_same_abi_other_version_loads(void **state)
{
    result r = run((const char *const[]){TF_BINARY_DIR "/bin/tf", "run", "--no-color",
                                         "--format", "pretty", "--plugin", PLUGIN("same_abi"),
                                         "user.feature:2", NULL});
    if (r.code != 0 || !strstr(r.out, "user step: node n1 killed") ||
        !strstr(r.out, "1 scenario (1 passed)"))
        fail_msg("exit %d:\n%s%s", r.code, r.out, r.err);
    clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plugin_runs_alone),
        cmocka_unit_test(test_bundled_by_default_or_asked),
        cmocka_unit_test(test_bundled_hooks_stay_on_their_scenarios),
        cmocka_unit_test(test_other_abi_refused),
        cmocka_unit_test(test_same_abi_other_version_loads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
