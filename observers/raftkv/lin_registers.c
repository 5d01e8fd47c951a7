/* lin_registers.c: independent registers, one per key (read, write, compare-and-set,
 * each key initially absent): what the etcd client workload does on a few keys, as
 * Jepsen's "independent" register test. An operation is the register model's operation
 * with a key, so each key behaves exactly as raftkv_register_model; the history is
 * partitioned by key. A state still maps every key (sorted) so that a check ignoring the
 * partition (tf_lin_options.whole) stays correct, only slower. */
#include <string.h>
#include "lin_keys.h"
#include "lin_models.h"

#define REG (&raftkv_register_model)

typedef struct {
    char *key;
    void *op; /* the register model's operation */
} keyed_op;

/* A register state shared by the keyed states that hold it (REG has no copy function,
 * and states are immutable, so sharing with a count is enough). */
typedef struct {
    gint refs;
    void *reg;
} reg_box;

/* Keys whose register is not in its initial state, sorted; an absent key is REG->init(). */
typedef struct {
    guint n;
    char **keys;
    reg_box **regs;
    guint64 hash;
} keyed_state;

static reg_box *box_new(void *reg)
{
    reg_box *b = g_new(reg_box, 1);
    b->refs = 1;
    b->reg = reg;
    return b;
}

static reg_box *box_ref(reg_box *b)
{
    g_atomic_int_inc(&b->refs);
    return b;
}

static void box_unref(reg_box *b)
{
    if (g_atomic_int_dec_and_test(&b->refs)) {
        REG->state_free(b->reg);
        g_free(b);
    }
}

/* A string or an integer key's text; NULL otherwise. */
static char *key_text(const json_t *v)
{
    if (json_is_string(v))
        return g_strdup(json_string_value(v));
    if (json_is_integer(v))
        return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return NULL;
}

static void *keyed_op_new(const char *name, const json_t *input, const json_t *output,
                          GError **error)
{
    char *key = json_is_object(input) ? key_text(json_object_get(input, "key")) : NULL;
    if (!key) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s input must be {\"key\": K, "
                    "\"value\": V} with a string key", name);
        return NULL;
    }
    void *op = REG->op_new(name, json_object_get(input, "value"), output, error);
    if (!op) {
        g_free(key);
        return NULL;
    }
    keyed_op *k = g_new(keyed_op, 1);
    k->key = key;
    k->op = op;
    return k;
}

static void keyed_op_free(void *p)
{
    keyed_op *k = p;
    REG->op_free(k->op);
    g_free(k->key);
    g_free(k);
}

static const char *keyed_partition(const void *p)
{
    return ((const keyed_op *)p)->key;
}

static char *keyed_op_describe(const void *p)
{
    const keyed_op *k = p;
    char *d = REG->op_describe(k->op);
    char *out = g_strdup_printf("%s: %s", k->key, d);
    g_free(d);
    return out;
}

static guint64 pair_hash(const char *key, const reg_box *b)
{
    return (guint64)g_str_hash(key) * 0x9e3779b97f4a7c15ULL ^ (REG->state_hash(b->reg) << 1);
}

static void *keyed_init(void)
{
    return g_new0(keyed_state, 1);
}

/* Index of key in s, or where it would go (*found FALSE). */
static guint find(const keyed_state *s, const char *key, gboolean *found)
{
    return lin_key_find(s->keys, s->n, key, found);
}

/* A copy of s whose register at `key` is reg (stolen; NULL: back to its initial state,
 * so the key is left out). The other registers are shared. */
static keyed_state *with(const keyed_state *s, const char *key, void *reg)
{
    gboolean found;
    guint at = find(s, key, &found);
    keyed_state *t = g_new0(keyed_state, 1);
    t->n = s->n + (found ? 0 : 1) - (reg ? 0 : 1);
    t->keys = g_new(char *, t->n + 1);
    t->regs = g_new(reg_box *, t->n + 1);
    guint j = 0;
    for (guint i = 0; i <= s->n; i++) {
        if (i == at && reg) {
            t->keys[j] = g_strdup(key);
            t->regs[j++] = box_new(reg);
        }
        if (i == s->n)
            break;
        if (i == at && found)
            continue;
        t->keys[j] = g_strdup(s->keys[i]);
        t->regs[j++] = box_ref(s->regs[i]);
    }
    for (guint i = 0; i < t->n; i++)
        t->hash += pair_hash(t->keys[i], t->regs[i]);
    return t;
}

static gboolean keyed_step(const void *sp, const void *p, void **next)
{
    const keyed_state *s = sp;
    const keyed_op *k = p;
    gboolean found;
    guint at = find(s, k->key, &found);
    void *initial = REG->init();
    const void *cur = found ? s->regs[at]->reg : initial;
    void *after = NULL;
    gboolean ok = REG->step(cur, k->op, &after);
    if (!ok || after == cur) {
        *next = ok ? (void *)s : NULL; /* unchanged */
    } else if (REG->state_equal(after, initial)) {
        REG->state_free(after);
        *next = found ? with(s, k->key, NULL) : (void *)s;
    } else {
        *next = with(s, k->key, after);
    }
    REG->state_free(initial);
    return ok;
}

static gboolean keyed_equal(const void *a, const void *b)
{
    const keyed_state *x = a, *y = b;
    if (x->n != y->n || x->hash != y->hash)
        return FALSE;
    for (guint i = 0; i < x->n; i++)
        if (strcmp(x->keys[i], y->keys[i]) || !REG->state_equal(x->regs[i]->reg, y->regs[i]->reg))
            return FALSE;
    return TRUE;
}

static guint64 keyed_hash(const void *p)
{
    return ((const keyed_state *)p)->hash;
}

static void keyed_state_free(void *p)
{
    keyed_state *s = p;
    for (guint i = 0; i < s->n; i++) {
        g_free(s->keys[i]);
        box_unref(s->regs[i]);
    }
    g_free(s->keys);
    g_free(s->regs);
    g_free(s);
}

static char *keyed_state_describe(const void *p)
{
    const keyed_state *s = p;
    if (!s->n)
        return g_strdup("every key nil");
    GString *d = g_string_new(NULL);
    for (guint i = 0; i < s->n; i++) {
        char *r = REG->state_describe(s->regs[i]->reg); /* "register = 3" */
        const char *v = strstr(r, " = ");
        g_string_append_printf(d, "%s%s = %s", i ? ", " : "", s->keys[i], v ? v + 3 : r);
        g_free(r);
    }
    return g_string_free(d, FALSE);
}

/* The register model's prune on the registers' own operations: with the history split by
 * key each part is one key; a whole check unites every key's observations, which only
 * drops less. */
static void keyed_prune(void *const *ops, const gboolean *known, guint n, gboolean *drop)
{
    void **inner = g_new(void *, n ? n : 1);
    for (guint i = 0; i < n; i++)
        inner[i] = ((keyed_op *)ops[i])->op;
    REG->prune(inner, known, n, drop);
    g_free(inner);
}

const tf_lin_model raftkv_registers_model = {
    .name = "registers",
    .op_new = keyed_op_new,
    .op_free = keyed_op_free,
    .op_partition = keyed_partition,
    .op_describe = keyed_op_describe,
    .init = keyed_init,
    .step = keyed_step,
    .state_equal = keyed_equal,
    .state_hash = keyed_hash,
    .state_free = keyed_state_free,
    .state_describe = keyed_state_describe,
    .prune = keyed_prune,
};
