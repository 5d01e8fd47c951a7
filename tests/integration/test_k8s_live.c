/* test_k8s_live.c: the Kubernetes backend against a live API server on this machine.
 * No API server is packaged for these machines (the backend is proven against replayed
 * API responses in test_k8s_provider), so this case runs only where a kubeconfig's server
 * answers here with scenarios/deploy/k8s applied; otherwise it is Skipped (77) with the
 * reason, never passed. TF_LIVE_K8S=1 allows a server that is not on loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include "tf/cluster.h"
#include "tf/error.h"
#include "tf/http.h"
#include "../../tf/cluster/deploy_priv.h"
#include "skip.h"

static gboolean health_ok(tf_http *http, const char *url)
{
    gchar *h = g_strconcat(url, "/health", NULL);
    json_t *j = tf_http_json(http, "health", h, NULL, G_USEC_PER_SEC, NULL);
    g_free(h);
    gboolean ok = j && !g_strcmp0(json_string_value(json_object_get(j, "health")), "true");
    json_decref(j);
    return ok;
}

static void test_k8s_live(void **state)
{
    (void)state;
    GError *e = NULL;
    tf_kubeconfig *kc = tf_kubeconfig_load(NULL, &e);
    if (!kc) {
        char msg[1024]; /* tf_test_skip does not return: free first */
        g_snprintf(msg, sizeof msg, "k8s: no usable kubeconfig (no API server is packaged for "
                   "these machines; the backend is tested against replayed responses): %s", e->message);
        g_error_free(e);
        tf_test_skip(TF_NEED_OPTIONAL, "%s", msg);
    }
    const char *allow = g_getenv("TF_LIVE_K8S");
    gboolean local = strstr(kc->server, "://127.0.0.1") || strstr(kc->server, "://localhost") ||
                     strstr(kc->server, "://[::1]");
    if (!local && !(allow && !strcmp(allow, "1"))) {
        char msg[1024];
        g_snprintf(msg, sizeof msg, "k8s: API server %s is not on this machine (set "
                   "TF_LIVE_K8S=1 to use it)", kc->server);
        tf_kubeconfig_free(kc);
        tf_test_skip(TF_NEED_OPTIONAL, "%s", msg);
    }
    tf_k8s_api *api = tf_k8s_api_new(kc);
    long status = 0;
    json_t *ver = tf_k8s_api_call(api, "GET", "/version", 5 * G_USEC_PER_SEC, &status, &e);
    json_decref(ver);
    if (status != 200) {
        char msg[1024];
        g_snprintf(msg, sizeof msg, "k8s: API server %s does not answer: %s", kc->server,
                   e ? e->message : "HTTP error");
        g_clear_error(&e);
        tf_k8s_api_free(api);
        tf_kubeconfig_free(kc);
        tf_test_skip(TF_NEED_OPTIONAL, "%s", msg);
    }
    gchar *ns = g_strdup(kc->ns ? kc->ns : "default");
    gchar *path = g_strdup_printf("/api/v1/namespaces/%s/pods?labelSelector=app%%3Dtf-etcd", ns);
    json_t *pods = tf_k8s_api_call(api, "GET", path, 10 * G_USEC_PER_SEC, &status, &e);
    size_t n = json_array_size(json_object_get(pods, "items"));
    json_decref(pods);
    g_free(path);
    tf_k8s_api_free(api);
    tf_kubeconfig_free(kc);
    g_clear_error(&e);
    if (n == 0) {
        char msg[1024];
        g_snprintf(msg, sizeof msg, "k8s: no pods labelled app=tf-etcd in namespace %s: "
                   "kubectl apply -f scenarios/deploy/k8s/etcd-3.yaml first", ns);
        g_free(ns);
        tf_test_skip(TF_NEED_OPTIONAL, "%s", msg);
    }
    const char *pf = g_getenv("TF_K8S_PORT_FORWARD");
    tf_k8s_config cfg = {.ns = ns, .selector = "app=tf-etcd", .port = 2379,
                         .port_forward = pf && strcmp(pf, "0"), .expect = 3,
                         .timeout_us = 300 * G_USEC_PER_SEC};
    tf_cluster *c = tf_cluster_k8s_new(&cfg, &e);
    assert_non_null(c);
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    tf_http *http = tf_http_new();
    for (guint i = 0; i < tf_cluster_size(c); i++)
        if (tf_cluster_node_state(c, i, NULL) == TF_NODE_RUNNING)
            assert_true(health_ok(http, tf_cluster_node_url(c, i)));
    assert_true(tf_cluster_node_kill(c, 0, &e));
    assert_int_equal(tf_cluster_node_state(c, 0, NULL), TF_NODE_STOPPED);
    /* the StatefulSet recreates it; the watch sees it come back */
    if (!tf_cluster_node_wait_ready(c, 0, 300 * G_USEC_PER_SEC, &e))
        fail_msg("%s", e->message);
    tf_http_free(http);
    tf_cluster_free(c);
    g_free(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k8s_live),
    };
    return tf_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
