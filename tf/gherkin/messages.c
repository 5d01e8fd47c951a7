/* messages.c: Cucumber Messages for the source, GherkinDocument, pickle and parseError
 * envelopes, with the exact field names and omissions of the official implementation.
 * Each envelope is written once, as compact JSON text with its keys in sorted order,
 * straight from the AST: a document's envelope is streamed to a FILE through a small
 * buffer, never held whole (a jansson tree of a 50 MB feature took gigabytes). The
 * json_t forms the runner uses are that same text, loaded back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "gherkin/gherkin_priv.h"

/* ---- writer ----------------------------------------------------------------------- */

#define JW_BUFFER (64 * 1024)

typedef struct {
    char *buf;
    gsize len, cap;
    FILE *out;       /* flushed here when the buffer fills; NULL: the buffer grows */
    gboolean failed; /* a write to out failed (errno kept) */
} jw;

static void jw_init(jw *w, FILE *out)
{
    w->cap = JW_BUFFER;
    w->buf = g_malloc(w->cap);
    w->len = 0;
    w->out = out;
    w->failed = FALSE;
}

static void jw_flush(jw *w)
{
    if (w->out && w->len && !w->failed && fwrite(w->buf, 1, w->len, w->out) != w->len)
        w->failed = TRUE;
    w->len = 0;
}

/* Appends when the buffer is full: flushes it (or grows it, in memory). */
static G_GNUC_NO_INLINE void jw_raw_slow(jw *w, const char *s, gsize n)
{
    if (w->out) {
        jw_flush(w);
        if (n >= w->cap) { /* a long run (source data) goes straight out */
            if (!w->failed && fwrite(s, 1, n, w->out) != n)
                w->failed = TRUE;
            return;
        }
    } else {
        while (w->cap - w->len < n)
            w->cap *= 2;
        w->buf = g_realloc(w->buf, w->cap);
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* Inline: most appends are a few constant bytes that fit. */
static inline void jw_raw(jw *w, const char *s, gsize n)
{
    if (G_LIKELY(w->cap - w->len >= n)) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    } else {
        jw_raw_slow(w, s, n);
    }
}

/* A string literal (sizeof: literals only, never a pointer). */
#define LIT(w, s) jw_raw((w), "" s, sizeof s - 1)

/* The separator before the i-th member of an array or object. */
static inline void comma(jw *w, guint i)
{
    if (i)
        LIT(w, ",");
}

static void jw_uint(jw *w, guint64 v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jw_raw(w, p, tmp + sizeof tmp - p);
}

/* Bytes that JSON (as jansson writes it) escapes: controls (NUL too, which also ends a
 * C string), '"' and '\\'. */
static const unsigned char needs_escape[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* One escaped byte, as jansson's dump writes it (\u00XX upper case). */
static void jw_escape(jw *w, unsigned char c)
{
    switch (c) {
    case '"': LIT(w, "\\\""); break;
    case '\\': LIT(w, "\\\\"); break;
    case '\b': LIT(w, "\\b"); break;
    case '\f': LIT(w, "\\f"); break;
    case '\n': LIT(w, "\\n"); break;
    case '\r': LIT(w, "\\r"); break;
    case '\t': LIT(w, "\\t"); break;
    default: {
        static const char hex[] = "0123456789ABCDEF";
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        jw_raw(w, u, 6);
    }
    }
}

/* A quoted JSON string of s[0..n), which must be valid UTF-8. */
static void jw_strn(jw *w, const char *s, gsize n)
{
    LIT(w, "\"");
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    for (;;) {
        const unsigned char *q = p;
        while (q < end && !needs_escape[*q])
            q++;
        jw_raw(w, (const char *)p, q - p);
        if (q == end)
            break;
        jw_escape(w, *q);
        p = q + 1;
    }
    LIT(w, "\"");
}

/* A quoted JSON string of the C string s (NULL: ""), valid UTF-8 as every string of a
 * document and its pickles is (the parser reads its input as UTF-8): one pass finds the
 * end and what to escape. */
static void jw_str(jw *w, const char *s)
{
    LIT(w, "\"");
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (;;) {
        const unsigned char *q = p;
        while (!needs_escape[*q])
            q++;
        jw_raw(w, (const char *)p, q - p);
        if (!*q)
            break;
        jw_escape(w, *q);
        p = q + 1;
    }
    LIT(w, "\"");
}

/* jw_strn for text from outside (a uri, a source): invalid UTF-8 is written with
 * U+FFFD in its place, so the output is always valid JSON. */
static void jw_text(jw *w, const char *s, gsize n)
{
    gsize ascii = tf_gherkin_ascii_prefix(s, n);
    if (ascii < n && !g_utf8_validate(s + ascii, n - ascii, NULL)) {
        char *valid = g_utf8_make_valid(s, n);
        jw_strn(w, valid, strlen(valid));
        g_free(valid);
        return;
    }
    jw_strn(w, s, n);
}

static void jw_uri(jw *w, const char *uri)
{
    jw_text(w, uri ? uri : "", uri ? strlen(uri) : 0);
}

/* ---- GherkinDocument (keys of every object in sorted order) ------------------------ */

static void loc(jw *w, tf_gherkin_location l)
{
    if (l.column) {
        LIT(w, "{\"column\":");
        jw_uint(w, l.column);
        LIT(w, ",\"line\":");
    } else {
        LIT(w, "{\"line\":");
    }
    jw_uint(w, l.line);
    LIT(w, "}");
}

static void tags(jw *w, const tf_gherkin_tag *t, guint n)
{
    LIT(w, "[");
    for (guint i = 0; i < n; i++) {
        comma(w, i);
        LIT(w, "{\"id\":");
        jw_str(w, t[i].id);
        LIT(w, ",\"location\":");
        loc(w, t[i].location);
        LIT(w, ",\"name\":");
        jw_str(w, t[i].name);
        LIT(w, "}");
    }
    LIT(w, "]");
}

static void row(jw *w, const tf_gherkin_row *r)
{
    LIT(w, "{\"cells\":[");
    for (guint i = 0; i < r->n_cells; i++) {
        comma(w, i);
        LIT(w, "{\"location\":");
        loc(w, r->cells[i].location);
        LIT(w, ",\"value\":");
        jw_str(w, r->cells[i].value);
        LIT(w, "}");
    }
    LIT(w, "],\"id\":");
    jw_str(w, r->id);
    LIT(w, ",\"location\":");
    loc(w, r->location);
    LIT(w, "}");
}

static void rows(jw *w, const tf_gherkin_row *r, guint n)
{
    LIT(w, "[");
    for (guint i = 0; i < n; i++) {
        if (i)
            LIT(w, ",");
        row(w, &r[i]);
    }
    LIT(w, "]");
}

static const char *const keyword_types[] = {"Unknown", "Context", "Action", "Outcome", "Conjunction"};

static void steps(jw *w, const tf_gherkin_step *st, guint n)
{
    LIT(w, "[");
    for (guint i = 0; i < n; i++) {
        const tf_gherkin_step *x = &st[i];
        comma(w, i);
        LIT(w, "{");
        if (x->data_table) {
            LIT(w, "\"dataTable\":{\"location\":");
            loc(w, x->data_table->location);
            LIT(w, ",\"rows\":");
            rows(w, x->data_table->rows, x->data_table->n_rows);
            LIT(w, "},");
        }
        if (x->doc_string) {
            LIT(w, "\"docString\":{\"content\":");
            jw_str(w, x->doc_string->content);
            LIT(w, ",\"delimiter\":");
            jw_str(w, x->doc_string->delimiter);
            LIT(w, ",\"location\":");
            loc(w, x->doc_string->location);
            if (x->doc_string->media_type) {
                LIT(w, ",\"mediaType\":");
                jw_str(w, x->doc_string->media_type);
            }
            LIT(w, "},");
        }
        LIT(w, "\"id\":");
        jw_str(w, x->id);
        LIT(w, ",\"keyword\":");
        jw_str(w, x->keyword);
        LIT(w, ",\"keywordType\":");
        jw_str(w, keyword_types[x->keyword_type]);
        LIT(w, ",\"location\":");
        loc(w, x->location);
        LIT(w, ",\"text\":");
        jw_str(w, x->text);
        LIT(w, "}");
    }
    LIT(w, "]");
}

/* "description":..,"id":..,"keyword":..,"location":..,"name":.. shared by most nodes */
static void titled(jw *w, const char *description, const char *id, const char *keyword,
                   tf_gherkin_location l, const char *name)
{
    LIT(w, "\"description\":");
    jw_str(w, description);
    LIT(w, ",\"id\":");
    jw_str(w, id);
    LIT(w, ",\"keyword\":");
    jw_str(w, keyword);
    LIT(w, ",\"location\":");
    loc(w, l);
    LIT(w, ",\"name\":");
    jw_str(w, name);
}

static void background(jw *w, const tf_gherkin_background *b)
{
    LIT(w, "{");
    titled(w, b->description, b->id, b->keyword, b->location, b->name);
    LIT(w, ",\"steps\":");
    steps(w, b->steps, b->n_steps);
    LIT(w, "}");
}

static void scenario(jw *w, const tf_gherkin_scenario *sc)
{
    LIT(w, "{\"description\":");
    jw_str(w, sc->description);
    LIT(w, ",\"examples\":[");
    for (guint i = 0; i < sc->n_examples; i++) {
        const tf_gherkin_examples *e = &sc->examples[i];
        comma(w, i);
        LIT(w, "{");
        titled(w, e->description, e->id, e->keyword, e->location, e->name);
        LIT(w, ",\"tableBody\":");
        rows(w, e->table_body, e->n_table_body);
        if (e->table_header) {
            LIT(w, ",\"tableHeader\":");
            row(w, e->table_header);
        }
        LIT(w, ",\"tags\":");
        tags(w, e->tags, e->n_tags);
        LIT(w, "}");
    }
    LIT(w, "],\"id\":");
    jw_str(w, sc->id);
    LIT(w, ",\"keyword\":");
    jw_str(w, sc->keyword);
    LIT(w, ",\"location\":");
    loc(w, sc->location);
    LIT(w, ",\"name\":");
    jw_str(w, sc->name);
    LIT(w, ",\"steps\":");
    steps(w, sc->steps, sc->n_steps);
    LIT(w, ",\"tags\":");
    tags(w, sc->tags, sc->n_tags);
    LIT(w, "}");
}

static void children(jw *w, const tf_gherkin_child *ch, guint n)
{
    LIT(w, "[");
    for (guint i = 0; i < n; i++) {
        if (i)
            LIT(w, ",");
        if (ch[i].background) {
            LIT(w, "{\"background\":");
            background(w, ch[i].background);
        } else if (ch[i].scenario) {
            LIT(w, "{\"scenario\":");
            scenario(w, ch[i].scenario);
        } else {
            const tf_gherkin_rule *r = ch[i].rule;
            LIT(w, "{\"rule\":{\"children\":");
            children(w, r->children, r->n_children);
            LIT(w, ",");
            titled(w, r->description, r->id, r->keyword, r->location, r->name);
            LIT(w, ",\"tags\":");
            tags(w, r->tags, r->n_tags);
            LIT(w, "}");
        }
        LIT(w, "}");
        /* one child at a time: what is written goes out before the next is */
        if (w->out && w->len >= w->cap / 2)
            jw_flush(w);
    }
    LIT(w, "]");
}

static void document(jw *w, const tf_gherkin_document *doc)
{
    LIT(w, "{\"gherkinDocument\":{\"comments\":[");
    for (guint i = 0; i < doc->n_comments; i++) {
        comma(w, i);
        LIT(w, "{\"location\":");
        loc(w, doc->comments[i].location);
        LIT(w, ",\"text\":");
        jw_str(w, doc->comments[i].text);
        LIT(w, "}");
    }
    LIT(w, "]");
    const tf_gherkin_feature *f = doc->feature;
    if (f) {
        LIT(w, ",\"feature\":{\"children\":");
        children(w, f->children, f->n_children);
        LIT(w, ",\"description\":");
        jw_str(w, f->description);
        LIT(w, ",\"keyword\":");
        jw_str(w, f->keyword);
        LIT(w, ",\"language\":");
        jw_str(w, f->language);
        LIT(w, ",\"location\":");
        loc(w, f->location);
        LIT(w, ",\"name\":");
        jw_str(w, f->name);
        LIT(w, ",\"tags\":");
        tags(w, f->tags, f->n_tags);
        LIT(w, "}");
    }
    LIT(w, ",\"uri\":");
    jw_uri(w, doc->uri);
    LIT(w, "}}");
}

/* ---- pickle, source, parseError ----------------------------------------------------- */

static const char *const step_types[] = {"Unknown", "Context", "Action", "Outcome"};

static void ids(jw *w, const char *const *v, guint n)
{
    LIT(w, "[");
    for (guint k = 0; k < n; k++) {
        if (k)
            LIT(w, ",");
        jw_str(w, v[k]);
    }
    LIT(w, "]");
}

static void pickle_argument(jw *w, const tf_gherkin_pickle_step *x)
{
    LIT(w, "\"argument\":{");
    if (x->has_data_table) {
        LIT(w, "\"dataTable\":{");
        if (x->data_table_index) {
            LIT(w, "\"argumentIndex\":");
            jw_uint(w, x->data_table_index);
            LIT(w, ",");
        }
        LIT(w, "\"rows\":[");
        for (guint r = 0; r < x->n_rows; r++) {
            comma(w, r);
            LIT(w, "{\"cells\":[");
            for (guint c = 0; c < x->rows[r].n_cells; c++) {
                comma(w, c);
                LIT(w, "{\"value\":");
                jw_str(w, x->rows[r].cells[c]);
                LIT(w, "}");
            }
            LIT(w, "]}");
        }
        LIT(w, "]}");
        if (x->doc_string)
            LIT(w, ",");
    }
    if (x->doc_string) {
        LIT(w, "\"docString\":{");
        if (x->doc_string_index) {
            LIT(w, "\"argumentIndex\":");
            jw_uint(w, x->doc_string_index);
            LIT(w, ",");
        }
        LIT(w, "\"content\":");
        jw_str(w, x->doc_string);
        if (x->doc_string_media_type) {
            LIT(w, ",\"mediaType\":");
            jw_str(w, x->doc_string_media_type);
        }
        LIT(w, "}");
    }
    LIT(w, "},");
}

static void pickle(jw *w, const tf_gherkin_pickle *p)
{
    LIT(w, "{\"pickle\":{\"astNodeIds\":");
    ids(w, p->ast_node_ids, p->n_ast_node_ids);
    LIT(w, ",\"id\":");
    jw_str(w, p->id);
    LIT(w, ",\"language\":");
    jw_str(w, p->language);
    LIT(w, ",\"location\":");
    loc(w, p->location);
    LIT(w, ",\"name\":");
    jw_str(w, p->name);
    LIT(w, ",\"steps\":[");
    for (guint i = 0; i < p->n_steps; i++) {
        const tf_gherkin_pickle_step *x = &p->steps[i];
        comma(w, i);
        LIT(w, "{");
        if (x->has_data_table || x->doc_string)
            pickle_argument(w, x);
        LIT(w, "\"astNodeIds\":");
        ids(w, x->ast_node_ids, x->n_ast_node_ids);
        LIT(w, ",\"id\":");
        jw_str(w, x->id);
        LIT(w, ",\"text\":");
        jw_str(w, x->text);
        LIT(w, ",\"type\":");
        jw_str(w, step_types[x->type]);
        LIT(w, "}");
    }
    LIT(w, "],\"tags\":[");
    for (guint i = 0; i < p->n_tags; i++) {
        comma(w, i);
        LIT(w, "{\"astNodeId\":");
        jw_str(w, p->tags[i].ast_node_id);
        LIT(w, ",\"name\":");
        jw_str(w, p->tags[i].name);
        LIT(w, "}");
    }
    LIT(w, "],\"uri\":");
    jw_uri(w, p->uri);
    LIT(w, "}}");
}

static void source(jw *w, const char *uri, const char *data, gsize len)
{
    LIT(w, "{\"source\":{\"data\":");
    jw_text(w, data, len);
    LIT(w, ",\"mediaType\":\"text/x.cucumber.gherkin+plain\",\"uri\":");
    jw_uri(w, uri);
    LIT(w, "}}");
}

static void parse_error(jw *w, const tf_gherkin_error *e)
{
    char *msg = tf_gherkin_error_message(e);
    LIT(w, "{\"parseError\":{\"message\":");
    jw_uri(w, msg);
    LIT(w, ",\"source\":{\"location\":");
    loc(w, e->location);
    LIT(w, ",\"uri\":");
    jw_uri(w, e->uri);
    LIT(w, "}}}");
    g_free(msg);
}

/* ---- the two ways out: a line on a FILE, or a json_t ---------------------------------- */

typedef enum { E_SOURCE, E_DOCUMENT, E_PICKLE, E_ERROR } envelope_kind;

typedef struct {
    envelope_kind kind;
    const void *p;
    const char *uri, *data; /* source only */
    gsize len;
} envelope;

static void write_envelope(jw *w, const envelope *e)
{
    switch (e->kind) {
    case E_SOURCE: source(w, e->uri, e->data, e->len); break;
    case E_DOCUMENT: document(w, e->p); break;
    case E_PICKLE: pickle(w, e->p); break;
    case E_ERROR: parse_error(w, e->p); break;
    }
}

static gboolean to_file(const envelope *e, FILE *out)
{
    jw w;
    jw_init(&w, out);
    write_envelope(&w, e);
    LIT(&w, "\n");
    jw_flush(&w);
    gboolean ok = !w.failed;
    int saved = errno;
    g_free(w.buf);
    errno = saved;
    return ok;
}

static json_t *to_json(const envelope *e)
{
    jw w;
    jw_init(&w, NULL);
    write_envelope(&w, e);
    json_error_t err;
    json_t *j = json_loadb(w.buf, w.len, JSON_ALLOW_NUL, &err);
    g_assert(j); /* the writer writes valid JSON of valid UTF-8 */
    g_free(w.buf);
    return j;
}

static envelope source_env(const char *uri, const char *data, gssize len)
{
    return (envelope){E_SOURCE, NULL, uri, data, len < 0 ? strlen(data) : (gsize)len};
}

json_t *tf_gherkin_source_envelope(const char *uri, const char *data, gssize len)
{
    envelope e = source_env(uri, data, len);
    return to_json(&e);
}

json_t *tf_gherkin_document_envelope(const tf_gherkin_document *doc)
{
    return to_json(&(envelope){E_DOCUMENT, doc, NULL, NULL, 0});
}

json_t *tf_gherkin_pickle_envelope(const tf_gherkin_pickle *p)
{
    return to_json(&(envelope){E_PICKLE, p, NULL, NULL, 0});
}

json_t *tf_gherkin_error_envelope(const tf_gherkin_error *e)
{
    return to_json(&(envelope){E_ERROR, e, NULL, NULL, 0});
}

gboolean tf_gherkin_source_write(const char *uri, const char *data, gssize len, FILE *out)
{
    envelope e = source_env(uri, data, len);
    return to_file(&e, out);
}

gboolean tf_gherkin_document_write(const tf_gherkin_document *doc, FILE *out)
{
    return to_file(&(envelope){E_DOCUMENT, doc, NULL, NULL, 0}, out);
}

gboolean tf_gherkin_pickle_write(const tf_gherkin_pickle *p, FILE *out)
{
    return to_file(&(envelope){E_PICKLE, p, NULL, NULL, 0}, out);
}

gboolean tf_gherkin_error_write(const tf_gherkin_error *e, FILE *out)
{
    return to_file(&(envelope){E_ERROR, e, NULL, NULL, 0}, out);
}
