/* sub.c: subscriptions: a cursor over the gapless batch sequence.
 * A reader that falls behind the bounded ring reads the rest from the journal when the
 * runtime has one; otherwise (or past the journal's retention) it is told exactly how
 * many batches it lost and resumes at the oldest one kept: lossy, but never silently. */
#include "observe_priv.h"
#include "tf/durable.h"

struct tf_sub {
    tf_handle *h;
    guint64 cursor; /* seq of the last batch delivered */
};

tf_sub *tf_handle_subscribe(tf_handle *h, guint64 after_seq)
{
    tf_sub *sub = g_new0(tf_sub, 1);
    sub->h = tf_handle_ref(h);
    sub->cursor = after_seq;
    return sub;
}

guint64 tf_sub_cursor(const tf_sub *sub) { return sub->cursor; }

void tf_sub_free(tf_sub *sub)
{
    if (!sub)
        return;
    tf_handle_unref(sub->h);
    g_free(sub);
}

/* The batch after the cursor from the journal (lock held on entry and on return; dropped
 * while reading). Returns FALSE when the hub changed meanwhile: look again. */
static gboolean from_journal(tf_sub *sub, tf_hub *hub, tf_batch **out, guint64 *lost,
                             tf_sub_status *st)
{
    tf_journal *j = tf_journal_ref(hub->journal);
    guint64 want = sub->cursor + 1;
    tf_mutex_unlock(&hub->lock);
    GError *err = NULL;
    json_t *v = NULL;
    guint64 next = 0;
    if (tf_journal_read(j, want, &v, &err) == TF_LOOKUP_ABSENT)
        tf_journal_next_stored(j, want, &next, &err);
    if (err) {
        /* Counted as lost below, so the reader still knows; the reason goes to the log. */
        g_warning("observer '%s': journal %s: %s", hub->obs->name, tf_journal_stream(j),
                  err->message);
        g_error_free(err);
    }
    tf_journal_unref(j);
    tf_mutex_lock(&hub->lock);
    if (v) {
        *out = tf_batch_new_replayed(hub->obs, v);
        sub->cursor = want;
        *st = TF_SUB_BATCH;
        return TRUE;
    }
    guint64 oldest = hub->last_seq - hub->batch_len + 1;
    guint64 resume = next && next < oldest ? next : oldest;
    if (resume <= want)
        return FALSE;
    if (lost)
        *lost = resume - want;
    sub->cursor = resume - 1;
    *st = TF_SUB_LAGGED;
    return TRUE;
}

tf_sub_status tf_sub_next(tf_sub *sub, gint64 timeout_us, tf_batch **out, guint64 *lost)
{
    tf_hub *hub = tf_handle_hub(sub->h);
    gint64 deadline = timeout_us > 0 ? g_get_monotonic_time() + timeout_us : 0;
    tf_sub_status st;
    *out = NULL;
    if (lost)
        *lost = 0;
    tf_mutex_lock(&hub->lock);
    for (;;) {
        if (sub->cursor < hub->last_seq) {
            guint64 oldest = hub->last_seq - hub->batch_len + 1; /* == last+1 when empty */
            if (sub->cursor + 1 < oldest && hub->journal) {
                if (from_journal(sub, hub, out, lost, &st))
                    break;
                continue;
            }
            if (sub->cursor + 1 < oldest) {
                if (lost)
                    *lost = oldest - (sub->cursor + 1);
                sub->cursor = oldest - 1;
                st = TF_SUB_LAGGED;
                break;
            }
            guint back = (guint)(hub->last_seq - (sub->cursor + 1)); /* 0 = newest */
            guint idx = (hub->batch_head + hub->batch_cap - 1 - back) % hub->batch_cap;
            *out = tf_batch_ref(hub->batches[idx]);
            sub->cursor++;
            tf_assert(tf_batch_seq(*out) == sub->cursor); /* the ring is indexed by seq */
            st = TF_SUB_BATCH;
            break;
        }
        if (hub->closed) {
            st = TF_SUB_CLOSED;
            break;
        }
        if (timeout_us == 0) {
            st = TF_SUB_TIMEOUT;
            break;
        }
        if (timeout_us < 0)
            tf_cond_wait(&hub->changed, &hub->lock);
        else if (!tf_cond_wait_until(&hub->changed, &hub->lock, deadline) &&
                 sub->cursor >= hub->last_seq && !hub->closed) {
            st = TF_SUB_TIMEOUT;
            break;
        }
    }
    tf_mutex_unlock(&hub->lock);
    return st;
}
