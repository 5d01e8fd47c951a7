/* world_ophistory.c: the scenario's client history: one tf_ophistory per scenario world,
 * made on first use (by client steps, or a fault step), journaled event by event into the world's
 * durable store when it has one (stream TF_OPHISTORY_STREAM of the scenario's execution),
 * attached to the report. Journaling happens on the recording thread, inside the
 * history's listener, so the journal holds the events in the order they were recorded
 * and a killed runner loses nothing that was recorded. It lives in the runner layer because
 * it reads the runner's world (steps.h), as world_store.c does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tf/durable.h"
#include "tf/lincheck.h"
#include "tf/ophistory.h"
#include "tf/steps.h"
#include "tf/world_store.h"

#define WORLD_KEY "tf.ophistory"

typedef struct {
    tf_ophistory *h;
    tf_journal *journal; /* NULL without a store, and once an append failed */
    guint64 seq;         /* the last batch appended */
} world_history;

/* The listener: one batch per event, appended before the recording returns. A failed
 * append is remembered by the journal, and the runner fails the step during which it
 * happened (tf_world_journals_check); nothing more is appended, so the stored journal
 * stays a gapless prefix of the history. */
static void journal_event(const json_t *event, void *data)
{
    world_history *wh = data;
    if (!wh->journal)
        return;
    guint64 seq = wh->seq + 1;
    json_t *batch = json_pack("{s:I, s:I, s:[O]}", "seq", (json_int_t)seq, "cycle",
                              (json_int_t)seq, "events", event);
    if (tf_journal_append(wh->journal, seq, seq, g_get_real_time(), batch, NULL)) {
        wh->seq = seq;
    } else {
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
        tf_journal_flush(wh->journal, NULL); /* a failure is remembered and reported */
        tf_journal_unref(wh->journal);
    }
    tf_ophistory_free(wh->h);
    g_free(wh);
}

tf_ophistory *tf_world_ophistory(tf_world *world, GError **error)
{
    world_history *wh = tf_world_get(world, WORLD_KEY);
    if (wh)
        return wh->h;
    /* The journal first: the world ends its execution after this history is freed. */
    tf_journal *j = NULL;
    GError *err = NULL;
    guint64 last = 0;
    if (tf_world_journal(world, TF_OPHISTORY_STREAM, &j, &err) == TF_LOOKUP_FAILED ||
        (j && !tf_journal_last_seq(j, &last, &err))) {
        g_propagate_prefixed_error(error, err, "the scenario's client history: ");
        tf_journal_unref(j);
        return NULL;
    }
    wh = g_new0(world_history, 1);
    wh->h = tf_ophistory_new();
    wh->journal = j;
    wh->seq = last;
    if (j)
        tf_ophistory_set_listener(wh->h, journal_event, wh);
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
    else if (!f)
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "the scenario's client history: no memory");
    free(buf);
    return ok;
}

/* The checker's verdict in the report: its text, and on a violation the drawing with the
 * history's fault windows. */
void tf_world_attach_lin_result(tf_world *world, GPtrArray *ops, const tf_lin_model *model,
                                const tf_lin_result *r)
{
    char *text = tf_lin_result_text(r, ops, model);
    tf_world_attach(world, text, strlen(text), "text/plain", "linearizability.txt");
    g_free(text);
    if (r->verdict == TF_LIN_VIOLATION) {
        tf_ophistory *h = tf_world_ophistory_peek(world);
        GPtrArray *faults = h ? tf_ophistory_faults(h) : NULL;
        char *svg = tf_lin_svg_faults(ops, faults, model, r);
        if (faults)
            g_ptr_array_unref(faults);
        tf_world_attach(world, svg, strlen(svg), "image/svg+xml", "linearizability.svg");
        g_free(svg);
    }
}
