/* ophistory.c: the client operation history: a locked, append-only list of operations
 * that client threads invoke and complete, and its NDJSON export. Each event gets a
 * sequence number under the lock, so the export (and a listener) sees events in the order
 * they were recorded even when two share a clock tick. */
#include <errno.h>
#include <string.h>
#include "lin_priv.h"
#include "util/sync.h"

typedef struct {
    tf_op op;
    guint64 invoke_seq, complete_seq; /* recording order of its two events */
} record;

struct tf_ophistory {
    tf_mutex lock;
    GPtrArray *records; /* record *, index = id - 1 */
    guint64 seq;
    tf_ophistory_listener listener;
    void *listener_data;
};

static const char *status_names[] = {"pending", "ok", "fail", "unknown"};

const char *tf_op_status_name(tf_op_status status)
{
    return (guint)status < G_N_ELEMENTS(status_names) ? status_names[status] : "?";
}

char *lin_json_text(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *out = g_strdup(s ? s : "null");
    free(s);
    return out;
}

char *tf_op_describe(const tf_op *op)
{
    char *in = json_is_null(op->input) ? g_strdup("") : lin_json_text(op->input);
    char *out = op->status == TF_OP_OK ? lin_json_text(op->output)
                : op->status == TF_OP_PENDING ? g_strdup("?") : g_strdup(tf_op_status_name(op->status));
    char *d = g_strdup_printf("%s(%s) -> %s", op->name, in, out);
    g_free(in);
    g_free(out);
    return d;
}

static void op_clear(tf_op *op)
{
    g_free(op->name);
    json_decref(op->input);
    json_decref(op->output);
    g_free(op->error);
}

void tf_op_free(tf_op *op)
{
    if (!op)
        return;
    op_clear(op);
    g_free(op);
}

static void record_free(void *p)
{
    record *r = p;
    op_clear(&r->op);
    g_free(r);
}

tf_ophistory *tf_ophistory_new(void)
{
    tf_ophistory *h = g_new0(tf_ophistory, 1);
    tf_mutex_init(&h->lock);
    h->records = g_ptr_array_new_with_free_func(record_free);
    return h;
}

void tf_ophistory_free(tf_ophistory *h)
{
    if (!h)
        return;
    g_ptr_array_unref(h->records);
    tf_mutex_clear(&h->lock);
    g_free(h);
}

void tf_ophistory_set_listener(tf_ophistory *h, tf_ophistory_listener fn, void *data)
{
    tf_mutex_lock(&h->lock);
    h->listener = fn;
    h->listener_data = data;
    tf_mutex_unlock(&h->lock);
}

json_t *tf_op_event_json(const tf_op *op, gboolean completion)
{
    if (!completion)
        return json_pack("{s:s, s:I, s:I, s:s, s:O, s:I}", "event", "invoke", "op",
                         (json_int_t)op->id, "process", (json_int_t)op->process, "name",
                         op->name, "input", op->input, "time", (json_int_t)op->invoke_time);
    if (op->status == TF_OP_PENDING)
        return NULL;
    json_t *e = json_pack("{s:s, s:I}", "event", tf_op_status_name(op->status), "op",
                          (json_int_t)op->id);
    if (op->status == TF_OP_OK)
        json_object_set(e, "output", op->output);
    else if (op->error)
        json_object_set_new(e, "error", json_string(op->error));
    json_object_set_new(e, "time", json_integer(op->complete_time));
    return e;
}

/* Tells the listener about an event (lock held). */
static void notify(tf_ophistory *h, const tf_op *op, gboolean completion)
{
    if (!h->listener)
        return;
    json_t *e = tf_op_event_json(op, completion);
    h->listener(e, h->listener_data);
    json_decref(e);
}

/* Adds an invocation (lock not held); steals `input`. */
static guint64 add(tf_ophistory *h, gint64 time, gint64 process, const char *name,
                   json_t *input, guint line)
{
    record *r = g_new0(record, 1);
    r->op.process = process;
    r->op.name = g_strdup(name);
    r->op.input = input ? input : json_null();
    r->op.status = TF_OP_PENDING;
    r->op.invoke_time = time;
    r->op.line = line;
    tf_mutex_lock(&h->lock);
    g_ptr_array_add(h->records, r);
    r->op.id = h->records->len;
    r->invoke_seq = ++h->seq;
    notify(h, &r->op, FALSE);
    tf_mutex_unlock(&h->lock);
    return r->op.id;
}

guint64 ophistory_add_read(tf_ophistory *h, gint64 time, gint64 process, const char *name,
                           json_t *input, guint line)
{
    return add(h, time, process, name, input, line);
}

guint64 tf_ophistory_invoke_at(tf_ophistory *h, gint64 time, gint64 process,
                               const char *name, const json_t *input)
{
    g_return_val_if_fail(h && name, 0);
    return add(h, time, process, name, input ? json_deep_copy(input) : NULL, 0);
}

guint64 tf_ophistory_invoke(tf_ophistory *h, gint64 process, const char *name,
                            const json_t *input)
{
    return tf_ophistory_invoke_at(h, g_get_monotonic_time(), process, name, input);
}

gboolean tf_ophistory_complete_at(tf_ophistory *h, gint64 time, guint64 id,
                                  tf_op_status status, const json_t *output,
                                  const char *error, GError **err)
{
    if (status != TF_OP_OK && status != TF_OP_FAIL && status != TF_OP_UNKNOWN) {
        g_set_error(err, TF_ERROR, TF_ERROR_INVALID, "op %" G_GUINT64_FORMAT
                    ": a completion is ok, fail or unknown, not %s", id, tf_op_status_name(status));
        return FALSE;
    }
    json_t *out = status == TF_OP_OK ? (output ? json_deep_copy(output) : json_null()) : NULL;
    tf_mutex_lock(&h->lock);
    record *r = id >= 1 && id <= h->records->len ? h->records->pdata[id - 1] : NULL;
    const char *why = !r ? "no such operation"
                      : r->op.status != TF_OP_PENDING ? "already completed"
                      : time < r->op.invoke_time ? "completes before its invocation" : NULL;
    if (why) {
        g_set_error(err, TF_ERROR, TF_ERROR_INVALID, "op %" G_GUINT64_FORMAT ": %s", id, why);
        tf_mutex_unlock(&h->lock);
        json_decref(out);
        return FALSE;
    }
    r->op.status = status;
    r->op.output = out;
    r->op.error = g_strdup(error);
    r->op.complete_time = time;
    r->complete_seq = ++h->seq;
    notify(h, &r->op, TRUE);
    tf_mutex_unlock(&h->lock);
    return TRUE;
}

gboolean tf_ophistory_complete(tf_ophistory *h, guint64 id, tf_op_status status,
                               const json_t *output, const char *error, GError **err)
{
    return tf_ophistory_complete_at(h, g_get_monotonic_time(), id, status, output, error, err);
}

guint tf_ophistory_len(tf_ophistory *h)
{
    tf_mutex_lock(&h->lock);
    guint n = h->records->len;
    tf_mutex_unlock(&h->lock);
    return n;
}

static tf_op *op_copy(const tf_op *op)
{
    tf_op *c = g_new(tf_op, 1);
    *c = *op;
    c->name = g_strdup(op->name);
    c->input = json_deep_copy(op->input);
    c->output = op->output ? json_deep_copy(op->output) : NULL;
    c->error = g_strdup(op->error);
    return c;
}

GPtrArray *tf_ophistory_ops(tf_ophistory *h)
{
    tf_mutex_lock(&h->lock);
    GPtrArray *ops = g_ptr_array_new_full(h->records->len, (GDestroyNotify)tf_op_free);
    for (guint i = 0; i < h->records->len; i++)
        g_ptr_array_add(ops, op_copy(&((record *)h->records->pdata[i])->op));
    tf_mutex_unlock(&h->lock);
    return ops;
}

/* One event of the export, to sort by (time, recording order). */
typedef struct {
    gint64 time;
    guint64 seq;
    const tf_op *op;
    gboolean completion;
} event_ref;

static int event_cmp(const void *a, const void *b)
{
    const event_ref *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

gboolean tf_ophistory_write(tf_ophistory *h, FILE *out, GError **error)
{
    tf_mutex_lock(&h->lock);
    GArray *events = g_array_sized_new(FALSE, FALSE, sizeof(event_ref), 2 * h->records->len);
    for (guint i = 0; i < h->records->len; i++) {
        const record *r = h->records->pdata[i];
        event_ref inv = {r->op.invoke_time, r->invoke_seq, &r->op, FALSE};
        g_array_append_val(events, inv);
        if (r->op.status != TF_OP_PENDING) {
            event_ref done = {r->op.complete_time, r->complete_seq, &r->op, TRUE};
            g_array_append_val(events, done);
        }
    }
    g_array_sort(events, event_cmp);
    gboolean ok = TRUE;
    for (guint i = 0; i < events->len && ok; i++) {
        const event_ref *e = &g_array_index(events, event_ref, i);
        json_t *j = tf_op_event_json(e->op, e->completion);
        ok = json_dumpf(j, out, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 && fputc('\n', out) != EOF;
        json_decref(j);
    }
    tf_mutex_unlock(&h->lock);
    g_array_unref(events);
    if (ok && fflush(out) != 0)
        ok = FALSE;
    if (!ok)
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "writing the operation history: %s",
                    g_strerror(errno));
    return ok;
}
