/* lexer.h: the line splitter and token matcher the Gherkin parser drives (lexer.c).
 * Lines are split as the parser reaches them and forgotten once it has passed them
 * (only a window from the current line to the furthest lookahead is kept); a line is
 * matched against a token type on demand. */
#ifndef TF_GHERKIN_LEXER_H
#define TF_GHERKIN_LEXER_H

#include "gherkin/gherkin_priv.h"

/* One source line: [start, end) without the newline; text is after leading blanks. */
typedef struct {
    const char *start, *end, *text;
    guint indent; /* leading whitespace, in characters */
} tf_gherkin_line;

typedef struct {
    GArray *window;    /* of tf_gherkin_line: lines first_line, first_line + 1, ... */
    guint first_line;  /* number (0-based) of window[0] */
    const char *next, *end; /* the input not split yet */
    gboolean split_all;     /* every line is in the window or behind it */
    const tf_gherkin_dialect *dialect;
    guint8 first[6][32];    /* per keyword list: bitset of the keywords' first bytes */
    char doc_sep[4];        /* the open doc string's separator, "" when none */
    guint indent_to_remove; /* the open doc string's indent */
    tf_gherkin_arena *scratch; /* strings and arrays of the tokens being matched */
    GArray *items_tmp;
    GString *cell_tmp;
} tf_gherkin_lexer;

/* A matcher error (unknown language, whitespace in a tag): message is g_malloc'ed. */
typedef struct {
    tf_gherkin_location location;
    char *message;
} tf_gherkin_lexer_error;

void tf_gherkin_lexer_init(tf_gherkin_lexer *lx, const char *data, gsize len,
                           tf_gherkin_arena *scratch);
void tf_gherkin_lexer_clear(tf_gherkin_lexer *lx);
/* Is there a line lineno (0-based)? Past the last line is the end of file. */
gboolean tf_gherkin_lexer_has_line(tf_gherkin_lexer *lx, guint lineno);
/* The parser has moved on to line lineno: lines before it are forgotten. */
void tf_gherkin_lexer_forget_before(tf_gherkin_lexer *lx, guint lineno);
/* Matches line lineno (one past the last = EOF) as type; on an error returns FALSE and
 * sets err->message (caller frees). Doc string separators change the lexer's state. */
gboolean tf_gherkin_lexer_match(tf_gherkin_lexer *lx, guint lineno, tf_gherkin_token_type type,
                                tf_gherkin_token *t, tf_gherkin_lexer_error *err);
/* The line's text without surrounding blanks (for "got '...'"), and its indent. */
const char *tf_gherkin_lexer_line_text(tf_gherkin_lexer *lx, guint lineno, gsize *len,
                                       guint *indent);

#endif
