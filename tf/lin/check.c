/* check.c: the linearizability checker. Wing & Gong's search over the history's events
 * in time order: linearize any operation invoked before the first pending completion,
 * backtrack when that completion is reached; Lowe's memoisation skips any (set of
 * linearized operations, model state) met before. Sets are bitsets hashed by Zobrist keys
 * (an XOR per operation, updated in O(1)); model states are interned so that the memo
 * stores a state as a number. The furthest completion any search path reached gives the
 * longest linearizable prefix, and so the exact place of a violation. */
#include <string.h>
#include "lin_priv.h"

/* An operation in the check: the history's op and the model's parse of it. */
typedef struct {
    const tf_op *op;
    void *mop;
    const char *part;
} lin_op;

/* ---- event order ------------------------------------------------------------------- */

gint64 lin_op_return_time(const tf_op *op)
{
    return op->status == TF_OP_OK ? op->complete_time : G_MAXINT64;
}

typedef struct {
    gint64 time;
    guint32 is_return;
    guint32 index;
} event_key;

static int event_key_cmp(const void *a, const void *b)
{
    const event_key *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->is_return != y->is_return)
        return x->is_return ? 1 : -1; /* invocations first: a tie is an overlap */
    return x->index < y->index ? -1 : x->index > y->index;
}

void lin_event_ranks(const tf_op *const *ops, guint n, guint *call_rank, guint *ret_rank)
{
    event_key *ev = g_new(event_key, 2 * (gsize)n);
    for (guint i = 0; i < n; i++) {
        ev[2 * i] = (event_key){ops[i]->invoke_time, 0, i};
        ev[2 * i + 1] = (event_key){lin_op_return_time(ops[i]), 1, i};
    }
    qsort(ev, 2 * (gsize)n, sizeof *ev, event_key_cmp);
    for (guint k = 0; k < 2 * n; k++)
        (ev[k].is_return ? ret_rank : call_rank)[ev[k].index] = k;
    g_free(ev);
}

/* ---- interned model states --------------------------------------------------------- */

typedef struct {
    const tf_lin_model *m;
    GPtrArray *states; /* id -> state */
    GArray *hashes;    /* id -> model hash */
    guint32 *slots;    /* open addressing: id + 1, 0 = empty */
    guint mask;
} state_table;

static void states_init(state_table *t, const tf_lin_model *m)
{
    t->m = m;
    t->states = g_ptr_array_new();
    t->hashes = g_array_new(FALSE, FALSE, sizeof(guint64));
    t->mask = 63;
    t->slots = g_new0(guint32, t->mask + 1);
}

static void states_clear(state_table *t)
{
    for (guint i = 0; i < t->states->len; i++)
        t->m->state_free(t->states->pdata[i]);
    g_ptr_array_unref(t->states);
    g_array_unref(t->hashes);
    g_free(t->slots);
}

static guint64 mix64(guint64 x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void states_grow(state_table *t)
{
    guint cap = 2 * (t->mask + 1);
    g_free(t->slots);
    t->slots = g_new0(guint32, cap);
    t->mask = cap - 1;
    for (guint id = 0; id < t->states->len; id++) {
        guint i = mix64(g_array_index(t->hashes, guint64, id)) & t->mask;
        while (t->slots[i])
            i = (i + 1) & t->mask;
        t->slots[i] = id + 1;
    }
}

/* The id of state `s`, which the table takes over (freed at once when already known). */
static guint32 states_intern(state_table *t, void *s)
{
    guint64 h = t->m->state_hash(s);
    guint i = mix64(h) & t->mask;
    for (; t->slots[i]; i = (i + 1) & t->mask) {
        guint32 id = t->slots[i] - 1;
        if (g_array_index(t->hashes, guint64, id) == h &&
            t->m->state_equal(t->states->pdata[id], s)) {
            t->m->state_free(s);
            return id;
        }
    }
    guint32 id = t->states->len;
    g_ptr_array_add(t->states, s);
    g_array_append_val(t->hashes, h);
    t->slots[i] = id + 1;
    if (2 * t->states->len > t->mask)
        states_grow(t);
    return id;
}

/* ---- the memo: (bitset of linearized ops, state id) pairs seen -------------------------- */

/* Entries are packed in one arena (key, state, then the bitset's words), so a probe touches
 * one slot and at most one entry; a slot keeps the key's high half as a tag, so most
 * mismatches are seen without touching the entry at all. */
typedef struct {
    guint words;      /* bitset length in 64-bit words */
    guint stride;     /* an entry's length in guint64: key, state, bits */
    guint64 *arena;
    gsize count, cap; /* entries */
    guint64 *slots;   /* (key >> 32) << 32 | (entry + 1); 0 = empty */
    gsize mask;
} memo;

static void memo_init(memo *c, guint words)
{
    c->words = words;
    c->stride = 2 + words;
    c->cap = 1024;
    c->count = 0;
    c->arena = g_new(guint64, c->cap * c->stride);
    c->mask = 2047;
    c->slots = g_new0(guint64, c->mask + 1);
}

static void memo_clear(memo *c)
{
    g_free(c->arena);
    g_free(c->slots);
}

static gsize memo_bytes(const memo *c)
{
    return (c->cap * c->stride + c->mask + 1) * sizeof(guint64);
}

static void memo_grow_slots(memo *c)
{
    gsize cap = 2 * (c->mask + 1);
    g_free(c->slots);
    c->slots = g_new0(guint64, cap);
    c->mask = cap - 1;
    for (gsize k = 0; k < c->count; k++) {
        guint64 key = c->arena[k * c->stride];
        gsize i = key & c->mask;
        while (c->slots[i])
            i = (i + 1) & c->mask;
        c->slots[i] = (key & 0xffffffff00000000ULL) | (k + 1);
    }
}

/* Adds (bits, state) unless present; TRUE when it was new. */
static gboolean memo_add(memo *c, const guint64 *bits, guint64 bits_hash, guint32 state)
{
    guint64 key = mix64(bits_hash ^ ((guint64)state * 0x9e3779b97f4a7c15ULL));
    guint64 tag = key & 0xffffffff00000000ULL;
    gsize i = key & c->mask;
    for (; c->slots[i]; i = (i + 1) & c->mask) {
        if ((c->slots[i] & 0xffffffff00000000ULL) != tag)
            continue;
        const guint64 *e = c->arena + ((c->slots[i] & 0xffffffffULL) - 1) * c->stride;
        if (e[0] != key || e[1] != state)
            continue;
        guint w = 0;
        while (w < c->words && e[2 + w] == bits[w])
            w++;
        if (w == c->words)
            return FALSE;
    }
    if (c->count == c->cap) {
        c->cap *= 2;
        c->arena = g_renew(guint64, c->arena, c->cap * c->stride);
    }
    guint64 *e = c->arena + c->count * c->stride;
    e[0] = key;
    e[1] = state;
    memcpy(e + 2, bits, c->words * sizeof(guint64));
    c->slots[i] = tag | ++c->count;
    if (2 * c->count > c->mask)
        memo_grow_slots(c);
    return TRUE;
}

/* ---- the model's steps, each computed once ------------------------------------------------ */

/* The step of op i from state s depends on nothing else, and a search repeats the same
 * few (op, state) pairs millions of times: each is asked of the model once and kept in a
 * hash table, which grows with the pairs actually met (not ops x states). */
#define STEP_REJECTED (-1)

typedef struct {
    guint64 key; /* (op + 1) << 32 | state; 0 = empty */
    gint32 next; /* the state after, or STEP_REJECTED */
} step_entry;

typedef struct {
    step_entry *slots;
    gsize mask, count;
} step_cache;

static void steps_init(step_cache *sc)
{
    sc->mask = 255;
    sc->count = 0;
    sc->slots = g_new0(step_entry, sc->mask + 1);
}

static void steps_clear(step_cache *sc)
{
    g_free(sc->slots);
}

static gsize steps_bytes(const step_cache *sc)
{
    return (sc->mask + 1) * sizeof(step_entry);
}

static gsize steps_slot(const step_cache *sc, guint64 key)
{
    gsize i = mix64(key) & sc->mask;
    while (sc->slots[i].key && sc->slots[i].key != key)
        i = (i + 1) & sc->mask;
    return i;
}

/* The state after op i from state s, or STEP_REJECTED. */
static gint32 step_of(step_cache *sc, const tf_lin_model *m, state_table *states,
                      lin_op *const *ops, guint i, guint32 s)
{
    guint64 key = ((guint64)i + 1) << 32 | s;
    gsize at = steps_slot(sc, key);
    if (sc->slots[at].key)
        return sc->slots[at].next;
    void *cur = states->states->pdata[s], *nx = NULL;
    gint32 r = !m->step(cur, ops[i]->mop, &nx) ? STEP_REJECTED
               : nx == cur ? (gint32)s : (gint32)states_intern(states, nx);
    sc->slots[at] = (step_entry){key, r};
    if (2 * ++sc->count > sc->mask) {
        step_entry *old = sc->slots;
        gsize cap = sc->mask + 1;
        sc->mask = 2 * cap - 1;
        sc->slots = g_new0(step_entry, 2 * cap);
        for (gsize k = 0; k < cap; k++)
            if (old[k].key)
                sc->slots[steps_slot(sc, old[k].key)] = old[k];
        g_free(old);
    }
    return r;
}

/* ---- the search of one part ------------------------------------------------------------ */

/* What the search of one part found. */
typedef struct {
    tf_lin_verdict verdict;
    guint64 steps;
    gsize peak_bytes;
    guint best_pos;   /* violation: events before the completion no path got past */
    guint best_op;    /* violation: index (in the part) of the op completing there */
    GArray *best_seq; /* guint: op indices of a linearization of that prefix */
    guint32 best_state;
} part_result;

typedef struct {
    guint32 node;
    guint32 state;
} frame;

/* Searches part `ops` (n of them). `states` holds the part's interned states. */
static void search(const tf_lin_model *m, lin_op *const *ops, guint n, gint64 deadline,
                   state_table *states, part_result *out)
{
    const tf_op **hops = g_new(const tf_op *, n);
    for (guint i = 0; i < n; i++)
        hops[i] = ops[i]->op;
    guint *call_rank = g_new(guint, n), *ret_rank = g_new(guint, n);
    lin_event_ranks(hops, n, call_rank, ret_rank);
    g_free(hops);

    /* node 0 is the head; node k + 1 is the event of rank k */
    guint nodes = 2 * n + 1;
    gint32 *next = g_new(gint32, nodes), *prev = g_new(gint32, nodes);
    guint32 *node_op = g_new(guint32, nodes), *match = g_new0(guint32, nodes);
    for (guint i = 0; i < n; i++) {
        node_op[call_rank[i] + 1] = node_op[ret_rank[i] + 1] = i;
        match[call_rank[i] + 1] = ret_rank[i] + 1;
    }
    for (guint k = 0; k < nodes; k++) {
        next[k] = k + 1 < nodes ? (gint32)k + 1 : -1;
        prev[k] = (gint32)k - 1;
    }
    g_free(call_rank);
    g_free(ret_rank);

    guint words = (n + 63) / 64;
    guint64 *linearized = g_new0(guint64, words ? words : 1), set_hash = 0;
    guint64 *zobrist = g_new(guint64, n);
    for (guint i = 0; i < n; i++)
        zobrist[i] = mix64(0x6a09e667f3bcc909ULL + i);
    memo cache;
    memo_init(&cache, words);
    step_cache sc;
    steps_init(&sc);
    frame *stack = g_new(frame, n + 1);
    guint depth = 0;
    out->best_seq = g_array_new(FALSE, FALSE, sizeof(guint));
    gboolean have_best = FALSE;

    guint32 state = states_intern(states, m->init());
    gint32 entry = next[0];
    guint64 steps = 0, iterations = 0;
    out->verdict = TF_LIN_OK;
    while (next[0] != -1) {
        /* the first step of a part looks too: a limit already spent starts nothing */
        if ((iterations++ & 4095) == 0 && deadline && g_get_monotonic_time() > deadline) {
            out->verdict = TF_LIN_UNKNOWN;
            break;
        }
        guint32 e = (guint32)entry;
        if (match[e]) { /* an invocation: try to linearize its op here */
            guint i = node_op[e];
            steps++;
            gint32 ns = step_of(&sc, m, states, ops, i, state);
            if (ns != STEP_REJECTED) {
                linearized[i / 64] |= 1ULL << (i % 64);
                if (memo_add(&cache, linearized, set_hash ^ zobrist[i], ns)) {
                    set_hash ^= zobrist[i];
                    stack[depth++] = (frame){e, state};
                    state = ns;
                    gint32 r = match[e];
                    next[prev[e]] = next[e];
                    prev[next[e]] = prev[e];
                    next[prev[r]] = next[r];
                    if (next[r] != -1)
                        prev[next[r]] = prev[r];
                    entry = next[0];
                    continue;
                }
                linearized[i / 64] &= ~(1ULL << (i % 64));
            }
            entry = next[e];
        } else { /* a completion: no op before it fits; note how far we got, backtrack */
            guint pos = e - 1;
            if (!have_best || pos > out->best_pos) {
                have_best = TRUE;
                out->best_pos = pos;
                out->best_op = node_op[e];
                out->best_state = state;
                g_array_set_size(out->best_seq, depth);
                for (guint d = 0; d < depth; d++)
                    g_array_index(out->best_seq, guint, d) = node_op[stack[d].node];
            }
            if (depth == 0) {
                out->verdict = TF_LIN_VIOLATION;
                break;
            }
            frame f = stack[--depth];
            gint32 c = f.node, r = match[c];
            guint i = node_op[c];
            state = f.state;
            linearized[i / 64] &= ~(1ULL << (i % 64));
            set_hash ^= zobrist[i];
            next[prev[r]] = r;
            if (next[r] != -1)
                prev[next[r]] = r;
            next[prev[c]] = c;
            prev[next[c]] = c;
            entry = next[c];
        }
    }
    out->steps = steps;
    out->peak_bytes = memo_bytes(&cache) + steps_bytes(&sc) +
                      states->states->len * (sizeof(void *) + 8 + 8) + nodes * 16 + (gsize)n * 8 * 2;
    memo_clear(&cache);
    steps_clear(&sc);
    g_free(stack);
    g_free(zobrist);
    g_free(linearized);
    g_free(next);
    g_free(prev);
    g_free(node_op);
    g_free(match);
}

/* ---- the check ---------------------------------------------------------------------- */

const char *tf_lin_verdict_name(tf_lin_verdict v)
{
    return v == TF_LIN_OK ? "linearizable" : v == TF_LIN_VIOLATION ? "NOT linearizable" : "unknown";
}

void tf_lin_result_free(tf_lin_result *r)
{
    if (!r)
        return;
    g_free(r->summary);
    g_free(r->part);
    if (r->linearized)
        g_array_unref(r->linearized);
    if (r->involved)
        g_array_unref(r->involved);
    g_free(r->state);
    g_free(r);
}

static char *describe(const tf_lin_model *m, const lin_op *o)
{
    char *d = m->op_describe ? m->op_describe(o->mop) : tf_op_describe(o->op);
    char *s = g_strdup_printf("op %" G_GUINT64_FORMAT " (process %" G_GINT64_FORMAT ", %s)",
                              o->op->id, o->op->process, d);
    g_free(d);
    return s;
}

/* Fills r's violation fields from the search of part `ops`. */
static void explain(tf_lin_result *r, const tf_lin_model *m, lin_op *const *ops, guint n,
                    const char *part, const part_result *pr, state_table *states)
{
    r->part = g_strdup(part);
    r->part_events = 2 * n;
    r->prefix_events = pr->best_pos;
    const lin_op *bad = ops[pr->best_op];
    r->failing_op = bad->op->id;
    r->linearized = g_array_sized_new(FALSE, FALSE, sizeof(guint64), pr->best_seq->len);
    for (guint d = 0; d < pr->best_seq->len; d++) {
        guint64 id = ops[g_array_index(pr->best_seq, guint, d)]->op->id;
        g_array_append_val(r->linearized, id);
    }
    const tf_op **hops = g_new(const tf_op *, n);
    for (guint i = 0; i < n; i++)
        hops[i] = ops[i]->op;
    guint *call = g_new(guint, n), *ret = g_new(guint, n);
    lin_event_ranks(hops, n, call, ret);
    r->involved = g_array_new(FALSE, FALSE, sizeof(guint64));
    GString *with = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        if (ops[i] == bad || call[i] > ret[pr->best_op] || ret[i] < call[pr->best_op])
            continue;
        g_array_append_val(r->involved, ops[i]->op->id);
        if (r->involved->len <= 4) {
            char *d = describe(m, ops[i]);
            g_string_append_printf(with, "%s%s", with->len ? ", " : "", d);
            g_free(d);
        }
    }
    if (r->involved->len > 4)
        g_string_append_printf(with, " and %u more", r->involved->len - 4);
    g_free(hops);
    g_free(call);
    g_free(ret);
    void *st = states->states->pdata[pr->best_state];
    r->state = m->state_describe ? m->state_describe(st) : NULL;
    char *what = describe(m, bad);
    char *where = part ? g_strdup_printf(" of part \"%s\"", part) : g_strdup("");
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "the first %u of %u events%s can be linearized (%u operation%s%s%s) "
                           "but not event %u: the completion of %s", r->prefix_events,
                           r->part_events, where, r->linearized->len,
                           r->linearized->len == 1 ? "" : "s", r->state ? ", then " : "",
                           r->state ? r->state : "", r->prefix_events + 1, what);
    if (with->len)
        g_string_append_printf(s, "; concurrent with it: %s", with->str);
    r->summary = g_string_free(s, FALSE);
    g_free(what);
    g_free(where);
    g_string_free(with, TRUE);
}

/* Leaves out of part what the model's prune says cannot change its verdict (never an
 * operation whose outcome is known); returns how many. A part keeps at least one op. */
static guint prune_part(const tf_lin_model *m, GPtrArray *part)
{
    guint n = part->len, dropped = 0;
    void **mops = g_new(void *, n);
    gboolean *known = g_new(gboolean, n), *drop = g_new0(gboolean, n);
    for (guint i = 0; i < n; i++) {
        const lin_op *o = part->pdata[i];
        mops[i] = o->mop;
        known[i] = o->op->status == TF_OP_OK;
    }
    m->prune(mops, known, n, drop);
    guint j = 0;
    for (guint i = 0; i < n; i++) {
        if (drop[i] && !known[i] && dropped + 1 < n) {
            dropped++;
            continue;
        }
        part->pdata[j++] = part->pdata[i];
    }
    g_ptr_array_set_size(part, j);
    g_free(mops);
    g_free(known);
    g_free(drop);
    return dropped;
}

/* Smaller parts first; equal sizes in order of their first operation. */
static int part_size_cmp(const void *a, const void *b)
{
    const GPtrArray *x = *(GPtrArray *const *)a, *y = *(GPtrArray *const *)b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    const lin_op *fx = x->pdata[0], *fy = y->pdata[0]; /* both point into one array */
    return fx < fy ? -1 : fx > fy;
}

tf_lin_result *tf_lin_check_ops(GPtrArray *ops, const tf_lin_model *m,
                                const tf_lin_options *options, GError **error)
{
    static const tf_lin_options defaults = {0};
    const tf_lin_options *o = options ? options : &defaults;
    gint64 start = g_get_monotonic_time();
    gint64 deadline = o->timeout_us > 0 ? start + o->timeout_us : 0;

    /* the model's parse of every op that may have taken effect */
    lin_op *lops = g_new0(lin_op, ops->len ? ops->len : 1);
    guint n = 0;
    for (guint i = 0; i < ops->len; i++) {
        const tf_op *op = ops->pdata[i];
        if (op->status == TF_OP_FAIL)
            continue;
        GError *err = NULL;
        void *mop = m->op_new(op->name, op->input, op->status == TF_OP_OK ? op->output : NULL, &err);
        if (!mop) {
            char *what = tf_op_describe(op);
            if (o->source && op->line)
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s:%u: op %" G_GUINT64_FORMAT
                            " %s: %s", o->source, op->line, op->id, what, err->message);
            else
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s%sop %" G_GUINT64_FORMAT " %s: %s",
                            o->source ? o->source : "", o->source ? ": " : "", op->id, what,
                            err->message);
            g_free(what);
            g_error_free(err);
            for (guint k = 0; k < n; k++)
                m->op_free(lops[k].mop);
            g_free(lops);
            return NULL;
        }
        lops[n++] = (lin_op){op, mop, NULL};
    }

    /* parts, smallest first: more verdicts fit in a time limit */
    GHashTable *by_part = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    GPtrArray *whole = NULL;
    for (guint i = 0; i < n; i++) {
        const char *key = !o->whole && m->op_partition ? m->op_partition(lops[i].mop) : NULL;
        lops[i].part = key;
        GPtrArray *p = key ? g_hash_table_lookup(by_part, key) : whole;
        if (!p) {
            p = g_ptr_array_new();
            g_ptr_array_add(parts, p);
            if (key)
                g_hash_table_insert(by_part, (char *)key, p);
            else
                whole = p;
        }
        g_ptr_array_add(p, &lops[i]);
    }
    g_hash_table_unref(by_part);
    if (parts->len > 1)
        qsort(parts->pdata, parts->len, sizeof(void *), part_size_cmp);

    tf_lin_result *r = g_new0(tf_lin_result, 1);
    r->verdict = TF_LIN_OK;
    r->ops = n;
    if (m->prune)
        for (guint p = 0; p < parts->len; p++)
            r->pruned += prune_part(m, parts->pdata[p]);
    for (guint p = 0; p < parts->len && r->verdict == TF_LIN_OK; p++) {
        GPtrArray *part = parts->pdata[p];
        state_table states;
        states_init(&states, m);
        part_result pr = {0};
        r->parts++;
        search(m, (lin_op *const *)part->pdata, part->len, deadline, &states, &pr);
        r->steps += pr.steps;
        r->peak_bytes = MAX(r->peak_bytes, pr.peak_bytes);
        const char *key = ((lin_op *)part->pdata[0])->part;
        if (pr.verdict == TF_LIN_VIOLATION) {
            r->verdict = TF_LIN_VIOLATION;
            explain(r, m, (lin_op *const *)part->pdata, part->len, key, &pr, &states);
        } else if (pr.verdict == TF_LIN_UNKNOWN) {
            r->verdict = TF_LIN_UNKNOWN;
            char *where = key ? g_strdup_printf(" in part \"%s\"", key) : g_strdup("");
            r->summary = g_strdup_printf("time limit of %.3g s reached%s (%u operations) after "
                                         "%" G_GUINT64_FORMAT " steps; %u of %u parts were "
                                         "checked", o->timeout_us / 1e6, where, part->len,
                                         r->steps, p, parts->len);
            g_free(where);
        }
        g_array_unref(pr.best_seq);
        states_clear(&states);
    }
    if (r->verdict == TF_LIN_OK && r->pruned)
        r->summary = g_strdup_printf("%u operations in %u part%s (%u of unknown outcome that "
                                     "cannot change the verdict left out), %" G_GUINT64_FORMAT
                                     " search steps", n, parts->len, parts->len == 1 ? "" : "s",
                                     r->pruned, r->steps);
    else if (r->verdict == TF_LIN_OK)
        r->summary = g_strdup_printf("%u operations in %u part%s, %" G_GUINT64_FORMAT
                                     " search steps", n, parts->len, parts->len == 1 ? "" : "s",
                                     r->steps);
    g_ptr_array_unref(parts);
    for (guint k = 0; k < n; k++)
        m->op_free(lops[k].mop);
    g_free(lops);
    r->elapsed_us = g_get_monotonic_time() - start;
    return r;
}

tf_lin_result *tf_lin_check(tf_ophistory *h, const tf_lin_model *m,
                            const tf_lin_options *options, GError **error)
{
    GPtrArray *ops = tf_ophistory_ops(h);
    tf_lin_result *r = tf_lin_check_ops(ops, m, options, error);
    g_ptr_array_unref(ops);
    return r;
}
