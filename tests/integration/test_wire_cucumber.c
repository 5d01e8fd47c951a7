/* test_wire_cucumber.c: `tf wire` serving the bundled raftkv steps to a real Cucumber
 * (Debian's cucumber 2.4 with cucumber-wire) against real local etcd clusters: the raftkv
 * features pass, an impossible expectation fails with the same explanation as under
 * `tf run`, a client gone mid-step still gets its cluster stopped, and no etcd outlives
 * the server. One tf wire serves every test of this file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "skip.h"

/* A running `tf wire`. */
typedef struct {
    GPid pid;
    int err;         /* its stderr (the connection log) */
    GString *log;    /* everything read from it so far */
    guint16 port;
} wire_proc;

static char *tmp;
static wire_proc wire = {.err = -1}; /* the server every test shares */
static gboolean have_cucumber;

static const char *tf_bin(void)
{
    return g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
}

/* Reads tf wire's stderr until it has said `what` `times` times in all (90 s at most). */
static gboolean await_log(const char *what, guint times)
{
    GString *wire_log = wire.log;
    int wire_err = wire.err;
    gint64 deadline = g_get_monotonic_time() + 90 * G_USEC_PER_SEC;
    for (;;) {
        guint n = 0;
        for (const char *p = wire_log->str; (p = strstr(p, what)); p += strlen(what))
            n++;
        if (n >= times)
            return TRUE;
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        struct pollfd p = {wire_err, POLLIN, 0};
        if (left_ms <= 0 || poll(&p, 1, (int)left_ms) <= 0)
            return FALSE;
        char buf[4096];
        ssize_t r = read(wire_err, buf, sizeof buf);
        if (r <= 0)
            return FALSE;
        g_string_append_len(wire_log, buf, r);
    }
}

/* etcd processes whose parent is tf wire or, once orphaned, this test (a subreaper). */
static guint etcd_under_us(void)
{
    guint n = 0;
    GDir *d = g_dir_open("/proc", 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        if (!g_ascii_isdigit(e[0]))
            continue;
        char *path = g_strdup_printf("/proc/%s/stat", e), *stat = NULL;
        if (g_file_get_contents(path, &stat, NULL, NULL)) {
            /* "pid (comm) state ppid ...": comm may hold spaces, so parse after the ')' */
            const char *close = strrchr(stat, ')');
            const char *open = strchr(stat, '(');
            int ppid = 0;
            char state = 0;
            if (open && close && sscanf(close + 1, " %c %d", &state, &ppid) == 2 && state != 'Z' &&
                (ppid == wire.pid || ppid == getpid()) &&
                close - open - 1 == 4 && !strncmp(open + 1, "etcd", 4))
                n++;
        }
        g_free(stat);
        g_free(path);
    }
    if (d)
        g_dir_close(d);
    return n;
}

/* A Cucumber project in tmp/name with the given features and a .wire file for our server. */
static char *make_project(const char *name, const char *const *features, guint16 port)
{
    char *dir = g_build_filename(tmp, name, NULL);
    char *defs = g_build_filename(dir, "features", "step_definitions", NULL);
    char *support = g_build_filename(dir, "features", "support", NULL);
    g_mkdir_with_parents(defs, 0700);
    g_mkdir_with_parents(support, 0700);
    for (const char *const *f = features; *f; f++) {
        char *text = NULL, *base = g_path_get_basename(*f);
        char *to = g_build_filename(dir, "features", base, NULL);
        assert_true(g_file_get_contents(*f, &text, NULL, NULL));
        assert_true(g_file_set_contents(to, text, -1, NULL));
        g_free(to);
        g_free(base);
        g_free(text);
    }
    /* cucumber 2.x loads the wire plugin itself when it finds a .wire file; requiring it
     * again would open a second connection. cucumber 3+ needs the require. */
    char *rb = g_build_filename(support, "wire.rb", NULL);
    assert_true(g_file_set_contents(rb,
        "require 'cucumber/wire' if Gem::Version.new(Cucumber::VERSION) >= Gem::Version.new('3')\n",
        -1, NULL));
    /* Steps start and stop etcd clusters: give every message room (the defaults are 3 s
     * for step_matches and snippet_text, 120 s for invoke and the scenario hooks). */
    char *file = g_build_filename(defs, "tf.wire", NULL);
    char *conf = g_strdup_printf("host: 127.0.0.1\nport: %u\ntimeout:\n  step_matches: 30\n"
                                 "  snippet_text: 30\n  invoke: 120\n  begin_scenario: 120\n"
                                 "  end_scenario: 120\n", port);
    assert_true(g_file_set_contents(file, conf, -1, NULL));
    g_free(conf);
    g_free(file);
    g_free(rb);
    g_free(support);
    g_free(defs);
    return dir;
}

static int run_in(const char *dir, const char *const *argv, char **out)
{
    int status = -1;
    GError *err = NULL;
    if (!g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, out, NULL, &status, &err))
        fail_msg("cannot run %s: %s", argv[0], err->message);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Starts `tf wire --port 0 [extra...]` in tmp and reads where it listens. */
static gboolean start_wire(wire_proc *w, const char *const *extra)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)tf_bin());
    g_ptr_array_add(argv, "wire");
    g_ptr_array_add(argv, "--port");
    g_ptr_array_add(argv, "0");
    for (const char *const *a = extra; a && *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    int out = -1;
    GError *err = NULL;
    gboolean ok = g_spawn_async_with_pipes(tmp, (char **)argv->pdata, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &w->pid,
                                           NULL, &out, &w->err, &err);
    g_ptr_array_unref(argv);
    if (!ok) {
        fprintf(stderr, "cannot start tf wire: %s\n", err->message);
        g_error_free(err);
        return FALSE;
    }
    w->log = g_string_new(NULL);
    /* "tf wire: listening on 127.0.0.1:PORT" once it accepts connections */
    char line[128] = "";
    gsize len = 0;
    struct pollfd p = {out, POLLIN, 0};
    while (!strchr(line, '\n') && len < sizeof line - 1 && poll(&p, 1, 30000) == 1) {
        ssize_t r = read(out, line + len, sizeof line - 1 - len);
        if (r <= 0)
            break;
        len += (gsize)r;
        line[len] = 0;
    }
    close(out);
    const char *colon = strrchr(line, ':');
    w->port = colon && g_str_has_prefix(line, "tf wire: listening on ") ? (guint16)atoi(colon + 1) : 0;
    if (!w->port)
        fprintf(stderr, "tf wire did not say where it listens: '%s'\n", line);
    return w->port != 0;
}

/* SIGTERM, then its exit status (-1 when it did not exit normally). */
static int stop_wire(wire_proc *w)
{
    int status = 0, code = -1;
    if (w->pid > 0 && kill(w->pid, SIGTERM) == 0 && waitpid(w->pid, &status, 0) == w->pid)
        code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    w->pid = 0;
    if (w->err >= 0)
        close(w->err);
    w->err = -1;
    if (w->log)
        g_string_free(w->log, TRUE);
    w->log = NULL;
    return code;
}

static int setup(void **unused)
{
    char *cucumber = g_find_program_in_path("cucumber");
    have_cucumber = cucumber != NULL;
    g_free(cucumber);
    tmp = g_dir_make_tmp("tf-wire-it-XXXXXX", NULL);
    if (!tmp)
        return -1;
    /* The clusters of tf wire go in tmp too: the logs a failing scenario keeps (by design,
     * the newest 10 outlive a run) go with it in teardown instead of staying in /tmp. */
    g_setenv("TMPDIR", tmp, TRUE);
    /* Orphaned etcd (a server that died without cleanup) would become ours: countable. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    g_setenv("TF_CLUSTERS", TF_SOURCE_DIR "/scenarios/clusters", TRUE);
    return start_wire(&wire, NULL) ? 0 : -1;
}

static int teardown(void **unused)
{
    stop_wire(&wire); /* a test failed before the stop test: do not leave it running */
    const char *rm[] = {"rm", "-rf", tmp, NULL}; /* the projects and their copies */
    g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(tmp);
    return 0;
}

/* Skips the test without Debian's cucumber (a failure under CI=true: install-deps has it). */
static void need_cucumber(void)
{
    if (!have_cucumber)
        tf_test_skip(TF_NEED_REQUIRED, "cucumber is not on PATH (Debian packages cucumber and "
                     "ruby-cucumber-wire, installed by scripts/install-deps.sh)");
}

static void test_cucumber_runs_raftkv_features(void **unused)
{
    need_cucumber();
    const char *features[] = {TF_SOURCE_DIR "/scenarios/raftkv/leader_failover.feature",
                              TF_SOURCE_DIR "/scenarios/raftkv/quorum.feature",
                              TF_SOURCE_DIR "/scenarios/raftkv/rolling_restart.feature", NULL};
    char *dir = make_project("raftkv", features, wire.port);
    const char *argv[] = {"cucumber", "--no-color", "--strict", NULL};
    char *out = NULL;
    int code = run_in(dir, argv, &out);
    fputs(out, stdout); /* whole: print_message cuts long text */
    fflush(stdout);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "5 scenarios (5 passed)"));
    assert_non_null(strstr(out, "# " TF_SOURCE_DIR "/steps/raftkv_steps.c:")); /* step locations */
    /* cucumber opened one connection; its end_scenario stopped every cluster */
    assert_true(await_log("connection closed", 1));
    assert_int_equal(etcd_under_us(), 0);
    g_free(out);
    g_free(dir);
}

static void test_impossible_expectation_same_text_as_tf_run(void **unused)
{
    need_cucumber();
    const char *feature = TF_SOURCE_DIR "/tests/integration/data/raftkv_impossible.feature";
    const char *features[] = {feature, NULL};
    char *dir = make_project("impossible", features, wire.port);
    const char *argv[] = {"cucumber", "--no-color", NULL};
    char *out = NULL;
    int code = run_in(dir, argv, &out);
    fputs(out, stdout); /* whole: print_message cuts long text */
    fflush(stdout);
    assert_int_equal(code, 1);
    assert_non_null(strstr(out, "1 scenario (1 failed)"));
    char *run_argv[] = {(char *)tf_bin(), "run", "--format", "summary", "--no-color",
                        (char *)feature, NULL};
    char *run_out = NULL;
    assert_int_equal(run_in(tmp, (const char *const *)run_argv, &run_out), 1);
    /* what was awaited, the last snapshot and the last error, in both */
    const char *same[] = {"timed out after 0.0 s waiting for: a new leader with a higher term",
                          "last snapshot (raftkv, cycle ", "\"quorum\":", "last error: ", NULL};
    for (const char *const *s = same; *s; s++) {
        if (!strstr(out, *s) || !strstr(run_out, *s))
            fail_msg("'%s' missing from %s", *s, strstr(out, *s) ? "tf run" : "cucumber");
    }
    char *from = g_strdup_printf("(GError from 127.0.0.1:%u)", wire.port);
    assert_non_null(strstr(out, from));
    g_free(from);
    assert_true(await_log("connection closed", 2));
    assert_int_equal(etcd_under_us(), 0);
    g_free(run_out);
    g_free(out);
    g_free(dir);
}

/* A request and its reply over a raw wire connection. */
static json_t *request(GDataInputStream *in, GOutputStream *out, const char *line)
{
    char *l = g_strdup_printf("%s\n", line);
    assert_true(g_output_stream_write_all(out, l, strlen(l), NULL, NULL, NULL));
    g_free(l);
    char *reply = g_data_input_stream_read_line(in, NULL, NULL, NULL);
    assert_non_null(reply);
    json_t *j = json_loads(reply, 0, NULL);
    assert_non_null(j);
    g_free(reply);
    return j;
}

static char *step_id(GDataInputStream *in, GOutputStream *out, const char *text)
{
    char *req = g_strdup_printf("[\"step_matches\",{\"name_to_match\":\"%s\"}]", text);
    json_t *r = request(in, out, req);
    g_free(req);
    json_t *m = json_array_get(json_array_get(r, 1), 0);
    assert_non_null(m);
    char *id = g_strdup(json_string_value(json_object_get(m, "id")));
    json_decref(r);
    return id;
}

static void test_client_gone_mid_step_stops_cluster(void **unused)
{
    guint closed_before = 0;
    for (const char *p = wire.log->str; (p = strstr(p, "connection closed")); p++)
        closed_before++;
    GSocketClient *sc = g_socket_client_new();
    GSocketConnection *conn = g_socket_client_connect_to_host(sc, "127.0.0.1", wire.port, NULL, NULL);
    assert_non_null(conn);
    GDataInputStream *in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    json_t *r = request(in, out, "[\"begin_scenario\",{\"tags\":[\"raftkv\"]}]");
    assert_string_equal(json_string_value(json_array_get(r, 0)), "success");
    json_decref(r);
    char *id = step_id(in, out, "a 3-node etcd cluster is running");
    char *inv = g_strdup_printf("[\"invoke\",{\"id\":\"%s\",\"args\":[\"3\"]}]", id);
    r = request(in, out, inv);
    assert_string_equal(json_string_value(json_array_get(r, 0)), "success");
    json_decref(r);
    assert_int_equal(etcd_under_us(), 3);
    g_free(inv);
    g_free(id);
    /* a step that takes seconds (three restarts, each awaited), and the client leaves */
    id = step_id(in, out, "every node is restarted one at a time");
    inv = g_strdup_printf("[\"invoke\",{\"id\":\"%s\",\"args\":[]}]\n", id);
    assert_true(g_output_stream_write_all(out, inv, strlen(inv), NULL, NULL, NULL));
    g_object_unref(in);
    assert_true(g_io_stream_close(G_IO_STREAM(conn), NULL, NULL));
    g_object_unref(conn);
    g_object_unref(sc);
    /* the step ends, then the After hooks and the world's cleanups stop the cluster */
    assert_true(await_log("connection closed", closed_before + 1));
    assert_int_equal(etcd_under_us(), 0);
    g_free(inv);
    g_free(id);
}

/* A user's plug-in (examples/hello) served to cucumber by a second tf wire. */
static void test_plugin_steps_over_wire(void **unused)
{
    need_cucumber();
    const char *extra[] = {"--plugin", TF_BINARY_DIR "/examples/libhello_steps.so", NULL};
    wire_proc hello = {.err = -1};
    assert_true(start_wire(&hello, extra));
    const char *features[] = {TF_SOURCE_DIR "/examples/hello/hello.feature", NULL};
    char *dir = make_project("hello", features, hello.port);
    const char *argv[] = {"cucumber", "--no-color", NULL};
    char *out = NULL;
    int code = run_in(dir, argv, &out);
    fputs(out, stdout); /* whole: print_message cuts long text */
    fflush(stdout);
    assert_int_equal(stop_wire(&hello), 0);
    assert_int_equal(code, 1); /* the example's second scenario fails on purpose */
    assert_non_null(strstr(out, "2 scenarios (1 failed, 1 passed)"));
    assert_non_null(strstr(out, "hello_steps.c:"));
    g_free(out);
    g_free(dir);
}

static void test_stop_leaves_no_etcd(void **unused)
{
    GPid pid = wire.pid;
    assert_int_equal(stop_wire(&wire), 0); /* SIGTERM is a clean stop */
    assert_true(pid > 0);
    assert_int_equal(etcd_under_us(), 0);
}

int main(void)
{
    tf_test_need_cluster_all("etcd-3.json");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cucumber_runs_raftkv_features),
        cmocka_unit_test(test_impossible_expectation_same_text_as_tf_run),
        cmocka_unit_test(test_client_gone_mid_step_stops_cluster),
        cmocka_unit_test(test_plugin_steps_over_wire),
        cmocka_unit_test(test_stop_leaves_no_etcd),
    };
    return tf_test_status(cmocka_run_group_tests(tests, setup, teardown));
}
