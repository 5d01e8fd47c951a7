/* shard.c: `tf run --shard I/N`: a deterministic Nth of the selected pickles, so N CI jobs
 * (or the pods of an Indexed Job) cover a suite exactly once. A pickle belongs to shard
 * hash(uri, line, name) mod N, with a hash that is fixed here (FNV-1a, 64 bits): the same
 * feature files named by the same paths split the same way on every run and machine,
 * whatever the order, the tags filter or the ids. Ids are not used: they depend on what
 * else was parsed. */
#include <string.h>
#include "option_value.h"
#include "runner_priv.h"
#include "tf/error.h"

static guint64 fnv1a(guint64 h, const void *data, gsize len)
{
    const guchar *p = data;
    for (gsize i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

guint tf_shard_of(const tf_gherkin_pickle *p, guint count)
{
    char line[16];
    g_snprintf(line, sizeof line, "%u", p->location.line);
    guint64 h = 14695981039346656037ULL;
    h = fnv1a(h, p->uri, strlen(p->uri) + 1); /* the NULs keep the fields apart */
    h = fnv1a(h, line, strlen(line) + 1);
    h = fnv1a(h, p->name, strlen(p->name));
    return (guint)(h % count);
}

gboolean tf_shard_parse(const char *text, tf_shard *out, GError **error)
{
    guint64 i = 0, n = 0;
    const char *slash = strchr(text, '/');
    char *index = slash ? g_strndup(text, slash - text) : NULL;
    gboolean ok = slash && tf_opt_parse_uint("--shard: N", slash + 1, 1, 100000, &n, NULL) &&
                  tf_opt_parse_uint("--shard: I", index, 0, n - 1, &i, NULL);
    g_free(index);
    if (!ok) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "--shard: '%s' is not I/N with 0 <= I < N <= 100000 (I counts from 0, "
                    "as a Kubernetes Indexed Job's JOB_COMPLETION_INDEX does)", text);
        return FALSE;
    }
    *out = (tf_shard){.index = (guint)i, .count = (guint)n};
    return TRUE;
}

void tf_shard_select(GPtrArray *features, const tf_shard *shard)
{
    for (guint f = 0; f < features->len; f++) {
        tf_run_feature *feat = g_ptr_array_index(features, f);
        guint kept = 0;
        for (guint i = 0; i < feat->selected->len; i++) {
            const tf_gherkin_pickle *p = g_ptr_array_index(feat->selected, i);
            if (tf_shard_of(p, shard->count) == shard->index)
                feat->selected->pdata[kept++] = (gpointer)p;
        }
        g_ptr_array_set_size(feat->selected, kept);
    }
}
