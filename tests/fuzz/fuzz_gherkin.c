/* fuzz_gherkin.c: libFuzzer entry point for the Gherkin parser: parse, compile pickles
 * (collected and streamed) and render every message of arbitrary input, both as json_t
 * and as streamed NDJSON lines that must each load back; a human error line must hold
 * no control character. ASan/UBSan catch what goes wrong. Built and run by
 * scripts/fuzz-gherkin.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tf/gherkin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean stream_pickle(const tf_gherkin_pickle *p, void *out)
{
    return tf_gherkin_pickle_write(p, out);
}

/* Every line of an NDJSON text is a JSON object. */
static void check_lines(char *text, size_t len)
{
    for (char *line = text, *nl; line < text + len; line = nl + 1) {
        nl = memchr(line, '\n', text + len - line);
        if (!nl)
            abort(); /* every envelope ends its line */
        json_error_t je;
        json_t *j = json_loadb(line, nl - line, 0, &je);
        if (!json_is_object(j))
            abort();
        json_decref(j);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    GPtrArray *errors = NULL;
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    if (!tf_gherkin_source_write("fuzz.feature", (const char *)data, size, out))
        abort();
    tf_gherkin_document *doc = tf_gherkin_parse("fuzz.feature", (const char *)data, size, ids, &errors);
    if (doc) {
        json_t *j = tf_gherkin_document_envelope(doc);
        char *s = json_dumps(j, JSON_COMPACT);
        if (!s)
            abort(); /* every AST must render */
        free(s);
        json_decref(j);
        tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
        for (guint i = 0; i < tf_gherkin_pickles_count(p); i++) {
            json_t *pj = tf_gherkin_pickle_envelope(tf_gherkin_pickles_get(p, i));
            if (!pj)
                abort();
            json_decref(pj);
        }
        if (!tf_gherkin_document_write(doc, out) || !tf_gherkin_compile_each(doc, ids, stream_pickle, out))
            abort();
        tf_gherkin_pickles_free(p);
        tf_gherkin_document_free(doc);
    } else {
        if (!errors || errors->len == 0)
            abort(); /* a rejected file always says why */
        for (guint i = 0; i < errors->len; i++) {
            json_t *e = tf_gherkin_error_envelope(errors->pdata[i]);
            if (!e || !tf_gherkin_error_write(errors->pdata[i], out))
                abort();
            json_decref(e);
            char *h = tf_gherkin_error_format(errors->pdata[i]);
            for (const unsigned char *c = (const unsigned char *)h; *c; c++)
                if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
                    abort(); /* input's control bytes must come out escaped */
            g_free(h);
        }
        tf_gherkin_errors_free(errors);
    }
    fclose(out);
    check_lines(text, text_len);
    free(text);
    tf_gherkin_id_gen_free(ids);
    return 0;
}
