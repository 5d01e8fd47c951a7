/* report_query.c: the index reporters read beside the event stream (report_query.h):
 * pickles and their steps' keywords from sources, definitions, test cases, attempts and
 * global hook runs by id, and the tally of final attempts. */
#include <string.h>
#include "report_query.h"

typedef struct {
    const tf_gherkin_pickle *pickle;
    const char *feature_name;
} q_pickle;

typedef struct {
    const tf_gherkin_pickle_step *pstep;
    const tf_gherkin_pickle *pickle;
    const char *keyword;
} q_pickle_step;

struct tf_query {
    GStringChunk *ids;        /* every id the query keeps (a run has many: one string each) */
    GHashTable *pickles;      /* id -> q_pickle* */
    GHashTable *pickle_steps; /* id -> q_pickle_step* (borrowed from the pickle's block) */
    GHashTable *step_defs;    /* id -> tf_q_step_def* */
    GHashTable *hooks;        /* id -> tf_q_hook* */
    GHashTable *test_cases;   /* id -> tf_q_test_case* (with its steps) */
    GHashTable *test_steps;   /* id -> tf_q_test_step* (borrowed from their test case) */
    GHashTable *attempts;     /* id -> tf_q_attempt* */
    GHashTable *hook_runs;    /* id -> tf_q_hook* (borrowed) */
    gint64 run_started_us;
    tf_run_stats stats;
    char *message;
};

static void step_def_free(tf_q_step_def *d)
{
    g_free(d->id);
    g_free(d->pattern);
    g_free(d->uri);
    g_free(d);
}

static void hook_free(tf_q_hook *h)
{
    g_free(h->id);
    g_free(h->name);
    g_free(h->uri);
    g_free(h);
}

static GHashTable *table(GDestroyNotify free_value)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, NULL, free_value);
}

tf_query *tf_query_new(void)
{
    tf_query *q = g_new0(tf_query, 1);
    q->pickles = table(g_free); /* one block: the pickle and its steps */
    q->pickle_steps = table(NULL);
    q->step_defs = table((GDestroyNotify)step_def_free);
    q->hooks = table((GDestroyNotify)hook_free);
    q->test_cases = table(g_free); /* one block: the case, its steps, their definitions */
    q->test_steps = table(NULL);
    q->attempts = table(g_free);
    q->hook_runs = table(NULL);
    q->ids = g_string_chunk_new(4096);
    return q;
}

void tf_query_free(tf_query *q)
{
    if (!q)
        return;
    g_hash_table_unref(q->hook_runs);
    g_hash_table_unref(q->attempts);
    g_hash_table_unref(q->test_steps);
    g_hash_table_unref(q->test_cases);
    g_hash_table_unref(q->hooks);
    g_hash_table_unref(q->step_defs);
    g_hash_table_unref(q->pickle_steps);
    g_hash_table_unref(q->pickles);
    g_string_chunk_free(q->ids);
    g_free(q->message);
    g_free(q);
}

/* ---- taking events in ---- */

/* AST step id -> tf_gherkin_step*, for every step of children (rules included). */
static void index_ast_steps(const tf_gherkin_child *children, guint n, GHashTable *out)
{
    for (guint i = 0; i < n; i++) {
        const tf_gherkin_step *steps = NULL;
        guint ns = 0;
        if (children[i].background) {
            steps = children[i].background->steps;
            ns = children[i].background->n_steps;
        } else if (children[i].scenario) {
            steps = children[i].scenario->steps;
            ns = children[i].scenario->n_steps;
        } else if (children[i].rule) {
            index_ast_steps(children[i].rule->children, children[i].rule->n_children, out);
        }
        for (guint k = 0; k < ns; k++)
            g_hash_table_insert(out, (gpointer)steps[k].id, (gpointer)&steps[k]);
    }
}

/* A pickle and its steps in one block (the pickle map owns it). */
static void add_pickle(tf_query *q, const tf_gherkin_pickle *p, const char *feature_name,
                       GHashTable *ast)
{
    q_pickle *qp = g_malloc0(sizeof *qp + p->n_steps * sizeof(q_pickle_step));
    q_pickle_step *steps = (q_pickle_step *)(qp + 1);
    *qp = (q_pickle){p, feature_name};
    g_hash_table_insert(q->pickles, (gpointer)p->id, qp);
    for (guint k = 0; k < p->n_steps; k++) {
        const tf_gherkin_pickle_step *ps = &p->steps[k];
        const tf_gherkin_step *a = ps->n_ast_node_ids
            ? g_hash_table_lookup(ast, ps->ast_node_ids[0]) : NULL;
        steps[k] = (q_pickle_step){ps, p, a ? a->keyword : "* "};
        g_hash_table_insert(q->pickle_steps, (gpointer)ps->id, &steps[k]);
    }
}

static void add_source(tf_query *q, const tf_ev_source *s)
{
    const tf_gherkin_feature *feature = s->doc->feature;
    GHashTable *ast = g_hash_table_new(g_str_hash, g_str_equal);
    if (feature)
        index_ast_steps(feature->children, feature->n_children, ast);
    for (guint i = 0; i < s->n_pickles; i++)
        add_pickle(q, s->pickles[i], feature ? feature->name : "", ast);
    g_hash_table_unref(ast);
}

static void add_step_def(tf_query *q, const tf_ev_step_definition *e)
{
    tf_q_step_def *d = g_new0(tf_q_step_def, 1);
    *d = (tf_q_step_def){g_strdup(e->id), g_strdup(e->pattern), g_strdup(e->uri), (int)e->line};
    g_hash_table_replace(q->step_defs, d->id, d);
}

static void add_hook(tf_query *q, const tf_ev_hook *e)
{
    tf_q_hook *h = g_new0(tf_q_hook, 1);
    *h = (tf_q_hook){g_strdup(e->id), e->kind, g_strdup(e->name), g_strdup(e->uri), (int)e->line};
    g_hash_table_replace(q->hooks, h->id, h);
}

static const char *keep_id(tf_query *q, const char *id)
{
    return g_string_chunk_insert(q->ids, id);
}

static void test_step_init(tf_query *q, const tf_ev_test_step *e, tf_q_test_step *s,
                           const tf_q_step_def **defs)
{
    s->id = keep_id(q, e->id);
    if (e->hook_id)
        s->hook = g_hash_table_lookup(q->hooks, e->hook_id);
    const q_pickle_step *ps = e->pickle_step_id
        ? g_hash_table_lookup(q->pickle_steps, e->pickle_step_id) : NULL;
    if (ps) {
        s->pstep = ps->pstep;
        s->keyword = ps->keyword;
    }
    s->defs = defs;
    for (guint i = 0; i < e->n_matches; i++) {
        const tf_q_step_def *d = g_hash_table_lookup(q->step_defs, e->step_definition_ids[i]);
        if (d)
            defs[s->n_defs++] = d;
    }
}

/* A test case, its steps and their definitions in one block: a run has thousands. */
static void add_test_case(tf_query *q, const tf_ev_test_case *e)
{
    gsize n_defs = 0;
    for (guint i = 0; i < e->n_steps; i++)
        n_defs += e->steps[i].n_matches;
    gsize size = sizeof(tf_q_test_case) + e->n_steps * sizeof(tf_q_test_step) +
                 n_defs * sizeof(tf_q_step_def *);
    tf_q_test_case *tc = g_malloc0(size);
    tf_q_test_step *steps = (tf_q_test_step *)(tc + 1);
    const tf_q_step_def **defs = (const tf_q_step_def **)(steps + e->n_steps);
    const q_pickle *p = g_hash_table_lookup(q->pickles, e->pickle_id);
    *tc = (tf_q_test_case){keep_id(q, e->id), p ? p->pickle : NULL, p ? p->feature_name : "",
                           steps, e->n_steps};
    for (guint i = 0; i < e->n_steps; i++) {
        test_step_init(q, &e->steps[i], &steps[i], defs);
        defs += e->steps[i].n_matches;
        g_hash_table_replace(q->test_steps, (gpointer)steps[i].id, &steps[i]);
    }
    g_hash_table_replace(q->test_cases, (gpointer)tc->id, tc);
}

static void add_attempt(tf_query *q, const tf_event *ev)
{
    tf_q_attempt *a = g_new0(tf_q_attempt, 1);
    a->id = keep_id(q, ev->case_started.id);
    a->tc = g_hash_table_lookup(q->test_cases, ev->case_started.test_case_id);
    a->attempt = ev->case_started.attempt;
    a->started_us = ev->timestamp_us;
    a->worst = TF_RESULT_PASSED;
    g_hash_table_replace(q->attempts, (gpointer)a->id, a);
}

static void count_step(tf_query *q, const tf_ev_step_finished *e)
{
    tf_q_attempt *a = g_hash_table_lookup(q->attempts, e->test_case_started_id);
    const tf_q_test_step *s = g_hash_table_lookup(q->test_steps, e->test_step_id);
    if (!a)
        return;
    if (e->result.status > a->worst)
        a->worst = e->result.status;
    if (s && !s->hook)
        a->steps[e->result.status]++;
}

/* A final attempt (not to be retried) counts in the tally. */
static void count_case(tf_query *q, const tf_ev_case_finished *e)
{
    const tf_q_attempt *a = g_hash_table_lookup(q->attempts, e->test_case_started_id);
    if (!a || e->will_be_retried)
        return;
    for (guint r = 0; r <= TF_RESULT_FAILED; r++) {
        q->stats.steps[r] += a->steps[r];
        q->stats.n_steps += a->steps[r];
    }
    q->stats.scenarios[a->worst]++;
    q->stats.n_scenarios++;
}

static void finish_run(tf_query *q, const tf_event *ev)
{
    const tf_ev_run_finished *e = &ev->run_finished;
    g_free(q->message);
    q->message = g_strdup(e->message);
    q->stats.message = q->message;
    q->stats.success = e->success;
    q->stats.interrupted = e->interrupted;
    q->stats.duration_us = ev->timestamp_us - q->run_started_us;
}

void tf_query_update(tf_query *q, const tf_event *ev)
{
    switch (ev->kind) {
    case TF_EV_SOURCE: add_source(q, &ev->source); break;
    case TF_EV_STEP_DEFINITION: add_step_def(q, &ev->step_definition); break;
    case TF_EV_HOOK: add_hook(q, &ev->hook); break;
    case TF_EV_RUN_STARTED: q->run_started_us = ev->timestamp_us; break;
    case TF_EV_GLOBAL_HOOK_STARTED:
        g_hash_table_replace(q->hook_runs, (gpointer)keep_id(q, ev->global_hook_started.id),
                             g_hash_table_lookup(q->hooks, ev->global_hook_started.hook_id));
        break;
    case TF_EV_TEST_CASE: add_test_case(q, &ev->test_case); break;
    case TF_EV_CASE_STARTED: add_attempt(q, ev); break;
    case TF_EV_STEP_FINISHED: count_step(q, &ev->step_finished); break;
    case TF_EV_CASE_FINISHED: count_case(q, &ev->case_finished); break;
    case TF_EV_RUN_FINISHED: finish_run(q, ev); break;
    default: break;
    }
}

/* ---- lookups ---- */

const tf_q_attempt *tf_query_attempt(const tf_query *q, const char *id)
{
    return id ? g_hash_table_lookup(q->attempts, id) : NULL;
}

const tf_q_test_step *tf_query_test_step(const tf_query *q, const char *id)
{
    return id ? g_hash_table_lookup(q->test_steps, id) : NULL;
}

const tf_q_hook *tf_query_hook(const tf_query *q, const char *id)
{
    return id ? g_hash_table_lookup(q->hooks, id) : NULL;
}

const tf_q_hook *tf_query_hook_run(const tf_query *q, const char *id)
{
    return id ? g_hash_table_lookup(q->hook_runs, id) : NULL;
}

const tf_gherkin_pickle_step *tf_query_pickle_step(const tf_query *q, const char *id,
                                                   const tf_gherkin_pickle **pickle)
{
    const q_pickle_step *ps = id ? g_hash_table_lookup(q->pickle_steps, id) : NULL;
    if (pickle)
        *pickle = ps ? ps->pickle : NULL;
    return ps ? ps->pstep : NULL;
}

const tf_run_stats *tf_query_stats(const tf_query *q) { return &q->stats; }

char *tf_query_result_text(const tf_query *q, const char *test_step_id, const tf_ev_result *r)
{
    const tf_q_test_step *s = tf_query_test_step(q, test_step_id);
    if (r->status != TF_RESULT_AMBIGUOUS || !s)
        return g_strdup(r->message);
    GString *m = g_string_new("Multiple step definitions match:");
    for (guint i = 0; i < s->n_defs; i++) {
        const tf_q_step_def *d = s->defs[i];
        g_string_append_printf(m, "\n  %s  # %s:%d", d->pattern, d->uri, d->line);
    }
    return g_string_free(m, FALSE);
}

char *tf_query_step_where(const tf_query *q, const char *test_step_id)
{
    const tf_q_test_step *s = tf_query_test_step(q, test_step_id);
    const tf_gherkin_pickle *p = NULL;
    if (s && s->hook)
        return g_strdup_printf("%s:%d", s->hook->uri, s->hook->line);
    if (s && s->pstep && tf_query_pickle_step(q, s->pstep->id, &p))
        return g_strdup_printf("%s:%u", p->uri, s->pstep->location.line);
    return NULL;
}
