/* report_junit.c: JUnit XML (one testsuite, a testcase per scenario's final attempt) in
 * the shape Jenkins, GitLab and GitHub read. Every text goes through tf_xml_escape: XML
 * 1.0 cannot carry most control characters at all, so those become U+FFFD. A run-level
 * failure (a BeforeAll hook, an interrupt) is one more testcase with an <error>, counted
 * in tests and errors. A JUnit file is replaced with a complete document after every
 * scenario, carrying a "run" error saying the run has not finished, so a killed run
 * leaves a well-formed report of what finished that no CI reads as green. */
#include <string.h>
#include "report_priv.h"
#include "tf/error.h"

/* Below this size the file is replaced after every scenario; above, only while the time
 * spent replacing stays under a tenth of the run's (thousands of sub-millisecond
 * scenarios would otherwise rewrite megabytes per scenario). */
#define JUNIT_ALWAYS_REPLACE (256u << 10)

static const char unfinished[] =
    "the run has not finished: tf rewrites this report after each scenario; if it stays "
    "like this, the run was killed";

typedef struct {
    tf_reporter base;
    GString *cases;
    GString *log;    /* steps of the current attempt */
    GString *detail; /* first failure's message */
    tf_result worst;
    guint tests, failures, skipped;
    gint64 run_started; /* the reporter's creation: the suite's time until it ends */
    gint64 replace_us;  /* time spent replacing the file */
    gboolean replace;   /* base.path is replaced after each scenario (else: a stream) */
    gboolean dirty;     /* a finished scenario is not in the file yet */
} junit_reporter;

/* Appends XML-escaped text, valid for attribute values and text nodes. */
static void xml_escape(GString *out, const char *text)
{
    const char *p = text;
    const char *end = text + strlen(text);
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append(out, "\xEF\xBF\xBD");
            p++;
            continue;
        }
        const char *next = g_utf8_next_char(p);
        switch (c) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        case '\n': g_string_append(out, "&#10;"); break;
        case '\r': g_string_append(out, "&#13;"); break;
        case '\t': g_string_append(out, "&#9;"); break;
        default:
            if (c < 0x20 || c == 0xFFFE || c == 0xFFFF || (c >= 0xD800 && c <= 0xDFFF))
                g_string_append(out, "\xEF\xBF\xBD");
            else
                g_string_append_len(out, p, next - p);
        }
        p = next;
    }
}

/* The whole document: the finished testcases and, when run_error is set, the run's. */
static GString *junit_document(const junit_reporter *j, gint64 duration_us,
                               const char *run_error)
{
    guint run_case = run_error ? 1 : 0;
    GString *d = g_string_sized_new(j->cases->len + 512);
    g_string_append_printf(d, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<testsuite name=\"tf\" tests=\"%u\" failures=\"%u\" "
                              "skipped=\"%u\" errors=\"%u\" time=\"%.6f\">\n",
                           j->tests + run_case, j->failures, j->skipped, run_case,
                           duration_us / 1e6);
    g_string_append_len(d, j->cases->str, (gssize)j->cases->len);
    if (run_error) {
        GString *m = g_string_new(NULL);
        xml_escape(m, run_error);
        g_string_append_printf(d, "  <testcase classname=\"tf\" name=\"run\" time=\"0\">\n"
                                  "    <error message=\"%s\">%s</error>\n  </testcase>\n",
                               m->str, m->str);
        g_string_free(m, TRUE);
    }
    g_string_append(d, "</testsuite>\n");
    return d;
}

/* Replaces the file with the document as it stands (after a failure: not again). */
static void junit_replace(junit_reporter *j, gint64 duration_us, const char *run_error)
{
    if (j->base.write_errno)
        return;
    gint64 t0 = g_get_monotonic_time();
    GString *d = junit_document(j, duration_us, run_error);
    int err = 0;
    if (!tf_report_replace_file(j->base.path, d->str, d->len, &err))
        j->base.write_errno = err;
    g_string_free(d, TRUE);
    j->replace_us += g_get_monotonic_time() - t0;
    j->dirty = FALSE;
}

/* A step's line in the testcase's log; the first of its worst result is the detail. */
static void junit_step(junit_reporter *j, const tf_query *q, const tf_ev_step_finished *e)
{
    const tf_q_test_step *s = tf_query_test_step(q, e->test_step_id);
    GString *label = g_string_new(NULL);
    if (s && s->hook)
        g_string_append_printf(label, "%s hook", s->hook->kind == TF_HOOK_BEFORE ? "Before" : "After");
    else if (s && s->pstep)
        g_string_append_printf(label, "%s%s", s->keyword, s->pstep->text);
    g_string_append_printf(j->log, "%s ... %s\n", label->str, tf_result_word(e->result.status));
    if (e->result.status > j->worst) {
        char *text = tf_query_result_text(q, e->test_step_id, &e->result);
        j->worst = e->result.status;
        g_string_truncate(j->detail, 0);
        g_string_append_printf(j->detail, "%s: %s", s && s->hook ? "hook" : label->str,
                               text ? text : tf_result_word(e->result.status));
        g_free(text);
    }
    g_string_free(label, TRUE);
}

/* The final attempt of a scenario becomes its <testcase>; the file is then replaced. */
static void junit_case(junit_reporter *j, const tf_q_attempt *a, gint64 finished_us)
{
    j->tests++;
    GString *c = j->cases;
    g_string_append(c, "  <testcase classname=\"");
    xml_escape(c, a && a->tc ? a->tc->feature_name : "");
    g_string_append(c, "\" name=\"");
    xml_escape(c, a && a->tc && a->tc->pickle ? a->tc->pickle->name : "");
    g_string_append_printf(c, "\" time=\"%.6f\">\n", a ? (finished_us - a->started_us) / 1e6 : 0);
    if (j->worst == TF_RESULT_FAILED || j->worst == TF_RESULT_AMBIGUOUS) {
        j->failures++;
        g_string_append_printf(c, "    <failure type=\"%s\" message=\"", tf_result_word(j->worst));
        xml_escape(c, j->detail->str);
        g_string_append(c, "\">");
        xml_escape(c, j->detail->str);
        g_string_append(c, "</failure>\n");
    } else if (j->worst != TF_RESULT_PASSED) {
        j->skipped++;
        g_string_append(c, "    <skipped message=\"");
        xml_escape(c, j->detail->str);
        g_string_append(c, "\"/>\n");
    }
    g_string_append(c, "    <system-out>");
    xml_escape(c, j->log->str);
    g_string_append(c, "</system-out>\n  </testcase>\n");
    if (j->replace) {
        j->dirty = TRUE;
        gint64 elapsed = g_get_monotonic_time() - j->run_started;
        if (j->cases->len < JUNIT_ALWAYS_REPLACE || j->replace_us * 10 <= elapsed)
            junit_replace(j, elapsed, unfinished);
    }
}

static void junit_event(tf_reporter *r, const tf_query *q, const tf_event *ev)
{
    junit_reporter *j = (junit_reporter *)r;
    const tf_run_stats *st = tf_query_stats(q);
    switch (ev->kind) {
    case TF_EV_CASE_STARTED:
        g_string_truncate(j->log, 0);
        g_string_truncate(j->detail, 0);
        j->worst = TF_RESULT_PASSED;
        break;
    case TF_EV_STEP_FINISHED:
        junit_step(j, q, &ev->step_finished);
        break;
    case TF_EV_CASE_FINISHED:
        if (!ev->case_finished.will_be_retried)
            junit_case(j, tf_query_attempt(q, ev->case_finished.test_case_started_id),
                       ev->timestamp_us);
        break;
    case TF_EV_RUN_FINISHED:
        if (j->replace) {
            junit_replace(j, st->duration_us, st->message);
        } else {
            GString *d = junit_document(j, st->duration_us, st->message);
            fputs(d->str, r->out);
            g_string_free(d, TRUE);
        }
        break;
    default:
        break;
    }
}

static gboolean junit_close(tf_reporter *r, GError **error)
{
    junit_reporter *j = (junit_reporter *)r;
    if (j->dirty) /* closed without a RUN_FINISHED: keep what finished, still unfinished */
        junit_replace(j, g_get_monotonic_time() - j->run_started, unfinished);
    return tf_reporter_close_out(r, error);
}

static void junit_free(tf_reporter *r)
{
    junit_reporter *j = (junit_reporter *)r;
    g_string_free(j->cases, TRUE);
    g_string_free(j->log, TRUE);
    g_string_free(j->detail, TRUE);
    tf_reporter_base_clear(r);
    g_free(j);
}

tf_reporter *tf_reporter_junit_new(FILE *out, gboolean own)
{
    junit_reporter *j = g_new0(junit_reporter, 1);
    j->base.out = out;
    j->base.own_out = own;
    j->base.event = junit_event;
    j->base.close = junit_close;
    j->base.free = junit_free;
    j->cases = g_string_new(NULL);
    j->log = g_string_new(NULL);
    j->detail = g_string_new(NULL);
    j->run_started = g_get_monotonic_time();
    return &j->base;
}

tf_reporter *tf_reporter_junit_new_file(const char *path, const char *spec, GError **error)
{
    tf_reporter *r = tf_reporter_junit_new(NULL, FALSE);
    r->path = g_strdup(path);
    r->spec = g_strdup(spec);
    ((junit_reporter *)r)->replace = TRUE;
    junit_replace((junit_reporter *)r, 0, unfinished);
    if (r->write_errno) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "--format %s: creating %s: %s", spec, path,
                    g_strerror(r->write_errno));
        r->free(r);
        return NULL;
    }
    return r;
}
