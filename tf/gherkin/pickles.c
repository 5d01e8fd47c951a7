/* pickles.c: the pickle compiler: expands a GherkinDocument into runnable scenarios
 * exactly as Cucumber's compiler does (background steps only when the scenario has
 * steps, one pickle per examples row with <name> substitution, inherited tags, And/But
 * taking the previous step's type, ids drawn in the same order). Pickles are either
 * handed out one at a time as they are made (tf_gherkin_compile_each: memory of one
 * pickle) or collected into a tf_gherkin_pickles that outlives the document. */
#include <string.h>
#include "gherkin/gherkin_priv.h"

struct tf_gherkin_pickles {
    tf_gherkin_arena arena;
    GPtrArray *items;
    const char *uri, *language; /* copies shared by every pickle */
};

static const char *arena_dup(tf_gherkin_arena *a, const char *s)
{
    return s ? tf_gherkin_arena_strndup(a, s, strlen(s)) : NULL;
}

typedef struct {
    tf_gherkin_arena *a; /* where the pickle being built lives */
    tf_gherkin_id_gen *ids;
    const char *uri, *language; /* the document's */
    tf_gherkin_pickle_fn fn;    /* is handed each pickle as it is made */
    void *ctx;
    gboolean stopped; /* fn returned FALSE */
    const tf_gherkin_row *pats_for; /* the header row whose "<name>" patterns are in pats */
    GPtrArray *pats;
    GString *buf; /* reused by interpolate */
} compiler;

/* Replaces every <header> by its value, header by header, as upstream does. */
static const char *interpolate(compiler *c, const char *text, const tf_gherkin_row *header,
                               const tf_gherkin_row *values)
{
    if (!header || !values || !strchr(text, '<'))
        return arena_dup(c->a, text);
    if (c->pats_for != header) { /* one examples table after another: make them once */
        g_ptr_array_set_size(c->pats, 0);
        for (guint i = 0; i < header->n_cells; i++)
            g_ptr_array_add(c->pats, g_strconcat("<", header->cells[i].value, ">", NULL));
        c->pats_for = header;
    }
    GString *s = c->buf;
    g_string_assign(s, text);
    for (guint i = 0; i < header->n_cells && i < values->n_cells; i++) {
        const char *pat = c->pats->pdata[i];
        gsize plen = strlen(pat);
        const char *val = values->cells[i].value;
        gsize vlen = strlen(val);
        gsize pos = 0;
        char *hit;
        while ((hit = strstr(s->str + pos, pat))) {
            gsize at = hit - s->str;
            g_string_erase(s, at, plen);
            g_string_insert_len(s, at, val, vlen);
            pos = at + vlen;
        }
    }
    return tf_gherkin_arena_strndup(c->a, s->str, s->len);
}

static tf_gherkin_step_type step_type(tf_gherkin_keyword_type k)
{
    switch (k) {
    case TF_GHERKIN_KEYWORD_CONTEXT: return TF_GHERKIN_STEP_CONTEXT;
    case TF_GHERKIN_KEYWORD_ACTION: return TF_GHERKIN_STEP_ACTION;
    case TF_GHERKIN_KEYWORD_OUTCOME: return TF_GHERKIN_STEP_OUTCOME;
    default: return TF_GHERKIN_STEP_UNKNOWN;
    }
}

static void pickle_step(compiler *c, tf_gherkin_pickle_step *ps, const tf_gherkin_step *s,
                        const tf_gherkin_row *header, const tf_gherkin_row *values,
                        tf_gherkin_keyword_type *last)
{
    if (s->keyword_type != TF_GHERKIN_KEYWORD_CONJUNCTION)
        *last = s->keyword_type;
    memset(ps, 0, sizeof *ps);
    ps->id = tf_gherkin_arena_id(c->a, c->ids);
    ps->text = interpolate(c, s->text, header, values);
    ps->type = step_type(*last);
    ps->location = s->location;
    const char **ids = tf_gherkin_arena_alloc(c->a, 2 * sizeof(char *));
    ids[0] = s->id;
    ids[1] = values ? values->id : NULL;
    ps->ast_node_ids = ids;
    ps->n_ast_node_ids = values ? 2 : 1;
    if (s->data_table) {
        ps->has_data_table = TRUE;
        ps->n_rows = s->data_table->n_rows;
        tf_gherkin_pickle_row *rows = tf_gherkin_arena_alloc(c->a, ps->n_rows * sizeof *rows);
        for (guint r = 0; r < ps->n_rows; r++) {
            const tf_gherkin_row *row = &s->data_table->rows[r];
            const char **cells = tf_gherkin_arena_alloc(c->a, (row->n_cells + 1) * sizeof(char *));
            for (guint k = 0; k < row->n_cells; k++)
                cells[k] = interpolate(c, row->cells[k].value, header, values);
            cells[row->n_cells] = NULL;
            rows[r].cells = cells;
            rows[r].n_cells = row->n_cells;
        }
        ps->rows = rows;
    }
    if (s->doc_string) {
        ps->doc_string = interpolate(c, s->doc_string->content, header, values);
        if (s->doc_string->media_type)
            ps->doc_string_media_type = interpolate(c, s->doc_string->media_type, header, values);
    }
    if (s->data_table && s->doc_string) {
        /* both arguments: numbered in source order (they never share a line) */
        gboolean table_first = s->data_table->location.line < s->doc_string->location.line;
        ps->data_table_index = table_first ? 1 : 2;
        ps->doc_string_index = table_first ? 2 : 1;
    }
}

static void add_tags(GArray *tags, const tf_gherkin_tag *t, guint n)
{
    for (guint i = 0; i < n; i++) {
        tf_gherkin_pickle_tag pt = {t[i].name, t[i].id};
        g_array_append_val(tags, pt);
    }
}

/* Builds one pickle; values NULL for a plain scenario. */
static void emit(compiler *c, const tf_gherkin_scenario *sc, GArray *tags, const GArray *bg,
                 const tf_gherkin_row *header, const tf_gherkin_row *values)
{
    tf_gherkin_keyword_type last = TF_GHERKIN_KEYWORD_UNKNOWN;
    guint nbg = sc->n_steps ? bg->len : 0;
    guint n = nbg + sc->n_steps;
    tf_gherkin_pickle_step *steps = n ? tf_gherkin_arena_alloc(c->a, n * sizeof *steps) : NULL;
    for (guint i = 0; i < nbg; i++)
        pickle_step(c, &steps[i], g_array_index(bg, const tf_gherkin_step *, i), NULL, NULL, &last);
    for (guint i = 0; i < sc->n_steps; i++)
        pickle_step(c, &steps[nbg + i], &sc->steps[i], header, values, &last);
    tf_gherkin_pickle *p = tf_gherkin_arena_alloc(c->a, sizeof *p);
    memset(p, 0, sizeof *p);
    p->id = tf_gherkin_arena_id(c->a, c->ids);
    p->uri = c->uri;
    p->language = c->language;
    p->location = values ? values->location : sc->location;
    p->name = interpolate(c, sc->name, header, values);
    p->steps = steps;
    p->n_steps = n;
    const char **ids = tf_gherkin_arena_alloc(c->a, 2 * sizeof(char *));
    ids[0] = sc->id;
    ids[1] = values ? values->id : NULL;
    p->ast_node_ids = ids;
    p->n_ast_node_ids = values ? 2 : 1;
    p->n_tags = tags->len;
    p->tags = tf_gherkin_arena_memdup(c->a, tags->data, tags->len * sizeof(tf_gherkin_pickle_tag));
    if (!c->fn(p, c->ctx))
        c->stopped = TRUE;
}

static void scenario(compiler *c, const tf_gherkin_scenario *sc, const GArray *inherited,
                     const GArray *bg)
{
    GArray *tags = g_array_new(FALSE, FALSE, sizeof(tf_gherkin_pickle_tag));
    if (sc->n_examples == 0) {
        g_array_append_vals(tags, inherited->data, inherited->len);
        add_tags(tags, sc->tags, sc->n_tags);
        emit(c, sc, tags, bg, NULL, NULL);
    } else {
        for (guint e = 0; e < sc->n_examples; e++) {
            const tf_gherkin_examples *ex = &sc->examples[e];
            if (!ex->table_header)
                continue;
            for (guint r = 0; r < ex->n_table_body && !c->stopped; r++) {
                g_array_set_size(tags, 0);
                g_array_append_vals(tags, inherited->data, inherited->len);
                add_tags(tags, sc->tags, sc->n_tags);
                add_tags(tags, ex->tags, ex->n_tags);
                emit(c, sc, tags, bg, ex->table_header, &ex->table_body[r]);
            }
        }
    }
    g_array_free(tags, TRUE);
}

static void add_background(GArray *bg, const tf_gherkin_background *b)
{
    for (guint i = 0; i < b->n_steps; i++) {
        const tf_gherkin_step *s = &b->steps[i];
        g_array_append_val(bg, s);
    }
}

/* Walks doc's children in order, handing each pickle to c->fn. */
static void compile(compiler *c, const tf_gherkin_document *doc)
{
    const tf_gherkin_feature *f = doc ? doc->feature : NULL;
    if (!f)
        return;
    c->pats = g_ptr_array_new_with_free_func(g_free);
    c->buf = g_string_sized_new(128);
    c->uri = doc->uri;
    c->language = f->language;
    GArray *ftags = g_array_new(FALSE, FALSE, sizeof(tf_gherkin_pickle_tag));
    add_tags(ftags, f->tags, f->n_tags);
    GArray *fbg = g_array_new(FALSE, FALSE, sizeof(const tf_gherkin_step *));
    for (guint i = 0; i < f->n_children && !c->stopped; i++) {
        const tf_gherkin_child *ch = &f->children[i];
        if (ch->background) {
            add_background(fbg, ch->background);
        } else if (ch->scenario) {
            scenario(c, ch->scenario, ftags, fbg);
        } else if (ch->rule) {
            const tf_gherkin_rule *r = ch->rule;
            GArray *rtags = g_array_new(FALSE, FALSE, sizeof(tf_gherkin_pickle_tag));
            g_array_append_vals(rtags, ftags->data, ftags->len);
            add_tags(rtags, r->tags, r->n_tags);
            GArray *rbg = g_array_new(FALSE, FALSE, sizeof(const tf_gherkin_step *));
            g_array_append_vals(rbg, fbg->data, fbg->len);
            for (guint k = 0; k < r->n_children && !c->stopped; k++) {
                if (r->children[k].background)
                    add_background(rbg, r->children[k].background);
                else if (r->children[k].scenario)
                    scenario(c, r->children[k].scenario, rtags, rbg);
            }
            g_array_free(rtags, TRUE);
            g_array_free(rbg, TRUE);
        }
    }
    g_array_free(ftags, TRUE);
    g_array_free(fbg, TRUE);
    g_ptr_array_free(c->pats, TRUE);
    g_string_free(c->buf, TRUE);
}

/* The streaming form: each pickle is built in a scratch arena that is cleared after fn. */
typedef struct {
    tf_gherkin_arena arena;
    tf_gherkin_pickle_fn fn;
    void *ctx;
} each_ctx;

static gboolean each_one(const tf_gherkin_pickle *p, void *ctx)
{
    each_ctx *e = ctx;
    gboolean go_on = e->fn(p, e->ctx);
    tf_gherkin_arena_clear(&e->arena);
    return go_on;
}

gboolean tf_gherkin_compile_each(const tf_gherkin_document *doc, tf_gherkin_id_gen *ids,
                                 tf_gherkin_pickle_fn fn, void *ctx)
{
    each_ctx e = {{0}, fn, ctx};
    compiler c = {&e.arena, ids, NULL, NULL, each_one, &e, FALSE, NULL, NULL, NULL};
    compile(&c, doc);
    tf_gherkin_arena_clear(&e.arena);
    return !c.stopped;
}

/* The collected form: pickles must outlive doc, so each copies what it borrowed from it
 * (uri, language, tag names and ids, AST node ids) into the pickles' arena. */
static gboolean keep(const tf_gherkin_pickle *cp, void *ctx)
{
    tf_gherkin_pickles *out = ctx;
    tf_gherkin_pickle *p = (tf_gherkin_pickle *)cp;
    tf_gherkin_arena *a = &out->arena;
    if (!out->uri) {
        out->uri = arena_dup(a, p->uri);
        out->language = arena_dup(a, p->language);
    }
    p->uri = out->uri;
    p->language = out->language;
    tf_gherkin_pickle_tag *t = (tf_gherkin_pickle_tag *)p->tags;
    for (guint k = 0; k < p->n_tags; k++) {
        t[k].name = arena_dup(a, t[k].name);
        t[k].ast_node_id = arena_dup(a, t[k].ast_node_id);
    }
    const char **ids = (const char **)p->ast_node_ids;
    for (guint k = 0; k < p->n_ast_node_ids; k++)
        ids[k] = arena_dup(a, ids[k]);
    for (guint s = 0; s < p->n_steps; s++) {
        const char **sid = (const char **)p->steps[s].ast_node_ids;
        for (guint k = 0; k < p->steps[s].n_ast_node_ids; k++)
            sid[k] = arena_dup(a, sid[k]);
    }
    g_ptr_array_add(out->items, p);
    return TRUE;
}

tf_gherkin_pickles *tf_gherkin_compile(const tf_gherkin_document *doc, tf_gherkin_id_gen *ids)
{
    tf_gherkin_pickles *out = g_new0(tf_gherkin_pickles, 1);
    out->items = g_ptr_array_new();
    compiler c = {&out->arena, ids, NULL, NULL, keep, out, FALSE, NULL, NULL, NULL};
    compile(&c, doc);
    return out;
}

guint tf_gherkin_pickles_count(const tf_gherkin_pickles *p)
{
    return p ? p->items->len : 0;
}

const tf_gherkin_pickle *tf_gherkin_pickles_get(const tf_gherkin_pickles *p, guint i)
{
    return p && i < p->items->len ? p->items->pdata[i] : NULL;
}

void tf_gherkin_pickles_free(tf_gherkin_pickles *p)
{
    if (!p)
        return;
    g_ptr_array_free(p->items, TRUE);
    tf_gherkin_arena_clear(&p->arena);
    g_free(p);
}
