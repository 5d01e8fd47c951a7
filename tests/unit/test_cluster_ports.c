/* test_cluster_ports.c: ports picked by several processes at once never collide
 * (tf/cluster/ports.c). Child processes stand in for the workers of `tf run --parallel`
 * and parallel CI jobs: each takes many ports at the same moment and none is handed to two
 * of them (without the cross-process reservation the kernel offers the same free ports to
 * several probes: with 3 x 1,500 ports of a ~28,000-port range, dozens collide). A live
 * process's reservations hold; they free themselves when it dies, SIGKILL included. */
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
#include <sys/wait.h>
#include <cmocka.h>
#include <glib.h>
#include "../../tf/cluster/cluster_priv.h"

#define CHILDREN 3
#define PER_CHILD 1500

/* Forks a child that waits for a byte on go, takes n ports, writes them to out (one
 * guint each) and then lives until the parent closes hold[1]. */
static pid_t taker(int go, int out, const int hold[2], guint n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid)
        return pid;
    close(hold[1]);
    char c;
    if (read(go, &c, 1) != 1)
        _exit(3);
    for (guint i = 0; i < n; i++) {
        GError *e = NULL;
        guint port = tf_cluster_port_take(&e);
        if (!port) {
            fprintf(stderr, "child: %s\n", e->message);
            _exit(2);
        }
        if (write(out, &port, sizeof port) != sizeof port)
            _exit(4);
    }
    close(out);
    while (read(hold[0], &c, 1) > 0) /* until the parent lets us go */
        ;
    _exit(0);
}

static guint read_ports(int fd, guint *ports, guint max)
{
    guint n = 0;
    ssize_t r;
    while (n < max && (r = read(fd, &ports[n], sizeof ports[n])) == sizeof ports[n])
        n++;
    return n;
}

static void test_processes_never_share_a_port(void **state)
{
    int go[2], hold[2], out[CHILDREN][2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        assert_int_equal(pipe(out[i]), 0);
        pids[i] = taker(go[0], out[i][1], hold, PER_CHILD);
        close(out[i][1]);
    }
    char start[CHILDREN] = {0};
    assert_int_equal(write(go[1], start, CHILDREN), CHILDREN); /* all at once */
    GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint dup = 0, total = 0;
    guint *ports = g_new(guint, PER_CHILD);
    for (int i = 0; i < CHILDREN; i++) {
        guint n = read_ports(out[i][0], ports, PER_CHILD);
        assert_int_equal(n, PER_CHILD);
        for (guint k = 0; k < n; k++) {
            if (!g_hash_table_add(seen, GUINT_TO_POINTER(ports[k])))
                dup++;
            total++;
        }
        close(out[i][0]);
    }
    close(hold[1]);
    for (int i = 0; i < CHILDREN; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    printf("%u ports taken by %d processes at once, %u handed out twice\n", total, CHILDREN,
           dup);
    assert_int_equal(dup, 0);
    g_free(ports);
    g_hash_table_unref(seen);
    close(go[0]);
    close(go[1]);
    close(hold[0]);
}

/* Whether another process holds a reservation of port (asked with a lock of our own). */
static gboolean reserved_elsewhere(int fd, guint port)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = port, .l_len = 1};
    assert_int_equal(fcntl(fd, F_OFD_GETLK, &fl), 0);
    return fl.l_type != F_UNLCK;
}

/* The lock file is the machine's, not the process's TMPDIR's: a process whose TMPDIR
 * differs (a soak run, a test's own temp dir) must see the same reservations. glib caches
 * TMPDIR, so a child started with another one is asked for its path. */
static void test_lock_path_ignores_tmpdir(void **state)
{
    char *mine = tf_cluster_ports_lock_path();
    gchar *argv[] = {"/proc/self/exe", "--lock-path", NULL};
    gchar **envp = g_environ_setenv(g_get_environ(), "TMPDIR", "/nonexistent-tf-ports", TRUE);
    gchar *theirs = NULL;
    gint status = 0;
    assert_true(g_spawn_sync(NULL, argv, envp, 0, NULL, NULL, &theirs, NULL, &status, NULL));
    assert_true(g_spawn_check_wait_status(status, NULL));
    assert_string_equal(g_strchomp(theirs), mine);
    assert_true(g_str_has_prefix(mine, "/tmp/"));
    g_strfreev(envp);
    g_free(theirs);
    g_free(mine);
}

static void test_reservations_live_and_die_with_their_process(void **state)
{
    int go[2], hold[2], out[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(hold), 0);
    assert_int_equal(pipe(out), 0);
    pid_t pid = taker(go[0], out[1], hold, 20);
    close(out[1]);
    assert_int_equal(write(go[1], "x", 1), 1);
    guint ports[20];
    assert_int_equal(read_ports(out[0], ports, 20), 20);
    char *path = tf_cluster_ports_lock_path();
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    for (int i = 0; i < 20; i++)
        assert_true(reserved_elsewhere(fd, ports[i]));
    kill(pid, SIGKILL); /* as a CI timeout kills: no exit handler runs */
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    for (int i = 0; i < 20; i++)
        assert_false(reserved_elsewhere(fd, ports[i]));
    close(fd);
    g_free(path);
    close(out[0]);
    close(go[0]);
    close(go[1]);
    close(hold[0]);
    close(hold[1]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--lock-path")) { /* test_lock_path_ignores_tmpdir */
        char *path = tf_cluster_ports_lock_path();
        printf("%s\n", path);
        g_free(path);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_processes_never_share_a_port),
        cmocka_unit_test(test_reservations_live_and_die_with_their_process),
        cmocka_unit_test(test_lock_path_ignores_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
