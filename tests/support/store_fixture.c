/* store_fixture.c: see store_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "skip.h"
#include "store_fixture.h"

char *sf_tmpdir_new(const char *prefix)
{
    char *tmpl = g_strconcat(prefix, "-XXXXXX", NULL);
    GError *err = NULL;
    char *dir = g_dir_make_tmp(tmpl, &err);
    g_free(tmpl);
    if (!dir)
        fail_msg("temp dir: %s", err->message);
    return dir;
}

void sf_tmpdir_remove(char *dir)
{
    if (!dir)
        return;
    char *argv[] = {"sh", "-c", "chmod -R u+w \"$0\" && rm -rf \"$0\"", dir, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(dir);
}

void sf_race(int n, int (*body)(int i, void *data), void *data)
{
    int go[2];
    pid_t pids[8];
    assert_true(n > 0 && n <= 8);
    assert_int_equal(pipe(go), 0);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(go[1]);
            char c;
            _exit(read(go[0], &c, 1) == 1 ? body(i, data) : 90);
        }
    }
    close(go[0]);
    char start[8] = {0};
    size_t len = (size_t)CLAMP(n, 1, 8);
    assert_int_equal(write(go[1], start, len), len); /* one byte each: all start at once */
    close(go[1]);
    for (int i = 0; i < n; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("racer %d ended with status 0x%x", i, status);
    }
}

static const char *tf_bin;

const char *sf_tf_bin_or_exit(const char *test)
{
    tf_bin = g_getenv("TF_BIN");
    if (!tf_bin || !g_file_test(tf_bin, G_FILE_TEST_IS_EXECUTABLE))
        tf_test_skip_all(TF_NEED_REQUIRED, "%s: TF_BIN (the tf binary, built with the tests) is "
                                           "not set or not executable (%s)",
                         test, tf_bin ? tf_bin : "unset");
    return tf_bin;
}

sf_result sf_tf(const char *cwd, const char *const *args, const char *const *env_add,
                GSpawnChildSetupFunc setup)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)tf_bin);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    char **env = g_environ_unsetenv(g_get_environ(), "TF_STORE");
    for (const char *const *e = env_add; e && *e; e += 2)
        env = g_environ_setenv(env, e[0], e[1], TRUE);
    sf_result r = {0};
    int status = -1;
    GError *err = NULL;
    if (!g_spawn_sync(cwd, (char **)argv->pdata, env, 0, setup, NULL, &r.out, &r.err, &status,
                      &err))
        fail_msg("spawn %s: %s", tf_bin, err->message);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    g_strfreev(env);
    g_ptr_array_unref(argv);
    return r;
}

void sf_result_clear(sf_result *r)
{
    g_free(r->out);
    g_free(r->err);
}

void sf_expect(const sf_result *r, int code, const char *in_out, const char *in_err)
{
    if (r->code != code || (in_out && !strstr(r->out, in_out)) ||
        (in_err && !strstr(r->err, in_err)))
        fail_msg("exit %d (want %d)\nstdout: %s\nstderr: %s\n(want '%s' / '%s')", r->code, code,
                 r->out, r->err, in_out ? in_out : "", in_err ? in_err : "");
}
