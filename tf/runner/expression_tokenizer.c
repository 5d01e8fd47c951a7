/* expression_tokenizer.c: splits a Cucumber Expression into tokens (text, whitespace,
 * '(' ')' '{' '}' '/', start and end of line), resolving backslash escapes.
 * It mirrors the official tokenizer so token positions and errors match it exactly. */
#include "expression_priv.h"

#include "tf/error.h"

static const char *const token_names[] = {
    [TF_EXPR_TOKEN_START_OF_LINE] = "START_OF_LINE",
    [TF_EXPR_TOKEN_END_OF_LINE] = "END_OF_LINE",
    [TF_EXPR_TOKEN_WHITE_SPACE] = "WHITE_SPACE",
    [TF_EXPR_TOKEN_BEGIN_OPTIONAL] = "BEGIN_OPTIONAL",
    [TF_EXPR_TOKEN_END_OPTIONAL] = "END_OPTIONAL",
    [TF_EXPR_TOKEN_BEGIN_PARAMETER] = "BEGIN_PARAMETER",
    [TF_EXPR_TOKEN_END_PARAMETER] = "END_PARAMETER",
    [TF_EXPR_TOKEN_ALTERNATION] = "ALTERNATION",
    [TF_EXPR_TOKEN_TEXT] = "TEXT",
};

const char *tf_expr_token_type_name(tf_expr_token_type type)
{
    if ((guint)type >= G_N_ELEMENTS(token_names))
        return "UNKNOWN";
    return token_names[type];
}

/* JavaScript's \s, which the official implementation uses. */
static gboolean is_white_space(gunichar c)
{
    return g_unichar_isspace(c) || c == 0xFEFF;
}

static tf_expr_token_type type_of(gunichar c)
{
    if (is_white_space(c))
        return TF_EXPR_TOKEN_WHITE_SPACE;
    switch (c) {
    case '/': return TF_EXPR_TOKEN_ALTERNATION;
    case '{': return TF_EXPR_TOKEN_BEGIN_PARAMETER;
    case '}': return TF_EXPR_TOKEN_END_PARAMETER;
    case '(': return TF_EXPR_TOKEN_BEGIN_OPTIONAL;
    case ')': return TF_EXPR_TOKEN_END_OPTIONAL;
    default: return TF_EXPR_TOKEN_TEXT;
    }
}

static gboolean can_escape(gunichar c)
{
    return is_white_space(c) || c == '\\' || type_of(c) != TF_EXPR_TOKEN_TEXT;
}

static void token_clear(gpointer p)
{
    g_free(((tf_expr_token *)p)->text);
}

typedef struct {
    GArray *tokens;
    GString *buffer;
    guint buffer_len;   /* code points in buffer */
    guint buffer_start; /* code point where the buffer started */
    guint escaped;      /* escapes consumed since the last TEXT token */
} tokenizer;

static void flush(tokenizer *t, tf_expr_token_type type)
{
    guint escapes = 0;
    if (type == TF_EXPR_TOKEN_TEXT) {
        escapes = t->escaped;
        t->escaped = 0;
    }
    guint consumed = t->buffer_start + t->buffer_len + escapes;
    tf_expr_token tok = {type, t->buffer_start, consumed, g_strdup(t->buffer->str)};
    g_array_append_val(t->tokens, tok);
    g_string_truncate(t->buffer, 0);
    t->buffer_len = 0;
    t->buffer_start = consumed;
}

GArray *tf_expression_tokenize(const char *source, GError **error)
{
    glong n = 0;
    gunichar *cps = g_utf8_to_ucs4(source, -1, NULL, &n, NULL);
    if (!cps) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: invalid Cucumber Expression: not UTF-8",
                    source);
        return NULL;
    }
    tokenizer t = {g_array_new(FALSE, FALSE, sizeof(tf_expr_token)), g_string_new(NULL), 0, 0,
                   0};
    g_array_set_clear_func(t.tokens, token_clear);

    if (n == 0) {
        tf_expr_token sol = {TF_EXPR_TOKEN_START_OF_LINE, 0, 0, g_strdup("")};
        g_array_append_val(t.tokens, sol);
    }
    tf_expr_token_type previous = TF_EXPR_TOKEN_START_OF_LINE;
    gboolean treat_as_text = FALSE;
    for (glong i = 0; i < n; i++) {
        gunichar c = cps[i];
        if (!treat_as_text && c == '\\') {
            t.escaped++;
            treat_as_text = TRUE;
            continue;
        }
        tf_expr_token_type current;
        if (!treat_as_text) {
            current = type_of(c);
        } else if (can_escape(c)) {
            current = TF_EXPR_TOKEN_TEXT;
        } else {
            guint index = t.buffer_start + t.buffer_len + t.escaped;
            char *ptr = tf_expr_point_at(index);
            tf_expr_set_error(error, source, index, ptr,
                              "Only the characters '{', '}', '(', ')', '\\', '/' and whitespace "
                              "can be escaped",
                              "If you did mean to use an '\\' you can use '\\\\' to escape it");
            g_free(ptr);
            goto fail;
        }
        treat_as_text = FALSE;
        /* Runs of text or whitespace form one token; every other character is its own. */
        gboolean new_token = current != previous ||
                             (current != TF_EXPR_TOKEN_WHITE_SPACE && current != TF_EXPR_TOKEN_TEXT);
        if (new_token)
            flush(&t, previous);
        previous = current;
        g_string_append_unichar(t.buffer, c);
        t.buffer_len++;
    }
    if (t.buffer_len > 0)
        flush(&t, previous);
    if (treat_as_text) {
        char *ptr = tf_expr_point_at((guint)n - 1);
        tf_expr_set_error(error, source, (guint)n - 1, ptr, "The end of line can not be escaped",
                          "You can use '\\\\' to escape the '\\'");
        g_free(ptr);
        goto fail;
    }
    tf_expr_token eol = {TF_EXPR_TOKEN_END_OF_LINE, (guint)n, (guint)n, g_strdup("")};
    g_array_append_val(t.tokens, eol);
    g_string_free(t.buffer, TRUE);
    g_free(cps);
    return t.tokens;

fail:
    g_string_free(t.buffer, TRUE);
    g_array_unref(t.tokens);
    g_free(cps);
    return NULL;
}
