/* report_junit.c: JUnit XML (one testsuite, a testcase per scenario's final attempt) in
 * the shape Jenkins, GitLab and GitHub read. Every text goes through tf_xml_escape: XML
 * 1.0 cannot carry most control characters at all, so those become U+FFFD. */
#include <string.h>
#include "runner_private.h"

typedef struct {
    tf_reporter base;
    GString *cases;
    GString *log;    /* steps of the current attempt */
    GString *detail; /* first failure's message */
    tf_result worst;
    guint tests, failures, skipped;
    gint64 started;
} junit_reporter;

void tf_xml_escape(GString *out, const char *text)
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

static void junit_event(tf_reporter *r, const tf_event *ev)
{
    junit_reporter *j = (junit_reporter *)r;
    switch (ev->kind) {
    case TF_EV_CASE_STARTED:
        g_string_truncate(j->log, 0);
        g_string_truncate(j->detail, 0);
        j->worst = TF_RESULT_PASSED;
        j->started = g_get_monotonic_time();
        break;
    case TF_EV_STEP_FINISHED: {
        if (ev->ts->hook)
            g_string_append_printf(j->log, "%s hook", ev->ts->hook->kind == TF_HOOK_BEFORE ? "Before" : "After");
        else
            g_string_append_printf(j->log, "%s%s", ev->ts->keyword, ev->ts->pstep->text);
        g_string_append_printf(j->log, " ... %s\n", tf_result_word(ev->result));
        if (ev->result > j->worst) {
            j->worst = ev->result;
            g_string_truncate(j->detail, 0);
            if (ev->ts->hook)
                g_string_append(j->detail, "hook: ");
            else
                g_string_append_printf(j->detail, "%s%s: ", ev->ts->keyword, ev->ts->pstep->text);
            g_string_append(j->detail, ev->message ? ev->message : tf_result_word(ev->result));
        }
        break;
    }
    case TF_EV_CASE_FINISHED: {
        if (ev->will_be_retried)
            break;
        j->tests++;
        GString *c = j->cases;
        g_string_append(c, "  <testcase classname=\"");
        tf_xml_escape(c, ev->tc->feature_name);
        g_string_append(c, "\" name=\"");
        tf_xml_escape(c, ev->tc->pickle->name);
        g_string_append_printf(c, "\" time=\"%.6f\">\n", (g_get_monotonic_time() - j->started) / 1e6);
        if (j->worst == TF_RESULT_FAILED || j->worst == TF_RESULT_AMBIGUOUS) {
            j->failures++;
            g_string_append_printf(c, "    <failure type=\"%s\" message=\"", tf_result_word(j->worst));
            tf_xml_escape(c, j->detail->str);
            g_string_append(c, "\">");
            tf_xml_escape(c, j->detail->str);
            g_string_append(c, "</failure>\n");
        } else if (j->worst != TF_RESULT_PASSED) {
            j->skipped++;
            g_string_append(c, "    <skipped message=\"");
            tf_xml_escape(c, j->detail->str);
            g_string_append(c, "\"/>\n");
        }
        g_string_append(c, "    <system-out>");
        tf_xml_escape(c, j->log->str);
        g_string_append(c, "</system-out>\n  </testcase>\n");
        break;
    }
    case TF_EV_RUN_FINISHED: {
        FILE *out = r->out;
        fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<testsuite name=\"tf\" tests=\"%u\" failures=\"%u\" skipped=\"%u\" "
                     "errors=\"%u\" time=\"%.6f\">\n",
                j->tests, j->failures, j->skipped, ev->stats->message ? 1u : 0u,
                ev->stats->duration_us / 1e6);
        fputs(j->cases->str, out);
        if (ev->stats->message) {
            GString *m = g_string_new(NULL);
            tf_xml_escape(m, ev->stats->message);
            fprintf(out, "  <testcase classname=\"tf\" name=\"run\" time=\"0\">\n"
                         "    <error message=\"%s\">%s</error>\n  </testcase>\n", m->str, m->str);
            g_string_free(m, TRUE);
        }
        fputs("</testsuite>\n", out);
        break;
    }
    default:
        break;
    }
}

static gboolean junit_close(tf_reporter *r, GError **error) { return tf_reporter_close_out(r, error); }

static void junit_free(tf_reporter *r)
{
    junit_reporter *j = (junit_reporter *)r;
    g_string_free(j->cases, TRUE);
    g_string_free(j->log, TRUE);
    g_string_free(j->detail, TRUE);
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
    return &j->base;
}
