/* compose.c: the compose backend of tf_cluster: the services of a compose project.
 * Members come from `docker compose ps -a --format json` (NDJSON since compose 2.21, a
 * JSON array before) or `podman ps -a --format json` filtered by the project label.
 * `ps` has no watch, so it is re-read at most once a second when sources are listed,
 * at once after each fault, and while tf_cluster_start waits. */
#include <string.h>
#include <pthread.h>
#include "tf/error.h"
#include "deploy_priv.h"

#define TF_COMPOSE_REFRESH_US G_USEC_PER_SEC

typedef struct {
    gboolean podman;
    gchar *engine;   /* "docker" or "podman" (looked up on PATH at each run) */
    gchar *project;
    gchar *file;
    gchar *label;
    gchar *where;    /* "compose/PROJECT" */
    guint port;
    pthread_mutex_t lock;     /* serialises refreshes; guards the fields below */
    gint64 last_refresh;
    GHashTable *containers; /* service -> container name (podman acts on containers) */
    GHashTable *asked_down; /* services we stopped or killed: "exited" is then "stopped" */
} compose_drv;

/* argv for `docker compose -p P [-f F] ARGS...` (the file whenever there is one: some
 * compose versions want it even for commands a project name would do), `podman compose
 * -p P -f F up` (up) or `podman ARGS...` (g_strfreev). */
static gchar **compose_argv(compose_drv *d, gboolean up, const char *const *args)
{
    GPtrArray *a = g_ptr_array_new();
    g_ptr_array_add(a, g_strdup(d->engine));
    if (!d->podman || up) {
        g_ptr_array_add(a, g_strdup("compose"));
        g_ptr_array_add(a, g_strdup("-p"));
        g_ptr_array_add(a, g_strdup(d->project));
        if (d->file) {
            g_ptr_array_add(a, g_strdup("-f"));
            g_ptr_array_add(a, g_strdup(d->file));
        }
    }
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(a, g_strdup(args[i]));
    g_ptr_array_add(a, NULL);
    return (gchar **)g_ptr_array_free(a, FALSE);
}

/* Does a container carry label "k=v"? Docker gives "a=b,c=d", podman an object. */
static gboolean has_label(json_t *labels, const char *want)
{
    const char *eq = strchr(want, '=');
    gchar *key = eq ? g_strndup(want, (gsize)(eq - want)) : g_strdup(want);
    const char *val = eq ? eq + 1 : NULL;
    gboolean found = FALSE;
    if (json_is_object(labels)) {
        const char *v = json_string_value(json_object_get(labels, key));
        found = v && (!val || !strcmp(v, val));
    } else if (json_is_string(labels)) {
        gchar **parts = g_strsplit(json_string_value(labels), ",", -1);
        for (guint i = 0; parts[i] && !found; i++) {
            const char *peq = strchr(parts[i], '=');
            gsize klen = peq ? (gsize)(peq - parts[i]) : strlen(parts[i]);
            found = klen == strlen(key) && !strncmp(parts[i], key, klen) &&
                    (!val || (peq && !strcmp(peq + 1, val)));
        }
        g_strfreev(parts);
    }
    g_free(key);
    return found;
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

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Applies one container of the ps output; returns its service name (borrowed) or NULL
 * when it is not ours. */
static const char *apply_container(compose_drv *d, tf_remote *r, json_t *c)
{
    json_t *labels = json_object_get(c, "Labels");
    const char *service = jstr(c, "Service");
    if (!service && json_is_object(labels))
        service = jstr(labels, "com.docker.compose.service");
    const char *name = jstr(c, "Name");
    if (!name)
        name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
    if (!service)
        service = name;
    if (!service || (d->label && !has_label(labels, d->label)))
        return NULL;
    const char *state = jstr(c, "State"), *health = jstr(c, "Health");
    tf_node_state st;
    if (!g_strcmp0(state, "running"))
        st = TF_NODE_RUNNING;
    else if (!g_strcmp0(state, "paused"))
        st = TF_NODE_PAUSED;
    else if (!g_strcmp0(state, "created"))
        st = TF_NODE_CREATED;
    else if (!g_strcmp0(state, "removing"))
        st = TF_NODE_STOPPED;
    else /* exited, dead, restarting */
        st = g_hash_table_contains(d->asked_down, service) ? TF_NODE_STOPPED : TF_NODE_EXITED;
    if (st == TF_NODE_RUNNING)
        g_hash_table_remove(d->asked_down, service);
    guint pub = published(d, c);
    gchar *url = pub && (st == TF_NODE_RUNNING || st == TF_NODE_PAUSED)
                     ? g_strdup_printf("http://127.0.0.1:%u", pub) : NULL;
    gboolean ready = st == TF_NODE_RUNNING && (!health || !*health || !strcmp(health, "healthy"));
    json_t *attrs = json_pack("{s:s, s:s?, s:s?, s:s?, s:b, s:{s:i}}", "project", d->project,
                              "container", name, "container_state", state, "health",
                              health && *health ? health : NULL, "ready", ready, "ports",
                              "client", (int)pub);
    json_t *code = json_object_get(c, "ExitCode");
    if (st == TF_NODE_EXITED && json_is_integer(code))
        json_object_set_new(attrs, "exit", json_sprintf("exit %d", (int)json_integer_value(code)));
    if (name)
        g_hash_table_replace(d->containers, g_strdup(service), g_strdup(name));
    tf_remote_update(r, service, url, st, attrs);
    g_free(url);
    return service;
}

/* Parses ps output (NDJSON or a JSON array) into a JSON array (new ref) or NULL + error. */
static json_t *parse_ps(compose_drv *d, const char *out, GError **error)
{
    const char *p = out;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    json_error_t je;
    if (*p == '[') {
        json_t *arr = json_loads(p, 0, &je);
        if (!json_is_array(arr)) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: ps: not JSON: %s: %.200s", d->where,
                        je.text, p);
            json_decref(arr);
            return NULL;
        }
        return arr;
    }
    json_t *arr = json_array();
    gchar **lines = g_strsplit(p, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        gchar *l = g_strstrip(lines[i]);
        if (!*l)
            continue;
        json_t *o = json_loads(l, 0, &je);
        if (!json_is_object(o)) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: ps: line %u is not a JSON object: "
                        "%.200s", d->where, i + 1, l);
            json_decref(o);
            json_decref(arr);
            arr = NULL;
            break;
        }
        json_array_append_new(arr, o);
    }
    g_strfreev(lines);
    return arr;
}

static gboolean refresh_locked(compose_drv *d, tf_remote *r, GError **error)
{
    gchar **argv;
    if (d->podman) {
        gchar *filter = g_strdup_printf("label=com.docker.compose.project=%s", d->project);
        const char *args[] = {"ps", "-a", "--format", "json", "--filter", filter, NULL};
        argv = compose_argv(d, FALSE, args);
        g_free(filter);
    } else {
        const char *args[] = {"ps", "-a", "--format", "json", NULL};
        argv = compose_argv(d, FALSE, args);
    }
    gchar *out = NULL;
    gboolean ok = tf_deploy_run(d->where, argv, &out, error);
    g_strfreev(argv);
    json_t *arr = ok ? parse_ps(d, out, error) : NULL;
    g_free(out);
    if (!arr)
        return FALSE;
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        const char *svc = apply_container(d, r, c);
        if (svc)
            g_hash_table_add(seen, (gpointer)svc);
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

static gboolean compose_start(void *self, tf_remote *r, GError **error)
{
    compose_drv *d = self;
    if (!d->file)
        return compose_refresh(self, r, TRUE, error);
    const char *args[] = {"up", "-d", NULL}; /* also starts stopped and unpauses nothing */
    gchar **argv = compose_argv(d, TRUE, args);
    gboolean ok = tf_deploy_run(d->where, argv, NULL, error);
    g_strfreev(argv);
    if (!ok)
        return FALSE;
    /* `up -d` leaves paused containers paused: a previous scenario may have paused one. */
    pthread_mutex_lock(&d->lock);
    ok = refresh_locked(d, r, error);
    pthread_mutex_unlock(&d->lock);
    gchar **names = tf_remote_member_names(r);
    for (guint k = 0; ok && names[k]; k++)
        if (tf_remote_node_state(r, (guint)tf_remote_index(r, names[k])) == TF_NODE_PAUSED)
            ok = tf_remote_node_op(r, (guint)tf_remote_index(r, names[k]), TF_REMOTE_RESUME, error);
    g_strfreev(names);
    return ok;
}

static gboolean compose_op(void *self, tf_remote *r, const char *member, tf_remote_op op,
                           tf_node_state *after, GError **error)
{
    compose_drv *d = self;
    static const char *verbs[] = {"start", "stop", "kill", "pause", "unpause", "restart"};
    pthread_mutex_lock(&d->lock);
    const char *container = g_hash_table_lookup(d->containers, member);
    gchar *target = g_strdup(d->podman && container ? container : member);
    pthread_mutex_unlock(&d->lock);
    const char *args[] = {verbs[op], target, NULL};
    gchar **argv = compose_argv(d, FALSE, args);
    gchar *where = g_strdup_printf("%s/%s: %s", d->where, member, tf_remote_op_name(op));
    gboolean ok = tf_deploy_run(where, argv, NULL, error);
    g_free(where);
    g_strfreev(argv);
    g_free(target);
    if (!ok)
        return FALSE;
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

static gchar *compose_log_tail(void *self, const char *member, gsize max_bytes)
{
    compose_drv *d = self;
    pthread_mutex_lock(&d->lock);
    const char *container = g_hash_table_lookup(d->containers, member);
    gchar *target = g_strdup(d->podman && container ? container : member);
    pthread_mutex_unlock(&d->lock);
    const char *args[] = {"logs", "--tail", "200", target, NULL};
    gchar **argv = compose_argv(d, FALSE, args);
    gchar *out = NULL;
    GError *e = NULL;
    if (!tf_deploy_run(d->where, argv, &out, &e)) {
        out = g_strdup(e->message);
        g_error_free(e);
    }
    g_strfreev(argv);
    g_free(target);
    gsize len = strlen(out);
    if (len > max_bytes)
        memmove(out, out + len - max_bytes, max_bytes + 1);
    return out;
}

static void compose_free(void *self)
{
    compose_drv *d = self;
    g_hash_table_unref(d->containers);
    g_hash_table_unref(d->asked_down);
    pthread_mutex_destroy(&d->lock);
    g_free(d->engine);
    g_free(d->project);
    g_free(d->file);
    g_free(d->label);
    g_free(d->where);
    g_free(d);
}

static const tf_remote_driver compose_driver = {
    .kind = "compose",
    .start = compose_start,
    .refresh = compose_refresh,
    .op = compose_op,
    .log_tail = compose_log_tail,
    .free = compose_free,
};

tf_cluster *tf_cluster_compose_new(const tf_compose_config *cfg, GError **error)
{
    if (!cfg || !cfg->project || !*cfg->project || !cfg->port) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "compose: a project and a port are needed");
        return NULL;
    }
    const char *engine = cfg->engine;
    if (engine && strcmp(engine, "docker") && strcmp(engine, "podman")) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "compose: engine '%s': use docker or podman",
                    engine);
        return NULL;
    }
    gchar *found = NULL, *why_not_docker = NULL;
    if (!engine) {
        /* docker only counts with its compose plug-in: a bare CLI cannot run a project */
        char *probe[] = {"docker", "compose", "version", NULL};
        GError *e = NULL;
        if ((found = g_find_program_in_path("docker")) && tf_deploy_run("compose", probe, NULL, &e)) {
            engine = "docker";
        } else {
            why_not_docker = e ? g_strdup_printf(" (docker: %s)", e->message) : NULL;
            g_clear_error(&e);
            g_free(found);
            if ((found = g_find_program_in_path("podman")))
                engine = "podman";
        }
    } else {
        found = g_find_program_in_path(engine);
    }
    if (!found) {
        if (engine)
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "compose/%s: %s not found in PATH",
                        cfg->project, engine);
        else
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "compose/%s: neither docker compose nor podman is usable%s", cfg->project,
                        why_not_docker ? why_not_docker : ": none is on PATH");
        g_free(why_not_docker);
        return NULL;
    }
    g_free(why_not_docker);
    g_free(found);
    compose_drv *d = g_new0(compose_drv, 1);
    d->engine = g_strdup(engine);
    d->podman = !strcmp(engine, "podman");
    d->project = g_strdup(cfg->project);
    d->file = g_strdup(cfg->file);
    d->label = cfg->label && *cfg->label ? g_strdup(cfg->label) : NULL;
    d->where = g_strdup_printf("compose/%s", cfg->project);
    d->port = cfg->port;
    pthread_mutex_init(&d->lock, NULL);
    d->containers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    d->asked_down = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gchar *where = g_strdup_printf("%s project %s", engine, cfg->project);
    tf_cluster *c = tf_cluster_remote_new(&compose_driver, d, cfg->project, where, cfg->expect,
                                          cfg->timeout_us > 0 ? cfg->timeout_us : 120 * G_USEC_PER_SEC);
    g_free(where);
    return c;
}
