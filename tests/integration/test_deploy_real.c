/* test_deploy_real.c: the compose backend against real containers on this machine.
 *
 * Compose: the engine tf picks (docker compose, podman compose, podman-compose), the local
 * etcd image of scripts/build-etcd-image.sh (no registry is needed) and the project's own
 * scenarios/deploy/compose/containers.conf, passed through CONTAINERS_CONF to the engine's
 * commands only. Each project gets a unique name and free client ports, is labelled with
 * this process as its owner, and is removed after its test, also when it fails; what a
 * killed run of this test left is removed by the next (tf_compose_sweep), what a live one
 * owns never. Skipped (77, with the reason) only where no engine can run a container at
 * all, and never under CI=true: this machine installs podman for it. The Kubernetes
 * backend against a live API server is test_k8s_live (none is packaged here). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <glib.h>
#include "tf/cluster.h"
#include "tf/error.h"
#include "tf/http.h"
#include <glib/gstdio.h>
#include "../../tf/cluster/cluster_priv.h"
#include "../../tf/cluster/deploy_priv.h"
#include "../../tf/cluster/owner.h"
#include "skip.h"

#define COMPOSE_DIR TF_SOURCE_DIR "/scenarios/deploy/compose"
#define COMPOSE_FILE COMPOSE_DIR "/etcd-3.yml"
/* Bounds: a run that hangs fails here, with its output, well before ctest's 300 s. */
#define RUN_TIMEOUT "200"
#define READY_US (90 * G_USEC_PER_SEC)

/* ---- the engine and image, found once ------------------------------------------------- */

typedef struct {
    gboolean ready;          /* an engine runs containers of the image */
    gchar *why;              /* else why not */
    tf_compose_engine eng;
    gchar *image;
    gchar *conf;             /* CONTAINERS_CONF=... */
} live_env;

static live_env live;

/* Runs argv with CONTAINERS_CONF; TRUE when it exited 0, else why in *why. */
static gboolean works(char **argv, gchar **out, gchar **why)
{
    GError *e = NULL;
    const char *env[] = {live.conf, NULL};
    if (tf_deploy_run_env("probe", argv, env, out, NULL, &e))
        return TRUE;
    *why = g_strdup(e->message);
    g_error_free(e);
    return FALSE;
}

static int group_setup(void **state)
{
    (void)state;
    live.conf = g_strdup("CONTAINERS_CONF=" COMPOSE_DIR "/containers.conf");
    const char *env[] = {live.conf, NULL};
    GError *e = NULL;
    if (!tf_compose_engine_pick(g_getenv("TF_COMPOSE_ENGINE"), env, &live.eng, &e)) {
        live.why = g_strdup(e->message);
        g_error_free(e);
        return 0;
    }
    /* the published image when the user names one, else the local one (no registry) */
    const char *named = g_getenv("TF_ETCD_IMAGE");
    gchar *out = NULL;
    if (named && *named) {
        live.image = g_strdup(named);
    } else {
        gchar *engine = g_strdup_printf("ENGINE=%s", live.eng.cli);
        char *argv[] = {"/usr/bin/env", engine, TF_SOURCE_DIR "/scripts/build-etcd-image.sh", NULL};
        if (!works(argv, &out, &live.why)) {
            g_free(engine);
            return 0;
        }
        g_free(engine);
        live.image = g_strdup(g_strstrip(out));
        g_free(out);
        out = NULL;
    }
    char *run[] = {(char *)live.eng.cli, "run", "--rm", "--network=none", live.image,
                   "/usr/local/bin/etcd", "--version", NULL};
    if (!works(run, &out, &live.why)) {
        gchar *w = g_strdup_printf("%s cannot run a container here: %s", live.eng.cli, live.why);
        g_free(live.why);
        live.why = w;
        return 0;
    }
    g_free(out);
    live.ready = TRUE;
    print_message("compose: %s%s%s%s, image %s\n", live.eng.name, live.eng.skipped ? " (skipped " : "",
                  live.eng.skipped ? live.eng.skipped : "", live.eng.skipped ? ")" : "", live.image);
    /* what killed runs of this test left: theirs to lose, never a live run's */
    GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
    if (!tf_compose_sweep(live.eng.cli, env, removed, &e))
        fail_msg("sweep: %s", e->message);
    for (guint i = 0; i < removed->len; i++)
        print_message("removed %s: left by a run that died\n", (char *)removed->pdata[i]);
    g_ptr_array_unref(removed);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tf_compose_engine_clear(&live.eng);
    g_free(live.why);
    g_free(live.image);
    g_free(live.conf);
    return 0;
}

/* TRUE when an engine runs containers here; else the case is skipped with the reason
 * (a failure under CI=true: install-deps.sh installs podman for it). */
static gboolean need_engine(const char *what)
{
    if (!live.ready)
        tf_test_skip(TF_NEED_REQUIRED, "%s: no container engine runs here: %s", what, live.why);
    return TRUE;
}

/* ---- one project per case -------------------------------------------------------------- */

typedef struct {
    gchar *name;       /* "tf-it-PID-WHAT": no two runs share it */
    guint ports[3];
    gchar **env;       /* for the engine's commands and tf run */
} project;

static project *project_new(const char *what)
{
    project *p = g_new0(project, 1);
    p->name = g_strdup_printf("tf-it-%d-%s", (int)getpid(), what);
    GPtrArray *env = g_ptr_array_new();
    g_ptr_array_add(env, g_strdup(live.conf));
    g_ptr_array_add(env, g_strdup_printf("TF_ETCD_IMAGE=%s", live.image));
    for (guint i = 0; i < 3; i++) {
        GError *e = NULL;
        p->ports[i] = tf_cluster_port_take(&e);
        if (!p->ports[i])
            fail_msg("%s", e->message);
        g_ptr_array_add(env, g_strdup_printf("TF_ETCD%u_PORT=%u", i + 1, p->ports[i]));
    }
    g_ptr_array_add(env, NULL);
    p->env = (gchar **)g_ptr_array_free(env, FALSE);
    return p;
}

/* What the engine lists of the project now: its containers (what = "ps") or networks
 * ("network"), a JSON array (new ref). */
static json_t *listed(project *p, const char *what)
{
    gchar *filter = g_strdup_printf("label=com.docker.compose.project=%s", p->name);
    gboolean ps = !strcmp(what, "ps");
    char *argv[] = {(char *)live.eng.cli, (char *)what, ps ? "-a" : "ls", "--format", "json",
                    "--filter", filter, NULL};
    gchar *out = NULL, *why = NULL;
    if (!works(argv, &out, &why))
        fail_msg("%s", why);
    GError *e = NULL;
    json_t *arr = tf_compose_parse_list("test", what, out, &e);
    if (!arr)
        fail_msg("%s", e->message);
    g_free(out);
    g_free(filter);
    return arr;
}

/* Removes the project (teardown: runs after a failed case too) and checks nothing is left. */
static int project_teardown(void **state)
{
    project *p = *state;
    if (!p)
        return 0;
    GError *e = NULL;
    if (!tf_compose_remove_project(live.eng.cli, (const char *const *)p->env, p->name, &e)) {
        print_message("cleanup of %s: %s\n", p->name, e->message);
        g_error_free(e);
        return -1;
    }
    json_t *cs = listed(p, "ps"), *ns = listed(p, "network");
    int left = (int)(json_array_size(cs) + json_array_size(ns));
    json_decref(cs);
    json_decref(ns);
    g_strfreev(p->env);
    g_free(p->name);
    g_free(p);
    *state = NULL;
    return left ? -1 : 0;
}

static gboolean health_ok(tf_http *http, const char *url)
{
    gchar *h = g_strconcat(url, "/health", NULL);
    json_t *j = tf_http_json(http, "health", h, NULL, G_USEC_PER_SEC, NULL);
    g_free(h);
    gboolean ok = j && !g_strcmp0(json_string_value(json_object_get(j, "health")), "true");
    json_decref(j);
    return ok;
}

/* The member id of the leader node i knows of, or NULL (newly allocated). */
static gchar *leader_seen(tf_http *http, tf_cluster *c, guint i, gchar **self)
{
    gchar *url = g_strconcat(tf_cluster_node_url(c, i), "/v3/maintenance/status", NULL);
    json_t *body = json_object();
    json_t *j = tf_http_json(http, "status", url, body, G_USEC_PER_SEC, NULL);
    json_decref(body);
    g_free(url);
    const char *leader = json_string_value(json_object_get(j, "leader"));
    if (self)
        *self = g_strdup(json_string_value(json_object_get(json_object_get(j, "header"), "member_id")));
    gchar *out = leader && strcmp(leader, "0") ? g_strdup(leader) : NULL;
    json_decref(j);
    return out;
}

/* Polls (this test's own check, outside tf's runtime) until pred holds or 20 s pass. */
typedef gboolean (*check_fn)(tf_http *http, tf_cluster *c, void *data);
static gboolean eventually(check_fn pred, tf_http *http, tf_cluster *c, void *data)
{
    for (gint64 until = g_get_monotonic_time() + 20 * G_USEC_PER_SEC; g_get_monotonic_time() < until;
         g_usleep(100 * 1000))
        if (pred(http, c, data))
            return TRUE;
    return FALSE;
}

typedef struct {
    guint cut;        /* the isolated member */
    gchar *old;       /* its member id (the old leader) */
} isolation;

/* Some member says it leads: it becomes the one to cut off. */
static gboolean found_leader(tf_http *http, tf_cluster *c, void *data)
{
    isolation *iso = data;
    for (guint i = 0; i < 3 && !iso->old; i++) {
        gchar *self = NULL, *l = leader_seen(http, c, i, &self);
        if (l && !g_strcmp0(l, self)) {
            iso->cut = i;
            iso->old = g_strdup(l);
        }
        g_free(l);
        g_free(self);
    }
    return iso->old != NULL;
}

/* The two others agree on a leader that is not the isolated old one. */
static gboolean others_elected(tf_http *http, tf_cluster *c, void *data)
{
    isolation *iso = data;
    gchar *seen[2] = {NULL, NULL};
    for (guint i = 0, k = 0; i < 3; i++)
        if (i != iso->cut)
            seen[k++] = leader_seen(http, c, i, NULL);
    gboolean ok = seen[0] && !g_strcmp0(seen[0], seen[1]) && strcmp(seen[0], iso->old);
    g_free(seen[0]);
    g_free(seen[1]);
    return ok;
}

/* The rejoined member follows some leader again. */
static gboolean knows_leader(tf_http *http, tf_cluster *c, void *data)
{
    gchar *l = leader_seen(http, c, ((isolation *)data)->cut, NULL);
    g_free(l);
    return l != NULL;
}

/* The cluster API on real containers: start, kill/start, pause/resume, and a member cut
 * off the network: it stays running (unreachable, not down) while the others elect a new
 * leader, and comes back as a follower. */
static void test_compose_api(void **state)
{
    if (!need_engine("compose api")) {
        skip();
        return;
    }
    project *p = *state = project_new("api");
    tf_compose_config cfg = {.project = p->name, .file = COMPOSE_FILE, .port = 2379,
                             .engine = live.eng.name, .expect = 3, .timeout_us = READY_US,
                             .env = (const char *const *)p->env, .owner = tf_owner_token()};
    GError *e = NULL;
    tf_cluster *c = tf_cluster_compose_new(&cfg, &e);
    if (!c)
        fail_msg("%s", e->message);
    if (!tf_cluster_start(c, &e))
        fail_msg("%s", e->message);
    assert_int_equal(tf_cluster_size(c), 3);
    tf_http *http = tf_http_new();
    for (guint i = 0; i < 3; i++) {
        gchar *want = g_strdup_printf("http://127.0.0.1:%u", p->ports[i]);
        assert_string_equal(tf_cluster_node_url(c, i), want);
        g_free(want);
    }
    /* everything the project made carries this process as its owner */
    json_t *cs = listed(p, "ps");
    assert_int_equal(json_array_size(cs), 3);
    size_t k;
    json_t *o;
    json_array_foreach(cs, k, o) {
        gchar *tmp = NULL;
        assert_string_equal(tf_compose_label(o, TF_COMPOSE_OWNER_LABEL, &tmp), tf_owner_token());
        g_free(tmp);
    }
    json_decref(cs);

    /* the leader cut off */
    isolation iso = {0};
    if (!eventually(found_leader, http, c, &iso)) /* ready members may still be electing */
        fail_msg("no member says it leads within 20 s");
    assert_true(tf_cluster_node_isolate(c, iso.cut, &e));
    assert_true(tf_cluster_node_isolated(c, iso.cut));
    assert_int_equal(tf_cluster_node_state(c, iso.cut, NULL), TF_NODE_RUNNING);
    tf_source *src = tf_cluster_node_source(c, iso.cut);
    assert_string_equal(tf_source_attr_str(src, "state"), "running");
    assert_true(json_is_true(json_object_get(tf_source_attrs(src), "isolated")));
    tf_source_unref(src);
    assert_false(health_ok(http, tf_cluster_node_url(c, iso.cut))); /* unreachable */
    if (!eventually(others_elected, http, c, &iso))
        fail_msg("the two connected members elected no new leader within 20 s");
    /* a fresh listing from the engine says the same: running, on no network */
    tf_source_provider *prov = tf_cluster_provider(c);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    assert_true(tf_source_provider_list(prov, list, &e));
    assert_string_equal(tf_source_attr_str(list->pdata[iso.cut], "state"), "running");
    assert_true(json_is_true(json_object_get(tf_source_attrs(list->pdata[iso.cut]), "isolated")));
    g_ptr_array_unref(list);
    tf_source_provider_free(prov);
    assert_true(tf_cluster_node_rejoin(c, iso.cut, &e));
    assert_false(tf_cluster_node_isolated(c, iso.cut));
    if (!tf_cluster_node_wait_ready(c, iso.cut, READY_US, &e))
        fail_msg("%s", e->message);
    if (!eventually(knows_leader, http, c, &iso))
        fail_msg("the member that rejoined knows no leader within 20 s");
    g_free(iso.old);

    /* kill and start; pause and resume */
    assert_true(tf_cluster_node_kill(c, 1, &e));
    assert_int_equal(tf_cluster_node_state(c, 1, NULL), TF_NODE_STOPPED);
    assert_true(tf_cluster_node_start(c, 1, &e));
    if (!tf_cluster_node_wait_ready(c, 1, READY_US, &e))
        fail_msg("%s", e->message);
    assert_true(tf_cluster_node_pause(c, 2, &e));
    assert_int_equal(tf_cluster_node_state(c, 2, NULL), TF_NODE_PAUSED);
    assert_false(health_ok(http, tf_cluster_node_url(c, 2)));
    assert_true(tf_cluster_node_resume(c, 2, &e));
    if (!tf_cluster_node_wait_ready(c, 2, READY_US, &e))
        fail_msg("%s", e->message);
    tf_http_free(http);
    tf_cluster_free(c); /* follows no more; the teardown removes the project */
}

/* In the child: when this test dies (a CI timeout's SIGKILL), timeout(1) gets SIGTERM and
 * passes it on, so tf run ends too instead of running on against a project that the next
 * run's sweep removes. */
static void die_with_test(gpointer unused)
{
    (void)unused;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Every raftkv scenario through `tf run --env compose`, plus the isolated leader. */
static void test_compose_scenarios(void **state)
{
    if (!need_engine("compose scenarios")) {
        skip();
        return;
    }
    project *p = *state = project_new("run");
    gchar **envp = g_get_environ();
    for (guint i = 0; p->env[i]; i++) {
        gchar **kv = g_strsplit(p->env[i], "=", 2);
        envp = g_environ_setenv(envp, kv[0], kv[1], TRUE);
        g_strfreev(kv);
    }
    envp = g_environ_setenv(envp, "TF_COMPOSE_PROJECT", p->name, TRUE);
    envp = g_environ_setenv(envp, "TF_COMPOSE_FILE", COMPOSE_FILE, TRUE);
    envp = g_environ_setenv(envp, "TF_COMPOSE_ENGINE", live.eng.name, TRUE);
    envp = g_environ_setenv(envp, "TF_COMPOSE_OWNER", tf_owner_token(), TRUE);
    envp = g_environ_unsetenv(envp, "TF_COMPOSE_LABEL");
    envp = g_environ_unsetenv(envp, "TF_ENV");
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    /* @netns: the partition features need local network namespaces (skipped on compose) */
    char *argv[] = {"/usr/bin/timeout", "-k", "5", RUN_TIMEOUT, (char *)bin, "run", "--env",
                    "compose", "--format", "pretty", "--no-color", "--tags", "not @netns",
                    TF_SOURCE_DIR "/scenarios/raftkv",
                    TF_SOURCE_DIR "/tests/integration/data/raftkv_isolation.feature", NULL};
    gchar *out = NULL;
    gint status = 0;
    GError *e = NULL;
    gint64 t0 = g_get_monotonic_time();
    assert_true(g_spawn_sync(NULL, argv, envp, G_SPAWN_STDERR_TO_DEV_NULL, die_with_test, NULL,
                             &out, NULL, &status, &e));
    g_strfreev(envp);
    fputs(out, stdout); /* whole: the failing step says what it saw */
    fflush(stdout);
    if (!g_spawn_check_wait_status(status, NULL))
        fail_msg("tf run --env compose failed (status %d)", status);
    assert_non_null(strstr(out, "8 scenarios (8 passed)"));
    print_message("tf run --env compose: 8 scenarios on real containers in %.1f s\n",
                  (g_get_monotonic_time() - t0) / 1e6);
    g_free(out);
}

/* What a killed owner left goes; what a live owner (this test) holds stays. The dead
 * owner is a real process, SIGKILLed as CI timeouts do. */
static void test_compose_sweep(void **state)
{
    if (!need_engine("compose sweep")) {
        skip();
        return;
    }
    project *p = *state = project_new("sweep");
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    gchar *dead = tf_owner_token_of(pid);
    assert_non_null(dead);
    const char *owners[] = {dead, tf_owner_token()};
    const char *names[] = {"dead", "live"};
    for (guint i = 0; i < 2; i++) {
        gchar *owner = g_strdup_printf("%s=%s", TF_COMPOSE_OWNER_LABEL, owners[i]);
        gchar *proj = g_strdup_printf("com.docker.compose.project=%s", p->name);
        gchar *net = g_strdup_printf("%s_%s", p->name, names[i]);
        gchar *cname = g_strdup_printf("%s_%s_1", p->name, names[i]);
        char *mknet[] = {(char *)live.eng.cli, "network", "create", "--label", owner, "--label",
                         proj, net, NULL};
        char *mkcnt[] = {(char *)live.eng.cli, "create", "--name", cname, "--label", owner,
                         "--label", proj, "--network", net, live.image, "/usr/local/bin/etcd", NULL};
        gchar *why = NULL;
        if (!works(mknet, NULL, &why) || !works(mkcnt, NULL, &why))
            fail_msg("%s", why);
        g_free(owner);
        g_free(proj);
        g_free(net);
        g_free(cname);
    }
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(tf_owner_token_state(dead), TF_OWNER_DEAD);
    GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
    GError *e = NULL;
    if (!tf_compose_sweep(live.eng.cli, (const char *const *)p->env, removed, &e))
        fail_msg("%s", e->message);
    json_t *cs = listed(p, "ps"), *ns = listed(p, "network");
    assert_int_equal(json_array_size(cs), 1);
    assert_int_equal(json_array_size(ns), 1);
    gchar *live_c = g_strdup_printf("%s_live_1", p->name), *live_n = g_strdup_printf("%s_live", p->name);
    assert_string_equal(tf_compose_name(json_array_get(cs, 0)), live_c);
    assert_string_equal(tf_compose_name(json_array_get(ns, 0)), live_n);
    gboolean saw_c = FALSE, saw_n = FALSE;
    for (guint i = 0; i < removed->len; i++) {
        gchar *c = g_strdup_printf("container %s_dead_1 (owner %s)", p->name, dead);
        gchar *n = g_strdup_printf("network %s_dead (owner %s)", p->name, dead);
        saw_c |= !strcmp(removed->pdata[i], c);
        saw_n |= !strcmp(removed->pdata[i], n);
        g_free(c);
        g_free(n);
    }
    assert_true(saw_c && saw_n);
    g_free(live_c);
    g_free(live_n);
    json_decref(cs);
    json_decref(ns);
    g_ptr_array_unref(removed);
    g_free(dead);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_compose_sweep, project_teardown),
        cmocka_unit_test_teardown(test_compose_api, project_teardown),
        cmocka_unit_test_teardown(test_compose_scenarios, project_teardown),
    };
    return tf_test_status(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
