/* handle.c: the read side: latest snapshot, histories, statuses, last error.
 * Every read copies or refs under the hub lock and returns; nothing a reader holds can
 * be changed or freed by the runtime. Subscriptions and waits live in sub.c and wait.c. */
#include <string.h>
#include "observe_priv.h"

struct tf_handle {
    gint refs;
    tf_hub *hub;
};

tf_handle *tf_handle_new(tf_hub *hub)
{
    tf_handle *h = g_new0(tf_handle, 1);
    h->refs = 1;
    h->hub = tf_hub_ref(hub);
    return h;
}

tf_hub *tf_handle_hub(tf_handle *h) { return h->hub; }

tf_handle *tf_handle_ref(tf_handle *h)
{
    tf_refs_inc(&h->refs);
    return h;
}

void tf_handle_unref(tf_handle *h)
{
    if (!h || !tf_refs_dec(&h->refs))
        return;
    tf_hub_unref(h->hub);
    g_free(h);
}

const char *tf_handle_name(const tf_handle *h) { return h->hub->obs->name; }

void tf_handle_wake(tf_handle *h) { tf_waker_wake(h->hub->waker); }

tf_snapshot *tf_handle_latest_locked(tf_hub *hub)
{
    if (!hub->snap_len)
        return NULL;
    guint last = (hub->snap_head + hub->snap_cap - 1) % hub->snap_cap;
    return tf_snapshot_ref(hub->snaps[last]);
}

/* The ring holds consecutive cycles (one snapshot per cycle), so the one after `after`
 * is found by arithmetic: O(1) however long the history. */
tf_snapshot *tf_hub_snapshot_after_locked(tf_hub *hub, guint64 after, guint64 *gone)
{
    *gone = 0;
    if (!hub->snap_len)
        return NULL;
    guint first = (hub->snap_head + hub->snap_cap - hub->snap_len) % hub->snap_cap;
    guint64 oldest = tf_snapshot_cycle(hub->snaps[first]);
    guint64 newest = oldest + hub->snap_len - 1;
    if (after >= newest)
        return NULL;
    guint64 want = MAX(after + 1, oldest);
    *gone = want - (after + 1);
    tf_snapshot *s = hub->snaps[(first + (guint)(want - oldest)) % hub->snap_cap];
    tf_assert(tf_snapshot_cycle(s) == want); /* the ring's cycles are consecutive */
    return tf_snapshot_ref(s);
}

tf_snapshot *tf_handle_latest(tf_handle *h)
{
    tf_mutex_lock(&h->hub->lock);
    tf_snapshot *s = tf_handle_latest_locked(h->hub);
    tf_mutex_unlock(&h->hub->lock);
    return s;
}

GPtrArray *tf_handle_snapshots(tf_handle *h)
{
    tf_hub *hub = h->hub;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_snapshot_unref);
    tf_mutex_lock(&hub->lock);
    guint first = (hub->snap_head + hub->snap_cap - hub->snap_len) % hub->snap_cap;
    for (guint i = 0; i < hub->snap_len; i++)
        g_ptr_array_add(out, tf_snapshot_ref(hub->snaps[(first + i) % hub->snap_cap]));
    tf_mutex_unlock(&hub->lock);
    return out;
}

GPtrArray *tf_handle_batches(tf_handle *h)
{
    tf_hub *hub = h->hub;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_batch_unref);
    tf_mutex_lock(&hub->lock);
    if (hub->batch_cap) {
        guint first = (hub->batch_head + hub->batch_cap - hub->batch_len) % hub->batch_cap;
        for (guint i = 0; i < hub->batch_len; i++)
            g_ptr_array_add(out, tf_batch_ref(hub->batches[(first + i) % hub->batch_cap]));
    }
    tf_mutex_unlock(&hub->lock);
    return out;
}

guint64 tf_handle_last_seq(tf_handle *h)
{
    tf_mutex_lock(&h->hub->lock);
    guint64 seq = h->hub->last_seq;
    tf_mutex_unlock(&h->hub->lock);
    return seq;
}

gboolean tf_handle_closed(tf_handle *h)
{
    tf_mutex_lock(&h->hub->lock);
    gboolean closed = h->hub->closed;
    tf_mutex_unlock(&h->hub->lock);
    return closed;
}

/* ---- failures ----------------------------------------------------------------------- */

void tf_failure_free(tf_failure *f)
{
    if (!f)
        return;
    g_free(f->source);
    g_free(f->message);
    g_free(f);
}

const char *tf_stage_name(tf_stage stage)
{
    switch (stage) {
    case TF_STAGE_REFRESH: return "refresh";
    case TF_STAGE_POLL: return "poll";
    case TF_STAGE_SOURCE: return "source";
    case TF_STAGE_JOURNAL: return "journal";
    }
    return "unknown";
}

tf_failure *tf_failure_copy(const tf_failure *f)
{
    if (!f)
        return NULL;
    tf_failure *c = g_memdup2(f, sizeof *f);
    c->source = g_strdup(f->source);
    c->message = g_strdup(f->message);
    return c;
}

tf_failure *tf_handle_last_error(tf_handle *h)
{
    tf_mutex_lock(&h->hub->lock);
    tf_failure *f = tf_failure_copy(h->hub->last_error);
    tf_mutex_unlock(&h->hub->lock);
    return f;
}

/* "cycle 7<when>, source n2: message", naming the source once: a message that already
 * starts with "n2: " (observers follow "where: what: why") loses that prefix. */
static char *describe(const tf_failure *f, const char *when)
{
    if (f->source) {
        const char *msg = f->message;
        gsize n = strlen(f->source);
        if (!strncmp(msg, f->source, n) && msg[n] == ':' && msg[n + 1] == ' ')
            msg += n + 2;
        return g_strdup_printf("cycle %" G_GUINT64_FORMAT "%s, source %s: %s", f->cycle, when,
                               f->source, msg);
    }
    return g_strdup_printf("cycle %" G_GUINT64_FORMAT "%s, %s: %s", f->cycle, when,
                           tf_stage_name(f->stage), f->message);
}

char *tf_failure_describe(const tf_failure *f) { return describe(f, ""); }

char *tf_failure_describe_at(const tf_failure *f, gint64 now)
{
    char *wall = tf_time_format(f->wall_time);
    char *when = g_strdup_printf(", %.1f s ago (%s)", (now - f->time) / (double)G_USEC_PER_SEC,
                                 wall ? wall : "unknown time");
    char *d = describe(f, when);
    g_free(when);
    g_free(wall);
    return d;
}

/* ---- per-source status -------------------------------------------------------------- */

static void status_free(gpointer p)
{
    tf_source_status *s = p;
    g_free(s->name);
    g_free(s->last_error);
    g_free(s);
}

static gint cmp_status(gconstpointer a, gconstpointer b)
{
    return strcmp((*(tf_source_status **)a)->name, (*(tf_source_status **)b)->name);
}

GPtrArray *tf_handle_source_status(tf_handle *h)
{
    tf_hub *hub = h->hub;
    gint64 now = tf_hub_now(hub);
    GPtrArray *out = g_ptr_array_new_with_free_func(status_free);
    tf_mutex_lock(&hub->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, hub->status);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        tf_status_entry *e = value;
        /* A failing source has a message, an answering one none (tf_hub_reports). */
        tf_assert((e->consecutive_failures == 0) == (e->last_error == NULL));
        tf_source_status *s = g_new0(tf_source_status, 1);
        s->name = g_strdup(e->name);
        s->present = e->present;
        s->first_seen = e->first_seen;
        s->last_success = e->last_success;
        s->last_success_wall = e->last_success_wall;
        s->consecutive_failures = e->consecutive_failures;
        s->last_error = g_strdup(e->last_error);
        /* A source that never answered is stale once stale_after has passed since it
         * appeared; a gone source is always stale. */
        gint64 since = MAX(e->last_success, e->first_seen);
        s->stale = !e->present || now - since > hub->stale_after;
        g_ptr_array_add(out, s);
    }
    tf_mutex_unlock(&hub->lock);
    g_ptr_array_sort(out, cmp_status);
    return out;
}
