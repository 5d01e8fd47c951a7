/* test_deploy_standin.c: `tf run --env compose` and `tf run --env k8s` end to end, against
 * real etcd members started here, seen through a stand-in `docker` (ps from their pids,
 * faults as signals) or a small API server (pods, watch events, delete = SIGKILL) with a
 * stand-in `kubectl port-forward` that points at their ports. The same backends against a
 * real engine or cluster are test_deploy_real. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <cmocka.h>
#include <glib.h>
#include "tf/cluster.h"
#include "tf/error.h"
#include "tf/http.h"
#include <glib/gstdio.h>
#include "../../tf/cluster/deploy_priv.h"
#include "skip.h"

/* Skips the test when no local etcd cluster can be made (etcd-server comes from
 * scripts/install-deps.sh: a failure under CI=true). Frees e. */
static void no_etcd(const char *what, GError *e)
{
    char msg[1024];
    g_snprintf(msg, sizeof msg, "%s: no etcd here: %s", what, e->message);
    g_error_free(e);
    tf_test_skip(TF_NEED_REQUIRED, "%s", msg);
}

/* The stand-in: `compose -p P VERB [SERVICE]`; ps from the pids and ports in $TF_FAKE_DIR
 * (state from /proc: T = paused, Z or gone = exited), faults as signals. */
static const char *standin =
    "#!/bin/sh\n"
    "echo \"$*\" >> \"$TF_FAKE_DIR/calls.log\"\n"
    "[ \"$1 $2\" = 'compose version' ] && exit 0\n"
    "[ \"$1\" = version ] && { echo 25.0.3; exit 0; }  # the daemon answers\n"
    "verb=$4; svc=$5\n"
    "case \"$verb\" in\n"
    "ps) for s in etcd1 etcd2 etcd3; do\n"
    "      pid=$(cat \"$TF_FAKE_DIR/$s.pid\"); port=$(cat \"$TF_FAKE_DIR/$s.port\"); st=running\n"
    "      state=$(sed -n 's/^[0-9]* ([^)]*) \\(.\\).*/\\1/p' /proc/$pid/stat 2>/dev/null)\n"
    "      case \"$state\" in T|t) st=paused;; Z|X|'') st=exited;; esac\n"
    "      printf '{\"Service\":\"%s\",\"Name\":\"tf-etcd-%s-1\",\"State\":\"%s\",\"Health\":\"\",'"
    "'\"ExitCode\":0,\"Publishers\":[{\"URL\":\"127.0.0.1\",\"TargetPort\":2379,\"PublishedPort\":%s,'"
    "'\"Protocol\":\"tcp\"}]}\\n' \"$s\" \"$s\" \"$st\" \"$port\"\n"
    "    done ;;\n"
    "pause) kill -STOP $(cat \"$TF_FAKE_DIR/$svc.pid\") ;;\n"
    "unpause) kill -CONT $(cat \"$TF_FAKE_DIR/$svc.pid\") ;;\n"
    "kill) kill -KILL $(cat \"$TF_FAKE_DIR/$svc.pid\") ;;\n"
    "stop) kill -TERM $(cat \"$TF_FAKE_DIR/$svc.pid\") ;;\n"
    "*) echo \"stand-in: $verb is not supported\" >&2; exit 1 ;;\n"
    "esac\n";

static const char *feature =
    "Feature: raftkv through the compose backend\n"
    "  Scenario: A paused leader is replaced, then steps down and catches up\n"
    "    Given a 3-node etcd cluster is running\n"
    "    When I put \"k\" = \"1\"\n"
    "    And the leader is paused\n"
    "    Then a leader is elected within 10 seconds\n"
    "    When the old leader is resumed\n"
    "    Then the old leader steps down and catches up\n"
    "    And key \"k\" reads \"1\" on every running node\n"
    "    And Election Safety holds\n"
    "  Scenario: Killing the leader elects a new one\n"
    "    Given a 3-node etcd cluster is running\n"
    "    When the leader is killed\n"
    "    Then a leader is elected within 10 seconds\n"
    "    And all running nodes agree on the leader\n"
    "    And Election Safety holds\n";

static void put_file(const char *dir, const char *name, const char *text)
{
    gchar *p = g_build_filename(dir, name, NULL);
    assert_true(g_file_set_contents(p, text, -1, NULL));
    g_free(p);
}

static void test_compose_env_end_to_end(void **state)
{
    (void)state;
    GError *e = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(TF_SOURCE_DIR "/scenarios/clusters/etcd-3.json", &e);
    if (!spec)
        no_etcd("compose end to end", e);
    tf_cluster *local = tf_cluster_new(spec, 3, &e);
    tf_cluster_spec_free(spec);
    if (!local)
        no_etcd("compose end to end", e);
    if (!tf_cluster_start(local, &e))
        fail_msg("%s", e->message);
    gchar *dir = g_dir_make_tmp("tf-compose-e2e-XXXXXX", NULL);
    for (guint i = 0; i < 3; i++) {
        gchar name[32], num[32];
        g_snprintf(name, sizeof name, "etcd%u.pid", i + 1);
        g_snprintf(num, sizeof num, "%d", (int)tf_cluster_node_pid(local, i));
        put_file(dir, name, num);
        g_snprintf(name, sizeof name, "etcd%u.port", i + 1);
        g_snprintf(num, sizeof num, "%u", tf_cluster_node_port(local, i, "client"));
        put_file(dir, name, num);
    }
    put_file(dir, "docker", standin);
    gchar *docker = g_build_filename(dir, "docker", NULL);
    g_chmod(docker, 0755);
    put_file(dir, "e2e.feature", feature);
    gchar *feat = g_build_filename(dir, "e2e.feature", NULL);
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    /* bounded: a run that hangs in cleanup fails here instead of at ctest's timeout */
    char *argv[] = {"/usr/bin/timeout", "-k", "5", "150", (char *)bin, "run", "--env", "compose", feat, NULL};
    gchar **envp = g_get_environ();
    gchar *path = g_strdup_printf("%s:/usr/bin:/bin", dir);
    envp = g_environ_setenv(envp, "PATH", path, TRUE);
    envp = g_environ_setenv(envp, "TF_FAKE_DIR", dir, TRUE);
    envp = g_environ_unsetenv(envp, "TF_COMPOSE_FILE");
    envp = g_environ_setenv(envp, "TF_COMPOSE_ENGINE", "docker", TRUE); /* not the host's podman */
    envp = g_environ_unsetenv(envp, "TF_ENV");
    gchar *out = NULL;
    gint status = 0;
    assert_true(g_spawn_sync(NULL, argv, envp, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                             NULL, &status, &e));
    gchar *calls_path = g_build_filename(dir, "calls.log", NULL), *calls = NULL;
    g_file_get_contents(calls_path, &calls, NULL, NULL);
    if (!g_spawn_check_wait_status(status, NULL) || !strstr(out, "2 scenarios (2 passed)"))
        fail_msg("tf run --env compose failed:\n%s\ncalls:\n%s", out, calls ? calls : "");
    const char *summary = strstr(out, "2 scenarios");
    print_message("tf run --env compose: %s", summary);
    /* the faults went through the compose backend, as compose commands */
    assert_non_null(strstr(calls, "compose -p tf-etcd ps -a --format json"));
    assert_non_null(strstr(calls, "compose -p tf-etcd pause etcd"));
    assert_non_null(strstr(calls, "compose -p tf-etcd unpause etcd"));
    assert_non_null(strstr(calls, "compose -p tf-etcd kill etcd"));
    assert_null(strstr(calls, " up "));
    g_free(calls);
    g_free(calls_path);
    g_free(out);
    g_free(path);
    g_strfreev(envp);
    tf_cluster_free(local);
    const char *names[] = {"etcd1.pid", "etcd2.pid", "etcd3.pid", "etcd1.port", "etcd2.port",
                           "etcd3.port", "docker", "e2e.feature", "calls.log", NULL};
    for (guint i = 0; names[i]; i++) {
        gchar *p = g_build_filename(dir, names[i], NULL);
        g_unlink(p);
        g_free(p);
    }
    g_rmdir(dir);
    g_free(dir);
    g_free(docker);
    g_free(feat);
}

/* ---- tf run --env k8s end to end ------------------------------------------------------ */

#define PODS "/api/v1/namespaces/default/pods"

typedef struct {
    tf_cluster *local;      /* the real etcd members behind the pods */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    gboolean alive[3];
    guint rv;
    GPtrArray *events;      /* watch event lines, in order */
    GPtrArray *log;         /* "DELETE etcd-1 grace=0", ... */
    gboolean stopping;
} apisrv;

typedef struct {
    apisrv *s;
    guint next;             /* index into s->events */
} watcher;

static gchar *pod_json(guint i, guint rv, gboolean deleted)
{
    return g_strdup_printf("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"etcd-%u\","
                           "\"namespace\":\"default\",\"uid\":\"uid-%u\",\"resourceVersion\":\"%u\","
                           "\"labels\":{\"app\":\"tf-etcd\"}},\"status\":{\"phase\":\"Running\",\"podIP\":"
                           "\"10.0.0.%u\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
                           i, i, rv, i + 10, deleted ? "False" : "True");
}

static ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    watcher *w = cls;
    apisrv *s = w->s;
    pthread_mutex_lock(&s->lock);
    while (w->next >= s->events->len && !s->stopping)
        pthread_cond_wait(&s->cond, &s->lock);
    ssize_t n = MHD_CONTENT_READER_END_OF_STREAM;
    if (w->next < s->events->len) {
        const char *ev = s->events->pdata[w->next++];
        n = (ssize_t)MIN(strlen(ev), max);
        memcpy(buf, ev, (size_t)n);
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result api_request(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *data,
                                   size_t *data_size, void **ctx)
{
    (void)version, (void)data;
    apisrv *s = cls;
    static int first;
    if (!*ctx) {
        *ctx = &first;
        return MHD_YES;
    }
    *data_size = 0;
    if (!strcmp(method, "GET") && !strcmp(url, PODS)) {
        if (MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "watch")) {
            watcher *w = g_new0(watcher, 1);
            w->s = s;
            pthread_mutex_lock(&s->lock);
            w->next = s->events->len; /* from the listed version on */
            pthread_mutex_unlock(&s->lock);
            struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
                                                                       watch_read, w, g_free);
            enum MHD_Result ret = MHD_queue_response(conn, 200, r);
            MHD_destroy_response(r);
            return ret;
        }
        GString *list = g_string_new(NULL);
        pthread_mutex_lock(&s->lock);
        g_string_printf(list, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
                        "{\"resourceVersion\":\"%u\"},\"items\":[", s->rv);
        for (guint i = 0, n = 0; i < 3; i++) {
            if (!s->alive[i])
                continue;
            gchar *pod = pod_json(i, s->rv, FALSE);
            g_string_append_printf(list, "%s%s", n++ ? "," : "", pod);
            g_free(pod);
        }
        pthread_mutex_unlock(&s->lock);
        g_string_append(list, "]}");
        enum MHD_Result ret = reply(conn, 200, list->str);
        g_string_free(list, TRUE);
        return ret;
    }
    if (!strcmp(method, "DELETE") && g_str_has_prefix(url, PODS "/etcd-")) {
        guint i = (guint)atoi(url + strlen(PODS "/etcd-"));
        const char *grace = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "gracePeriodSeconds");
        if (i >= 3)
            return reply(conn, 404, "{\"kind\":\"Status\",\"code\":404,\"message\":\"not found\"}");
        tf_cluster_node_kill(s->local, i, NULL); /* what deleting the pod does to etcd */
        pthread_mutex_lock(&s->lock);
        s->alive[i] = FALSE;
        s->rv++;
        gchar *pod = pod_json(i, s->rv, TRUE);
        g_ptr_array_add(s->events, g_strdup_printf("{\"type\":\"DELETED\",\"object\":%s}\n", pod));
        g_ptr_array_add(s->log, g_strdup_printf("DELETE etcd-%u grace=%s", i, grace ? grace : "default"));
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        enum MHD_Result ret = reply(conn, 200, pod);
        g_free(pod);
        return ret;
    }
    return reply(conn, 404, "{\"kind\":\"Status\",\"code\":404}");
}

static const char *kubectl_standin =
    "#!/bin/sh\n"
    "for a in \"$@\"; do case \"$a\" in pod/*) pod=${a#pod/};; esac; done\n"
    "echo \"$*\" >> \"$TF_FAKE_DIR/kubectl.log\"\n"
    "echo \"Forwarding from 127.0.0.1:$(cat \"$TF_FAKE_DIR/$pod.port\") -> 2379\"\n"
    "exec sleep 600\n";

static const char *k8s_feature =
    "Feature: raftkv through the k8s backend\n"
    "  Scenario: Pods cannot be paused\n"
    "    Given a 3-node etcd cluster is running\n"
    "    When the leader is paused\n"
    "  Scenario: Deleting the leader's pod elects a new leader\n"
    "    Given a 3-node etcd cluster is running\n"
    "    When I put \"k\" = \"1\"\n"
    "    And the leader is killed\n"
    "    Then a leader is elected within 10 seconds\n"
    "    And all running nodes agree on the leader\n"
    "    And key \"k\" reads \"1\" on every running node\n"
    "    And Election Safety holds\n";

static void test_k8s_env_end_to_end(void **state)
{
    (void)state;
    GError *e = NULL;
    tf_cluster_spec *spec = tf_cluster_spec_load(TF_SOURCE_DIR "/scenarios/clusters/etcd-3.json", &e);
    tf_cluster *local = spec ? tf_cluster_new(spec, 3, &e) : NULL;
    tf_cluster_spec_free(spec);
    if (!local)
        no_etcd("k8s end to end", e);
    if (!tf_cluster_start(local, &e))
        fail_msg("%s", e->message);
    apisrv s = {.local = local, .alive = {TRUE, TRUE, TRUE}, .rv = 100};
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    s.events = g_ptr_array_new_with_free_func(g_free);
    s.log = g_ptr_array_new_with_free_func(g_free);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                            0, NULL, NULL, api_request, &s, MHD_OPTION_SOCK_ADDR,
                                            (struct sockaddr *)&addr, MHD_OPTION_END);
    assert_non_null(d);
    guint port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;

    gchar *dir = g_dir_make_tmp("tf-k8s-e2e-XXXXXX", NULL);
    for (guint i = 0; i < 3; i++) {
        gchar name[32], num[32];
        g_snprintf(name, sizeof name, "etcd-%u.port", i);
        g_snprintf(num, sizeof num, "%u", tf_cluster_node_port(local, i, "client"));
        put_file(dir, name, num);
    }
    put_file(dir, "kubectl", kubectl_standin);
    gchar *kubectl = g_build_filename(dir, "kubectl", NULL);
    g_chmod(kubectl, 0755);
    gchar *kc = g_strdup_printf("apiVersion: v1\nkind: Config\ncurrent-context: e2e\n"
                                "clusters:\n- name: e2e\n  cluster:\n    server: http://127.0.0.1:%u\n"
                                "contexts:\n- name: e2e\n  context: {cluster: e2e, user: e2e}\n"
                                "users:\n- name: e2e\n  user: {token: e2e-token}\n", port);
    put_file(dir, "kubeconfig", kc);
    g_free(kc);
    put_file(dir, "e2e.feature", k8s_feature);
    gchar *feat = g_build_filename(dir, "e2e.feature", NULL);
    gchar *kcpath = g_build_filename(dir, "kubeconfig", NULL);
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    /* bounded: a run that hangs in cleanup fails here instead of at ctest's timeout */
    char *argv[] = {"/usr/bin/timeout", "-k", "5", "150", (char *)bin, "run", "--env=k8s", feat, NULL};
    gchar **envp = g_get_environ();
    gchar *path = g_strdup_printf("%s:/usr/bin:/bin", dir);
    envp = g_environ_setenv(envp, "PATH", path, TRUE);
    envp = g_environ_setenv(envp, "TF_FAKE_DIR", dir, TRUE);
    envp = g_environ_setenv(envp, "KUBECONFIG", kcpath, TRUE);
    const char *drop[] = {"KUBERNETES_SERVICE_HOST", "TF_K8S_PORT_FORWARD", "TF_K8S_NAMESPACE",
                          "TF_K8S_SELECTOR", "TF_ENV", NULL};
    for (guint i = 0; drop[i]; i++)
        envp = g_environ_unsetenv(envp, drop[i]);
    gchar *out = NULL;
    gint status = 0;
    assert_true(g_spawn_sync(NULL, argv, envp, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                             NULL, &status, &e));
    const char *summary = strstr(out, "2 scenarios");
    print_message("tf run --env k8s: %s", summary ? summary : out);
    /* the pause scenario fails with the backend's own words; the kill scenario passes */
    if (!summary || !g_str_has_prefix(summary, "2 scenarios (1 failed, 1 passed)") ||
        !strstr(out, "pause is not supported by k8s"))
        fail_msg("unexpected tf run output:\n%s", out);
    pthread_mutex_lock(&s.lock);
    assert_int_equal(s.log->len, 1);
    assert_true(g_str_has_suffix(g_ptr_array_index(s.log, 0), "grace=0"));
    s.stopping = TRUE;
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.lock);
    MHD_stop_daemon(d);
    gchar *fwd_log = g_build_filename(dir, "kubectl.log", NULL), *fwd = NULL;
    assert_true(g_file_get_contents(fwd_log, &fwd, NULL, NULL));
    assert_non_null(strstr(fwd, "port-forward --address 127.0.0.1 pod/etcd-0 :2379"));
    g_free(fwd);
    const char *names[] = {"etcd-0.port", "etcd-1.port", "etcd-2.port", "kubectl", "kubeconfig",
                           "e2e.feature", "kubectl.log", NULL};
    for (guint i = 0; names[i]; i++) {
        gchar *p = g_build_filename(dir, names[i], NULL);
        g_unlink(p);
        g_free(p);
    }
    g_rmdir(dir);
    g_free(fwd_log);
    g_free(out);
    g_free(path);
    g_free(feat);
    g_free(kcpath);
    g_free(kubectl);
    g_free(dir);
    g_strfreev(envp);
    g_ptr_array_unref(s.events);
    g_ptr_array_unref(s.log);
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.cond);
    tf_cluster_free(local);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k8s_env_end_to_end),
        cmocka_unit_test(test_compose_env_end_to_end),
    };
    return tf_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
