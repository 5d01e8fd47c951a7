/* snapshot.c: immutable refcounted snapshots and event batches.
 * Publishing hands these to readers on any thread; refcounts make "keep it as long as you
 * like" safe without copying the observer's data. */
#include "observe_priv.h"

struct tf_snapshot {
    gint refs;
    const tf_observer *obs;
    void *data;
    guint64 cycle;
    gint64 cycle_started;
    gint64 time;
    gint64 wall_time;
    tf_names *sources;
};

tf_names *tf_names_new(char **names)
{
    tf_names *n = g_new0(tf_names, 1);
    n->refs = 1;
    n->names = names;
    return n;
}

tf_names *tf_names_ref(tf_names *n)
{
    tf_refs_inc(&n->refs);
    return n;
}

void tf_names_unref(tf_names *n)
{
    if (!n || !tf_refs_dec(&n->refs))
        return;
    g_strfreev(n->names);
    g_free(n);
}

tf_snapshot *tf_snapshot_new(const tf_observer *obs, void *data, guint64 cycle,
                             gint64 cycle_started, gint64 time, tf_names *sources)
{
    tf_snapshot *s = g_new0(tf_snapshot, 1);
    s->refs = 1;
    s->obs = obs;
    s->data = data;
    s->cycle = cycle;
    s->cycle_started = cycle_started;
    s->time = time;
    s->wall_time = g_get_real_time();
    s->sources = sources;
    return s;
}

tf_snapshot *tf_snapshot_ref(tf_snapshot *snap)
{
    tf_refs_inc(&snap->refs);
    return snap;
}

void tf_snapshot_unref(tf_snapshot *snap)
{
    if (!snap || !tf_refs_dec(&snap->refs))
        return;
    if (snap->data)
        snap->obs->free_snapshot(snap->data);
    tf_names_unref(snap->sources);
    g_free(snap);
}

guint64 tf_snapshot_cycle(const tf_snapshot *snap) { return snap->cycle; }
gint64 tf_snapshot_cycle_started(const tf_snapshot *snap) { return snap->cycle_started; }
gint64 tf_snapshot_time(const tf_snapshot *snap) { return snap->time; }
gint64 tf_snapshot_wall_time(const tf_snapshot *snap) { return snap->wall_time; }
const void *tf_snapshot_data(const tf_snapshot *snap) { return snap->data; }
const tf_observer *tf_snapshot_observer(const tf_snapshot *snap) { return snap->obs; }

const char *const *tf_snapshot_sources(const tf_snapshot *snap)
{
    return (const char *const *)snap->sources->names;
}

char *tf_time_format(gint64 wall_us)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(wall_us / G_USEC_PER_SEC);
    if (!dt)
        return NULL;
    char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    char *v = g_strdup_printf("%s.%03dZ", base, (int)((wall_us % G_USEC_PER_SEC) / 1000));
    g_free(base);
    g_date_time_unref(dt);
    return v;
}

json_t *tf_time_to_json(gint64 wall_us)
{
    char *s = tf_time_format(wall_us);
    json_t *v = s ? json_string(s) : json_null();
    g_free(s);
    return v;
}

json_t *tf_snapshot_to_json(const tf_snapshot *snap)
{
    json_t *sources = json_array();
    for (char **s = snap->sources->names; *s; s++)
        json_array_append_new(sources, json_string(*s));
    json_t *state = snap->data ? snap->obs->snapshot_to_json(snap->data) : NULL;
    return json_pack("{s:I, s:I, s:o, s:o, s:o*}", "cycle", (json_int_t)snap->cycle, "time",
                     (json_int_t)snap->time, "wall_time", tf_time_to_json(snap->wall_time),
                     "sources", sources, "state", state);
}

/* ---- batches ------------------------------------------------------------------------ */

struct tf_batch {
    gint refs;
    const tf_observer *obs;
    guint64 seq;
    guint64 cycle;
    gint64 wall_time;
    GPtrArray *events; /* NULL for a batch replayed from the journal */
    json_t *replayed;  /* its stored JSON, then */
};

tf_batch *tf_batch_new(const tf_observer *obs, guint64 seq, guint64 cycle, GPtrArray *events)
{
    tf_assert(seq > 0 && events && events->len > 0); /* a batch is a cycle's non-empty events */
    tf_batch *b = g_new0(tf_batch, 1);
    b->refs = 1;
    b->obs = obs;
    b->seq = seq;
    b->cycle = cycle;
    b->wall_time = g_get_real_time();
    b->events = events;
    return b;
}

/* A journal batch only exists as JSON (the observer has no event_from_json): its events
 * are not handed out one by one, but its JSON is exactly what was recorded. */
tf_batch *tf_batch_new_replayed(const tf_observer *obs, json_t *batch_json)
{
    tf_batch *b = g_new0(tf_batch, 1);
    b->refs = 1;
    b->obs = obs;
    b->seq = (guint64)json_integer_value(json_object_get(batch_json, "seq"));
    b->cycle = (guint64)json_integer_value(json_object_get(batch_json, "cycle"));
    const char *wall = json_string_value(json_object_get(batch_json, "wall_time"));
    GDateTime *dt = wall ? g_date_time_new_from_iso8601(wall, NULL) : NULL;
    b->wall_time = dt ? g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt)
                      : 0;
    if (dt)
        g_date_time_unref(dt);
    b->replayed = batch_json;
    return b;
}

gboolean tf_batch_replayed(const tf_batch *b) { return b->replayed != NULL; }

tf_batch *tf_batch_ref(tf_batch *b)
{
    tf_refs_inc(&b->refs);
    return b;
}

void tf_batch_unref(tf_batch *b)
{
    if (!b || !tf_refs_dec(&b->refs))
        return;
    if (b->replayed) {
        json_decref(b->replayed);
        g_free(b);
        return;
    }
    for (guint i = 0; i < b->events->len; i++)
        b->obs->free_event(b->events->pdata[i]);
    g_ptr_array_unref(b->events);
    g_free(b);
}

guint64 tf_batch_seq(const tf_batch *b) { return b->seq; }
guint64 tf_batch_cycle(const tf_batch *b) { return b->cycle; }
gint64 tf_batch_wall_time(const tf_batch *b) { return b->wall_time; }
guint tf_batch_len(const tf_batch *b)
{
    if (b->replayed)
        return (guint)json_array_size(json_object_get(b->replayed, "events"));
    return b->events->len;
}

const void *tf_batch_event(const tf_batch *b, guint i)
{
    if (b->replayed)
        return NULL; /* only its JSON survives a restart: see tf_batch_replayed */
    g_return_val_if_fail(i < b->events->len, NULL);
    return b->events->pdata[i];
}

json_t *tf_batch_to_json(const tf_batch *b)
{
    if (b->replayed)
        return json_deep_copy(b->replayed); /* readers on many threads: no shared refcount */
    json_t *events = json_array();
    for (guint i = 0; i < b->events->len; i++)
        json_array_append_new(events, b->obs->event_to_json(b->events->pdata[i]));
    return json_pack("{s:I, s:I, s:o, s:o}", "seq", (json_int_t)b->seq, "cycle",
                     (json_int_t)b->cycle, "wall_time", tf_time_to_json(b->wall_time),
                     "events", events);
}
