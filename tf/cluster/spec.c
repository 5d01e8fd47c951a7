/* spec.c: reading and validating a cluster spec (scenarios/clusters/NAME.json).
 * Everything a spec can get wrong is caught here, before any process starts, with the
 * file and field named: unknown fields, bad types, templates naming unknown variables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "tf/error.h"
#include "cluster_priv.h"

#define SPEC_MAX_NODES 64

static const char *const top_fields[] = {"name", "description", "binary", "nodes", "node_name",
                                         "ports", "argv", "argv_join", "peer", "ready",
                                         "source", "stop_grace_ms", "network", NULL};
static const char *const ready_fields[] = {"http", "tcp", "method", "body", "user", "password",
                                           "timeout_ms", "interval_ms", NULL};

static gboolean fail(GError **error, const char *where, const char *field, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static gboolean fail(GError **error, const char *where, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gchar *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: %s: %s", where, field, why);
    g_free(why);
    return FALSE;
}

static gboolean check_fields(json_t *obj, const char *const *known, const char *where,
                             const char *prefix, GError **error)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (!g_strv_contains((const gchar *const *)known, key)) {
            gchar *field = g_strdup_printf("%s%s", prefix, key);
            gchar *list = g_strjoinv(", ", (gchar **)known);
            fail(error, where, field, "unknown field (known: %s)", list);
            g_free(list);
            g_free(field);
            return FALSE;
        }
    }
    return TRUE;
}

/* A string field: *out = copy, or the default when absent; error when not a string. */
static gboolean get_str(json_t *obj, const char *key, const char *field, const char *dflt,
                        gboolean required, gchar **out, const char *where, GError **error)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return fail(error, where, field, "missing (a string is required)");
        *out = g_strdup(dflt);
        return TRUE;
    }
    if (!json_is_string(v) || !*json_string_value(v))
        return fail(error, where, field, "must be a non-empty string");
    *out = g_strdup(json_string_value(v));
    return TRUE;
}

static gboolean get_int(json_t *obj, const char *key, const char *field, gint64 dflt, gint64 min,
                        gint64 max, gint64 *out, const char *where, GError **error)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = dflt;
        return TRUE;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        fail(error, where, field, "must be an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
             min, max);
        return FALSE; /* spelled out: GCC -O3 cannot see through the variadic fail() */
    }
    *out = json_integer_value(v);
    return TRUE;
}

/* Expands tmpl against dummy values of every known variable: an unknown one fails. */
static gboolean check_tmpl(const char *tmpl, GHashTable *known, const char *where,
                           const char *field, GError **error)
{
    GError *e = NULL;
    gchar *out = tf_cluster_tmpl_expand(tmpl, known, &e);
    if (!out) {
        fail(error, where, field, "%s", e->message);
        g_error_free(e);
        return FALSE;
    }
    g_free(out);
    return TRUE;
}

static GHashTable *known_vars(const tf_cluster_spec *s, gboolean with_peers)
{
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    static const char *const base[] = {"name", "dir", "index", "ordinal", "cluster",
                                       "cluster_token", "cluster_secret", "address",
                                       "runner_address"};
    for (guint i = 0; i < G_N_ELEMENTS(base); i++)
        g_hash_table_insert(h, g_strdup(base[i]), "");
    for (guint i = 0; i < s->ports->len; i++)
        g_hash_table_insert(h, g_strdup_printf("port.%s", (char *)s->ports->pdata[i]), "");
    if (with_peers)
        g_hash_table_insert(h, g_strdup("peers"), "");
    return h;
}

static gboolean parse_ports(tf_cluster_spec *s, json_t *root, GError **error)
{
    json_t *ports = json_object_get(root, "ports");
    s->ports = g_ptr_array_new_with_free_func(g_free);
    if (!ports)
        return TRUE;
    if (!json_is_array(ports))
        return fail(error, s->where, "ports", "must be an array of port names");
    size_t i;
    json_t *v;
    json_array_foreach(ports, i, v) {
        gchar field[32];
        g_snprintf(field, sizeof field, "ports[%zu]", i);
        const char *name = json_string_value(v);
        if (!name || !*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
            return fail(error, s->where, field, "must be a name of [a-z0-9_]");
        for (guint j = 0; j < s->ports->len; j++)
            if (!strcmp(s->ports->pdata[j], name))
                return fail(error, s->where, field, "port '%s' declared twice", name);
        g_ptr_array_add(s->ports, g_strdup(name));
    }
    return TRUE;
}

static gboolean parse_argv(tf_cluster_spec *s, json_t *root, const char *key, gboolean required,
                           GPtrArray **out, GHashTable *known, GError **error)
{
    json_t *arr = json_object_get(root, key);
    if (!arr) {
        if (required)
            return fail(error, s->where, key, "missing (an array of argument templates)");
        return TRUE;
    }
    if (!json_is_array(arr))
        return fail(error, s->where, key, "must be an array of strings");
    *out = g_ptr_array_new_with_free_func(g_free);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        gchar *field = g_strdup_printf("%s[%zu]", key, i);
        const char *t = json_string_value(v);
        gboolean ok;
        if (!t)
            ok = fail(error, s->where, field, "must be a string");
        else if (!strcmp(t, TF_CLUSTER_PEERS_SPLAT) && !s->peer)
            ok = fail(error, s->where, field, "%s needs a \"peer\" template", t);
        else if (!strcmp(t, TF_CLUSTER_PEERS_SPLAT))
            ok = TRUE;
        else if (strstr(t, "{peers}") && !s->peer)
            ok = fail(error, s->where, field, "{peers} needs a \"peer\" template");
        else
            ok = check_tmpl(t, known, s->where, field, error);
        g_free(field);
        if (!ok)
            return FALSE;
        g_ptr_array_add(*out, g_strdup(t));
    }
    return TRUE;
}

static gboolean parse_peer(tf_cluster_spec *s, json_t *root, GError **error)
{
    json_t *peer = json_object_get(root, "peer");
    s->peer_self = TRUE;
    if (!peer)
        return TRUE;
    GHashTable *known = known_vars(s, FALSE);
    gboolean ok = TRUE;
    if (json_is_string(peer)) {
        s->peer = g_strdup(json_string_value(peer));
        s->peer_sep = g_strdup(",");
    } else if (json_is_object(peer)) {
        static const char *const fields[] = {"template", "separator", "self", NULL};
        json_t *self = json_object_get(peer, "self");
        ok = check_fields(peer, fields, s->where, "peer.", error) &&
             get_str(peer, "template", "peer.template", NULL, TRUE, &s->peer, s->where, error);
        if (ok) {
            json_t *sep = json_object_get(peer, "separator");
            if (sep && !json_is_string(sep))
                ok = fail(error, s->where, "peer.separator", "must be a string");
            s->peer_sep = g_strdup(sep ? json_string_value(sep) : ",");
        }
        if (ok && self && !json_is_boolean(self))
            ok = fail(error, s->where, "peer.self", "must be true or false");
        if (ok && self)
            s->peer_self = json_is_true(self);
    } else {
        ok = fail(error, s->where, "peer", "must be a template string or an object");
    }
    if (ok)
        ok = check_tmpl(s->peer, known, s->where, "peer", error);
    g_hash_table_unref(known);
    return ok;
}

static gboolean parse_ready(tf_cluster_spec *s, json_t *root, GHashTable *known, GError **error)
{
    json_t *r = json_object_get(root, "ready");
    if (!r)
        return fail(error, s->where, "ready", "missing (a probe: {\"http\": URL} or {\"tcp\": PORT})");
    if (!json_is_object(r))
        return fail(error, s->where, "ready", "must be an object");
    if (!check_fields(r, ready_fields, s->where, "ready.", error))
        return FALSE;
    json_t *http = json_object_get(r, "http"), *tcp = json_object_get(r, "tcp");
    if (!!http == !!tcp)
        return fail(error, s->where, "ready", "needs exactly one of \"http\" and \"tcp\"");
    tf_probe_spec *p = &s->ready;
    p->kind = http ? TF_PROBE_HTTP : TF_PROBE_TCP;
    gint64 tmo, ivl;
    if (!get_str(r, http ? "http" : "tcp", http ? "ready.http" : "ready.tcp", NULL, TRUE,
                 &p->target, s->where, error) ||
        !get_str(r, "method", "ready.method", NULL, FALSE, &p->method, s->where, error) ||
        !get_str(r, "body", "ready.body", NULL, FALSE, &p->body, s->where, error) ||
        !get_str(r, "user", "ready.user", NULL, FALSE, &p->user, s->where, error) ||
        !get_str(r, "password", "ready.password", NULL, FALSE, &p->password, s->where, error) ||
        !get_int(r, "timeout_ms", "ready.timeout_ms", 30000, 1, 3600000, &tmo, s->where, error) ||
        !get_int(r, "interval_ms", "ready.interval_ms", 100, 1, 60000, &ivl, s->where, error))
        return FALSE;
    p->timeout_us = tmo * 1000;
    p->interval_us = ivl * 1000;
    if (tcp && (p->method || p->body || p->user || p->password))
        return fail(error, s->where, "ready", "method, body, user and password are for http probes");
    if (http && !g_str_has_prefix(p->target, "http://127.0.0.1:") &&
        !g_str_has_prefix(p->target, "http://localhost:") &&
        !g_str_has_prefix(p->target, "http://{address}:"))
        return fail(error, s->where, "ready.http",
                    "must start with http://{address}: or http://127.0.0.1: (the node itself only)");
    const char *fields[] = {"ready.http", "ready.body", "ready.user", "ready.password"};
    const char *vals[] = {p->target, p->body, p->user, p->password};
    if (tcp)
        fields[0] = "ready.tcp";
    for (guint i = 0; i < G_N_ELEMENTS(vals); i++)
        if (vals[i] && !check_tmpl(vals[i], known, s->where, fields[i], error))
            return FALSE;
    return TRUE;
}

static gboolean parse_source(tf_cluster_spec *s, json_t *root, GHashTable *known, GError **error)
{
    json_t *src = json_object_get(root, "source");
    if (!src)
        return TRUE;
    static const char *const fields[] = {"url", "attrs", NULL};
    if (!json_is_object(src))
        return fail(error, s->where, "source", "must be an object {\"url\":..,\"attrs\":{..}}");
    if (!check_fields(src, fields, s->where, "source.", error) ||
        !get_str(src, "url", "source.url", NULL, FALSE, &s->url, s->where, error))
        return FALSE;
    if (s->url && !g_str_has_prefix(s->url, "http://") && !g_str_has_prefix(s->url, "https://"))
        return fail(error, s->where, "source.url", "must start with http:// or https:// (got \"%s\")",
                    s->url);
    if (s->url && !check_tmpl(s->url, known, s->where, "source.url", error))
        return FALSE;
    json_t *attrs = json_object_get(src, "attrs");
    if (!attrs)
        return TRUE;
    if (!json_is_object(attrs))
        return fail(error, s->where, "source.attrs", "must be an object");
    static const char *const reserved[] = {"cluster", "index", "state", "ports", "exit", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(attrs, key, v) {
        gchar *field = g_strdup_printf("source.attrs.%s", key);
        gboolean ok = TRUE;
        if (g_strv_contains((const gchar *const *)reserved, key))
            ok = fail(error, s->where, field, "reserved: the launcher sets it");
        else if (json_is_string(v))
            ok = check_tmpl(json_string_value(v), known, s->where, field, error);
        g_free(field);
        if (!ok)
            return FALSE;
    }
    s->attrs = json_incref(attrs);
    return TRUE;
}

static gboolean parse_network(tf_cluster_spec *s, json_t *root, GError **error)
{
    json_t *v = json_object_get(root, "network");
    const char *net = v ? json_string_value(v) : "loopback";
    if (!g_strcmp0(net, "loopback"))
        s->network = TF_CLUSTER_NET_LOOPBACK;
    else if (!g_strcmp0(net, "namespaces"))
        s->network = TF_CLUSTER_NET_NAMESPACES;
    else
        return fail(error, s->where, "network", "must be \"loopback\" (default) or \"namespaces\"");
    return TRUE;
}

tf_cluster_spec *tf_cluster_spec_from_json(json_t *root, const char *where, GError **error)
{
    g_return_val_if_fail(where != NULL, NULL);
    if (!json_is_object(root)) {
        fail(error, where, "(top)", "a cluster spec must be a JSON object");
        return NULL;
    }
    tf_cluster_spec *s = g_new0(tf_cluster_spec, 1);
    s->ref = 1;
    s->where = g_strdup(where);
    gint64 nodes = 0, grace = 0;
    GHashTable *known = NULL, *known_argv = NULL, *naming = NULL;
    gboolean ok = check_fields(root, top_fields, where, "", error) &&
                  get_str(root, "name", "name", NULL, TRUE, &s->name, where, error) &&
                  get_str(root, "binary", "binary", NULL, TRUE, &s->binary, where, error) &&
                  get_int(root, "nodes", "nodes", 3, 1, SPEC_MAX_NODES, &nodes, where, error) &&
                  get_int(root, "stop_grace_ms", "stop_grace_ms", 5000, 0, 600000, &grace,
                          where, error) &&
                  get_str(root, "node_name", "node_name", "n{ordinal}", FALSE, &s->node_name,
                          where, error) &&
                  parse_network(s, root, error) && parse_ports(s, root, error) &&
                  parse_peer(s, root, error);
    if (ok) {
        s->nodes = (guint)nodes;
        s->stop_grace_us = grace * 1000;
        naming = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(naming, "index", "");
        g_hash_table_insert(naming, "ordinal", "");
        g_hash_table_insert(naming, "cluster", "");
        known = known_vars(s, FALSE);
        known_argv = known_vars(s, s->peer != NULL);
        ok = check_tmpl(s->node_name, naming, where, "node_name", error) &&
             parse_argv(s, root, "argv", TRUE, &s->argv, known_argv, error) &&
             parse_argv(s, root, "argv_join", FALSE, &s->argv_join, known_argv, error) &&
             parse_ready(s, root, known, error) && parse_source(s, root, known, error);
        if (ok && s->network == TF_CLUSTER_NET_NAMESPACES && s->url && !strstr(s->url, "{address}"))
            ok = fail(error, where, "source.url", "must use {address} with \"network\": "
                      "\"namespaces\" (each node has an address of its own there)");
    }
    if (naming)
        g_hash_table_unref(naming);
    if (known)
        g_hash_table_unref(known);
    if (known_argv)
        g_hash_table_unref(known_argv);
    if (!ok) {
        tf_cluster_spec_free(s);
        return NULL;
    }
    return s;
}

tf_cluster_spec *tf_cluster_spec_load(const char *path, GError **error)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: cannot read: %s", path, g_strerror(errno));
        return NULL;
    }
    json_error_t je;
    errno = 0;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    int read_errno = ferror(f) ? errno : 0; /* a directory opens, then fails to read */
    fclose(f);
    if (!root && read_errno) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: cannot read: %s", path, g_strerror(read_errno));
        return NULL;
    }
    if (!root) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s:%d:%d: %s", path, je.line, je.column,
                    je.text);
        return NULL;
    }
    tf_cluster_spec *s = tf_cluster_spec_from_json(root, path, error);
    json_decref(root);
    return s;
}

tf_cluster_spec *tf_cluster_spec_ref(const tf_cluster_spec *spec)
{
    tf_cluster_spec *s = (tf_cluster_spec *)spec;
    g_atomic_int_inc(&s->ref);
    return s;
}

void tf_cluster_spec_free(tf_cluster_spec *s)
{
    if (!s || !g_atomic_int_dec_and_test(&s->ref))
        return;
    g_free(s->where);
    g_free(s->name);
    g_free(s->binary);
    g_free(s->node_name);
    if (s->ports)
        g_ptr_array_unref(s->ports);
    if (s->argv)
        g_ptr_array_unref(s->argv);
    if (s->argv_join)
        g_ptr_array_unref(s->argv_join);
    g_free(s->peer);
    g_free(s->peer_sep);
    g_free(s->ready.target);
    g_free(s->ready.method);
    g_free(s->ready.body);
    g_free(s->ready.user);
    g_free(s->ready.password);
    g_free(s->url);
    json_decref(s->attrs);
    g_free(s);
}

gboolean tf_cluster_spec_require_url(const tf_cluster_spec *spec, const char *user, GError **error)
{
    if (spec->url)
        return TRUE;
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                "%s: source.url: missing: %s reach each node at this URL (for example "
                "\"source\": {\"url\": \"http://127.0.0.1:{port.client}\"})", spec->where, user);
    return FALSE;
}

const char *tf_cluster_spec_name(const tf_cluster_spec *spec)
{
    return spec->name;
}

guint tf_cluster_spec_default_nodes(const tf_cluster_spec *spec)
{
    return spec->nodes;
}

char *tf_cluster_file_find(const char *feature_uri, const char *rel)
{
    char *dir = feature_uri ? g_path_get_dirname(feature_uri) : g_strdup(".");
    for (;;) {
        char *candidate = g_build_filename(dir, rel, NULL);
        if (g_file_test(candidate, G_FILE_TEST_EXISTS)) {
            g_free(dir);
            return candidate;
        }
        g_free(candidate);
        char *up = g_path_get_dirname(dir);
        gboolean top = !strcmp(up, dir);
        g_free(dir);
        dir = up;
        if (top) {
            g_free(dir);
            return NULL;
        }
    }
}

char *tf_cluster_spec_find(const char *name, const char *feature_uri)
{
    char *file = g_strdup_printf("%s.json", name);
    const char *env = g_getenv("TF_CLUSTERS");
    char *found = NULL;
    if (env && *env) {
        found = g_build_filename(env, file, NULL);
    } else {
        char *rel = g_build_filename("clusters", file, NULL);
        found = tf_cluster_file_find(feature_uri, rel);
        g_free(rel);
    }
    if (!found)
        found = g_build_filename("scenarios", "clusters", file, NULL);
    g_free(file);
    return found;
}

tf_cluster_spec *tf_cluster_spec_load_named(const char *name, const char *feature_uri,
                                            GError **error)
{
    char *path = tf_cluster_spec_find(name, feature_uri);
    GError *e = NULL;
    tf_cluster_spec *s = tf_cluster_spec_load(path, &e);
    if (!s && e->code == TF_ERROR_IO) { /* say where it was looked for, and how to change it */
        const char *env = g_getenv("TF_CLUSTERS");
        char *from = feature_uri ? g_path_get_dirname(feature_uri) : g_strdup(".");
        if (env && *env)
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "cluster spec %s: %s (TF_CLUSTERS=%s)",
                        name, e->message, env);
        else
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "cluster spec %s: %s (no clusters/%s.json in %s or a folder above it; "
                        "TF_CLUSTERS=DIR names the folder of the specs)", name, e->message, name, from);
        g_free(from);
        g_error_free(e);
    } else if (!s) {
        g_propagate_error(error, e);
    }
    g_free(path);
    return s;
}
