/* layout.c: what a node is on disk and on the wire before it runs.
 * Name, data dir, log files and ports are fixed at creation and kept across restarts;
 * the spec's templates are expanded here once per node, {peers} over the whole cluster. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "net.h"
#include "owner.h"

static void set_var(tf_cluster_node *n, const char *key, const char *val)
{
    g_hash_table_insert(n->vars, g_strdup(key), g_strdup(val));
}

tf_cluster_node *tf_cluster_node_new(tf_cluster *c, guint index, gboolean joined, GError **error)
{
    const tf_cluster_spec *s = c->spec;
    tf_cluster_node *n = g_new0(tf_cluster_node, 1);
    n->index = index;
    n->joined = joined;
    n->pidfd = -1;
    n->state = TF_NODE_CREATED;
    pthread_mutex_init(&n->op, NULL);
    n->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    gchar idx[16], ord[16];
    g_snprintf(idx, sizeof idx, "%u", index);
    g_snprintf(ord, sizeof ord, "%u", index + 1);
    set_var(n, "index", idx);
    set_var(n, "ordinal", ord);
    set_var(n, "cluster", s->name);
    GError *e = NULL;
    n->name = tf_cluster_tmpl_expand(s->node_name, n->vars, &e);
    if (!n->name) { /* the spec was validated: only a bug gets here */
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: node_name: %s", s->where, e->message);
        g_error_free(e);
        tf_cluster_node_free(n);
        return NULL;
    }
    if (!*n->name || strchr(n->name, '/') || !strcmp(n->name, ".") || !strcmp(n->name, "..") ||
        g_str_has_prefix(n->name, TF_OWNER_FILE)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: node_name: '%s' cannot name a directory", s->where, n->name);
        tf_cluster_node_free(n);
        return NULL;
    }
    n->base = g_build_filename(c->dir, n->name, NULL);
    n->dir = g_build_filename(n->base, "data", NULL);
    n->log[TF_CLUSTER_LOG_STDOUT] = g_build_filename(n->base, "stdout.log", NULL);
    n->log[TF_CLUSTER_LOG_STDERR] = g_build_filename(n->base, "stderr.log", NULL);
    if (g_mkdir_with_parents(n->dir, 0700) < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s/%s: mkdir %s: %s", s->name, n->name, n->dir,
                    g_strerror(errno));
        tf_cluster_node_free(n);
        return NULL;
    }
    set_var(n, "name", n->name);
    set_var(n, "dir", n->dir);
    /* In a namespace the node has an address of its own; net.c made it (index order). */
    const char *addr = c->net ? tf_net_address(c->net, index) : "127.0.0.1";
    if (!addr) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: no network member %u", s->name,
                    n->name, index);
        tf_cluster_node_free(n);
        return NULL;
    }
    n->address = g_strdup(addr);
    set_var(n, "address", n->address);
    set_var(n, "runner_address", c->net ? tf_net_runner_address(c->net) : "127.0.0.1");
    set_var(n, "cluster_token", c->token);
    set_var(n, "cluster_secret", c->secret);
    if (!tf_cluster_node_assign_ports(c, n, error)) {
        tf_cluster_node_free(n);
        return NULL;
    }
    return n;
}

gboolean tf_cluster_node_assign_ports(tf_cluster *c, tf_cluster_node *n, GError **error)
{
    GPtrArray *names = c->spec->ports;
    g_free(n->ports);
    n->ports = g_new0(guint, names->len ? names->len : 1);
    for (guint i = 0; i < names->len; i++) {
        GError *e = NULL;
        n->ports[i] = tf_cluster_port_take(&e);
        if (!n->ports[i]) {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s/%s: %s", c->spec->name, n->name,
                        e->message);
            g_error_free(e);
            return FALSE;
        }
        gchar key[64], val[16];
        g_snprintf(key, sizeof key, "port.%s", (const char *)names->pdata[i]);
        g_snprintf(val, sizeof val, "%u", n->ports[i]);
        set_var(n, key, val);
    }
    return TRUE;
}

/* Expands tmpl for n, prefixing errors with the node and field. */
static gchar *expand(tf_cluster *c, tf_cluster_node *n, GHashTable *vars, const char *tmpl,
                     const char *field, GError **error)
{
    GError *e = NULL;
    gchar *out = tf_cluster_tmpl_expand(tmpl, vars, &e);
    if (!out) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: %s: %s", c->spec->name, n->name,
                    field, e->message);
        g_error_free(e);
    }
    return out;
}

/* One expanded peer template per node that n should name in {peers}. */
static GPtrArray *peer_list(tf_cluster *c, tf_cluster_node *n, GError **error)
{
    GPtrArray *peers = g_ptr_array_new_with_free_func(g_free);
    if (!c->spec->peer)
        return peers;
    for (guint i = 0; i < c->nodes->len; i++) {
        tf_cluster_node *p = c->nodes->pdata[i];
        if (p == n && !c->spec->peer_self)
            continue;
        gchar *one = expand(c, p, p->vars, c->spec->peer, "peer", error);
        if (!one) {
            g_ptr_array_unref(peers);
            return NULL;
        }
        g_ptr_array_add(peers, one);
    }
    return peers;
}

static gboolean expand_attrs(tf_cluster *c, tf_cluster_node *n, GError **error)
{
    json_decref(n->attrs);
    n->attrs = NULL;
    if (!c->spec->attrs)
        return TRUE;
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(c->spec->attrs, key, v) {
        if (json_is_string(v)) {
            gchar *field = g_strdup_printf("source.attrs.%s", key);
            gchar *s = expand(c, n, n->vars, json_string_value(v), field, error);
            g_free(field);
            if (!s) {
                json_decref(out);
                return FALSE;
            }
            json_object_set_new(out, key, json_string(s));
            g_free(s);
        } else {
            json_object_set_new(out, key, json_deep_copy(v));
        }
    }
    n->attrs = out;
    return TRUE;
}

static gboolean expand_probe(tf_cluster *c, tf_cluster_node *n, GError **error)
{
    const tf_probe_spec *ps = &c->spec->ready;
    tf_cluster_probe_clear(&n->probe);
    n->probe.kind = ps->kind;
    n->probe.method = g_strdup(ps->method);
    n->probe.host = g_strdup(n->address);
    const char *tmpl[] = {ps->target, ps->body, ps->user, ps->password};
    gchar **dst[] = {&n->probe.target, &n->probe.body, &n->probe.user, &n->probe.password};
    for (guint i = 0; i < G_N_ELEMENTS(tmpl); i++) {
        if (tmpl[i] && !(*dst[i] = expand(c, n, n->vars, tmpl[i], "ready", error)))
            return FALSE;
    }
    return TRUE;
}

gboolean tf_cluster_node_expand(tf_cluster *c, tf_cluster_node *n, GError **error)
{
    GPtrArray *peers = peer_list(c, n, error);
    if (!peers)
        return FALSE;
    /* {peers} is only for argv: a copy of the variables with it added. */
    GHashTable *vars = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, n->vars);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_insert(vars, k, v);
    g_ptr_array_add(peers, NULL);
    gchar *joined = g_strjoinv(c->spec->peer_sep ? c->spec->peer_sep : ",", (gchar **)peers->pdata);
    g_ptr_array_set_size(peers, peers->len - 1);
    if (c->spec->peer)
        g_hash_table_insert(vars, "peers", joined);

    GPtrArray *tmpl = n->joined && c->spec->argv_join ? c->spec->argv_join : c->spec->argv;
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(c->binary));
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < tmpl->len; i++) {
        const char *t = tmpl->pdata[i];
        if (!strcmp(t, TF_CLUSTER_PEERS_SPLAT)) {
            for (guint j = 0; j < peers->len; j++)
                g_ptr_array_add(argv, g_strdup(peers->pdata[j]));
            continue;
        }
        gchar field[32];
        g_snprintf(field, sizeof field, "%s[%u]", tmpl == c->spec->argv ? "argv" : "argv_join", i);
        gchar *a = expand(c, n, vars, t, field, error);
        if (a)
            g_ptr_array_add(argv, a);
        else
            ok = FALSE;
    }
    g_free(joined);
    g_hash_table_unref(vars);
    g_ptr_array_unref(peers);
    g_ptr_array_add(argv, NULL);
    gchar **av = (gchar **)g_ptr_array_free(argv, FALSE);
    if (!ok) {
        g_strfreev(av);
        return FALSE;
    }
    g_strfreev(n->argv);
    n->argv = av;
    g_free(n->url);
    n->url = NULL;
    if (c->spec->url && !(n->url = expand(c, n, n->vars, c->spec->url, "source.url", error)))
        return FALSE;
    return expand_attrs(c, n, error) && expand_probe(c, n, error);
}

void tf_cluster_node_free(tf_cluster_node *n)
{
    if (!n)
        return;
    if (n->pidfd >= 0)
        close(n->pidfd);
    g_free(n->name);
    g_free(n->base);
    g_free(n->dir);
    g_free(n->log[0]);
    g_free(n->log[1]);
    g_free(n->address);
    g_free(n->ports);
    if (n->vars)
        g_hash_table_unref(n->vars);
    g_strfreev(n->argv);
    g_free(n->url);
    json_decref(n->attrs);
    tf_cluster_probe_clear(&n->probe);
    pthread_mutex_destroy(&n->op);
    g_free(n);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

gboolean tf_cluster_rm_rf(const char *path, GError **error)
{
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "remove %s: %s", path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}
