/* lexer.c: splits a feature source into lines and matches one line against one token
 * type (the official "classic" token matcher: keywords of the current dialect, tags,
 * table cells with escapes, doc string separators, language lines). The parser asks
 * for the types a state accepts, in order, so a line is matched only as far as needed. */
#include <string.h>
#include "gherkin/lexer.h"

/* JavaScript's \s (what the official matcher trims with), as code points. */
static gboolean js_space(gunichar c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000 || c == 0xfeff;
}

/* Decodes one code point at p (< end); invalid bytes decode as U+FFFD, length 1. */
static gunichar utf8_next(const char *p, const char *end, int *len)
{
    const unsigned char *u = (const unsigned char *)p;
    gsize avail = end - p;
    if (u[0] < 0x80) {
        *len = 1;
        return u[0];
    }
    int n = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 0;
    if (n == 0 || (gsize)n > avail) {
        *len = 1;
        return 0xfffd;
    }
    gunichar c = u[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *len = 1;
            return 0xfffd;
        }
        c = (c << 6) | (u[i] & 0x3f);
    }
    *len = n;
    return c;
}

/* Counts code points in [p, end). */
static guint n_chars(const char *p, const char *end)
{
    guint n = 0;
    while (p < end) {
        if ((unsigned char)*p < 0x80) {
            p++;
        } else {
            int l;
            utf8_next(p, end, &l);
            p += l;
        }
        n++;
    }
    return n;
}

/* Skips leading JS whitespace, counting code points into *count if non-NULL. */
static const char *skip_space(const char *p, const char *end, guint *count)
{
    guint n = 0;
    while (p < end) {
        if (*p == ' ' || *p == '\t') {
            p++;
            n++;
            continue;
        }
        int l;
        gunichar c = utf8_next(p, end, &l);
        if (!js_space(c))
            break;
        p += l;
        n++;
    }
    if (count)
        *count = n;
    return p;
}

/* Returns the end of [p, end) with trailing JS whitespace removed. */
static const char *rtrim(const char *p, const char *end)
{
    while (end > p) {
        unsigned char c = (unsigned char)end[-1];
        if (c == ' ' || (c >= 0x09 && c <= 0x0d)) {
            end--;
            continue;
        }
        if (c < 0x80)
            break;
        const char *q = end - 1;
        while (q > p && ((unsigned char)*q & 0xc0) == 0x80)
            q--;
        int l;
        gunichar u = utf8_next(q, end, &l);
        if (q + l != end || !js_space(u))
            break;
        end = q;
    }
    return end;
}

/* Keyword lists, in the order of lx->first. */
enum { KW_FEATURE, KW_RULE, KW_BACKGROUND, KW_SCENARIO, KW_EXAMPLES, KW_STEPS };

/* Most match attempts fail: a line is tried against every token type its state allows.
 * A bitset of each list's first bytes rejects those attempts with one test. */
static void set_dialect(tf_gherkin_lexer *lx, const tf_gherkin_dialect *d)
{
    const char *const *lists[6] = {d->feature, d->rule, d->background, d->scenario,
                                   d->examples, d->steps};
    lx->dialect = d;
    memset(lx->first, 0, sizeof lx->first);
    for (int i = 0; i < 6; i++)
        for (const char *const *k = lists[i]; *k; k++) {
            guint8 c = (guint8)(*k)[0];
            lx->first[i][c >> 3] |= (guint8)(1u << (c & 7));
        }
}

static gboolean may_start(const tf_gherkin_lexer *lx, int list, const tf_gherkin_line *l)
{
    if (l->text == l->end)
        return FALSE;
    guint8 c = (guint8)l->text[0];
    return (lx->first[list][c >> 3] >> (c & 7)) & 1;
}

void tf_gherkin_lexer_init(tf_gherkin_lexer *lx, const char *data, gsize len,
                           tf_gherkin_arena *scratch)
{
    memset(lx, 0, sizeof *lx);
    lx->scratch = scratch;
    set_dialect(lx, tf_gherkin_dialect_find("en", 2));
    lx->window = g_array_sized_new(FALSE, FALSE, sizeof(tf_gherkin_line), 64);
    lx->next = data;
    lx->end = data + len;
}

/* Splits the next line into the window; FALSE when there is none. */
static gboolean split_one(tf_gherkin_lexer *lx)
{
    if (lx->split_all)
        return FALSE;
    const char *p = lx->next, *end = lx->end;
    const char *nl = memchr(p, '\n', end - p);
    const char *le = nl ? nl : end;
    /* a final newline ends the last line, it does not start one */
    gboolean last = !nl || nl + 1 == end;
    if (p == end) {
        lx->split_all = TRUE;
        return FALSE;
    }
    tf_gherkin_line line;
    line.start = p;
    line.end = (le > p && le[-1] == '\r') ? le - 1 : le;
    line.text = skip_space(line.start, line.end, &line.indent);
    lx->next = nl ? nl + 1 : end;
    if (last) {
        lx->split_all = TRUE;
        /* the official scanner drops a last line that is only whitespace */
        if (rtrim(line.text, line.end) == line.text)
            return FALSE;
    }
    g_array_append_val(lx->window, line);
    return TRUE;
}

/* Line lineno, split if need be; NULL past the last line. */
static const tf_gherkin_line *get_line(tf_gherkin_lexer *lx, guint lineno)
{
    g_assert(lineno >= lx->first_line); /* the parser never goes back */
    while (lineno - lx->first_line >= lx->window->len)
        if (!split_one(lx))
            return NULL;
    return &g_array_index(lx->window, tf_gherkin_line, lineno - lx->first_line);
}

gboolean tf_gherkin_lexer_has_line(tf_gherkin_lexer *lx, guint lineno)
{
    return get_line(lx, lineno) != NULL;
}

void tf_gherkin_lexer_forget_before(tf_gherkin_lexer *lx, guint lineno)
{
    guint n = MIN(lineno - lx->first_line, lx->window->len);
    if (n) {
        g_array_remove_range(lx->window, 0, n);
        lx->first_line += n;
    }
}

void tf_gherkin_lexer_clear(tf_gherkin_lexer *lx)
{
    if (lx->window)
        g_array_free(lx->window, TRUE);
    lx->window = NULL;
    if (lx->items_tmp)
        g_array_free(lx->items_tmp, TRUE);
    if (lx->cell_tmp)
        g_string_free(lx->cell_tmp, TRUE);
    lx->items_tmp = NULL;
    lx->cell_tmp = NULL;
}

static gboolean starts_with(const tf_gherkin_line *l, const char *prefix, gsize n)
{
    return (gsize)(l->end - l->text) >= n && memcmp(l->text, prefix, n) == 0;
}

/* Sets the token's text to [p, end) trimmed on both sides. */
static void set_rest_trimmed(tf_gherkin_token *t, const char *p, const char *end)
{
    p = skip_space(p, end, NULL);
    end = rtrim(p, end);
    t->text = p;
    t->text_len = end - p;
}

static void matched(tf_gherkin_lexer *lx, tf_gherkin_token *t, tf_gherkin_token_type type,
                    guint lineno, guint column)
{
    t->type = type;
    t->location.line = lineno + 1;
    t->location.column = column;
    t->language = lx->dialect->code;
}

static gboolean match_title(tf_gherkin_lexer *lx, const tf_gherkin_line *l, guint lineno,
                            const char *const *keywords, tf_gherkin_token_type type,
                            tf_gherkin_token *t)
{
    for (const char *const *k = keywords; *k; k++) {
        gsize n = strlen(*k);
        if (starts_with(l, *k, n) && l->text + n < l->end && l->text[n] == ':') {
            matched(lx, t, type, lineno, l->indent + 1);
            t->keyword = *k;
            t->keyword_len = n;
            set_rest_trimmed(t, l->text + n + 1, l->end);
            return TRUE;
        }
    }
    return FALSE;
}

/* Splits a tag line into tags; FALSE with *err set when a tag holds whitespace. */
static gboolean match_tags(tf_gherkin_lexer *lx, const tf_gherkin_line *l, guint lineno,
                           tf_gherkin_token *t, tf_gherkin_lexer_error *err)
{
    /* A comment after the tags ("@a #note") is cut at the first whitespace + '#'. */
    const char *end = l->end;
    for (const char *q = l->text; q + 1 < end; q++) {
        if ((*q == ' ' || *q == '\t') && q[1] == '#') {
            end = q;
            break;
        }
    }
    GArray *items = lx->items_tmp ? lx->items_tmp
                                  : (lx->items_tmp = g_array_new(FALSE, FALSE, sizeof(tf_gherkin_item)));
    g_array_set_size(items, 0);
    guint column = l->indent + 1;
    const char *p = l->text;
    while (p <= end) {
        const char *at = memchr(p, '@', end - p);
        const char *ie = at ? at : end;
        const char *te = rtrim(p, ie);
        if (te > p) {
            /* the first piece (before the first '@') is empty on a tag line */
            for (const char *q = p; q < te;) {
                int len;
                gunichar c = utf8_next(q, te, &len);
                if (js_space(c)) {
                    err->location.line = lineno + 1;
                    err->location.column = column;
                    err->message = g_strdup("A tag may not contain whitespace");
                    return FALSE;
                }
                q += len;
            }
            char *text = tf_gherkin_arena_alloc(lx->scratch, (te - p) + 2);
            text[0] = '@';
            memcpy(text + 1, p, te - p);
            text[te - p + 1] = 0;
            tf_gherkin_item it = {text, (guint)(te - p + 1), column};
            g_array_append_val(items, it);
            column += n_chars(p, ie) + 1;
        }
        if (!at)
            break;
        p = at + 1;
    }
    matched(lx, t, TK_TAG_LINE, lineno, l->indent + 1);
    t->items = tf_gherkin_arena_memdup(lx->scratch, items->data, items->len * sizeof(tf_gherkin_item));
    t->n_items = items->len;
    return TRUE;
}

static gboolean cell_space(gunichar c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == 0x85 || c == 0xa0;
}

/* Splits "| a | b |" into cells, unescaping \| \\ \n; text after the last '|' is dropped. */
static void match_cells(tf_gherkin_lexer *lx, const tf_gherkin_line *l, guint lineno,
                        tf_gherkin_token *t)
{
    GArray *items = lx->items_tmp ? lx->items_tmp
                                  : (lx->items_tmp = g_array_new(FALSE, FALSE, sizeof(tf_gherkin_item)));
    g_array_set_size(items, 0);
    GString *cell = lx->cell_tmp ? lx->cell_tmp : (lx->cell_tmp = g_string_sized_new(64));
    g_string_truncate(cell, 0);
    gboolean first = TRUE;
    guint col = 0, start_col = 1;
    const char *p = l->text, *end = l->end;
    while (p < end) {
        char c = *p;
        if (c == '|') {
            p++;
            col++;
            if (first) {
                first = FALSE;
            } else {
                const char *s = cell->str, *e = cell->str + cell->len;
                guint lead = 0;
                while (s < e) {
                    int len;
                    gunichar u = utf8_next(s, e, &len);
                    if (!cell_space(u))
                        break;
                    s += len;
                    lead++;
                }
                while (e > s) {
                    const char *q = e - 1;
                    while (q > s && ((unsigned char)*q & 0xc0) == 0x80)
                        q--;
                    int len;
                    gunichar u = utf8_next(q, e, &len);
                    if (q + len != e || !cell_space(u))
                        break;
                    e = q;
                }
                tf_gherkin_item it = {tf_gherkin_arena_strndup(lx->scratch, s, e - s),
                                      (guint)(e - s), l->indent + start_col + lead};
                g_array_append_val(items, it);
            }
            g_string_truncate(cell, 0);
            start_col = col + 1;
        } else if (c == '\\') {
            p++;
            col++;
            if (p >= end) {
                g_string_append_c(cell, '\\'); /* dangling: only ever in dropped text */
                break;
            }
            int len;
            utf8_next(p, end, &len);
            if (*p == 'n') {
                g_string_append_c(cell, '\n');
            } else {
                if (*p != '|' && *p != '\\')
                    g_string_append_c(cell, '\\');
                g_string_append_len(cell, p, len);
            }
            p += len;
            col++;
        } else {
            /* A run of plain text in one append; columns count characters (the input is
             * valid UTF-8 by now: count the bytes that start a character). */
            const char *q = p;
            while (q < end && *q != '|' && *q != '\\') {
                col += ((unsigned char)*q & 0xc0) != 0x80;
                q++;
            }
            g_string_append_len(cell, p, q - p);
            p = q;
        }
    }
    matched(lx, t, TK_TABLE_ROW, lineno, l->indent + 1);
    t->items = tf_gherkin_arena_memdup(lx->scratch, items->data, items->len * sizeof(tf_gherkin_item));
    t->n_items = items->len;
}

/* Copies [p, end) replacing every escaped separator (\"\"\" or \`\`\`) by the separator. */
static void unescape_doc(tf_gherkin_lexer *lx, tf_gherkin_token *t, const char *p, const char *end)
{
    const char *esc = lx->doc_sep[0] == '"' ? "\\\"\\\"\\\"" : "\\`\\`\\`";
    const char *hit = g_strstr_len(p, end - p, esc);
    if (!hit) {
        t->text = p;
        t->text_len = end - p;
        return;
    }
    GString *s = lx->cell_tmp ? lx->cell_tmp : (lx->cell_tmp = g_string_sized_new(64));
    g_string_truncate(s, 0);
    while (hit) {
        g_string_append_len(s, p, hit - p);
        g_string_append_len(s, lx->doc_sep, 3);
        p = hit + 6;
        hit = g_strstr_len(p, end - p, esc);
    }
    g_string_append_len(s, p, end - p);
    t->text = tf_gherkin_arena_strndup(lx->scratch, s->str, s->len);
    t->text_len = s->len;
}

static gboolean match_language(tf_gherkin_lexer *lx, const tf_gherkin_line *l, guint lineno,
                               tf_gherkin_token *t, tf_gherkin_lexer_error *err)
{
    /* ^\s*#\s*language\s*:\s*([a-zA-Z\-_]+)\s*$ */
    const char *p = l->text, *end = l->end;
    if (p >= end || *p != '#')
        return FALSE;
    p = skip_space(p + 1, end, NULL);
    if ((gsize)(end - p) < 8 || memcmp(p, "language", 8) != 0)
        return FALSE;
    p = skip_space(p + 8, end, NULL);
    if (p >= end || *p != ':')
        return FALSE;
    p = skip_space(p + 1, end, NULL);
    const char *name = p;
    while (p < end && (g_ascii_isalpha(*p) || *p == '-' || *p == '_'))
        p++;
    if (p == name || skip_space(p, end, NULL) != end)
        return FALSE;
    matched(lx, t, TK_LANGUAGE, lineno, l->indent + 1);
    t->text = name;
    t->text_len = p - name;
    const tf_gherkin_dialect *d = tf_gherkin_dialect_find(name, p - name);
    if (!d) {
        err->location = t->location;
        err->message = g_strdup_printf("Language not supported: %.*s", (int)(p - name), name);
        return FALSE;
    }
    set_dialect(lx, d);
    t->language = d->code;
    return TRUE;
}

gboolean tf_gherkin_lexer_match(tf_gherkin_lexer *lx, guint lineno, tf_gherkin_token_type type,
                                tf_gherkin_token *t, tf_gherkin_lexer_error *err)
{
    memset(t, 0, sizeof *t);
    const tf_gherkin_line *l = get_line(lx, lineno);
    if (!l) {
        if (type != TK_EOF)
            return FALSE;
        t->type = TK_EOF;
        t->location.line = lineno + 1;
        t->location.column = 0;
        return TRUE;
    }
    gboolean empty = l->text == l->end;
    switch (type) {
    case TK_EOF:
        return FALSE;
    case TK_EMPTY:
        if (!empty)
            return FALSE;
        matched(lx, t, TK_EMPTY, lineno, l->indent + 1);
        return TRUE;
    case TK_COMMENT:
        if (empty || *l->text != '#')
            return FALSE;
        matched(lx, t, TK_COMMENT, lineno, 1);
        t->text = l->start;
        t->text_len = l->end - l->start;
        return TRUE;
    case TK_TAG_LINE:
        if (empty || *l->text != '@')
            return FALSE;
        return match_tags(lx, l, lineno, t, err);
    case TK_FEATURE_LINE:
        return may_start(lx, KW_FEATURE, l) && match_title(lx, l, lineno, lx->dialect->feature, type, t);
    case TK_RULE_LINE:
        return may_start(lx, KW_RULE, l) && match_title(lx, l, lineno, lx->dialect->rule, type, t);
    case TK_BACKGROUND_LINE:
        return may_start(lx, KW_BACKGROUND, l) && match_title(lx, l, lineno, lx->dialect->background, type, t);
    case TK_SCENARIO_LINE:
        return may_start(lx, KW_SCENARIO, l) && match_title(lx, l, lineno, lx->dialect->scenario, type, t);
    case TK_EXAMPLES_LINE:
        return may_start(lx, KW_EXAMPLES, l) && match_title(lx, l, lineno, lx->dialect->examples, type, t);
    case TK_STEP_LINE:
        if (!may_start(lx, KW_STEPS, l))
            return FALSE;
        for (guint i = 0; lx->dialect->steps[i]; i++) {
            const char *k = lx->dialect->steps[i];
            gsize n = strlen(k);
            if (starts_with(l, k, n)) {
                matched(lx, t, TK_STEP_LINE, lineno, l->indent + 1);
                t->keyword = k;
                t->keyword_len = n;
                t->keyword_type = lx->dialect->step_types[i];
                set_rest_trimmed(t, l->text + n, l->end);
                return TRUE;
            }
        }
        return FALSE;
    case TK_DOC_STRING_SEPARATOR: {
        static const char *const seps[] = {"\"\"\"", "```"};
        for (int i = 0; i < 2; i++) {
            const char *sep = lx->doc_sep[0] ? lx->doc_sep : seps[i];
            if (starts_with(l, sep, 3)) {
                matched(lx, t, TK_DOC_STRING_SEPARATOR, lineno, l->indent + 1);
                t->keyword = sep[0] == '"' ? seps[0] : seps[1];
                t->keyword_len = 3;
                if (lx->doc_sep[0]) {
                    lx->doc_sep[0] = 0;
                    lx->indent_to_remove = 0;
                    t->text = "";
                } else {
                    memcpy(lx->doc_sep, sep, 4);
                    lx->indent_to_remove = l->indent;
                    set_rest_trimmed(t, l->text + 3, l->end);
                }
                return TRUE;
            }
            if (lx->doc_sep[0])
                break;
        }
        return FALSE;
    }
    case TK_TABLE_ROW:
        if (empty || *l->text != '|')
            return FALSE;
        match_cells(lx, l, lineno, t);
        return TRUE;
    case TK_LANGUAGE:
        return match_language(lx, l, lineno, t, err);
    case TK_OTHER: {
        matched(lx, t, TK_OTHER, lineno, 1);
        t->blank = rtrim(l->text, l->end) == l->text;
        const char *p = l->start;
        if (lx->indent_to_remove > l->indent) {
            p = l->text;
        } else {
            /* drop indent_to_remove leading characters (all whitespace) */
            for (guint i = 0; i < lx->indent_to_remove; i++) {
                int len;
                utf8_next(p, l->end, &len);
                p += len;
            }
        }
        if (lx->doc_sep[0]) {
            unescape_doc(lx, t, p, l->end);
        } else {
            t->text = p;
            t->text_len = l->end - p;
        }
        return TRUE;
    }
    default:
        return FALSE;
    }
}

const char *tf_gherkin_lexer_line_text(tf_gherkin_lexer *lx, guint lineno, gsize *len,
                                       guint *indent)
{
    const tf_gherkin_line *l = get_line(lx, lineno);
    const char *end = rtrim(l->text, l->end);
    *len = end - l->text;
    *indent = l->indent;
    return l->text;
}

const tf_gherkin_dialect *tf_gherkin_dialect_find(const char *code, gsize len)
{
    for (unsigned i = 0; i < tf_gherkin_n_dialects; i++)
        if (strlen(tf_gherkin_dialects[i].code) == len &&
            memcmp(tf_gherkin_dialects[i].code, code, len) == 0)
            return &tf_gherkin_dialects[i];
    return NULL;
}
