/* wait.c: block until a condition holds on a published snapshot.
 * This is what replaces every step's sleep-and-retry loop: the waiter sleeps on the hub's
 * condition variable and checks the latest snapshot, then every later one once, in
 * order, so a condition that held for a single cycle counts even when the runtime
 * published more while the predicate ran (as an informer's handler sees every update);
 * on timeout it explains itself, including cycles that left the ring unchecked. */
#include "observe_priv.h"

typedef struct {
    tf_wait_listener fn;
    void *data;
} listener;

static _Thread_local listener current_listener;

/* Read once: set before any thread waits (tf run's --timeout-scale sets the variable
 * while parsing options; the workers of a parallel run inherit it). A value the runner
 * would refuse reads as 1. */
double tf_timeout_scale(void)
{
    static gsize once = 0;
    static double scale = 1.0;
    if (g_once_init_enter(&once)) {
        const char *v = g_getenv("TF_TIMEOUT_SCALE");
        char *end = NULL;
        double f = v && *v ? g_ascii_strtod(v, &end) : 1.0;
        if (v && *v && *end == '\0' && f >= TF_TIMEOUT_SCALE_MIN && f <= TF_TIMEOUT_SCALE_MAX)
            scale = f;
        g_once_init_leave(&once, 1);
    }
    return scale;
}

gint64 tf_timeout_scaled(gint64 timeout_us)
{
    if (timeout_us <= 0)
        return timeout_us;
    double t = (double)timeout_us * tf_timeout_scale();
    return t < 1 ? 1 : t > (double)G_MAXINT64 / 2 ? G_MAXINT64 / 2 : (gint64)t;
}

void tf_wait_set_listener(tf_wait_listener fn, void *data)
{
    current_listener.fn = fn;
    current_listener.data = data;
}

/* Cycles the waiter could not check: they left the ring while the predicate ran. */
typedef struct {
    guint64 count, first, last;
} unchecked;

/* "n2 has answered since ..." when the last error's source is healthy again (or gone):
 * an old error from a node that recovered must not read as the reason of a timeout. */
static void append_since(GString *m, tf_hub *hub, const tf_failure *f, gint64 now)
{
    if (f->stage != TF_STAGE_SOURCE || !f->source)
        return;
    tf_mutex_lock(&hub->lock);
    const tf_status_entry *e = g_hash_table_lookup(hub->status, f->source);
    if (e && !e->present)
        g_string_append_printf(m, "\n    %s has left the source set since", f->source);
    else if (e && e->last_success_cycle > f->cycle)
        g_string_append_printf(m, "\n    %s has answered since (last in cycle %" G_GUINT64_FORMAT
                               ", %.1f s ago): this error is not current", f->source,
                               e->last_success_cycle,
                               (now - e->last_success) / (double)G_USEC_PER_SEC);
    tf_mutex_unlock(&hub->lock);
}

/* The timeout message: what, how long, last snapshot (JSON), last error. Times are ages
 * and wall-clock times: the monotonic clock's raw count means nothing to a reader. */
static char *explain(tf_hub *hub, const tf_wait *w, tf_snapshot *last, gint64 waited,
                     const char *verb, const unchecked *missed)
{
    GString *m = g_string_new(NULL);
    gint64 now = tf_hub_now(hub);
    /* A fresh wait may time out before any fresh cycle: show the newest view anyway,
     * marked as older than the point the wait asked for. */
    gboolean stale = FALSE;
    if (!last) {
        tf_mutex_lock(&hub->lock);
        last = tf_handle_latest_locked(hub);
        tf_mutex_unlock(&hub->lock);
        stale = last != NULL;
    } else {
        tf_snapshot_ref(last);
    }
    g_string_append_printf(m, "%s after %.1f s waiting for: %s", verb,
                           waited / (double)G_USEC_PER_SEC, w->what ? w->what : "condition");
    if (last) {
        if (w->progress) {
            char *p = w->progress(last, w->data);
            if (p)
                g_string_append_printf(m, " (%s)", p);
            g_free(p);
        }
        json_t *j = tf_snapshot_to_json(last);
        json_object_del(j, "time");
        json_object_del(j, "wall_time"); /* in the line's head, with the age */
        char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        char *wall = tf_time_format(tf_snapshot_wall_time(last));
        g_string_append_printf(m, "\n  last snapshot (%s, cycle %" G_GUINT64_FORMAT
                               ", taken %.1f s ago at %s%s): %s",
                               hub->obs->name, tf_snapshot_cycle(last),
                               (now - tf_snapshot_time(last)) / (double)G_USEC_PER_SEC,
                               wall ? wall : "an unknown time",
                               stale ? ", before the awaited point" : "", text);
        g_free(wall);
        free(text);
        json_decref(j);
    } else {
        g_string_append_printf(m, "\n  last snapshot: none (observer '%s' published no cycle)",
                               hub->obs->name);
    }
    tf_snapshot_unref(last);
    if (missed->count)
        g_string_append_printf(m, "\n  not checked: cycles %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                               " (%" G_GUINT64_FORMAT " snapshot%s) left the snapshot history "
                               "(snapshot_history %u) before this wait could check them",
                               missed->first, missed->last, missed->count,
                               missed->count == 1 ? "" : "s", hub->snap_cap - 1);
    tf_mutex_lock(&hub->lock);
    tf_failure *f = tf_failure_copy(hub->last_error);
    tf_mutex_unlock(&hub->lock);
    if (f) {
        char *d = tf_failure_describe_at(f, now);
        g_string_append_printf(m, "\n  last error: %s", d);
        g_free(d);
        append_since(m, hub, f, now);
        tf_failure_free(f);
    } else {
        g_string_append(m, "\n  last error: none");
    }
    return g_string_free(m, FALSE);
}

static void notify(const tf_wait *w, const tf_snapshot *snap, gint64 elapsed)
{
    if (!current_listener.fn)
        return;
    char *p = w->progress && snap ? w->progress(snap, w->data) : NULL;
    current_listener.fn(w->what ? w->what : "condition", p, elapsed, w->timeout_us,
                        current_listener.data);
    g_free(p);
}

tf_snapshot *tf_handle_wait_for(tf_handle *h, const tf_wait *req, GError **error)
{
    tf_hub *hub = tf_handle_hub(h);
    if (!req || !req->pred || req->timeout_us <= 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "wait for %s: %s",
                    req && req->what ? req->what : "condition",
                    !req || !req->pred ? "no predicate given" : "timeout must be > 0");
        return NULL;
    }
    /* The scaled timeout is the one waited, shown in status lines and explained. */
    tf_wait scaled = *req;
    scaled.timeout_us = tf_timeout_scaled(req->timeout_us);
    const tf_wait *w = &scaled;
    gint64 start = g_get_monotonic_time(), deadline = start + w->timeout_us;
    if (w->fresh_after)
        tf_handle_wake(h);
    guint64 checked = 0;     /* cycle of the last snapshot examined (0: none yet) */
    tf_snapshot *last = NULL; /* the last snapshot examined, for the timeout message */
    unchecked missed = {0};
    const char *verb = NULL;
    gboolean closed = FALSE;

    tf_mutex_lock(&hub->lock);
    for (;;) {
        /* First the latest (older ones predate the wait), then each later one in order. */
        guint64 gone = 0;
        tf_snapshot *snap = checked ? tf_hub_snapshot_after_locked(hub, checked, &gone)
                                    : tf_handle_latest_locked(hub);
        if (gone) {
            missed.first = missed.count ? missed.first : checked + 1;
            missed.last = checked + gone;
            missed.count += gone;
        }
        if (snap) {
            tf_assert(tf_snapshot_cycle(snap) > checked);
            checked = tf_snapshot_cycle(snap);
            if (w->fresh_after && tf_snapshot_cycle_started(snap) <= w->fresh_after) {
                tf_snapshot_unref(snap);
                continue;
            }
            tf_mutex_unlock(&hub->lock);
            gboolean ok = w->pred(snap, w->data);
            if (ok)
                return (tf_snapshot_unref(last), snap);
            notify(w, snap, g_get_monotonic_time() - start);
            tf_snapshot_unref(last);
            last = snap;
            tf_mutex_lock(&hub->lock);
            /* A backlog of snapshots (a slow predicate, a fast runtime) does not stretch
             * the deadline: after the first check, time runs out as it would asleep. */
            if (g_get_monotonic_time() >= deadline) {
                verb = "timed out";
                break;
            }
            continue;
        }
        tf_snapshot_unref(snap);
        if (hub->closed) {
            verb = "runtime stopped";
            closed = TRUE;
            break;
        }
        if (g_get_monotonic_time() >= deadline) {
            verb = "timed out";
            break;
        }
        tf_cond_wait_until(&hub->changed, &hub->lock, deadline);
    }
    tf_mutex_unlock(&hub->lock);
    char *msg = explain(hub, w, last, g_get_monotonic_time() - start, verb, &missed);
    g_set_error_literal(error, TF_ERROR, closed ? TF_ERROR_STOPPED : TF_ERROR_TIMEOUT, msg);
    g_free(msg);
    tf_snapshot_unref(last);
    return NULL;
}

tf_snapshot *tf_handle_wait(tf_handle *h, tf_predicate pred, void *data, const char *what,
                            gint64 timeout_us, GError **error)
{
    tf_wait w = {.pred = pred, .data = data, .what = what, .timeout_us = timeout_us};
    return tf_handle_wait_for(h, &w, error);
}

static gboolean any_snapshot(const tf_snapshot *snap, void *data) { return TRUE; }

tf_snapshot *tf_handle_wait_fresh(tf_handle *h, gint64 after, gint64 timeout_us, GError **error)
{
    tf_wait w = {.pred = any_snapshot,
                 .what = "a snapshot taken after the last action",
                 .timeout_us = timeout_us,
                 .fresh_after = after};
    return tf_handle_wait_for(h, &w, error);
}
