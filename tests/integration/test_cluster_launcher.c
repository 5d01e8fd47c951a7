/* test_cluster_launcher.c: the local cluster launcher against real processes.
 * Probes and process control on small stand-ins (sleep, sh), then a real 3-node etcd
 * cluster (kill, pause, resume, restart, add a member, port-race retry), one litecoind,
 * and proof that no node outlives its runner: SIGKILL, SIGINT and SIGTERM to a child. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "tf/cluster.h"
#include "tf/error.h"
#include "skip.h"

/* What a test leaves behind is cleaned up here even when an assertion fails. */
typedef struct {
    tf_cluster *c;
    struct MHD_Daemon *mhd;
    int listen_fd;
    pid_t child;          /* a forked runner, killed in teardown */
    pid_t nodes[8];       /* its nodes, read back through a pipe (0 once reaped) */
    guint n_nodes;
    gchar *child_dir;     /* its cluster dir: a killed runner cannot remove it */
    gchar *tmpfile;
} fixture;

static int setup(void **state)
{
    fixture *f = g_new0(fixture, 1);
    f->listen_fd = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tf_cluster_free(f->c);
    if (f->mhd)
        MHD_stop_daemon(f->mhd);
    if (f->listen_fd >= 0)
        close(f->listen_fd);
    if (f->child > 0) {
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
    }
    /* The runner's nodes are now ours (we are a subreaper): kill what lives, reap all. */
    for (guint i = 0; i < f->n_nodes; i++) {
        if (f->nodes[i] <= 0)
            continue;
        kill(-f->nodes[i], SIGKILL);
        waitpid(f->nodes[i], NULL, 0);
    }
    if (f->child_dir) {
        gchar *argv[] = {"rm", "-rf", f->child_dir, NULL};
        g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
        g_free(f->child_dir);
    }
    if (f->tmpfile)
        g_unlink(f->tmpfile);
    g_free(f->tmpfile);
    g_free(f);
    return 0;
}

static tf_cluster_spec *spec_from_string(const char *text)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        fail_msg("bad test spec: %s: %s", je.text, text);
    GError *e = NULL;
    tf_cluster_spec *s = tf_cluster_spec_from_json(root, "inline.json", &e);
    json_decref(root);
    if (!s)
        fail_msg("%s", e->message);
    return s;
}

static tf_cluster *new_cluster(const char *spec_text, guint n)
{
    tf_cluster_spec *s = spec_from_string(spec_text);
    GError *e = NULL;
    tf_cluster *c = tf_cluster_new(s, n, &e);
    tf_cluster_spec_free(s);
    if (!c)
        fail_msg("%s", e->message);
    return c;
}

static tf_cluster *new_cluster_file(const char *file, guint n)
{
    tf_test_need_cluster(file);
    gchar *path = g_build_filename(TF_SOURCE_DIR, "scenarios", "clusters", file, NULL);
    GError *e = NULL;
    tf_cluster_spec *s = tf_cluster_spec_load(path, &e);
    g_free(path);
    if (!s)
        fail_msg("%s", e->message);
    tf_cluster *c = tf_cluster_new(s, n, &e);
    tf_cluster_spec_free(s);
    if (!c)
        fail_msg("%s", e->message);
    return c;
}

static void assert_ok(gboolean ok, GError *e)
{
    if (!ok)
        fail_msg("%s", e ? e->message : "(no error)");
}

/* Listens on 127.0.0.1:port (what a node would do), returns the socket. */
static int listen_on(guint port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

/* The state letter of /proc/PID/stat ('S', 'T', 'Z'...), or 0 when gone. */
static char proc_state(pid_t pid)
{
    gchar *path = g_strdup_printf("/proc/%d/stat", (int)pid), *text = NULL;
    char st = 0;
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        const char *rp = strrchr(text, ')');
        if (rp && rp[1] == ' ')
            st = rp[2];
    }
    g_free(text);
    g_free(path);
    return st;
}

/* TRUE when pid exits within timeout_ms (watched through a pidfd, not by sleeping). */
static gboolean exits_within(pid_t pid, int timeout_ms)
{
    int fd = pidfd_open(pid, 0);
    if (fd < 0)
        return errno == ESRCH;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc;
    while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    close(fd);
    return rc > 0;
}

/* A source attribute of node i as the provider lists it now (newly allocated). */
static gchar *listed_attr(tf_cluster *c, guint i, const char *key)
{
    tf_source_provider *p = tf_cluster_provider(c);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    assert_true(tf_source_provider_list(p, out, NULL));
    assert_true(i < out->len);
    assert_string_equal(tf_source_name(out->pdata[i]), tf_cluster_node_name(c, i));
    const char *v = tf_source_attr_str(out->pdata[i], key);
    gchar *copy = g_strdup(v);
    g_ptr_array_unref(out);
    tf_source_provider_free(p);
    return copy;
}

static void assert_listed_state(tf_cluster *c, guint i, const char *want)
{
    gchar *got = listed_attr(c, i, "state");
    if (g_strcmp0(got, want))
        fail_msg("%s listed as %s, want %s", tf_cluster_node_name(c, i), got, want);
    g_free(got);
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    g_string_append_len(user, data, (gssize)(size * n));
    return size * n;
}

/* POST body to url on loopback; returns the response body, status in *status. */
static gchar *http_post(const char *url, const char *body, const char *user, const char *pw,
                        long *status)
{
    CURL *h = curl_easy_init();
    GString *out = g_string_new(NULL);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, pw);
    }
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return g_string_free(out, FALSE);
}

#define SLEEPER_SPEC(ready) \
    "{\"name\":\"sleepers\",\"binary\":\"/bin/sleep\",\"ports\":[\"svc\"],\"argv\":[\"600\"]," \
    "\"stop_grace_ms\":5000,\"ready\":" ready "}"

/* ---- probes and process control on stand-ins ---- */

static void test_tcp_probe_passes_once_port_listens(void **state)
{
    fixture *f = *state;
    f->c = new_cluster(SLEEPER_SPEC("{\"tcp\":\"{port.svc}\",\"timeout_ms\":20000}"), 1);
    f->listen_fd = listen_on(tf_cluster_node_port(f->c, 0, "svc"));
    GError *e = NULL;
    assert_ok(tf_cluster_start(f->c, &e), e);
    pid_t pid = tf_cluster_node_pid(f->c, 0);
    assert_true(pid > 0);
    assert_int_equal(getpgid(pid), pid); /* its own process group */
    assert_int_equal(tf_cluster_node_state(f->c, 0, NULL), TF_NODE_RUNNING);
    assert_listed_state(f->c, 0, "running");
    assert_ok(tf_cluster_node_stop(f->c, 0, &e), e);
    int status;
    assert_int_equal(tf_cluster_node_state(f->c, 0, &status), TF_NODE_STOPPED);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    assert_int_equal(tf_cluster_node_pid(f->c, 0), 0);
    assert_true(kill(pid, 0) < 0 && errno == ESRCH); /* reaped, not a zombie */
    assert_listed_state(f->c, 0, "stopped");
    assert_ok(tf_cluster_node_stop(f->c, 0, &e), e); /* stopping a stopped node is fine */
}

static void test_exit_before_ready_names_node_and_stderr(void **state)
{
    fixture *f = *state;
    f->c = new_cluster("{\"name\":\"crashy\",\"binary\":\"/bin/sh\",\"ports\":[\"svc\"],"
                       "\"argv\":[\"-c\",\"echo boom from {name} key {cluster_secret} >&2; exit 3\"],"
                       "\"source\":{\"attrs\":{\"pw\":\"{cluster_secret}\"}},"
                       "\"ready\":{\"tcp\":\"{port.svc}\",\"timeout_ms\":60000}}", 2);
    GError *e = NULL;
    assert_false(tf_cluster_start(f->c, &e));
    assert_int_equal(e->code, TF_ERROR_TIMEOUT);
    /* Whichever node is seen dead first is named, with its own stderr. */
    guint bad = strstr(e->message, "crashy/n2:") ? 1 : 0, other = 1 - bad;
    gchar *want = g_strdup_printf("crashy/n%u: exited (exit 3) before it was ready", bad + 1);
    gchar *boom = g_strdup_printf("boom from n%u key ***", bad + 1); /* the secret is blanked */
    if (!strstr(e->message, want) || !strstr(e->message, boom))
        fail_msg("got: %s", e->message);
    g_free(want);
    g_free(boom);
    assert_non_null(strstr(e->message, "probe tcp 127.0.0.1:"));
    assert_non_null(strstr(e->message, tf_cluster_node_log_path(f->c, bad, TF_CLUSTER_LOG_STDERR)));
    g_clear_error(&e);
    int status;
    assert_int_equal(tf_cluster_node_state(f->c, bad, &status), TF_NODE_EXITED);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    assert_listed_state(f->c, bad, "exited");
    gchar *how = listed_attr(f->c, bad, "exit");
    assert_string_equal(how, "exit 3");
    g_free(how);
    assert_false(tf_cluster_node_wait_ready(f->c, other, 0, &e)); /* the other one died too */
    assert_non_null(strstr(e->message, "exited (exit 3)"));
    g_clear_error(&e);
    gchar *tail = tf_cluster_node_log_tail(f->c, other, TF_CLUSTER_LOG_STDERR, 100);
    gchar *prefix = g_strdup_printf("boom from n%u key ***\n", other + 1);
    assert_string_equal(tail, prefix); /* blanked for reports... */
    g_free(prefix);
    g_free(tail);
    gchar *raw = NULL, *pw = listed_attr(f->c, other, "pw");
    assert_true(g_file_get_contents(tf_cluster_node_log_path(f->c, other, TF_CLUSTER_LOG_STDERR),
                                    &raw, NULL, NULL));
    assert_non_null(strstr(raw, pw)); /* ...though the node really printed it */
    g_free(raw);
    g_free(pw);
    /* A node that exited can be started again: it appends to the same log. */
    assert_ok(tf_cluster_node_start(f->c, 0, &e), e);
    assert_false(tf_cluster_node_wait_ready(f->c, 0, 0, &e));
    g_clear_error(&e);
    tail = tf_cluster_node_log_tail(f->c, 0, TF_CLUSTER_LOG_STDERR, 4096);
    assert_non_null(strstr(tail, "--- tf: start #2 ---"));
    g_free(tail);
}

static void test_not_ready_times_out_with_last_error(void **state)
{
    fixture *f = *state;
    f->c = new_cluster(SLEEPER_SPEC("{\"tcp\":\"{port.svc}\",\"timeout_ms\":300,\"interval_ms\":20}"), 1);
    GError *e = NULL;
    assert_false(tf_cluster_start(f->c, &e));
    assert_int_equal(e->code, TF_ERROR_TIMEOUT);
    assert_non_null(strstr(e->message, "sleepers/n1: not ready after 300 ms"));
    assert_non_null(strstr(e->message, "connect: Connection refused"));
    g_clear_error(&e);
    /* still alive: a slow node is not a dead one */
    assert_int_equal(tf_cluster_node_state(f->c, 0, NULL), TF_NODE_RUNNING);
}

/* ---- HTTP probe against an in-test server playing the node ---- */

typedef struct {
    GMutex lock;
    guint status;
    gchar *method, *auth, *body, *path;
} http_node;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    http_node *h = cls;
    if (!*con_cls) {
        *con_cls = g_string_new(NULL);
        return MHD_YES;
    }
    GString *body = *con_cls;
    if (*upload_size) {
        g_string_append_len(body, upload, (gssize)*upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    g_mutex_lock(&h->lock);
    g_free(h->method), g_free(h->auth), g_free(h->body), g_free(h->path);
    h->method = g_strdup(method);
    h->path = g_strdup(url);
    h->auth = g_strdup(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"));
    h->body = g_strdup(body->str);
    guint status = h->status;
    g_mutex_unlock(&h->lock);
    const char *text = status == 200 ? "{\"health\":\"true\"}" : "no leader yet";
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    if (*con_cls)
        g_string_free(*con_cls, TRUE);
    *con_cls = NULL;
}

static void test_http_probe_status_method_auth_body(void **state)
{
    fixture *f = *state;
    f->c = new_cluster("{\"name\":\"web\",\"binary\":\"/bin/sleep\",\"ports\":[\"api\"],"
                       "\"argv\":[\"600\"],\"source\":{\"attrs\":{\"pw\":\"{cluster_secret}\"}},"
                       "\"ready\":{\"http\":\"http://127.0.0.1:{port.api}/health\",\"method\":\"POST\","
                       "\"body\":\"{{\\\"node\\\":\\\"{name}\\\"}}\",\"user\":\"u\","
                       "\"password\":\"{cluster_secret}\",\"timeout_ms\":1500,\"interval_ms\":20}}",
                       1);
    http_node h = {.status = 503};
    g_mutex_init(&h.lock);
    f->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)tf_cluster_node_port(f->c, 0, "api"),
                              NULL, NULL, on_request, &h, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                              NULL, MHD_OPTION_END);
    assert_non_null(f->mhd);
    GError *e = NULL;
    assert_false(tf_cluster_start(f->c, &e));
    gchar *want = g_strdup_printf("probe POST http://127.0.0.1:%u/health: HTTP 503: no leader yet",
                                  tf_cluster_node_port(f->c, 0, "api"));
    if (!strstr(e->message, want))
        fail_msg("got: %s", e->message);
    g_free(want);
    gchar *pw = listed_attr(f->c, 0, "pw");
    assert_null(strstr(e->message, pw)); /* the password never shows */
    g_clear_error(&e);

    g_mutex_lock(&h.lock);
    h.status = 200;
    assert_string_equal(h.method, "POST");
    assert_string_equal(h.path, "/health");
    assert_string_equal(h.body, "{\"node\":\"n1\"}");
    gchar *cred = g_strdup_printf("u:%s", pw);
    gchar *b64 = g_base64_encode((const guchar *)cred, strlen(cred));
    gchar *auth = g_strdup_printf("Basic %s", b64);
    assert_string_equal(h.auth, auth);
    g_mutex_unlock(&h.lock);
    assert_ok(tf_cluster_node_wait_ready(f->c, 0, 5 * G_USEC_PER_SEC, &e), e);
    MHD_stop_daemon(f->mhd);
    f->mhd = NULL;
    g_free(auth), g_free(b64), g_free(cred), g_free(pw);
    g_free(h.method), g_free(h.auth), g_free(h.body), g_free(h.path);
    g_mutex_clear(&h.lock);
}

static void test_exec_failure_is_reported(void **state)
{
    fixture *f = *state;
    int fd = g_file_open_tmp("tf-notexec-XXXXXX", &f->tmpfile, NULL);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "garbage\n", 8), 8);
    close(fd);
    g_chmod(f->tmpfile, 0755);
    gchar *spec = g_strdup_printf("{\"name\":\"bad\",\"binary\":\"%s\",\"argv\":[],"
                                  "\"ready\":{\"tcp\":\"1\"}}", f->tmpfile);
    f->c = new_cluster(spec, 1);
    g_free(spec);
    GError *e = NULL;
    assert_false(tf_cluster_node_start(f->c, 0, &e));
    assert_non_null(strstr(e->message, "bad/n1: exec "));
    assert_non_null(strstr(e->message, "Exec format error"));
    g_clear_error(&e);
    assert_int_equal(tf_cluster_node_state(f->c, 0, NULL), TF_NODE_CREATED);
}

static void test_pause_resume_kill_restart_and_unexpected_exit(void **state)
{
    fixture *f = *state;
    f->c = new_cluster(SLEEPER_SPEC("{\"tcp\":\"{port.svc}\"}"), 2);
    GError *e = NULL;
    assert_ok(tf_cluster_node_start(f->c, 0, &e), e);
    pid_t pid = tf_cluster_node_pid(f->c, 0);
    assert_ok(tf_cluster_node_pause(f->c, 0, &e), e);
    assert_int_equal(proc_state(pid), 'T'); /* pause returns once it really is stopped */
    assert_int_equal(tf_cluster_node_state(f->c, 0, NULL), TF_NODE_PAUSED);
    assert_listed_state(f->c, 0, "paused");
    assert_false(tf_cluster_node_pause(f->c, 0, &e));
    assert_non_null(strstr(e->message, "sleepers/n1: cannot pause: node is paused"));
    g_clear_error(&e);
    assert_ok(tf_cluster_node_resume(f->c, 0, &e), e);
    assert_true(proc_state(pid) != 'T');
    assert_listed_state(f->c, 0, "running");
    assert_false(tf_cluster_node_resume(f->c, 0, &e));
    g_clear_error(&e);

    /* Stopping a paused node works (TERM is delivered once it is continued). */
    assert_ok(tf_cluster_node_pause(f->c, 0, &e), e);
    assert_ok(tf_cluster_node_stop(f->c, 0, &e), e);
    int status;
    assert_int_equal(tf_cluster_node_state(f->c, 0, &status), TF_NODE_STOPPED);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

    assert_ok(tf_cluster_node_restart(f->c, 0, &e), e);
    pid_t pid2 = tf_cluster_node_pid(f->c, 0);
    assert_true(pid2 > 0 && pid2 != pid);
    assert_ok(tf_cluster_node_kill(f->c, 0, &e), e);
    assert_int_equal(tf_cluster_node_state(f->c, 0, &status), TF_NODE_STOPPED);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    /* A node killed behind the launcher's back is "exited", not "stopped". */
    assert_ok(tf_cluster_node_start(f->c, 1, &e), e);
    pid_t other = tf_cluster_node_pid(f->c, 1);
    assert_int_equal(kill(other, SIGKILL), 0);
    assert_true(exits_within(other, 10000));
    assert_int_equal(tf_cluster_node_state(f->c, 1, &status), TF_NODE_EXITED);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    gchar *how = listed_attr(f->c, 1, "exit");
    assert_string_equal(how, "signal 9 (Killed)");
    g_free(how);
    assert_false(tf_cluster_node_start(f->c, 7, &e));
    assert_non_null(strstr(e->message, "no node 7"));
    g_clear_error(&e);
}

static gpointer start_in_thread(gpointer data)
{
    fixture *f = data;
    GError *e = NULL;
    gboolean ok = tf_cluster_node_start(f->c, 0, &e);
    g_clear_error(&e);
    return GINT_TO_POINTER(ok);
}

/* PR_SET_PDEATHSIG fires when the forking *thread* ends: a node started from a
 * short-lived step thread must not die with it. */
static void test_node_outlives_the_thread_that_started_it(void **state)
{
    fixture *f = *state;
    f->c = new_cluster(SLEEPER_SPEC("{\"tcp\":\"{port.svc}\"}"), 1);
    GThread *t = g_thread_new("starter", start_in_thread, f);
    assert_true(GPOINTER_TO_INT(g_thread_join(t)));
    pid_t pid = tf_cluster_node_pid(f->c, 0);
    assert_true(pid > 0);
    assert_false(exits_within(pid, 500)); /* a death signal would land in microseconds */
    assert_int_equal(tf_cluster_node_state(f->c, 0, NULL), TF_NODE_RUNNING);
}

typedef struct {
    tf_cluster *c;
    gint stop;
    guint lists;
    gboolean bad_state;
} lister;

static gpointer list_until_stopped(gpointer data)
{
    lister *l = data;
    tf_source_provider *p = tf_cluster_provider(l->c);
    static const char *const states[] = {"created", "running", "paused", "stopped", "exited", NULL};
    while (!g_atomic_int_get(&l->stop)) {
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
        tf_source_provider_list(p, out, NULL);
        for (guint i = 0; i < out->len; i++)
            if (!g_strv_contains((const gchar *const *)states, tf_source_attr_str(out->pdata[i], "state")))
                l->bad_state = TRUE;
        g_ptr_array_unref(out);
        l->lists++;
        g_thread_yield();
    }
    tf_source_provider_free(p);
    return NULL;
}

/* The runtime lists from its thread while steps act from theirs (run it under TSan). */
static void test_provider_lists_while_nodes_change(void **state)
{
    fixture *f = *state;
    f->c = new_cluster(SLEEPER_SPEC("{\"tcp\":\"{port.svc}\"}"), 3);
    lister l = {.c = f->c};
    GThread *t = g_thread_new("lister", list_until_stopped, &l);
    GError *e = NULL;
    for (guint round = 0; round < 5; round++) {
        for (guint i = 0; i < 3; i++)
            assert_ok(tf_cluster_node_start(f->c, i, &e), e);
        assert_ok(tf_cluster_node_pause(f->c, 0, &e), e);
        assert_ok(tf_cluster_node_resume(f->c, 0, &e), e);
        assert_ok(tf_cluster_node_kill(f->c, 1, &e), e);
        assert_int_equal(kill(tf_cluster_node_pid(f->c, 2), SIGKILL), 0);
        assert_ok(tf_cluster_node_restart(f->c, 0, &e), e);
        gint added = tf_cluster_node_add(f->c, &e);
        assert_true(added >= 3);
        tf_cluster_stop(f->c);
        for (guint i = 0; i < 3; i++)
            assert_true(tf_cluster_node_state(f->c, i, NULL) >= TF_NODE_STOPPED);
    }
    g_atomic_int_set(&l.stop, 1);
    g_thread_join(t);
    assert_true(l.lists > 0);
    assert_false(l.bad_state);
    assert_int_equal(tf_cluster_size(f->c), 8);
}

/* ---- a real etcd cluster ---- */

static gchar *etcd_post(tf_cluster *c, guint i, const char *path, const char *body, long *status)
{
    gchar *url = g_strconcat(tf_cluster_node_url(c, i), path, NULL);
    gchar *out = http_post(url, body, NULL, NULL, status);
    g_free(url);
    return out;
}

static void test_etcd_three_nodes_faults_and_provider(void **state)
{
    fixture *f = *state;
    f->c = new_cluster_file("etcd-3.json", 3);
    tf_cluster *c = f->c;
    GError *e = NULL;
    assert_ok(tf_cluster_start(c, &e), e);
    for (guint i = 0; i < 3; i++)
        assert_listed_state(c, i, "running");
    long status;
    gchar *body = etcd_post(c, 0, "/v3/kv/put", "{\"key\":\"YQ==\",\"value\":\"MQ==\"}", &status);
    assert_int_equal(status, 200);
    g_free(body);

    /* kill n1: the other two keep quorum and stay healthy */
    pid_t old = tf_cluster_node_pid(c, 0);
    guint client = tf_cluster_node_port(c, 0, "client");
    assert_ok(tf_cluster_node_kill(c, 0, &e), e);
    int st;
    assert_int_equal(tf_cluster_node_state(c, 0, &st), TF_NODE_STOPPED);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_listed_state(c, 0, "stopped");
    assert_listed_state(c, 1, "running");
    assert_ok(tf_cluster_node_wait_ready(c, 1, 0, &e), e);

    /* restart n1: same ports, same data (its member dir survives), new process */
    assert_ok(tf_cluster_node_restart(c, 0, &e), e);
    assert_true(tf_cluster_node_pid(c, 0) != old);
    assert_int_equal(tf_cluster_node_port(c, 0, "client"), client);
    gchar *member = g_build_filename(tf_cluster_node_dir(c, 0), "member", NULL);
    assert_true(g_file_test(member, G_FILE_TEST_IS_DIR));
    g_free(member);
    assert_ok(tf_cluster_node_wait_ready(c, 0, 0, &e), e);
    body = etcd_post(c, 0, "/v3/kv/range", "{\"key\":\"YQ==\",\"serializable\":true}", &status);
    assert_non_null(strstr(body, "\"value\":\"MQ==\"")); /* its data came back with it */
    g_free(body);

    /* pause n2, the others still answer; resume it */
    assert_ok(tf_cluster_node_pause(c, 1, &e), e);
    assert_int_equal(proc_state(tf_cluster_node_pid(c, 1)), 'T');
    assert_listed_state(c, 1, "paused");
    assert_ok(tf_cluster_node_wait_ready(c, 2, 0, &e), e);
    assert_ok(tf_cluster_node_resume(c, 1, &e), e);
    assert_listed_state(c, 1, "running");
    assert_ok(tf_cluster_node_wait_ready(c, 1, 0, &e), e);

    /* graceful stop of n3, then the whole set is brought back by tf_cluster_start */
    pid_t n3 = tf_cluster_node_pid(c, 2);
    assert_ok(tf_cluster_node_stop(c, 2, &e), e);
    assert_int_equal(tf_cluster_node_state(c, 2, NULL), TF_NODE_STOPPED);
    assert_true(kill(n3, 0) < 0 && errno == ESRCH);
    assert_ok(tf_cluster_start(c, &e), e);
    assert_listed_state(c, 2, "running");

    /* add a member: the launcher gives it ports and argv, the caller registers it */
    gint idx = tf_cluster_node_add(c, &e);
    assert_int_equal(idx, 3);
    assert_listed_state(c, 3, "created");
    gchar *peer = tf_cluster_expand(c, 3, "{{\"peerURLs\":[\"http://127.0.0.1:{port.peer}\"]}}", &e);
    assert_non_null(peer);
    body = etcd_post(c, 0, "/v3/cluster/member/add", peer, &status);
    if (status != 200)
        fail_msg("member add: %ld %s", status, body);
    g_free(body);
    g_free(peer);
    assert_ok(tf_cluster_node_start(c, 3, &e), e);
    assert_ok(tf_cluster_node_wait_ready(c, 3, 0, &e), e);
    body = etcd_post(c, 3, "/v3/cluster/member/list", "{}", &status);
    assert_int_equal(status, 200);
    for (guint i = 0; i < 4; i++) {
        gchar *name = g_strdup_printf("\"name\":\"%s\"", tf_cluster_node_name(c, i));
        if (!strstr(body, name))
            fail_msg("%s missing from member list %s", name, body);
        g_free(name);
    }
    g_free(body);
    assert_listed_state(c, 3, "running");

    /* freeing kills and reaps everything */
    pid_t pids[4];
    for (guint i = 0; i < 4; i++)
        pids[i] = tf_cluster_node_pid(c, i);
    gchar *dir = g_strdup(tf_cluster_dir(c));
    tf_cluster_free(c);
    f->c = NULL;
    for (guint i = 0; i < 4; i++)
        assert_true(kill(pids[i], 0) < 0 && errno == ESRCH);
    assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_free(dir);
}

static void test_etcd_port_taken_before_start_is_retried(void **state)
{
    fixture *f = *state;
    f->c = new_cluster_file("etcd-3.json", 1);
    guint taken = tf_cluster_node_port(f->c, 0, "client");
    f->listen_fd = listen_on(taken); /* someone grabs the port between pick and use */
    GError *e = NULL;
    assert_ok(tf_cluster_start(f->c, &e), e);
    assert_true(tf_cluster_node_port(f->c, 0, "client") != taken);
    gchar *want = g_strdup_printf("http://127.0.0.1:%u", tf_cluster_node_port(f->c, 0, "client"));
    assert_string_equal(tf_cluster_node_url(f->c, 0), want);
    g_free(want);
    gchar *tail = tf_cluster_node_log_tail(f->c, 0, TF_CLUSTER_LOG_STDERR, 1 << 20);
    assert_non_null(strstr(tail, "address already in use")); /* the first attempt's death */
    g_free(tail);
}

/* ---- nothing outlives the run ---- */

typedef enum { RUNNER_PLAIN, RUNNER_APP_HANDLER } runner_kind;

static volatile sig_atomic_t app_saw_sigint;
static void app_sigint(int sig)
{
    app_saw_sigint = 1;
}

/* The forked runner: starts a cluster, reports its pids, then waits to be signalled. */
static void runner_child(int wfd, runner_kind kind)
{
    if (kind == RUNNER_APP_HANDLER)
        signal(SIGINT, app_sigint); /* a runner with its own Ctrl-C handling */
    gchar *path = g_build_filename(TF_SOURCE_DIR, "scenarios", "clusters", "etcd-3.json", NULL);
    tf_cluster_spec *s = tf_cluster_spec_load(path, NULL);
    tf_cluster *c = s ? tf_cluster_new(s, 3, NULL) : NULL;
    GError *e = NULL;
    int count = c && tf_cluster_start(c, &e) ? 3 : 0;
    if (e)
        fprintf(stderr, "runner: %s\n", e->message);
    pid_t pids[3] = {0};
    char dir[4096] = "";
    for (int i = 0; i < count; i++)
        pids[i] = tf_cluster_node_pid(c, (guint)i);
    if (c)
        g_strlcpy(dir, tf_cluster_dir(c), sizeof dir);
    if (write(wfd, &count, sizeof count) != sizeof count ||
        write(wfd, pids, sizeof pids) != sizeof pids || write(wfd, dir, sizeof dir) != sizeof dir)
        _exit(2);
    close(wfd);
    for (;;)
        pause();
}

/* The runner is this test binary re-executed (`--cluster-runner KIND FD`): a fresh
 * process, as a real runner would be, rather than a fork of a threaded test process. */
static void start_runner(fixture *f, runner_kind kind)
{
    tf_test_need_cluster("etcd-3.json"); /* what runner_child starts */
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); /* orphans come to us */
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    gchar *self = g_file_read_link("/proc/self/exe", NULL);
    assert_non_null(self);
    gchar kind_arg[16], fd_arg[16];
    g_snprintf(kind_arg, sizeof kind_arg, "%d", (int)kind);
    g_snprintf(fd_arg, sizeof fd_arg, "%d", p[1]);
    char *argv[] = {self, "--cluster-runner", kind_arg, fd_arg, NULL};
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        fcntl(p[1], F_SETFD, 0); /* the write end, and only it, crosses the exec */
        execv(self, argv);
        _exit(127);
    }
    g_free(self);
    close(p[1]);
    f->child = child;
    int count = 0;
    pid_t pids[3];
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 120000), 1);
    assert_int_equal(read(p[0], &count, sizeof count), (ssize_t)sizeof count);
    assert_int_equal(read(p[0], pids, sizeof pids), (ssize_t)sizeof pids);
    char dir[4096];
    assert_int_equal(read(p[0], dir, sizeof dir), (ssize_t)sizeof dir);
    close(p[0]);
    if (*dir)
        f->child_dir = g_strdup(dir);
    assert_int_equal(count, 3);
    for (int i = 0; i < count; i++) {
        f->nodes[f->n_nodes++] = pids[i];
        assert_true(pids[i] > 0 && kill(pids[i], 0) == 0);
    }
}

/* Every node of the runner ends. Once the runner is gone they are our children (we are
 * a subreaper) and are reaped here; while it lives they stay its zombies, for teardown. */
static void assert_nodes_gone(fixture *f)
{
    for (guint i = 0; i < f->n_nodes; i++) {
        if (!exits_within(f->nodes[i], 20000))
            fail_msg("node pid %d still alive after its runner went", (int)f->nodes[i]);
        int st;
        if (waitpid(f->nodes[i], &st, WNOHANG) == f->nodes[i]) {
            assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
            f->nodes[i] = 0;
        }
    }
}

static void runner_dies_by(void **state, int sig)
{
    fixture *f = *state;
    start_runner(f, RUNNER_PLAIN);
    assert_int_equal(kill(f->child, sig), 0);
    int st;
    assert_int_equal(waitpid(f->child, &st, 0), f->child);
    f->child = 0;
    /* SIGINT/SIGTERM: the handler killed the nodes and re-raised, so the runner still
     * dies "by" the signal its parent sent. */
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), sig);
    assert_nodes_gone(f);
}

static void test_runner_sigkill_leaves_no_node(void **state)
{
    runner_dies_by(state, SIGKILL); /* no code runs: PR_SET_PDEATHSIG does it */
}

static void test_runner_ctrl_c_leaves_no_node(void **state)
{
    runner_dies_by(state, SIGINT);
}

static void test_runner_sigterm_leaves_no_node(void **state)
{
    runner_dies_by(state, SIGTERM);
}

/* With the application's own SIGINT handler the runner lives on, yet the nodes are gone:
 * the cleanup registry did it, not the parent-death signal. */
static void test_ctrl_c_with_app_handler_kills_nodes_first(void **state)
{
    fixture *f = *state;
    start_runner(f, RUNNER_APP_HANDLER);
    assert_int_equal(kill(f->child, SIGINT), 0);
    assert_nodes_gone(f);
    assert_int_equal(waitpid(f->child, NULL, WNOHANG), 0); /* the runner is still alive */
}

/* ---- litecoind ---- */

static void test_litecoind_node_starts_and_answers(void **state)
{
    fixture *f = *state;
    f->c = new_cluster_file("litecoin-3.json", 1);
    GError *e = NULL;
    assert_ok(tf_cluster_start(f->c, &e), e);
    tf_source *src = tf_cluster_node_source(f->c, 0);
    assert_string_equal(tf_source_attr_str(src, "state"), "running");
    gchar *url = g_strconcat(tf_source_url(src), "/", NULL);
    long status;
    gchar *body = http_post(url, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"getblockcount\",\"params\":[]}",
                            tf_source_attr_str(src, "rpc_user"), tf_source_attr_str(src, "rpc_password"),
                            &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(body, "\"result\":0"));
    g_free(body);
    body = http_post(url, "{}", "tf", "wrong", &status);
    assert_int_equal(status, 401); /* the password is really checked */
    g_free(body);
    g_free(url);
    tf_source_unref(src);
    assert_ok(tf_cluster_node_stop(f->c, 0, &e), e);
    int st;
    assert_int_equal(tf_cluster_node_state(f->c, 0, &st), TF_NODE_STOPPED);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* a clean shutdown on TERM */
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--cluster-runner"))
        runner_child(atoi(argv[3]), (runner_kind)atoi(argv[2]));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (g_getenv("TF_TEST_FILTER")) /* e.g. TF_TEST_FILTER='*etcd*' to run a few */
        cmocka_set_test_filter(g_getenv("TF_TEST_FILTER"));
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_tcp_probe_passes_once_port_listens),
        T(test_exit_before_ready_names_node_and_stderr),
        T(test_not_ready_times_out_with_last_error),
        T(test_http_probe_status_method_auth_body),
        T(test_exec_failure_is_reported),
        T(test_pause_resume_kill_restart_and_unexpected_exit),
        T(test_node_outlives_the_thread_that_started_it),
        T(test_provider_lists_while_nodes_change),
        T(test_etcd_three_nodes_faults_and_provider),
        T(test_etcd_port_taken_before_start_is_retried),
        T(test_runner_sigkill_leaves_no_node),
        T(test_runner_ctrl_c_leaves_no_node),
        T(test_runner_sigterm_leaves_no_node),
        T(test_ctrl_c_with_app_handler_kills_nodes_first),
        T(test_litecoind_node_starts_and_answers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return tf_test_status(rc);
}
