/* run_cases.c: what a run knows before it runs anything: the sources and definitions it
 * announces (definitions get their ids here, in registration order, as cucumber numbers
 * them), and the test cases built from the selected pickles (hooks that apply, each step
 * matched against every definition), announced in run order. */
#include "runner_priv.h"

void tf_run_next_id(tf_run *run, char *out)
{
    g_snprintf(out, TF_ID_LEN, "%s%" G_GUINT64_FORMAT, run->id_prefix,
               tf_gherkin_id_gen_next(run->ids));
}

void tf_run_emit(tf_run *run, tf_event *ev)
{
    run->sink(run->sink_data, ev);
    tf_event_clear(ev);
}

/* ---- sources and definitions ---- */

static void emit_sources(tf_run *run, GPtrArray *features)
{
    for (guint f = 0; f < features->len; f++) {
        const tf_run_feature *feat = g_ptr_array_index(features, f);
        tf_event ev = {.kind = TF_EV_SOURCE,
                       .source = {.uri = feat->uri, .data = feat->data, .doc = feat->doc,
                                  .pickles = (const tf_gherkin_pickle *const *)feat->selected->pdata,
                                  .n_pickles = feat->selected->len}};
        tf_run_emit(run, &ev);
    }
}

typedef struct {
    guint seq;
    tf_event_kind kind; /* which definition p is */
    void *p;
} def_ref;

static gint def_ref_cmp(gconstpointer a, gconstpointer b)
{
    const def_ref *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every definition of the registry, in registration order. */
static GArray *definitions_in_order(const tf_registry *reg)
{
    GArray *all = g_array_new(FALSE, FALSE, sizeof(def_ref));
    for (guint i = 0; i < reg->steps->len; i++) {
        tf_step_def *d = g_ptr_array_index(reg->steps, i);
        g_array_append_val(all, ((def_ref){d->seq, TF_EV_STEP_DEFINITION, d}));
    }
    for (guint i = 0; i < reg->hooks->len; i++) {
        tf_hook_def *h = g_ptr_array_index(reg->hooks, i);
        g_array_append_val(all, ((def_ref){h->seq, TF_EV_HOOK, h}));
    }
    for (guint i = 0; i < reg->param_defs->len; i++) {
        tf_param_def *p = g_ptr_array_index(reg->param_defs, i);
        g_array_append_val(all, ((def_ref){p->seq, TF_EV_PARAMETER_TYPE, p}));
    }
    for (guint i = 0; i < reg->undefined->len; i++) {
        tf_undefined_param *u = g_ptr_array_index(reg->undefined, i);
        g_array_append_val(all, ((def_ref){u->seq, TF_EV_UNDEFINED_PARAMETER_TYPE, u}));
    }
    g_array_sort(all, def_ref_cmp);
    return all;
}

/* Names one definition (but an undefined parameter type, which has no id) and emits it. */
static void emit_definition(tf_run *run, const def_ref *r)
{
    tf_event ev = {.kind = r->kind};
    if (r->kind == TF_EV_STEP_DEFINITION) {
        tf_step_def *d = r->p;
        tf_run_next_id(run, d->id);
        ev.step_definition = (tf_ev_step_definition){d->id, d->pattern, d->is_regex, d->file,
                                                     d->line};
    } else if (r->kind == TF_EV_HOOK) {
        tf_hook_def *h = r->p;
        tf_run_next_id(run, h->id);
        ev.hook = (tf_ev_hook){h->id, h->kind, h->name, h->tags_src, h->file, h->line};
    } else if (r->kind == TF_EV_PARAMETER_TYPE) {
        tf_param_def *p = r->p;
        tf_run_next_id(run, p->id);
        ev.parameter_type = (tf_ev_parameter_type){p->id, p->name,
                                                   (const char *const *)p->regexps, p->prefer,
                                                   p->use_for_snippets};
    } else {
        tf_undefined_param *u = r->p;
        ev.undefined_parameter_type = (tf_ev_undefined_parameter_type){u->name, u->expression};
    }
    tf_run_emit(run, &ev);
}

void tf_run_emit_static(tf_run *run, GPtrArray *features)
{
    emit_sources(run, features);
    GArray *all = definitions_in_order(run->reg);
    for (guint i = 0; i < all->len; i++)
        emit_definition(run, &g_array_index(all, def_ref, i));
    g_array_unref(all);
}

/* ---- test cases ---- */

static void test_step_free(tf_test_step *ts)
{
    if (ts->matches)
        g_ptr_array_unref(ts->matches);
    g_free(ts->match_error);
    g_free(ts);
}

static void test_case_free(tf_test_case *tc)
{
    g_ptr_array_unref(tc->steps);
    g_free(tc);
}

static gint hook_before_cmp(gconstpointer a, gconstpointer b)
{
    const tf_hook_def *x = *(tf_hook_def *const *)a, *y = *(tf_hook_def *const *)b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static gint hook_after_cmp(gconstpointer a, gconstpointer b) { return -hook_before_cmp(a, b); }

GPtrArray *tf_run_hooks_for(tf_registry *reg, tf_hook_kind kind, const tf_gherkin_pickle *p,
                            tf_uses_module_fn uses, const void *data)
{
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < reg->hooks->len; i++) {
        tf_hook_def *h = g_ptr_array_index(reg->hooks, i);
        if (h->kind != kind || (p && h->tags && !tf_tag_matcher_match(h->tags, p)))
            continue;
        if (h->scope == TF_HOOK_OWN_STEPS && !(uses && uses(data, h->module)))
            continue;
        g_ptr_array_add(out, h);
    }
    gboolean after = kind == TF_HOOK_AFTER || kind == TF_HOOK_AFTER_STEP ||
                     kind == TF_HOOK_AFTER_ALL;
    g_ptr_array_sort(out, after ? hook_after_cmp : hook_before_cmp);
    return out;
}

gboolean tf_test_case_uses_module(const void *data, guint module)
{
    const tf_test_case *tc = data;
    for (guint i = 0; i < tc->steps->len; i++) {
        /* An ambiguous step runs no definition: it uses no module. */
        const tf_test_step *ts = g_ptr_array_index(tc->steps, i);
        if (ts->matches && ts->matches->len == 1 &&
            ((const tf_match *)g_ptr_array_index(ts->matches, 0))->def->module == module)
            return TRUE;
    }
    return FALSE;
}

/* Appends a test step for each hook of kind that applies to the test case; scoped hooks
 * (TF_HOOK_OWN_STEPS) look at the pickle steps of `matched`. */
static void add_hook_steps(tf_run *run, tf_test_case *tc, const tf_test_case *matched,
                           tf_hook_kind kind)
{
    GPtrArray *hooks = tf_run_hooks_for(run->reg, kind, tc->pickle, tf_test_case_uses_module,
                                        matched);
    for (guint i = 0; i < hooks->len; i++) {
        tf_test_step *ts = g_new0(tf_test_step, 1);
        tf_run_next_id(run, ts->id);
        ts->hook = g_ptr_array_index(hooks, i);
        g_ptr_array_add(tc->steps, ts);
    }
    g_ptr_array_unref(hooks);
}

/* A test case: Before hooks, the pickle's steps with their matches, After hooks. The
 * steps are matched first (which hooks apply may depend on them) and numbered in the
 * order they run. */
static tf_test_case *build_case(tf_run *run, const tf_gherkin_pickle *p)
{
    tf_test_case steps = {.pickle = p};
    steps.steps = g_ptr_array_new();
    for (guint i = 0; i < p->n_steps; i++) {
        tf_test_step *ts = g_new0(tf_test_step, 1);
        ts->pstep = &p->steps[i];
        ts->matches = tf_match_step(run->reg, ts->pstep, &ts->match_error);
        g_ptr_array_add(steps.steps, ts);
    }
    tf_test_case *tc = g_new0(tf_test_case, 1);
    tf_run_next_id(run, tc->id);
    tc->pickle = p;
    tc->steps = g_ptr_array_new_with_free_func((GDestroyNotify)test_step_free);
    add_hook_steps(run, tc, &steps, TF_HOOK_BEFORE);
    for (guint i = 0; i < steps.steps->len; i++) {
        tf_test_step *ts = g_ptr_array_index(steps.steps, i);
        tf_run_next_id(run, ts->id);
        g_ptr_array_add(tc->steps, ts);
    }
    g_ptr_array_unref(steps.steps);
    add_hook_steps(run, tc, tc, TF_HOOK_AFTER);
    return tc;
}

/* The event of a test step, its arrays allocated in ev. */
static void test_step_event(tf_run *run, tf_event *ev, const tf_test_step *ts,
                            tf_ev_test_step *out)
{
    out->id = ts->id;
    if (ts->hook) {
        out->hook_id = ts->hook->id;
        return;
    }
    guint n = ts->matches->len;
    const char **ids = tf_event_own(ev, g_new0(const char *, n + 1));
    tf_ev_match *matches = tf_event_own(ev, g_new0(tf_ev_match, n + 1));
    for (guint k = 0; k < n; k++) {
        const tf_match *m = g_ptr_array_index(ts->matches, k);
        ids[k] = m->def->id;
        tf_match_to_event(run->reg, m, ts->pstep->text, ev, &matches[k]);
    }
    out->pickle_step_id = ts->pstep->id;
    out->step_definition_ids = ids;
    out->matches = matches;
    out->n_matches = n;
}

static void emit_test_case(tf_run *run, const tf_test_case *tc)
{
    tf_event ev = {.kind = TF_EV_TEST_CASE, .timestamp_us = g_get_real_time()};
    guint n = tc->steps->len;
    tf_ev_test_step *steps = tf_event_own(&ev, g_new0(tf_ev_test_step, n + 1));
    for (guint i = 0; i < n; i++)
        test_step_event(run, &ev, g_ptr_array_index(tc->steps, i), &steps[i]);
    ev.test_case = (tf_ev_test_case){tc->id, tc->pickle->id, run->run_started_id, steps, n};
    tf_run_emit(run, &ev);
}

/* --order random:SEED: the same seed gives the same order. */
static void shuffle(GPtrArray *cases, guint64 seed)
{
    GRand *rand = g_rand_new_with_seed((guint32)seed);
    for (guint i = cases->len; i > 1; i--) {
        guint j = g_rand_int_range(rand, 0, (gint32)i);
        gpointer t = cases->pdata[i - 1];
        cases->pdata[i - 1] = cases->pdata[j];
        cases->pdata[j] = t;
    }
    g_rand_free(rand);
}

void tf_run_announce_cases(tf_run *run)
{
    for (guint i = 0; i < run->cases->len; i++)
        emit_test_case(run, g_ptr_array_index(run->cases, i));
}

void tf_run_build_cases(tf_run *run, GPtrArray *features, gboolean announce)
{
    run->cases = g_ptr_array_new_with_free_func((GDestroyNotify)test_case_free);
    for (guint f = 0; f < features->len; f++) {
        const tf_run_feature *feat = g_ptr_array_index(features, f);
        for (guint i = 0; i < feat->selected->len; i++)
            g_ptr_array_add(run->cases, build_case(run, g_ptr_array_index(feat->selected, i)));
    }
    if (run->opts.random)
        shuffle(run->cases, run->opts.seed);
    if (announce)
        tf_run_announce_cases(run);
}
