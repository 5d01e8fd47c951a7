/* cmd_check.c: `tf history check`: checks client operation histories (tf's export, Jepsen
 * logs, Jepsen EDN maps) for linearizability against a bundled model, one verdict line per
 * file, and an exit code a CI job can act on. Optionally draws each violation as SVG. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include "cli_priv.h"
#include "runner/option_value.h"
#include "runner/options.h"
#include "tf/lincheck.h"
#include "raftkv/lin_models.h"

typedef struct {
    const char *model, *svg_dir;
    gint64 timeout_us;
    int whole;
} check_args;

/* A time limit: a duration as every tf option takes one, but 0 would mean none. */
static gboolean opt_timeout(const char *option, const char *value, void *field, GError **error)
{
    if (!tf_opt_parse_seconds(option, value, field, error))
        return FALSE;
    if (*(gint64 *)field > 0)
        return TRUE;
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: '%s' is not above 0 seconds", option,
                value);
    return FALSE;
}

#define OPT(f) offsetof(check_args, f)
static const tf_opt check_opts[] = {
    {"model", 0, TF_OPT_TEXT, "register|registers|kv", "register: one register (read, write, cas),\n"
     "initially nil; registers: one such register per key\n({\"key\":K,\"value\":V} inputs, what tf's "
     "etcd clients\nrecord); kv: keys with get, put, append, initially \"\";\nkeyed models are checked "
     "key by key", OPT(model)},
    {"timeout", 0, TF_OPT_CALL, "S", "give up after S seconds per file (30, 2.5, 500ms): the\n"
     "verdict is then unknown", OPT(timeout_us), .call = opt_timeout},
    {"svg", 0, TF_OPT_TEXT, "DIR", "draw each violation as DIR/<file name>.svg", OPT(svg_dir)},
    {"whole", 0, TF_OPT_FLAG, NULL, "check the history as one part (ignore the model's\n"
     "partition)", OPT(whole), 1},
    {NULL},
};
#undef OPT

static const tf_opt_cmd check_cmd_template = {
    .prog = "tf history check",
    .synopsis = "--model register|registers|kv [--timeout S] [--svg DIR] [--whole] FILE...",
    .epilogue =
        "FILE: tf's export (one {\"event\":...} a line), a Jepsen log (INFO jepsen.util - ...),\n"
        "Jepsen EDN maps ({:process ...} a line), or `tf history export` of a run: each scenario's\n"
        "client history (its 'ophistory' stream) is checked apart, as 'FILE [run R, execution E\n"
        "(scenario ...)]'.\n"
        "Prints 'FILE: linearizable', 'FILE: NOT linearizable (...)' or 'FILE: unknown (...)'.\n"
        "Exit: 0 all linearizable, 1 some NOT linearizable, 2 bad input or usage (FILE:LINE: why\n"
        "on stderr; it wins over 1 and 3), 3 none refuted but some unknown.\n",
    .positional = TRUE,
};

/* The drawing of a violation, written to DIR/<basename>.svg (the n-th history of an
 * export: DIR/<basename>-<n>.svg); returns its path or NULL. */
static char *write_svg(const char *dir, const char *file, guint n, tf_ophistory *h,
                       GPtrArray *ops, const tf_lin_model *m, const tf_lin_result *r)
{
    char *base = g_path_get_basename(file);
    char *name = n ? g_strdup_printf("%s-%u.svg", base, n) : g_strconcat(base, ".svg", NULL);
    char *path = g_build_filename(dir, name, NULL);
    GPtrArray *faults = tf_ophistory_faults(h);
    char *svg = tf_lin_svg_faults(ops, faults, m, r);
    g_ptr_array_unref(faults);
    GError *err = NULL;
    if (!g_file_set_contents(path, svg, -1, &err)) {
        fprintf(stderr, "tf history check: %s: %s\n", path, err->message);
        g_error_free(err);
        g_free(path);
        path = NULL;
    }
    g_free(svg);
    g_free(name);
    g_free(base);
    return path;
}

/* Checks one history; `shown` names it in the verdict line, n > 0 numbers it among the
 * histories of an export. Returns 0 linearizable, 1 not, 2 bad input, 3 unknown. */
static int check_history(const char *file, const char *shown, guint n, tf_ophistory *h,
                         const tf_lin_model *m, const tf_lin_options *o, const char *svg_dir)
{
    GError *err = NULL;
    tf_lin_options fo = *o;
    fo.source = file;
    GPtrArray *ops = tf_ophistory_ops(h);
    tf_lin_result *r = tf_lin_check_ops(ops, m, &fo, &err);
    int code = 2;
    if (!r) {
        fprintf(stderr, "%s%s%s\n", err->message, n ? " in " : "", n ? shown : "");
        g_error_free(err);
    } else if (r->verdict == TF_LIN_OK) {
        printf("%s: linearizable\n", shown);
        code = 0;
    } else if (r->verdict == TF_LIN_UNKNOWN) {
        printf("%s: unknown (%s)\n", shown, r->summary);
        code = 3;
    } else {
        char *svg = svg_dir ? write_svg(svg_dir, file, n, h, ops, m, r) : NULL;
        printf("%s: NOT linearizable (%s)%s%s\n", shown, r->summary, svg ? "; drawn in " : "",
               svg ? svg : "");
        g_free(svg);
        code = 1;
    }
    fflush(stdout);
    tf_lin_result_free(r);
    g_ptr_array_unref(ops);
    return code;
}

/* Checks every history of one file (an export of a run holds one per scenario); returns
 * the worst code by the exit code's precedence (2, then 1, then 3). */
static int check_file(const char *file, const tf_lin_model *m, const tf_lin_options *o,
                      const char *svg_dir)
{
    GError *err = NULL;
    GPtrArray *all = tf_ophistory_load_all(file, &err);
    if (!all) {
        fprintf(stderr, "%s\n", err->message);
        g_error_free(err);
        return 2;
    }
    int worst = 0;
    for (guint i = 0; i < all->len; i++) {
        tf_ophistory_part *part = all->pdata[i];
        gboolean several = all->len > 1 || part->label;
        char *shown = several ? g_strdup_printf("%s [%s]", file, part->label) : g_strdup(file);
        int c = check_history(file, shown, several ? i + 1 : 0, part->history, m, o, svg_dir);
        worst = c == 2 || worst == 2 ? 2 : c == 1 || worst == 1 ? 1 : MAX(c, worst);
        g_free(shown);
    }
    g_ptr_array_unref(all);
    return worst;
}

/* Parses argv into a, files and *m; returns -1 to go on, else the exit code (2: usage). */
static int check_parse(int argc, char **argv, check_args *a, GPtrArray *files,
                       const tf_lin_model **m)
{
    tf_opt_cmd cmd = check_cmd_template;
    cmd.groups[0] = (tf_opt_group){check_opts, a};
    int code = tf_opt_parse_or_exit(&cmd, argc, argv, files);
    if (code >= 0)
        return code;
    if (!a->model)
        return tf_opt_fail(&cmd, "--model register|registers|kv is required");
    if (!(*m = raftkv_lin_model(a->model)))
        return tf_opt_fail(&cmd, "unknown model '%s' (register, registers, kv)", a->model);
    if (!files->len)
        return tf_opt_fail(&cmd, "no FILE given");
    if (a->svg_dir && !g_file_test(a->svg_dir, G_FILE_TEST_IS_DIR) &&
        g_mkdir_with_parents(a->svg_dir, 0777) != 0) {
        fprintf(stderr, "tf history check: --svg %s: %s\n", a->svg_dir, g_strerror(errno));
        return 2;
    }
    return -1;
}

int tf_cmd_history_check(int argc, char **argv)
{
    check_args a = {0};
    const tf_lin_model *m = NULL;
    GPtrArray *files = g_ptr_array_new();
    int code = check_parse(argc, argv, &a, files, &m);
    if (code >= 0) {
        g_ptr_array_unref(files);
        return code;
    }
    tf_lin_options o = {.timeout_us = a.timeout_us, .whole = a.whole};
    const char *svg_dir = a.svg_dir;
    gboolean bad = FALSE, violated = FALSE, unknown = FALSE;
    for (guint i = 0; i < files->len; i++) {
        int c = check_file(files->pdata[i], m, &o, svg_dir);
        bad |= c == 2;
        violated |= c == 1;
        unknown |= c == 3;
    }
    g_ptr_array_unref(files);
    return bad ? 2 : violated ? 1 : unknown ? 3 : 0;
}
