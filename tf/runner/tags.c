/* tags.c: hooks and --tags select pickles by tag expression; this adapts the tag
 * expression library (tf/tags.h) to pickles, whose tags it reads by name. */
#include "runner_priv.h"
#include "tf/tags.h"

struct tf_tag_matcher {
    tf_tag_expression *expr;
};

tf_tag_matcher *tf_tag_matcher_new(const char *source, GError **error)
{
    tf_tag_expression *e = tf_tag_expression_parse(source, error);
    if (!e)
        return NULL;
    tf_tag_matcher *m = g_new0(tf_tag_matcher, 1);
    m->expr = e;
    return m;
}

gboolean tf_tag_matcher_match(const tf_tag_matcher *m, const tf_gherkin_pickle *p)
{
    if (!m)
        return TRUE;
    const char *small[16] = {0};
    const char **names = p->n_tags <= G_N_ELEMENTS(small) ? small : g_new(const char *, p->n_tags);
    for (guint i = 0; i < p->n_tags; i++)
        names[i] = p->tags[i].name;
    gboolean r = tf_tag_expression_evaluate(m->expr, names, p->n_tags);
    if (names != small)
        g_free(names);
    return r;
}

void tf_tag_matcher_free(tf_tag_matcher *m)
{
    if (!m)
        return;
    tf_tag_expression_free(m->expr);
    g_free(m);
}
