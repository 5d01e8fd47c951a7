/* test_cluster_spec.c: cluster specs (parsing, validation errors) and template expansion.
 * Uses the real specs in scenarios/clusters/ and small inline ones; no process is ever
 * started here (tf_cluster_new only allocates ports, dirs and argv). The real specs'
 * binaries (/usr/bin/etcd, litecoind) are replaced by stand-ins: the host's are not needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "tf/cluster.h"
#include "tf/error.h"

static gchar *standins; /* a temp dir of stand-in executables, one per spec binary */

/* The stand-in for a spec's binary: an executable of the same name (newly allocated). */
static gchar *standin_for(const char *binary)
{
    gchar *base = g_path_get_basename(binary);
    gchar *path = g_build_filename(standins, base, NULL);
    g_free(base);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        assert_true(g_file_set_contents(path, "#!/bin/sh\nexit 1\n", -1, NULL));
        assert_int_equal(g_chmod(path, 0755), 0);
    }
    return path;
}

/* A spec of scenarios/clusters/, its "binary" replaced by standin_for() it. */
static tf_cluster_spec *load_spec(const char *file)
{
    gchar *path = g_build_filename(TF_SOURCE_DIR, "scenarios", "clusters", file, NULL);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        fail_msg("%s: %s", path, je.text);
    const char *binary = json_string_value(json_object_get(root, "binary"));
    assert_non_null(binary);
    gchar *standin = standin_for(binary);
    json_object_set_new(root, "binary", json_string(standin));
    g_free(standin);
    GError *e = NULL;
    tf_cluster_spec *s = tf_cluster_spec_from_json(root, path, &e);
    json_decref(root);
    if (!s)
        fail_msg("%s", e->message);
    g_free(path);
    return s;
}

static int make_standins(void **state)
{
    standins = g_dir_make_tmp("tf-spec-bin-XXXXXX", NULL);
    return standins ? 0 : -1;
}

static int remove_standins(void **state)
{
    char *argv[] = {"rm", "-rf", standins, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(standins);
    return 0;
}

/* The argument following `flag` in argv, or NULL. */
static const char *arg_after(gchar **argv, const char *flag)
{
    for (guint i = 0; argv[i]; i++)
        if (!strcmp(argv[i], flag))
            return argv[i + 1];
    return NULL;
}

static tf_cluster_spec *spec_from_string(const char *text, GError **error)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_DECODE_ANY, &je);
    if (!root)
        fail_msg("test JSON does not parse: %s: %s", je.text, text);
    tf_cluster_spec *s = tf_cluster_spec_from_json(root, "bad.json", error);
    json_decref(root);
    return s;
}

static void test_etcd_spec_expands_argv(void **state)
{
    tf_cluster_spec *s = load_spec("etcd-3.json");
    assert_string_equal(tf_cluster_spec_name(s), "etcd-3");
    assert_int_equal(tf_cluster_spec_default_nodes(s), 3);
    GError *e = NULL;
    tf_cluster *c = tf_cluster_new(s, 0, &e);
    tf_cluster_spec_free(s); /* the cluster keeps its own reference */
    assert_non_null(c);
    assert_int_equal(tf_cluster_size(c), 3);
    assert_true(g_file_test(tf_cluster_dir(c), G_FILE_TEST_IS_DIR));

    GHashTable *ports = g_hash_table_new(g_direct_hash, g_direct_equal);
    GString *want_peers = g_string_new(NULL);
    for (guint i = 0; i < 3; i++) {
        guint client = tf_cluster_node_port(c, i, "client");
        guint peer = tf_cluster_node_port(c, i, "peer");
        assert_true(client > 0 && peer > 0);
        g_hash_table_add(ports, GUINT_TO_POINTER(client));
        g_hash_table_add(ports, GUINT_TO_POINTER(peer));
        g_string_append_printf(want_peers, "%sn%u=http://127.0.0.1:%u", i ? "," : "", i + 1, peer);
    }
    assert_int_equal(g_hash_table_size(ports), 6); /* every port distinct */
    assert_int_equal(tf_cluster_node_port(c, 0, "nope"), 0);

    const char *token0 = NULL;
    for (guint i = 0; i < 3; i++) {
        gchar **argv = tf_cluster_node_argv(c, i);
        gchar name[8];
        g_snprintf(name, sizeof name, "n%u", i + 1);
        assert_string_equal(tf_cluster_node_name(c, i), name);
        assert_int_equal(tf_cluster_node_index(c, name), (int)i);
        gchar *etcd = standin_for("etcd");
        assert_string_equal(argv[0], etcd);
        g_free(etcd);
        assert_string_equal(arg_after(argv, "--name"), name);
        assert_string_equal(arg_after(argv, "--data-dir"), tf_cluster_node_dir(c, i));
        assert_true(g_file_test(tf_cluster_node_dir(c, i), G_FILE_TEST_IS_DIR));
        assert_true(g_str_has_prefix(tf_cluster_node_dir(c, i), tf_cluster_dir(c)));
        gchar *client = g_strdup_printf("http://127.0.0.1:%u", tf_cluster_node_port(c, i, "client"));
        assert_string_equal(arg_after(argv, "--listen-client-urls"), client);
        assert_string_equal(tf_cluster_node_url(c, i), client);
        assert_string_equal(arg_after(argv, "--initial-cluster"), want_peers->str);
        assert_string_equal(arg_after(argv, "--initial-cluster-state"), "new");
        const char *token = arg_after(argv, "--initial-cluster-token");
        assert_true(g_str_has_prefix(token, "tf-") && strlen(token) == 3 + 16);
        if (token0)
            assert_string_equal(token, token0);
        else
            token0 = g_strdup(token);
        g_free(client);
        g_strfreev(argv);
    }
    g_free((gchar *)token0);
    assert_null(tf_cluster_node_name(c, 3));
    assert_null(tf_cluster_node_argv(c, 3));
    assert_int_equal(tf_cluster_node_index(c, "n9"), -1);
    g_string_free(want_peers, TRUE);
    g_hash_table_unref(ports);
    tf_cluster_free(c);
}

static void test_expand_variables_and_escapes(void **state)
{
    tf_cluster_spec *s = load_spec("etcd-3.json");
    tf_cluster *c = tf_cluster_new(s, 2, NULL);
    tf_cluster_spec_free(s);
    assert_non_null(c);
    GError *e = NULL;
    gchar *got = tf_cluster_expand(c, 1, "{{x}} {name}/{index}/{ordinal}@{cluster}:{port.peer}", &e);
    assert_non_null(got);
    gchar *want = g_strdup_printf("{x} n2/1/2@etcd-3:%u", tf_cluster_node_port(c, 1, "peer"));
    assert_string_equal(got, want);
    g_free(got);
    g_free(want);

    assert_null(tf_cluster_expand(c, 0, "http://{host}:1", &e));
    assert_int_equal(e->code, TF_ERROR_INVALID);
    assert_non_null(strstr(e->message, "etcd-3/n1"));
    assert_non_null(strstr(e->message, "unknown variable {host}"));
    assert_non_null(strstr(e->message, "{port.client}")); /* the known names are listed */
    g_clear_error(&e);
    assert_null(tf_cluster_expand(c, 0, "{name", &e));
    assert_non_null(strstr(e->message, "unterminated '{'"));
    g_clear_error(&e);
    assert_null(tf_cluster_expand(c, 0, "a}b", &e));
    assert_non_null(strstr(e->message, "unmatched '}'"));
    g_clear_error(&e);
    assert_null(tf_cluster_expand(c, 7, "{name}", &e));
    assert_non_null(strstr(e->message, "no node 7"));
    g_clear_error(&e);
    tf_cluster_free(c);
}

static void test_provider_lists_created_nodes(void **state)
{
    tf_cluster_spec *s = load_spec("etcd-3.json");
    tf_cluster *c = tf_cluster_new(s, 3, NULL);
    tf_cluster_spec_free(s);
    assert_non_null(c);
    tf_source_provider *p = tf_cluster_provider(c);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    GError *e = NULL;
    assert_true(tf_source_provider_list(p, out, &e));
    assert_int_equal(out->len, 3);
    for (guint i = 0; i < 3; i++) {
        tf_source *src = out->pdata[i];
        assert_string_equal(tf_source_name(src), tf_cluster_node_name(c, i));
        assert_string_equal(tf_source_url(src), tf_cluster_node_url(c, i));
        assert_string_equal(tf_source_attr_str(src, "state"), "created");
        assert_string_equal(tf_source_attr_str(src, "cluster"), "etcd-3");
        assert_string_equal(tf_source_attr_str(src, "kind"), "etcd");
        json_t *attrs = tf_source_attrs(src);
        assert_int_equal(json_integer_value(json_object_get(attrs, "index")), i);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(attrs, "ports"), "client")),
                         tf_cluster_node_port(c, i, "client"));
        gchar *peer_url = g_strdup_printf("http://127.0.0.1:%u", tf_cluster_node_port(c, i, "peer"));
        assert_string_equal(tf_source_attr_str(src, "peer_url"), peer_url);
        g_free(peer_url);
        tf_source *same = tf_cluster_node_source(c, i);
        assert_true(tf_source_equal(src, same));
        tf_source_unref(same);
    }
    /* After the cluster is freed the provider (which keeps it alive) lists nothing. */
    tf_cluster_free(c);
    g_ptr_array_set_size(out, 0);
    assert_true(tf_source_provider_list(p, out, &e));
    assert_int_equal(out->len, 0);
    g_ptr_array_unref(out);
    tf_source_provider_free(p);
}

static void test_etcd_added_member_joins_existing(void **state)
{
    tf_cluster_spec *s = load_spec("etcd-3.json");
    tf_cluster *c = tf_cluster_new(s, 3, NULL);
    tf_cluster_spec_free(s);
    GError *e = NULL;
    gint idx = tf_cluster_node_add(c, &e);
    assert_int_equal(idx, 3);
    assert_int_equal(tf_cluster_size(c), 4);
    assert_string_equal(tf_cluster_node_name(c, 3), "n4");
    assert_int_equal(tf_cluster_node_state(c, 3, NULL), TF_NODE_CREATED);
    gchar **argv = tf_cluster_node_argv(c, 3);
    assert_string_equal(arg_after(argv, "--initial-cluster-state"), "existing");
    gchar **peers = g_strsplit(arg_after(argv, "--initial-cluster"), ",", -1);
    assert_int_equal(g_strv_length(peers), 4);
    gchar *self = g_strdup_printf("n4=http://127.0.0.1:%u", tf_cluster_node_port(c, 3, "peer"));
    assert_string_equal(peers[3], self);
    g_free(self);
    g_strfreev(peers);
    g_strfreev(argv);
    /* the original members keep their "new" argv */
    argv = tf_cluster_node_argv(c, 0);
    assert_string_equal(arg_after(argv, "--initial-cluster-state"), "new");
    g_strfreev(argv);
    tf_cluster_free(c);
}

static void test_litecoin_spec_peers_and_secret(void **state)
{
    tf_cluster_spec *s = load_spec("litecoin-3.json");
    tf_cluster *c = tf_cluster_new(s, 3, NULL);
    tf_cluster *other = tf_cluster_new(s, 1, NULL);
    tf_cluster_spec_free(s);
    assert_non_null(c);
    assert_non_null(other);
    const char *secret = NULL;
    for (guint i = 0; i < 3; i++) {
        gchar **argv = tf_cluster_node_argv(c, i);
        gchar *litecoind = standin_for("litecoind");
        assert_string_equal(argv[0], litecoind);
        g_free(litecoind);
        guint addnodes = 0;
        gchar *pw = NULL;
        for (guint k = 0; argv[k]; k++) {
            if (g_str_has_prefix(argv[k], "-addnode=")) {
                addnodes++;
                gchar *mine = g_strdup_printf("-addnode=127.0.0.1:%u", tf_cluster_node_port(c, i, "p2p"));
                assert_string_not_equal(argv[k], mine); /* "self": false */
                g_free(mine);
            }
            if (g_str_has_prefix(argv[k], "-rpcpassword="))
                pw = g_strdup(argv[k] + strlen("-rpcpassword="));
            assert_null(strchr(argv[k], '{')); /* nothing left unexpanded */
        }
        assert_int_equal(addnodes, 2);
        assert_non_null(pw);
        assert_int_equal(strlen(pw), 32);
        tf_source *src = tf_cluster_node_source(c, i);
        assert_string_equal(tf_source_attr_str(src, "rpc_user"), "tf");
        assert_string_equal(tf_source_attr_str(src, "rpc_password"), pw);
        if (secret)
            assert_string_equal(pw, secret); /* one secret per cluster */
        else
            secret = g_strdup(pw);
        tf_source_unref(src);
        g_free(pw);
        g_strfreev(argv);
    }
    tf_source *src = tf_cluster_node_source(other, 0);
    assert_string_not_equal(tf_source_attr_str(src, "rpc_password"), secret);
    tf_source_unref(src);
    g_free((gchar *)secret);
    tf_cluster_free(c);
    tf_cluster_free(other);
}

/* Every spec mistake is refused with "bad.json: <field>: <why>". */
static void test_bad_specs_name_file_and_field(void **state)
{
#define OK_READY "\"ready\":{\"tcp\":\"{port.a}\"}"
#define BASE "\"name\":\"x\",\"binary\":\"/bin/true\",\"ports\":[\"a\"]"
    static const struct {
        const char *json, *prefix, *why;
    } cases[] = {
        {"[]", "bad.json: (top): ", "must be a JSON object"},
        {"{\"binary\":\"/bin/true\",\"argv\":[]," OK_READY "}", "bad.json: name: ", "missing"},
        {"{\"name\":\"x\",\"argv\":[]," OK_READY "}", "bad.json: binary: ", "missing"},
        {"{" BASE ",\"argv\":[],\"argv_jion\":[]," OK_READY "}", "bad.json: argv_jion: ",
         "unknown field"},
        {"{" BASE ",\"nodes\":0,\"argv\":[]," OK_READY "}", "bad.json: nodes: ",
         "integer from 1 to 64"},
        {"{" BASE ",\"nodes\":\"3\",\"argv\":[]," OK_READY "}", "bad.json: nodes: ", "integer"},
        {"{" BASE "," OK_READY "}", "bad.json: argv: ", "missing"},
        {"{" BASE ",\"argv\":\"-x\"," OK_READY "}", "bad.json: argv: ", "array of strings"},
        {"{" BASE ",\"argv\":[\"a\",3]," OK_READY "}", "bad.json: argv[1]: ", "must be a string"},
        {"{" BASE ",\"argv\":[\"a\",\"b\",\"--p={port.clinet}\"]," OK_READY "}", "bad.json: argv[2]: ",
         "unknown variable {port.clinet}"},
        {"{" BASE ",\"argv\":[\"{name\"]," OK_READY "}", "bad.json: argv[0]: ", "unterminated"},
        {"{" BASE ",\"argv\":[\"--c={peers}\"]," OK_READY "}", "bad.json: argv[0]: ",
         "{peers} needs a \"peer\" template"},
        {"{" BASE ",\"argv\":[\"{peers...}\"]," OK_READY "}", "bad.json: argv[0]: ",
         "needs a \"peer\" template"},
        {"{" BASE ",\"argv\":[],\"argv_join\":[\"{nope}\"]," OK_READY "}", "bad.json: argv_join[0]: ",
         "unknown variable {nope}"},
        {"{" BASE ",\"argv\":[]}", "bad.json: ready: ", "missing"},
        {"{" BASE ",\"argv\":[],\"ready\":{\"tcp\":\"{port.a}\",\"http\":\"http://127.0.0.1:1/\"}}",
         "bad.json: ready: ", "exactly one of"},
        {"{" BASE ",\"argv\":[],\"ready\":{\"http\":\"http://example.com/health\"}}",
         "bad.json: ready.http: ", "the node itself only"},
        {"{" BASE ",\"network\":\"bridge\",\"argv\":[]," OK_READY "}", "bad.json: network: ",
         "\"loopback\" (default) or \"namespaces\""},
        {"{" BASE ",\"network\":\"namespaces\",\"argv\":[]," OK_READY
         ",\"source\":{\"url\":\"http://127.0.0.1:{port.a}\"}}", "bad.json: source.url: ",
         "must use {address}"},
        {"{" BASE ",\"argv\":[],\"ready\":{\"tcp\":\"{port.a}\",\"tmeout_ms\":5}}",
         "bad.json: ready.tmeout_ms: ", "unknown field"},
        {"{" BASE ",\"argv\":[],\"ready\":{\"tcp\":\"{port.a}\",\"timeout_ms\":0}}",
         "bad.json: ready.timeout_ms: ", "integer from 1"},
        {"{" BASE ",\"argv\":[],\"ready\":{\"tcp\":\"{port.a}\",\"method\":\"POST\"}}",
         "bad.json: ready: ", "for http probes"},
        {"{" BASE ",\"argv\":[],\"ready\":{\"http\":\"http://127.0.0.1:{port.b}/\"}}",
         "bad.json: ready.http: ", "unknown variable {port.b}"},
        {"{\"name\":\"x\",\"binary\":\"/bin/true\",\"ports\":[\"a\",\"a\"],\"argv\":[]," OK_READY "}",
         "bad.json: ports[1]: ", "declared twice"},
        {"{\"name\":\"x\",\"binary\":\"/bin/true\",\"ports\":[\"Client!\"],\"argv\":[],"
         "\"ready\":{\"tcp\":\"1\"}}", "bad.json: ports[0]: ", "[a-z0-9_]"},
        {"{" BASE ",\"argv\":[],\"peer\":\"{name}={peers}\"," OK_READY "}", "bad.json: peer: ",
         "unknown variable {peers}"},
        {"{" BASE ",\"argv\":[],\"peer\":{\"template\":\"{name}\",\"self\":\"no\"}," OK_READY "}",
         "bad.json: peer.self: ", "true or false"},
        {"{" BASE ",\"argv\":[],\"peer\":{\"separator\":\",\"}," OK_READY "}", "bad.json: peer.template: ",
         "missing"},
        {"{" BASE ",\"argv\":[],\"node_name\":\"n{port.a}\"," OK_READY "}", "bad.json: node_name: ",
         "unknown variable {port.a}"},
        {"{" BASE ",\"argv\":[]," OK_READY ",\"source\":{\"url\":\"http://127.0.0.1:{port.z}\"}}",
         "bad.json: source.url: ", "unknown variable {port.z}"},
        {"{" BASE ",\"argv\":[]," OK_READY ",\"source\":{\"attrs\":{\"state\":\"up\"}}}",
         "bad.json: source.attrs.state: ", "reserved"},
        {"{" BASE ",\"argv\":[]," OK_READY ",\"source\":{\"attrs\":{\"k\":\"{secret}\"}}}",
         "bad.json: source.attrs.k: ", "unknown variable {secret}"},
        {"{" BASE ",\"argv\":[]," OK_READY ",\"stop_grace_ms\":-1}", "bad.json: stop_grace_ms: ",
         "integer from 0"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *e = NULL;
        tf_cluster_spec *s = spec_from_string(cases[i].json, &e);
        if (s)
            fail_msg("case %u accepted: %s", i, cases[i].json);
        assert_int_equal(e->domain, TF_ERROR);
        assert_int_equal(e->code, TF_ERROR_PARSE);
        if (!g_str_has_prefix(e->message, cases[i].prefix) || !strstr(e->message, cases[i].why))
            fail_msg("case %u: got \"%s\", want prefix \"%s\" and \"%s\"", i, e->message,
                     cases[i].prefix, cases[i].why);
        g_error_free(e);
    }
    /* The same shape, corrected, is accepted: the cases fail for their one reason. */
    GError *e = NULL;
    tf_cluster_spec *s = spec_from_string("{" BASE ",\"argv\":[\"{{{port.a}}}\"]," OK_READY "}", &e);
    assert_non_null(s);
    tf_cluster_spec_free(s);
#undef BASE
#undef OK_READY
}

static void test_load_errors_name_the_path(void **state)
{
    GError *e = NULL;
    assert_null(tf_cluster_spec_load("/nonexistent/tf/spec.json", &e));
    assert_string_equal(e->message, "/nonexistent/tf/spec.json: cannot read: No such file or directory");
    g_clear_error(&e);
    assert_null(tf_cluster_spec_load("/", &e)); /* a directory: opens, does not read */
    assert_true(g_str_has_prefix(e->message, "/: cannot read: "));
    assert_null(strstr(e->message, ":-1"));
    g_clear_error(&e);

    gchar *path = NULL;
    int fd = g_file_open_tmp("tf-spec-XXXXXX.json", &path, NULL);
    assert_true(fd >= 0);
    const char *text = "{\n  \"name\": \"x\",\n  \"binary\": \n}\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_null(tf_cluster_spec_load(path, &e));
    gchar *where = g_strdup_printf("%s:4:", path); /* file:line:col */
    assert_true(g_str_has_prefix(e->message, where));
    g_clear_error(&e);
    g_free(where);

    /* Duplicate keys are a mistake, not "last one wins". */
    g_file_set_contents(path, "{\"name\":\"a\",\"name\":\"b\"}", -1, NULL);
    assert_null(tf_cluster_spec_load(path, &e));
    assert_non_null(strstr(e->message, "duplicate"));
    g_clear_error(&e);
    g_unlink(path);
    g_free(path);
}

/* Lookup by name: the errors say where specs were looked for and how to point elsewhere. */
static void test_load_named_says_where_it_looked(void **state)
{
    GError *e = NULL;
    g_setenv("TF_CLUSTERS", "/nonexistent/specs", TRUE);
    assert_null(tf_cluster_spec_load_named("etcd-3", NULL, &e));
    assert_string_equal(e->message, "cluster spec etcd-3: /nonexistent/specs/etcd-3.json: cannot read: "
                                    "No such file or directory (TF_CLUSTERS=/nonexistent/specs)");
    g_clear_error(&e);
    g_unsetenv("TF_CLUSTERS");
    assert_null(tf_cluster_spec_load_named("no-such-spec", "/nonexistent/f/x.feature", &e));
    assert_non_null(strstr(e->message, "cluster spec no-such-spec: scenarios/clusters/no-such-spec.json: "
                                       "cannot read: No such file or directory (no clusters/no-such-spec.json "
                                       "in /nonexistent/f or a folder above it; TF_CLUSTERS=DIR"));
    g_clear_error(&e);
    tf_cluster_spec *s = tf_cluster_spec_load_named("etcd-3", TF_SOURCE_DIR "/scenarios/raftkv/x.feature", &e);
    assert_non_null(s);
    assert_true(tf_cluster_spec_require_url(s, "the etcd steps", &e));
    tf_cluster_spec_free(s);
}

/* A source URL is optional for the launcher, required by observing callers, and must be
 * an http(s) URL when given (curl's "bad/illegal format" after 30 s was the symptom). */
static void test_source_url(void **state)
{
    GError *e = NULL;
    tf_cluster_spec *s = spec_from_string("{\"name\":\"x\",\"binary\":\"/bin/true\",\"argv\":[],"
                                          "\"ready\":{\"tcp\":\"1\"}}", &e);
    assert_non_null(s);
    assert_false(tf_cluster_spec_require_url(s, "the etcd steps", &e));
    assert_string_equal(e->message, "bad.json: source.url: missing: the etcd steps reach each node at "
                                    "this URL (for example \"source\": {\"url\": \"http://127.0.0.1:{port.client}\"})");
    g_clear_error(&e);
    tf_cluster_spec_free(s);
    const char *bad[] = {"127.0.0.1:{port.a}", "{name}", "ftp://127.0.0.1/"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        gchar *text = g_strdup_printf("{\"name\":\"x\",\"binary\":\"/bin/true\",\"ports\":[\"a\"],"
                                      "\"argv\":[],\"ready\":{\"tcp\":\"1\"},\"source\":{\"url\":\"%s\"}}",
                                      bad[i]);
        assert_null(spec_from_string(text, &e));
        if (!g_str_has_prefix(e->message, "bad.json: source.url: must start with http:// or https://"))
            fail_msg("%s: %s", bad[i], e->message);
        g_clear_error(&e);
        g_free(text);
    }
}

static void test_cluster_new_errors(void **state)
{
    GError *e = NULL;
    tf_cluster_spec *s = spec_from_string(
        "{\"name\":\"x\",\"binary\":\"no-such-binary-tf-test\",\"argv\":[],\"ready\":{\"tcp\":\"1\"}}", &e);
    assert_non_null(s);
    assert_null(tf_cluster_new(s, 1, &e));
    assert_string_equal(e->message, "bad.json: binary: 'no-such-binary-tf-test' not found in PATH");
    g_clear_error(&e);
    tf_cluster_spec_free(s);

    s = spec_from_string("{\"name\":\"x\",\"binary\":\"true\",\"node_name\":\"node\",\"argv\":[],"
                         "\"ready\":{\"tcp\":\"1\"}}", &e);
    assert_non_null(s);
    tf_cluster *one = tf_cluster_new(s, 1, &e); /* "true" is found in PATH */
    assert_non_null(one);
    gchar **argv = tf_cluster_node_argv(one, 0);
    assert_true(g_path_is_absolute(argv[0]));
    g_strfreev(argv);
    tf_cluster_free(one);
    assert_null(tf_cluster_new(s, 2, &e));
    assert_non_null(strstr(e->message, "two nodes are called 'node'"));
    g_clear_error(&e);
    tf_cluster_spec_free(s);
}

static void test_free_removes_dir_unless_kept(void **state)
{
    tf_cluster_spec *s = load_spec("etcd-3.json");
    tf_cluster *c = tf_cluster_new(s, 1, NULL);
    gchar *dir = g_strdup(tf_cluster_dir(c));
    tf_cluster_free(c);
    assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_free(dir);

    g_setenv("TF_KEEP_CLUSTER", "1", TRUE);
    c = tf_cluster_new(s, 1, NULL);
    dir = g_strdup(tf_cluster_dir(c));
    gchar *data = g_strdup(tf_cluster_node_dir(c, 0));
    tf_cluster_free(c);
    g_unsetenv("TF_KEEP_CLUSTER");
    assert_true(g_file_test(data, G_FILE_TEST_IS_DIR));
    g_rmdir(data);
    gchar *base = g_path_get_dirname(data);
    g_rmdir(base);
    assert_int_equal(g_rmdir(dir), 0); /* nothing else was left behind */
    g_free(base);
    g_free(data);
    g_free(dir);
    tf_cluster_spec_free(s);
}

/* Specs are found from the feature file upwards; TF_CLUSTERS overrides; else the default. */
static void test_spec_find_walks_up_from_the_feature(void **state)
{
    (void)state;
    char *root = g_dir_make_tmp("tf-spec-find-XXXXXX", NULL);
    char *deep = g_build_filename(root, "a", "b", "c", NULL);
    char *clusters = g_build_filename(root, "a", "clusters", NULL);
    assert_int_equal(g_mkdir_with_parents(deep, 0700), 0);
    assert_int_equal(g_mkdir_with_parents(clusters, 0700), 0);
    char *spec = g_build_filename(clusters, "mine.json", NULL);
    assert_true(g_file_set_contents(spec, "{}", -1, NULL));
    char *feature = g_build_filename(deep, "x.feature", NULL);
    g_unsetenv("TF_CLUSTERS");

    char *found = tf_cluster_spec_find("mine", feature);
    assert_string_equal(found, spec);
    g_free(found);
    found = tf_cluster_file_find(feature, "clusters/mine.json");
    assert_string_equal(found, spec);
    g_free(found);
    assert_null(tf_cluster_file_find(feature, "clusters/none.json"));
    found = tf_cluster_spec_find("none", feature); /* not found: the default place */
    assert_string_equal(found, "scenarios/clusters/none.json");
    g_free(found);
    g_setenv("TF_CLUSTERS", "/elsewhere", TRUE);
    found = tf_cluster_spec_find("mine", feature);
    assert_string_equal(found, "/elsewhere/mine.json");
    g_free(found);
    g_unsetenv("TF_CLUSTERS");

    char *argv[] = {"rm", "-rf", root, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(feature);
    g_free(spec);
    g_free(clusters);
    g_free(deep);
    g_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etcd_spec_expands_argv),
        cmocka_unit_test(test_spec_find_walks_up_from_the_feature),
        cmocka_unit_test(test_expand_variables_and_escapes),
        cmocka_unit_test(test_provider_lists_created_nodes),
        cmocka_unit_test(test_etcd_added_member_joins_existing),
        cmocka_unit_test(test_litecoin_spec_peers_and_secret),
        cmocka_unit_test(test_bad_specs_name_file_and_field),
        cmocka_unit_test(test_load_errors_name_the_path),
        cmocka_unit_test(test_load_named_says_where_it_looked),
        cmocka_unit_test(test_source_url),
        cmocka_unit_test(test_cluster_new_errors),
        cmocka_unit_test(test_free_removes_dir_unless_kept),
    };
    return cmocka_run_group_tests(tests, make_standins, remove_standins);
}
