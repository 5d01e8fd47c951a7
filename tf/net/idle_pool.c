/* idle_pool.c: items kept idle between batches, by key, for both ways tf_http sends
 * (idle_pool_priv.h). Each key remembers the run that last used it, so trimming lets go
 * of what recent batches no longer ask for and keeps what they do. */
#include <string.h>
#include "net/idle_pool_priv.h"

typedef struct {
    GPtrArray *items;
    guint64 used;   /* the run that last took or gave one back */
} idle_set;

void tf_http_wipe_free(gpointer s)
{
    if (!s)
        return;
    memset(s, 0, strlen(s));
    g_free(s);
}

static void set_free(gpointer p)
{
    idle_set *s = p;
    g_ptr_array_unref(s->items); /* its items were dropped or taken first */
    g_free(s);
}

void tf_idle_pool_init(tf_idle_pool *p, void (*drop)(gpointer item, gpointer user), gpointer user)
{
    p->sets = g_hash_table_new_full(g_str_hash, g_str_equal, tf_http_wipe_free, set_free);
    p->n = 0;
    p->drop = drop;
    p->user = user;
}

static void drop_all(tf_idle_pool *p, idle_set *s)
{
    for (guint i = 0; i < s->items->len; i++)
        p->drop(s->items->pdata[i], p->user);
    p->n -= s->items->len;
    g_ptr_array_set_size(s->items, 0);
}

void tf_idle_pool_clear(tf_idle_pool *p)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, p->sets);
    while (g_hash_table_iter_next(&it, NULL, &v))
        drop_all(p, v);
    g_hash_table_unref(p->sets);
    p->sets = NULL;
}

gpointer tf_idle_pool_take(tf_idle_pool *p, const char *key, guint64 run)
{
    idle_set *s = g_hash_table_lookup(p->sets, key);
    if (!s)
        return NULL;
    s->used = run;
    if (!s->items->len)
        return NULL;
    p->n--;
    return g_ptr_array_steal_index_fast(s->items, s->items->len - 1);
}

void tf_idle_pool_give(tf_idle_pool *p, const char *key, gpointer item, guint64 run)
{
    idle_set *s = g_hash_table_lookup(p->sets, key);
    if (!s) {
        s = g_new0(idle_set, 1);
        s->items = g_ptr_array_new();
        g_hash_table_insert(p->sets, g_strdup(key), s);
    }
    s->used = run;
    g_ptr_array_add(s->items, item);
    p->n++;
}

gboolean tf_idle_pool_remove(tf_idle_pool *p, const char *key, gpointer item)
{
    idle_set *s = g_hash_table_lookup(p->sets, key);
    if (!s || !g_ptr_array_remove_fast(s->items, item))
        return FALSE;
    p->n--;
    return TRUE;
}

void tf_idle_pool_trim(tf_idle_pool *p, guint64 run, guint largest)
{
    if (p->n <= 2 * largest)
        return;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, p->sets);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        idle_set *s = v;
        if (s->used != run) {
            drop_all(p, s);
            g_hash_table_iter_remove(&it);
        }
    }
}
