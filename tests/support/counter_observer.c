/* counter_observer.c: see counter_observer.h. */
#include <string.h>
#include "counter_observer.h"

typedef struct {
    counter_config cfg;
    GHashTable *last; /* name -> GINT value */
    guint64 polls;
} counter_state;

static void *counter_init(const void *config, GError **error)
{
    counter_state *s = g_new0(counter_state, 1);
    if (config)
        s->cfg = *(const counter_config *)config;
    s->last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return s;
}

static gboolean counter_poll(void *state, tf_poll_ctx *ctx, GError **error)
{
    counter_state *s = state;
    s->polls++;
    for (guint i = 0; i < G_N_ELEMENTS(s->cfg.fail_cycles) && s->cfg.fail_cycles[i]; i++) {
        if (s->cfg.fail_cycles[i] == tf_poll_cycle(ctx)) {
            g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "planned failure on cycle %" G_GUINT64_FORMAT,
                        tf_poll_cycle(ctx));
            return FALSE;
        }
    }
    GPtrArray *removed = tf_poll_sources_removed(ctx);
    for (guint i = 0; i < removed->len; i++)
        g_hash_table_remove(s->last, tf_source_name(removed->pdata[i]));
    GPtrArray *sources = tf_poll_sources(ctx);
    for (guint i = 0; i < sources->len; i++) {
        tf_source *src = sources->pdata[i];
        counter_cell *cell = tf_source_data(src);
        if (!cell) {
            tf_poll_source_failed(ctx, src, "source has no counter cell");
            continue;
        }
        if (g_atomic_int_get(&cell->fail)) {
            tf_poll_source_failed(ctx, src, "cell is switched to fail");
            continue;
        }
        gint v = g_atomic_int_get(&cell->value);
        gpointer old;
        gboolean known = g_hash_table_lookup_extended(s->last, tf_source_name(src), NULL, &old);
        if (!known || GPOINTER_TO_INT(old) != v) {
            counter_event *ev = g_new0(counter_event, 1);
            ev->source = g_strdup(tf_source_name(src));
            ev->old_value = known ? GPOINTER_TO_INT(old) : -1;
            ev->new_value = v;
            tf_poll_emit(ctx, ev);
            g_hash_table_insert(s->last, g_strdup(tf_source_name(src)), GINT_TO_POINTER(v));
        }
        tf_poll_source_ok(ctx, src);
    }
    return TRUE;
}

static void *counter_snapshot_new(void *state)
{
    counter_state *s = state;
    counter_snapshot *snap = g_new0(counter_snapshot, 1);
    GList *keys = g_list_sort(g_hash_table_get_keys(s->last), (GCompareFunc)strcmp);
    snap->n = g_list_length(keys);
    snap->names = g_new0(char *, snap->n + 1);
    snap->values = g_new0(gint, snap->n + 1);
    snap->polls = s->polls;
    guint i = 0;
    for (GList *k = keys; k; k = k->next, i++) {
        snap->names[i] = g_strdup(k->data);
        snap->values[i] = GPOINTER_TO_INT(g_hash_table_lookup(s->last, k->data));
        snap->sum += snap->values[i];
    }
    g_list_free(keys);
    return snap;
}

static void counter_free_state(void *state)
{
    counter_state *s = state;
    g_hash_table_unref(s->last);
    g_free(s);
}

static void counter_free_snapshot(void *p)
{
    counter_snapshot *s = p;
    g_strfreev(s->names);
    g_free(s->values);
    g_free(s);
}

static void counter_free_event(void *p)
{
    counter_event *e = p;
    g_free(e->source);
    g_free(e);
}

static json_t *counter_snapshot_json(const void *p)
{
    const counter_snapshot *s = p;
    json_t *values = json_object();
    for (guint i = 0; i < s->n; i++)
        json_object_set_new(values, s->names[i], json_integer(s->values[i]));
    return json_pack("{s:o, s:i}", "values", values, "sum", s->sum);
}

static json_t *counter_event_json(const void *p)
{
    const counter_event *e = p;
    return json_pack("{s:s, s:s, s:i, s:i}", "type", "changed", "source", e->source, "old",
                     e->old_value, "new", e->new_value);
}

const tf_observer counter_observer = {
    .name = "counter",
    .version = 1,
    .init = counter_init,
    .poll = counter_poll,
    .snapshot = counter_snapshot_new,
    .free_state = counter_free_state,
    .free_snapshot = counter_free_snapshot,
    .free_event = counter_free_event,
    .snapshot_to_json = counter_snapshot_json,
    .event_to_json = counter_event_json,
};

tf_source *counter_source_new(const char *name, counter_cell *cell)
{
    return tf_source_new(name, NULL, NULL, cell, NULL);
}

gint counter_snapshot_value(const counter_snapshot *s, const char *name)
{
    for (guint i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return s->values[i];
    return -1;
}
