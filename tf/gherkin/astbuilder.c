/* astbuilder.c: turns the parser's rule starts/ends and tokens into the GherkinDocument
 * AST, the way the official AstBuilder does (same node shapes, same id order: a node
 * gets its id when its rule ends, tags when their parent ends). Also the bump arena and
 * the id generator the whole parser shares. */
#include <stdatomic.h>
#include <string.h>
#include "gherkin/gherkin_priv.h"

/* ---- arena ---------------------------------------------------------------------- */

struct tf_gherkin_arena_block {
    tf_gherkin_arena_block *next;
    max_align_t data[];
};

#define ARENA_BLOCK (64 * 1024)

void *tf_gherkin_arena_alloc(tf_gherkin_arena *a, gsize size)
{
    size = (size + 15) & ~(gsize)15;
    char *aligned = (char *)(((guintptr)a->cur + 15) & ~(guintptr)15); /* strings pack */
    if (aligned > a->end || (gsize)(a->end - aligned) < size) {
        gboolean big = size > ARENA_BLOCK / 4;
        gsize cap = big ? size : ARENA_BLOCK;
        tf_gherkin_arena_block *b = g_malloc(sizeof *b + cap);
        /* every new block goes in front, so a release frees exactly what followed its mark;
         * a big object gets a block of its own and leaves the free space where it was */
        b->next = a->head;
        a->head = b;
        if (big)
            return b->data;
        aligned = (char *)b->data;
        a->end = aligned + cap;
    }
    a->cur = aligned + size;
    return aligned;
}

char *tf_gherkin_arena_strndup(tf_gherkin_arena *a, const char *s, gsize len)
{
    /* strings need no alignment: packed, they take a third less room in an AST */
    char *d;
    if ((gsize)(a->end - a->cur) > len) {
        d = a->cur;
        a->cur += len + 1;
    } else {
        d = tf_gherkin_arena_alloc(a, len + 1);
    }
    if (len)
        memcpy(d, s, len);
    d[len] = 0;
    return d;
}

void *tf_gherkin_arena_memdup(tf_gherkin_arena *a, const void *p, gsize size)
{
    if (size == 0)
        return NULL;
    void *d = tf_gherkin_arena_alloc(a, size);
    memcpy(d, p, size);
    return d;
}

tf_gherkin_arena_mark tf_gherkin_arena_get_mark(const tf_gherkin_arena *a)
{
    return (tf_gherkin_arena_mark){a->head, a->cur, a->end};
}

void tf_gherkin_arena_release(tf_gherkin_arena *a, tf_gherkin_arena_mark m)
{
    while (a->head != m.head) {
        tf_gherkin_arena_block *b = a->head;
        a->head = b->next;
        g_free(b);
    }
    a->cur = m.cur;
    a->end = m.end;
}

void tf_gherkin_arena_clear(tf_gherkin_arena *a)
{
    for (tf_gherkin_arena_block *b = a->head, *n; b; b = n) {
        n = b->next;
        g_free(b);
    }
    memset(a, 0, sizeof *a);
}

/* ---- ids ---------------------------------------------------------------------------- */

/* A lock-free counter: ids are drawn for every AST node, so this is on the hot path. */
struct tf_gherkin_id_gen {
    _Atomic guint64 next;
};

tf_gherkin_id_gen *tf_gherkin_id_gen_new(void)
{
    tf_gherkin_id_gen *g = g_new0(tf_gherkin_id_gen, 1);
    atomic_init(&g->next, 0);
    return g;
}

void tf_gherkin_id_gen_free(tf_gherkin_id_gen *g)
{
    g_free(g);
}

guint64 tf_gherkin_id_gen_next(tf_gherkin_id_gen *g)
{
    return atomic_fetch_add(&g->next, 1);
}

char *tf_gherkin_arena_id(tf_gherkin_arena *a, tf_gherkin_id_gen *ids)
{
    char buf[24], *p = buf + sizeof buf;
    guint64 v = tf_gherkin_id_gen_next(ids);
    do {
        *--p = '0' + v % 10;
        v /= 10;
    } while (v);
    return tf_gherkin_arena_strndup(a, p, buf + sizeof buf - p);
}

/* ---- builder ------------------------------------------------------------------------ */

/* A child of a node: a token (kind = its token type) or a finished rule (kind =
 * R_COUNT + rule type). */
typedef struct item {
    int kind;
    void *p;
    struct item *next;
} item;

typedef struct node {
    tf_gherkin_rule_type type;
    item *first, *last;
    struct node *parent;
    tf_gherkin_arena_mark mark; /* tmp as it was before this node was made */
} node;

typedef struct {
    const tf_gherkin_row *rows;
    guint n;
} rows;

typedef struct {
    tf_gherkin_document pub;
    tf_gherkin_arena arena;
} document;

struct tf_gherkin_builder {
    document *doc;
    tf_gherkin_arena *a;    /* the document's arena */
    tf_gherkin_arena tmp;   /* nodes, items, tokens: freed as each scenario is built */
    tf_gherkin_id_gen *ids;
    node *top;
    GArray *comments;
    GArray *scratch;        /* reused to collect children before copying to the arena */
    tf_gherkin_error_fn on_error;
    void *ctx;
    const tf_gherkin_document *result;
};

#define RK(r) (R_COUNT + (r))

tf_gherkin_builder *tf_gherkin_builder_new(const char *uri, tf_gherkin_id_gen *ids,
                                           tf_gherkin_error_fn on_error, void *ctx)
{
    tf_gherkin_builder *b = g_new0(tf_gherkin_builder, 1);
    b->doc = g_new0(document, 1);
    b->a = &b->doc->arena;
    b->doc->pub.uri = tf_gherkin_arena_strndup(b->a, uri ? uri : "", uri ? strlen(uri) : 0);
    b->ids = ids;
    b->comments = g_array_new(FALSE, FALSE, sizeof(tf_gherkin_comment));
    b->on_error = on_error;
    b->ctx = ctx;
    return b;
}

void tf_gherkin_builder_free(tf_gherkin_builder *b)
{
    if (!b)
        return;
    if (b->doc)
        tf_gherkin_document_free(&b->doc->pub);
    tf_gherkin_arena_clear(&b->tmp);
    g_array_free(b->comments, TRUE);
    if (b->scratch)
        g_array_free(b->scratch, TRUE);
    g_free(b);
}

static void add(tf_gherkin_builder *b, node *n, int kind, void *p)
{
    item *it = tf_gherkin_arena_alloc(&b->tmp, sizeof *it);
    it->kind = kind;
    it->p = p;
    it->next = NULL;
    if (n->last)
        n->last->next = it;
    else
        n->first = it;
    n->last = it;
}

void tf_gherkin_builder_start(tf_gherkin_builder *b, tf_gherkin_rule_type type)
{
    tf_gherkin_arena_mark mark = tf_gherkin_arena_get_mark(&b->tmp);
    node *n = tf_gherkin_arena_alloc(&b->tmp, sizeof *n);
    n->mark = mark;
    n->type = type;
    n->first = n->last = NULL;
    n->parent = b->top;
    b->top = n;
}

tf_gherkin_rule_type tf_gherkin_builder_top(const tf_gherkin_builder *b)
{
    return b->top ? b->top->type : R_NONE;
}

void tf_gherkin_builder_token(tf_gherkin_builder *b, const tf_gherkin_token *t)
{
    if (t->type == TK_COMMENT) {
        tf_gherkin_comment c = {t->location, tf_gherkin_arena_strndup(b->a, t->text, t->text_len)};
        g_array_append_val(b->comments, c);
        return;
    }
    if (t->type == TK_EMPTY || t->type == TK_EOF || !b->top)
        return; /* never read back */
    /* The lexer's strings and arrays live until the next line: copy what is kept. */
    tf_gherkin_token *copy = tf_gherkin_arena_memdup(&b->tmp, t, sizeof *t);
    if (t->text)
        copy->text = tf_gherkin_arena_strndup(&b->tmp, t->text, t->text_len);
    if (t->n_items) {
        tf_gherkin_item *items = tf_gherkin_arena_memdup(&b->tmp, t->items, t->n_items * sizeof *items);
        for (guint i = 0; i < t->n_items; i++)
            items[i].text = tf_gherkin_arena_strndup(&b->tmp, items[i].text, items[i].len);
        copy->items = items;
    }
    add(b, b->top, t->type, copy);
}

static void *single(const node *n, int kind)
{
    for (const item *it = n ? n->first : NULL; it; it = it->next)
        if (it->kind == kind)
            return it->p;
    return NULL;
}

static char *str(tf_gherkin_builder *b, const char *s, gsize len)
{
    return tf_gherkin_arena_strndup(b->a, s, len);
}

static const char *description(tf_gherkin_builder *b, const node *n)
{
    const char *d = single(n, RK(R_DESCRIPTION));
    return d ? d : "";
}

static const char *build_description(tf_gherkin_builder *b, const node *n)
{
    /* Other lines joined by \n, blank lines at the end dropped */
    const item *last = NULL;
    for (const item *it = n->first; it; it = it->next)
        if (it->kind == TK_OTHER && !((tf_gherkin_token *)it->p)->blank)
            last = it;
    if (!last)
        return "";
    GString *s = g_string_new(NULL);
    gboolean first = TRUE;
    for (const item *it = n->first; it; it = it->next) {
        if (it->kind != TK_OTHER)
            continue;
        const tf_gherkin_token *t = it->p;
        if (!first)
            g_string_append_c(s, '\n');
        first = FALSE;
        g_string_append_len(s, t->text, t->text_len);
        if (it == last)
            break;
    }
    char *r = str(b, s->str, s->len);
    g_string_free(s, TRUE);
    return r;
}

static void tags(tf_gherkin_builder *b, const node *n, const tf_gherkin_tag **out, guint *count)
{
    *out = NULL;
    *count = 0;
    const node *tn = single(n, RK(R_TAGS));
    if (!tn)
        return;
    guint total = 0;
    for (const item *it = tn->first; it; it = it->next)
        if (it->kind == TK_TAG_LINE)
            total += ((tf_gherkin_token *)it->p)->n_items;
    if (!total)
        return;
    tf_gherkin_tag *tg = tf_gherkin_arena_alloc(b->a, total * sizeof *tg);
    guint i = 0;
    for (const item *it = tn->first; it; it = it->next) {
        if (it->kind != TK_TAG_LINE)
            continue;
        const tf_gherkin_token *t = it->p;
        for (guint k = 0; k < t->n_items; k++, i++) {
            tg[i].location.line = t->location.line;
            tg[i].location.column = t->items[k].column;
            tg[i].name = str(b, t->items[k].text, t->items[k].len);
            tg[i].id = tf_gherkin_arena_id(b->a, b->ids);
        }
    }
    *out = tg;
    *count = total;
}

/* Copies the children of n of the given kind (pointers to structs of size sz) into an
 * arena array of structs. */
static void *collect(tf_gherkin_builder *b, const node *n, int kind, gsize sz, guint *count)
{
    guint c = 0;
    for (const item *it = n ? n->first : NULL; it; it = it->next)
        if (it->kind == kind && it->p)
            c++;
    *count = c;
    if (!c)
        return NULL;
    char *arr = tf_gherkin_arena_alloc(b->a, c * sz), *p = arr;
    for (const item *it = n->first; it; it = it->next)
        if (it->kind == kind && it->p) {
            memcpy(p, it->p, sz);
            p += sz;
        }
    return arr;
}

static rows *table_rows(tf_gherkin_builder *b, const node *n)
{
    guint c = 0;
    for (const item *it = n->first; it; it = it->next)
        if (it->kind == TK_TABLE_ROW)
            c++;
    rows *r = tf_gherkin_arena_alloc(&b->tmp, sizeof *r); /* read by the parent only */
    tf_gherkin_row *rw = c ? tf_gherkin_arena_alloc(b->a, c * sizeof *rw) : NULL;
    guint i = 0;
    for (const item *it = n->first; it; it = it->next) {
        if (it->kind != TK_TABLE_ROW)
            continue;
        const tf_gherkin_token *t = it->p;
        rw[i].id = tf_gherkin_arena_id(b->a, b->ids);
        rw[i].location = t->location;
        rw[i].n_cells = t->n_items;
        tf_gherkin_cell *cells = t->n_items ? tf_gherkin_arena_alloc(b->a, t->n_items * sizeof *cells) : NULL;
        for (guint k = 0; k < t->n_items; k++) {
            cells[k].location.line = t->location.line;
            cells[k].location.column = t->items[k].column;
            cells[k].value = str(b, t->items[k].text, t->items[k].len);
        }
        rw[i].cells = cells;
        i++;
    }
    for (guint k = 0; k < c; k++) {
        if (rw[k].n_cells != rw[0].n_cells) {
            b->on_error(b->ctx, rw[k].location, g_strdup("inconsistent cell count within the table"));
            return NULL;
        }
    }
    r->rows = rw;
    r->n = c;
    return r;
}

static tf_gherkin_token *token(const node *n, tf_gherkin_token_type type)
{
    return single(n, type);
}

static void set_title(tf_gherkin_builder *b, const tf_gherkin_token *t, tf_gherkin_location *loc,
                      const char **keyword, const char **name)
{
    *loc = t->location;
    *keyword = str(b, t->keyword, t->keyword_len);
    *name = str(b, t->text, t->text_len);
}

static void *transform(tf_gherkin_builder *b, node *n)
{
    switch (n->type) {
    case R_DESCRIPTION:
        return (void *)build_description(b, n);
    case R_DOC_STRING: {
        const tf_gherkin_token *sep = token(n, TK_DOC_STRING_SEPARATOR);
        if (!sep)
            return NULL;
        tf_gherkin_doc_string *d = tf_gherkin_arena_alloc(b->a, sizeof *d);
        d->location = sep->location;
        d->media_type = sep->text_len ? str(b, sep->text, sep->text_len) : NULL;
        d->delimiter = str(b, sep->keyword, sep->keyword_len);
        GString *s = g_string_new(NULL);
        gboolean first = TRUE;
        for (const item *it = n->first; it; it = it->next) {
            if (it->kind != TK_OTHER)
                continue;
            const tf_gherkin_token *t = it->p;
            if (!first)
                g_string_append_c(s, '\n');
            first = FALSE;
            g_string_append_len(s, t->text, t->text_len);
        }
        d->content = str(b, s->str, s->len);
        g_string_free(s, TRUE);
        return d;
    }
    case R_DATA_TABLE: {
        rows *r = table_rows(b, n);
        if (!r || !r->n)
            return NULL;
        tf_gherkin_data_table *dt = tf_gherkin_arena_alloc(b->a, sizeof *dt);
        dt->location = r->rows[0].location;
        dt->rows = r->rows;
        dt->n_rows = r->n;
        return dt;
    }
    case R_EXAMPLES_TABLE:
        return table_rows(b, n);
    case R_STEP: {
        const tf_gherkin_token *t = token(n, TK_STEP_LINE);
        if (!t)
            return NULL;
        tf_gherkin_step *s = tf_gherkin_arena_alloc(&b->tmp, sizeof *s); /* collect() copies it */
        s->location = t->location;
        s->keyword = str(b, t->keyword, t->keyword_len);
        s->keyword_type = t->keyword_type;
        s->text = str(b, t->text, t->text_len);
        s->data_table = single(n, RK(R_DATA_TABLE));
        s->doc_string = single(n, RK(R_DOC_STRING));
        s->id = tf_gherkin_arena_id(b->a, b->ids);
        return s;
    }
    case R_BACKGROUND: {
        const tf_gherkin_token *t = token(n, TK_BACKGROUND_LINE);
        if (!t)
            return NULL;
        tf_gherkin_background *bg = tf_gherkin_arena_alloc(b->a, sizeof *bg);
        set_title(b, t, &bg->location, &bg->keyword, &bg->name);
        bg->description = description(b, n);
        bg->steps = collect(b, n, RK(R_STEP), sizeof(tf_gherkin_step), &bg->n_steps);
        bg->id = tf_gherkin_arena_id(b->a, b->ids);
        return bg;
    }
    case R_SCENARIO_DEFINITION: {
        tf_gherkin_scenario *sc = tf_gherkin_arena_alloc(b->a, sizeof *sc);
        tags(b, n, &sc->tags, &sc->n_tags);
        const node *sn = single(n, RK(R_SCENARIO));
        const tf_gherkin_token *t = sn ? token(sn, TK_SCENARIO_LINE) : NULL;
        if (!t)
            return NULL;
        set_title(b, t, &sc->location, &sc->keyword, &sc->name);
        sc->description = description(b, sn);
        sc->steps = collect(b, sn, RK(R_STEP), sizeof(tf_gherkin_step), &sc->n_steps);
        sc->examples = collect(b, sn, RK(R_EXAMPLES_DEFINITION), sizeof(tf_gherkin_examples), &sc->n_examples);
        sc->id = tf_gherkin_arena_id(b->a, b->ids);
        return sc;
    }
    case R_EXAMPLES_DEFINITION: {
        tf_gherkin_examples *ex = tf_gherkin_arena_alloc(&b->tmp, sizeof *ex); /* collect() copies it */
        tags(b, n, &ex->tags, &ex->n_tags);
        const node *en = single(n, RK(R_EXAMPLES));
        const tf_gherkin_token *t = en ? token(en, TK_EXAMPLES_LINE) : NULL;
        if (!t)
            return NULL;
        set_title(b, t, &ex->location, &ex->keyword, &ex->name);
        ex->description = description(b, en);
        const rows *r = single(en, RK(R_EXAMPLES_TABLE));
        ex->id = tf_gherkin_arena_id(b->a, b->ids);
        if (r && r->n) {
            ex->table_header = &r->rows[0];
            ex->table_body = r->n > 1 ? &r->rows[1] : NULL;
            ex->n_table_body = r->n - 1;
        } else {
            ex->table_header = NULL;
            ex->table_body = NULL;
            ex->n_table_body = 0;
        }
        return ex;
    }
    case R_RULE: {
        const node *h = single(n, RK(R_RULE_HEADER));
        if (!h)
            return NULL;
        tf_gherkin_rule *r = tf_gherkin_arena_alloc(b->a, sizeof *r);
        tags(b, h, &r->tags, &r->n_tags);
        const tf_gherkin_token *t = token(h, TK_RULE_LINE);
        if (!t)
            return NULL;
        set_title(b, t, &r->location, &r->keyword, &r->name);
        guint c = 0;
        for (const item *it = n->first; it; it = it->next)
            if ((it->kind == RK(R_BACKGROUND) || it->kind == RK(R_SCENARIO_DEFINITION)) && it->p)
                c++;
        tf_gherkin_child *ch = c ? tf_gherkin_arena_alloc(b->a, c * sizeof *ch) : NULL;
        guint i = 0;
        const void *bg = single(n, RK(R_BACKGROUND));
        if (bg)
            ch[i++] = (tf_gherkin_child){bg, NULL, NULL};
        for (const item *it = n->first; it; it = it->next)
            if (it->kind == RK(R_SCENARIO_DEFINITION) && it->p)
                ch[i++] = (tf_gherkin_child){NULL, it->p, NULL};
        r->children = ch;
        r->n_children = i;
        r->description = description(b, h);
        r->id = tf_gherkin_arena_id(b->a, b->ids);
        return r;
    }
    case R_FEATURE: {
        const node *h = single(n, RK(R_FEATURE_HEADER));
        if (!h)
            return NULL;
        tf_gherkin_feature *f = tf_gherkin_arena_alloc(b->a, sizeof *f);
        tags(b, h, &f->tags, &f->n_tags);
        const tf_gherkin_token *t = token(h, TK_FEATURE_LINE);
        if (!t)
            return NULL;
        set_title(b, t, &f->location, &f->keyword, &f->name);
        guint c = 0;
        for (const item *it = n->first; it; it = it->next)
            if (it->kind > R_COUNT && it->kind != RK(R_FEATURE_HEADER) && it->p)
                c++;
        tf_gherkin_child *ch = c ? tf_gherkin_arena_alloc(b->a, c * sizeof *ch) : NULL;
        guint i = 0;
        const void *bg = single(n, RK(R_BACKGROUND));
        if (bg)
            ch[i++] = (tf_gherkin_child){bg, NULL, NULL};
        for (const item *it = n->first; it; it = it->next)
            if (it->kind == RK(R_SCENARIO_DEFINITION) && it->p)
                ch[i++] = (tf_gherkin_child){NULL, it->p, NULL};
        for (const item *it = n->first; it; it = it->next)
            if (it->kind == RK(R_RULE) && it->p)
                ch[i++] = (tf_gherkin_child){NULL, NULL, it->p};
        f->children = ch;
        f->n_children = i;
        f->description = description(b, h);
        f->language = str(b, t->language ? t->language : "en", strlen(t->language ? t->language : "en"));
        return f;
    }
    case R_DOCUMENT:
        b->result = &b->doc->pub;
        b->doc->pub.feature = single(n, RK(R_FEATURE));
        return &b->doc->pub;
    default:
        return n; /* headers, Scenario, Examples, Tags: read by their parent */
    }
}

static void end_rule(tf_gherkin_builder *b)
{
    node *n = b->top;
    tf_gherkin_rule_type type = n->type;
    b->top = n->parent;
    void *r = transform(b, n);
    /* A scenario or background is now wholly in the document: its nodes (n too), tokens
     * and copies go, so the builder holds one scenario at a time, not the whole file. */
    if (type == R_SCENARIO_DEFINITION || type == R_BACKGROUND)
        tf_gherkin_arena_release(&b->tmp, n->mark);
    /* A failed transform (e.g. ragged table) leaves the node out, as upstream does. */
    if (b->top && r)
        add(b, b->top, RK(type), r);
}

void tf_gherkin_builder_end_to(tf_gherkin_builder *b, guint mask)
{
    while (b->top && !(mask & (1u << b->top->type)))
        end_rule(b);
}

tf_gherkin_document *tf_gherkin_builder_finish(tf_gherkin_builder *b)
{
    while (b->top)
        end_rule(b);
    document *d = b->doc;
    d->pub.n_comments = b->comments->len;
    d->pub.comments = tf_gherkin_arena_memdup(b->a, b->comments->data,
                                              b->comments->len * sizeof(tf_gherkin_comment));
    b->doc = NULL;
    tf_gherkin_builder_free(b);
    return &d->pub;
}

void tf_gherkin_document_free(tf_gherkin_document *doc)
{
    if (!doc)
        return;
    document *d = (document *)doc;
    tf_gherkin_arena_clear(&d->arena);
    g_free(d);
}
