/* ophistory.c: the client operation history: a locked, append-only list of operations
 * that client threads invoke and complete, the fault windows beside them, and its NDJSON
 * export. Each event gets a sequence number under the lock, so the export (and a
 * listener) sees events in the order they were recorded even when two share a clock
 * tick. */
#include <errno.h>
#include <string.h>
#include "lin_priv.h"
#include "util/sync.h"

typedef struct {
    tf_op op;
    guint64 invoke_seq, complete_seq; /* recording order of its two events */
} record;

typedef struct {
    tf_fault f;
    guint64 begin_seq, end_seq;
} fault_record;

struct tf_ophistory {
    tf_mutex lock;
    GPtrArray *records; /* record *, index = id - 1 */
    GPtrArray *faults;  /* fault_record *, in the order they began */
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

static void fault_clear(tf_fault *f)
{
    g_free(f->name);
    g_free(f->what);
}

void tf_fault_free(tf_fault *f)
{
    if (!f)
        return;
    fault_clear(f);
    g_free(f);
}

static void fault_record_free(void *p)
{
    fault_record *r = p;
    fault_clear(&r->f);
    g_free(r);
}

tf_ophistory *tf_ophistory_new(void)
{
    tf_ophistory *h = g_new0(tf_ophistory, 1);
    tf_mutex_init(&h->lock);
    h->records = g_ptr_array_new_with_free_func(record_free);
    h->faults = g_ptr_array_new_with_free_func(fault_record_free);
    return h;
}

void tf_ophistory_free(tf_ophistory *h)
{
    if (!h)
        return;
    g_ptr_array_unref(h->records);
    g_ptr_array_unref(h->faults);
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

json_t *tf_fault_event_json(const tf_fault *f, gboolean healed)
{
    if (healed)
        return f->end ? json_pack("{s:s, s:s, s:I}", "event", "healed", "fault", f->name,
                                  "time", (json_int_t)f->end)
                      : NULL;
    json_t *e = json_pack("{s:s, s:s}", "event", "fault", "fault", f->name);
    if (f->what)
        json_object_set_new(e, "what", json_string(f->what));
    json_object_set_new(e, "time", json_integer(f->begin));
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

static void notify_fault(tf_ophistory *h, const tf_fault *f, gboolean healed)
{
    if (!h->listener)
        return;
    json_t *e = tf_fault_event_json(f, healed);
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

/* Ends the active faults called name (NULL: all) at time (lock held); returns how many. */
static guint end_faults(tf_ophistory *h, gint64 time, const char *name)
{
    guint ended = 0;
    for (guint i = 0; i < h->faults->len; i++) {
        fault_record *r = h->faults->pdata[i];
        if (r->f.end || (name && strcmp(r->f.name, name)))
            continue;
        r->f.end = MAX(time, r->f.begin);
        if (r->f.end == 0)
            r->f.end = 1; /* 0 means active: a history read from a file may start at 0 */
        r->end_seq = ++h->seq;
        notify_fault(h, &r->f, TRUE);
        ended++;
    }
    return ended;
}

void tf_ophistory_fault_begin_at(tf_ophistory *h, gint64 time, const char *name,
                                 const char *what)
{
    g_return_if_fail(h && name);
    fault_record *r = g_new0(fault_record, 1);
    r->f.name = g_strdup(name);
    r->f.what = g_strdup(what);
    r->f.begin = time;
    tf_mutex_lock(&h->lock);
    end_faults(h, time, name);
    r->begin_seq = ++h->seq;
    g_ptr_array_add(h->faults, r);
    notify_fault(h, &r->f, FALSE);
    tf_mutex_unlock(&h->lock);
}

void tf_ophistory_fault_begin(tf_ophistory *h, const char *name, const char *what)
{
    tf_ophistory_fault_begin_at(h, g_get_monotonic_time(), name, what);
}

guint tf_ophistory_fault_end_at(tf_ophistory *h, gint64 time, const char *name)
{
    tf_mutex_lock(&h->lock);
    guint n = end_faults(h, time, name);
    tf_mutex_unlock(&h->lock);
    return n;
}

guint tf_ophistory_fault_end(tf_ophistory *h, const char *name)
{
    return tf_ophistory_fault_end_at(h, g_get_monotonic_time(), name);
}

GPtrArray *tf_ophistory_faults(tf_ophistory *h)
{
    tf_mutex_lock(&h->lock);
    GPtrArray *out = g_ptr_array_new_full(h->faults->len, (GDestroyNotify)tf_fault_free);
    for (guint i = 0; i < h->faults->len; i++) {
        const tf_fault *f = &((fault_record *)h->faults->pdata[i])->f;
        tf_fault *c = g_new(tf_fault, 1);
        *c = *f;
        c->name = g_strdup(f->name);
        c->what = g_strdup(f->what);
        g_ptr_array_add(out, c);
    }
    tf_mutex_unlock(&h->lock);
    return out;
}

gboolean tf_faults_cover(GPtrArray *faults, gint64 time)
{
    for (guint i = 0; faults && i < faults->len; i++) {
        const tf_fault *f = faults->pdata[i];
        if (time >= f->begin && (!f->end || time <= f->end))
            return TRUE;
    }
    return FALSE;
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
    const tf_op *op;      /* NULL for a fault's event */
    const tf_fault *fault;
    gboolean completion;  /* an op's completion, a fault's healing */
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
        event_ref inv = {r->op.invoke_time, r->invoke_seq, &r->op, NULL, FALSE};
        g_array_append_val(events, inv);
        if (r->op.status != TF_OP_PENDING) {
            event_ref done = {r->op.complete_time, r->complete_seq, &r->op, NULL, TRUE};
            g_array_append_val(events, done);
        }
    }
    for (guint i = 0; i < h->faults->len; i++) {
        const fault_record *r = h->faults->pdata[i];
        event_ref begin = {r->f.begin, r->begin_seq, NULL, &r->f, FALSE};
        g_array_append_val(events, begin);
        if (r->f.end) {
            event_ref healed = {r->f.end, r->end_seq, NULL, &r->f, TRUE};
            g_array_append_val(events, healed);
        }
    }
    g_array_sort(events, event_cmp);
    gboolean ok = TRUE;
    for (guint i = 0; i < events->len && ok; i++) {
        const event_ref *e = &g_array_index(events, event_ref, i);
        json_t *j = e->op ? tf_op_event_json(e->op, e->completion)
                          : tf_fault_event_json(e->fault, e->completion);
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
