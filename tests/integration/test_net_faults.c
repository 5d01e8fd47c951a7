/* test_net_faults.c: local clusters in network namespaces and the faults between their
 * members (tf/cluster/net*.c, fault.c). The members are this program itself started as
 * net peers (tests/support/net_peer.h): each can be asked, through the runner's HTTP
 * client, whether it reaches another, so every claim of cluster.h about partitions,
 * isolation, one-way cuts, packet loss and healing is checked from inside the members'
 * namespaces, while the runner keeps reaching every member. Also: nothing is left after
 * a cluster is freed; a SIGKILLed owner's leftovers are removed by the next run and a
 * live owner's never; an unprivileged user is told at once what is missing; a user
 * namespace gives an unprivileged user the same faults. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "tf/cluster.h"
#include "tf/error.h"
#include "tf/http.h"
#include "net_peer.h"
#include "skip.h"
#include "../../tf/cluster/cluster_priv.h"
#include "../../tf/cluster/net.h"

#define NOBODY 65534

static tf_http *http;

static tf_cluster *start_peers(guint n)
{
    tf_cluster_spec *spec = net_peer_spec(n);
    GError *e = NULL;
    tf_cluster *c = tf_cluster_new(spec, n, &e);
    tf_cluster_spec_free(spec);
    if (!c)
        fail_msg("cluster: %s", e->message);
    if (!tf_cluster_start(c, &e))
        fail_msg("start: %s", e->message);
    return c;
}

/* Checks the reachability matrix against want ("1" reaches, "0" cut; row = from). */
static void expect_matrix(tf_cluster *c, const char *const *want)
{
    guint n = tf_cluster_size(c);
    gboolean *m = net_peer_matrix(http, c);
    gchar *text = net_peer_matrix_text(c, m);
    for (guint f = 0; f < n; f++)
        for (guint t = 0; t < n; t++)
            if (m[f * n + t] != (want[f][t] == '1'))
                fail_msg("%s -> %s: %s, want %s; all: %s", tf_cluster_node_name(c, f),
                         tf_cluster_node_name(c, t), m[f * n + t] ? "reached" : "cut",
                         want[f][t] == '1' ? "reached" : "cut", text);
    g_free(text);
    g_free(m);
}

/* The runner reaches every member (observation traffic is never cut). */
static void expect_runner_reaches_all(tf_cluster *c)
{
    for (guint i = 0; i < tf_cluster_size(c); i++) {
        gchar *url = g_strdup_printf("%s/health", tf_cluster_node_url(c, i));
        GError *e = NULL;
        json_t *j = tf_http_json(http, "health", url, NULL, 3 * G_USEC_PER_SEC, &e);
        if (!j)
            fail_msg("runner -> %s: %s", tf_cluster_node_name(c, i), e->message);
        json_decref(j);
        g_free(url);
    }
}

static const char *const ALL_OPEN[] = {"111", "111", "111"};

static void test_members_have_own_addresses_and_reach_each_other(void **unused)
{
    tf_cluster *c = start_peers(3);
    assert_int_equal(tf_cluster_network_of(c), TF_CLUSTER_NET_NAMESPACES);
    gchar *subnet = tf_net_subnet(NULL);
    gchar **parts = g_strsplit(subnet, ".", 3);
    gchar *prefix = g_strdup_printf("%s.%s.", parts[0], parts[1]);
    for (guint i = 0; i < 3; i++) {
        const char *a = tf_cluster_node_address(c, i);
        assert_true(g_str_has_prefix(a, prefix));
        assert_non_null(strstr(tf_cluster_node_url(c, i), a));
        for (guint j = 0; j < i; j++)
            assert_string_not_equal(a, tf_cluster_node_address(c, j));
    }
    expect_runner_reaches_all(c);
    expect_matrix(c, ALL_OPEN);
    g_strfreev(parts);
    g_free(prefix);
    g_free(subnet);
    tf_cluster_free(c);
}

static void test_partition_then_heal(void **unused)
{
    tf_cluster *c = start_peers(3);
    GError *e = NULL;
    gint64 before = g_get_monotonic_time();
    assert_true(tf_cluster_partition(c, (guint[]){0, 1, 1}, 3, &e));
    expect_matrix(c, (const char *const[]){"100", "011", "011"});
    expect_runner_reaches_all(c);
    assert_true(tf_cluster_node_isolated(c, 0));
    assert_false(tf_cluster_node_isolated(c, 1));
    assert_int_equal(tf_cluster_faults_active(c), 1);
    assert_true(tf_cluster_heal(c, &e));
    assert_int_equal(tf_cluster_faults_active(c), 0);
    expect_matrix(c, ALL_OPEN);

    json_t *log = tf_cluster_faults(c);
    assert_int_equal(json_array_size(log), 2);
    json_t *start = json_array_get(log, 0), *end = json_array_get(log, 1);
    assert_string_equal(json_string_value(json_object_get(start, "event")), "fault_started");
    assert_string_equal(json_string_value(json_object_get(start, "fault")), "partition");
    assert_string_equal(json_string_value(json_object_get(start, "description")), "{n1} | {n2, n3}");
    assert_string_equal(json_string_value(json_object_get(end, "event")), "fault_ended");
    assert_int_equal(json_integer_value(json_object_get(end, "id")),
                     json_integer_value(json_object_get(start, "id")));
    gint64 t0 = json_integer_value(json_object_get(start, "time"));
    gint64 t1 = json_integer_value(json_object_get(end, "time"));
    assert_true(before <= t0 && t0 < t1);
    assert_true(json_integer_value(json_object_get(start, "apply_us")) >= 0);
    json_decref(log);
    tf_cluster_free(c);
}

/* n1 cannot reach n2: what n1 opens to n2 fails, what n2 opens to n1 works. */
static void test_one_way_cut(void **unused)
{
    tf_cluster *c = start_peers(3);
    GError *e = NULL;
    assert_true(tf_cluster_cut(c, 0, 1, &e));
    expect_matrix(c, (const char *const[]){"101", "111", "111"});
    expect_runner_reaches_all(c);
    assert_false(tf_cluster_node_isolated(c, 0));
    assert_true(tf_cluster_heal(c, &e));
    expect_matrix(c, ALL_OPEN);
    assert_false(tf_cluster_cut(c, 1, 1, &e));
    assert_non_null(strstr(e->message, "needs two nodes"));
    g_clear_error(&e);
    tf_cluster_free(c);
}

/* Rejoining ends what cuts the node off; loss on another node stays until healed. */
static void test_isolate_rejoin_keeps_other_faults(void **unused)
{
    tf_cluster *c = start_peers(3);
    GError *e = NULL;
    assert_true(tf_cluster_node_lose(c, 2, 1.0, &e));
    assert_true(tf_cluster_node_isolate(c, 0, &e));
    assert_true(tf_cluster_node_isolated(c, 0));
    expect_matrix(c, (const char *const[]){"100", "010", "001"});
    expect_runner_reaches_all(c); /* even n3, which loses every packet from its peers */
    assert_true(tf_cluster_node_rejoin(c, 0, &e));
    assert_false(tf_cluster_node_isolated(c, 0));
    assert_int_equal(tf_cluster_faults_active(c), 1);
    expect_matrix(c, (const char *const[]){"110", "110", "001"});
    assert_true(tf_cluster_heal(c, &e));
    expect_matrix(c, ALL_OPEN);
    tf_cluster_free(c);
}

/* TF-IN of member i as iptables prints it (read inside its namespace). */
static gchar *chain_of(tf_cluster *c, guint i)
{
    int fd = tf_net_member_fd(c->net, i);
    const char *argv[] = {"iptables", "-S", "TF-IN", NULL};
    gchar *out = NULL;
    GError *e = NULL;
    if (!tf_netns_run(fd, argv, NULL, NULL, 0, &out, &e))
        fail_msg("%s", e->message);
    return out;
}

/* A share of packets: the rule is where the packet arrives, on both sides of n1's links;
 * healing removes it. (Which packets drop is random: the matrix is not checked here.) */
static void test_loss_rules(void **unused)
{
    tf_cluster *c = start_peers(2);
    GError *e = NULL;
    assert_true(tf_cluster_node_lose(c, 0, 0.25, &e));
    gchar *n1 = chain_of(c, 0);
    gchar *n2 = chain_of(c, 1);
    /* on n1 every peer's packets, never the runner's; on n2 the packets from n1 */
    gchar *runner = g_strdup_printf("! -s %s/32 -m statistic --mode random --probability 0.25",
                                    tf_net_runner_address(c->net));
    assert_non_null(strstr(n1, runner));
    g_free(runner);
    gchar *from_n1 = g_strdup_printf("-s %s/32 -m statistic --mode random --probability 0.25",
                                     tf_cluster_node_address(c, 0));
    assert_non_null(strstr(n2, from_n1));
    g_free(n1);
    g_free(n2);
    assert_true(tf_cluster_heal(c, &e));
    n1 = chain_of(c, 0);
    assert_null(strstr(n1, "statistic"));
    g_free(n1);
    g_free(from_n1);
    assert_false(tf_cluster_node_lose(c, 0, 1.5, &e));
    assert_non_null(strstr(e->message, "at most 1"));
    g_clear_error(&e);
    tf_cluster_free(c);
}

/* Observation is cut only when asked: the runner no longer reaches n1, its peers do. */
static void test_unobserved_member(void **unused)
{
    tf_cluster *c = start_peers(2);
    GError *e = NULL;
    assert_true(tf_cluster_node_unobserve(c, 0, &e));
    gchar *url = g_strdup_printf("%s/health", tf_cluster_node_url(c, 0));
    json_t *j = tf_http_json(http, "health", url, NULL, 1 * G_USEC_PER_SEC, &e);
    assert_null(j);
    assert_int_equal(e->code, TF_ERROR_TIMEOUT); /* dropped, as a real cut: a timeout */
    g_clear_error(&e);
    assert_true(net_peer_reaches(http, c, 1, 0)); /* n2 still reaches n1 */
    assert_true(tf_cluster_heal(c, &e));
    expect_runner_reaches_all(c);
    g_free(url);
    tf_cluster_free(c);
}

/* Delay needs netem: where the kernel lacks it, the error says so and nothing changes. */
static void test_delay_needs_netem(void **unused)
{
    tf_cluster *c = start_peers(2);
    GError *e = NULL;
    if (tf_cluster_node_delay(c, 0, 50000, &e)) {
        assert_int_equal(tf_cluster_faults_active(c), 1); /* this kernel has netem */
        assert_true(tf_cluster_heal(c, &e));
    } else {
        assert_non_null(strstr(e->message, "netem"));
        assert_non_null(strstr(e->message, "this kernel does not have"));
        assert_int_equal(tf_cluster_faults_active(c), 0);
        json_t *log = tf_cluster_faults(c);
        assert_int_equal(json_array_size(log), 0); /* a fault that failed is not recorded */
        json_decref(log);
        g_clear_error(&e);
        expect_matrix(c, (const char *const[]){"11", "11"});
    }
    tf_cluster_free(c);
}

static void test_faults_refused_on_loopback_and_bad_arguments(void **unused)
{
    tf_cluster_spec *spec = net_peer_spec(2);
    GError *e = NULL;
    tf_cluster *c = tf_cluster_new_network(spec, 2, TF_CLUSTER_NET_LOOPBACK, &e);
    tf_cluster_spec_free(spec);
    assert_non_null(c);
    assert_int_equal(tf_cluster_network_of(c), TF_CLUSTER_NET_LOOPBACK);
    assert_string_equal(tf_cluster_node_address(c, 0), "127.0.0.1");
    assert_false(tf_cluster_node_isolate(c, 0, &e));
    assert_non_null(strstr(e->message, "network namespaces"));
    g_clear_error(&e);
    assert_true(tf_cluster_heal(c, &e)); /* nothing to heal */
    tf_cluster_free(c);

    c = start_peers(2);
    assert_false(tf_cluster_partition(c, (guint[]){0, 0}, 2, &e));
    assert_non_null(strstr(e->message, "at least two groups"));
    g_clear_error(&e);
    assert_false(tf_cluster_partition(c, (guint[]){0, 1, 1}, 3, &e));
    assert_non_null(strstr(e->message, "3 given for 2 nodes"));
    g_clear_error(&e);
    assert_false(tf_cluster_node_isolate(c, 7, &e));
    g_clear_error(&e);
    json_t *log = tf_cluster_faults(c);
    assert_int_equal(json_array_size(log), 0);
    json_decref(log);
    tf_cluster_free(c);
}

/* ---- what is left in the runner's namespace ---------------------------------------------- */

static gboolean link_exists(const char *name)
{
    const char *argv[] = {"ip", "link", "show", name, NULL};
    return tf_netns_run(-1, argv, NULL, NULL, 0, NULL, NULL);
}

static gboolean route_exists(void)
{
    gchar *subnet = tf_net_subnet(NULL), *out = NULL;
    const char *argv[] = {"ip", "-4", "route", "show", "type", "unreachable", subnet, NULL};
    gboolean found = tf_netns_run(-1, argv, NULL, NULL, 0, &out, NULL) && out && *out;
    g_free(out);
    g_free(subnet);
    return found;
}

static guint count_records(void)
{
    gchar *dir = tf_net_state_dir();
    GDir *d = g_dir_open(dir, 0, NULL);
    guint n = 0;
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        n += g_str_has_prefix(name, "net-");
    if (d)
        g_dir_close(d);
    g_free(dir);
    return n;
}

/* The runner-side link of cluster c: tfn<slot>, found from its runner address. */
static gchar *runner_link(tf_cluster *c)
{
    gchar **a = g_strsplit(tf_cluster_node_address(c, 0), ".", 4);
    gchar *l = g_strdup_printf("tfn%s", a[2]);
    g_strfreev(a);
    return l;
}

static void test_nothing_left_after_free(void **unused)
{
    guint records = count_records();
    tf_cluster *c = start_peers(2);
    gchar *link = runner_link(c);
    assert_true(link_exists(link));
    assert_true(route_exists());
    assert_int_equal(count_records(), records + 1);
    GError *e = NULL;
    assert_true(tf_cluster_partition(c, (guint[]){0, 1}, 2, &e)); /* freed while faulted */
    tf_cluster_free(c);
    assert_false(link_exists(link));
    assert_int_equal(count_records(), records);
    if (records == 0) /* no other live run here needs the route */
        assert_false(route_exists());
    g_free(link);
}

/* ---- other processes: a killed run, a live run, an unprivileged user -------------------- */

/* --hold: a run that builds a 2-member cluster, prints "LINK URL\n" and ends cleanly when
 * its stdin closes (a SIGKILL ends it without cleaning anything). */
static int hold_main(void)
{
    tf_cluster *c = start_peers(2);
    gchar *link = runner_link(c);
    printf("%s %s\n", link, tf_cluster_node_url(c, 1));
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    tf_cluster_free(c);
    g_free(link);
    return 0;
}

typedef struct {
    pid_t pid;
    int in;       /* its stdin: closing it ends the run */
    gchar *link;
    gchar *url;
} holder;

/* A --hold run whose cluster dir goes in tmp (a killed one's stays there for the test to
 * remove, not in /tmp for a later run to sweep). */
static holder spawn_holder(const char *tmp)
{
    int in[2], out[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        g_setenv("TMPDIR", tmp, TRUE);
        execl("/proc/self/exe", "test_net_faults", "--hold", NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    char line[512] = "";
    ssize_t n = 0, got;
    while (n < (ssize_t)sizeof line - 1 && (got = read(out[0], line + n, sizeof line - 1 - n)) > 0) {
        n += got;
        if (memchr(line, '\n', n))
            break;
    }
    close(out[0]);
    line[n > 0 ? n : 0] = '\0';
    gchar **f = g_strsplit(g_strstrip(line), " ", 2);
    if (g_strv_length(f) != 2)
        fail_msg("holder said '%s'", line);
    holder h = {pid, in[1], g_strdup(f[0]), g_strdup(f[1])};
    g_strfreev(f);
    return h;
}

static gboolean answers(const char *url)
{
    gchar *health = g_strdup_printf("%s/health", url);
    json_t *j = tf_http_json(http, "health", health, NULL, 3 * G_USEC_PER_SEC, NULL);
    g_free(health);
    json_decref(j);
    return j != NULL;
}

/* A SIGKILLed run leaves its record and the route (its namespaces go with it); the next
 * run that builds a network removes them; a live run's link, record and members stay. */
static void test_killed_run_swept_live_run_kept(void **unused)
{
    guint records = count_records();
    gchar *tmp = g_dir_make_tmp("tf-net-holders-XXXXXX", NULL);
    assert_non_null(tmp);
    holder dead = spawn_holder(tmp);
    holder live = spawn_holder(tmp);
    assert_true(answers(dead.url) && answers(live.url));
    kill(dead.pid, SIGKILL);
    assert_int_equal(waitpid(dead.pid, NULL, 0), dead.pid);
    close(dead.in);
    assert_int_equal(count_records(), records + 2); /* the dead one's record is still there */
    assert_true(route_exists());

    tf_cluster *c = start_peers(2); /* a later run: it sweeps before claiming a slot */
    assert_int_equal(count_records(), records + 2); /* the live one's and ours */
    gchar *ours = runner_link(c);
    if (strcmp(ours, dead.link)) /* else we took the slot it freed */
        assert_false(link_exists(dead.link));
    g_free(ours);
    assert_false(answers(dead.url)); /* the unreachable route answers for it, at once */
    assert_true(link_exists(live.link));
    assert_true(answers(live.url));
    tf_cluster_free(c);
    assert_true(answers(live.url)); /* our teardown left the live run's route alone */

    close(live.in); /* the live run ends cleanly */
    int status = 0;
    assert_int_equal(waitpid(live.pid, &status, 0), live.pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_false(link_exists(live.link));
    assert_int_equal(count_records(), records);
    if (records == 0)
        assert_false(route_exists());
    g_free(dead.link);
    g_free(dead.url);
    g_free(live.link);
    g_free(live.url);
    gchar *rm[] = {"rm", "-rf", tmp, NULL};
    g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(tmp);
}

/* --probe: prints tf_cluster_network_usable's answer; exit 0 usable, 3 not. */
static int probe_main(void)
{
    GError *e = NULL;
    gboolean ok = tf_cluster_network_usable(&e);
    printf("%s\n", ok ? "usable" : e->message);
    g_clear_error(&e);
    return ok ? 0 : 3;
}

/* --userns: inside a user namespace of an unprivileged user, the same faults work. */
static int userns_main(void)
{
    GError *e = NULL;
    if (!tf_cluster_network_usable(&e)) {
        printf("not usable: %s\n", e->message);
        return 3;
    }
    http = tf_http_new();
    tf_cluster *c = start_peers(3);
    if (!tf_cluster_partition(c, (guint[]){0, 1, 1}, 3, &e)) {
        printf("partition: %s\n", e->message);
        return 4;
    }
    gboolean *m = net_peer_matrix(http, c);
    gchar *text = net_peer_matrix_text(c, m);
    printf("%s\n", text);
    gboolean ok = !m[0 * 3 + 1] && !m[1 * 3 + 0] && m[1 * 3 + 2] && m[2 * 3 + 1] && answers(tf_cluster_node_url(c, 0));
    g_free(text);
    g_free(m);
    tf_cluster_free(c);
    tf_http_free(http);
    return ok ? 0 : 5;
}

/* Runs this program with mode as user nobody, first in a new user and network namespace
 * when userns; returns its exit status and output. */
static int run_as_nobody(const char *mode, gboolean userns, gchar **out)
{
    gchar *tmp = g_build_filename(g_get_tmp_dir(), "tf-net-nobody-XXXXXX", NULL);
    assert_non_null(g_mkdtemp_full(tmp, 0700));
    assert_int_equal(chown(tmp, NOBODY, NOBODY), 0);
    /* tf's port lock of user nobody (tf/cluster/ports.c): made by this test, gone after it. */
    gchar *lock = g_strdup_printf("/tmp/tf-ports-%d.lock", NOBODY);
    gboolean lock_was_there = g_file_test(lock, G_FILE_TEST_EXISTS);
    int pipefd[2];
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        g_setenv("TMPDIR", tmp, TRUE);
        g_unsetenv("XDG_RUNTIME_DIR");
        if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
            _exit(120);
        prctl(PR_SET_DUMPABLE, 1); /* a uid change makes /proc/self/ root's: not our maps */
        if (userns) { /* this child is single-threaded: it may make a user namespace */
            if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
                _exit(121);
            int fd = open("/proc/self/setgroups", O_WRONLY);
            (void)!write(fd, "deny", 4);
            close(fd);
            char map[64];
            int len = snprintf(map, sizeof map, "0 %d 1\n", NOBODY);
            fd = open("/proc/self/uid_map", O_WRONLY);
            if (write(fd, map, len) != len)
                _exit(122);
            close(fd);
            fd = open("/proc/self/gid_map", O_WRONLY);
            if (write(fd, map, len) != len)
                _exit(123);
            close(fd);
        }
        execl("/proc/self/exe", "test_net_faults", mode, NULL);
        _exit(127);
    }
    close(pipefd[1]);
    GString *text = g_string_new(NULL);
    char buf[1024];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0)
        g_string_append_len(text, buf, n);
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    GError *e = NULL;
    gchar *rm[] = {"rm", "-rf", tmp, NULL};
    g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, &e);
    g_clear_error(&e);
    g_free(tmp);
    if (!lock_was_there)
        g_unlink(lock);
    g_free(lock);
    *out = g_string_free(text, FALSE);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Without privileges the answer comes at once and says what is missing and what to do. */
static void test_unprivileged_user_told_what_is_missing(void **unused)
{
    gchar *out = NULL;
    int rc = run_as_nobody("--probe", FALSE, &out);
    printf("as nobody: exit %d: %s", rc, out);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(out, "Operation not permitted"));
    assert_non_null(strstr(out, "CAP_SYS_ADMIN"));
    assert_non_null(strstr(out, "unshare --user --map-root-user --net"));
    g_free(out);
}

/* The same user in a user namespace of their own gets the same partition. */
static void test_user_namespace_gives_the_same_faults(void **unused)
{
    gchar *out = NULL;
    int rc = run_as_nobody("--userns", TRUE, &out);
    printf("as nobody in a user namespace: exit %d: %s", rc, out);
    if (rc == 121) /* the kernel refuses unprivileged user namespaces here */
        tf_test_skip(TF_NEED_OPTIONAL, "this kernel refuses user namespaces to unprivileged users");
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "n1->n2 CUT"));
    assert_non_null(strstr(out, "n2->n3 ok"));
    g_free(out);
}

static int setup(void **unused)
{
    http = tf_http_new();
    return 0;
}

static int teardown(void **unused)
{
    tf_http_free(http);
    return 0;
}

int main(int argc, char **argv)
{
    net_peer_maybe_run(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "--hold")) {
        http = tf_http_new();
        int rc = hold_main();
        tf_http_free(http);
        return rc;
    }
    if (argc > 1 && !strcmp(argv[1], "--probe"))
        return probe_main();
    if (argc > 1 && !strcmp(argv[1], "--userns"))
        return userns_main();
    net_test_need_namespaces();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_have_own_addresses_and_reach_each_other),
        cmocka_unit_test(test_partition_then_heal),
        cmocka_unit_test(test_one_way_cut),
        cmocka_unit_test(test_isolate_rejoin_keeps_other_faults),
        cmocka_unit_test(test_loss_rules),
        cmocka_unit_test(test_unobserved_member),
        cmocka_unit_test(test_delay_needs_netem),
        cmocka_unit_test(test_faults_refused_on_loopback_and_bad_arguments),
        cmocka_unit_test(test_nothing_left_after_free),
        cmocka_unit_test(test_killed_run_swept_live_run_kept),
        cmocka_unit_test(test_unprivileged_user_told_what_is_missing),
        cmocka_unit_test(test_user_namespace_gives_the_same_faults),
    };
    return tf_test_status(cmocka_run_group_tests(tests, setup, teardown));
}
