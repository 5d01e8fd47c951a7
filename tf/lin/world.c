/* world.c: the scenario's client history: one tf_ophistory per scenario world, made on
 * first use (by client steps, or a fault step), journaled event by event into the world's
 * durable store when it has one, attached to the report, and the report of a check.
 * Journaling happens on the recording thread, inside the history's listener, so the
 * journal holds the events in the order they were recorded and a killed runner loses
 * nothing that was recorded. This file reads the runner's world (steps.h), as
 * tf/durable/world_store.c does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lin_priv.h"
#include "tf/durable.h"
#include "tf/steps.h"
#include "util/sync.h"

#define WORLD_KEY "tf.ophistory"

typedef struct {
    tf_ophistory *h;
    tf_journal *journal; /* NULL without a store, and once journaling stopped */
    guint64 seq;         /* the last batch appended */
    tf_mutex lock;       /* guards loss (the listener runs on client threads) */
    char *loss;          /* why journaling stopped, or NULL */
} world_history;

/* The listener: one batch per event, appended before the recording returns. */
static void journal_event(const json_t *event, void *data)
{
    world_history *wh = data;
    if (!wh->journal)
        return;
    guint64 seq = wh->seq + 1;
    json_t *batch = json_pack("{s:I, s:I, s:[O]}", "seq", (json_int_t)seq, "cycle",
                              (json_int_t)seq, "events", event);
    GError *err = NULL;
    if (tf_journal_append(wh->journal, seq, seq, g_get_real_time(), batch, &err)) {
        wh->seq = seq;
    } else {
        /* The journal stays a gapless prefix: nothing more is appended after a loss. */
        tf_mutex_lock(&wh->lock);
        wh->loss = g_strdup_printf("journal %s: event %" G_GUINT64_FORMAT " of the client "
                                   "history not recorded, journaling stopped: %s",
                                   tf_journal_stream(wh->journal), seq, err->message);
        tf_mutex_unlock(&wh->lock);
        g_error_free(err);
        tf_journal_unref(wh->journal);
        wh->journal = NULL;
    }
    json_decref(batch);
}

static void world_history_free(void *p)
{
    world_history *wh = p;
    tf_ophistory_set_listener(wh->h, NULL, NULL);
    if (wh->journal) {
        GError *err = NULL;
        if (!tf_store_flush(tf_journal_store(wh->journal), &err)) {
            fprintf(stderr, "tf: journal %s: flush: %s\n", tf_journal_stream(wh->journal),
                    err->message);
            g_error_free(err);
        }
        tf_journal_unref(wh->journal);
    }
    if (wh->loss)
        fprintf(stderr, "tf: %s\n", wh->loss); /* also after the last step: never silent */
    tf_ophistory_free(wh->h);
    tf_mutex_clear(&wh->lock);
    g_free(wh->loss);
    g_free(wh);
}

/* The journal of the scenario's history, or NULL: without a store (error unset) or when
 * it cannot be opened (error set). Streams are keyed by scenario name in this store's
 * scheme, as tf_world_journal_runtime names the observers' streams. */
static tf_journal *open_journal(tf_world *world, GError **error)
{
    GError *err = NULL;
    if (!tf_world_store(world, &err)) {
        if (err)
            g_propagate_error(error, err);
        return NULL;
    }
    const tf_gherkin_pickle *p = tf_world_pickle(world);
    char *stream = g_strdup_printf("%s/%s", TF_OPHISTORY_STREAM, p ? p->name : "");
    tf_journal *j = tf_world_journal(world, stream, error);
    g_free(stream);
    return j;
}

tf_ophistory *tf_world_ophistory(tf_world *world, GError **error)
{
    world_history *wh = tf_world_get(world, WORLD_KEY);
    if (wh)
        return wh->h;
    GError *err = NULL;
    tf_journal *j = open_journal(world, &err);
    if (err) {
        g_propagate_prefixed_error(error, err, "the scenario's client history: ");
        return NULL;
    }
    wh = g_new0(world_history, 1);
    wh->h = tf_ophistory_new();
    tf_mutex_init(&wh->lock);
    if (j) {
        GError *serr = NULL;
        wh->seq = tf_journal_last_seq(j, &serr);
        if (serr) {
            g_propagate_prefixed_error(error, serr, "the scenario's client history: ");
            tf_journal_unref(j);
            tf_ophistory_free(wh->h);
            tf_mutex_clear(&wh->lock);
            g_free(wh);
            return NULL;
        }
        wh->journal = j;
        tf_ophistory_set_listener(wh->h, journal_event, wh);
    }
    tf_world_set(world, WORLD_KEY, wh, world_history_free);
    return wh->h;
}

tf_ophistory *tf_world_ophistory_peek(tf_world *world)
{
    world_history *wh = tf_world_get(world, WORLD_KEY);
    return wh ? wh->h : NULL;
}

gboolean tf_world_fault_begin(tf_world *world, const char *name, const char *what,
                              GError **error)
{
    tf_ophistory *h = tf_world_ophistory(world, error);
    if (h)
        tf_ophistory_fault_begin(h, name, what);
    return h != NULL;
}

void tf_world_fault_end(tf_world *world, const char *name)
{
    tf_ophistory *h = tf_world_ophistory_peek(world);
    if (h)
        tf_ophistory_fault_end(h, name);
}

gboolean tf_world_ophistory_attach(tf_world *world, GError **error)
{
    world_history *wh = tf_world_get(world, WORLD_KEY);
    if (!wh)
        return TRUE;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gboolean ok = f && tf_ophistory_write(wh->h, f, error);
    if (f)
        fclose(f);
    if (ok)
        tf_world_attach(world, buf, len, "application/x-ndjson", "ophistory.ndjson");
    free(buf);
    tf_mutex_lock(&wh->lock);
    if (ok && wh->loss) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s", wh->loss);
        ok = FALSE;
    }
    tf_mutex_unlock(&wh->lock);
    return ok;
}
