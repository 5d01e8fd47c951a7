/* test_wallet_scenarios.c: the bundled wallet features run by `tf run` against real local
 * litecoind regtest clusters: every scenario passes, each compared its wallets with the
 * nodes' listunspent, the reorg scenario saw its payment dropped and re-mined, and no
 * litecoind outlives the run (TF_IT_MARK in our children's environment). */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <tf/tf.h>

static char *tmp;
static char mark[64]; /* TF_IT_MARK=<unique>: in the environment of our runs' processes */

static int setup(void **unused)
{
    tmp = g_dir_make_tmp("tf-wallet-it-XXXXXX", NULL);
    g_setenv("TF_CLUSTERS", TF_SOURCE_DIR "/scenarios/clusters", TRUE);
    g_snprintf(mark, sizeof mark, "TF_IT_MARK=%d-%" G_GINT64_FORMAT, getpid(), g_get_real_time());
    g_setenv("TF_IT_MARK", strchr(mark, '=') + 1, TRUE);
    return tmp ? 0 : -1;
}

static int teardown(void **unused)
{
    GDir *d = g_dir_open(tmp, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(tmp, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmp);
    g_free(tmp);
    return 0;
}

/* Live litecoind processes started by this test's runs (they inherit its marker). */
static guint count_litecoind(void)
{
    guint n = 0;
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while (proc && (e = readdir(proc))) {
        char link[64], target[256];
        g_snprintf(link, sizeof link, "/proc/%s/exe", e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = 0;
        char *env_path = g_strdup_printf("/proc/%s/environ", e->d_name), *env = NULL;
        gsize env_len = 0;
        if (g_str_has_suffix(target, "/litecoind") && g_file_get_contents(env_path, &env, &env_len, NULL))
            n += memmem(env, env_len, mark, strlen(mark) + 1) != NULL;
        g_free(env);
        g_free(env_path);
    }
    if (proc)
        closedir(proc);
    return n;
}

static int run_tf(const char *const *args, char **out)
{
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)bin);
    g_ptr_array_add(argv, "run");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    int status = -1;
    GError *err = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, out, NULL, &status, &err);
    g_ptr_array_unref(argv);
    if (!ok)
        fail_msg("cannot run %s: %s", bin, err->message);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_wallet_features_pass(void **unused)
{
    assert_int_equal(count_litecoind(), 0);
    char *messages = g_build_filename(tmp, "messages.ndjson", NULL);
    char *fmt = g_strdup_printf("message:%s", messages);
    const char *args[] = {"--format", "summary", "--format", fmt, TF_SOURCE_DIR "/scenarios/wallet", NULL};
    char *out = NULL;
    int code = run_tf(args, &out);
    print_message("%s\n", out);
    assert_int_equal(code, 0);
    assert_int_equal(count_litecoind(), 0); /* every cluster was torn down */

    char *text = NULL;
    assert_true(g_file_get_contents(messages, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    guint cases = 0, steps = 0, passed = 0, event_files = 0, matches = 0, dropped = 0, events_with_drop = 0;
    for (char **l = lines; *l && **l; l++) {
        json_t *env = json_loads(*l, 0, NULL);
        assert_non_null(env);
        json_t *tsf = json_object_get(env, "testStepFinished");
        if (tsf) {
            steps++;
            passed += !g_strcmp0(json_string_value(json_object_get(
                                     json_object_get(tsf, "testStepResult"), "status")), "PASSED");
        }
        cases += json_object_get(env, "testCaseFinished") != NULL;
        json_t *att = json_object_get(env, "attachment");
        const char *body = json_string_value(json_object_get(att, "body"));
        if (att && !g_strcmp0(json_string_value(json_object_get(att, "fileName")), "wallet-events.json")) {
            event_files++;
            json_t *evs = json_loads(body, 0, NULL);
            assert_true(json_is_array(evs));
            size_t i;
            json_t *ev;
            gboolean drop = FALSE;
            json_array_foreach(evs, i, ev) drop |= !g_strcmp0(json_string_value(json_object_get(ev, "kind")),
                                                           "tx_dropped_by_reorg");
            events_with_drop += drop;
            json_decref(evs);
        }
        matches += body && g_str_has_prefix(body, "listunspent matches exactly");
        dropped += body && strstr(body, "dropped by a reorg from its block") != NULL;
        json_decref(env);
    }
    g_strfreev(lines);
    assert_int_equal(cases, 3);   /* payment confirms, payment reorg, three wallets through reorgs */
    assert_true(steps > 50);
    assert_int_equal(passed, steps);
    assert_int_equal(event_files, 3);
    assert_true(events_with_drop >= 2); /* the reorg and the three-wallet scenarios */
    assert_int_equal(matches, 3 + 5 + 7);
    assert_int_equal(dropped, 1);
    g_free(text);
    g_free(out);
    g_free(fmt);
    g_free(messages);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wallet_features_pass),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
