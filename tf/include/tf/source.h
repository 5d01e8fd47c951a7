/* source.h: observed sources and the providers that list them.
 * A source is a named endpoint (a node). A provider returns the *current* set each
 * cycle, so nodes may come and go while a run observes them. */
#ifndef TF_SOURCE_H
#define TF_SOURCE_H

#include <glib.h>
#include <jansson.h>
#include "tf/api.h"

G_BEGIN_DECLS

/* A named, immutable, refcounted source: name, optional URL, optional JSON attributes
 * (tags such as {"role":"public"}, credentials references, ports) and an app pointer. */
typedef struct tf_source tf_source;

/* Creates a source with one reference. Copies name and url; takes ownership of attrs
 * (may be NULL) and of data, freed with free_data (may be NULL) when the last ref goes. */
TF_API tf_source *tf_source_new(const char *name, const char *url, json_t *attrs,
                                void *data, GDestroyNotify free_data);
/* Adds a reference; returns src. */
TF_API tf_source *tf_source_ref(tf_source *src);
/* Drops a reference; frees the source at zero. NULL is a no-op. */
TF_API void tf_source_unref(tf_source *src);
/* The source's name (borrowed, lives as long as the source). */
TF_API const char *tf_source_name(const tf_source *src);
/* The source's URL or NULL (borrowed). */
TF_API const char *tf_source_url(const tf_source *src);
/* The source's attributes or NULL (borrowed; do not modify). */
TF_API json_t *tf_source_attrs(const tf_source *src);
/* A string attribute by key, or NULL when absent or not a string (borrowed). */
TF_API const char *tf_source_attr_str(const tf_source *src, const char *key);
/* The app pointer given at creation (borrowed). */
TF_API void *tf_source_data(const tf_source *src);
/* TRUE when two sources describe the same endpoint (name, url and attrs equal). */
TF_API gboolean tf_source_equal(const tf_source *a, const tf_source *b);

/* What a provider implements. `list` appends the current sources (new references) to
 * `out` and returns TRUE, or returns FALSE with an error (the runtime keeps the previous
 * set). `free` releases self. Both are called from the runtime's thread only. */
typedef struct {
    const char *name;
    gboolean (*list)(void *self, GPtrArray *out, GError **error);
    void (*free)(void *self);
} tf_source_provider_vtable;

/* A source provider: a vtable plus its state. Owned by whoever holds it (the runtime
 * after tf_runtime_new). */
typedef struct tf_source_provider tf_source_provider;

/* Wraps a user provider. vt is borrowed (usually static); self is owned (freed by vt->free). */
TF_API tf_source_provider *tf_source_provider_new(const tf_source_provider_vtable *vt, void *self);
/* A provider that always lists the same sources; takes a ref on each of the n sources. */
TF_API tf_source_provider *tf_source_provider_new_static(tf_source *const *sources, guint n);
/* A provider reading a JSON cluster file, re-read whenever its mtime or size changes:
 * {"sources":[{"name":"n1","url":"http://127.0.0.1:2379", ...attrs}]}. Path is copied.
 * A missing, unreadable or malformed file is an error naming the path; the runtime then
 * keeps the previous set. */
TF_API tf_source_provider *tf_source_provider_new_file(const char *path);
/* Lists the current sources into out (new refs). Returns FALSE with error on failure. */
TF_API gboolean tf_source_provider_list(tf_source_provider *p, GPtrArray *out, GError **error);
/* The provider's name (borrowed). */
TF_API const char *tf_source_provider_name(const tf_source_provider *p);
/* Frees the provider and its state. NULL is a no-op. */
TF_API void tf_source_provider_free(tf_source_provider *p);

/* Parses one source from a JSON object {"name":..,"url":..,...}; every other key is kept
 * as an attribute. `where` prefixes errors (e.g. "cluster.json: sources[2]"). */
TF_API tf_source *tf_source_from_json(json_t *obj, const char *where, GError **error);

G_END_DECLS

#endif
