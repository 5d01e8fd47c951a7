/* report_text.c: the human reporters: pretty (every step, coloured on a terminal, with a
 * live "waiting for" line while a step waits), progress (one character a step) and
 * summary (failures and totals only). They share failure collection and the totals.
 * Output is flushed after every pretty step and every scenario, so a file being written
 * shows what has finished even while a step blocks, and after a kill. */
#include <string.h>
#include "report_priv.h"

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

static void step_label(GString *s, const tf_q_test_step *st)
{
    if (st && st->hook) {
        const tf_q_hook *h = st->hook;
        g_string_append_printf(s, "%s%s%s", h->kind == TF_HOOK_BEFORE ? "Before" : "After",
                               h->name ? " " : "", h->name ? h->name : "");
    } else if (st && st->pstep) {
        g_string_append_printf(s, "%s%s", st->keyword, st->pstep->text);
    }
}

static void case_started(text_reporter *t, const tf_query *q, const tf_ev_case_started *e)
{
    const tf_q_attempt *a = tf_query_attempt(q, e->id);
    clear_status(t);
    if (t->style != STYLE_PRETTY || !a || !a->tc->pickle)
        return;
    const tf_gherkin_pickle *p = a->tc->pickle;
    if (a->tc->feature_name != t->last_feature) {
        t->last_feature = a->tc->feature_name;
        fprintf(t->base.out, "\nFeature: %s\n", a->tc->feature_name);
    }
    fprintf(t->base.out, "\n  Scenario: %s%s  %s# %s:%u%s\n", p->name, e->attempt ? " (retry)" : "",
            grey(t), p->uri, p->location.line, reset(t));
}

static void suggestion(text_reporter *t, const tf_query *q, const tf_ev_suggestion *e)
{
    const tf_gherkin_pickle *p = NULL;
    const tf_gherkin_pickle_step *ps = tf_query_pickle_step(q, e->pickle_step_id, &p);
    if (!e->snippet || !ps)
        return;
    g_string_append_printf(t->failures, "%u) Undefined step \"%s\" (%s:%u). Paste this C:\n",
                           ++t->n_failures, ps->text, p->uri, ps->location.line);
    indent(t->failures, e->snippet, "    ");
}

/* The pretty line of a step (hooks only when they failed) and its message. */
static void pretty_step(text_reporter *t, const tf_q_test_step *st, tf_result res,
                        const char *text)
{
    FILE *out = t->base.out;
    GString *s = g_string_new(NULL);
    step_label(s, st);
    fprintf(out, "    %s%s %s%s", col(t, res), symbol(res), s->str, reset(t));
    if (st && !st->hook && st->n_defs == 1) {
        const tf_q_step_def *d = st->defs[0];
        fprintf(out, "  %s# %s:%d%s", grey(t), d->uri, d->line, reset(t));
    }
    if (res != TF_RESULT_PASSED && res != TF_RESULT_FAILED)
        fprintf(out, " %s(%s)%s", col(t, res), tf_result_word(res), reset(t));
    fputc('\n', out);
    if (text) { /* coloured line by line: a reset never opens a line */
        char **lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++)
            fprintf(out, "      %s%s%s\n", col(t, res), *l, reset(t));
        g_strfreev(lines);
    }
    g_string_free(s, TRUE);
}

/* A failed or ambiguous step's entry in the failures listed at the end. */
static void failure_entry(text_reporter *t, const tf_q_attempt *a, const tf_q_test_step *st,
                          tf_result res, const char *text)
{
    const tf_gherkin_pickle *p = a && a->tc ? a->tc->pickle : NULL;
    GString *s = g_string_new(NULL);
    step_label(s, st);
    g_string_append_printf(t->failures, "%u) Scenario: %s (%s:%u)\n   %s %s%s\n", ++t->n_failures,
                           p ? p->name : "?", p ? p->uri : "?", p ? p->location.line : 0,
                           tf_result_word(res), s->str, a && a->attempt ? " (after retries)" : "");
    indent(t->failures, text, "     ");
    g_string_free(s, TRUE);
}

static void step_finished(text_reporter *t, const tf_query *q, const tf_ev_step_finished *e)
{
    const tf_q_test_step *st = tf_query_test_step(q, e->test_step_id);
    tf_result res = e->result.status;
    gboolean bad = res == TF_RESULT_FAILED || res == TF_RESULT_AMBIGUOUS;
    gboolean hook = st && st->hook;
    char *text = tf_query_result_text(q, e->test_step_id, &e->result);
    clear_status(t);
    if (t->style == STYLE_PRETTY && (!hook || bad))
        pretty_step(t, st, res, text);
    else if (t->style == STYLE_PROGRESS && (!hook || bad))
        fprintf(t->base.out, "%s%c%s", col(t, res), progress_char(res), reset(t));
    if (bad && text)
        failure_entry(t, tf_query_attempt(q, e->test_case_started_id), st, res, text);
    if (t->style == STYLE_PRETTY)
        tf_reporter_flush(&t->base);
    g_free(text);
}

static void global_hook_finished(text_reporter *t, const tf_query *q,
                                 const tf_ev_global_hook_finished *e)
{
    const tf_q_hook *h = tf_query_hook_run(q, e->hook_run_id);
    if (e->result.status != TF_RESULT_FAILED || !e->result.message || !h)
        return;
    g_string_append_printf(t->failures, "%u) %s hook %s:%d failed\n", ++t->n_failures,
                           h->kind == TF_HOOK_BEFORE_ALL ? "BeforeAll" : "AfterAll", h->uri,
                           h->line);
    indent(t->failures, e->result.message, "     ");
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

/* The totals: "N scenarios (a passed, b failed)", the steps, the time, what failed the run. */
static void write_summary(FILE *out, const tf_run_stats *st, gboolean color)
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

static void run_finished(text_reporter *t, const tf_query *q)
{
    FILE *out = t->base.out;
    clear_status(t);
    if (t->style == STYLE_PROGRESS)
        fputc('\n', out);
    if (t->failures->len)
        fprintf(out, "\nFailures:\n\n%s", t->failures->str);
    fputc('\n', out);
    write_summary(out, tf_query_stats(q), t->color);
    tf_reporter_flush(&t->base);
}

static void text_event(tf_reporter *r, const tf_query *q, const tf_event *ev)
{
    text_reporter *t = (text_reporter *)r;
    switch (ev->kind) {
    case TF_EV_CASE_STARTED: case_started(t, q, &ev->case_started); break;
    case TF_EV_SUGGESTION: suggestion(t, q, &ev->suggestion); break;
    case TF_EV_ATTACHMENT:
        if (t->style == STYLE_PRETTY &&
            !strcmp(ev->attachment.media_type, "text/x.cucumber.log+plain")) {
            clear_status(t);
            fprintf(r->out, "      %s%.*s%s\n", grey(t), (int)ev->attachment.len,
                    (const char *)ev->attachment.data, reset(t));
        }
        break;
    case TF_EV_STEP_FINISHED: step_finished(t, q, &ev->step_finished); break;
    case TF_EV_CASE_FINISHED: tf_reporter_flush(r); break;
    case TF_EV_GLOBAL_HOOK_FINISHED: global_hook_finished(t, q, &ev->global_hook_finished); break;
    case TF_EV_RUN_FINISHED: run_finished(t, q); break;
    default: break;
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
