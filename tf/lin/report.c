/* report.c: a check's result as a reader of a scenario report needs it: the verdict and
 * what it rests on in text, and for a violation every operation the explanation names
 * (the failing one, those concurrent with it, one linearization of the longest prefix)
 * with its process and times, beside the drawing. */
#include <string.h>
#include "lin_priv.h"

/* The op of `ops` with id `id` (ops is tf_ophistory_ops' copy: ids are 1, 2, ... in
 * order, but a caller may pass any selection), or NULL. */
static const tf_op *op_by_id(GPtrArray *ops, guint64 id)
{
    if (id >= 1 && id <= ops->len && ((tf_op *)ops->pdata[id - 1])->id == id)
        return ops->pdata[id - 1];
    for (guint i = 0; i < ops->len; i++)
        if (((tf_op *)ops->pdata[i])->id == id)
            return ops->pdata[i];
    return NULL;
}

/* "op 12 (process 3, 1.204-1.311 s): b: read() -> "x"" with times from t0. */
static void append_op(GString *s, GPtrArray *ops, const tf_lin_model *m, guint64 id, gint64 t0)
{
    const tf_op *op = op_by_id(ops, id);
    if (!op) {
        g_string_append_printf(s, "op %" G_GUINT64_FORMAT, id);
        return;
    }
    char *d = NULL;
    if (m) {
        void *mop = m->op_new(op->name, op->input, op->status == TF_OP_OK ? op->output : NULL, NULL);
        if (mop && m->op_describe)
            d = m->op_describe(mop);
        if (mop)
            m->op_free(mop);
    }
    if (!d)
        d = tf_op_describe(op);
    g_string_append_printf(s, "op %" G_GUINT64_FORMAT " (process %" G_GINT64_FORMAT ", %.3f-",
                           id, op->process, (op->invoke_time - t0) / 1e6);
    if (op->status == TF_OP_PENDING || op->status == TF_OP_UNKNOWN)
        g_string_append_printf(s, "%s", op->status == TF_OP_PENDING ? "pending" : "unknown");
    else
        g_string_append_printf(s, "%.3f s", (op->complete_time - t0) / 1e6);
    g_string_append_printf(s, "): %s", d);
    g_free(d);
}

char *tf_lin_result_text(const tf_lin_result *r, GPtrArray *ops, const tf_lin_model *model)
{
    GString *s = g_string_new(NULL);
    gint64 t0 = G_MAXINT64;
    for (guint i = 0; i < ops->len; i++)
        t0 = MIN(t0, ((tf_op *)ops->pdata[i])->invoke_time);
    g_string_append_printf(s, "%s: %s\n", tf_lin_verdict_name(r->verdict), r->summary);
    g_string_append_printf(s, "checked %u operations in %u part%s: %" G_GUINT64_FORMAT
                           " search steps, %.3f s, %.1f KiB of search tables at most\n",
                           r->ops, r->parts, r->parts == 1 ? "" : "s", r->steps,
                           r->elapsed_us / 1e6, r->peak_bytes / 1024.0);
    if (r->verdict != TF_LIN_VIOLATION)
        return g_string_free(s, FALSE);
    if (r->part)
        g_string_append_printf(s, "part: %s\n", r->part);
    g_string_append(s, "times are seconds after the first invocation\nfailing: ");
    append_op(s, ops, model, r->failing_op, t0);
    g_string_append_printf(s, "\nconcurrent with it (%u):\n", r->involved ? r->involved->len : 0);
    for (guint i = 0; r->involved && i < r->involved->len; i++) {
        g_string_append(s, "  ");
        append_op(s, ops, model, g_array_index(r->involved, guint64, i), t0);
        g_string_append_c(s, '\n');
    }
    g_string_append_printf(s, "one linearization of the longest prefix (%u operations)%s%s:\n",
                           r->linearized ? r->linearized->len : 0, r->state ? ", ending in " : "",
                           r->state ? r->state : "");
    for (guint i = 0; r->linearized && i < r->linearized->len; i++) {
        g_string_append_printf(s, "  %u. ", i + 1);
        append_op(s, ops, model, g_array_index(r->linearized, guint64, i), t0);
        g_string_append_c(s, '\n');
    }
    return g_string_free(s, FALSE);
}
