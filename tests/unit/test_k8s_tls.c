/* test_k8s_tls.c: the API client speaks HTTPS the way a kubeconfig says: the CA from
 * certificate-authority(-data), a client certificate and key from *-data blobs,
 * insecure-skip-tls-verify. A libmicrohttpd HTTPS server on 127.0.0.1 with the test
 * certificates in tests/unit/data/k8s/tls answers an empty PodList. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <glib.h>
#include <microhttpd.h>
#include "tf/error.h"
#include "../../tf/cluster/deploy_priv.h"

#define TLS TF_SOURCE_DIR "/tests/unit/data/k8s/tls/"
#define PODS "/api/v1/namespaces/default/pods"

typedef struct {
    struct MHD_Daemon *d;
    guint16 port;
    gchar *key, *cert, *ca;
} server;

static gchar *slurp(const char *name)
{
    gchar *path = g_strconcat(TLS, name, NULL), *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        fail_msg("cannot read %s", path);
    g_free(path);
    return text;
}

static gchar *b64(const char *name)
{
    gchar *text = slurp(name);
    gchar *out = g_base64_encode((const guchar *)text, strlen(text));
    g_free(text);
    return out;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **ctx)
{
    (void)cls, (void)method, (void)version, (void)data, (void)data_size, (void)ctx;
    const char *body = strcmp(url, PODS) ? "{\"kind\":\"Status\",\"code\":404}"
                                         : "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
                                           "\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[]}";
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, strcmp(url, PODS) ? 404 : 200, r);
    MHD_destroy_response(r);
    return ret;
}

static int setup(void **state)
{
    server *s = g_new0(server, 1);
    s->key = slurp("server.key");
    s->cert = slurp("server.crt");
    s->ca = slurp("ca.crt");
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS,
                            0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_HTTPS_MEM_CERT, s->cert,
                            MHD_OPTION_HTTPS_MEM_TRUST, s->ca, MHD_OPTION_END);
    assert_non_null(s->d);
    s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    server *s = *state;
    MHD_stop_daemon(s->d);
    g_free(s->key);
    g_free(s->cert);
    g_free(s->ca);
    g_free(s);
    return 0;
}

/* A kubeconfig for the server with the given cluster and user fields (YAML lines). */
static tf_kubeconfig *kubeconfig(server *s, const char *cluster_extra, const char *user_extra)
{
    gchar *text = g_strdup_printf(
        "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
        "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:%u\n%s"
        "contexts:\n- name: t\n  context:\n    cluster: c\n    user: u\n"
        "users:\n- name: u\n  user:\n%s", s->port, cluster_extra,
        *user_extra ? user_extra : "    token: unused\n");
    GError *e = NULL;
    tf_kubeconfig *kc = tf_kubeconfig_parse(text, "kc", TLS, &e);
    if (!kc)
        fail_msg("%s\n%s", e->message, text);
    g_free(text);
    return kc;
}

/* Lists pods with kc; returns the error message (newly allocated) or NULL on a PodList. */
static gchar *list_with(tf_kubeconfig *kc)
{
    tf_k8s_api *api = tf_k8s_api_new(kc);
    long status = 0;
    GError *e = NULL;
    json_t *body = tf_k8s_api_call(api, "GET", PODS, 5 * G_USEC_PER_SEC, &status, &e);
    gchar *err = NULL;
    if (!body)
        err = g_strdup(e ? e->message : "no JSON body");
    else if (status != 200 || g_strcmp0(json_string_value(json_object_get(body, "kind")), "PodList"))
        err = g_strdup_printf("HTTP %ld", status);
    g_clear_error(&e);
    json_decref(body);
    tf_k8s_api_free(api);
    tf_kubeconfig_free(kc);
    return err;
}

static void test_ca_data_and_client_cert_data(void **state)
{
    server *s = *state;
    gchar *ca = b64("ca.crt"), *cert = b64("client.crt"), *key = b64("client.key");
    gchar *cl = g_strdup_printf("    certificate-authority-data: %s\n", ca);
    gchar *us = g_strdup_printf("    client-certificate-data: %s\n    client-key-data: %s\n", cert, key);
    gchar *err = list_with(kubeconfig(s, cl, us));
    if (err)
        fail_msg("%s", err);
    g_free(cl);
    g_free(us);
    g_free(ca);
    g_free(cert);
    g_free(key);
}

static void test_ca_file_relative(void **state)
{
    gchar *err = list_with(kubeconfig(*state, "    certificate-authority: ca.crt\n", ""));
    if (err)
        fail_msg("%s", err);
}

static void test_unknown_ca_is_refused(void **state)
{
    gchar *err = list_with(kubeconfig(*state, "", ""));
    assert_non_null(err);
    print_message("refused as expected: %s\n", err);
    assert_non_null(strstr(err, "k8s: GET https://127.0.0.1:"));
    assert_non_null(strstr(err, "certificate"));
    g_free(err);
}

static void test_insecure_skip_verify(void **state)
{
    gchar *err = list_with(kubeconfig(*state, "    insecure-skip-tls-verify: true\n", ""));
    if (err)
        fail_msg("%s", err);
}

static void test_mismatched_client_key_fails(void **state)
{
    server *s = *state;
    gchar *ca = b64("ca.crt"), *cert = b64("client.crt"), *key = b64("other.key");
    gchar *cl = g_strdup_printf("    certificate-authority-data: %s\n", ca);
    gchar *us = g_strdup_printf("    client-certificate-data: %s\n    client-key-data: %s\n", cert, key);
    gchar *err = list_with(kubeconfig(s, cl, us));
    assert_non_null(err); /* the blobs reach curl: a key of another certificate is refused */
    print_message("refused as expected: %s\n", err);
    assert_non_null(strstr(err, "k8s: GET https://127.0.0.1:"));
    g_free(err);
    g_free(cl);
    g_free(us);
    g_free(ca);
    g_free(cert);
    g_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ca_data_and_client_cert_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_relative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ca_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insecure_skip_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatched_client_key_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
