/* report_message.c: the Cucumber Messages reporter: one NDJSON envelope a line, made from
 * the run's events by report_envelope.c (the official HTML formatter and other tools read
 * these), after a meta envelope. Lines are collected and written whole at the end of each
 * step, hook and scenario, so a killed run leaves complete lines up to the last finished
 * step, never half a line. */
#include <stdlib.h>
#include "report_envelope.h"
#include "report_priv.h"

typedef struct {
    tf_reporter base;
    GString *pending; /* whole lines not yet written */
    gboolean started; /* the meta envelope is out */
} message_reporter;

/* Writes what is pending as one write: never a torn line, whatever kills the run. */
static void message_write(message_reporter *m)
{
    tf_reporter_write_whole(&m->base, m->pending->str, m->pending->len);
    g_string_truncate(m->pending, 0);
}

static void add_line(void *data, json_t *envelope)
{
    message_reporter *m = data;
    char *line = json_dumps(envelope, JSON_COMPACT);
    g_string_append(m->pending, line);
    g_string_append_c(m->pending, '\n');
    free(line);
    json_decref(envelope);
}

static void message_event(tf_reporter *r, const tf_query *q, const tf_event *ev)
{
    message_reporter *m = (message_reporter *)r;
    if (!m->started) {
        add_line(m, tf_envelope_meta());
        m->started = TRUE;
    }
    tf_envelopes_of_event(q, ev, add_line, m);
    switch (ev->kind) {
    case TF_EV_RUN_STARTED:
    case TF_EV_GLOBAL_HOOK_FINISHED:
    case TF_EV_STEP_FINISHED:
    case TF_EV_CASE_FINISHED:
    case TF_EV_RUN_FINISHED:
        message_write(m);
        break;
    default:
        if (m->pending->len >= 1u << 20) /* big static envelopes: keep memory bounded */
            message_write(m);
    }
}

static gboolean message_close(tf_reporter *r, GError **error)
{
    message_write((message_reporter *)r);
    return tf_reporter_close_out(r, error);
}

static void message_free(tf_reporter *r)
{
    message_reporter *m = (message_reporter *)r;
    g_string_free(m->pending, TRUE);
    tf_reporter_base_clear(r);
    g_free(m);
}

tf_reporter *tf_reporter_message_new(FILE *out, gboolean own)
{
    message_reporter *m = g_new0(message_reporter, 1);
    m->base.out = out;
    m->base.own_out = own;
    m->base.event = message_event;
    m->base.close = message_close;
    m->base.free = message_free;
    m->pending = g_string_new(NULL);
    return &m->base;
}
