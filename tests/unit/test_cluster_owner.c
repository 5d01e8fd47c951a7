/* test_cluster_owner.c: owners of what outlives a run (tf/cluster/owner.c). Tokens: a
 * live process is alive; a reused pid (another start time), an exited or zombie process
 * and another boot are dead; another pid namespace or a malformed token is unknown. Owned
 * dirs: a live owner's dir (this process's or another's) is never swept, a dead owner's
 * is, concurrent sweeps remove each dead dir once, unowned dirs are left alone, and of the
 * dirs kept for a while only the newest stay. The first cluster a process creates sweeps
 * TMPDIR. Child processes stand in for runs. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "tf/cluster.h"
#include "../../tf/cluster/owner.h"

static char *root; /* this test's TMPDIR */

/* A fresh empty parent dir for one case. */
static char *new_parent(const char *name)
{
    char *p = g_build_filename(root, name, NULL);
    assert_int_equal(g_mkdir_with_parents(p, 0700), 0);
    return p;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char *p = g_build_filename(dir, name, NULL);
    assert_true(g_file_set_contents(p, text, -1, NULL));
    g_free(p);
}

/* The token of a process that has exited and been reaped. */
static char *token_of_dead_child(void)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char *t = tf_owner_token_of(getpid());
        (void)!write(fds[1], t, strlen(t));
        _exit(0);
    }
    close(fds[1]);
    char buf[128] = "";
    assert_true(read(fds[0], buf, sizeof buf - 1) > 0);
    close(fds[0]);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return g_strdup(buf);
}

static void test_token_names_this_process(void **unused)
{
    const char *t = tf_owner_token();
    assert_true(strspn(t, "0123456789abcdef-") == strlen(t));
    gchar **f = g_strsplit(t, "-", -1);
    assert_int_equal(g_strv_length(f), 4);
    assert_int_equal(atoi(f[2]), getpid());
    g_strfreev(f);
    assert_int_equal(tf_owner_token_state(t), TF_OWNER_ALIVE);
    char *again = tf_owner_token_of(getpid());
    assert_string_equal(again, t);
    g_free(again);
    assert_null(tf_owner_token_of(0));
}

/* The same pid with another start time is another process: the owner is dead. */
static void test_pid_reuse_is_dead(void **unused)
{
    gchar **f = g_strsplit(tf_owner_token(), "-", -1);
    guint64 start = g_ascii_strtoull(f[3], NULL, 10);
    char *reused = g_strdup_printf("%s-%s-%s-%" G_GUINT64_FORMAT, f[0], f[1], f[2], start + 1);
    char *earlier = g_strdup_printf("%s-%s-%s-%" G_GUINT64_FORMAT, f[0], f[1], f[2], start - 1);
    assert_int_equal(tf_owner_token_state(reused), TF_OWNER_DEAD);
    assert_int_equal(tf_owner_token_state(earlier), TF_OWNER_DEAD);
    /* Another boot: dead whatever runs under that pid now. */
    char *other_boot = g_strdup_printf("%s-%s-%s-%s", strcmp(f[0], "00000000") ? "00000000" : "11111111",
                                       f[1], f[2], f[3]);
    assert_int_equal(tf_owner_token_state(other_boot), TF_OWNER_DEAD);
    /* Another pid namespace: its pids are not ours to look up. */
    char *other_ns = g_strdup_printf("%s-%" G_GUINT64_FORMAT "-%s-%s", f[0],
                                     g_ascii_strtoull(f[1], NULL, 10) + 1, f[2], f[3]);
    assert_int_equal(tf_owner_token_state(other_ns), TF_OWNER_UNKNOWN);
    g_free(reused);
    g_free(earlier);
    g_free(other_boot);
    g_free(other_ns);
    g_strfreev(f);
}

static void test_exited_and_zombie_owners_are_dead(void **unused)
{
    char *t = token_of_dead_child();
    assert_int_equal(tf_owner_token_state(t), TF_OWNER_DEAD);
    g_free(t);

    /* A zombie (exited, not reaped yet) still has its /proc entry: it is dead all the same. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        char c;
        (void)!read(fds[0], &c, 1); /* until the parent closes its end */
        _exit(0);
    }
    close(fds[0]);
    char *live = tf_owner_token_of(pid); /* blocked in read: it runs */
    assert_non_null(live);
    assert_int_equal(tf_owner_token_state(live), TF_OWNER_ALIVE);
    close(fds[1]);
    siginfo_t si;
    assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0); /* exited, unreaped */
    assert_int_equal(tf_owner_token_state(live), TF_OWNER_DEAD);
    assert_null(tf_owner_token_of(pid));
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(tf_owner_token_state(live), TF_OWNER_DEAD);
    g_free(live);
}

static void test_malformed_tokens_are_unknown(void **unused)
{
    const char *bad[] = {"", "-", "abc", "85daeeb6-1-2", "85daeeb6-1-2-3-4", "85daeeb6--2-3",
                         "85daeeb6-1--5-3", "85daeeb6-1-0-3", "85daeeb6-1-2-x", "zzzzzzzz-1-2-3",
                         "85daeeb-1-2-3", "85daeeb6-1-99999999999-3", "85daeeb6-1-2-3\n",
                         "85daeeb6-1-+2-3", " 85daeeb6-1-2-3"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
        if (tf_owner_token_state(bad[i]) != TF_OWNER_UNKNOWN)
            fail_msg("token \"%s\" is not unknown", bad[i]);
    assert_int_equal(tf_owner_token_state(NULL), TF_OWNER_UNKNOWN);
}

/* A dir owned by this process: alive to a later look from this very process too. */
static void test_own_dir_is_alive_and_removed_by_owner(void **unused)
{
    char *parent = new_parent("own");
    GError *e = NULL;
    tf_owned_dir *d = tf_owned_dir_new(parent, "tf-x-", &e);
    assert_non_null(d);
    const char *path = tf_owned_dir_path(d);
    assert_true(g_str_has_prefix(path, parent));
    char *owner = g_build_filename(path, TF_OWNER_FILE, NULL), *text = NULL;
    assert_true(g_file_get_contents(owner, &text, NULL, NULL));
    assert_string_equal(g_strstrip(text), tf_owner_token());
    g_free(text);
    char *sub = g_build_filename(path, "n1", "data", NULL);
    assert_int_equal(g_mkdir_with_parents(sub, 0700), 0);
    write_file(sub, "db", "x");
    assert_int_equal(tf_owner_dir_state(path), TF_OWNER_ALIVE);
    assert_int_equal(tf_owner_sweep_dirs(parent, "tf-", NULL), 0);
    assert_true(g_file_test(sub, G_FILE_TEST_IS_DIR));
    char *copy = g_strdup(path);
    assert_true(tf_owned_dir_remove(d, &e));
    assert_false(g_file_test(copy, G_FILE_TEST_EXISTS));
    g_free(copy);
    g_free(sub);
    g_free(owner);
    g_rmdir(parent);
    g_free(parent);
}

typedef struct {
    pid_t pid;
    int ctl;    /* write end: closing it (or dying) ends the child */
    char *path; /* the dir it owns */
} owner_child;

/* A child process that owns a new dir under parent (with a file in it) until told to
 * end. Forked, not exec'd: the same code a run uses. */
static owner_child start_owner(const char *parent)
{
    int path_pipe[2], ctl[2];
    assert_int_equal(pipe(path_pipe), 0);
    assert_int_equal(pipe(ctl), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(path_pipe[0]);
        close(ctl[1]);
        tf_owned_dir *d = tf_owned_dir_new(parent, "tf-child-", NULL);
        if (!d)
            _exit(3);
        write_file(tf_owned_dir_path(d), "stderr.log", "node output\n");
        (void)!write(path_pipe[1], tf_owned_dir_path(d), strlen(tf_owned_dir_path(d)));
        close(path_pipe[1]);
        char c;
        (void)!read(ctl[0], &c, 1); /* until the parent closes ctl or we are killed */
        _exit(0);                   /* dies owning the dir: nothing removes it */
    }
    close(path_pipe[1]);
    close(ctl[0]);
    char buf[512] = "";
    assert_true(read(path_pipe[0], buf, sizeof buf - 1) > 0);
    close(path_pipe[0]);
    return (owner_child){pid, ctl[1], g_strdup(buf)};
}

static void end_owner(owner_child *c, gboolean kill_it)
{
    if (kill_it)
        kill(c->pid, SIGKILL);
    close(c->ctl);
    assert_int_equal(waitpid(c->pid, NULL, 0), c->pid);
}

/* The rule of the whole module: a live concurrent owner's dir is never removed. */
static void test_live_owner_in_another_process_is_never_swept(void **unused)
{
    char *parent = new_parent("live");
    owner_child live = start_owner(parent);
    owner_child dead = start_owner(parent);
    end_owner(&dead, TRUE); /* SIGKILL: no cleanup code runs */
    assert_true(g_file_test(dead.path, G_FILE_TEST_IS_DIR));
    assert_int_equal(tf_owner_dir_state(live.path), TF_OWNER_ALIVE);
    assert_int_equal(tf_owner_dir_state(dead.path), TF_OWNER_DEAD);
    for (int round = 0; round < 20; round++) { /* sweeps while the owner lives */
        GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
        guint n = tf_owner_sweep_dirs(parent, "tf-", removed);
        assert_int_equal(n, round == 0 ? 1 : 0);
        if (round == 0)
            assert_string_equal(removed->pdata[0], dead.path);
        g_ptr_array_unref(removed);
        char *log = g_build_filename(live.path, "stderr.log", NULL);
        assert_true(g_file_test(log, G_FILE_TEST_IS_REGULAR));
        g_free(log);
    }
    assert_false(g_file_test(dead.path, G_FILE_TEST_EXISTS));
    end_owner(&live, FALSE); /* exits normally, still without removing its dir */
    assert_int_equal(tf_owner_dir_state(live.path), TF_OWNER_DEAD);
    assert_int_equal(tf_owner_sweep_dirs(parent, "tf-", NULL), 1);
    assert_false(g_file_test(live.path, G_FILE_TEST_EXISTS));
    g_free(live.path);
    g_free(dead.path);
    g_rmdir(parent);
    g_free(parent);
}

/* What tf cannot prove dead is left: no owner file, a kept dir, another prefix, a
 * symlink, a free lock whose token names a live process (a filesystem without flock). */
static void test_unowned_and_doubtful_dirs_are_left(void **unused)
{
    char *parent = new_parent("doubt");
    char *plain = g_build_filename(parent, "tf-plain-1", NULL);
    assert_int_equal(g_mkdir(plain, 0700), 0);
    tf_owned_dir *k = tf_owned_dir_new(parent, "tf-kept-", NULL);
    char *kept = g_strdup(tf_owned_dir_path(k));
    tf_owned_dir_keep(k);
    assert_int_equal(tf_owner_dir_state(kept), TF_OWNER_UNKNOWN);
    owner_child other = start_owner(parent); /* dead, but not under our prefix */
    end_owner(&other, TRUE);
    char *renamed = g_build_filename(parent, "other-1", NULL);
    assert_int_equal(g_rename(other.path, renamed), 0);
    owner_child target = start_owner(root); /* dead, outside parent, reached by a symlink */
    end_owner(&target, TRUE);
    char *link = g_build_filename(parent, "tf-link", NULL);
    assert_int_equal(symlink(target.path, link), 0);
    char *unlocked = g_build_filename(parent, "tf-nolock-1", NULL);
    assert_int_equal(g_mkdir(unlocked, 0700), 0);
    write_file(unlocked, TF_OWNER_FILE, tf_owner_token()); /* nobody holds its lock */
    assert_int_equal(tf_owner_dir_state(unlocked), TF_OWNER_ALIVE);
    char *dead_tok = token_of_dead_child();
    char *stale = g_build_filename(parent, "tf-nolock-2", NULL);
    assert_int_equal(g_mkdir(stale, 0700), 0);
    write_file(stale, TF_OWNER_FILE, dead_tok);

    assert_int_equal(tf_owner_sweep_dirs(parent, "tf-", NULL), 1); /* only tf-nolock-2 */
    assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
    const char *left[] = {plain, kept, renamed, unlocked, target.path};
    for (guint i = 0; i < G_N_ELEMENTS(left); i++)
        if (!g_file_test(left[i], G_FILE_TEST_IS_DIR))
            fail_msg("%s was removed", left[i]);
    assert_true(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
    assert_int_equal(tf_owner_sweep_dirs(root, "tf-child-", NULL), 1); /* the link's target */
    g_free(dead_tok);
    g_free(stale);
    g_free(unlocked);
    g_free(link);
    g_free(renamed);
    g_free(kept);
    g_free(plain);
    g_free(other.path);
    g_free(target.path);
    g_free(parent);
}

/* Dirs kept for a while (failed scenarios' logs): the newest N stay, older ones go; a dir
 * kept for good (TF_KEEP_CLUSTER) and a live one are never pruned. */
static void test_prune_kept_keeps_the_newest(void **unused)
{
    char *parent = new_parent("kept");
    char *paths[13];
    for (int i = 0; i < 13; i++) {
        tf_owned_dir *d = tf_owned_dir_new(parent, "tf-k-", NULL);
        paths[i] = g_strdup(tf_owned_dir_path(d));
        write_file(paths[i], "stderr.log", "why it failed\n");
        tf_owned_dir_keep_for_a_while(d);
        char *marker = g_build_filename(paths[i], TF_OWNER_KEPT_FILE, NULL);
        struct timespec when[2] = {{1000 + i, 0}, {1000 + i, 0}}; /* kept in this order */
        assert_int_equal(utimensat(AT_FDCWD, marker, when, 0), 0);
        g_free(marker);
        assert_int_equal(tf_owner_dir_state(paths[i]), TF_OWNER_UNKNOWN);
    }
    tf_owned_dir *forever = tf_owned_dir_new(parent, "tf-k-", NULL);
    char *forever_path = g_strdup(tf_owned_dir_path(forever));
    tf_owned_dir_keep(forever);
    tf_owned_dir *live = tf_owned_dir_new(parent, "tf-k-", NULL);
    assert_int_equal(tf_owner_sweep_dirs(parent, "tf-", NULL), 0); /* none is a dead owner's */
    GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
    assert_int_equal(tf_owner_prune_kept(parent, "tf-", 10, removed), 3);
    for (int i = 0; i < 13; i++)
        if (g_file_test(paths[i], G_FILE_TEST_EXISTS) != (i >= 3))
            fail_msg("kept dir %d (of 13, oldest first) %s", i, i >= 3 ? "was removed" : "is still there");
    assert_true(g_file_test(forever_path, G_FILE_TEST_IS_DIR));
    assert_true(g_file_test(tf_owned_dir_path(live), G_FILE_TEST_IS_DIR));
    assert_int_equal(tf_owner_prune_kept(parent, "tf-", 10, NULL), 0);
    assert_true(tf_owned_dir_remove(live, NULL));
    for (int i = 0; i < 13; i++)
        g_free(paths[i]);
    g_ptr_array_unref(removed);
    g_free(forever_path);
    g_free(parent);
}

/* Sweepers racing over the same dead dirs: each dir is removed once, none fails. */
static void test_concurrent_sweeps_collide_safely(void **unused)
{
    enum { DIRS = 12, SWEEPERS = 4, ROUNDS = 20 };
    for (int round = 0; round < ROUNDS; round++) {
        char *name = g_strdup_printf("race%d", round);
        char *parent = new_parent(name);
        g_free(name);
        for (int i = 0; i < DIRS; i++) {
            owner_child c = start_owner(parent);
            end_owner(&c, TRUE);
            g_free(c.path);
        }
        owner_child live = start_owner(parent);
        pid_t pids[SWEEPERS];
        for (int s = 0; s < SWEEPERS; s++) {
            pids[s] = fork();
            if (pids[s] == 0)
                _exit((int)tf_owner_sweep_dirs(parent, "tf-", NULL));
        }
        int total = 0;
        for (int s = 0; s < SWEEPERS; s++) {
            int status;
            assert_int_equal(waitpid(pids[s], &status, 0), pids[s]);
            assert_true(WIFEXITED(status));
            total += WEXITSTATUS(status);
        }
        assert_int_equal(total, DIRS);
        GDir *d = g_dir_open(parent, 0, NULL);
        guint left = 0;
        while (g_dir_read_name(d))
            left++;
        g_dir_close(d);
        assert_int_equal(left, 1); /* the live owner's */
        assert_int_equal(tf_owner_dir_state(live.path), TF_OWNER_ALIVE);
        end_owner(&live, TRUE);
        assert_int_equal(tf_owner_sweep_dirs(parent, "tf-", NULL), 1);
        g_free(live.path);
        assert_int_equal(g_rmdir(parent), 0);
        g_free(parent);
    }
}

/* The launcher: a cluster's temp dir is owned; the first cluster of a process sweeps
 * TMPDIR of dead runs' dirs and leaves live ones. TF_KEEP_CLUSTER disowns the dir. */
static void test_first_cluster_sweeps_tmpdir(void **unused)
{
    owner_child dead = start_owner(root);
    owner_child live = start_owner(root);
    end_owner(&dead, TRUE);
    json_t *spec_json = json_pack("{s:s, s:s, s:[s], s:[], s:{s:s}, s:{s:s}}", "name", "own",
                                  "binary", "/bin/true", "ports", "a", "argv", "ready", "tcp",
                                  "{port.a}", "source", "url", "http://127.0.0.1:{port.a}");
    GError *e = NULL;
    tf_cluster_spec *s = tf_cluster_spec_from_json(spec_json, "own.json", &e);
    json_decref(spec_json);
    assert_non_null(s);
    tf_cluster *c = tf_cluster_new(s, 1, &e);
    assert_non_null(c);
    assert_false(g_file_test(dead.path, G_FILE_TEST_EXISTS)); /* swept */
    assert_true(g_file_test(live.path, G_FILE_TEST_IS_DIR));  /* not */
    char *dir = g_strdup(tf_cluster_dir(c));
    assert_true(g_str_has_prefix(dir, root));
    assert_int_equal(tf_owner_dir_state(dir), TF_OWNER_ALIVE);
    tf_cluster_free(c);
    assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_free(dir);

    g_setenv("TF_KEEP_CLUSTER", "1", TRUE);
    c = tf_cluster_new(s, 1, &e);
    dir = g_strdup(tf_cluster_dir(c));
    tf_cluster_free(c);
    g_unsetenv("TF_KEEP_CLUSTER");
    assert_int_equal(tf_owner_dir_state(dir), TF_OWNER_UNKNOWN);
    assert_int_equal(tf_owner_sweep_dirs(root, "tf-", NULL), 0);
    assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
    g_free(dir);
    tf_cluster_spec_free(s);
    end_owner(&live, TRUE);
    g_free(dead.path);
    g_free(live.path);
}

static int rm_root(void **unused)
{
    gchar *argv[] = {"rm", "-rf", root, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(root);
    return 0;
}

int main(void)
{
    /* Before anything asks glib for the temp dir (it caches it): clusters go here. */
    const char *tmp = g_getenv("TMPDIR");
    root = g_build_filename(tmp && *tmp ? tmp : "/tmp", "tf-owner-test-XXXXXX", NULL);
    if (!g_mkdtemp(root))
        return 1;
    g_setenv("TMPDIR", root, TRUE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_names_this_process),
        cmocka_unit_test(test_pid_reuse_is_dead),
        cmocka_unit_test(test_exited_and_zombie_owners_are_dead),
        cmocka_unit_test(test_malformed_tokens_are_unknown),
        cmocka_unit_test(test_own_dir_is_alive_and_removed_by_owner),
        cmocka_unit_test(test_live_owner_in_another_process_is_never_swept),
        cmocka_unit_test(test_unowned_and_doubtful_dirs_are_left),
        cmocka_unit_test(test_prune_kept_keeps_the_newest),
        cmocka_unit_test(test_concurrent_sweeps_collide_safely),
        cmocka_unit_test(test_first_cluster_sweeps_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, rm_root);
}
