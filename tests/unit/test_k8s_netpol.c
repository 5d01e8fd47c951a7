/* test_k8s_netpol.c: isolating a member pod on Kubernetes maps to a NetworkPolicy plus a
 * pod label (tf/cluster/k8s_netpol.c), checked against a replaying API server: the exact
 * requests (method, path, content type, body) in the order that makes the label the
 * switch, the answers of the real API (tests/unit/data/k8s_netpol) including an existing
 * or vanished policy (idempotent), an RBAC denial (a clear error, nothing half done) and
 * a selector a policy cannot express (refused before any request). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <microhttpd.h>
#include "tf/error.h"
#include "../../tf/cluster/deploy_priv.h"

#define DATA TF_SOURCE_DIR "/tests/unit/data/k8s_netpol/"
#define POLICIES "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies"
#define POD "/api/v1/namespaces/default/pods/etcd-1"
#define OWNER "85daeeb6-4026531836-4242-1234567"

typedef struct {
    struct MHD_Daemon *d;
    guint16 port;
    pthread_mutex_t lock;
    GPtrArray *log;       /* "METHOD PATH CONTENT-TYPE" per request */
    GPtrArray *bodies;    /* the request bodies (gchar *, "" when none) */
    const char *post_answer;  /* fixture and status for POST/DELETE/PATCH */
    guint post_status;
    const char *delete_answer;
    guint delete_status;
} server;

typedef struct {
    GString *body;
} upload;

static gchar *fixture(const char *name)
{
    gchar *path = g_strconcat(DATA, name, NULL), *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        fail_msg("cannot read %s", path);
    g_free(path);
    return text;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *size, void **state)
{
    server *s = cls;
    if (!*state) {
        upload *u = g_new0(upload, 1);
        u->body = g_string_new(NULL);
        *state = u;
        return MHD_YES;
    }
    upload *u = *state;
    if (*size) {
        g_string_append_len(u->body, data, (gssize)*size);
        *size = 0;
        return MHD_YES;
    }
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    pthread_mutex_lock(&s->lock);
    g_ptr_array_add(s->log, g_strdup_printf("%s %s %s", method, url, ct ? ct : "-"));
    g_ptr_array_add(s->bodies, g_strdup(u->body->str));
    const char *file = "patched-pod.json";
    guint status = 200;
    if (!strcmp(method, "POST"))
        file = s->post_answer, status = s->post_status;
    else if (!strcmp(method, "DELETE"))
        file = s->delete_answer, status = s->delete_status;
    pthread_mutex_unlock(&s->lock);
    gchar *text = fixture(file);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static void done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t)
{
    upload *u = *state;
    if (u) {
        g_string_free(u->body, TRUE);
        g_free(u);
    }
}

static server *server_start(void)
{
    server *s = g_new0(server, 1);
    pthread_mutex_init(&s->lock, NULL);
    s->log = g_ptr_array_new_with_free_func(g_free);
    s->bodies = g_ptr_array_new_with_free_func(g_free);
    s->post_answer = "created-policy.json";
    s->post_status = 201;
    s->delete_answer = "deleted-status.json";
    s->delete_status = 200;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
                            done, s, MHD_OPTION_END);
    assert_non_null(s->d);
    s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return s;
}

static void server_free(server *s)
{
    MHD_stop_daemon(s->d);
    g_ptr_array_unref(s->log);
    g_ptr_array_unref(s->bodies);
    pthread_mutex_destroy(&s->lock);
    g_free(s);
}

static tf_k8s_api *api_for(server *s)
{
    gchar *url = g_strdup_printf("http://127.0.0.1:%u", s->port);
    tf_kubeconfig kc = {.server = url};
    tf_k8s_api *api = tf_k8s_api_new(&kc);
    g_free(url);
    return api;
}

static void assert_json_file(const char *text, const char *file)
{
    gchar *want_text = fixture(file);
    json_t *got = json_loads(text, 0, NULL), *want = json_loads(want_text, 0, NULL);
    assert_non_null(got);
    assert_non_null(want);
    if (!json_equal(got, want))
        fail_msg("sent %s\nwant %s", text, want_text);
    json_decref(got);
    json_decref(want);
    g_free(want_text);
}

static void assert_json_text(const char *text, const char *want_text)
{
    json_t *got = json_loads(text, 0, NULL), *want = json_loads(want_text, 0, NULL);
    if (!got || !want || !json_equal(got, want))
        fail_msg("sent %s\nwant %s", text, want_text);
    json_decref(got);
    json_decref(want);
}

static void test_isolate_then_reconnect(void **unused)
{
    server *s = server_start();
    tf_k8s_api *api = api_for(s);
    GError *e = NULL;
    assert_true(tf_k8s_isolate(api, "default", "etcd-1", "app=tf-etcd", OWNER, TRUE, &e));
    /* the policy first (it selects nothing yet), then the label that switches it on */
    assert_int_equal(s->log->len, 2);
    assert_string_equal(s->log->pdata[0], "POST " POLICIES " application/json");
    assert_json_file(s->bodies->pdata[0], "policy-isolate-etcd-1.json");
    assert_string_equal(s->log->pdata[1], "PATCH " POD " application/merge-patch+json");
    assert_json_text(s->bodies->pdata[1], "{\"metadata\":{\"labels\":{\"tf.isolated\":\"true\"}}}");

    assert_true(tf_k8s_isolate(api, "default", "etcd-1", "app=tf-etcd", OWNER, FALSE, &e));
    /* the label off first (the pod is back at once), then the policy goes */
    assert_int_equal(s->log->len, 4);
    assert_string_equal(s->log->pdata[2], "PATCH " POD " application/merge-patch+json");
    assert_json_text(s->bodies->pdata[2], "{\"metadata\":{\"labels\":{\"tf.isolated\":null}}}");
    assert_string_equal(s->log->pdata[3], "DELETE " POLICIES "/tf-isolate-etcd-1 -");
    assert_string_equal(s->bodies->pdata[3], "");
    tf_k8s_api_free(api);
    server_free(s);
}

/* Isolating twice or reconnecting after the policy went is not an error. */
static void test_idempotent(void **unused)
{
    server *s = server_start();
    s->post_answer = "status-409-exists.json";
    s->post_status = 409;
    s->delete_answer = "status-404-policy.json";
    s->delete_status = 404;
    tf_k8s_api *api = api_for(s);
    GError *e = NULL;
    assert_true(tf_k8s_isolate(api, "default", "etcd-1", "app=tf-etcd", NULL, TRUE, &e));
    assert_int_equal(s->log->len, 2); /* still labelled */
    assert_true(tf_k8s_isolate(api, "default", "etcd-1", "app=tf-etcd", NULL, FALSE, &e));
    assert_int_equal(s->log->len, 4);
    tf_k8s_api_free(api);
    server_free(s);
}

/* RBAC says no: the error names the call and the API's words; the pod is not labelled. */
static void test_forbidden_is_clear(void **unused)
{
    server *s = server_start();
    s->post_answer = "status-403-netpol.json";
    s->post_status = 403;
    tf_k8s_api *api = api_for(s);
    GError *e = NULL;
    assert_false(tf_k8s_isolate(api, "default", "etcd-1", "app=tf-etcd", NULL, TRUE, &e));
    assert_non_null(strstr(e->message, "k8s/default: isolating etcd-1: POST " POLICIES ": HTTP 403"));
    assert_non_null(strstr(e->message, "cannot create resource \"networkpolicies\""));
    assert_int_equal(s->log->len, 1);
    g_clear_error(&e);
    tf_k8s_api_free(api);
    server_free(s);
}

static void test_policy_shape(void **unused)
{
    GError *e = NULL;
    /* two labels: a member has both, so a non-member lacks either: two OR-ed peers */
    json_t *p = tf_k8s_isolation_policy("db-0", "app=tf-etcd, tier==db", NULL, &e);
    assert_non_null(p);
    json_t *spec = json_object_get(p, "spec");
    json_t *sel = json_object_get(json_object_get(spec, "podSelector"), "matchLabels");
    assert_int_equal(json_object_size(sel), 3);
    assert_string_equal(json_string_value(json_object_get(sel, "tier")), "db");
    json_t *from = json_object_get(json_array_get(json_object_get(spec, "ingress"), 0), "from");
    assert_int_equal(json_array_size(from), 2);
    assert_null(json_object_get(json_object_get(p, "metadata"), "namespace")); /* from the path */
    assert_null(json_object_get(json_object_get(json_object_get(p, "metadata"), "labels"), "tf.owner"));
    json_decref(p);
    /* a selector a policy cannot express is refused before any request */
    const char *bad[] = {"app in (a,b)", "app!=x", "app", "", "app=", "=x"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        assert_null(tf_k8s_isolation_policy("db-0", bad[i], NULL, &e));
        assert_non_null(strstr(e->message, "is not k=v"));
        g_clear_error(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isolate_then_reconnect),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_forbidden_is_clear),
        cmocka_unit_test(test_policy_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
