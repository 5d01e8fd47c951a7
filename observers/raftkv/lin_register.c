/* lin_register.c: the single-register model (read, write, compare-and-set) of a
 * linearizability check. Values are JSON, kept as their compact text so that equal values
 * compare equal whatever their spelling in the history; nil (absent) is NULL. */
#include <string.h>
#include <tf/error.h>
#include "lin_models.h"

typedef struct {
    char *value; /* compact JSON, NULL = nil */
} reg_state;

typedef enum { REG_READ, REG_WRITE, REG_CAS } reg_kind;
typedef enum { OUT_ANY, OUT_KNOWN, OUT_FALSE } reg_out; /* unknown, answered, cas refused */

typedef struct {
    reg_kind kind;
    reg_out out;
    char *a;    /* write: the value; cas: from; read: the value read */
    char *b;    /* cas: to */
    gboolean held_known; /* a refused cas that said what the register held: */
    char *held;          /* that value */
} reg_op;

/* NULL for json null, else compact text. */
static char *value_text(const json_t *v)
{
    if (!v || json_is_null(v))
        return NULL;
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    char *t = g_strdup(s);
    free(s);
    return t;
}

static void reg_op_free(void *p);

static void *reg_op_new(const char *name, const json_t *input, const json_t *output,
                        GError **error)
{
    reg_op *op = g_new0(reg_op, 1);
    op->out = output ? OUT_KNOWN : OUT_ANY;
    if (!strcmp(name, "read")) {
        op->kind = REG_READ;
        op->a = value_text(output);
    } else if (!strcmp(name, "write")) {
        op->kind = REG_WRITE;
        op->a = value_text(input);
    } else if (!strcmp(name, "cas")) {
        op->kind = REG_CAS;
        if (!json_is_array(input) || json_array_size(input) != 2) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "cas input must be [from, to]");
            g_free(op);
            return NULL;
        }
        op->a = value_text(json_array_get(input, 0));
        op->b = value_text(json_array_get(input, 1));
        if (json_is_false(output)) {
            op->out = OUT_FALSE;
        } else if (json_is_object(output) && json_is_false(json_object_get(output, "ok"))) {
            json_t *held = json_object_get(output, "value");
            if (!held) {
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "a refused cas's output "
                            "{\"ok\": false, \"value\": V} needs the value V it held");
                reg_op_free(op);
                return NULL;
            }
            op->out = OUT_FALSE;
            op->held_known = TRUE;
            op->held = value_text(held);
        }
    } else {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "the register model has no operation "
                    "\"%s\" (read, write, cas)", name);
        g_free(op);
        return NULL;
    }
    return op;
}

static void reg_op_free(void *p)
{
    reg_op *op = p;
    g_free(op->a);
    g_free(op->b);
    g_free(op->held);
    g_free(op);
}

static char *reg_op_describe(const void *p)
{
    const reg_op *op = p;
    const char *a = op->a ? op->a : "nil", *b = op->b ? op->b : "nil";
    switch (op->kind) {
    case REG_READ:
        return g_strdup_printf("read() -> %s", op->out == OUT_ANY ? "?" : a);
    case REG_WRITE:
        return g_strdup_printf("write(%s)%s", a, op->out == OUT_ANY ? " -> ?" : "");
    default:
        if (op->held_known)
            return g_strdup_printf("cas(%s, %s) -> fail (held %s)", a, b, op->held ? op->held : "nil");
        return g_strdup_printf("cas(%s, %s) -> %s", a, b,
                               op->out == OUT_ANY ? "?" : op->out == OUT_FALSE ? "fail" : "ok");
    }
}

static reg_state *state_new(const char *value)
{
    reg_state *s = g_new(reg_state, 1);
    s->value = g_strdup(value);
    return s;
}

static void *reg_init(void)
{
    return state_new(NULL);
}

static gboolean reg_step(const void *sp, const void *p, void **next)
{
    const reg_state *s = sp;
    const reg_op *op = p;
    gboolean holds_a = g_strcmp0(s->value, op->a) == 0;
    switch (op->kind) {
    case REG_READ:
        if (op->out == OUT_KNOWN && !holds_a)
            return FALSE;
        *next = (void *)s;
        return TRUE;
    case REG_WRITE:
        *next = holds_a ? (void *)s : state_new(op->a);
        return TRUE;
    default:
        if ((op->out == OUT_KNOWN && !holds_a) || (op->out == OUT_FALSE && holds_a) ||
            (op->held_known && g_strcmp0(s->value, op->held)))
            return FALSE;
        *next = holds_a && g_strcmp0(op->a, op->b) ? state_new(op->b) : (void *)s;
        return TRUE;
    }
}

static gboolean reg_equal(const void *a, const void *b)
{
    return g_strcmp0(((const reg_state *)a)->value, ((const reg_state *)b)->value) == 0;
}

static guint64 reg_hash(const void *p)
{
    const reg_state *s = p;
    return s->value ? g_str_hash(s->value) : 0x5bd1e995u;
}

static void reg_state_free(void *p)
{
    reg_state *s = p;
    g_free(s->value);
    g_free(s);
}

static char *reg_state_describe(const void *p)
{
    const reg_state *s = p;
    return g_strdup_printf("register = %s", s->value ? s->value : "nil");
}

/* An unknown operation that cannot change the verdict: a read (it changes nothing), a
 * write or cas of a value that nothing observes (no ok read returned it, no cas of any
 * outcome expected it, no refused cas saw it held). Proof sketch: take a linearization
 * with such a write of v; until the next change of state, every operation sees v, so each
 * is of unknown outcome (a known one would observe v) and not a successful cas (its
 * expected value would be v); move those to the end, where an unknown operation fits
 * any state, and drop the write: every other operation sees the state it saw. A refused
 * cas that did not say what it held breaks this (it sees "not x", which v may have
 * provided), so then nothing is dropped. Values need not be unique. */
static void reg_prune(void *const *ops, const gboolean *known, guint n, gboolean *drop)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    gboolean nil_seen = FALSE;
    for (guint i = 0; i < n; i++) {
        const reg_op *op = ops[i];
        const char *v = NULL;
        gboolean observes = FALSE;
        if (op->kind == REG_READ && known[i]) {
            v = op->a;
            observes = TRUE;
        } else if (op->kind == REG_CAS) {
            if (known[i] && op->out == OUT_FALSE && !op->held_known)
                goto out; /* "not x": no value can be ruled out */
            v = op->a;
            observes = TRUE;
            if (op->held_known) {
                if (op->held)
                    g_hash_table_add(seen, op->held);
                else
                    nil_seen = TRUE;
            }
        }
        if (observes && v)
            g_hash_table_add(seen, (char *)v);
        else if (observes)
            nil_seen = TRUE;
    }
    for (guint i = 0; i < n; i++) {
        const reg_op *op = ops[i];
        if (known[i])
            continue;
        const char *v = op->kind == REG_WRITE ? op->a : op->kind == REG_CAS ? op->b : NULL;
        drop[i] = op->kind == REG_READ || (v ? !g_hash_table_contains(seen, v) : !nil_seen);
    }
out:
    g_hash_table_unref(seen);
}

const tf_lin_model raftkv_register_model = {
    .name = "register",
    .op_new = reg_op_new,
    .op_free = reg_op_free,
    .op_describe = reg_op_describe,
    .init = reg_init,
    .step = reg_step,
    .state_equal = reg_equal,
    .state_hash = reg_hash,
    .state_free = reg_state_free,
    .state_describe = reg_state_describe,
    .prune = reg_prune,
};

const tf_lin_model *raftkv_lin_model(const char *name)
{
    if (!g_strcmp0(name, raftkv_register_model.name))
        return &raftkv_register_model;
    if (!g_strcmp0(name, raftkv_registers_model.name))
        return &raftkv_registers_model;
    if (!g_strcmp0(name, raftkv_kv_model.name))
        return &raftkv_kv_model;
    return NULL;
}
