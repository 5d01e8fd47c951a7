/* lin_kv.c: the key-value model (get, put, append; every key starts as "") of a
 * linearizability check. The model partitions the history by key, so each part's state is
 * one key's string; a state still holds a sorted map of keys so that a check that ignores
 * the partition (tf_lin_options.whole) stays correct, only slower. */
#include <string.h>
#include "lin_keys.h"
#include <tf/error.h>
#include "lin_models.h"

typedef enum { KV_GET, KV_PUT, KV_APPEND } kv_kind;

typedef struct {
    kv_kind kind;
    gboolean known; /* the outcome is known (get: the value read) */
    char *key;
    char *value;    /* put/append: the argument; get: the value read */
} kv_op;

/* Keys with a non-empty value, sorted (an absent key reads ""). */
typedef struct {
    guint n;
    char **keys, **vals;
    guint64 hash;
} kv_state;

/* A string, or a number's text, of a JSON scalar; NULL otherwise. */
static char *scalar_text(const json_t *v)
{
    if (json_is_string(v))
        return g_strdup(json_string_value(v));
    if (json_is_integer(v))
        return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return NULL;
}

static void *kv_op_new(const char *name, const json_t *input, const json_t *output,
                       GError **error)
{
    kv_kind kind = !strcmp(name, "get") ? KV_GET : !strcmp(name, "put") ? KV_PUT
                   : !strcmp(name, "append") ? KV_APPEND : (kv_kind)-1;
    if ((int)kind < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "the kv model has no operation \"%s\" "
                    "(get, put, append)", name);
        return NULL;
    }
    char *key = json_is_object(input) ? scalar_text(json_object_get(input, "key")) : NULL;
    if (!key) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s input must be {\"key\": K, ...} "
                    "with a string key", name);
        return NULL;
    }
    kv_op *op = g_new0(kv_op, 1);
    op->kind = kind;
    op->key = key;
    op->known = output != NULL;
    if (kind == KV_GET) {
        op->value = output && !json_is_null(output) ? scalar_text(output) : g_strdup("");
        if (!op->value) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "get output must be a string");
            g_free(op->key);
            g_free(op);
            return NULL;
        }
    } else {
        op->value = scalar_text(json_object_get(input, "value"));
        if (!op->value) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s input needs a string \"value\"",
                        name);
            g_free(op->key);
            g_free(op);
            return NULL;
        }
    }
    return op;
}

static void kv_op_free(void *p)
{
    kv_op *op = p;
    g_free(op->key);
    g_free(op->value);
    g_free(op);
}

static const char *kv_partition(const void *p)
{
    return ((const kv_op *)p)->key;
}

static char *kv_op_describe(const void *p)
{
    const kv_op *op = p;
    if (op->kind == KV_GET)
        return op->known ? g_strdup_printf("get(\"%s\") -> \"%s\"", op->key, op->value)
                         : g_strdup_printf("get(\"%s\") -> ?", op->key);
    return g_strdup_printf("%s(\"%s\", \"%s\")%s", op->kind == KV_PUT ? "put" : "append", op->key,
                           op->value, op->known ? "" : " -> ?");
}

static guint64 pair_hash(const char *k, const char *v)
{
    return (guint64)g_str_hash(k) * 0x9e3779b97f4a7c15ULL ^ ((guint64)g_str_hash(v) << 1);
}

static void *kv_init(void)
{
    return g_new0(kv_state, 1);
}

/* Index of key in s, or where it would go (*found FALSE). */
static guint find(const kv_state *s, const char *key, gboolean *found)
{
    return lin_key_find(s->keys, s->n, key, found);
}

/* A copy of s with key set to value ("" removes it). */
static kv_state *with(const kv_state *s, const char *key, char *value_owned)
{
    gboolean found;
    guint at = find(s, key, &found);
    gboolean drop = !*value_owned;
    kv_state *t = g_new0(kv_state, 1);
    t->n = s->n + (found ? 0 : 1) - (found && drop ? 1 : 0) - (!found && drop ? 1 : 0);
    t->keys = g_new(char *, t->n + 1);
    t->vals = g_new(char *, t->n + 1);
    guint j = 0;
    for (guint i = 0; i <= s->n; i++) {
        if (i == at && !drop) {
            t->keys[j] = g_strdup(key);
            t->vals[j++] = value_owned;
            value_owned = NULL;
        }
        if (i == s->n)
            break;
        if (i == at && found)
            continue;
        t->keys[j] = g_strdup(s->keys[i]);
        t->vals[j++] = g_strdup(s->vals[i]);
    }
    g_free(value_owned);
    for (guint i = 0; i < t->n; i++)
        t->hash += pair_hash(t->keys[i], t->vals[i]);
    return t;
}

static gboolean kv_step(const void *sp, const void *p, void **next)
{
    const kv_state *s = sp;
    const kv_op *op = p;
    gboolean found;
    guint at = find(s, op->key, &found);
    const char *cur = found ? s->vals[at] : "";
    switch (op->kind) {
    case KV_GET:
        if (op->known && strcmp(cur, op->value))
            return FALSE;
        *next = (void *)s;
        return TRUE;
    case KV_PUT:
        *next = !strcmp(cur, op->value) ? (void *)s : with(s, op->key, g_strdup(op->value));
        return TRUE;
    default:
        *next = !*op->value ? (void *)s : with(s, op->key, g_strconcat(cur, op->value, NULL));
        return TRUE;
    }
}

static gboolean kv_equal(const void *a, const void *b)
{
    const kv_state *x = a, *y = b;
    if (x->n != y->n || x->hash != y->hash)
        return FALSE;
    for (guint i = 0; i < x->n; i++)
        if (strcmp(x->keys[i], y->keys[i]) || strcmp(x->vals[i], y->vals[i]))
            return FALSE;
    return TRUE;
}

static guint64 kv_hash(const void *p)
{
    return ((const kv_state *)p)->hash;
}

static void kv_state_free(void *p)
{
    kv_state *s = p;
    for (guint i = 0; i < s->n; i++) {
        g_free(s->keys[i]);
        g_free(s->vals[i]);
    }
    g_free(s->keys);
    g_free(s->vals);
    g_free(s);
}

static char *kv_state_describe(const void *p)
{
    const kv_state *s = p;
    if (!s->n)
        return g_strdup("every key \"\"");
    GString *d = g_string_new(NULL);
    for (guint i = 0; i < s->n; i++)
        g_string_append_printf(d, "%s\"%s\" = \"%s\"", i ? ", " : "", s->keys[i], s->vals[i]);
    return g_string_free(d, FALSE);
}

const tf_lin_model raftkv_kv_model = {
    .name = "kv",
    .op_new = kv_op_new,
    .op_free = kv_op_free,
    .op_partition = kv_partition,
    .op_describe = kv_op_describe,
    .init = kv_init,
    .step = kv_step,
    .state_equal = kv_equal,
    .state_hash = kv_hash,
    .state_free = kv_state_free,
    .state_describe = kv_state_describe,
};
