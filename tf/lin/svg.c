/* svg.c: draws an operation history as SVG, the way Jepsen's and Porcupine's reports do:
 * one lane per process, one bar per operation from invocation to completion, events
 * evenly spaced in time order (real gaps would squeeze the interesting part), fault
 * windows shaded behind them. For a violation only the failing part around the failure is
 * drawn, with the failing and the concurrent operations marked, so the picture explains
 * the verdict. */
#include <string.h>
#include "lin_priv.h"

#define LEFT 64      /* lane labels */
#define LINE 16      /* a line of text */
#define LANE 30
#define BAR 20

typedef struct {
    const tf_op *op;
    char *text;       /* label */
    const char *cls;  /* CSS classes after "op" */
    int order;        /* 1-based place in the linearized prefix, 0 = none */
    guint index;      /* in the selection (for its ranks) */
} drawn;

static gboolean contains(const GArray *ids, guint64 id)
{
    for (guint i = 0; ids && i < ids->len; i++)
        if (g_array_index(ids, guint64, i) == id)
            return TRUE;
    return FALSE;
}

static int order_in(const GArray *ids, guint64 id)
{
    for (guint i = 0; ids && i < ids->len; i++)
        if (g_array_index(ids, guint64, i) == id)
            return (int)i + 1;
    return 0;
}

/* The model's description of op (new string), or NULL when the model refuses it. Sets
 * *part to a copy of its part when asked. */
static char *model_view(const tf_lin_model *m, const tf_op *op, char **part)
{
    if (!m)
        return tf_op_describe(op);
    void *mop = m->op_new(op->name, op->input, op->status == TF_OP_OK ? op->output : NULL, NULL);
    if (!mop)
        return NULL;
    char *d = m->op_describe ? m->op_describe(mop) : tf_op_describe(op);
    if (part) {
        const char *p = m->op_partition ? m->op_partition(mop) : NULL;
        *part = g_strdup(p);
    }
    m->op_free(mop);
    return d;
}

static void text_el(GString *s, double x, double y, const char *cls, const char *text)
{
    char *esc = g_markup_escape_text(text, -1);
    g_string_append_printf(s, "<text x=\"%.1f\" y=\"%.1f\"%s%s%s>%s</text>\n", x, y,
                           cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "", esc);
    g_free(esc);
}

/* Appends `text` to lines, cut at spaces into lines of at most `width` characters. */
static void wrap(GPtrArray *lines, const char *text, glong width)
{
    char **words = g_strsplit(text, " ", -1);
    GString *line = g_string_new(NULL);
    for (char **w = words; *w; w++) {
        if (line->len && g_utf8_strlen(line->str, -1) + 1 + g_utf8_strlen(*w, -1) > width) {
            g_ptr_array_add(lines, g_strdup(line->str));
            g_string_truncate(line, 0);
        }
        g_string_append_printf(line, "%s%s", line->len ? " " : "", *w);
    }
    if (line->len)
        g_ptr_array_add(lines, g_strdup(line->str));
    g_string_free(line, TRUE);
    g_strfreev(words);
}

static int process_cmp(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

/* The x of time t: before the first drawn event at or after t (events are evenly spaced,
 * so a fault is placed among them, not at its real time). times[k]: the time of the
 * event of rank k. */
static double x_of(gint64 t, const gint64 *times, guint events, guint lo, guint hi,
                   double unit, double right)
{
    guint k = 0;
    while (k < events && times[k] < t)
        k++;
    if (k > hi)
        return right;
    return k <= lo ? LEFT : LEFT + (k - lo) * unit;
}

/* Fault windows behind the lanes, each named at its top. */
static void draw_faults(GString *s, GPtrArray *faults, const tf_op *const *sel, guint n,
                        const guint *call, const guint *ret, guint lo, guint hi, double unit,
                        double right, double top, double bottom)
{
    if (!faults || !faults->len || !n)
        return;
    gint64 *times = g_new(gint64, 2 * n);
    for (guint i = 0; i < n; i++) {
        times[call[i]] = sel[i]->invoke_time;
        times[ret[i]] = lin_op_return_time(sel[i]);
    }
    for (guint i = 0; i < faults->len; i++) {
        const tf_fault *f = faults->pdata[i];
        double x1 = x_of(f->begin, times, 2 * n, lo, hi, unit, right);
        double x2 = f->end ? x_of(f->end, times, 2 * n, lo, hi, unit, right) : right;
        if (x2 <= LEFT || x1 >= right || x2 - x1 < 1)
            continue; /* outside the window drawn */
        char *what = g_strdup_printf("%s%s%s%s", f->name, f->what ? " " : "", f->what ? f->what : "",
                                     f->end ? "" : " (until the end)");
        char *esc = g_markup_escape_text(what, -1);
        g_string_append_printf(s, "<g class=\"fault\"><title>fault: %s</title><rect x=\"%.1f\" "
                               "y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", esc, x1, top - 14,
                               x2 - x1, bottom - top + 14);
        g_free(esc);
        text_el(s, x1 + 2, top - 4, "faultname", what);
        g_string_append(s, "</g>\n");
        g_free(what);
    }
    g_free(times);
}

char *tf_lin_svg(GPtrArray *ops, const tf_lin_model *m, const tf_lin_result *r)
{
    return tf_lin_svg_faults(ops, NULL, m, r);
}

char *tf_lin_svg_faults(GPtrArray *ops, GPtrArray *faults, const tf_lin_model *m,
                        const tf_lin_result *r)
{
    gboolean violation = r && r->verdict == TF_LIN_VIOLATION;
    /* which operations: the failing part, or all */
    GPtrArray *sel = g_ptr_array_new();
    GPtrArray *labels = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < ops->len; i++) {
        const tf_op *op = ops->pdata[i];
        if (r && op->status == TF_OP_FAIL)
            continue; /* it had no effect: the check skipped it, so does the drawing */
        char *part = NULL;
        char *d = model_view(m, op, violation && r->part ? &part : NULL);
        if (!d)
            d = tf_op_describe(op);
        if (violation && r->part && g_strcmp0(part, r->part)) {
            g_free(d);
            g_free(part);
            continue;
        }
        g_free(part);
        g_ptr_array_add(sel, (void *)op);
        g_ptr_array_add(labels, d);
    }
    guint n = sel->len;
    guint *call = g_new(guint, n ? n : 1), *ret = g_new(guint, n ? n : 1);
    lin_event_ranks((const tf_op *const *)sel->pdata, n, call, ret);

    /* the window of events to draw */
    guint lo = 0, hi = n ? 2 * n - 1 : 0;
    gint failing = -1;
    for (guint i = 0; violation && i < n; i++)
        if (((const tf_op *)sel->pdata[i])->id == r->failing_op)
            failing = (gint)i;
    if (failing >= 0) {
        lo = call[failing];
        hi = MIN(ret[failing] + 3, 2 * n - 1);
        guint from = r->linearized && r->linearized->len > 8 ? r->linearized->len - 8 : 0;
        for (guint i = 0; i < n; i++) {
            int k = order_in(r->linearized, ((const tf_op *)sel->pdata[i])->id);
            if (k > (int)from && call[i] < lo)
                lo = call[i];
        }
        lo = lo > 2 ? lo - 2 : 0;
        if (hi - lo > 160)
            lo = hi - 160;
    }
    guint span = n ? hi - lo + 1 : 1;
    double unit = span <= 40 ? 50.0 : MAX(4.0, 2000.0 / span);
    double right = MAX(LEFT + span * unit, 880.0);

    /* the operations in the window, and their lanes */
    GArray *items = g_array_new(FALSE, TRUE, sizeof(drawn));
    GArray *procs = g_array_new(FALSE, FALSE, sizeof(gint64));
    for (guint i = 0; i < n; i++) {
        const tf_op *op = sel->pdata[i];
        if (call[i] > hi || ret[i] < lo)
            continue;
        drawn d = {op, labels->pdata[i], "", order_in(violation ? r->linearized : NULL, op->id), i};
        if ((gint)i == failing)
            d.cls = " failing";
        else if (violation && contains(r->involved, op->id))
            d.cls = " involved";
        else if (op->status == TF_OP_FAIL)
            d.cls = " fail";
        else if (d.order)
            d.cls = " linearized";
        g_array_append_val(items, d);
        gboolean seen = FALSE;
        for (guint k = 0; k < procs->len && !seen; k++)
            seen = g_array_index(procs, gint64, k) == op->process;
        if (!seen)
            g_array_append_val(procs, op->process);
    }
    g_array_sort(procs, process_cmp);
    /* the header: title, the summary wrapped to the width, the window */
    GPtrArray *head = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(head, violation ? g_strdup_printf("NOT linearizable%s%s%s",
                                                      r->part ? " (part " : "",
                                                      r->part ? r->part : "", r->part ? ")" : "")
                          : g_strdup(r ? tf_lin_verdict_name(r->verdict) : "operation history"));
    if (r && r->summary)
        wrap(head, r->summary, (glong)((right - 16) / 6.7));
    g_ptr_array_add(head, g_strdup_printf("events %u to %u of %u, in time order%s", lo + 1,
                                          hi + 1, 2 * n, violation ? "; numbers: the order of a "
                                          "linearization of the longest linearizable prefix" : ""));
    double top = 24 + head->len * LINE + (faults && faults->len ? LINE : 0);
    double height = top + procs->len * LANE + 30;

    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                           "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", right + 20, height,
                           right + 20, height);
    g_string_append(s, "<style>text{font:11px monospace;fill:#222}.title{font-weight:bold}"
                       ".op rect{fill:#dde8f5;stroke:#5b7ba6}.op.linearized rect{fill:#d9ead3;"
                       "stroke:#6aa84f}.op.involved rect{fill:#fce5cd;stroke:#e69138}"
                       ".op.failing rect{fill:#f4cccc;stroke:#cc0000;stroke-width:2}"
                       ".op.fail rect{fill:#eeeeee;stroke:#999999}"
                       ".op.unknown rect{stroke-dasharray:4 3}.order{font-size:9px;fill:#38761d}"
                       ".prefix{stroke:#cc0000;stroke-dasharray:6 4}.lane{stroke:#e0e0e0}"
                       ".fault rect{fill:#fff2cc;fill-opacity:0.6;stroke:#bf9000;"
                       "stroke-dasharray:2 2}.faultname{font-size:9px;fill:#7f6000}"
                       "</style>\n");
    for (guint k = 0; k < head->len; k++)
        text_el(s, 8, 18 + k * LINE, k ? NULL : "title", head->pdata[k]);
    g_ptr_array_unref(head);
    draw_faults(s, faults, (const tf_op *const *)sel->pdata, n, call, ret, lo, hi, unit, right,
                top, top + procs->len * LANE);

    for (guint k = 0; k < procs->len; k++) {
        double y = top + k * LANE;
        char *lab = g_strdup_printf("p%" G_GINT64_FORMAT, g_array_index(procs, gint64, k));
        text_el(s, 8, y + BAR / 2 + 4, NULL, lab);
        g_free(lab);
        g_string_append_printf(s, "<line class=\"lane\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" "
                               "y2=\"%.1f\"/>\n", LEFT, y + BAR / 2.0, right, y + BAR / 2.0);
    }
    for (guint i = 0; i < items->len; i++) {
        drawn *d = &g_array_index(items, drawn, i);
        guint lane = 0;
        while (g_array_index(procs, gint64, lane) != d->op->process)
            lane++;
        guint j = d->index;
        gboolean open = d->op->status == TF_OP_UNKNOWN || d->op->status == TF_OP_PENDING;
        double x1 = call[j] < lo ? LEFT : LEFT + (call[j] - lo) * unit + unit * 0.15;
        double x2 = ret[j] > hi ? right : LEFT + (ret[j] - lo) * unit + unit * 0.85;
        double y = top + lane * LANE;
        char *esc_title = g_markup_escape_text(d->text, -1);
        g_string_append_printf(s, "<g class=\"op%s%s\" data-op=\"%" G_GUINT64_FORMAT "\">"
                               "<title>op %" G_GUINT64_FORMAT ", process %" G_GINT64_FORMAT
                               ": %s (%s)</title>\n", d->cls, open ? " unknown" : "", d->op->id,
                               d->op->id, d->op->process, esc_title,
                               tf_op_status_name(d->op->status));
        g_free(esc_title);
        g_string_append_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
                               "rx=\"3\"/>\n", x1, y, MAX(x2 - x1, 2.0), BAR);
        /* labels are cut to their bar, but the failing op's is always whole */
        int fit = (int)((x2 - x1 - 6) / 6.6);
        if ((gint)j == failing)
            fit = G_MAXINT;
        if (fit >= 3) {
            glong len = g_utf8_strlen(d->text, -1);
            char *label = len <= fit ? g_strdup(d->text) : g_utf8_substring(d->text, 0, fit - 1);
            if (len > fit) {
                char *cut = g_strconcat(label, "~", NULL);
                g_free(label);
                label = cut;
            }
            text_el(s, x1 + 3, y + BAR - 6, NULL, label);
            g_free(label);
        }
        if (d->order) {
            char *num = g_strdup_printf("%d", d->order);
            text_el(s, x1, y - 1, "order", num);
            g_free(num);
        }
        g_string_append(s, "</g>\n");
    }
    if (failing >= 0) {
        double x = LEFT + (ret[failing] - lo) * unit;
        g_string_append_printf(s, "<line class=\"prefix\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                               "y2=\"%.1f\"/>\n", x, top - 8, x, height - 20);
        text_el(s, MAX(x - 200, 4), height - 6, NULL, "the longest linearizable prefix ends here");
    }
    g_string_append(s, "</svg>\n");
    g_array_unref(items);
    g_array_unref(procs);
    g_ptr_array_unref(labels);
    g_ptr_array_unref(sel);
    g_free(call);
    g_free(ret);
    return g_string_free(s, FALSE);
}
