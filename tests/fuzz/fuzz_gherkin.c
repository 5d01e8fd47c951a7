/* fuzz_gherkin.c: libFuzzer entry point for the Gherkin parser: parse, compile pickles
 * and render every message of arbitrary input; ASan/UBSan catch what goes wrong.
 * Built and run by scripts/fuzz-gherkin.sh. */
#include <stdint.h>
#include <stdlib.h>
#include "tf/gherkin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    GPtrArray *errors = NULL;
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
        tf_gherkin_pickles_free(p);
        tf_gherkin_document_free(doc);
    } else {
        if (!errors || errors->len == 0)
            abort(); /* a rejected file always says why */
        for (guint i = 0; i < errors->len; i++) {
            json_t *e = tf_gherkin_error_envelope(errors->pdata[i]);
            if (!e)
                abort();
            json_decref(e);
            g_free(tf_gherkin_error_format(errors->pdata[i]));
        }
        tf_gherkin_errors_free(errors);
    }
    tf_gherkin_id_gen_free(ids);
    return 0;
}
