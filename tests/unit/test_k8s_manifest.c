/* test_k8s_manifest.c: scenarios/deploy/k8s/etcd-3.yaml is a working 3-member cluster
 * for `tf run --env k8s`: a headless Service that publishes not-ready addresses, a
 * StatefulSet started in parallel whose --initial-cluster names every replica by its pod
 * DNS name, labels matching tf's default selector (app=tf-etcd), client port 2379, and
 * the Raft timings of scenarios/clusters/etcd-3.json. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include "../../tf/cluster/deploy_priv.h"

static const char *flag(json_t *cmd, const char *name)
{
    gchar *prefix = g_strdup_printf("%s=", name);
    const char *found = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(cmd, i, a) {
        const char *s = json_string_value(a);
        if (s && g_str_has_prefix(s, prefix))
            found = s + strlen(prefix);
    }
    g_free(prefix);
    return found;
}

static const char *spec_arg(json_t *spec, const char *name)
{
    json_t *argv = json_object_get(spec, "argv");
    for (size_t i = 0; i + 1 < json_array_size(argv); i++)
        if (!g_strcmp0(json_string_value(json_array_get(argv, i)), name))
            return json_string_value(json_array_get(argv, i + 1));
    return NULL;
}

static const char *at(json_t *v, const char *path)
{
    gchar **parts = g_strsplit(path, ".", -1);
    for (guint i = 0; parts[i] && v; i++)
        v = json_object_get(v, parts[i]);
    g_strfreev(parts);
    return json_string_value(v);
}

static void test_k8s_manifest(void **state)
{
    (void)state;
    gchar *text = NULL;
    assert_true(g_file_get_contents(TF_SOURCE_DIR "/scenarios/deploy/k8s/etcd-3.yaml", &text, NULL, NULL));
    gchar **docs = g_strsplit(text, "\n---\n", -1);
    g_free(text);
    json_t *svc = NULL, *sts = NULL;
    for (guint i = 0; docs[i]; i++) {
        GError *e = NULL;
        json_t *d = tf_yaml_subset_parse(docs[i], "etcd-3.yaml", &e);
        if (!d)
            fail_msg("%s", e->message);
        if (!g_strcmp0(at(d, "kind"), "Service"))
            svc = d;
        else if (!g_strcmp0(at(d, "kind"), "StatefulSet"))
            sts = d;
        else
            json_decref(d);
    }
    g_strfreev(docs);
    assert_non_null(svc);
    assert_non_null(sts);
    json_t *spec = json_load_file(TF_SOURCE_DIR "/scenarios/clusters/etcd-3.json", 0, NULL);
    assert_non_null(spec);

    assert_string_equal(at(svc, "spec.clusterIP"), "None");
    assert_string_equal(at(svc, "spec.publishNotReadyAddresses"), "true");
    assert_string_equal(at(svc, "spec.selector.app"), "tf-etcd");
    const char *name = at(svc, "metadata.name");
    assert_string_equal(at(sts, "spec.serviceName"), name);
    assert_string_equal(at(sts, "spec.podManagementPolicy"), "Parallel");
    assert_string_equal(at(sts, "spec.selector.matchLabels.app"), "tf-etcd");
    assert_string_equal(at(sts, "spec.template.metadata.labels.app"), "tf-etcd");
    int replicas = atoi(at(sts, "spec.replicas"));
    assert_int_equal(replicas, 3);
    assert_non_null(json_object_get(json_object_get(sts, "spec"), "volumeClaimTemplates"));

    json_t *c = json_array_get(json_object_get(json_object_get(json_object_get(
                    json_object_get(sts, "spec"), "template"), "spec"), "containers"), 0);
    json_t *cmd = json_object_get(c, "command");
    const char *sts_name = at(sts, "metadata.name");
    GString *want = g_string_new(NULL);
    for (int i = 0; i < replicas; i++)
        g_string_append_printf(want, "%s%s-%d=http://%s-%d.%s.$(POD_NAMESPACE).svc:2380",
                               i ? "," : "", sts_name, i, sts_name, i, name);
    assert_string_equal(flag(cmd, "--initial-cluster"), want->str);
    g_string_free(want, TRUE);
    assert_string_equal(flag(cmd, "--name"), "$(POD_NAME)");
    gchar *peer = g_strdup_printf("http://$(POD_NAME).%s.$(POD_NAMESPACE).svc:2380", name);
    assert_string_equal(flag(cmd, "--initial-advertise-peer-urls"), peer);
    g_free(peer);
    assert_string_equal(flag(cmd, "--listen-client-urls"), "http://0.0.0.0:2379");
    assert_string_equal(flag(cmd, "--heartbeat-interval"), spec_arg(spec, "--heartbeat-interval"));
    assert_string_equal(flag(cmd, "--election-timeout"), spec_arg(spec, "--election-timeout"));
    json_t *port = json_array_get(json_object_get(c, "ports"), 0);
    assert_string_equal(at(port, "name"), "client");
    assert_string_equal(at(port, "containerPort"), "2379");
    /* both env vars the command uses come from the downward API */
    size_t i;
    json_t *env;
    guint fields = 0;
    json_array_foreach(json_object_get(c, "env"), i, env) {
        const char *n = at(env, "name"), *f = at(env, "valueFrom.fieldRef.fieldPath");
        fields += (!g_strcmp0(n, "POD_NAME") && !g_strcmp0(f, "metadata.name")) ||
                  (!g_strcmp0(n, "POD_NAMESPACE") && !g_strcmp0(f, "metadata.namespace"));
    }
    assert_int_equal(fields, 2);
    json_decref(spec);
    json_decref(svc);
    json_decref(sts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k8s_manifest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
