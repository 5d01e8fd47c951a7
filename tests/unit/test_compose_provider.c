/* test_compose_provider.c: the compose backend of tf_cluster through stand-in commands.
 * Each test puts stand-in `docker`, `podman` and/or `podman-compose` scripts alone on PATH
 * in a temp dir (nothing installed on the host is found): they print what the real tools
 * printed (tests/unit/data/compose, see the README there: podman 4.3.1 and podman-compose
 * 1.0.3 recorded on this machine, Docker Compose v2 shapes from its source) and record
 * every command line they were asked to run, so the engine choice and faults are checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "tf/cluster.h"
#include "tf/error.h"
#include "../../tf/cluster/deploy_priv.h"
#include "../../tf/cluster/owner.h"

#define DATA TF_SOURCE_DIR "/tests/unit/data/compose/"

typedef struct {
    gchar *dir;
    gchar *log;      /* one command line per call: "PROGRAM ARGS..." */
    gchar *old_path;
} fake;

/* The stand-in. $TF_FAKE_DIR/ps.out is what any `ps` prints (ps.after.VERB replaces it
 * once a command with VERB among its arguments ran); net.out/vol.out what `network ls`/
 * `volume ls` print; fail.VERB makes such a command print that file on stderr and exit
 * 125; up.out and up.err are what `up` prints (exit 0, as podman-compose 1.0.3 does even
 * when podman failed). The engine probes answer as on this machine unless told otherwise. */
static const char *script =
    "#!/bin/sh\n"
    "D=\"$TF_FAKE_DIR\"\n"
    "P=\"${0##*/}\"\n"
    "echo \"$P $*\" >> \"$D/calls.log\"\n"
    "case \"$P $*\" in\n"
    "  'docker compose version')\n"
    "    [ -e \"$D/no-docker-compose\" ] && { echo 'docker: unknown command: docker compose' >&2; exit 1; }\n"
    "    echo 'Docker Compose version v2.24.6'; exit 0 ;;\n"
    "  'docker version --format {{.Server.Version}}')\n"
    "    [ -e \"$D/no-daemon\" ] && { echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1; }\n"
    "    echo 25.0.3; exit 0 ;;\n"
    "  'podman compose version')\n"
    "    [ -e \"$D/podman-compose-sub\" ] || { printf 'Error: unrecognized command `podman compose`\\nTry '\\''podman --help'\\'' for more information\\n' >&2; exit 125; }\n"
    "    echo 'podman-compose version 1.0.6'; exit 0 ;;\n"
    "esac\n"
    "echo \"CONTAINERS_CONF=$CONTAINERS_CONF TF_COMPOSE_OWNER=$TF_COMPOSE_OWNER\" > \"$D/env.last\"\n"
    "for f in \"$D\"/fail.*; do\n"
    "  [ -e \"$f\" ] || continue\n"
    "  case \" $* \" in *\" ${f##*/fail.} \"*) /bin/cat \"$f\" >&2; exit 125 ;; esac\n"
    "done\n"
    "for f in \"$D\"/ps.after.*; do\n"
    "  [ -e \"$f\" ] || continue\n"
    "  case \" $* \" in *\" ${f##*/ps.after.} \"*) /bin/mv \"$f\" \"$D/ps.out\" ;; esac\n"
    "done\n"
    "case \" $* \" in\n"
    "  *' up '*) [ -e \"$D/up.out\" ] && /bin/cat \"$D/up.out\"; [ -e \"$D/up.err\" ] && /bin/cat \"$D/up.err\" >&2\n"
    "           exit 0 ;;\n"
    "  *' network ls '*) [ -e \"$D/net.out\" ] && /bin/cat \"$D/net.out\"; exit 0 ;;\n"
    "  *' volume ls '*) [ -e \"$D/vol.out\" ] && /bin/cat \"$D/vol.out\"; exit 0 ;;\n"
    "  *' ps '*) /bin/cat \"$D/ps.out\" ;;\n"
    "  *' logs '*) echo 'stdout line'; echo '{\"level\":\"info\",\"msg\":\"ready to serve client requests\"}' >&2 ;;\n"
    "esac\n"
    "exit 0\n";

static gchar *path_in(fake *f, const char *name)
{
    return g_build_filename(f->dir, name, NULL);
}

/* Copies a fixture (or, with text, writes it) to DIR/name. */
static void put(fake *f, const char *name, const char *fixture, const char *text)
{
    gchar *src = fixture ? g_strconcat(DATA, fixture, NULL) : NULL, *body = NULL;
    if (src && !g_file_get_contents(src, &body, NULL, NULL))
        fail_msg("cannot read %s", src);
    gchar *dst = path_in(f, name);
    assert_true(g_file_set_contents(dst, body ? body : text, -1, NULL));
    g_free(dst);
    g_free(body);
    g_free(src);
}

static void drop(fake *f, const char *name)
{
    gchar *p = path_in(f, name);
    g_unlink(p);
    g_free(p);
}

/* A temp dir holding stand-ins for each of the space-separated programs, alone on PATH. */
static fake *fake_new(const char *programs, const char *ps_fixture)
{
    fake *f = g_new0(fake, 1);
    f->dir = g_dir_make_tmp("tf-compose-XXXXXX", NULL);
    f->log = path_in(f, "calls.log");
    gchar **progs = g_strsplit(programs, " ", -1);
    for (guint i = 0; progs[i]; i++) {
        if (!*progs[i])
            continue;
        gchar *bin = path_in(f, progs[i]);
        assert_true(g_file_set_contents(bin, script, -1, NULL));
        g_chmod(bin, 0755);
        g_free(bin);
    }
    g_strfreev(progs);
    put(f, "ps.out", ps_fixture, "[]\n");
    f->old_path = g_strdup(g_getenv("PATH"));
    g_setenv("PATH", f->dir, TRUE);
    g_setenv("TF_FAKE_DIR", f->dir, TRUE);
    return f;
}

/* The recorded command lines, joined by " | ", then forgotten (newly allocated). */
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
        gchar *p = path_in(f, name);
        g_unlink(p);
        g_free(p);
    }
    g_dir_close(d);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->log);
    g_free(f->old_path);
    g_free(f);
}

static gchar *states(tf_cluster *c)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < tf_cluster_size(c); i++) {
        const char *url = tf_cluster_node_url(c, i);
        g_string_append_printf(s, "%s%s=%s%s@%s", i ? " " : "", tf_cluster_node_name(c, i),
                               tf_node_state_name(tf_cluster_node_state(c, i, NULL)),
                               tf_cluster_node_isolated(c, i) ? "+isolated" : "", url ? url : "-");
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

/* Lists the provider's sources now (forcing no re-read) and frees them. */
static void list_sources(tf_source_provider *p, guint want)
{
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    GError *e = NULL;
    if (!tf_source_provider_list(p, list, &e))
        fail_msg("%s", e->message);
    assert_int_equal(list->len, want);
    g_ptr_array_unref(list);
}

#define DC "docker compose -p tf-etcd -f /src/etcd-3.yml "
#define PROBES "docker compose version | docker version --format {{.Server.Version}}"

static void test_docker_ndjson_faults_and_follow(void **state)
{
    (void)state;
    fake *f = fake_new("docker", "ps-v2.24-running.ndjson");
    tf_cluster *c = compose(NULL, "/src/etcd-3.yml", "tf.role=etcd", 3);
    GError *e = NULL;
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    /* the first ps tells what is there; docker compose's own `up -d` is quick and idempotent */
    assert_calls(f, PROBES " | " DC "ps -a --format json | " DC "up -d | " DC "ps -a --format json");
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
    assert_true(json_is_false(json_object_get(tf_source_attrs(src), "isolated")));
    tf_source_unref(src);

    assert_true(tf_cluster_node_stop(c, 1, &e));
    assert_int_equal(tf_cluster_node_state(c, 1, NULL), TF_NODE_STOPPED);
    assert_true(tf_cluster_node_kill(c, 1, &e)); /* already down: nothing to do, as locally */
    assert_true(tf_cluster_node_kill(c, 0, &e));
    assert_true(tf_cluster_node_start(c, 0, &e));
    assert_true(tf_cluster_node_pause(c, 2, &e));
    assert_int_equal(tf_cluster_node_state(c, 2, NULL), TF_NODE_PAUSED);
    assert_true(tf_cluster_node_resume(c, 2, &e));
    assert_true(tf_cluster_node_restart(c, 1, &e));
    assert_true(tf_cluster_node_pause(c, 2, &e));
    assert_calls(f, DC "stop etcd2 | " DC "kill etcd1 | " DC "start etcd1 | " DC "pause etcd3 | "
                    DC "unpause etcd3 | " DC "restart etcd2 | " DC "pause etcd3");

    /* etcd1 dies on its own (137, not asked), etcd2 is starting: the next listing re-reads.
     * A paused container keeps its published port; an exited one lists none. */
    put(f, "ps.out", "ps-v2.24-faults.ndjson", NULL);
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
    put(f, "ps.out", "ps-v2.24-running.ndjson", NULL);
    assert_true(tf_cluster_node_wait_ready(c, 0, 2 * G_USEC_PER_SEC, &e));
    assert_states(c, "etcd1=running@http://127.0.0.1:12379 etcd2=running@http://127.0.0.1:22379 "
                     "etcd3=running@http://127.0.0.1:32379");
    g_free(calls(f));

    /* isolating: the container leaves the networks ps listed it on and comes back under
     * its service name; docker drops the published port with the last network, but the
     * member stays running (unreachable, not down) at its URL */
    assert_true(tf_cluster_node_isolate(c, 2, &e));
    assert_true(tf_cluster_node_isolated(c, 2));
    assert_int_equal(tf_cluster_node_state(c, 2, NULL), TF_NODE_RUNNING);
    put(f, "ps.out", "ps-v2.24-isolated.ndjson", NULL);
    list_sources(p, 3);
    assert_states(c, "etcd1=running@http://127.0.0.1:12379 etcd2=running@http://127.0.0.1:22379 "
                     "etcd3=running+isolated@http://127.0.0.1:32379");
    src = tf_cluster_node_source(c, 2);
    assert_true(json_is_true(json_object_get(tf_source_attrs(src), "isolated")));
    assert_true(json_is_false(json_object_get(tf_source_attrs(src), "ready")));
    assert_string_equal(tf_source_attr_str(src, "state"), "running");
    tf_source_unref(src);
    assert_false(tf_cluster_node_wait_ready(c, 2, 100 * 1000, &e)); /* cut off: not ready */
    assert_non_null(strstr(e->message, "etcd3 running (isolated)"));
    g_clear_error(&e);
    assert_true(tf_cluster_node_rejoin(c, 2, &e));
    assert_false(tf_cluster_node_isolated(c, 2));
    put(f, "ps.out", "ps-v2.24-running.ndjson", NULL);
    assert_true(tf_cluster_node_wait_ready(c, 2, 2 * G_USEC_PER_SEC, &e));
    gchar *got = calls(f);
    assert_true(g_str_has_prefix(got, "docker network disconnect tf-etcd_default tf-etcd-etcd3-1 | "));
    assert_non_null(strstr(got, "docker network connect --alias etcd3 tf-etcd_default tf-etcd-etcd3-1"));
    g_free(got);

    /* an engine that cannot pause says so, with its own words */
    put(f, "fail.pause", NULL, "Error response from daemon: Cannot pause container: "
                               "cgroups v1 not supported in rootless mode\n");
    assert_false(tf_cluster_node_pause(c, 0, &e));
    assert_string_equal(e->message, "compose/tf-etcd/etcd1: pause: " DC "pause etcd1: exit 125: "
                        "Error response from daemon: Cannot pause container: "
                        "cgroups v1 not supported in rootless mode");
    g_clear_error(&e);
    drop(f, "fail.pause");
    assert_int_equal(tf_cluster_node_state(c, 0, NULL), TF_NODE_RUNNING);
    /* what a deployment cannot do: nothing on disk, no pid of ours, no partial faults */
    assert_null(tf_cluster_node_dir(c, 0));
    assert_null(tf_cluster_node_argv(c, 0));
    assert_null(tf_cluster_node_log_path(c, 0, TF_CLUSTER_LOG_STDERR));
    assert_null(tf_cluster_node_address(c, 0));
    assert_null(tf_cluster_keep_logs(c));
    assert_int_equal(tf_cluster_node_pid(c, 0), 0);
    int status = -1;
    assert_int_equal(tf_cluster_node_state(c, 0, &status), TF_NODE_RUNNING);
    assert_int_equal(status, 0);
    assert_true(tf_cluster_node_add(c, &e) < 0);
    assert_string_equal(e->message, "compose/tf-etcd: adding a member is not supported by this "
                                    "environment");
    g_clear_error(&e);
    assert_null(tf_cluster_expand(c, 0, "{dir}", &e));
    assert_string_equal(e->message, "compose/tf-etcd: template expansion is not supported by "
                                    "this environment");
    g_clear_error(&e);
    guint groups[] = {0, 0, 1};
    assert_false(tf_cluster_partition(c, groups, 3, &e));
    assert_string_equal(e->message, "compose/tf-etcd: partitioning the network is not supported "
                                    "by this environment");
    g_clear_error(&e);
    assert_false(tf_cluster_cut(c, 0, 1, &e));
    assert_non_null(strstr(e->message, "a one-way cut is not supported"));
    g_clear_error(&e);
    assert_false(tf_cluster_node_lose(c, 0, 0.5, &e));
    assert_non_null(strstr(e->message, "packet loss is not supported"));
    g_clear_error(&e);
    assert_false(tf_cluster_node_delay(c, 0, 1000, &e));
    assert_non_null(strstr(e->message, "delaying packets is not supported"));
    g_clear_error(&e);
    assert_false(tf_cluster_node_unobserve(c, 0, &e));
    assert_non_null(strstr(e->message, "cutting the observer off is not supported"));
    g_clear_error(&e);
    assert_true(tf_cluster_heal(c, &e)); /* nothing isolated: nothing to do */
    assert_int_equal(tf_cluster_faults_active(c), 0);
    g_free(calls(f));

    gchar *tail = tf_cluster_node_log_tail(c, 0, TF_CLUSTER_LOG_STDERR, 30);
    assert_int_equal(strlen(tail), 30);
    assert_true(g_str_has_suffix(tail, "client requests\"}\n"));
    g_free(tail);
    g_free(calls(f));

    tf_cluster_free(c); /* leaves the project running: no compose command */
    assert_calls(f, "");
    list_sources(p, 0);
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
    assert_calls(f, PROBES " | docker compose -p tf-etcd ps -a --format json"); /* no file: no `up` */
    assert_states(c, "etcd1=running@http://127.0.0.1:12379 etcd2=running@http://127.0.0.1:22379 "
                     "etcd3=exited@-");
    /* no Networks in this format: whether a member is cut off is what tf did to it */
    assert_true(tf_cluster_node_isolate(c, 0, &e));
    g_free(calls(f));
    tf_source_provider *p = tf_cluster_provider(c);
    list_sources(p, 3);
    assert_true(tf_cluster_node_isolated(c, 0));
    tf_source_provider_free(p);
    tf_cluster_free(c);
    fake_free(f);
}

#define PODMAN_SKIPS "skipped docker: docker compose version: exit 1: docker: unknown " \
                     "command: docker compose; podman: podman compose version: exit 125: Error: " \
                     "unrecognized command `podman compose`"
#define PS_PROJECT "podman ps -a --format json --filter label=com.docker.compose.project=tf-etcd"
#define PC_UP "podman-compose -p tf-etcd -f etcd-3.yml up -d"

/* Recorded podman 4.3 / podman-compose 1.0.3: the engine choice on a machine like this one,
 * a first `up`, each fault on the containers, and a later start that only brings back
 * what the previous scenario left (no second `up`: podman-compose would take seconds). */
static void test_podman_compose_recorded(void **state)
{
    (void)state;
    fake *f = fake_new("docker podman podman-compose", NULL);
    put(f, "no-docker-compose", NULL, "");
    put(f, "ps.after.up", "podman-4.3-ps-running.json", NULL);
    const char *env[] = {"CONTAINERS_CONF=/etc/tf-test.conf", NULL};
    tf_compose_config cfg = {.project = "tf-etcd", .file = "etcd-3.yml", .label = "tf.role=etcd",
                             .port = 2379, .expect = 3, .timeout_us = 5 * G_USEC_PER_SEC,
                             .env = env};
    GError *e = NULL;
    tf_cluster *c = tf_cluster_compose_new(&cfg, &e);
    if (!c)
        fail_msg("%s", e->message);
    assert_string_equal(tf_cluster_dir(c), "podman-compose project tf-etcd (" PODMAN_SKIPS ")");
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    assert_calls(f, "docker compose version | podman compose version | " PS_PROJECT " | " PC_UP
                    " | " PS_PROJECT);
    gchar *env_seen = NULL;
    gchar *envp = path_in(f, "env.last");
    assert_true(g_file_get_contents(envp, &env_seen, NULL, NULL));
    assert_string_equal(env_seen, "CONTAINERS_CONF=/etc/tf-test.conf TF_COMPOSE_OWNER=\n");
    g_free(env_seen);
    g_free(envp);
    assert_states(c, "etcd1=running@http://127.0.0.1:12379 etcd2=running@http://127.0.0.1:22379 "
                     "etcd3=running@http://127.0.0.1:32379");

    assert_true(tf_cluster_node_pause(c, 0, &e));
    assert_true(tf_cluster_node_kill(c, 1, &e));
    assert_true(tf_cluster_node_isolate(c, 2, &e));
    assert_calls(f, "podman pause tf-etcd_etcd1_1 | podman kill tf-etcd_etcd2_1 | "
                    "podman network disconnect tf-etcd_default tf-etcd_etcd3_1");
    /* what ps then said: podman still lists the port of the disconnected container (its
     * connections hang); it is on no network */
    put(f, "ps.out", "podman-4.3-ps-faults.json", NULL);
    tf_source_provider *p = tf_cluster_provider(c);
    list_sources(p, 3);
    assert_states(c, "etcd1=paused@http://127.0.0.1:12379 etcd2=stopped@- "
                     "etcd3=running+isolated@http://127.0.0.1:32379");
    assert_true(tf_cluster_node_kill(c, 1, &e)); /* down already: podman would refuse */
    /* a fault that does not fit: podman's own words */
    put(f, "fail.pause", "podman-4.3-pause-exited.stderr", NULL);
    assert_false(tf_cluster_node_pause(c, 1, &e));
    assert_string_equal(e->message, "compose/tf-etcd/etcd2: pause: podman pause tf-etcd_etcd2_1: exit 125: "
                        "Error: \"exited\" is not running, can't pause: container state improper");
    g_clear_error(&e);
    drop(f, "fail.pause");
    g_free(calls(f));
    tf_source_provider_free(p);
    tf_cluster_free(c);

    /* The next scenario: every member is there, so no `up`: each is brought back. */
    c = tf_cluster_compose_new(&cfg, &e);
    if (!c)
        fail_msg("%s", e->message);
    g_free(calls(f));
    put(f, "fail.up", NULL, "up must not run\n");
    put(f, "ps.after.connect", "podman-4.3-ps-running.json", NULL);
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    assert_calls(f, PS_PROJECT " | podman unpause tf-etcd_etcd1_1 | podman start tf-etcd_etcd2_1 | "
                    "podman network connect --alias etcd3 tf-etcd_default tf-etcd_etcd3_1 | " PS_PROJECT);
    tf_cluster_free(c);
    fake_free(f);
}

/* What the user reads when podman cannot start the containers with their configuration:
 * podman-compose exits 0 and leaves them "created" (recorded with rlimits above the hard
 * limit, as podman's defaults are for CI sessions here). */
static void test_podman_cannot_start(void **state)
{
    (void)state;
    fake *f = fake_new("podman-compose podman", NULL);
    put(f, "up.out", "podman-compose-1.0.3-up-noulimit.stdout", NULL);
    put(f, "up.err", "podman-compose-1.0.3-up-noulimit.stderr", NULL);
    put(f, "ps.after.up", "podman-4.3-ps-not-started.json", NULL);
    tf_cluster *c = compose(NULL, "etcd-3.yml", NULL, 3);
    GError *e = NULL;
    assert_false(tf_cluster_start(c, &e));
    assert_true(g_str_has_prefix(e->message, "compose/tf-etcd: podman-compose up -d left etcd1, etcd2, "
                                 "etcd3 created but not running: Error: runc: runc create failed: "
                                 "unable to start container process: error during container init: "
                                 "error setting rlimits for ready process: error setting rlimit type 7: "
                                 "operation not permitted: OCI permission denied; Error: unable to start "
                                 "container \""));
    assert_non_null(strstr(e->message, "(the engine asks for more open files or processes than this "
                                       "session's hard limits allow: lower default_ulimits in a "
                                       "containers.conf passed with CONTAINERS_CONF"));
    g_clear_error(&e);
    /* a member that will not start later says why too */
    put(f, "fail.start", NULL, "Error: unable to start container \"x\": runc: runc create failed: "
                               "error setting rlimit type 7: operation not permitted\n");
    assert_false(tf_cluster_node_start(c, 0, &e));
    assert_non_null(strstr(e->message, "error setting rlimit type 7: operation not permitted (the "
                                       "engine asks for more open files"));
    g_clear_error(&e);
    tf_cluster_free(c);
    fake_free(f);
}

/* Preference: docker compose (plug-in and daemon), podman compose, podman-compose;
 * TF_COMPOSE_ENGINE's values force one; each skip says why. */
static void test_engine_preference(void **state)
{
    (void)state;
    tf_compose_engine eng;
    GError *e = NULL;
    fake *f = fake_new("docker podman podman-compose", NULL);
    assert_true(tf_compose_engine_pick(NULL, NULL, &eng, &e));
    assert_string_equal(eng.name, "docker");
    assert_null(eng.skipped);
    tf_compose_engine_clear(&eng);

    put(f, "no-daemon", NULL, ""); /* the docker CLI is there, its daemon is not */
    put(f, "podman-compose-sub", NULL, "");
    assert_true(tf_compose_engine_pick(NULL, NULL, &eng, &e));
    assert_string_equal(eng.name, "podman");
    assert_string_equal(eng.cli, "podman");
    assert_string_equal(eng.skipped, "docker: docker version --format {{.Server.Version}}: exit 1: "
                        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the "
                        "docker daemon running? (no daemon answers)");
    const char *up[] = {"up", "-d", NULL};
    gchar **argv = tf_compose_project_argv(&eng, "p", NULL, up);
    gchar *joined = g_strjoinv(" ", argv);
    assert_string_equal(joined, "podman compose -p p up -d");
    g_free(joined);
    g_strfreev(argv);
    tf_compose_engine_clear(&eng);

    assert_true(tf_compose_engine_pick("podman-compose", NULL, &eng, &e)); /* forced */
    assert_string_equal(eng.name, "podman-compose");
    assert_null(eng.skipped);
    tf_compose_engine_clear(&eng);
    assert_false(tf_compose_engine_pick("docker", NULL, &eng, &e));
    assert_true(g_str_has_prefix(e->message, "compose: engine docker is not usable: docker: docker "
                                 "version --format {{.Server.Version}}: exit 1: Cannot connect"));
    g_clear_error(&e);
    assert_false(tf_compose_engine_pick("lxc", NULL, &eng, &e));
    assert_string_equal(e->message, "compose: engine 'lxc': use docker, podman or podman-compose");
    g_clear_error(&e);
    fake_free(f);

    f = fake_new("", NULL); /* nothing at all */
    assert_false(tf_compose_engine_pick(NULL, NULL, &eng, &e));
    assert_string_equal(e->message, "compose: no usable engine (docker compose, podman compose, "
                        "podman-compose): docker: docker is not on PATH; podman: podman is not on "
                        "PATH; podman-compose: podman-compose is not on PATH");
    g_clear_error(&e);
    tf_compose_config cfg = {.project = "tf-etcd", .port = 2379};
    assert_null(tf_cluster_compose_new(&cfg, &e));
    assert_true(g_str_has_prefix(e->message, "compose/tf-etcd: compose: no usable engine"));
    g_clear_error(&e);
    fake_free(f);
}

/* A token of a process that has ended (newly allocated). */
static gchar *dead_token(void)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char b;
        close(fds[1]);
        _exit(read(fds[0], &b, 1) < 0);
    }
    close(fds[0]);
    gchar *token = tf_owner_token_of(pid);
    assert_non_null(token);
    close(fds[1]); /* the child reads EOF and ends */
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(tf_owner_token_state(token), TF_OWNER_DEAD);
    return token;
}

/* Replaces every owner token of a recorded fixture by one of ours, in order. */
static gchar *with_owners(const char *fixture, const char *recorded, const char *const *owners)
{
    gchar *path = g_strconcat(DATA, fixture, NULL), *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_free(path);
    gchar **parts = g_strsplit(text, recorded, -1);
    GString *s = g_string_new(parts[0]);
    for (guint i = 1; parts[i]; i++) {
        assert_non_null(owners[i - 1]);
        g_string_append(s, owners[i - 1]);
        g_string_append(s, parts[i]);
    }
    g_strfreev(parts);
    g_free(text);
    return g_string_free(s, FALSE);
}

/* The owner of the recorded fixtures (a token of the recording script's shell). */
#define RECORDED_OWNER "85daeeb6-4026531836-31748-112763"

static void test_sweep_dead_owners_only(void **state)
{
    (void)state;
    fake *f = fake_new("podman", NULL);
    gchar *dead = dead_token();
    const char *live = tf_owner_token();
    /* containers: etcd1 a dead run's, etcd2 a live run's, etcd3 a user's; network: dead;
     * volume: live */
    const char *ps_owners[] = {dead, live, "user"};
    gchar *ps = with_owners("podman-4.3-ps-running.json", RECORDED_OWNER, ps_owners);
    put(f, "ps.out", NULL, ps);
    const char *net_owners[] = {dead};
    gchar *net = with_owners("podman-4.3-network-ls.json", RECORDED_OWNER, net_owners);
    put(f, "net.out", NULL, net);
    const char *vol_owners[] = {live};
    gchar *vol = with_owners("podman-4.3-volume-ls.json", RECORDED_OWNER, vol_owners);
    put(f, "vol.out", NULL, vol);
    GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
    GError *e = NULL;
    assert_true(tf_compose_sweep("podman", NULL, removed, &e));
    assert_calls(f, "podman ps -a --format json --filter label=tf.owner | "
                    "podman rm -f -v -t 0 tf-etcd_etcd1_1 | "
                    "podman network ls --format json --filter label=tf.owner | "
                    "podman network rm tf-etcd_default | "
                    "podman volume ls --format json --filter label=tf.owner");
    assert_int_equal(removed->len, 2);
    gchar *want = g_strdup_printf("container tf-etcd_etcd1_1 (owner %s)", dead);
    assert_string_equal(removed->pdata[0], want);
    g_free(want);
    want = g_strdup_printf("network tf-etcd_default (owner %s)", dead);
    assert_string_equal(removed->pdata[1], want);
    g_free(want);
    g_ptr_array_unref(removed);

    /* docker: one object per line, labels as "k=v,k=v" */
    fake_free(f);
    f = fake_new("docker", NULL);
    gchar *dead_l = g_strconcat("tf.owner=", dead, NULL), *live_l = g_strconcat("tf.owner=", live, NULL);
    const char *d_owners[] = {dead_l, live_l, dead_l};
    gchar *dps = with_owners("ps-v2.24-running.ndjson", "tf.owner=user", d_owners);
    g_free(dead_l);
    g_free(live_l);
    put(f, "ps.out", NULL, dps);
    assert_true(tf_compose_sweep("docker", NULL, NULL, &e));
    assert_calls(f, "docker ps -a --format json --filter label=tf.owner | "
                    "docker rm -f -v tf-etcd-etcd1-1 tf-etcd-etcd3-1 | "
                    "docker network ls --format json --filter label=tf.owner | "
                    "docker volume ls --format json --filter label=tf.owner");
    /* an engine that cannot list says so */
    put(f, "fail.ps", NULL, "Cannot connect to the Docker daemon\n");
    assert_false(tf_compose_sweep("docker", NULL, NULL, &e));
    assert_string_equal(e->message, "compose: container list: docker ps -a --format json --filter "
                        "label=tf.owner: exit 125: Cannot connect to the Docker daemon");
    g_clear_error(&e);
    g_free(dps);
    g_free(ps);
    g_free(net);
    g_free(vol);
    g_free(dead);
    fake_free(f);
}

static void test_remove_project(void **state)
{
    (void)state;
    fake *f = fake_new("podman", "podman-4.3-ps-stopped.json");
    put(f, "net.out", "podman-4.3-network-ls.json", NULL);
    put(f, "vol.out", "podman-4.3-volume-ls.json", NULL);
    GError *e = NULL;
    assert_true(tf_compose_remove_project("podman", NULL, "tf-etcd", &e));
#define LBL "--filter label=com.docker.compose.project=tf-etcd"
    assert_calls(f, "podman ps -a --format json " LBL " | "
                    "podman rm -f -v -t 0 tf-etcd_etcd1_1 tf-etcd_etcd2_1 tf-etcd_etcd3_1 | "
                    "podman network ls --format json " LBL " | podman network rm tf-etcd_default | "
                    "podman volume ls --format json " LBL " | podman volume rm tf-etcd_extra");
    fake_free(f);
}

static gpointer start_in_thread(gpointer c)
{
    GError *e = NULL;
    gboolean ok = tf_cluster_start(c, &e);
    gchar *msg = ok ? NULL : g_strdup(e->message);
    g_clear_error(&e);
    return msg;
}

/* A step that timed out is abandoned by the runner, which then frees the world and its
 * cluster while the step may still wait in tf_cluster_start: the wait ends, saying why,
 * and nothing it uses is freed under it (ASan: it was, found by a soak run). */
static void test_free_while_starting(void **state)
{
    (void)state;
    fake *f = fake_new("docker", NULL); /* ps lists nothing: a start that would wait */
    tf_cluster *c = compose("docker", NULL, NULL, 3);
    GThread *t = g_thread_new("start", start_in_thread, c);
    while (!g_file_test(f->log, G_FILE_TEST_EXISTS)) /* the probes ran: it is starting */
        g_usleep(10 * 1000);
    g_usleep(100 * 1000); /* now it waits (or still lists: either way, inside the start) */
    tf_cluster_free(c);
    gchar *msg = g_thread_join(t);
    assert_non_null(msg);
    assert_string_equal(msg, "compose/tf-etcd: stopped following it while waiting (0 of 3 ready): "
                        "no members found");
    g_free(msg);
    fake_free(f);
}

static void test_errors(void **state)
{
    (void)state;
    fake *f = fake_new("docker", NULL);
    tf_compose_config cfg = {.project = "tf-etcd", .port = 2379, .engine = "lxc"};
    GError *e = NULL;
    assert_null(tf_cluster_compose_new(&cfg, &e));
    assert_string_equal(e->message, "compose/tf-etcd: compose: engine 'lxc': use docker, podman or podman-compose");
    g_clear_error(&e);
    cfg.engine = NULL;
    cfg.owner = "85daeeb6-1-1-1"; /* not a live process */
    assert_null(tf_cluster_compose_new(&cfg, &e));
    assert_string_equal(e->message, "compose/tf-etcd: owner '85daeeb6-1-1-1' is not a live process's "
                        "token (tf_owner_token)");
    g_clear_error(&e);
    cfg.owner = NULL;

    put(f, "ps.out", NULL, "Error: no such project\nnot json\n");
    tf_cluster *c = compose(NULL, NULL, NULL, 0);
    assert_false(tf_cluster_start(c, &e));
    assert_string_equal(e->message, "compose/tf-etcd: ps: line 1 is not a JSON object: Error: no such project");
    g_clear_error(&e);
    tf_cluster_free(c);

    /* three services, four wanted: the wait ends with what it saw */
    put(f, "ps.out", "ps-v2.24-running.ndjson", NULL);
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
        cmocka_unit_test(test_docker_ndjson_faults_and_follow),
        cmocka_unit_test(test_array_format_follow_only),
        cmocka_unit_test(test_podman_compose_recorded),
        cmocka_unit_test(test_podman_cannot_start),
        cmocka_unit_test(test_engine_preference),
        cmocka_unit_test(test_sweep_dead_owners_only),
        cmocka_unit_test(test_remove_project),
        cmocka_unit_test(test_free_while_starting),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
