/* test_k8s_provider.c: the Kubernetes backend of tf_cluster against a replaying API server.
 * A libmicrohttpd server on 127.0.0.1 answers list, watch (streamed event by event), 410
 * as an ERROR event and as an HTTP status, delete and log with the fixtures in
 * tests/unit/data/k8s (see the README there for where their shapes come from). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <microhttpd.h>
#include "store_fixture.h"
#include "tf/cluster.h"
#include "tf/error.h"
#include "../../tf/cluster/deploy_priv.h"

#define DATA TF_SOURCE_DIR "/tests/unit/data/k8s/"
#define PODS "/api/v1/namespaces/default/pods"

typedef struct {
    struct MHD_Daemon *d;
    guint16 port;
    pthread_mutex_t lock; /* pthread, not GMutex: ThreadSanitizer sees these */
    pthread_cond_t cond;
    GPtrArray *log;       /* "list", "watch 1000", "DELETE etcd-1 grace=0", ... */
    GPtrArray *auth;      /* Authorization header of each request */
    GPtrArray *selectors; /* labelSelector of each list/watch */
    guint lists;
    gboolean stopping;
    gboolean unauthorized; /* every request answers 401 */
    tf_cluster *c;        /* for the checks made while a request is being served */
    gchar *at_list3;      /* member states seen when the third list came in */
    gchar *at_watch1006;
} server;

typedef struct {
    server *s;
    gchar **chunks;  /* sent one per reader call */
    guint next;
    gboolean hold;   /* keep the stream open until the server stops */
} stream;

static gchar *fixture(const char *name)
{
    gchar *path = g_strconcat(DATA, name, NULL), *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        fail_msg("cannot read %s", path);
    g_free(path);
    return text;
}

static gchar *states(tf_cluster *c)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < tf_cluster_size(c); i++) {
        const char *url = tf_cluster_node_url(c, i);
        g_string_append_printf(s, "%s%s=%s@%s", i ? " " : "", tf_cluster_node_name(c, i),
                               tf_node_state_name(tf_cluster_node_state(c, i, NULL)),
                               url ? url : "-");
    }
    return g_string_free(s, FALSE);
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *st = cls;
    if (st->chunks[st->next]) {
        gchar *chunk = st->chunks[st->next];
        size_t len = strlen(chunk);
        g_assert(len <= max);
        memcpy(buf, chunk, len);
        st->next++;
        return (ssize_t)len;
    }
    if (st->hold) {
        pthread_mutex_lock(&st->s->lock);
        while (!st->s->stopping)
            pthread_cond_wait(&st->s->cond, &st->s->lock);
        pthread_mutex_unlock(&st->s->lock);
    }
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static void free_stream(void *cls)
{
    stream *st = cls;
    g_strfreev(st->chunks);
    g_free(st);
}

/* A streamed 200 of ndjson, one line per chunk, the first line cut in two (a client
 * must join lines across reads). */
static enum MHD_Result answer_stream(server *s, struct MHD_Connection *conn, const char *ndjson,
                                     gboolean hold)
{
    stream *st = g_new0(stream, 1);
    st->s = s;
    st->hold = hold;
    GPtrArray *parts = g_ptr_array_new();
    gchar **lines = g_strsplit(ndjson, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!*lines[i])
            continue;
        gchar *line = g_strconcat(lines[i], "\n", NULL);
        if (i == 0 && strlen(line) > 10) {
            g_ptr_array_add(parts, g_strndup(line, 10));
            g_ptr_array_add(parts, g_strdup(line + 10));
            g_free(line);
        } else {
            g_ptr_array_add(parts, line);
        }
    }
    g_strfreev(lines);
    g_ptr_array_add(parts, NULL);
    st->chunks = (gchar **)g_ptr_array_free(parts, FALSE);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
                                                               read_stream, st, free_stream);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body,
                              const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void note(server *s, gchar *entry)
{
    pthread_mutex_lock(&s->lock);
    g_ptr_array_add(s->log, entry);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **ctx)
{
    (void)version;
    (void)data;
    server *s = cls;
    static int first;
    if (!*ctx) {
        *ctx = &first;
        return MHD_YES;
    }
    if (*data_size) { /* a request body (POST, PATCH): read it all before answering */
        *data_size = 0;
        return MHD_YES;
    }
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&s->lock);
    g_ptr_array_add(s->auth, g_strdup(auth ? auth : "(none)"));
    pthread_mutex_unlock(&s->lock);
    if (s->unauthorized) {
        gchar *b = fixture("status-401-unauthorized.json");
        note(s, g_strdup("401"));
        enum MHD_Result ret = answer(conn, 401, b, "application/json");
        g_free(b);
        return ret;
    }
    if (!strcmp(url, PODS) && !strcmp(method, "GET")) {
        const char *sel = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "labelSelector");
        const char *watch = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "watch");
        const char *rv = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "resourceVersion");
        pthread_mutex_lock(&s->lock);
        g_ptr_array_add(s->selectors, g_strdup(sel ? sel : "(none)"));
        pthread_mutex_unlock(&s->lock);
        if (!watch) {
            pthread_mutex_lock(&s->lock);
            guint n = ++s->lists;
            pthread_mutex_unlock(&s->lock);
            if (n == 3)
                s->at_list3 = states(s->c); /* published to the test by note() */
            note(s, g_strdup("list"));
            gchar *b = fixture(n == 1 ? "pods-list-1.json" : n == 2 ? "pods-list-2.json" : "pods-list-3.json");
            enum MHD_Result ret = answer(conn, 200, b, "application/json");
            g_free(b);
            return ret;
        }
        if (!g_strcmp0(rv, "1006"))
            s->at_watch1006 = states(s->c);
        note(s, g_strdup_printf("watch %s", rv ? rv : "(none)"));
        if (!g_strcmp0(rv, "1000")) {
            gchar *b = fixture("watch-from-1000.ndjson");
            enum MHD_Result ret = answer_stream(s, conn, b, FALSE);
            g_free(b);
            return ret;
        }
        if (!g_strcmp0(rv, "1006")) {
            gchar *b = fixture("watch-from-1006-expired.ndjson");
            enum MHD_Result ret = answer_stream(s, conn, b, FALSE);
            g_free(b);
            return ret;
        }
        if (!g_strcmp0(rv, "2000")) {
            gchar *b = fixture("status-410-gone.json");
            enum MHD_Result ret = answer(conn, 410, b, "application/json");
            g_free(b);
            return ret;
        }
        return answer_stream(s, conn, "", TRUE); /* 3000: nothing more happens */
    }
    if (!strcmp(method, "DELETE") && g_str_has_prefix(url, PODS "/")) {
        const char *pod = url + strlen(PODS "/");
        const char *grace = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "gracePeriodSeconds");
        note(s, g_strdup_printf("DELETE %s grace=%s", pod, grace ? grace : "default"));
        if (!strcmp(pod, "etcd-2")) {
            gchar *b = fixture("status-403-forbidden.json");
            enum MHD_Result ret = answer(conn, 403, b, "application/json");
            g_free(b);
            return ret;
        }
        return answer(conn, 200, "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"}}",
                      "application/json");
    }
    /* isolation: the NetworkPolicy and the pod label (tests/unit/test_k8s_netpol.c checks
     * their bodies; here, that the cluster API reaches them) */
    if (!strcmp(method, "POST") && g_str_has_suffix(url, "/networkpolicies")) {
        note(s, g_strdup("POST networkpolicies"));
        return answer(conn, 201, "{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\"}",
                      "application/json");
    }
    if (!strcmp(method, "PATCH") && g_str_has_prefix(url, PODS "/")) {
        note(s, g_strdup_printf("PATCH %s", url + strlen(PODS "/")));
        return answer(conn, 200, "{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}", "application/json");
    }
    if (!strcmp(method, "DELETE") && strstr(url, "/networkpolicies/")) {
        note(s, g_strdup_printf("DELETE %s", strrchr(url, '/') + 1));
        return answer(conn, 200, "{\"kind\":\"Status\",\"status\":\"Success\"}", "application/json");
    }
    if (!strcmp(url, PODS "/etcd-0/log")) {
        note(s, g_strdup("log etcd-0"));
        return answer(conn, 200, "{\"level\":\"info\",\"msg\":\"ready to serve client requests\"}\n"
                                 "{\"level\":\"info\",\"msg\":\"elected leader\"}\n", "text/plain");
    }
    note(s, g_strdup_printf("unexpected %s %s", method, url));
    return answer(conn, 404, "{\"kind\":\"Status\",\"code\":404}", "application/json");
}

static server *server_start(void)
{
    server *s = g_new0(server, 1);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    s->log = g_ptr_array_new_with_free_func(g_free);
    s->auth = g_ptr_array_new_with_free_func(g_free);
    s->selectors = g_ptr_array_new_with_free_func(g_free);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                            NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_END);
    assert_non_null(s->d);
    s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return s;
}

static void server_free(server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = TRUE;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    MHD_stop_daemon(s->d);
    g_ptr_array_unref(s->log);
    g_ptr_array_unref(s->auth);
    g_ptr_array_unref(s->selectors);
    g_free(s->at_list3);
    g_free(s->at_watch1006);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    g_free(s);
}

/* Waits (condition variable, 10 s at most) until the server has logged `entry`. */
static gboolean server_wait(server *s, const char *entry)
{
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    pthread_mutex_lock(&s->lock);
    gboolean seen = FALSE;
    while (!seen) {
        for (guint i = 0; i < s->log->len && !seen; i++)
            seen = !strcmp(s->log->pdata[i], entry);
        struct timespec ts = {until / G_USEC_PER_SEC, (until % G_USEC_PER_SEC) * 1000};
        if (!seen && pthread_cond_timedwait(&s->cond, &s->lock, &ts) != 0)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    return seen;
}

static gchar *server_log(server *s)
{
    pthread_mutex_lock(&s->lock);
    g_ptr_array_add(s->log, NULL);
    gchar *out = g_strjoinv(", ", (gchar **)s->log->pdata);
    g_ptr_array_remove_index(s->log, s->log->len - 1);
    pthread_mutex_unlock(&s->lock);
    return out;
}

/* Kubeconfigs go in this dir, removed after the last test even when one fails midway. */
static char *tmpdir;

/* A kubeconfig pointing at the server (in tmpdir; g_free the path, unlink it). */
static gchar *write_kubeconfig(server *s)
{
    gchar *path = g_build_filename(tmpdir, "kubeconfig-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gchar *text = g_strdup_printf(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
        "clusters:\n- name: replay\n  cluster:\n    server: http://127.0.0.1:%u\n"
        "contexts:\n- name: test\n  context:\n    cluster: replay\n    user: bot\n"
        "users:\n- name: bot\n  user:\n    token: t0ken\n", s->port);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    g_free(text);
    return path;
}

static tf_cluster *k8s_cluster(const char *kubeconfig, gboolean forward)
{
    tf_k8s_config cfg = {.kubeconfig = kubeconfig, .selector = "app=tf-etcd", .port = 2379,
                         .port_forward = forward, .expect = 3, .timeout_us = 10 * G_USEC_PER_SEC};
    GError *e = NULL;
    tf_cluster *c = tf_cluster_k8s_new(&cfg, &e);
    if (!c)
        fail_msg("%s", e->message);
    return c;
}

static void test_list_watch_relist(void **state)
{
    (void)state;
    server *s = server_start();
    gchar *kc = write_kubeconfig(s);
    tf_cluster *c = k8s_cluster(kc, FALSE);
    s->c = c;
    GError *e = NULL;
    /* list-1 has etcd-2 Pending: start returns once the watch made it Running and Ready */
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    assert_true(server_wait(s, "watch 3000"));
    gchar *log = server_log(s);
    assert_string_equal(log, "list, watch 1000, watch 1006, list, watch 2000, list, watch 3000");
    g_free(log);
    for (guint i = 0; i < s->auth->len; i++)
        assert_string_equal(s->auth->pdata[i], "Bearer t0ken");
    for (guint i = 0; i < s->selectors->len; i++)
        assert_string_equal(s->selectors->pdata[i], "app=tf-etcd");
    /* after the stream: etcd-1 was deleted and came back with a new IP */
    assert_string_equal(s->at_watch1006, "etcd-0=running@http://10.244.0.10:2379 "
                        "etcd-1=running@http://10.244.0.21:2379 etcd-2=running@http://10.244.0.12:2379");
    /* list-2 after the 410 event has no etcd-0: it is kept, stopped */
    assert_string_equal(s->at_list3, "etcd-0=stopped@- etcd-1=running@http://10.244.0.21:2379 "
                        "etcd-2=running@http://10.244.0.12:2379");
    gchar *now = states(c);
    assert_string_equal(now, "etcd-0=running@http://10.244.0.30:2379 etcd-1=running@http://10.244.0.21:2379 "
                        "etcd-2=running@http://10.244.0.12:2379");
    g_free(now);

    /* the provider lists every member with what the observer and steps need */
    tf_source_provider *p = tf_cluster_provider(c);
    GPtrArray *src = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    assert_true(tf_source_provider_list(p, src, &e));
    assert_int_equal(src->len, 3);
    const tf_source *s0 = src->pdata[0];
    assert_string_equal(tf_source_name(s0), "etcd-0");
    assert_string_equal(tf_source_url(s0), "http://10.244.0.30:2379");
    assert_string_equal(tf_source_attr_str(s0, "state"), "running");
    assert_string_equal(tf_source_attr_str(s0, "env"), "k8s");
    assert_string_equal(tf_source_attr_str(s0, "uid"), "7d3e9f20-0000-4b7a-9c3d-0000000000b0");
    assert_true(json_is_true(json_object_get(tf_source_attrs(s0), "ready")));
    assert_int_equal(json_integer_value(json_object_get(tf_source_attrs(s0), "restarts")), 1);
    assert_int_equal(tf_cluster_node_port(c, 0, "client"), 2379);
    g_ptr_array_unref(src);

    /* faults: kill = delete with grace 0, stop = graceful delete, pause is refused */
    assert_true(tf_cluster_node_kill(c, 1, &e));
    assert_true(server_wait(s, "DELETE etcd-1 grace=0"));
    assert_int_equal(tf_cluster_node_state(c, 1, NULL), TF_NODE_STOPPED);
    assert_false(tf_cluster_node_pause(c, 0, &e));
    assert_non_null(strstr(e->message, "k8s/default/etcd-0: pause is not supported by k8s"));
    g_clear_error(&e);
    assert_false(tf_cluster_node_stop(c, 2, &e));
    assert_non_null(strstr(e->message, "k8s/default/etcd-2: stop (delete pod): HTTP 403: pods \"etcd-2\" is forbidden"));
    g_clear_error(&e);
    assert_true(server_wait(s, "DELETE etcd-2 grace=default"));
    assert_int_equal(tf_cluster_node_state(c, 2, NULL), TF_NODE_RUNNING);
    assert_false(tf_cluster_node_resume(c, 0, &e));
    g_clear_error(&e);
    assert_true(tf_cluster_node_add(c, &e) < 0);
    assert_non_null(strstr(e->message, "not supported"));
    g_clear_error(&e);

    /* isolation: a NetworkPolicy, then the label; rejoining takes both back */
    if (!tf_cluster_node_isolate(c, 0, &e))
        fail_msg("%s", e->message);
    assert_true(server_wait(s, "PATCH etcd-0"));
    assert_true(tf_cluster_node_isolated(c, 0));
    assert_true(tf_cluster_node_rejoin(c, 0, &e));
    assert_true(server_wait(s, "DELETE tf-isolate-etcd-0"));
    assert_false(tf_cluster_node_isolated(c, 0));
    gchar *seen = server_log(s);
    assert_non_null(strstr(seen, "POST networkpolicies, PATCH etcd-0, PATCH etcd-0, DELETE tf-isolate-etcd-0"));
    g_free(seen);

    gchar *tail = tf_cluster_node_log_tail(c, 0, TF_CLUSTER_LOG_STDERR, 4096);
    assert_non_null(strstr(tail, "elected leader"));
    g_free(tail);

    /* free interrupts the held-open watch at once and stops listing */
    tf_cluster_free(c);
    src = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    assert_true(tf_source_provider_list(p, src, &e));
    assert_int_equal(src->len, 0);
    g_ptr_array_unref(src);
    tf_source_provider_free(p);
    g_unlink(kc);
    g_free(kc);
    server_free(s);
}

static void test_unauthorized(void **state)
{
    (void)state;
    server *s = server_start();
    s->unauthorized = TRUE;
    gchar *kc = write_kubeconfig(s);
    tf_cluster *c = k8s_cluster(kc, FALSE);
    GError *e = NULL;
    assert_false(tf_cluster_start(c, &e));
    assert_string_equal(e->message, "k8s/default: list pods (app=tf-etcd): HTTP 401: Unauthorized");
    g_clear_error(&e);
    tf_cluster_free(c);
    g_unlink(kc);
    g_free(kc);
    server_free(s);
}

static void test_server_down(void **state)
{
    (void)state;
    server *s = server_start();
    gchar *kc = write_kubeconfig(s);
    server_free(s); /* nothing listens on that port any more */
    tf_cluster *c = k8s_cluster(kc, FALSE);
    GError *e = NULL;
    assert_false(tf_cluster_start(c, &e));
    assert_non_null(strstr(e->message, "k8s: GET http://127.0.0.1:"));
    g_clear_error(&e);
    tf_cluster_free(c);
    g_unlink(kc);
    g_free(kc);
}

/* port-forward: a stand-in kubectl on PATH says where it listens, then waits. */
static void test_port_forward(void **state)
{
    (void)state;
    server *s = server_start();
    gchar *kc = write_kubeconfig(s);
    gchar *dir = g_dir_make_tmp("tf-k8s-pf-XXXXXX", NULL);
    gchar *script = g_build_filename(dir, "kubectl", NULL);
    gchar *args = g_build_filename(dir, "args.log", NULL);
    gchar *text = g_strdup_printf("#!/bin/sh\necho \"$*\" >> '%s'\n"
                                  "echo 'Forwarding from 127.0.0.1:45001 -> 2379'\n"
                                  "echo 'Forwarding from [::1]:45001 -> 2379'\nexec sleep 600\n", args);
    assert_true(g_file_set_contents(script, text, -1, NULL));
    g_chmod(script, 0755);
    gchar *old = g_strdup(g_getenv("PATH"));
    gchar *path = g_strdup_printf("%s:/usr/bin:/bin", dir);
    g_setenv("PATH", path, TRUE);
    tf_cluster *c = k8s_cluster(kc, TRUE);
    s->c = c;
    GError *e = NULL;
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    assert_string_equal(tf_cluster_node_url(c, 0), "http://127.0.0.1:45001");
    tf_cluster_free(c); /* ends every kubectl it started */
    g_setenv("PATH", old, TRUE);
    gchar *seen = NULL;
    assert_true(g_file_get_contents(args, &seen, NULL, NULL));
    gchar *want = g_strdup_printf("--kubeconfig %s -n default port-forward --address 127.0.0.1 "
                                  "pod/etcd-0 :2379\n", kc);
    assert_true(g_str_has_prefix(seen, want));
    g_free(want);
    g_free(seen);
    g_unlink(args);
    g_unlink(script);
    g_rmdir(dir);
    g_free(args);
    g_free(script);
    g_free(dir);
    g_free(text);
    g_free(old);
    g_free(path);
    g_unlink(kc);
    g_free(kc);
    server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_watch_relist),
        cmocka_unit_test(test_unauthorized),
        cmocka_unit_test(test_server_down),
        cmocka_unit_test(test_port_forward),
    };
    tmpdir = sf_tmpdir_new("tf-k8s-provider");
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sf_tmpdir_remove(tmpdir);
    return rc;
}
