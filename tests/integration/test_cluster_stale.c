/* test_cluster_stale.c: what a SIGKILLed `tf run` leaves behind is removed by the next
 * run, and what a live concurrent run owns is not. Real etcd clusters in a private
 * TMPDIR: run A and run B each start a 3-node cluster and block in a step; A is SIGKILLed
 * (as CI timeouts do: no exit handler runs); run C then starts its own cluster, which
 * removes A's dir at once and leaves B's, whose owner still runs. Every run is bounded
 * (its blocking step gives up after 30 s) and the whole test takes about 15 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include "it_scenarios.h"
#include "skip.h"

#define WAIT_US (40 * G_USEC_PER_SEC) /* a cluster comes up in 1-3 s here */

static char *tmpdir;   /* TMPDIR of every run */
static gchar **envp;   /* the test's environment with TMPDIR set */
static GPid blocked[2];

static int setup(void **unused)
{
    if (it_setup("tf-stale-it"))
        return -1;
    tmpdir = it_path("tmp");
    envp = g_environ_setenv(g_get_environ(), "TMPDIR", tmpdir, TRUE);
    return g_mkdir(tmpdir, 0700);
}

static int teardown(void **unused)
{
    for (guint i = 0; i < G_N_ELEMENTS(blocked); i++)
        if (blocked[i] > 0) {
            kill(blocked[i], SIGKILL);
            waitpid(blocked[i], NULL, 0);
        }
    gchar *argv[] = {"rm", "-rf", tmpdir, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(tmpdir);
    g_strfreev(envp);
    return it_teardown();
}

static const char *tf_bin(void)
{
    return g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
}

static char *write_feature(const char *name, const char *steps)
{
    char *path = it_path(name);
    char *text = g_strdup_printf("Feature: stale dirs\n  Scenario: %s\n%s", name, steps);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    g_free(text);
    return path;
}

/* The tf-etcd-3-* dirs in TMPDIR now (sorted paths). */
static GPtrArray *cluster_dirs(void)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d)))
        if (g_str_has_prefix(n, "tf-etcd-3-"))
            g_ptr_array_add(out, g_build_filename(tmpdir, n, NULL));
    if (d)
        g_dir_close(d);
    g_ptr_array_sort(out, (GCompareFunc)g_strcmp0);
    return out;
}

static gboolean contains(GPtrArray *a, const char *s)
{
    for (guint i = 0; i < a->len; i++)
        if (!strcmp(a->pdata[i], s))
            return TRUE;
    return FALSE;
}

/* Every node of the cluster in dir has written its WAL: etcd is up and holds its data. */
static gboolean nodes_started(const char *dir)
{
    for (int i = 1; i <= 3; i++) {
        char *wal = g_strdup_printf("%s/n%d/data/member/wal", dir, i);
        gboolean ok = g_file_test(wal, G_FILE_TEST_IS_DIR);
        g_free(wal);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* Starts `tf run feature` in the background; returns once its cluster's nodes run, with
 * the path of its new cluster dir (not in before). */
static GPid start_blocked_run(const char *feature, GPtrArray *before, char **dir)
{
    /* No timeout(1) here: the test must SIGKILL tf itself. The blocking step gives up
     * after 30 s, so a run the test failed to kill ends on its own. */
    const char *argv[] = {tf_bin(), "run", "--format", "summary", feature, NULL};
    GPid pid;
    GError *e = NULL;
    if (!g_spawn_async(NULL, (char **)argv, envp,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                           G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &e))
        fail_msg("cannot start tf run: %s", e->message);
    *dir = NULL;
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    while (g_get_monotonic_time() < deadline) {
        GPtrArray *now = cluster_dirs();
        for (guint i = 0; !*dir && i < now->len; i++)
            if (!contains(before, now->pdata[i]))
                *dir = g_strdup(now->pdata[i]);
        g_ptr_array_unref(now);
        if (*dir && nodes_started(*dir))
            return pid;
        g_usleep(50 * 1000); /* the test watches a child from outside: no handle to wait on */
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("tf run %s: its cluster did not start within %d s (dir %s)", feature,
             (int)(WAIT_US / G_USEC_PER_SEC), *dir ? *dir : "never made");
    return 0;
}

/* Runs `tf run feature` to the end; its exit code, stderr in *err. */
static int run_to_end(const char *feature, char **err)
{
    const char *argv[] = {"timeout", "-s", "KILL", "60", tf_bin(), "run", "--format", "summary",
                          feature, NULL};
    int status = 0;
    GError *e = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, envp, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, err, &status, &e))
        fail_msg("cannot run tf: %s", e->message);
    fputs(*err, stdout);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_killed_run_is_swept_live_run_is_not(void **unused)
{
    /* A step that waits up to 30 s for something that does not happen: the run blocks. */
    char *slow = write_feature("slow.feature", "    Given a 3-node etcd cluster is running\n"
                                               "    Then no leader exists while quorum is lost\n");
    char *quick = write_feature("quick.feature", "    Given a 1-node etcd cluster is running\n");
    GPtrArray *none = cluster_dirs();
    assert_int_equal(none->len, 0);
    char *dir_a, *dir_b;
    blocked[0] = start_blocked_run(slow, none, &dir_a);
    GPtrArray *with_a = cluster_dirs();
    blocked[1] = start_blocked_run(slow, with_a, &dir_b);

    /* SIGKILL run A: nothing of it runs any more, its dir stays (that was the defect). */
    kill(blocked[0], SIGKILL);
    waitpid(blocked[0], NULL, 0);
    blocked[0] = 0;
    assert_true(nodes_started(dir_a));

    /* Run C, while run B still runs: removes A's dir before it makes its own, not B's. */
    char *err = NULL;
    assert_int_equal(run_to_end(quick, &err), 0);
    assert_false(g_file_test(dir_a, G_FILE_TEST_EXISTS));
    assert_true(nodes_started(dir_b));
    char *said = g_strdup_printf("removed %s: a cluster dir left by a run that died", dir_a);
    assert_non_null(strstr(err, said));
    assert_null(strstr(err, dir_b));
    g_free(said);
    g_free(err);
    GPtrArray *after_c = cluster_dirs();
    assert_int_equal(after_c->len, 1); /* B's: C removed its own at its end */
    assert_string_equal(after_c->pdata[0], dir_b);

    /* B killed too: the next run removes its dir, and no etcd of either run survives. */
    kill(blocked[1], SIGKILL);
    waitpid(blocked[1], NULL, 0);
    blocked[1] = 0;
    assert_int_equal(run_to_end(quick, &err), 0);
    g_free(err);
    GPtrArray *end = cluster_dirs();
    assert_int_equal(end->len, 0);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC; /* PDEATHSIG is async */
    while (it_count_marked("etcd") && g_get_monotonic_time() < deadline)
        g_usleep(50 * 1000);
    assert_int_equal(it_count_marked("etcd"), 0);
    g_ptr_array_unref(none);
    g_ptr_array_unref(with_a);
    g_ptr_array_unref(after_c);
    g_ptr_array_unref(end);
    g_free(dir_a);
    g_free(dir_b);
    g_free(slow);
    g_free(quick);
}

int main(void)
{
    tf_test_need_cluster_all("etcd-3.json");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_run_is_swept_live_run_is_not),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
