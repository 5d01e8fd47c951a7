/* report_bus.c: a run's reporters behind one event sink. The query takes each event in
 * first, so a reporter can look up what the event refers to; then every reporter reads
 * it, in the order of the --format options. A parallel run's parent feeds the same bus
 * with the events its workers send. */
#include "report.h"

struct tf_report_bus {
    tf_query *query;
    GPtrArray *reporters; /* tf_reporter*, owned */
};

static void reporter_free(tf_reporter *r) { r->free(r); }

tf_report_bus *tf_report_bus_new(void)
{
    tf_report_bus *b = g_new0(tf_report_bus, 1);
    b->query = tf_query_new();
    b->reporters = g_ptr_array_new_with_free_func((GDestroyNotify)reporter_free);
    return b;
}

void tf_report_bus_add(tf_report_bus *b, tf_reporter *r) { g_ptr_array_add(b->reporters, r); }

void tf_report_bus_emit(void *data, const tf_event *ev)
{
    tf_report_bus *b = data;
    tf_query_update(b->query, ev);
    for (guint i = 0; i < b->reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(b->reporters, i);
        r->event(r, b->query, ev);
    }
}

void tf_report_bus_waiting(void *data, const char *what, const char *progress,
                           gint64 elapsed_us, gint64 timeout_us)
{
    tf_report_bus *b = data;
    for (guint i = 0; i < b->reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(b->reporters, i);
        if (r->waiting)
            r->waiting(r, what, progress, elapsed_us, timeout_us);
    }
}

gboolean tf_report_bus_close(tf_report_bus *b, const char *prog)
{
    gboolean ok = TRUE;
    for (guint i = 0; i < b->reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(b->reporters, i);
        GError *e = NULL;
        if (!r->close(r, &e)) {
            fprintf(stderr, "%s: %s\n", prog, e->message);
            g_error_free(e);
            ok = FALSE;
        }
    }
    return ok;
}

void tf_report_bus_free(tf_report_bus *b)
{
    if (!b)
        return;
    g_ptr_array_unref(b->reporters);
    tf_query_free(b->query);
    g_free(b);
}
