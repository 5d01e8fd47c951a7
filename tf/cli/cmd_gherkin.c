/* cmd_gherkin.c: `tf gherkin [--no-source] [--no-ast] [--no-pickles] FILE...` prints the
 * Cucumber Messages of feature files as NDJSON, like the official gherkin command, so
 * tf's parser can be checked against (and diffed with) the reference implementation. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "tf/gherkin.h"

static void emit(json_t *j)
{
    char *line = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (line) {
        fputs(line, stdout);
        fputc('\n', stdout);
        free(line);
    }
    json_decref(j);
}

int tf_cmd_gherkin(int argc, char **argv)
{
    gboolean source = TRUE, ast = TRUE, pickles = TRUE;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--no-source")) {
            source = FALSE;
        } else if (!strcmp(argv[first], "--no-ast")) {
            ast = FALSE;
        } else if (!strcmp(argv[first], "--no-pickles")) {
            pickles = FALSE;
        } else if (!strcmp(argv[first], "--")) {
            first++;
            break;
        } else {
            fprintf(stderr, "tf gherkin: unknown option '%s'\n", argv[first]);
            first = argc;
            break;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: tf gherkin [--no-source] [--no-ast] [--no-pickles] FILE...\n");
        return 2;
    }
    int rc = 0;
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    for (int i = first; i < argc; i++) {
        char *data = NULL;
        gsize len = 0;
        GError *err = NULL;
        if (!g_file_get_contents(argv[i], &data, &len, &err)) {
            fprintf(stderr, "tf gherkin: %s: %s\n", argv[i], err->message);
            g_error_free(err);
            rc = 2;
            continue;
        }
        if (!g_utf8_validate(data, len, NULL)) {
            char *valid = g_utf8_make_valid(data, len);
            g_free(data);
            data = valid;
            len = strlen(valid);
        }
        if (source)
            emit(tf_gherkin_source_envelope(argv[i], data, len));
        GPtrArray *errors = NULL;
        tf_gherkin_document *doc = tf_gherkin_parse(argv[i], data, len, ids, &errors);
        if (doc) {
            if (ast)
                emit(tf_gherkin_document_envelope(doc));
            if (pickles) {
                tf_gherkin_pickles *p = tf_gherkin_compile(doc, ids);
                for (guint k = 0; k < tf_gherkin_pickles_count(p); k++)
                    emit(tf_gherkin_pickle_envelope(tf_gherkin_pickles_get(p, k)));
                tf_gherkin_pickles_free(p);
            }
            tf_gherkin_document_free(doc);
        } else {
            for (guint k = 0; errors && k < errors->len; k++)
                emit(tf_gherkin_error_envelope(errors->pdata[k]));
            tf_gherkin_errors_free(errors);
            rc = 1;
        }
        g_free(data);
    }
    tf_gherkin_id_gen_free(ids);
    return rc;
}
