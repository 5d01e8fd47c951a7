/* test_compose_manifest.c: scenarios/deploy/compose/etcd-3.yml is a working 3-member
 * cluster for `tf run --env compose`: every service is named in --initial-cluster by the
 * name it answers to, publishes its client port on 127.0.0.1 (distinct ports), carries
 * the tf.role label, and uses the Raft timings of scenarios/clusters/etcd-3.json; ports and
 * the owner label (on containers and the network) come from variables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include "../../tf/cluster/deploy_priv.h"

/* The value of "--flag=value" in a command array, or NULL. */
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

/* The value after "--flag" in the local spec's argv (scenarios/clusters/etcd-3.json). */
static const char *spec_arg(json_t *spec, const char *name)
{
    json_t *argv = json_object_get(spec, "argv");
    for (size_t i = 0; i + 1 < json_array_size(argv); i++)
        if (!g_strcmp0(json_string_value(json_array_get(argv, i)), name))
            return json_string_value(json_array_get(argv, i + 1));
    return NULL;
}

static void test_compose_file(void **state)
{
    (void)state;
    gchar *text = NULL;
    assert_true(g_file_get_contents(TF_SOURCE_DIR "/scenarios/deploy/compose/etcd-3.yml", &text, NULL, NULL));
    GError *e = NULL;
    json_t *root = tf_yaml_subset_parse(text, "etcd-3.yml", &e);
    if (!root)
        fail_msg("%s", e->message);
    g_free(text);
    json_t *spec = json_load_file(TF_SOURCE_DIR "/scenarios/clusters/etcd-3.json", 0, NULL);
    assert_non_null(spec);
    assert_string_equal(json_string_value(json_object_get(root, "name")), "tf-etcd");
    json_t *services = json_object_get(root, "services");
    assert_int_equal(json_object_size(services), 3);
    GString *cluster = g_string_new(NULL);
    const char *svc;
    json_t *s;
    json_object_foreach(services, svc, s)
        g_string_append_printf(cluster, "%s%s=http://%s:2380", cluster->len ? "," : "", svc, svc);
    GHashTable *ports = g_hash_table_new(g_str_hash, g_str_equal);
    json_object_foreach(services, svc, s) {
        json_t *cmd = json_object_get(s, "command");
        assert_string_equal(flag(cmd, "--name"), svc);
        assert_string_equal(flag(cmd, "--initial-cluster"), cluster->str);
        gchar *peer = g_strdup_printf("http://%s:2380", svc);
        assert_string_equal(flag(cmd, "--initial-advertise-peer-urls"), peer);
        g_free(peer);
        assert_string_equal(flag(cmd, "--listen-client-urls"), "http://0.0.0.0:2379");
        assert_string_equal(flag(cmd, "--initial-cluster-state"), "new");
        assert_string_equal(flag(cmd, "--heartbeat-interval"), spec_arg(spec, "--heartbeat-interval"));
        assert_string_equal(flag(cmd, "--election-timeout"), spec_arg(spec, "--election-timeout"));
        assert_string_equal(flag(cmd, "--strict-reconfig-check"), "false");
        assert_string_equal(json_string_value(json_object_get(json_object_get(s, "labels"), "tf.role")), "etcd");
        /* owned by whoever brought it up (a test's token), else by the user: never swept */
        assert_string_equal(json_string_value(json_object_get(json_object_get(s, "labels"), "tf.owner")),
                            "${TF_COMPOSE_OWNER:-user}");
        json_t *p = json_object_get(s, "ports");
        assert_int_equal(json_array_size(p), 1);
        const char *pub = json_string_value(json_array_get(p, 0));
        assert_true(g_str_has_prefix(pub, "127.0.0.1:") && g_str_has_suffix(pub, ":2379"));
        /* each port a variable, so that two projects can run side by side */
        gchar *var = g_strdup_printf("127.0.0.1:${TF_ETCD%s_PORT:-", svc + strlen("etcd"));
        assert_true(g_str_has_prefix(pub, var));
        g_free(var);
        assert_false(g_hash_table_contains(ports, pub));
        g_hash_table_add(ports, (gpointer)pub);
        gchar *adv = g_strdup_printf("http://127.0.0.1:%.*s", (int)(strlen(pub) - strlen("127.0.0.1:") - strlen(":2379")),
                                     pub + strlen("127.0.0.1:"));
        assert_string_equal(flag(cmd, "--advertise-client-urls"), adv);
        g_free(adv);
    }
    g_hash_table_unref(ports);
    json_t *net_labels = json_object_get(json_object_get(json_object_get(root, "networks"), "default"), "labels");
    assert_string_equal(json_string_value(json_object_get(net_labels, "tf.owner")), "${TF_COMPOSE_OWNER:-user}");
    g_string_free(cluster, TRUE);
    json_decref(spec);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
