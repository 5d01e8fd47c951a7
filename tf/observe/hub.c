/* hub.c: the state a runtime publishes and its handles read, behind one mutex.
 * Two bounded rings (snapshots, event batches) keep memory flat however long a run is;
 * batch sequence numbers are gapless so a reader can always tell how much it missed. */
#include <string.h>
#include "observe_priv.h"
#include "tf/durable.h"

static void status_entry_free(gpointer p)
{
    tf_status_entry *e = p;
    g_free(e->name);
    g_free(e->last_error);
    g_free(e);
}

static gint64 real_clock(void *unused) { return g_get_monotonic_time(); }

tf_hub *tf_hub_new(const tf_observer *obs, const tf_runtime_config *cfg, tf_waker *waker)
{
    tf_hub *hub = g_new0(tf_hub, 1);
    hub->refs = 1;
    tf_mutex_init(&hub->lock);
    tf_cond_init(&hub->changed);
    hub->obs = obs;
    hub->waker = tf_waker_ref(waker);
    hub->clock = cfg->clock ? cfg->clock : real_clock;
    hub->clock_data = cfg->clock_data;
    hub->stale_after = cfg->stale_after_us;
    hub->snap_cap = cfg->snapshot_history + 1;
    hub->snaps = g_new0(tf_snapshot *, hub->snap_cap);
    hub->batch_cap = cfg->event_history;
    hub->batches = g_new0(tf_batch *, MAX(hub->batch_cap, 1));
    hub->status = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, status_entry_free);
    return hub;
}

tf_hub *tf_hub_ref(tf_hub *hub)
{
    tf_refs_inc(&hub->refs);
    return hub;
}

void tf_hub_unref(tf_hub *hub)
{
    if (!hub || !tf_refs_dec(&hub->refs))
        return;
    for (guint i = 0; i < hub->snap_cap; i++)
        tf_snapshot_unref(hub->snaps[i]);
    for (guint i = 0; i < MAX(hub->batch_cap, 1); i++)
        tf_batch_unref(hub->batches[i]);
    g_free(hub->snaps);
    g_free(hub->batches);
    tf_failure_free(hub->last_error);
    g_hash_table_unref(hub->status);
    tf_journal_unref(hub->journal);
    tf_waker_unref(hub->waker);
    tf_mutex_clear(&hub->lock);
    tf_cond_clear(&hub->changed);
    g_free(hub);
}

gint64 tf_hub_now(const tf_hub *hub) { return hub->clock(hub->clock_data); }

/* Caller holds the lock. */
static void fail_locked(tf_hub *hub, tf_stage stage, guint64 cycle, const char *source,
                        char *message, gint64 now)
{
    tf_failure_free(hub->last_error);
    tf_failure *f = g_new0(tf_failure, 1);
    f->stage = stage;
    f->cycle = cycle;
    f->time = now;
    f->wall_time = g_get_real_time();
    f->source = g_strdup(source);
    f->message = message;
    hub->last_error = f;
}

void tf_hub_fail(tf_hub *hub, tf_stage stage, guint64 cycle, const char *source, char *message)
{
    gint64 now = tf_hub_now(hub);
    tf_mutex_lock(&hub->lock);
    fail_locked(hub, stage, cycle, source, message, now);
    tf_mutex_unlock(&hub->lock);
}

void tf_hub_sources(tf_hub *hub, GPtrArray *added, GPtrArray *removed, gint64 now)
{
    tf_mutex_lock(&hub->lock);
    for (guint i = 0; i < added->len; i++) {
        const char *name = tf_source_name(added->pdata[i]);
        tf_status_entry *e = g_hash_table_lookup(hub->status, name);
        if (!e) {
            e = g_new0(tf_status_entry, 1);
            e->name = g_strdup(name);
            g_hash_table_insert(hub->status, e->name, e);
        }
        if (!e->present)
            e->first_seen = now; /* staleness counts from (re)appearance */
        e->present = TRUE;
    }
    /* A changed source (a node's "state" attribute moving to "stopped") is in both lists:
     * replaced, not gone. Both lists are sorted by name (the runtime's merge), so one
     * merge pass finds those: O(n). */
    guint j = 0;
    for (guint i = 0; i < removed->len; i++) {
        const char *name = tf_source_name(removed->pdata[i]);
        while (j < added->len && strcmp(tf_source_name(added->pdata[j]), name) < 0)
            j++;
        if (j < added->len && !strcmp(tf_source_name(added->pdata[j]), name))
            continue;
        tf_status_entry *e = g_hash_table_lookup(hub->status, name);
        if (e)
            e->present = FALSE;
    }
    tf_mutex_unlock(&hub->lock);
}

void tf_hub_reports(tf_hub *hub, GArray *reports, guint64 cycle, gint64 now)
{
    tf_mutex_lock(&hub->lock);
    for (guint i = 0; i < reports->len; i++) {
        tf_source_report *r = &g_array_index(reports, tf_source_report, i);
        tf_status_entry *e = g_hash_table_lookup(hub->status, r->name);
        if (!e)
            continue; /* reported a source that is not in the set: ignore */
        if (r->ok) {
            e->last_success = now;
            e->last_success_wall = g_get_real_time();
            e->last_success_cycle = cycle;
            e->consecutive_failures = 0;
            g_clear_pointer(&e->last_error, g_free);
        } else {
            e->consecutive_failures++;
            g_free(e->last_error);
            e->last_error = g_strdup(r->message);
            fail_locked(hub, TF_STAGE_SOURCE, cycle, r->name, g_strdup(r->message), now);
        }
    }
    tf_mutex_unlock(&hub->lock);
}

/* Appends a batch to the journal; a failure is recorded as the last error and ends
 * journaling, so the stored journal stays a gapless prefix of the run. The journal itself
 * remembers the failure (tf_journal_failure): whoever set it up can make it loud. */
static void journal_append(tf_hub *hub, tf_batch *batch)
{
    GError *err = NULL;
    json_t *v = tf_batch_to_json(batch);
    gboolean ok = tf_journal_append(hub->journal, tf_batch_seq(batch), tf_batch_cycle(batch),
                                    tf_batch_wall_time(batch), v, &err);
    json_decref(v);
    if (ok)
        return;
    char *msg = g_strdup_printf("journal %s: batch %" G_GUINT64_FORMAT
                                " not recorded, journaling stopped: %s",
                                tf_journal_stream(hub->journal), tf_batch_seq(batch),
                                err->message);
    g_error_free(err);
    tf_mutex_lock(&hub->lock);
    tf_journal *j = hub->journal;
    hub->journal = NULL;
    fail_locked(hub, TF_STAGE_JOURNAL, tf_batch_cycle(batch), NULL, msg, tf_hub_now(hub));
    tf_mutex_unlock(&hub->lock);
    tf_journal_unref(j);
}

gboolean tf_hub_set_journal(tf_hub *hub, tf_journal *j, GError **error)
{
    guint64 last;
    if (!tf_journal_last_seq(j, &last, error))
        return FALSE;
    tf_mutex_lock(&hub->lock);
    gboolean fresh = hub->last_seq == 0 && !hub->journal;
    if (fresh) {
        hub->journal = tf_journal_ref(j);
        hub->last_seq = last; /* numbers are never reused across restarts */
    }
    tf_mutex_unlock(&hub->lock);
    if (!fresh)
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "observer '%s': a journal must be set before the first batch",
                    hub->obs->name);
    return fresh;
}

void tf_hub_flush_journal(tf_hub *hub)
{
    tf_mutex_lock(&hub->lock);
    tf_journal *j = hub->journal ? tf_journal_ref(hub->journal) : NULL;
    tf_mutex_unlock(&hub->lock);
    if (!j)
        return;
    GError *err = NULL;
    if (!tf_journal_flush(j, &err)) {
        tf_hub_fail(hub, TF_STAGE_JOURNAL, 0, NULL,
                    g_strdup_printf("journal %s: flush: %s", tf_journal_stream(j), err->message));
        g_error_free(err);
    }
    tf_journal_unref(j);
}

void tf_hub_publish(tf_hub *hub, tf_snapshot *snap, GPtrArray *events, guint64 cycle)
{
    tf_snapshot *old_snap;
    tf_batch *old_batch = NULL, *batch = NULL;
    if (events && events->len) {
        /* Only this (the runtime's) thread writes last_seq, so reading it unlocked is safe.
         * The batch is journaled before anyone can see it: a reader that later falls back
         * to the journal finds every batch the ring ever held. */
        batch = tf_batch_new(hub->obs, hub->last_seq + 1, cycle, events);
        events = NULL;
        if (hub->journal)
            journal_append(hub, batch);
    }
    tf_mutex_lock(&hub->lock);
    /* One snapshot per cycle, cycles counted up by one: the ring holds consecutive cycles
     * (tf_hub_snapshot_after_locked finds one by arithmetic, waits count what they missed). */
    tf_assert(tf_snapshot_cycle(snap) == cycle);
    tf_assert(hub->snap_len == 0 ||
              cycle == tf_snapshot_cycle(hub->snaps[(hub->snap_head + hub->snap_cap - 1) %
                                                    hub->snap_cap]) + 1);
    old_snap = hub->snaps[hub->snap_head];
    hub->snaps[hub->snap_head] = snap;
    hub->snap_head = (hub->snap_head + 1) % hub->snap_cap;
    hub->snap_len = MIN(hub->snap_len + 1, hub->snap_cap);
    if (batch) {
        /* Gapless: only the runtime's thread publishes, so nobody took last_seq + 1 since
         * the batch was numbered outside the lock. */
        tf_assert(tf_batch_seq(batch) == hub->last_seq + 1);
        hub->last_seq = tf_batch_seq(batch);
        if (hub->batch_cap) {
            old_batch = hub->batches[hub->batch_head];
            hub->batches[hub->batch_head] = batch;
            hub->batch_head = (hub->batch_head + 1) % hub->batch_cap;
            hub->batch_len = MIN(hub->batch_len + 1, hub->batch_cap);
        } else {
            old_batch = batch; /* nothing is kept; the sequence still advances */
        }
    } else if (events) {
        g_ptr_array_unref(events);
    }
    tf_assert(hub->snap_len <= hub->snap_cap && hub->snap_head < hub->snap_cap);
    tf_assert(hub->batch_len <= hub->batch_cap &&
              (!hub->batch_cap || hub->batch_head < hub->batch_cap));
    tf_assert(hub->batch_len <= hub->last_seq); /* the ring never holds a batch not numbered */
    tf_cond_broadcast(&hub->changed);
    tf_mutex_unlock(&hub->lock);
    /* Freed outside the lock: observer free functions may be slow. */
    tf_snapshot_unref(old_snap);
    tf_batch_unref(old_batch);
}

void tf_hub_close(tf_hub *hub)
{
    tf_mutex_lock(&hub->lock);
    hub->closed = TRUE;
    tf_cond_broadcast(&hub->changed);
    tf_mutex_unlock(&hub->lock);
}
