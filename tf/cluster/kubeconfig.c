/* kubeconfig.c: the current context of a kubeconfig file, resolved to what a client needs:
 * server, namespace, bearer token or client certificate, CA, insecure-skip-tls-verify.
 * Only the fields kubectl's own files use for these; exec/auth-provider plug-ins are
 * refused with a message rather than ignored (the request would fail obscurely later). */
#include <string.h>
#include "tf/error.h"
#include "deploy_priv.h"

gchar *tf_kubeconfig_default_path(const char *path)
{
    if (path && *path)
        return g_strdup(path);
    const char *env = g_getenv("KUBECONFIG");
    if (env && *env) {
        /* kubectl merges a list; we take its first file (documented). */
        gchar **parts = g_strsplit(env, ":", -1);
        gchar *first = NULL;
        for (guint i = 0; parts[i] && !first; i++)
            if (*parts[i])
                first = g_strdup(parts[i]);
        g_strfreev(parts);
        if (first)
            return first;
    }
    return g_build_filename(g_get_home_dir(), ".kube", "config", NULL);
}

void tf_kubeconfig_free(tf_kubeconfig *kc)
{
    if (!kc)
        return;
    g_free(kc->path);
    g_free(kc->context);
    g_free(kc->cluster);
    g_free(kc->user);
    g_free(kc->server);
    g_free(kc->ns);
    if (kc->token)
        memset(kc->token, 0, strlen(kc->token));
    g_free(kc->token);
    if (kc->ca)
        g_bytes_unref(kc->ca);
    if (kc->cert)
        g_bytes_unref(kc->cert);
    if (kc->key)
        g_bytes_unref(kc->key);
    g_free(kc);
}

/* The entry of list (clusters, users, contexts) called name: its `field` object. */
static json_t *named(json_t *root, const char *list, const char *name, const char *field)
{
    json_t *arr = json_object_get(root, list);
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
        const char *n = json_string_value(json_object_get(it, "name"));
        if (n && !strcmp(n, name)) {
            json_t *f = json_object_get(it, field);
            return json_is_object(f) ? f : NULL;
        }
    }
    return NULL;
}

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* Reads a PEM from "<base>-data" (base64) or "<base>" (a file, relative to dir). */
static gboolean pem(const tf_kubeconfig *kc, json_t *obj, const char *base, const char *dir,
                    GBytes **out, GError **error)
{
    gchar *datakey = g_strconcat(base, "-data", NULL);
    const char *data = str(obj, datakey);
    const char *file = str(obj, base);
    gboolean ok = TRUE;
    if (data) {
        gsize len = 0;
        gchar *tmp = g_strdup(data);
        g_strdelimit(tmp, " \n", ' ');
        guchar *raw = g_base64_decode(g_strstrip(tmp), &len);
        g_free(tmp);
        if (!len || !g_strstr_len((const char *)raw, (gssize)len, "-----BEGIN")) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: %s: %s is not base64 of a PEM block",
                        kc->path, kc->context, datakey);
            g_free(raw);
            ok = FALSE;
        } else {
            *out = g_bytes_new_take(raw, len);
        }
    } else if (file) {
        gchar *path = g_path_is_absolute(file) ? g_strdup(file) : g_build_filename(dir, file, NULL);
        gchar *text = NULL;
        gsize len = 0;
        GError *e = NULL;
        if (!g_file_get_contents(path, &text, &len, &e)) {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: %s: %s: %s", kc->path, kc->context,
                        base, e->message);
            g_error_free(e);
            ok = FALSE;
        } else {
            *out = g_bytes_new_take(text, len);
        }
        g_free(path);
    }
    g_free(datakey);
    return ok;
}

static tf_kubeconfig *resolve(json_t *root, const char *where, const char *dir, GError **error)
{
    tf_kubeconfig *kc = g_new0(tf_kubeconfig, 1);
    kc->path = g_strdup(where);
    const char *ctx = str(root, "current-context");
    if (!ctx) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: current-context: not set", where);
        goto fail;
    }
    kc->context = g_strdup(ctx);
    json_t *c = named(root, "contexts", ctx, "context");
    if (!c) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: contexts: no context named '%s'",
                    where, ctx);
        goto fail;
    }
    const char *cname = str(c, "cluster"), *uname = str(c, "user");
    kc->ns = g_strdup(str(c, "namespace"));
    if (!cname) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: context '%s': no cluster", where, ctx);
        goto fail;
    }
    kc->cluster = g_strdup(cname);
    json_t *cl = named(root, "clusters", cname, "cluster");
    if (!cl || !str(cl, "server")) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: clusters: '%s' %s", where, cname,
                    cl ? "has no server" : "is not defined");
        goto fail;
    }
    kc->server = g_strdup(str(cl, "server"));
    const char *insecure = str(cl, "insecure-skip-tls-verify");
    kc->insecure = insecure && !g_ascii_strcasecmp(insecure, "true");
    if (!pem(kc, cl, "certificate-authority", dir, &kc->ca, error))
        goto fail;
    if (uname) {
        kc->user = g_strdup(uname);
        json_t *u = named(root, "users", uname, "user");
        if (!u) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: users: '%s' is not defined",
                        where, uname);
            goto fail;
        }
        if (json_object_get(u, "exec") || json_object_get(u, "auth-provider")) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "%s: user '%s': exec/auth-provider credentials are not supported; "
                        "use a token (kubectl create token SA) or a client certificate",
                        where, uname);
            goto fail;
        }
        if (str(u, "username") || str(u, "password")) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "%s: user '%s': basic auth is not supported (removed in Kubernetes "
                        "1.19); use a token or a client certificate", where, uname);
            goto fail;
        }
        kc->token = g_strdup(str(u, "token"));
        const char *tfile = str(u, "tokenFile");
        if (!kc->token && tfile) {
            gchar *path = g_path_is_absolute(tfile) ? g_strdup(tfile) : g_build_filename(dir, tfile, NULL);
            GError *e = NULL;
            if (!g_file_get_contents(path, &kc->token, NULL, &e)) {
                g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: user '%s': tokenFile: %s", where,
                            uname, e->message);
                g_error_free(e);
                g_free(path);
                goto fail;
            }
            g_strstrip(kc->token);
            g_free(path);
        }
        if (!pem(kc, u, "client-certificate", dir, &kc->cert, error) ||
            !pem(kc, u, "client-key", dir, &kc->key, error))
            goto fail;
        if (!kc->cert != !kc->key) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: user '%s': %s without %s", where,
                        uname, kc->cert ? "client-certificate" : "client-key",
                        kc->cert ? "client-key" : "client-certificate");
            goto fail;
        }
    }
    return kc;
fail:
    tf_kubeconfig_free(kc);
    return NULL;
}

tf_kubeconfig *tf_kubeconfig_parse(const char *text, const char *where, const char *dir,
                                   GError **error)
{
    json_t *root = tf_yaml_subset_parse(text, where, error);
    if (!root)
        return NULL;
    tf_kubeconfig *kc = NULL;
    if (!json_is_object(root))
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: not a kubeconfig (no top-level mapping)",
                    where);
    else
        kc = resolve(root, where, dir ? dir : ".", error);
    json_decref(root);
    return kc;
}

tf_kubeconfig *tf_kubeconfig_load(const char *path, GError **error)
{
    gchar *file = tf_kubeconfig_default_path(path);
    gchar *text = NULL;
    GError *e = NULL;
    tf_kubeconfig *kc = NULL;
    if (!g_file_get_contents(file, &text, NULL, &e)) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "kubeconfig: %s", e->message);
        g_error_free(e);
    } else {
        gchar *dir = g_path_get_dirname(file);
        kc = tf_kubeconfig_parse(text, file, dir, error);
        g_free(dir);
    }
    g_free(text);
    g_free(file);
    return kc;
}
