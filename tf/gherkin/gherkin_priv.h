/* gherkin_priv.h: what the Gherkin parser's files share: the dialect table, a bump arena
 * (documents and pickles are freed in one go, no per-node malloc), the line matcher's
 * token and the AST builder's interface. Not installed. */
#ifndef TF_GHERKIN_PRIV_H
#define TF_GHERKIN_PRIV_H

#include "tf/gherkin.h"

/* One language's keywords (NULL-terminated lists); steps holds given, when, then, and,
 * but, longest first (the first that starts a line wins, so "Tha the " must precede
 * "Tha "), step_types gives each one's tf_gherkin_keyword_type. */
typedef struct {
    const char *code, *name, *native;
    const char *const *feature, *const *rule, *const *background, *const *scenario,
        *const *examples, *const *steps;
    const unsigned char *step_types;
} tf_gherkin_dialect;

extern const tf_gherkin_dialect tf_gherkin_dialects[];
extern const unsigned tf_gherkin_n_dialects;
/* Finds a dialect by code (len bytes), NULL if unknown. */
const tf_gherkin_dialect *tf_gherkin_dialect_find(const char *code, gsize len);

/* Length of the leading run of non-NUL ASCII bytes of d[0..len) (checked 8 at a time):
 * what follows is all that UTF-8 validation has to look at. */
gsize tf_gherkin_ascii_prefix(const char *d, gsize len);

/* ---- arena -------------------------------------------------------------------- */
typedef struct tf_gherkin_arena_block tf_gherkin_arena_block;
typedef struct {
    tf_gherkin_arena_block *head; /* newest block first */
    char *cur, *end;              /* free space of the newest normal block */
} tf_gherkin_arena;
/* A point to release an arena back to: everything allocated after it is freed at once. */
typedef struct {
    tf_gherkin_arena_block *head;
    char *cur, *end;
} tf_gherkin_arena_mark;

/* 16-byte aligned, uninitialised memory, valid until a release past it or a clear. */
void *tf_gherkin_arena_alloc(tf_gherkin_arena *a, gsize size);
/* A NUL-terminated copy of s[0..len), packed without alignment. */
char *tf_gherkin_arena_strndup(tf_gherkin_arena *a, const char *s, gsize len);
char *tf_gherkin_arena_id(tf_gherkin_arena *a, tf_gherkin_id_gen *ids);
void *tf_gherkin_arena_memdup(tf_gherkin_arena *a, const void *p, gsize size);
tf_gherkin_arena_mark tf_gherkin_arena_get_mark(const tf_gherkin_arena *a);
void tf_gherkin_arena_release(tf_gherkin_arena *a, tf_gherkin_arena_mark m);
void tf_gherkin_arena_clear(tf_gherkin_arena *a);

/* ---- tokens ------------------------------------------------------------------- */
typedef enum {
    TK_NONE = 0,
    TK_EOF,
    TK_EMPTY,
    TK_COMMENT,
    TK_TAG_LINE,
    TK_FEATURE_LINE,
    TK_RULE_LINE,
    TK_BACKGROUND_LINE,
    TK_SCENARIO_LINE,
    TK_EXAMPLES_LINE,
    TK_STEP_LINE,
    TK_DOC_STRING_SEPARATOR,
    TK_TABLE_ROW,
    TK_LANGUAGE,
    TK_OTHER,
    TK_COUNT
} tf_gherkin_token_type;

/* A tag or cell found on a line: text (arena-owned) and its column. */
typedef struct {
    const char *text;
    guint len;
    guint column;
} tf_gherkin_item;

/* A matched line. Strings are arena-owned (the parse's scratch arena). */
typedef struct {
    tf_gherkin_token_type type;
    tf_gherkin_location location;
    const char *text;       /* title / step text / comment / other line / media type */
    gsize text_len;
    const char *keyword;    /* keyword as written, NULL if none */
    gsize keyword_len;
    const char *language;   /* dialect code in force when matched */
    tf_gherkin_keyword_type keyword_type;
    const tf_gherkin_item *items; /* tags or cells */
    guint n_items;
    gboolean blank;         /* the line is whitespace only (description trimming) */
} tf_gherkin_token;

/* ---- AST builder (astbuilder.c), driven by the parser (parser.c) -------------- */
typedef enum {
    R_NONE = 0,
    R_DOCUMENT,
    R_FEATURE,
    R_FEATURE_HEADER,
    R_RULE,
    R_RULE_HEADER,
    R_BACKGROUND,
    R_SCENARIO_DEFINITION,
    R_SCENARIO,
    R_EXAMPLES_DEFINITION,
    R_EXAMPLES,
    R_EXAMPLES_TABLE,
    R_STEP,
    R_DATA_TABLE,
    R_DOC_STRING,
    R_TAGS,
    R_DESCRIPTION,
    R_COUNT
} tf_gherkin_rule_type;

typedef struct tf_gherkin_builder tf_gherkin_builder;
/* An AST error: location and message, the builder reports it through this callback. */
typedef void (*tf_gherkin_error_fn)(void *ctx, tf_gherkin_location loc, char *message);

tf_gherkin_builder *tf_gherkin_builder_new(const char *uri, tf_gherkin_id_gen *ids,
                                           tf_gherkin_error_fn on_error, void *ctx);
void tf_gherkin_builder_start(tf_gherkin_builder *b, tf_gherkin_rule_type type);
/* Ends rules until the top is one of the types in mask (1u << type). */
void tf_gherkin_builder_end_to(tf_gherkin_builder *b, guint mask);
void tf_gherkin_builder_token(tf_gherkin_builder *b, const tf_gherkin_token *tok);
tf_gherkin_rule_type tf_gherkin_builder_top(const tf_gherkin_builder *b);
/* Ends every rule and returns the document (caller owns), builder is freed. */
tf_gherkin_document *tf_gherkin_builder_finish(tf_gherkin_builder *b);
void tf_gherkin_builder_free(tf_gherkin_builder *b);

#endif
