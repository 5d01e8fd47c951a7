/* compose.c: the compose backend of tf_cluster: the services of a compose project.
 * Members come from `docker compose ps -a --format json` (NDJSON since compose 2.21, a
 * JSON array before) or `podman ps -a --format json` filtered by the project label (for
 * `podman compose` and podman-compose, whose own ps prints no JSON). `ps` has no watch,
 * so it is re-read at most once a second when sources are listed, at once after each
 * fault, and while tf_cluster_start waits. Faults go to the engine: compose verbs for
 * docker, podman verbs on the containers otherwise, and `network disconnect/connect` to
 * cut a member off the project's networks. */
#include <string.h>
#include <pthread.h>
#include "tf/error.h"
#include "deploy_priv.h"
#include "owner.h"

#define TF_COMPOSE_REFRESH_US G_USEC_PER_SEC
#define TF_COMPOSE_LOG_LINES "200"

typedef struct {
    tf_compose_engine eng;
    gchar *project;
    gchar *file;
    gchar *label;
    gchar *where;    /* "compose/PROJECT" */
    gchar *owner;    /* owner token, or NULL */
    gchar **env;     /* for every engine command (NULL-terminated), or NULL */
    guint port;
    guint expect;
    pthread_mutex_t lock;     /* serialises refreshes; guards the fields below */
    gint64 last_refresh;
    GHashTable *containers; /* service -> container name (podman acts on containers) */
    GHashTable *networks;   /* service -> networks (gchar **) it was last seen on */
    GHashTable *cut;        /* service -> networks (gchar **) we disconnected it from */
    GHashTable *asked_down; /* services we stopped or killed: "exited" is then "stopped" */
} compose_drv;

static gboolean podman_cli(const compose_drv *d)
{
    return d->eng.kind != TF_COMPOSE_DOCKER;
}

static gboolean run(compose_drv *d, const char *where, gchar **argv, gchar **out, gchar **err,
                    GError **error)
{
    gboolean ok = tf_deploy_run_env(where, argv, (const char *const *)d->env, out, err, error);
    g_strfreev(argv);
    return ok;
}

/* What to tell a user whose engine could not start a container, from its own words. */
static const char *hint_for(const char *engine_said)
{
    if (!engine_said)
        return NULL;
    if (strstr(engine_said, "rlimit"))
        return "the engine asks for more open files or processes than this session's hard "
               "limits allow: lower default_ulimits in a containers.conf passed with "
               "CONTAINERS_CONF (scenarios/deploy/compose/containers.conf works here)";
    if (strstr(engine_said, "cgroup"))
        return "the engine cannot use this host's cgroups: try cgroup_manager = \"cgroupfs\" "
               "(and runtime = \"runc\") in a containers.conf passed with CONTAINERS_CONF";
    if (strstr(engine_said, "OCI") || strstr(engine_said, "crun") || strstr(engine_said, "runc"))
        return "the OCI runtime failed: see scenarios/deploy/compose/containers.conf for a "
               "configuration that runs here (passed with CONTAINERS_CONF)";
    return NULL;
}

/* Appends the hint for the failure in *error, if there is one. */
static void add_hint(GError **error)
{
    const char *hint = error && *error ? hint_for((*error)->message) : NULL;
    if (hint) {
        gchar *msg = g_strdup_printf("%s (%s)", (*error)->message, hint);
        g_free((*error)->message);
        (*error)->message = msg;
    }
}

/* The host port published for container port `port`, or 0. */
static guint published(compose_drv *d, json_t *c)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(c, "Publishers"), i, p) /* docker compose */
        if (json_integer_value(json_object_get(p, "TargetPort")) == d->port &&
            json_integer_value(json_object_get(p, "PublishedPort")) > 0)
            return (guint)json_integer_value(json_object_get(p, "PublishedPort"));
    json_array_foreach(json_object_get(c, "Ports"), i, p) { /* podman */
        json_int_t cport = json_integer_value(json_object_get(p, "container_port"));
        json_int_t range = json_integer_value(json_object_get(p, "range"));
        json_int_t host = json_integer_value(json_object_get(p, "host_port"));
        if (host > 0 && d->port >= cport && d->port < cport + MAX(range, 1))
            return (guint)(host + (d->port - cport));
    }
    return 0;
}

/* The networks a container is on (g_strfreev; empty when on none), or NULL when the
 * listing does not say (compose before 2.21). Podman: an array; docker: "a,b". */
static gchar **networks_of(json_t *c)
{
    json_t *n = json_object_get(c, "Networks");
    if (json_is_array(n)) {
        gchar **out = g_new0(gchar *, json_array_size(n) + 1);
        guint k = 0;
        size_t i;
        json_t *v;
        json_array_foreach(n, i, v)
            if (json_string_length(v))
                out[k++] = g_strdup(json_string_value(v));
        return out;
    }
    if (!json_is_string(n))
        return NULL;
    gchar **parts = g_strsplit(json_string_value(n), ",", -1);
    gchar **out = g_new0(gchar *, g_strv_length(parts) + 1);
    for (guint i = 0, k = 0; parts[i]; i++)
        if (*g_strstrip(parts[i]))
            out[k++] = g_strdup(parts[i]);
    g_strfreev(parts);
    return out;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Applies one container of the ps output (lock held); returns its service name (newly
 * allocated) or NULL when it is not ours. */
static gchar *apply_container(compose_drv *d, tf_remote *r, json_t *c)
{
    gchar *svc_tmp = NULL;
    const char *service = jstr(c, "Service");
    if (!service)
        service = tf_compose_label(c, "com.docker.compose.service", &svc_tmp);
    const char *name = tf_compose_name(c);
    if (!service)
        service = name;
    gboolean ours = service != NULL;
    if (ours && d->label) {
        const char *eq = strchr(d->label, '=');
        gchar *key = eq ? g_strndup(d->label, (gsize)(eq - d->label)) : g_strdup(d->label);
        gchar *tmp = NULL;
        const char *v = tf_compose_label(c, key, &tmp);
        ours = v && (!eq || !strcmp(v, eq + 1));
        g_free(tmp);
        g_free(key);
    }
    if (!ours) {
        g_free(svc_tmp);
        return NULL;
    }
    const char *state = jstr(c, "State"), *health = jstr(c, "Health");
    tf_node_state st;
    if (!g_strcmp0(state, "running"))
        st = TF_NODE_RUNNING;
    else if (!g_strcmp0(state, "paused"))
        st = TF_NODE_PAUSED;
    else if (!g_strcmp0(state, "created") || !g_strcmp0(state, "configured"))
        st = TF_NODE_CREATED; /* podman says "configured" before `created` is done */
    else if (!g_strcmp0(state, "removing") || !g_strcmp0(state, "stopping"))
        st = TF_NODE_STOPPED;
    else /* exited, dead, restarting */
        st = g_hash_table_contains(d->asked_down, service) ? TF_NODE_STOPPED : TF_NODE_EXITED;
    if (st == TF_NODE_RUNNING)
        g_hash_table_remove(d->asked_down, service);

    /* Cut off: on no network at all. Where ps does not list networks, what we did says. */
    gchar **nets = networks_of(c);
    gboolean isolated = nets ? !nets[0] : g_hash_table_contains(d->cut, service);
    if (nets && nets[0]) {
        g_hash_table_replace(d->networks, g_strdup(service), nets);
        g_hash_table_remove(d->cut, service); /* reconnected, by us or someone else */
    } else {
        g_strfreev(nets);
    }
    guint pub = published(d, c);
    const char *url_now = NULL;
    gchar *url = pub && (st == TF_NODE_RUNNING || st == TF_NODE_PAUSED)
                     ? g_strdup_printf("http://127.0.0.1:%u", pub) : NULL;
    if (!url && isolated && (st == TF_NODE_RUNNING || st == TF_NODE_PAUSED)) {
        /* docker drops the published port with the last network: the member is where it
         * was, unreachable, not gone */
        gint idx = tf_remote_index(r, service);
        url_now = idx >= 0 ? tf_remote_node_url(r, (guint)idx) : NULL;
    }
    gboolean ready = st == TF_NODE_RUNNING && !isolated && (!health || !*health || !strcmp(health, "healthy"));
    json_t *attrs = json_pack("{s:s, s:s?, s:s?, s:s?, s:b, s:b, s:{s:i}}", "project", d->project,
                              "container", name, "container_state", state, "health",
                              health && *health ? health : NULL, "ready", ready,
                              TF_REMOTE_ISOLATED, isolated, "ports", "client", (int)pub);
    json_t *code = json_object_get(c, "ExitCode");
    if (st == TF_NODE_EXITED && json_is_integer(code))
        json_object_set_new(attrs, "exit", json_sprintf("exit %d", (int)json_integer_value(code)));
    if (name)
        g_hash_table_replace(d->containers, g_strdup(service), g_strdup(name));
    tf_remote_update(r, service, url ? url : url_now, st, attrs);
    g_free(url);
    gchar *svc = g_strdup(service);
    g_free(svc_tmp);
    return svc;
}

static gboolean refresh_locked(compose_drv *d, tf_remote *r, GError **error)
{
    gchar **argv;
    if (podman_cli(d)) {
        gchar *filter = g_strdup_printf("label=com.docker.compose.project=%s", d->project);
        const char *args[] = {"ps", "-a", "--format", "json", "--filter", filter, NULL};
        argv = tf_compose_cli_argv(&d->eng, args);
        g_free(filter);
    } else {
        const char *args[] = {"ps", "-a", "--format", "json", NULL};
        argv = tf_compose_project_argv(&d->eng, d->project, d->file, args);
    }
    gchar *out = NULL;
    json_t *arr = run(d, d->where, argv, &out, NULL, error)
                      ? tf_compose_parse_list(d->where, "ps", out, error) : NULL;
    g_free(out);
    if (!arr)
        return FALSE;
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        gchar *svc = apply_container(d, r, c);
        if (svc)
            g_hash_table_add(seen, svc);
    }
    gchar **names = tf_remote_member_names(r);
    for (guint k = 0; names[k]; k++) /* removed containers (compose down, rm) */
        if (!g_hash_table_contains(seen, names[k]) &&
            tf_remote_node_state(r, (guint)tf_remote_index(r, names[k])) != TF_NODE_STOPPED)
            tf_remote_update(r, names[k], NULL, TF_NODE_STOPPED, NULL);
    g_strfreev(names);
    g_hash_table_unref(seen);
    json_decref(arr);
    d->last_refresh = g_get_monotonic_time();
    return TRUE;
}

static gboolean compose_refresh(void *self, tf_remote *r, gboolean force, GError **error)
{
    compose_drv *d = self;
    pthread_mutex_lock(&d->lock);
    gboolean ok = TRUE;
    if (force || !d->last_refresh || g_get_monotonic_time() - d->last_refresh >= TF_COMPOSE_REFRESH_US)
        ok = refresh_locked(d, r, error);
    pthread_mutex_unlock(&d->lock);
    return ok;
}

/* The distinct "Error: ..." lines of what an engine printed (newly allocated, "; "-joined),
 * or NULL: podman-compose 1.0.3 exits 0 when podman fails and only says so there. */
static gchar *engine_errors(const char *err)
{
    if (!err)
        return NULL;
    GString *s = g_string_new(NULL);
    gchar **lines = g_strsplit(err, "\n", -1);
    guint n = 0;
    for (guint i = 0; lines[i] && n < 3; i++) {
        const char *l = g_strstrip(lines[i]);
        if (!g_str_has_prefix(l, "Error") || strstr(s->str, l))
            continue;
        g_string_append_printf(s, "%s%s", s->len ? "; " : "", l);
        n++;
    }
    g_strfreev(lines);
    return g_string_free(s, s->len == 0);
}

/* `up -d`, and for podman engines the check it needs: podman-compose 1.0.3 reports failed
 * `podman run`s on stderr only and exits 0, leaving containers "created". */
static gboolean compose_up(compose_drv *d, tf_remote *r, GError **error)
{
    const char *args[] = {"up", "-d", NULL};
    gchar *err = NULL;
    if (!run(d, d->where, tf_compose_project_argv(&d->eng, d->project, d->file, args), NULL, &err, error)) {
        add_hint(error);
        return FALSE;
    }
    gboolean ok = refresh_locked(d, r, error);
    GString *created = g_string_new(NULL);
    gchar **names = tf_remote_member_names(r);
    for (guint k = 0; ok && names[k]; k++)
        if (tf_remote_node_state(r, (guint)tf_remote_index(r, names[k])) == TF_NODE_CREATED)
            g_string_append_printf(created, "%s%s", created->len ? ", " : "", names[k]);
    g_strfreev(names);
    if (ok && created->len) {
        gchar *said = engine_errors(err);
        const char *hint = hint_for(said);
        g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s: %s up -d left %s created but not "
                    "running: %s%s%s%s", d->where, d->eng.name, created->str,
                    said ? said : "the engine said nothing on stderr", hint ? " (" : "",
                    hint ? hint : "", hint ? ")" : "");
        g_free(said);
        ok = FALSE;
    }
    g_string_free(created, TRUE);
    g_free(err);
    return ok;
}

static gboolean compose_start(void *self, tf_remote *r, GError **error)
{
    compose_drv *d = self;
    if (d->owner) { /* what runs that died left behind goes first (never a live run's) */
        GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
        gboolean ok = tf_compose_sweep(d->eng.cli, (const char *const *)d->env, removed, error);
        for (guint i = 0; i < removed->len; i++)
            g_message("%s: removed %s: its owner is dead", d->where, (char *)removed->pdata[i]);
        g_ptr_array_unref(removed);
        if (!ok)
            return FALSE;
    }
    if (!d->file)
        return compose_refresh(self, r, TRUE, error);
    pthread_mutex_lock(&d->lock);
    gboolean ok = refresh_locked(d, r, error);
    /* docker compose's `up -d` is idempotent and quick; podman-compose 1.0.3 re-runs every
     * `podman run` (failing: the name is taken) with a 1 s sleep after each command, so
     * with every expected member there, the members are only brought back below. */
    guint have = 0;
    gchar **names = tf_remote_member_names(r);
    for (guint k = 0; names[k]; k++)
        have += g_hash_table_contains(d->containers, names[k]);
    g_strfreev(names);
    if (ok && (!podman_cli(d) || !d->expect || have < d->expect))
        ok = compose_up(d, r, error);
    pthread_mutex_unlock(&d->lock);
    /* What a previous scenario may have left: `up -d` leaves paused containers paused and
     * disconnected ones disconnected (and podman's fast path starts nothing). */
    names = tf_remote_member_names(r);
    for (guint k = 0; ok && names[k]; k++) {
        guint i = (guint)tf_remote_index(r, names[k]);
        if (tf_remote_node_isolated(r, i))
            ok = tf_remote_node_op(r, i, TF_REMOTE_REJOIN, error);
        tf_node_state st = tf_remote_node_state(r, i);
        if (ok && st == TF_NODE_PAUSED)
            ok = tf_remote_node_op(r, i, TF_REMOTE_RESUME, error);
        else if (ok && st != TF_NODE_RUNNING)
            ok = tf_remote_node_op(r, i, TF_REMOTE_START, error);
    }
    g_strfreev(names);
    return ok;
}

/* The name the engine acts on: the container for podman, the service for docker compose
 * (newly allocated). Refreshes once when the container is not known yet. */
static gchar *target_of(compose_drv *d, tf_remote *r, const char *member, gboolean container)
{
    pthread_mutex_lock(&d->lock);
    const char *name = g_hash_table_lookup(d->containers, member);
    if (!name && container && refresh_locked(d, r, NULL))
        name = g_hash_table_lookup(d->containers, member);
    gchar *target = g_strdup(container && name ? name : member);
    pthread_mutex_unlock(&d->lock);
    return target;
}

static gboolean compose_op(void *self, tf_remote *r, const char *member, tf_remote_op op,
                           tf_node_state *after, GError **error)
{
    compose_drv *d = self;
    static const char *verbs[] = {"start", "stop", "kill", "pause", "unpause", "restart"};
    g_return_val_if_fail((guint)op < G_N_ELEMENTS(verbs), FALSE);
    gchar *target = target_of(d, r, member, podman_cli(d));
    const char *args[] = {verbs[op], target, NULL};
    gchar **argv = podman_cli(d) ? tf_compose_cli_argv(&d->eng, args)
                                 : tf_compose_project_argv(&d->eng, d->project, d->file, args);
    gchar *where = g_strdup_printf("%s/%s: %s", d->where, member, tf_remote_op_name(op));
    gboolean ok = run(d, where, argv, NULL, NULL, error);
    g_free(where);
    g_free(target);
    if (!ok) {
        if (op == TF_REMOTE_START || op == TF_REMOTE_RESTART)
            add_hint(error);
        return FALSE;
    }
    *after = op == TF_REMOTE_STOP || op == TF_REMOTE_KILL ? TF_NODE_STOPPED
             : op == TF_REMOTE_PAUSE                      ? TF_NODE_PAUSED
                                                          : TF_NODE_RUNNING;
    pthread_mutex_lock(&d->lock);
    if (op == TF_REMOTE_STOP || op == TF_REMOTE_KILL)
        g_hash_table_add(d->asked_down, g_strdup(member));
    else if (op != TF_REMOTE_PAUSE)
        g_hash_table_remove(d->asked_down, member);
    d->last_refresh = 0; /* the next listing re-reads ps */
    pthread_mutex_unlock(&d->lock);
    return TRUE;
}

/* Disconnects the member's container from every network it is on, or connects it back
 * to those under its service name (a reconnected container loses the alias compose gave
 * it, and its peers find it by that name). */
static gboolean compose_isolate(void *self, tf_remote *r, const char *member, gboolean on,
                                GError **error)
{
    compose_drv *d = self;
    gchar *container = target_of(d, r, member, TRUE);
    pthread_mutex_lock(&d->lock);
    gchar **nets = g_strdupv(g_hash_table_lookup(on ? d->networks : d->cut, member));
    if (!on && !nets)
        nets = g_strdupv(g_hash_table_lookup(d->networks, member));
    pthread_mutex_unlock(&d->lock);
    if (!nets || !nets[0]) { /* never seen connected: compose's default network */
        g_strfreev(nets);
        nets = g_new0(gchar *, 2);
        nets[0] = g_strdup_printf("%s_default", d->project);
    }
    gchar *where = g_strdup_printf("%s/%s: %s", d->where, member, on ? "isolate" : "rejoin");
    gboolean ok = TRUE;
    for (guint i = 0; ok && nets[i]; i++) {
        const char *dis[] = {"network", "disconnect", nets[i], container, NULL};
        const char *con[] = {"network", "connect", "--alias", member, nets[i], container, NULL};
        ok = run(d, where, tf_compose_cli_argv(&d->eng, on ? dis : con), NULL, NULL, error);
    }
    g_free(where);
    g_free(container);
    pthread_mutex_lock(&d->lock);
    if (ok && on) {
        g_hash_table_replace(d->cut, g_strdup(member), nets); /* takes nets */
    } else {
        if (ok)
            g_hash_table_remove(d->cut, member);
        g_strfreev(nets);
    }
    d->last_refresh = 0;
    pthread_mutex_unlock(&d->lock);
    return ok;
}

static gchar *compose_log_tail(void *self, const char *member, gsize max_bytes)
{
    compose_drv *d = self;
    gchar *target = g_strdup(member);
    pthread_mutex_lock(&d->lock);
    const char *container = g_hash_table_lookup(d->containers, member);
    if (podman_cli(d) && container) {
        g_free(target);
        target = g_strdup(container);
    }
    pthread_mutex_unlock(&d->lock);
    const char *args[] = {"logs", "--tail", TF_COMPOSE_LOG_LINES, target, NULL};
    gchar **argv = podman_cli(d) ? tf_compose_cli_argv(&d->eng, args)
                                 : tf_compose_project_argv(&d->eng, d->project, d->file, args);
    gchar *out = NULL, *err = NULL;
    GError *e = NULL;
    /* podman logs keeps the container's streams apart (etcd logs on stderr) */
    gchar *text = run(d, d->where, argv, &out, &err, &e) ? g_strconcat(out, err, NULL)
                                                         : g_strdup(e->message);
    g_clear_error(&e);
    g_free(out);
    g_free(err);
    g_free(target);
    gsize len = strlen(text);
    if (len > max_bytes)
        memmove(text, text + len - max_bytes, max_bytes + 1);
    return text;
}

static void compose_free(void *self)
{
    compose_drv *d = self;
    g_hash_table_unref(d->containers);
    g_hash_table_unref(d->networks);
    g_hash_table_unref(d->cut);
    g_hash_table_unref(d->asked_down);
    pthread_mutex_destroy(&d->lock);
    tf_compose_engine_clear(&d->eng);
    g_free(d->project);
    g_free(d->file);
    g_free(d->label);
    g_free(d->where);
    g_free(d->owner);
    g_strfreev(d->env);
    g_free(d);
}

static const tf_remote_driver compose_driver = {
    .kind = "compose",
    .start = compose_start,
    .refresh = compose_refresh,
    .op = compose_op,
    .isolate = compose_isolate,
    .log_tail = compose_log_tail,
    .free = compose_free,
};

/* cfg->env plus TF_COMPOSE_OWNER when there is an owner (NULL when neither). */
static gchar **child_env(const tf_compose_config *cfg)
{
    if (!cfg->env && !cfg->owner)
        return NULL;
    GPtrArray *a = g_ptr_array_new();
    for (guint i = 0; cfg->env && cfg->env[i]; i++)
        g_ptr_array_add(a, g_strdup(cfg->env[i]));
    if (cfg->owner)
        g_ptr_array_add(a, g_strdup_printf("TF_COMPOSE_OWNER=%s", cfg->owner));
    g_ptr_array_add(a, NULL);
    return (gchar **)g_ptr_array_free(a, FALSE);
}

tf_cluster *tf_cluster_compose_new(const tf_compose_config *cfg, GError **error)
{
    if (!cfg || !cfg->project || !*cfg->project || !cfg->port) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "compose: a project and a port are needed");
        return NULL;
    }
    if (cfg->owner && tf_owner_token_state(cfg->owner) != TF_OWNER_ALIVE) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "compose/%s: owner '%s' is not a live "
                    "process's token (tf_owner_token)", cfg->project, cfg->owner);
        return NULL;
    }
    gchar **env = child_env(cfg);
    tf_compose_engine eng;
    if (!tf_compose_engine_pick(cfg->engine, (const char *const *)env, &eng, error)) {
        g_prefix_error(error, "compose/%s: ", cfg->project);
        g_strfreev(env);
        return NULL;
    }
    compose_drv *d = g_new0(compose_drv, 1);
    d->eng = eng;
    d->env = env;
    d->project = g_strdup(cfg->project);
    d->file = g_strdup(cfg->file);
    d->label = cfg->label && *cfg->label ? g_strdup(cfg->label) : NULL;
    d->owner = g_strdup(cfg->owner);
    d->where = g_strdup_printf("compose/%s", cfg->project);
    d->port = cfg->port;
    d->expect = cfg->expect;
    pthread_mutex_init(&d->lock, NULL);
    d->containers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    d->networks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
    d->cut = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
    d->asked_down = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gchar *where = eng.skipped ? g_strdup_printf("%s project %s (skipped %s)", eng.name, cfg->project,
                                                 eng.skipped)
                               : g_strdup_printf("%s project %s", eng.name, cfg->project);
    tf_cluster *c = tf_cluster_remote_new(&compose_driver, d, cfg->project, where, cfg->expect,
                                          cfg->timeout_us > 0 ? cfg->timeout_us : 120 * G_USEC_PER_SEC);
    g_free(where);
    return c;
}
