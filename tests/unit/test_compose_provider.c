/* test_compose_provider.c: the compose backend of tf_cluster through stand-in commands.
 * Each test makes PATH a temp dir holding only a `docker` or `podman` script (or nothing):
 * it prints the `ps` fixture the test chose (tests/unit/data/compose, see the README
 * there) and records every command line it was asked to run, so the faults can be
 * checked. The host's engines (a docker client, podman) are never seen. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "tf/cluster.h"
#include "tf/error.h"

#define DATA TF_SOURCE_DIR "/tests/unit/data/compose/"

typedef struct {
    gchar *dir;
    gchar *log;      /* one command line per call */
    gchar *ps;       /* what `ps` prints: a copy of a fixture */
    gchar *old_path;
} fake;

static const char *script =
    "#!/bin/sh\n"
    "PATH=/usr/bin:/bin\n" /* for cat: the test's PATH holds the stand-ins only */
    "echo \"$*\" >> \"$TF_FAKE_LOG\"\n"
    "if [ \"$*\" = 'compose version' ] && [ -n \"$TF_FAKE_NO_COMPOSE\" ]; then\n"
    "  echo \"docker: 'compose' is not a docker command.\" >&2; exit 1\n"
    "fi\n"
    "case \" $* \" in\n"
    "  *' ps '*) cat \"$TF_FAKE_PS\" ;;\n"
    "  *' pause '*) if [ -n \"$TF_FAKE_PAUSE_ERR\" ]; then echo \"$TF_FAKE_PAUSE_ERR\" >&2; exit 125; fi ;;\n"
    "  *' logs '*) echo 'etcd1  | {\"level\":\"info\",\"msg\":\"ready to serve client requests\"}' ;;\n"
    "esac\n"
    "exit 0\n";

static void fake_ps(fake *f, const char *fixture)
{
    gchar *path = g_strconcat(DATA, fixture, NULL), *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        fail_msg("cannot read %s", path);
    assert_true(g_file_set_contents(f->ps, text, -1, NULL));
    g_free(text);
    g_free(path);
}

/* A temp dir with a stand-in `engine` (NULL: none) first on PATH. */
static fake *fake_new(const char *engine, const char *fixture)
{
    fake *f = g_new0(fake, 1);
    f->dir = g_dir_make_tmp("tf-compose-XXXXXX", NULL);
    f->log = g_build_filename(f->dir, "calls.log", NULL);
    f->ps = g_build_filename(f->dir, "ps.out", NULL);
    if (engine) {
        gchar *bin = g_build_filename(f->dir, engine, NULL);
        assert_true(g_file_set_contents(bin, script, -1, NULL));
        g_chmod(bin, 0755);
        g_free(bin);
    }
    if (fixture)
        fake_ps(f, fixture);
    f->old_path = g_strdup(g_getenv("PATH"));
    g_setenv("PATH", f->dir, TRUE); /* hermetic: no engine of the host's is found */
    g_setenv("TF_FAKE_LOG", f->log, TRUE);
    g_setenv("TF_FAKE_PS", f->ps, TRUE);
    g_unsetenv("TF_FAKE_PAUSE_ERR");
    return f;
}

/* The recorded command lines, joined by " | " (newly allocated). */
static gchar *calls(fake *f)
{
    gchar *text = NULL;
    if (!g_file_get_contents(f->log, &text, NULL, NULL))
        return g_strdup("");
    g_strchomp(text);
    gchar **lines = g_strsplit(text, "\n", -1);
    gchar *out = g_strjoinv(" | ", lines);
    g_strfreev(lines);
    g_free(text);
    g_unlink(f->log);
    return out;
}

static void fake_free(fake *f)
{
    g_setenv("PATH", f->old_path, TRUE);
    GDir *d = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        gchar *p = g_build_filename(f->dir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    g_dir_close(d);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->log);
    g_free(f->ps);
    g_free(f->old_path);
    g_free(f);
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

static void assert_calls(fake *f, const char *want)
{
    gchar *got = calls(f);
    if (strcmp(got, want))
        fail_msg("calls:\n  got  %s\n  want %s", got, want);
    g_free(got);
}

static void assert_states(tf_cluster *c, const char *want)
{
    gchar *got = states(c);
    if (strcmp(got, want))
        fail_msg("states:\n  got  %s\n  want %s", got, want);
    g_free(got);
}

static tf_cluster *compose(const char *engine, const char *file, const char *label, guint expect)
{
    tf_compose_config cfg = {.project = "tf-etcd", .file = file, .label = label, .port = 2379,
                             .engine = engine, .expect = expect, .timeout_us = 5 * G_USEC_PER_SEC};
    GError *e = NULL;
    tf_cluster *c = tf_cluster_compose_new(&cfg, &e);
    if (!c)
        fail_msg("%s", e->message);
    return c;
}

static void test_ndjson_faults_and_follow(void **state)
{
    (void)state;
    fake *f = fake_new("docker", "ps-v2.24-running.ndjson");
    tf_cluster *c = compose(NULL, "/src/etcd-3.yml", "tf.role=etcd", 3);
    GError *e = NULL;
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    assert_calls(f, "compose version | compose -p tf-etcd -f /src/etcd-3.yml up -d | "
                    "compose -p tf-etcd -f /src/etcd-3.yml ps -a --format json");
    /* "tools" lacks the label; Publishers give the host ports of container port 2379 */
    assert_states(c, "etcd1=running@http://127.0.0.1:12379 etcd2=running@http://127.0.0.1:22379 "
                     "etcd3=running@http://127.0.0.1:32379");
    assert_string_equal(tf_cluster_name(c), "tf-etcd");
    assert_string_equal(tf_cluster_dir(c), "docker project tf-etcd");
    assert_int_equal(tf_cluster_node_port(c, 1, "client"), 22379);
    tf_source *src = tf_cluster_node_source(c, 1);
    assert_string_equal(tf_source_attr_str(src, "container"), "tf-etcd-etcd2-1");
    assert_string_equal(tf_source_attr_str(src, "health"), "healthy");
    assert_string_equal(tf_source_attr_str(src, "env"), "compose");
    tf_source_unref(src);

    assert_true(tf_cluster_node_stop(c, 1, &e));
    assert_int_equal(tf_cluster_node_state(c, 1, NULL), TF_NODE_STOPPED);
    assert_true(tf_cluster_node_kill(c, 0, &e));
    assert_true(tf_cluster_node_start(c, 0, &e));
    assert_true(tf_cluster_node_pause(c, 2, &e));
    assert_int_equal(tf_cluster_node_state(c, 2, NULL), TF_NODE_PAUSED);
    assert_true(tf_cluster_node_resume(c, 2, &e));
    assert_true(tf_cluster_node_restart(c, 1, &e));
    assert_true(tf_cluster_node_pause(c, 2, &e));
#define DC "compose -p tf-etcd -f /src/etcd-3.yml "
    assert_calls(f, DC "stop etcd2 | " DC "kill etcd1 | " DC "start etcd1 | " DC "pause etcd3 | "
                    DC "unpause etcd3 | " DC "restart etcd2 | " DC "pause etcd3");

    /* etcd1 dies on its own (137, not asked), etcd2 is starting: the next listing re-reads */
    fake_ps(f, "ps-v2.24-faults.ndjson");
    tf_source_provider *p = tf_cluster_provider(c);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    assert_true(tf_source_provider_list(p, list, &e));
    assert_int_equal(list->len, 3);
    assert_string_equal(tf_source_attr_str(list->pdata[0], "state"), "exited");
    assert_string_equal(tf_source_attr_str(list->pdata[0], "exit"), "exit 137");
    assert_true(json_is_false(json_object_get(tf_source_attrs(list->pdata[1]), "ready")));
    assert_string_equal(tf_source_attr_str(list->pdata[2], "state"), "paused");
    g_ptr_array_set_size(list, 0);
    assert_calls(f, DC "ps -a --format json");
    /* within a second, a listing does not run ps again */
    assert_true(tf_source_provider_list(p, list, &e));
    assert_calls(f, "");
    g_ptr_array_unref(list);
    assert_states(c, "etcd1=exited@- etcd2=running@http://127.0.0.1:22379 etcd3=paused@http://127.0.0.1:32379");

    /* ...and comes back: waiting for a node re-reads ps until it is running and ready */
    fake_ps(f, "ps-v2.24-running.ndjson");
    assert_true(tf_cluster_node_wait_ready(c, 0, 2 * G_USEC_PER_SEC, &e));
    assert_states(c, "etcd1=running@http://127.0.0.1:12379 etcd2=running@http://127.0.0.1:22379 "
                     "etcd3=running@http://127.0.0.1:32379");
    g_free(calls(f)); /* forget them */

    /* an engine that cannot pause says so, with its own words */
    g_setenv("TF_FAKE_PAUSE_ERR", "Error response from daemon: Cannot pause container: "
                                  "cgroups v1 not supported in rootless mode", TRUE);
    assert_false(tf_cluster_node_pause(c, 0, &e));
    assert_string_equal(e->message, "compose/tf-etcd/etcd1: pause: docker " DC "pause etcd1: exit 125: "
                        "Error response from daemon: Cannot pause container: "
                        "cgroups v1 not supported in rootless mode");
    g_clear_error(&e);
    assert_int_equal(tf_cluster_node_state(c, 0, NULL), TF_NODE_RUNNING);
    assert_null(tf_cluster_node_dir(c, 0));
    assert_true(tf_cluster_node_add(c, &e) < 0);
    g_clear_error(&e);

    gchar *tail = tf_cluster_node_log_tail(c, 0, TF_CLUSTER_LOG_STDERR, 30);
    assert_int_equal(strlen(tail), 30);
    assert_true(g_str_has_suffix(tail, "client requests\"}\n"));
    g_free(tail);
    g_free(calls(f)); /* forget them */

    tf_cluster_free(c); /* leaves the project running: no compose command */
    assert_calls(f, "");
    list = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    assert_true(tf_source_provider_list(p, list, &e));
    assert_int_equal(list->len, 0);
    g_ptr_array_unref(list);
    tf_source_provider_free(p);
    fake_free(f);
}

static void test_array_format_follow_only(void **state)
{
    (void)state;
    fake *f = fake_new("docker", "ps-v2.17-array.json");
    tf_cluster *c = compose("docker", NULL, NULL, 2);
    GError *e = NULL;
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    assert_calls(f, "compose -p tf-etcd ps -a --format json"); /* no file: no `up` */
    assert_states(c, "etcd1=running@http://127.0.0.1:12379 etcd2=running@http://127.0.0.1:22379 "
                     "etcd3=exited@-");
    tf_cluster_free(c);
    fake_free(f);
}

static void test_podman(void **state)
{
    (void)state;
    fake *f = fake_new("podman", "podman-ps.json");
    tf_cluster *c = compose("podman", "etcd-3.yml", "tf.role=etcd", 2);
    GError *e = NULL;
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    assert_calls(f, "compose -p tf-etcd -f etcd-3.yml up -d | "
                    "ps -a --format json --filter label=com.docker.compose.project=tf-etcd");
    assert_states(c, "etcd1=running@http://127.0.0.1:12379 etcd2=running@http://127.0.0.1:22379 "
                     "etcd3=exited@-");
    assert_true(tf_cluster_node_stop(c, 1, &e));
    assert_true(tf_cluster_node_start(c, 2, &e));
    assert_calls(f, "stop tf-etcd_etcd2_1 | start tf-etcd_etcd3_1");
    g_setenv("TF_FAKE_PAUSE_ERR", "Error: pause: this container does not have a cgroup", TRUE);
    assert_false(tf_cluster_node_pause(c, 0, &e));
    assert_string_equal(e->message, "compose/tf-etcd/etcd1: pause: podman pause tf-etcd_etcd1_1: "
                        "exit 125: Error: pause: this container does not have a cgroup");
    g_clear_error(&e);
    tf_cluster_free(c);
    fake_free(f);
}

/* Fails when a cluster was made where none should be, freeing it first. */
static void no_cluster(tf_cluster *c)
{
    if (c) {
        char where[256];
        g_strlcpy(where, tf_cluster_dir(c), sizeof where);
        tf_cluster_free(c);
        fail_msg("a cluster (%s) where an error was due", where);
    }
}

static void test_errors(void **state)
{
    (void)state;
    fake *f = fake_new(NULL, NULL);
    tf_compose_config cfg = {.project = "tf-etcd", .port = 2379};
    GError *e = NULL;
    no_cluster(tf_cluster_compose_new(&cfg, &e));
    assert_string_equal(e->message, "compose/tf-etcd: neither docker compose nor podman is usable: none is on PATH");
    g_clear_error(&e);
    cfg.engine = "lxc";
    no_cluster(tf_cluster_compose_new(&cfg, &e));
    assert_string_equal(e->message, "compose: engine 'lxc': use docker or podman");
    g_clear_error(&e);
    fake_free(f);

    /* a docker CLI without its compose plug-in (as on this machine) does not count */
    f = fake_new("docker", NULL);
    g_setenv("TF_FAKE_NO_COMPOSE", "1", TRUE);
    cfg.engine = NULL;
    no_cluster(tf_cluster_compose_new(&cfg, &e));
    g_unsetenv("TF_FAKE_NO_COMPOSE");
    assert_string_equal(e->message, "compose/tf-etcd: neither docker compose nor podman is usable "
                        "(docker: compose: docker compose version: exit 1: docker: 'compose' is not "
                        "a docker command.)");
    g_clear_error(&e);
    assert_true(g_file_set_contents(f->ps, "Error: no such project\nnot json\n", -1, NULL));
    tf_cluster *c = compose(NULL, NULL, NULL, 0);
    assert_false(tf_cluster_start(c, &e));
    assert_string_equal(e->message, "compose/tf-etcd: ps: line 1 is not a JSON object: Error: no such project");
    g_clear_error(&e);
    tf_cluster_free(c);

    /* three services, four wanted: the wait ends with what it saw */
    fake_ps(f, "ps-v2.24-running.ndjson");
    tf_compose_config four = {.project = "tf-etcd", .port = 2379, .label = "tf.role=etcd",
                              .expect = 4, .timeout_us = G_USEC_PER_SEC};
    c = tf_cluster_compose_new(&four, &e);
    assert_non_null(c);
    assert_false(tf_cluster_start(c, &e));
    assert_non_null(strstr(e->message, "compose/tf-etcd: not ready after "));
    assert_non_null(strstr(e->message, "(4 wanted): etcd1 running, etcd2 running, etcd3 running"));
    g_clear_error(&e);
    tf_cluster_free(c);
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ndjson_faults_and_follow),
        cmocka_unit_test(test_array_format_follow_only),
        cmocka_unit_test(test_podman),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
