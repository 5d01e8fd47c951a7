/* cmd_report.c: `tf report merge [-o FILE] REPORT...`: one report from the reports of
 * several runs of a suite, such as the N shards of `tf run --shard I/N` run by N CI jobs
 * or the pods of a Kubernetes Indexed Job (scenarios/deploy/k8s/README.md). The inputs
 * are all Cucumber Messages (NDJSON) or all JUnit XML, told apart by their first byte;
 * report_merge.c says what the merged report holds. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "cli_priv.h"
#include "runner/options.h"
#include "runner/report_merge.h"

typedef struct {
    const char *output;
} merge_args;

static const tf_opt merge_opts[] = {
    {"output", 'o', TF_OPT_TEXT, "FILE", "write the merged report to FILE (default: stdout)",
     offsetof(merge_args, output)},
    {NULL},
};

/* '{' (NDJSON), '<' (XML) or 0: the first byte that is not white space. */
static char first_byte(const char *path, GError **error)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s", path,
                    g_strerror(e));
        return 0;
    }
    int c;
    while ((c = fgetc(f)) != EOF && g_ascii_isspace(c))
        ;
    fclose(f);
    if (c != '{' && c != '<')
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: neither Cucumber Messages (NDJSON) nor JUnit XML", path);
    return c == '{' || c == '<' ? (char)c : 0;
}

static int merge(int argc, char **argv)
{
    merge_args a = {0};
    tf_opt_cmd cmd = {
        .prog = "tf report merge",
        .synopsis = "[-o FILE] REPORT...",
        .preamble = "Merges the reports of several runs of one suite (the shards of tf run --shard\n"
                    "I/N) into one: all Cucumber Messages (NDJSON) files or all JUnit XML files.\n",
        .epilogue = "Exit status: 0 merged, 1 a report cannot be read or merged, 2 bad usage.\n",
        .groups = {{merge_opts, &a}},
        .positional = TRUE,
    };
    GPtrArray *paths = g_ptr_array_new();
    int code = tf_opt_parse_or_exit(&cmd, argc, argv, paths);
    if (code < 0 && paths->len == 0)
        code = tf_opt_fail(&cmd, "no report to merge");
    GError *error = NULL;
    char kind = 0;
    for (guint i = 0; code < 0 && i < paths->len; i++) {
        char k = first_byte(paths->pdata[i], &error);
        if (k && kind && k != kind)
            g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is %s, %s is %s: merge "
                        "each kind apart", (char *)paths->pdata[0],
                        kind == '{' ? "NDJSON" : "XML", (char *)paths->pdata[i],
                        k == '{' ? "NDJSON" : "XML");
        kind = k;
        if (error)
            code = 1;
    }
    FILE *out = stdout;
    if (code < 0 && a.output && !(out = fopen(a.output, "w"))) {
        int e = errno;
        g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s", a.output,
                    g_strerror(e));
        code = 1;
    }
    if (code < 0) {
        const char *const *p = (const char *const *)paths->pdata;
        gboolean ok = kind == '{' ? tf_report_merge_messages(p, paths->len, out, &error)
                                  : tf_report_merge_junit(p, paths->len, out, &error);
        if (out != stdout && fclose(out) != 0 && ok) {
            g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: %s", a.output,
                        g_strerror(errno));
            ok = FALSE;
        }
        code = ok ? 0 : 1;
    }
    if (error) {
        fprintf(stderr, "tf report merge: %s\n", error->message);
        g_error_free(error);
    }
    g_ptr_array_unref(paths);
    return code;
}

int tf_cmd_report(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "merge"))
        return merge(argc - 1, argv + 1);
    FILE *out = argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? stdout
                                                                                     : stderr;
    fprintf(out, "usage: tf report merge [-o FILE] REPORT...   (tf report merge --help)\n");
    if (out == stderr && argc >= 2)
        fprintf(stderr, "tf report: unknown subcommand '%s'\n", argv[1]);
    return out == stdout ? 0 : 2;
}
