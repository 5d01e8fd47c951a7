/* cmd_check.c: `tf history check`: checks client operation histories (tf's export, Jepsen
 * logs, Jepsen EDN maps) for linearizability against a bundled model, one verdict line per
 * file, and an exit code a CI job can act on. Optionally draws each violation as SVG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include "cli_priv.h"
#include "tf/lincheck.h"
#include "raftkv/lin_models.h"

static const char check_usage[] =
    "usage: tf history check --model register|kv [--timeout S] [--svg DIR] [--whole] FILE...\n"
    "  --model NAME   register: one register (read, write, cas), initially nil\n"
    "                 kv: keys with get, put, append, initially \"\", checked key by key\n"
    "  --timeout S    give up after S seconds per file: the verdict is then unknown\n"
    "  --svg DIR      draw each violation as DIR/<file name>.svg\n"
    "  --whole        check the history as one part (ignore the model's partition)\n"
    "FILE: tf's export (one {\"event\":...} a line), a Jepsen log (INFO jepsen.util - ...) or\n"
    "Jepsen EDN maps ({:process ...} a line).\n"
    "Prints 'FILE: linearizable', 'FILE: NOT linearizable (...)' or 'FILE: unknown (...)'.\n"
    "Exit: 0 all linearizable, 1 some NOT linearizable, 2 bad input or usage (FILE:LINE: why\n"
    "on stderr; it wins over 1 and 3), 3 none refuted but some unknown.\n";

/* The drawing of a violation, written to DIR/<basename>.svg; returns its path or NULL. */
static char *write_svg(const char *dir, const char *file, GPtrArray *ops,
                       const tf_lin_model *m, const tf_lin_result *r)
{
    char *base = g_path_get_basename(file);
    char *name = g_strconcat(base, ".svg", NULL);
    char *path = g_build_filename(dir, name, NULL);
    char *svg = tf_lin_svg(ops, m, r);
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

/* Checks one file; returns 0 linearizable, 1 not, 2 bad input, 3 unknown. */
static int check_file(const char *file, const tf_lin_model *m, const tf_lin_options *o,
                      const char *svg_dir)
{
    GError *err = NULL;
    tf_ophistory *h = tf_ophistory_load(file, &err);
    if (!h) {
        fprintf(stderr, "%s\n", err->message);
        g_error_free(err);
        return 2;
    }
    tf_lin_options fo = *o;
    fo.source = file;
    GPtrArray *ops = tf_ophistory_ops(h);
    tf_lin_result *r = tf_lin_check_ops(ops, m, &fo, &err);
    int code = 2;
    if (!r) {
        fprintf(stderr, "%s\n", err->message);
        g_error_free(err);
    } else if (r->verdict == TF_LIN_OK) {
        printf("%s: linearizable\n", file);
        code = 0;
    } else if (r->verdict == TF_LIN_UNKNOWN) {
        printf("%s: unknown (%s)\n", file, r->summary);
        code = 3;
    } else {
        char *svg = svg_dir ? write_svg(svg_dir, file, ops, m, r) : NULL;
        printf("%s: NOT linearizable (%s)%s%s\n", file, r->summary, svg ? "; drawn in " : "",
               svg ? svg : "");
        g_free(svg);
        code = 1;
    }
    fflush(stdout);
    tf_lin_result_free(r);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
    return code;
}

int tf_cmd_history_check(int argc, char **argv)
{
    const char *model = NULL, *svg_dir = NULL;
    tf_lin_options o = {0};
    GPtrArray *files = g_ptr_array_new();
    int code = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(check_usage, stdout);
            g_ptr_array_unref(files);
            return 0;
        } else if (!strcmp(a, "--model") && v) {
            model = v;
            i++;
        } else if (!strcmp(a, "--svg") && v) {
            svg_dir = v;
            i++;
        } else if (!strcmp(a, "--whole")) {
            o.whole = TRUE;
        } else if (!strcmp(a, "--timeout") && v) {
            char *end = NULL;
            double s = g_ascii_strtod(v, &end);
            if (!*v || *end || !(s > 0) || s > 1e6) {
                fprintf(stderr, "tf history check: --timeout takes seconds in (0, 1000000], not "
                        "'%s'\n", v);
                code = 2;
                break;
            }
            o.timeout_us = (gint64)(s * 1e6);
            i++;
        } else if (a[0] == '-' && a[1]) {
            gboolean takes_value = !strcmp(a, "--model") || !strcmp(a, "--svg") || !strcmp(a, "--timeout");
            fprintf(stderr, "tf history check: bad option '%s'%s\n%s", a,
                    takes_value && !v ? " (missing value)" : "", check_usage);
            code = 2;
            break;
        } else {
            g_ptr_array_add(files, (char *)a);
        }
    }
    const tf_lin_model *m = model ? raftkv_lin_model(model) : NULL;
    if (!code && !m) {
        fprintf(stderr, model ? "tf history check: unknown model '%s' (register, kv)\n"
                              : "tf history check: --model register|kv is required%s\n",
                model ? model : "");
        code = 2;
    } else if (!code && !files->len) {
        fprintf(stderr, "tf history check: no FILE given\n%s", check_usage);
        code = 2;
    } else if (!code && svg_dir && !g_file_test(svg_dir, G_FILE_TEST_IS_DIR) &&
               g_mkdir_with_parents(svg_dir, 0777) != 0) {
        fprintf(stderr, "tf history check: --svg %s: %s\n", svg_dir, g_strerror(errno));
        code = 2;
    }
    if (code) {
        g_ptr_array_unref(files);
        return code;
    }
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
