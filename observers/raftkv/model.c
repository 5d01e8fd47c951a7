/* model.c: the Raft cluster model: per-node views in, cluster facts and events out.
 * Pure logic (no I/O, clock passed in) so every rule is unit-tested with exact inputs.
 * Election Safety is judged on *confirmed* leader claims: a node's status is two reads
 * (leader, then term) that can straddle an election, and etcd's term is that of the last
 * applied entry, which lags a new leader for a moment: one sample must not count. */
#include <string.h>
#include "raftkv.h"

typedef struct {
    char *name;
    char *id;
    gboolean known;     /* observed at least once (up or down) */
    gboolean reachable;
    char *leader_id;
    guint64 term, commit, applied;
    gint64 last_seen;
    char *error;
    guint64 self_claim_term; /* term of its last "I am leader" answer, 0 when none */
} node;

typedef struct {
    char *leader_id;   /* confirmed leader of the term */
    gboolean flagged;  /* a violation was reported for this term */
} term_claim;

struct raftkv_model {
    GHashTable *nodes;   /* name -> node */
    GHashTable *id_name; /* member id -> name */
    GHashTable *claims;  /* term (guint64*) -> term_claim */
    char *leader_id;     /* agreed leader */
    guint64 leader_term, max_term;
    gint64 leaderless_since;
    gboolean started;
    guint64 elections;
    guint violations;
    char *violation;
};

static void node_free(gpointer p)
{
    node *n = p;
    g_free(n->name);
    g_free(n->id);
    g_free(n->leader_id);
    g_free(n->error);
    g_free(n);
}

static void claim_free(gpointer p)
{
    term_claim *c = p;
    g_free(c->leader_id);
    g_free(c);
}

raftkv_model *raftkv_model_new(void)
{
    raftkv_model *m = g_new0(raftkv_model, 1);
    m->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, node_free);
    m->id_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->claims = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, claim_free);
    return m;
}

void raftkv_model_free(raftkv_model *m)
{
    if (!m)
        return;
    g_hash_table_unref(m->nodes);
    g_hash_table_unref(m->id_name);
    g_hash_table_unref(m->claims);
    g_free(m->leader_id);
    g_free(m->violation);
    g_free(m);
}

static raftkv_event *event_new(raftkv_event_kind kind)
{
    raftkv_event *e = g_new0(raftkv_event, 1);
    e->kind = kind;
    return e;
}

void raftkv_event_free(raftkv_event *e)
{
    if (!e)
        return;
    g_free(e->node);
    g_free(e->leader);
    g_free(e->other);
    g_free(e->error);
    g_free(e);
}

/* A member id as a readable name: the node's name once learned, else the id itself. */
static const char *display(const raftkv_model *m, const char *id)
{
    const char *name = id ? g_hash_table_lookup(m->id_name, id) : NULL;
    return name ? name : id;
}

void raftkv_model_begin(raftkv_model *m, const char *const *members, guint n)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, m->nodes);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        gboolean listed = FALSE;
        for (guint i = 0; i < n && !listed; i++)
            listed = !strcmp(members[i], key);
        if (!listed)
            g_hash_table_iter_remove(&it);
    }
    for (guint i = 0; i < n; i++) {
        if (!g_hash_table_contains(m->nodes, members[i])) {
            node *nd = g_new0(node, 1);
            nd->name = g_strdup(members[i]);
            g_hash_table_insert(m->nodes, nd->name, nd);
        }
    }
}

/* Records a claim "leader_id led term"; reports a second, different leader once. */
static void claim(raftkv_model *m, guint64 term, const char *leader_id, raftkv_emit emit,
                  void *data)
{
    if (!term || !leader_id)
        return;
    term_claim *c = g_hash_table_lookup(m->claims, &term);
    if (!c) {
        c = g_new0(term_claim, 1);
        c->leader_id = g_strdup(leader_id);
        g_hash_table_insert(m->claims, g_memdup2(&term, sizeof term), c);
        return;
    }
    if (!strcmp(c->leader_id, leader_id) || c->flagged)
        return;
    c->flagged = TRUE;
    m->violations++;
    raftkv_event *e = event_new(RAFTKV_SAFETY_VIOLATION);
    e->term = term;
    e->leader = g_strdup(display(m, c->leader_id));
    e->other = g_strdup(display(m, leader_id));
    if (!m->violation)
        m->violation = g_strdup_printf("Election Safety violated: term %" G_GUINT64_FORMAT
                                       " had two leaders, %s and %s",
                                       term, e->leader, e->other);
    emit(e, data);
}

gboolean raftkv_model_observe(raftkv_model *m, const char *name, const raftkv_status *st,
                              const char *error, gint64 now, raftkv_emit emit, void *data)
{
    node *nd = g_hash_table_lookup(m->nodes, name);
    if (!nd)
        return FALSE;
    gboolean was_known = nd->known, was_up = nd->reachable;
    nd->known = TRUE;
    /* A source is one member: an answer from another member id is not this node's (its
     * address reached another process: the port was freed by a stop or a kill and taken
     * by another cluster's member). Attributed, that member's "I lead term 2" would be a
     * second leader of this cluster's term 2. The node counts as unreachable instead. */
    char *foreign = NULL;
    if (st && st->id && nd->id && strcmp(st->id, nd->id)) {
        foreign = g_strdup_printf("%s: answered as member %s, but %s is member %s: another "
                                  "process holds its address", name, st->id, name, nd->id);
        st = NULL;
        error = foreign;
    }
    if (!st) {
        nd->reachable = FALSE;
        g_free(nd->error);
        nd->error = g_strdup(error ? error : "unreachable");
        nd->self_claim_term = 0;
        if (was_up || !was_known) {
            raftkv_event *e = event_new(RAFTKV_NODE_DOWN);
            e->node = g_strdup(name);
            e->error = g_strdup(nd->error);
            emit(e, data);
        }
        g_free(foreign);
        return FALSE;
    }
    nd->reachable = TRUE;
    g_clear_pointer(&nd->error, g_free);
    nd->last_seen = now;
    if (st->id && g_strcmp0(nd->id, st->id)) {
        g_free(nd->id);
        nd->id = g_strdup(st->id);
        g_hash_table_insert(m->id_name, g_strdup(st->id), g_strdup(name));
    }
    g_free(nd->leader_id);
    nd->leader_id = g_strdup(st->leader);
    nd->term = st->term;
    nd->commit = st->commit;
    nd->applied = st->applied;
    if (!was_up) {
        raftkv_event *e = event_new(RAFTKV_NODE_UP);
        e->node = g_strdup(name);
        emit(e, data);
    }
    /* A self-claim confirmed by the same node twice in a row is a leader of that term. */
    gboolean self = st->id && st->leader && !strcmp(st->id, st->leader);
    if (self && nd->self_claim_term == st->term)
        claim(m, st->term, st->id, emit, data);
    nd->self_claim_term = self ? st->term : 0;
    return TRUE;
}

const char *raftkv_model_node_error(const raftkv_model *m, const char *name)
{
    const node *nd = g_hash_table_lookup(m->nodes, name);
    return nd ? nd->error : NULL;
}

void raftkv_model_end(raftkv_model *m, gint64 now, raftkv_emit emit, void *data)
{
    /* A leader is agreed when a strict majority of reachable nodes report the same
     * (leader, term) pair: one lagging or torn answer can neither make nor break it. */
    GHashTable *votes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint reachable = 0;
    guint64 max_term = m->max_term;
    GHashTableIter it;
    gpointer v, key;
    g_hash_table_iter_init(&it, m->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        node *nd = v;
        if (!nd->reachable)
            continue;
        reachable++;
        max_term = MAX(max_term, nd->term);
        if (nd->leader_id) {
            char *k = g_strdup_printf("%" G_GUINT64_FORMAT "\t%s", nd->term, nd->leader_id);
            guint count = GPOINTER_TO_UINT(g_hash_table_lookup(votes, k)) + 1;
            g_hash_table_insert(votes, k, GUINT_TO_POINTER(count));
        }
    }
    char *agreed = NULL;
    guint64 agreed_term = 0;
    g_hash_table_iter_init(&it, votes);
    while (g_hash_table_iter_next(&it, &key, &v)) {
        if (GPOINTER_TO_UINT(v) * 2 > reachable) {
            char *tab = strchr(key, '\t');
            agreed_term = g_ascii_strtoull(key, NULL, 10);
            agreed = g_strdup(tab + 1);
        }
    }
    g_hash_table_unref(votes);
    /* a claim once the same pair was agreed in two cycles in a row (m->leader_id is still
     * the last cycle's): a new leader named with the old term lasts until its first entry
     * is applied, milliseconds, less than a cycle */
    if (agreed && !g_strcmp0(agreed, m->leader_id) && agreed_term == m->leader_term)
        claim(m, agreed_term, agreed, emit, data);

    if (max_term > m->max_term) {
        if (m->max_term) {
            raftkv_event *e = event_new(RAFTKV_TERM_CHANGED);
            e->old_term = m->max_term;
            e->term = max_term;
            emit(e, data);
        }
        m->max_term = max_term;
    }
    gboolean changed = g_strcmp0(agreed, m->leader_id) || (agreed && agreed_term != m->leader_term);
    if (changed && m->leader_id && !agreed) {
        raftkv_event *e = event_new(RAFTKV_LEADER_LOST);
        e->leader = g_strdup(display(m, m->leader_id));
        e->term = m->leader_term;
        emit(e, data);
    }
    if (changed && agreed) {
        raftkv_event *e = event_new(RAFTKV_LEADER_ELECTED);
        e->leader = g_strdup(display(m, agreed));
        e->term = agreed_term;
        m->elections++;
        emit(e, data);
    }
    if (!agreed && (m->leader_id || !m->started))
        m->leaderless_since = now;
    if (agreed)
        m->leaderless_since = 0;
    g_free(m->leader_id);
    m->leader_id = agreed; /* taken */
    m->leader_term = agreed ? agreed_term : 0;
    m->started = TRUE;
}

static gint cmp_node(gconstpointer a, gconstpointer b)
{
    return strcmp(((const raftkv_node *)a)->name, ((const raftkv_node *)b)->name);
}

raftkv_snapshot *raftkv_model_snapshot(const raftkv_model *m)
{
    raftkv_snapshot *s = g_new0(raftkv_snapshot, 1);
    s->n = g_hash_table_size(m->nodes);
    s->nodes = g_new0(raftkv_node, s->n + 1);
    GHashTableIter it;
    gpointer v;
    guint i = 0;
    g_hash_table_iter_init(&it, m->nodes);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const node *nd = v;
        raftkv_node *o = &s->nodes[i++];
        o->name = g_strdup(nd->name);
        o->id = g_strdup(nd->id);
        o->reachable = nd->reachable;
        o->is_leader = nd->reachable && nd->id && !g_strcmp0(nd->id, nd->leader_id);
        o->leader = g_strdup(nd->reachable ? display(m, nd->leader_id) : NULL);
        o->term = nd->term;
        o->commit = nd->commit;
        o->applied = nd->applied;
        o->last_seen = nd->last_seen;
        o->error = g_strdup(nd->error);
        s->reachable += nd->reachable;
    }
    qsort(s->nodes, s->n, sizeof *s->nodes, (int (*)(const void *, const void *))cmp_node);
    s->quorum = s->n > 0 && s->reachable * 2 > s->n;
    s->leader = g_strdup(display(m, m->leader_id));
    s->leader_term = m->leader_term;
    s->max_term = m->max_term;
    s->leaderless_since = m->leaderless_since;
    s->elections = m->elections;
    s->violations = m->violations;
    s->violation = g_strdup(m->violation);
    return s;
}

void raftkv_snapshot_free(raftkv_snapshot *s)
{
    if (!s)
        return;
    for (guint i = 0; i < s->n; i++) {
        raftkv_node *o = &s->nodes[i];
        g_free(o->name);
        g_free(o->id);
        g_free(o->leader);
        g_free(o->error);
    }
    g_free(s->nodes);
    g_free(s->leader);
    g_free(s->violation);
    g_free(s);
}

const raftkv_node *raftkv_snapshot_node(const raftkv_snapshot *s, const char *name)
{
    for (guint i = 0; i < s->n; i++)
        if (!strcmp(s->nodes[i].name, name))
            return &s->nodes[i];
    return NULL;
}
