/* source.c: named sources and the two built-in providers (static list, cluster file).
 * A provider answers "which sources exist now?" every cycle, so the cluster file
 * provider re-reads its file only when the file's identity (inode, size, mtime) changes. */
#include <string.h>
#include <sys/stat.h>
#include "tf/error.h"
#include "tf/source.h"
#include "util/assert.h"

struct tf_source {
    gint refs;
    char *name;
    char *url;
    json_t *attrs;
    void *data;
    GDestroyNotify free_data;
};

tf_source *tf_source_new(const char *name, const char *url, json_t *attrs, void *data,
                         GDestroyNotify free_data)
{
    g_return_val_if_fail(name != NULL, NULL);
    tf_source *s = g_new0(tf_source, 1);
    s->refs = 1;
    s->name = g_strdup(name);
    s->url = g_strdup(url);
    s->attrs = attrs;
    s->data = data;
    s->free_data = free_data;
    return s;
}

tf_source *tf_source_ref(tf_source *src)
{
    tf_refs_inc(&src->refs);
    return src;
}

void tf_source_unref(tf_source *src)
{
    if (!src || !tf_refs_dec(&src->refs))
        return;
    if (src->free_data)
        src->free_data(src->data);
    json_decref(src->attrs);
    g_free(src->name);
    g_free(src->url);
    g_free(src);
}

const char *tf_source_name(const tf_source *src) { return src->name; }
const char *tf_source_url(const tf_source *src) { return src->url; }
json_t *tf_source_attrs(const tf_source *src) { return src->attrs; }
void *tf_source_data(const tf_source *src) { return src->data; }

const char *tf_source_attr_str(const tf_source *src, const char *key)
{
    json_t *v = src->attrs ? json_object_get(src->attrs, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

gboolean tf_source_equal(const tf_source *a, const tf_source *b)
{
    if (strcmp(a->name, b->name) || g_strcmp0(a->url, b->url))
        return FALSE;
    if (!a->attrs || !b->attrs)
        return a->attrs == b->attrs;
    return json_equal(a->attrs, b->attrs);
}

tf_source *tf_source_from_json(json_t *obj, const char *where, GError **error)
{
    if (!json_is_object(obj)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: a source must be a JSON object", where);
        return NULL;
    }
    json_t *name = json_object_get(obj, "name"), *url = json_object_get(obj, "url");
    if (!json_is_string(name) || !*json_string_value(name)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: missing string field \"name\"", where);
        return NULL;
    }
    if (url && !json_is_string(url)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: \"url\" must be a string", where);
        return NULL;
    }
    json_t *attrs = json_deep_copy(obj);
    json_object_del(attrs, "name");
    json_object_del(attrs, "url");
    return tf_source_new(json_string_value(name), url ? json_string_value(url) : NULL, attrs,
                         NULL, NULL);
}

/* ---- providers ---------------------------------------------------------------------- */

struct tf_source_provider {
    const tf_source_provider_vtable *vt;
    void *self;
};

tf_source_provider *tf_source_provider_new(const tf_source_provider_vtable *vt, void *self)
{
    g_return_val_if_fail(vt != NULL && vt->list != NULL, NULL);
    tf_source_provider *p = g_new0(tf_source_provider, 1);
    p->vt = vt;
    p->self = self;
    return p;
}

gboolean tf_source_provider_list(tf_source_provider *p, GPtrArray *out, GError **error)
{
    return p->vt->list(p->self, out, error);
}

const char *tf_source_provider_name(const tf_source_provider *p)
{
    return p->vt->name ? p->vt->name : "provider";
}

void tf_source_provider_free(tf_source_provider *p)
{
    if (!p)
        return;
    if (p->vt->free)
        p->vt->free(p->self);
    g_free(p);
}

/* Static list: the same sources every time. */

static gboolean static_list(void *self, GPtrArray *out, GError **error)
{
    GPtrArray *sources = self;
    for (guint i = 0; i < sources->len; i++)
        g_ptr_array_add(out, tf_source_ref(sources->pdata[i]));
    return TRUE;
}

static void static_free(void *self) { g_ptr_array_unref(self); }

static const tf_source_provider_vtable static_vt = {"static", static_list, static_free};

tf_source_provider *tf_source_provider_new_static(tf_source *const *sources, guint n)
{
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(list, tf_source_ref(sources[i]));
    return tf_source_provider_new(&static_vt, list);
}

/* Cluster file: JSON re-read when the file changes; the last good set is cached. */

typedef struct {
    char *path;
    struct stat seen;  /* identity of the file the cache came from */
    gboolean have_cache;
    GPtrArray *cache;
} file_provider;

static gboolean same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static GPtrArray *file_parse(const char *path, GError **error)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "cluster file %s:%d:%d: %s", path,
                    jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    json_t *list = json_object_get(root, "sources");
    if (!json_is_array(list)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE,
                    "cluster file %s: expected an object with a \"sources\" array", path);
        json_decref(root);
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        char *where = g_strdup_printf("cluster file %s: sources[%zu]", path, i);
        tf_source *s = tf_source_from_json(item, where, error);
        g_free(where);
        if (!s) {
            g_ptr_array_unref(out);
            json_decref(root);
            return NULL;
        }
        g_ptr_array_add(out, s);
    }
    json_decref(root);
    return out;
}

static gboolean file_list(void *self, GPtrArray *out, GError **error)
{
    file_provider *fp = self;
    struct stat st;
    if (stat(fp->path, &st) != 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "cluster file %s: %s", fp->path,
                    g_strerror(errno));
        return FALSE;
    }
    if (!fp->have_cache || !same_file(&st, &fp->seen)) {
        GPtrArray *fresh = file_parse(fp->path, error);
        if (!fresh)
            return FALSE;
        if (fp->cache)
            g_ptr_array_unref(fp->cache);
        fp->cache = fresh;
        fp->seen = st;
        fp->have_cache = TRUE;
    }
    return static_list(fp->cache, out, error);
}

static void file_free(void *self)
{
    file_provider *fp = self;
    if (fp->cache)
        g_ptr_array_unref(fp->cache);
    g_free(fp->path);
    g_free(fp);
}

static const tf_source_provider_vtable file_vt = {"cluster-file", file_list, file_free};

tf_source_provider *tf_source_provider_new_file(const char *path)
{
    file_provider *fp = g_new0(file_provider, 1);
    fp->path = g_strdup(path);
    return tf_source_provider_new(&file_vt, fp);
}
