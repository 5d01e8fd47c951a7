/* test_k8s_kubeconfig.c: the kubeconfig subset reader and its YAML subset.
 * Files in tests/unit/data/k8s: the shape kind writes (certificate data), a hand-edited
 * one (token, namespace, quotes, comments, indented lists, flow maps) and an exec-plugin
 * one that must be refused with a message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include "tf/error.h"
#include "../../tf/cluster/deploy_priv.h"

#define DATA TF_SOURCE_DIR "/tests/unit/data/k8s/"

static json_t *yaml_ok(const char *text)
{
    GError *e = NULL;
    json_t *v = tf_yaml_subset_parse(text, "t.yaml", &e);
    if (!v)
        fail_msg("%s", e->message);
    return v;
}

static char *yaml_err(const char *text)
{
    GError *e = NULL;
    json_t *v = tf_yaml_subset_parse(text, "t.yaml", &e);
    assert_null(v);
    assert_non_null(e);
    char *msg = g_strdup(e->message);
    g_error_free(e);
    return msg;
}

static void assert_json(json_t *v, const char *expected)
{
    json_t *want = json_loads(expected, 0, NULL);
    assert_non_null(want);
    if (!json_equal(v, want)) {
        char *got = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
        fail_msg("got %s, want %s", got, expected);
    }
    json_decref(want);
    json_decref(v);
}

static void test_yaml_shapes(void **state)
{
    (void)state;
    assert_json(yaml_ok("a: 1\nb:\n  c: x y\n  d: 'it''s'\ne: \"q\\\"t\"\n"),
                "{\"a\":\"1\",\"b\":{\"c\":\"x y\",\"d\":\"it's\"},\"e\":\"q\\\"t\"}");
    /* a sequence at the key's column and one indented under it; "- k: v" items */
    assert_json(yaml_ok("l:\n- name: a\n  v: 1\n- name: b\nm:\n  - x\n  - y\n"),
                "{\"l\":[{\"name\":\"a\",\"v\":\"1\"},{\"name\":\"b\"}],\"m\":[\"x\",\"y\"]}");
    /* comments, blank lines, document marker, URL values with colons, empty value */
    assert_json(yaml_ok("---\n# top\nserver: https://h:6443 # port\n\nempty:\nz: a#b\n"),
                "{\"server\":\"https://h:6443\",\"empty\":null,\"z\":\"a#b\"}");
    assert_json(yaml_ok("p: {}\nq: []\nr: {a: b, 'c': \"d, e\"}\ns: [1, two]\n"),
                "{\"p\":{},\"q\":[],\"r\":{\"a\":\"b\",\"c\":\"d, e\"},\"s\":[\"1\",\"two\"]}");
    assert_json(yaml_ok("- - a\n  - b\n- c\n"), "[[\"a\",\"b\"],\"c\"]");
}

static void test_yaml_refuses(void **state)
{
    (void)state;
    char *m = yaml_err("a: 1\n  b: 2\n");
    assert_non_null(strstr(m, "t.yaml:2"));
    g_free(m);
    m = yaml_err("a: &anchor x\n");
    assert_non_null(strstr(m, "anchors"));
    g_free(m);
    m = yaml_err("a: |\n  text\n");
    assert_non_null(strstr(m, "block scalars"));
    g_free(m);
    m = yaml_err("a: {b: {c: d}}\n");
    assert_non_null(strstr(m, "nested"));
    g_free(m);
    m = yaml_err("a:\n\tb: 1\n");
    assert_non_null(strstr(m, "tab"));
    g_free(m);
    m = yaml_err("a: 'open\n");
    assert_non_null(strstr(m, "unterminated"));
    g_free(m);
    m = yaml_err("just text\nmore: x\n");
    assert_non_null(strstr(m, "t.yaml:2"));
    g_free(m);
}

static gboolean bytes_has(GBytes *b, const char *needle)
{
    gsize len = 0;
    const char *d = b ? g_bytes_get_data(b, &len) : NULL;
    return d && g_strstr_len(d, (gssize)len, needle) != NULL;
}

static void test_kind_client_cert(void **state)
{
    (void)state;
    GError *e = NULL;
    tf_kubeconfig *kc = tf_kubeconfig_load(DATA "kubeconfig-kind.yaml", &e);
    if (!kc)
        fail_msg("%s", e->message);
    assert_string_equal(kc->context, "kind-kind");
    assert_string_equal(kc->server, "https://127.0.0.1:43117");
    assert_null(kc->ns);
    assert_null(kc->token);
    assert_false(kc->insecure);
    assert_true(bytes_has(kc->ca, "TEST-CA-NOT-A-REAL-CERTIFICATE"));
    assert_true(bytes_has(kc->cert, "TEST-CLIENT-CERT"));
    assert_true(bytes_has(kc->key, "TEST-CLIENT-KEY"));
    tf_kubeconfig_free(kc);
}

static void test_token_context_namespace(void **state)
{
    (void)state;
    GError *e = NULL;
    tf_kubeconfig *kc = tf_kubeconfig_load(DATA "kubeconfig-token.yaml", &e);
    if (!kc)
        fail_msg("%s", e->message);
    assert_string_equal(kc->context, "ci");
    assert_string_equal(kc->cluster, "ci-cluster");
    assert_string_equal(kc->user, "ci-bot");
    assert_string_equal(kc->server, "https://api.ci.example:6443");
    assert_string_equal(kc->ns, "tf-test");
    assert_string_equal(kc->token, "abc.def#not-a-comment");
    assert_true(kc->insecure);
    assert_true(bytes_has(kc->ca, "TEST-CA-FROM-FILE")); /* relative to the kubeconfig */
    assert_null(kc->cert);
    tf_kubeconfig_free(kc);
}

static void test_env_and_default_path(void **state)
{
    (void)state;
    g_setenv("KUBECONFIG", ":" DATA "kubeconfig-kind.yaml:/nonexistent", TRUE);
    gchar *p = tf_kubeconfig_default_path(NULL);
    assert_string_equal(p, DATA "kubeconfig-kind.yaml");
    g_free(p);
    GError *e = NULL;
    tf_kubeconfig *kc = tf_kubeconfig_load(NULL, &e);
    assert_non_null(kc);
    assert_string_equal(kc->context, "kind-kind");
    tf_kubeconfig_free(kc);
    g_unsetenv("KUBECONFIG");
    g_setenv("HOME", "/nonexistent-home", TRUE);
    p = tf_kubeconfig_default_path(NULL);
    assert_string_equal(p, "/nonexistent-home/.kube/config");
    g_free(p);
    p = tf_kubeconfig_default_path("/x/y");
    assert_string_equal(p, "/x/y");
    g_free(p);
}

static char *kc_err(const char *text)
{
    GError *e = NULL;
    tf_kubeconfig *kc = tf_kubeconfig_parse(text, "kc", "/", &e);
    assert_null(kc);
    assert_non_null(e);
    char *m = g_strdup(e->message);
    g_error_free(e);
    return m;
}

static void test_refusals(void **state)
{
    (void)state;
    GError *e = NULL;
    tf_kubeconfig *kc = tf_kubeconfig_load(DATA "kubeconfig-exec.yaml", &e);
    assert_null(kc);
    assert_non_null(strstr(e->message, "user 'eks-user': exec/auth-provider credentials are not supported"));
    g_clear_error(&e);
    kc = tf_kubeconfig_load(DATA "no-such-file", &e);
    assert_null(kc);
    assert_non_null(strstr(e->message, "no-such-file"));
    g_clear_error(&e);
    char *m = kc_err("apiVersion: v1\n");
    assert_string_equal(m, "kc: current-context: not set");
    g_free(m);
    m = kc_err("current-context: x\ncontexts:\n- name: y\n  context: {cluster: c}\n");
    assert_string_equal(m, "kc: contexts: no context named 'x'");
    g_free(m);
    m = kc_err("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n");
    assert_string_equal(m, "kc: clusters: 'c' is not defined");
    g_free(m);
    m = kc_err("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
               "clusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
               "users:\n- name: u\n  user: {client-certificate-data: bm90IHBlbQ==}\n");
    assert_non_null(strstr(m, "client-certificate-data is not base64 of a PEM block"));
    g_free(m);
    m = kc_err("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
               "clusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
               "users:\n- name: u\n  user: {client-key: /nonexistent/key.pem}\n");
    assert_non_null(strstr(m, "client-key"));
    g_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_shapes),
        cmocka_unit_test(test_yaml_refuses),
        cmocka_unit_test(test_kind_client_cert),
        cmocka_unit_test(test_token_context_namespace),
        cmocka_unit_test(test_env_and_default_path),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
