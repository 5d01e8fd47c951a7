/* cmd_gherkin.c: `tf gherkin [--no-source] [--no-ast] [--no-pickles] FILE...` prints the
 * Cucumber Messages of feature files as NDJSON, like the official gherkin command, so
 * tf's parser can be checked against (and diffed with) the reference implementation.
 * Envelopes go out as they are made: the document is written straight from the AST and
 * each pickle as soon as it is compiled, so the command needs little more memory than
 * the parse itself. Parse errors also go to stderr as FILE:LINE:COL: message. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "cli_priv.h"
#include "runner/options.h"
#include "tf/gherkin.h"

typedef struct {
    int no_source, no_ast, no_pickles;
} gherkin_args;

#define OPT(f) offsetof(gherkin_args, f)
static const tf_opt gherkin_opts[] = {
    {"no-source", 0, TF_OPT_FLAG, NULL, "leave out the source envelopes", OPT(no_source), 1},
    {"no-ast", 0, TF_OPT_FLAG, NULL, "leave out the gherkinDocument envelopes", OPT(no_ast), 1},
    {"no-pickles", 0, TF_OPT_FLAG, NULL, "leave out the pickle envelopes", OPT(no_pickles), 1},
    {NULL},
};
#undef OPT

static const tf_opt_cmd gherkin_cmd_template = {
    .prog = "tf gherkin",
    .synopsis = "[--no-source] [--no-ast] [--no-pickles] FILE...",
    .preamble = "Prints the Cucumber Messages of each feature file as NDJSON on stdout: its source,\n"
                "its gherkinDocument and its pickles, or its parseErrors (also on stderr, as\n"
                "FILE:LINE:COL: message).\n",
    .epilogue = "Exit status: 0 every file parsed, 1 a file has parse errors, 2 bad usage or a file\n"
                "that cannot be read, or stdout cannot be written.\n",
    .positional = TRUE,
};

static gboolean write_pickle(const tf_gherkin_pickle *p, void *ctx)
{
    return tf_gherkin_pickle_write(p, stdout);
}

/* Prints one file's envelopes; returns 0, 1 (parse errors) or 2 (unreadable). */
static int one_file(const char *path, gboolean source, gboolean ast, gboolean pickles,
                    tf_gherkin_id_gen *ids, gboolean *write_ok)
{
    char *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "tf gherkin: %s\n", err->message);
        g_error_free(err);
        return 2;
    }
    /* invalid UTF-8 (and NUL) reads as U+FFFD, as in the official reader: the source
     * envelope and the parser each see to it */
    gboolean ok = TRUE;
    if (source)
        ok = tf_gherkin_source_write(path, data, len, stdout);
    GPtrArray *errors = NULL;
    tf_gherkin_document *doc = tf_gherkin_parse(path, data, len, ids, &errors);
    g_free(data);
    int rc = 0;
    if (doc) {
        if (ok && ast)
            ok = tf_gherkin_document_write(doc, stdout);
        if (ok && pickles)
            ok = tf_gherkin_compile_each(doc, ids, write_pickle, NULL);
        tf_gherkin_document_free(doc);
    } else {
        fflush(stdout); /* stdout and stderr may be one terminal: keep their order */
        for (guint k = 0; errors && k < errors->len; k++) {
            if (ok)
                ok = tf_gherkin_error_write(errors->pdata[k], stdout);
            char *line = tf_gherkin_error_format(errors->pdata[k]);
            fprintf(stderr, "%s\n", line);
            g_free(line);
        }
        tf_gherkin_errors_free(errors);
        rc = 1;
    }
    *write_ok = ok;
    return rc;
}

int tf_cmd_gherkin(int argc, char **argv)
{
    gherkin_args a = {0};
    tf_opt_cmd cmd = gherkin_cmd_template;
    cmd.groups[0] = (tf_opt_group){gherkin_opts, &a};
    GPtrArray *files = g_ptr_array_new();
    int code = tf_opt_parse_or_exit(&cmd, argc, argv, files);
    if (code < 0 && files->len == 0)
        code = tf_opt_fail(&cmd, "no feature file given");
    if (code >= 0) {
        g_ptr_array_unref(files);
        return code;
    }
    gboolean source = !a.no_source, ast = !a.no_ast, pickles = !a.no_pickles;
    int rc = 0;
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    for (guint i = 0; i < files->len; i++) {
        gboolean write_ok = TRUE;
        int r = one_file(g_ptr_array_index(files, i), source, ast, pickles, ids, &write_ok);
        if (write_ok && fflush(stdout) != 0)
            write_ok = FALSE;
        if (!write_ok) {
            fprintf(stderr, "tf gherkin: cannot write to stdout: %s\n", g_strerror(errno));
            rc = 2;
            break;
        }
        rc = MAX(rc, r);
    }
    tf_gherkin_id_gen_free(ids);
    g_ptr_array_unref(files);
    return rc;
}
