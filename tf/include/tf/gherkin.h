/* gherkin.h: the Gherkin parser: feature source -> GherkinDocument AST -> pickles, and
 * their Cucumber Messages JSON. It follows the official Cucumber parser (grammar, error
 * recovery, ids) so its output matches the official conformance data. */
#ifndef TF_GHERKIN_H
#define TF_GHERKIN_H

#include <stdio.h>
#include <glib.h>
#include <jansson.h>
#include "tf/api.h"

G_BEGIN_DECLS

/* ---- ids ---------------------------------------------------------------------- */

/* Hands out ids "0", "1", ... ; share one across every document of a run so ids stay
 * unique. Thread-safe. */
typedef struct tf_gherkin_id_gen tf_gherkin_id_gen;
/* Returns a new generator starting at "0"; free with tf_gherkin_id_gen_free. */
TF_API tf_gherkin_id_gen *tf_gherkin_id_gen_new(void);
/* Frees the generator (NULL is fine). Ids already handed out stay valid. */
TF_API void tf_gherkin_id_gen_free(tf_gherkin_id_gen *ids);
/* Returns the next id as a number (the string form is its decimal). */
TF_API guint64 tf_gherkin_id_gen_next(tf_gherkin_id_gen *ids);

/* ---- AST (read-only; every string and array is owned by the document) ---------- */

/* A 1-based position; column is 0 when unknown (end of file), counted in characters. */
typedef struct {
    guint line;
    guint column;
} tf_gherkin_location;

/* A step keyword's meaning, as in Cucumber Messages' StepKeywordType. */
typedef enum {
    TF_GHERKIN_KEYWORD_UNKNOWN = 0,
    TF_GHERKIN_KEYWORD_CONTEXT,
    TF_GHERKIN_KEYWORD_ACTION,
    TF_GHERKIN_KEYWORD_OUTCOME,
    TF_GHERKIN_KEYWORD_CONJUNCTION,
} tf_gherkin_keyword_type;

/* A tag (@name) with its AST node id. */
typedef struct {
    tf_gherkin_location location;
    const char *name;
    const char *id;
} tf_gherkin_tag;

/* A comment line, text as written (leading blanks kept). */
typedef struct {
    tf_gherkin_location location;
    const char *text;
} tf_gherkin_comment;

/* One table cell, value unescaped (\| \\ \n). */
typedef struct {
    tf_gherkin_location location;
    const char *value;
} tf_gherkin_cell;

/* One table row. */
typedef struct {
    const char *id;
    tf_gherkin_location location;
    const tf_gherkin_cell *cells;
    guint n_cells;
} tf_gherkin_row;

/* A step's data table. */
typedef struct {
    tf_gherkin_location location;
    const tf_gherkin_row *rows;
    guint n_rows;
} tf_gherkin_data_table;

/* A step's doc string; media_type is NULL when none was given. */
typedef struct {
    tf_gherkin_location location;
    const char *media_type;
    const char *content;
    const char *delimiter;
} tf_gherkin_doc_string;

/* A step; data_table and doc_string are NULL when absent. */
typedef struct {
    tf_gherkin_location location;
    const char *keyword;
    tf_gherkin_keyword_type keyword_type;
    const char *text;
    const tf_gherkin_doc_string *doc_string;
    const tf_gherkin_data_table *data_table;
    const char *id;
} tf_gherkin_step;

/* A Background (feature or rule level). */
typedef struct {
    tf_gherkin_location location;
    const char *keyword, *name, *description;
    const tf_gherkin_step *steps;
    guint n_steps;
    const char *id;
} tf_gherkin_background;

/* An Examples block; table_header is NULL when it has no table. */
typedef struct {
    tf_gherkin_location location;
    const tf_gherkin_tag *tags;
    guint n_tags;
    const char *keyword, *name, *description;
    const tf_gherkin_row *table_header;
    const tf_gherkin_row *table_body;
    guint n_table_body;
    const char *id;
} tf_gherkin_examples;

/* A Scenario/Example or Scenario Outline/Template (an outline has examples). */
typedef struct {
    tf_gherkin_location location;
    const tf_gherkin_tag *tags;
    guint n_tags;
    const char *keyword, *name, *description;
    const tf_gherkin_step *steps;
    guint n_steps;
    const tf_gherkin_examples *examples;
    guint n_examples;
    const char *id;
} tf_gherkin_scenario;

typedef struct tf_gherkin_rule tf_gherkin_rule;

/* A child of a feature or rule: exactly one member is non-NULL (rule only in features). */
typedef struct {
    const tf_gherkin_background *background;
    const tf_gherkin_scenario *scenario;
    const tf_gherkin_rule *rule;
} tf_gherkin_child;

/* A Rule. */
struct tf_gherkin_rule {
    tf_gherkin_location location;
    const tf_gherkin_tag *tags;
    guint n_tags;
    const char *keyword, *name, *description;
    const tf_gherkin_child *children;
    guint n_children;
    const char *id;
};

/* The Feature. */
typedef struct {
    tf_gherkin_location location;
    const tf_gherkin_tag *tags;
    guint n_tags;
    const char *language, *keyword, *name, *description;
    const tf_gherkin_child *children;
    guint n_children;
} tf_gherkin_feature;

/* A parsed file; feature is NULL for a file without one. Owns everything it points to. */
typedef struct {
    const char *uri;
    const tf_gherkin_feature *feature;
    const tf_gherkin_comment *comments;
    guint n_comments;
} tf_gherkin_document;

/* ---- parse errors -------------------------------------------------------------- */

/* One parse error; message has no location prefix (e.g. "expected: #EOF, ..., got 'x'")
 * and the input it quotes has its control characters escaped (\x1b, \u009b). */
typedef struct {
    char *uri;
    tf_gherkin_location location;
    char *message;
} tf_gherkin_error;

/* Frees an error list from tf_gherkin_parse (NULL is fine). */
TF_API void tf_gherkin_errors_free(GPtrArray *errors);
/* Returns "uri:line:col: message" (newly allocated, g_free it); col is omitted at EOF;
 * control characters of the uri are escaped as in messages. */
TF_API char *tf_gherkin_error_format(const tf_gherkin_error *error);
/* Returns the messages form "(line:col): message" (newly allocated, g_free it). */
TF_API char *tf_gherkin_error_message(const tf_gherkin_error *error);
/* Sets *error (TF_ERROR_PARSE) to every error's human form, one per line. */
TF_API void tf_gherkin_errors_to_gerror(const GPtrArray *errors, GError **error);

/* ---- parsing ------------------------------------------------------------------- */

/* Parses data[0..len) (len -1: NUL-terminated) named uri. On success returns a document
 * the caller frees with tf_gherkin_document_free and *errors (if non-NULL) is NULL. On
 * parse errors returns NULL and, if errors is non-NULL, *errors receives every error
 * (a GPtrArray of tf_gherkin_error*, caller frees with tf_gherkin_errors_free). Ids come
 * from ids (borrowed). Every error in the file is reported, as the official parser does
 * (it stops after 11). */
TF_API tf_gherkin_document *tf_gherkin_parse(const char *uri, const char *data, gssize len,
                                             tf_gherkin_id_gen *ids, GPtrArray **errors);
/* Reads path and parses it with uri = path; I/O failures set *error and return NULL
 * (with *errors NULL); parse errors are as in tf_gherkin_parse. */
TF_API tf_gherkin_document *tf_gherkin_parse_file(const char *path, tf_gherkin_id_gen *ids,
                                                  GPtrArray **errors, GError **error);
/* Frees a document and everything in it (NULL is fine). */
TF_API void tf_gherkin_document_free(tf_gherkin_document *doc);

/* ---- pickles ------------------------------------------------------------------- */

/* A pickle tag: name and the id of the AST tag it came from. */
typedef struct {
    const char *name;
    const char *ast_node_id;
} tf_gherkin_pickle_tag;

/* A pickle step's type (from its keyword, And/But taking the previous one). */
typedef enum {
    TF_GHERKIN_STEP_UNKNOWN = 0,
    TF_GHERKIN_STEP_CONTEXT,
    TF_GHERKIN_STEP_ACTION,
    TF_GHERKIN_STEP_OUTCOME,
} tf_gherkin_step_type;

/* A pickle step's table: rows of cell values. */
typedef struct {
    const char *const *cells;
    guint n_cells;
} tf_gherkin_pickle_row;

/* A runnable step with its data table (has_data_table), its doc string (non-NULL) or
 * both; with both, the two *_index fields number them 1 and 2 in source order (0 when
 * the step has one argument or none); location is the AST step's, for file:line reports. */
typedef struct {
    const char *id;
    const char *text;
    tf_gherkin_step_type type;
    const char *const *ast_node_ids;
    guint n_ast_node_ids;
    gboolean has_data_table;
    const tf_gherkin_pickle_row *rows;
    guint n_rows;
    const char *doc_string;            /* NULL when none */
    const char *doc_string_media_type; /* NULL when none */
    guint data_table_index;            /* 1 or 2 with both arguments, else 0 */
    guint doc_string_index;            /* 1 or 2 with both arguments, else 0 */
    tf_gherkin_location location;
} tf_gherkin_pickle_step;

/* A runnable scenario (one per scenario, one per examples row of an outline). */
typedef struct {
    const char *id, *uri, *name, *language;
    tf_gherkin_location location;
    const tf_gherkin_pickle_tag *tags;
    guint n_tags;
    const tf_gherkin_pickle_step *steps;
    guint n_steps;
    const char *const *ast_node_ids;
    guint n_ast_node_ids;
} tf_gherkin_pickle;

/* The pickles of one document; owns every pickle and string in it. */
typedef struct tf_gherkin_pickles tf_gherkin_pickles;
/* Compiles doc into pickles exactly as Cucumber does; ids from ids (borrowed). The
 * result is independent of doc; free it with tf_gherkin_pickles_free. */
TF_API tf_gherkin_pickles *tf_gherkin_compile(const tf_gherkin_document *doc,
                                              tf_gherkin_id_gen *ids);
/* Is handed one pickle (borrowed: valid during the call only); returns FALSE to stop. */
typedef gboolean (*tf_gherkin_pickle_fn)(const tf_gherkin_pickle *pickle, void *ctx);
/* Compiles doc as tf_gherkin_compile does but hands each pickle to fn as soon as it is
 * made, holding one pickle at a time; returns FALSE if fn stopped it. */
TF_API gboolean tf_gherkin_compile_each(const tf_gherkin_document *doc, tf_gherkin_id_gen *ids,
                                        tf_gherkin_pickle_fn fn, void *ctx);
/* Number of pickles. */
TF_API guint tf_gherkin_pickles_count(const tf_gherkin_pickles *pickles);
/* The i-th pickle (borrowed from pickles). */
TF_API const tf_gherkin_pickle *tf_gherkin_pickles_get(const tf_gherkin_pickles *pickles, guint i);
/* Frees the pickles (NULL is fine). */
TF_API void tf_gherkin_pickles_free(tf_gherkin_pickles *pickles);

/* ---- Cucumber Messages (each returns a new reference the caller json_decref()s) --- */

/* {"source":{"data":..,"mediaType":"text/x.cucumber.gherkin+plain","uri":..}} */
TF_API json_t *tf_gherkin_source_envelope(const char *uri, const char *data, gssize len);
/* {"gherkinDocument":{...}} */
TF_API json_t *tf_gherkin_document_envelope(const tf_gherkin_document *doc);
/* {"pickle":{...}} */
TF_API json_t *tf_gherkin_pickle_envelope(const tf_gherkin_pickle *pickle);
/* {"parseError":{"message":"(l:c): ..","source":{"location":..,"uri":..}}} */
TF_API json_t *tf_gherkin_error_envelope(const tf_gherkin_error *error);

/* The same envelopes written to out as one line of NDJSON (compact, keys sorted), as they
 * are made: a document's is never held whole in memory. Each returns FALSE when a write
 * fails (errno says why). */
TF_API gboolean tf_gherkin_source_write(const char *uri, const char *data, gssize len, FILE *out);
TF_API gboolean tf_gherkin_document_write(const tf_gherkin_document *doc, FILE *out);
TF_API gboolean tf_gherkin_pickle_write(const tf_gherkin_pickle *pickle, FILE *out);
TF_API gboolean tf_gherkin_error_write(const tf_gherkin_error *error, FILE *out);

G_END_DECLS

#endif
