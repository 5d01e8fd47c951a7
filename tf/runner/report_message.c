/* report_message.c: the Cucumber Messages reporter: one NDJSON envelope a line, exactly
 * the envelopes the run built (the official HTML formatter and other tools read these). */
#include "runner_private.h"

static void message_event(tf_reporter *r, const tf_event *ev)
{
    if (!ev->envelope)
        return;
    json_dumpf(ev->envelope, r->out, JSON_COMPACT);
    fputc('\n', r->out);
}

static gboolean message_close(tf_reporter *r, GError **error)
{
    return tf_reporter_close_out(r, error);
}

static void message_free(tf_reporter *r) { g_free(r); }

tf_reporter *tf_reporter_message_new(FILE *out, gboolean own)
{
    tf_reporter *r = g_new0(tf_reporter, 1);
    r->wants_envelopes = TRUE;
    r->out = out;
    r->own_out = own;
    r->event = message_event;
    r->close = message_close;
    r->free = message_free;
    return r;
}
