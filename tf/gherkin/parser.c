/* parser.c: the Gherkin grammar as a table-driven state machine, equivalent to the
 * official (berp-generated) parser: same states, same order of alternatives, same
 * lookaheads for ambiguous tag lines, and the same recovery (an unexpected line is
 * reported and skipped, the state kept) so every error of a file is reported. */
#include <string.h>
#include "gherkin/lexer.h"
#include "tf/error.h"

typedef enum {
    S_START, S_LANG, S_FTAGS, S_FHEAD, S_FDESC,
    S_RTAGS, S_RHEAD, S_RDESC,
    S_BGHEAD, S_BGDESC,
    S_STAGS, S_SHEAD, S_SDESC,
    S_ETAGS, S_EHEAD, S_EDESC, S_EROWS,
    /* a step and its arguments, in a background (B) or a scenario (S): a data table
     * may be followed by a doc string and a doc string by a data table */
    S_BSTEP, S_BTABLE, S_BDOC, S_BDOC_END, S_BTABLE2, S_BDOC2, S_BDOC2_END,
    S_SSTEP, S_STABLE, S_SDOC, S_SDOC_END, S_STABLE2, S_SDOC2, S_SDOC2_END,
    S_END, S_COUNT
} state;

typedef enum {
    A_STAY, A_EOF, A_LANG, A_FTAGS, A_FEATURE, A_DESC, A_BACKGROUND, A_STAGS, A_RTAGS,
    A_SCENARIO, A_RULE, A_STEP, A_ETAGS, A_EXAMPLES, A_EROWS, A_TABLE, A_DOC, A_DOC_CLOSE,
} action;

enum { LA_NONE, LA_SCENARIO, LA_EXAMPLES };

typedef struct {
    unsigned char tok, la, act;
} alt;

#define END_ALT {TK_NONE, 0, 0}
#define IGNORED {TK_COMMENT, 0, A_STAY}, {TK_EMPTY, 0, A_STAY}
/* what may follow the steps of a background, and of a scenario */
#define TAIL_B {TK_TAG_LINE, LA_SCENARIO, A_STAGS}, {TK_TAG_LINE, 0, A_RTAGS}, \
    {TK_SCENARIO_LINE, 0, A_SCENARIO}, {TK_RULE_LINE, 0, A_RULE}
#define TAIL_S {TK_TAG_LINE, LA_EXAMPLES, A_ETAGS}, {TK_TAG_LINE, LA_SCENARIO, A_STAGS}, \
    {TK_TAG_LINE, 0, A_RTAGS}, {TK_EXAMPLES_LINE, 0, A_EXAMPLES}, \
    {TK_SCENARIO_LINE, 0, A_SCENARIO}, {TK_RULE_LINE, 0, A_RULE}
#define TAIL_E {TK_TAG_LINE, LA_EXAMPLES, A_ETAGS}, {TK_TAG_LINE, LA_SCENARIO, A_STAGS}, \
    {TK_TAG_LINE, 0, A_RTAGS}, {TK_EXAMPLES_LINE, 0, A_EXAMPLES}, \
    {TK_SCENARIO_LINE, 0, A_SCENARIO}, {TK_RULE_LINE, 0, A_RULE}
#define TAIL_H {TK_BACKGROUND_LINE, 0, A_BACKGROUND}, TAIL_B
#define EOF_ALT {TK_EOF, 0, A_EOF}
#define STEP_ALT {TK_STEP_LINE, 0, A_STEP}

static const alt *const table[S_COUNT] = {
    [S_START] = (const alt[]){EOF_ALT, {TK_LANGUAGE, 0, A_LANG}, {TK_TAG_LINE, 0, A_FTAGS},
                              {TK_FEATURE_LINE, 0, A_FEATURE}, IGNORED, END_ALT},
    [S_LANG] = (const alt[]){{TK_TAG_LINE, 0, A_FTAGS}, {TK_FEATURE_LINE, 0, A_FEATURE}, IGNORED, END_ALT},
    [S_FTAGS] = (const alt[]){{TK_TAG_LINE, 0, A_STAY}, {TK_FEATURE_LINE, 0, A_FEATURE}, IGNORED, END_ALT},
    [S_FHEAD] = (const alt[]){EOF_ALT, {TK_EMPTY, 0, A_STAY}, {TK_COMMENT, 0, A_DESC}, TAIL_H,
                              {TK_OTHER, 0, A_DESC}, END_ALT},
    [S_FDESC] = (const alt[]){EOF_ALT, {TK_COMMENT, 0, A_STAY}, TAIL_H, {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_RTAGS] = (const alt[]){{TK_TAG_LINE, 0, A_STAY}, {TK_RULE_LINE, 0, A_RULE}, IGNORED, END_ALT},
    [S_RHEAD] = (const alt[]){EOF_ALT, {TK_EMPTY, 0, A_STAY}, {TK_COMMENT, 0, A_DESC}, TAIL_H,
                              {TK_OTHER, 0, A_DESC}, END_ALT},
    [S_RDESC] = (const alt[]){EOF_ALT, {TK_COMMENT, 0, A_STAY}, TAIL_H, {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_BGHEAD] = (const alt[]){EOF_ALT, {TK_EMPTY, 0, A_STAY}, {TK_COMMENT, 0, A_DESC}, STEP_ALT, TAIL_B,
                               {TK_OTHER, 0, A_DESC}, END_ALT},
    [S_BGDESC] = (const alt[]){EOF_ALT, {TK_COMMENT, 0, A_STAY}, STEP_ALT, TAIL_B, {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_STAGS] = (const alt[]){{TK_TAG_LINE, 0, A_STAY}, {TK_SCENARIO_LINE, 0, A_SCENARIO}, IGNORED, END_ALT},
    [S_SHEAD] = (const alt[]){EOF_ALT, {TK_EMPTY, 0, A_STAY}, {TK_COMMENT, 0, A_DESC}, STEP_ALT, TAIL_S,
                              {TK_OTHER, 0, A_DESC}, END_ALT},
    [S_SDESC] = (const alt[]){EOF_ALT, {TK_COMMENT, 0, A_STAY}, STEP_ALT, TAIL_S, {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_ETAGS] = (const alt[]){{TK_TAG_LINE, 0, A_STAY}, {TK_EXAMPLES_LINE, 0, A_EXAMPLES}, IGNORED, END_ALT},
    [S_EHEAD] = (const alt[]){EOF_ALT, {TK_EMPTY, 0, A_STAY}, {TK_COMMENT, 0, A_DESC},
                              {TK_TABLE_ROW, 0, A_EROWS}, TAIL_E, {TK_OTHER, 0, A_DESC}, END_ALT},
    [S_EDESC] = (const alt[]){EOF_ALT, {TK_COMMENT, 0, A_STAY}, {TK_TABLE_ROW, 0, A_EROWS}, TAIL_E,
                              {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_EROWS] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_STAY}, TAIL_E, IGNORED, END_ALT},

    [S_BSTEP] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_TABLE}, {TK_DOC_STRING_SEPARATOR, 0, A_DOC},
                              STEP_ALT, TAIL_B, IGNORED, END_ALT},
    [S_BTABLE] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_STAY}, {TK_DOC_STRING_SEPARATOR, 0, A_DOC},
                               STEP_ALT, TAIL_B, IGNORED, END_ALT},
    [S_BDOC] = (const alt[]){{TK_DOC_STRING_SEPARATOR, 0, A_DOC_CLOSE}, {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_BDOC_END] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_TABLE}, STEP_ALT, TAIL_B, IGNORED, END_ALT},
    [S_BTABLE2] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_STAY}, STEP_ALT, TAIL_B, IGNORED, END_ALT},
    [S_BDOC2] = (const alt[]){{TK_DOC_STRING_SEPARATOR, 0, A_DOC_CLOSE}, {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_BDOC2_END] = (const alt[]){EOF_ALT, STEP_ALT, TAIL_B, IGNORED, END_ALT},

    [S_SSTEP] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_TABLE}, {TK_DOC_STRING_SEPARATOR, 0, A_DOC},
                              STEP_ALT, TAIL_S, IGNORED, END_ALT},
    [S_STABLE] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_STAY}, {TK_DOC_STRING_SEPARATOR, 0, A_DOC},
                               STEP_ALT, TAIL_S, IGNORED, END_ALT},
    [S_SDOC] = (const alt[]){{TK_DOC_STRING_SEPARATOR, 0, A_DOC_CLOSE}, {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_SDOC_END] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_TABLE}, STEP_ALT, TAIL_S, IGNORED, END_ALT},
    [S_STABLE2] = (const alt[]){EOF_ALT, {TK_TABLE_ROW, 0, A_STAY}, STEP_ALT, TAIL_S, IGNORED, END_ALT},
    [S_SDOC2] = (const alt[]){{TK_DOC_STRING_SEPARATOR, 0, A_DOC_CLOSE}, {TK_OTHER, 0, A_STAY}, END_ALT},
    [S_SDOC2_END] = (const alt[]){EOF_ALT, STEP_ALT, TAIL_S, IGNORED, END_ALT},
    [S_END] = (const alt[]){END_ALT},
};

static const char *const token_names[TK_COUNT] = {
    [TK_EOF] = "#EOF", [TK_EMPTY] = "#Empty", [TK_COMMENT] = "#Comment",
    [TK_TAG_LINE] = "#TagLine", [TK_FEATURE_LINE] = "#FeatureLine", [TK_RULE_LINE] = "#RuleLine",
    [TK_BACKGROUND_LINE] = "#BackgroundLine", [TK_SCENARIO_LINE] = "#ScenarioLine",
    [TK_EXAMPLES_LINE] = "#ExamplesLine", [TK_STEP_LINE] = "#StepLine",
    [TK_DOC_STRING_SEPARATOR] = "#DocStringSeparator", [TK_TABLE_ROW] = "#TableRow",
    [TK_LANGUAGE] = "#Language", [TK_OTHER] = "#Other",
};

/* The official parser gives up after this many errors (it throws at the 11th). */
#define MAX_ERRORS 10

typedef struct {
    tf_gherkin_lexer lx;
    tf_gherkin_builder *b;
    const char *uri;
    GPtrArray *errors;
    gboolean aborted;
} parser;

static void add_error(parser *p, tf_gherkin_location loc, char *message)
{
    if (p->aborted) {
        g_free(message);
        return;
    }
    /* identical errors (same place, same text) are reported once, as upstream does */
    for (guint i = 0; i < p->errors->len; i++) {
        tf_gherkin_error *e = p->errors->pdata[i];
        if (e->location.line == loc.line && e->location.column == loc.column &&
            strcmp(e->message, message) == 0) {
            g_free(message);
            return;
        }
    }
    tf_gherkin_error *e = g_new0(tf_gherkin_error, 1);
    e->uri = g_strdup(p->uri);
    e->location = loc;
    e->message = message;
    g_ptr_array_add(p->errors, e);
    if (p->errors->len > MAX_ERRORS)
        p->aborted = TRUE;
}

static void builder_error(void *ctx, tf_gherkin_location loc, char *message)
{
    add_error(ctx, loc, message);
}

static gboolean match(parser *p, guint lineno, tf_gherkin_token_type type, tf_gherkin_token *t)
{
    tf_gherkin_lexer_error err = {{0, 0}, NULL};
    gboolean ok = tf_gherkin_lexer_match(&p->lx, lineno, type, t, &err);
    if (err.message)
        add_error(p, err.location, err.message);
    return ok;
}

/* Is the next line that is not blank, a comment or tags a line of type want? */
static gboolean lookahead(parser *p, guint lineno, tf_gherkin_token_type want)
{
    tf_gherkin_token t;
    for (guint i = lineno + 1;; i++) {
        if (match(p, i, want, &t))
            return TRUE;
        if (!(match(p, i, TK_EMPTY, &t) || match(p, i, TK_COMMENT, &t) || match(p, i, TK_TAG_LINE, &t)))
            return FALSE;
    }
}

#define M(t) (1u << (t))

static state desc_state(state s)
{
    switch (s) {
    case S_FHEAD: return S_FDESC;
    case S_RHEAD: return S_RDESC;
    case S_BGHEAD: return S_BGDESC;
    case S_SHEAD: return S_SDESC;
    default: return S_EDESC;
    }
}

static gboolean in_scenario_steps(state s)
{
    return s >= S_SSTEP && s <= S_SDOC2_END;
}

/* Runs the builder side of a transition and returns the next state. */
static state act(parser *p, state s, action a)
{
    tf_gherkin_builder *b = p->b;
    switch (a) {
    case A_STAY:
        return s;
    case A_EOF:
        tf_gherkin_builder_end_to(b, M(R_DOCUMENT));
        return S_END;
    case A_LANG:
        tf_gherkin_builder_start(b, R_FEATURE);
        tf_gherkin_builder_start(b, R_FEATURE_HEADER);
        return S_LANG;
    case A_FTAGS:
        if (s == S_START) {
            tf_gherkin_builder_start(b, R_FEATURE);
            tf_gherkin_builder_start(b, R_FEATURE_HEADER);
        }
        tf_gherkin_builder_start(b, R_TAGS);
        return S_FTAGS;
    case A_FEATURE:
        if (s == S_START) {
            tf_gherkin_builder_start(b, R_FEATURE);
            tf_gherkin_builder_start(b, R_FEATURE_HEADER);
        } else if (s == S_FTAGS) {
            tf_gherkin_builder_end_to(b, M(R_FEATURE_HEADER));
        }
        return S_FHEAD;
    case A_DESC:
        tf_gherkin_builder_start(b, R_DESCRIPTION);
        return desc_state(s);
    case A_BACKGROUND:
        tf_gherkin_builder_end_to(b, M(R_FEATURE) | M(R_RULE));
        tf_gherkin_builder_start(b, R_BACKGROUND);
        return S_BGHEAD;
    case A_STAGS:
        tf_gherkin_builder_end_to(b, M(R_FEATURE) | M(R_RULE));
        tf_gherkin_builder_start(b, R_SCENARIO_DEFINITION);
        tf_gherkin_builder_start(b, R_TAGS);
        return S_STAGS;
    case A_RTAGS:
        tf_gherkin_builder_end_to(b, M(R_FEATURE));
        tf_gherkin_builder_start(b, R_RULE);
        tf_gherkin_builder_start(b, R_RULE_HEADER);
        tf_gherkin_builder_start(b, R_TAGS);
        return S_RTAGS;
    case A_SCENARIO:
        if (s == S_STAGS) {
            tf_gherkin_builder_end_to(b, M(R_SCENARIO_DEFINITION));
        } else {
            tf_gherkin_builder_end_to(b, M(R_FEATURE) | M(R_RULE));
            tf_gherkin_builder_start(b, R_SCENARIO_DEFINITION);
        }
        tf_gherkin_builder_start(b, R_SCENARIO);
        return S_SHEAD;
    case A_RULE:
        if (s == S_RTAGS) {
            tf_gherkin_builder_end_to(b, M(R_RULE_HEADER));
        } else {
            tf_gherkin_builder_end_to(b, M(R_FEATURE));
            tf_gherkin_builder_start(b, R_RULE);
            tf_gherkin_builder_start(b, R_RULE_HEADER);
        }
        return S_RHEAD;
    case A_STEP: {
        gboolean sc = in_scenario_steps(s) || s == S_SHEAD || s == S_SDESC;
        tf_gherkin_builder_end_to(b, M(R_BACKGROUND) | M(R_SCENARIO));
        tf_gherkin_builder_start(b, R_STEP);
        return sc ? S_SSTEP : S_BSTEP;
    }
    case A_ETAGS:
        tf_gherkin_builder_end_to(b, M(R_SCENARIO));
        tf_gherkin_builder_start(b, R_EXAMPLES_DEFINITION);
        tf_gherkin_builder_start(b, R_TAGS);
        return S_ETAGS;
    case A_EXAMPLES:
        if (s == S_ETAGS) {
            tf_gherkin_builder_end_to(b, M(R_EXAMPLES_DEFINITION));
        } else {
            tf_gherkin_builder_end_to(b, M(R_SCENARIO));
            tf_gherkin_builder_start(b, R_EXAMPLES_DEFINITION);
        }
        tf_gherkin_builder_start(b, R_EXAMPLES);
        return S_EHEAD;
    case A_EROWS:
        tf_gherkin_builder_end_to(b, M(R_EXAMPLES));
        tf_gherkin_builder_start(b, R_EXAMPLES_TABLE);
        return S_EROWS;
    case A_TABLE: /* from STEP (first argument) or DOC_END (table after doc string) */
        tf_gherkin_builder_end_to(b, M(R_STEP));
        tf_gherkin_builder_start(b, R_DATA_TABLE);
        if (s == S_BSTEP) return S_BTABLE;
        if (s == S_SSTEP) return S_STABLE;
        return s == S_BDOC_END ? S_BTABLE2 : S_STABLE2;
    case A_DOC: /* from STEP (first argument) or TABLE (doc string after table) */
        tf_gherkin_builder_end_to(b, M(R_STEP));
        tf_gherkin_builder_start(b, R_DOC_STRING);
        if (s == S_BSTEP) return S_BDOC;
        if (s == S_SSTEP) return S_SDOC;
        return s == S_BTABLE ? S_BDOC2 : S_SDOC2;
    case A_DOC_CLOSE:
        return s + 1; /* *_DOC -> *_DOC_END, *_DOC2 -> *_DOC2_END */
    }
    return s;
}

/* Appends s[0..len) with what a terminal would act on escaped: C0 controls but tab,
 * DEL (\x1b, \x7f) and C1 controls (\u009b: some terminals take it as ESC [). Error
 * messages quote the input, and a garbage file must not drive the user's terminal. */
static void append_escaped(GString *out, const char *s, gsize len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        const unsigned char *q = p;
        while (q < end && (*q >= 0x20 || *q == '\t') && *q != 0x7f &&
               !(*q == 0xc2 && q + 1 < end && q[1] >= 0x80 && q[1] <= 0x9f))
            q++;
        g_string_append_len(out, (const char *)p, q - p);
        if (q == end)
            break;
        if (*q == 0xc2) {
            g_string_append_printf(out, "\\u00%02x", q[1]);
            p = q + 2;
        } else {
            g_string_append_printf(out, "\\x%02x", *q);
            p = q + 1;
        }
    }
}

static void unexpected(parser *p, state s, guint lineno)
{
    GString *msg = g_string_new(NULL);
    gboolean eof = !tf_gherkin_lexer_has_line(&p->lx, lineno);
    guint seen = 0;
    if (eof)
        g_string_append(msg, "unexpected end of file, ");
    g_string_append(msg, "expected: ");
    for (const alt *x = table[s]; x->tok != TK_NONE; x++) {
        if (seen & M(x->tok))
            continue;
        if (seen)
            g_string_append(msg, ", ");
        seen |= M(x->tok);
        g_string_append(msg, token_names[x->tok]);
    }
    tf_gherkin_location loc = {lineno + 1, 0};
    if (!eof) {
        gsize len;
        guint indent;
        const char *text = tf_gherkin_lexer_line_text(&p->lx, lineno, &len, &indent);
        g_string_append(msg, ", got '");
        append_escaped(msg, text, len);
        g_string_append_c(msg, '\'');
        loc.column = indent + 1;
    }
    add_error(p, loc, g_string_free(msg, FALSE));
}

static state step(parser *p, state s, guint lineno)
{
    tf_gherkin_token t;
    for (const alt *x = table[s]; x->tok != TK_NONE; x++) {
        if (!match(p, lineno, x->tok, &t))
            continue;
        if (x->la == LA_SCENARIO && !lookahead(p, lineno, TK_SCENARIO_LINE))
            continue;
        if (x->la == LA_EXAMPLES && !lookahead(p, lineno, TK_EXAMPLES_LINE))
            continue;
        state next = act(p, s, x->act);
        tf_gherkin_builder_token(p->b, &t);
        return next;
    }
    unexpected(p, s, lineno);
    return s;
}

/* Length of the leading run of non-NUL ASCII bytes, 8 at a time: feature files are mostly
 * ASCII, so full UTF-8 validation only has to look at what follows. */
gsize tf_gherkin_ascii_prefix(const char *d, gsize len)
{
    gsize i = 0;
    for (; i + 8 <= len; i += 8) {
        guint64 w;
        memcpy(&w, d + i, 8);
        if ((w & 0x8080808080808080ULL) || ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
            break;
    }
    while (i < len && (guchar)d[i] - 1u < 0x7fu)
        i++;
    return i;
}

tf_gherkin_document *tf_gherkin_parse(const char *uri, const char *data, gssize len,
                                      tf_gherkin_id_gen *ids, GPtrArray **errors)
{
    if (errors)
        *errors = NULL;
    if (len < 0)
        len = data ? strlen(data) : 0;
    /* Like the official reader, decode invalid UTF-8 (and NULs) as U+FFFD first. */
    char *valid = NULL;
    gsize ascii = tf_gherkin_ascii_prefix(data, len);
    if (ascii < (gsize)len && !g_utf8_validate(data + ascii, len - ascii, NULL)) {
        valid = g_utf8_make_valid(data, len);
        data = valid;
        len = strlen(valid);
    }
    tf_gherkin_arena scratch = {0};
    parser p = {0};
    p.uri = uri;
    p.errors = g_ptr_array_new();
    tf_gherkin_lexer_init(&p.lx, data, len, &scratch);
    p.b = tf_gherkin_builder_new(uri, ids, builder_error, &p);
    tf_gherkin_builder_start(p.b, R_DOCUMENT);
    state s = S_START;
    /* The scratch arena holds what matching a line allocates (cells, tags): the builder
     * copies what it keeps, so it is emptied line by line (down to its first block). */
    tf_gherkin_arena_alloc(&scratch, 1);
    tf_gherkin_arena_mark line_start = tf_gherkin_arena_get_mark(&scratch);
    for (guint i = 0; !p.aborted; i++) {
        tf_gherkin_lexer_forget_before(&p.lx, i);
        tf_gherkin_arena_release(&scratch, line_start);
        gboolean eof = !tf_gherkin_lexer_has_line(&p.lx, i);
        s = step(&p, s, i);
        if (eof)
            break;
    }
    tf_gherkin_document *doc = NULL;
    if (!p.aborted) {
        tf_gherkin_builder_end_to(p.b, M(R_DOCUMENT));
        doc = tf_gherkin_builder_finish(p.b);
    } else {
        tf_gherkin_builder_free(p.b);
    }
    tf_gherkin_lexer_clear(&p.lx);
    tf_gherkin_arena_clear(&scratch);
    g_free(valid);
    if (p.errors->len > 0) {
        tf_gherkin_document_free(doc);
        doc = NULL;
        if (errors)
            *errors = p.errors;
        else
            tf_gherkin_errors_free(p.errors);
    } else {
        g_ptr_array_free(p.errors, TRUE);
    }
    return doc;
}

tf_gherkin_document *tf_gherkin_parse_file(const char *path, tf_gherkin_id_gen *ids,
                                           GPtrArray **errors, GError **error)
{
    char *data = NULL;
    gsize len = 0;
    if (errors)
        *errors = NULL;
    GError *local = NULL;
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: cannot read feature file: %s", path,
                    local->message);
        g_error_free(local);
        return NULL;
    }
    tf_gherkin_document *doc = tf_gherkin_parse(path, data, len, ids, errors);
    g_free(data);
    return doc;
}

void tf_gherkin_errors_free(GPtrArray *errors)
{
    if (!errors)
        return;
    for (guint i = 0; i < errors->len; i++) {
        tf_gherkin_error *e = errors->pdata[i];
        g_free(e->uri);
        g_free(e->message);
        g_free(e);
    }
    g_ptr_array_free(errors, TRUE);
}

char *tf_gherkin_error_format(const tf_gherkin_error *e)
{
    GString *s = g_string_new(NULL);
    append_escaped(s, e->uri, strlen(e->uri)); /* a file name is input too */
    if (e->location.column)
        g_string_append_printf(s, ":%u:%u: ", e->location.line, e->location.column);
    else
        g_string_append_printf(s, ":%u: ", e->location.line);
    append_escaped(s, e->message, strlen(e->message)); /* already so when made here */
    return g_string_free(s, FALSE);
}

char *tf_gherkin_error_message(const tf_gherkin_error *e)
{
    return g_strdup_printf("(%u:%u): %s", e->location.line, e->location.column, e->message);
}

void tf_gherkin_errors_to_gerror(const GPtrArray *errors, GError **error)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; errors && i < errors->len; i++) {
        char *line = tf_gherkin_error_format(errors->pdata[i]);
        if (i)
            g_string_append_c(s, '\n');
        g_string_append(s, line);
        g_free(line);
    }
    g_set_error_literal(error, TF_ERROR, TF_ERROR_PARSE, s->str);
    g_string_free(s, TRUE);
}
