/* report_text.c: the human reporters: pretty (every step, coloured on a terminal, with a
 * live "waiting for" line while a step waits), progress (one character a step) and
 * summary (failures and totals only). They share failure collection and the totals.
 * Output is flushed after every pretty step and every scenario, so a file being written
 * shows what has finished even while a step blocks, and after a kill. */
#include <string.h>
#include "runner_priv.h"

typedef enum { STYLE_PRETTY, STYLE_PROGRESS, STYLE_SUMMARY } text_style;

typedef struct {
    tf_reporter base;
    text_style style;
    gboolean color;
    gboolean status_line; /* a live line is on screen and must be erased first */
    const char *last_feature;
    GString *failures;
    guint n_failures;
    gint64 wait_printed_us;
} text_reporter;

static const char *col(text_reporter *t, tf_result r)
{
    if (!t->color)
        return "";
    switch (r) {
    case TF_RESULT_PASSED: return "\033[32m";
    case TF_RESULT_FAILED: return "\033[31m";
    case TF_RESULT_AMBIGUOUS: return "\033[31m";
    case TF_RESULT_SKIPPED: return "\033[36m";
    default: return "\033[33m";
    }
}
static const char *grey(text_reporter *t) { return t->color ? "\033[90m" : ""; }
static const char *reset(text_reporter *t) { return t->color ? "\033[0m" : ""; }

static const char *symbol(tf_result r)
{
    switch (r) {
    case TF_RESULT_PASSED: return "✔";
    case TF_RESULT_FAILED: return "✘";
    case TF_RESULT_SKIPPED: return "-";
    case TF_RESULT_PENDING: return "P";
    case TF_RESULT_UNDEFINED: return "?";
    case TF_RESULT_AMBIGUOUS: return "✘";
    default: return " ";
    }
}

static char progress_char(tf_result r)
{
    switch (r) {
    case TF_RESULT_PASSED: return '.';
    case TF_RESULT_FAILED: return 'F';
    case TF_RESULT_SKIPPED: return '-';
    case TF_RESULT_PENDING: return 'P';
    case TF_RESULT_UNDEFINED: return 'U';
    case TF_RESULT_AMBIGUOUS: return 'A';
    default: return '?';
    }
}

static void indent(GString *out, const char *text, const char *pad)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        gsize n = nl ? (gsize)(nl - p) : strlen(p);
        g_string_append(out, pad);
        g_string_append_len(out, p, n);
        g_string_append_c(out, '\n');
        p = nl ? nl + 1 : p + n;
    }
}

static void clear_status(text_reporter *t)
{
    if (t->status_line) {
        fputs("\r\033[K", t->base.out);
        t->status_line = FALSE;
    }
}

static void step_label(GString *s, const tf_event *ev)
{
    if (ev->ts->hook) {
        const tf_hook_def *h = ev->ts->hook;
        g_string_append_printf(s, "%s%s%s", h->kind == TF_HOOK_BEFORE ? "Before" : "After",
                               h->name ? " " : "", h->name ? h->name : "");
    } else {
        g_string_append_printf(s, "%s%s", ev->ts->keyword, ev->ts->pstep->text);
    }
}

static void text_event(tf_reporter *r, const tf_event *ev)
{
    text_reporter *t = (text_reporter *)r;
    FILE *out = r->out;
    switch (ev->kind) {
    case TF_EV_CASE_STARTED:
        clear_status(t);
        if (t->style == STYLE_PRETTY) {
            if (ev->tc->feature_name != t->last_feature) {
                t->last_feature = ev->tc->feature_name;
                fprintf(out, "\nFeature: %s\n", ev->tc->feature_name);
            }
            fprintf(out, "\n  Scenario: %s%s  %s# %s:%u%s\n", ev->tc->pickle->name,
                    ev->attempt ? " (retry)" : "", grey(t), ev->tc->pickle->uri,
                    ev->tc->pickle->location.line, reset(t));
        }
        break;
    case TF_EV_SUGGESTION:
        if (ev->snippet) {
            g_string_append_printf(t->failures, "%u) Undefined step \"%s\" (%s:%u). Paste this C:\n",
                                   ++t->n_failures, ev->ts->pstep->text, ev->tc->pickle->uri,
                                   ev->ts->pstep->location.line);
            indent(t->failures, ev->snippet, "    ");
        }
        break;
    case TF_EV_ATTACHMENT:
        if (t->style == STYLE_PRETTY && !strcmp(ev->media_type, "text/x.cucumber.log+plain")) {
            clear_status(t);
            fprintf(out, "      %s%.*s%s\n", grey(t), (int)ev->len, (const char *)ev->data,
                    reset(t));
        }
        break;
    case TF_EV_STEP_FINISHED: {
        clear_status(t);
        gboolean bad = ev->result == TF_RESULT_FAILED || ev->result == TF_RESULT_AMBIGUOUS;
        if (t->style == STYLE_PRETTY) {
            if (!ev->ts->hook || bad) {
                GString *s = g_string_new(NULL);
                step_label(s, ev);
                fprintf(out, "    %s%s %s%s", col(t, ev->result), symbol(ev->result), s->str,
                        reset(t));
                if (!ev->ts->hook && ev->ts->matches->len == 1) {
                    const tf_step_def *d = ((tf_match *)g_ptr_array_index(ev->ts->matches, 0))->def;
                    fprintf(out, "  %s# %s:%d%s", grey(t), d->file, d->line, reset(t));
                }
                if (ev->result != TF_RESULT_PASSED && ev->result != TF_RESULT_FAILED)
                    fprintf(out, " %s(%s)%s", col(t, ev->result), tf_result_word(ev->result),
                            reset(t));
                fputc('\n', out);
                if (ev->message) { /* coloured line by line: a reset never opens a line */
                    char **lines = g_strsplit(ev->message, "\n", -1);
                    for (char **l = lines; *l; l++)
                        fprintf(out, "      %s%s%s\n", col(t, ev->result), *l, reset(t));
                    g_strfreev(lines);
                }
                g_string_free(s, TRUE);
            }
        } else if (t->style == STYLE_PROGRESS && (!ev->ts->hook || bad)) {
            fprintf(out, "%s%c%s", col(t, ev->result), progress_char(ev->result), reset(t));
        }
        if (bad && ev->message) {
            GString *s = g_string_new(NULL);
            step_label(s, ev);
            g_string_append_printf(t->failures, "%u) Scenario: %s (%s:%u)\n   %s %s%s\n",
                                   ++t->n_failures, ev->tc->pickle->name, ev->tc->pickle->uri,
                                   ev->tc->pickle->location.line,
                                   tf_result_word(ev->result), s->str,
                                   ev->attempt ? " (after retries)" : "");
            indent(t->failures, ev->message, "     ");
            g_string_free(s, TRUE);
        }
        if (t->style == STYLE_PRETTY)
            tf_reporter_flush(r);
        break;
    }
    case TF_EV_CASE_FINISHED:
        tf_reporter_flush(r);
        break;
    case TF_EV_GLOBAL_HOOK_FINISHED:
        if (ev->result == TF_RESULT_FAILED && ev->message) {
            g_string_append_printf(t->failures, "%u) %s hook %s:%d failed\n", ++t->n_failures,
                                   ev->hook->kind == TF_HOOK_BEFORE_ALL ? "BeforeAll" : "AfterAll",
                                   ev->hook->file, ev->hook->line);
            indent(t->failures, ev->message, "     ");
        }
        break;
    case TF_EV_RUN_FINISHED:
        clear_status(t);
        if (t->style == STYLE_PROGRESS)
            fputc('\n', out);
        if (t->failures->len)
            fprintf(out, "\nFailures:\n\n%s", t->failures->str);
        fputc('\n', out);
        tf_report_write_summary(out, ev->stats, t->color);
        tf_reporter_flush(r);
        break;
    default:
        break;
    }
}

/* The live line: only on a terminal, where it can be overwritten in place. */
static void text_waiting(tf_reporter *r, const char *what, const char *progress,
                         gint64 elapsed_us, gint64 timeout_us)
{
    text_reporter *t = (text_reporter *)r;
    if (!t->color || t->style != STYLE_PRETTY)
        return;
    fprintf(r->out, "\r\033[K      %swaiting for: %s%s%s, %.1f s of %.0f s%s", grey(t),
            what ? what : "?", progress ? ", " : "", progress ? progress : "",
            elapsed_us / 1e6, timeout_us / 1e6, reset(t));
    fflush(r->out);
    t->status_line = TRUE;
}

static gboolean text_close(tf_reporter *r, GError **error) { return tf_reporter_close_out(r, error); }

static void text_free(tf_reporter *r)
{
    text_reporter *t = (text_reporter *)r;
    g_string_free(t->failures, TRUE);
    tf_reporter_base_clear(r);
    g_free(t);
}

static tf_reporter *text_new(FILE *out, gboolean own, gboolean color, text_style style)
{
    text_reporter *t = g_new0(text_reporter, 1);
    t->base.out = out;
    t->base.own_out = own;
    t->base.event = text_event;
    t->base.waiting = text_waiting;
    t->base.close = text_close;
    t->base.free = text_free;
    t->style = style;
    t->color = color;
    t->failures = g_string_new(NULL);
    return &t->base;
}

tf_reporter *tf_reporter_pretty_new(FILE *out, gboolean own, gboolean color)
{
    return text_new(out, own, color, STYLE_PRETTY);
}
tf_reporter *tf_reporter_progress_new(FILE *out, gboolean own, gboolean color)
{
    return text_new(out, own, color, STYLE_PROGRESS);
}
tf_reporter *tf_reporter_summary_new(FILE *out, gboolean own, gboolean color)
{
    return text_new(out, own, color, STYLE_SUMMARY);
}

static void counts(FILE *out, guint n, const guint *by, const char *noun, gboolean color)
{
    fprintf(out, "%u %s%s", n, noun, n == 1 ? "" : "s");
    static const tf_result order[] = {TF_RESULT_FAILED, TF_RESULT_AMBIGUOUS,
                                      TF_RESULT_UNDEFINED, TF_RESULT_PENDING,
                                      TF_RESULT_SKIPPED, TF_RESULT_PASSED};
    gboolean first = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
        if (!by[order[i]])
            continue;
        text_reporter t = {.color = color};
        fprintf(out, "%s%s%u %s%s", first ? " (" : ", ", col(&t, order[i]), by[order[i]],
                tf_result_word(order[i]), reset(&t));
        first = FALSE;
    }
    fprintf(out, "%s\n", first ? "" : ")");
}

void tf_report_write_summary(FILE *out, const tf_run_stats *st, gboolean color)
{
    counts(out, st->n_scenarios, st->scenarios, "scenario", color);
    counts(out, st->n_steps, st->steps, "step", color);
    fprintf(out, "%.3fs\n", st->duration_us / 1e6);
    if (st->interrupted)
        fprintf(out, "%sinterrupted: the run was stopped by a signal%s\n",
                color ? "\033[31m" : "", color ? "\033[0m" : "");
    else if (st->message)
        fprintf(out, "%s\n", st->message);
}

