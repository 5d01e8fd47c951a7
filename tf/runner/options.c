/* options.c: the table-driven option parser and usage generator every tf command shares
 * (options.h). One table per command is the single source of what it accepts: parsing
 * and --help both read it, so they cannot disagree. */
#include <stdarg.h>
#include <string.h>
#include "option_value.h"
#include "options.h"
#include "tf/error.h"

/* The widest "  -l, --name VALUE" the help column is aligned to; wider ones wrap. */
#define USAGE_LEFT_MAX 30

static const tf_opt help_opt = {"help", 'h', TF_OPT_FLAG, NULL, "print this help and exit"};

typedef struct {
    const tf_opt *opt; /* NULL: not found */
    void *dest;
} found_opt;

static found_opt find_long(const tf_opt_cmd *cmd, const char *name, gsize len)
{
    for (guint g = 0; g < G_N_ELEMENTS(cmd->groups); g++)
        for (const tf_opt *o = cmd->groups[g].opts; o && o->name; o++)
            if (strlen(o->name) == len && !strncmp(o->name, name, len))
                return (found_opt){o, cmd->groups[g].dest};
    if (len == 4 && !strncmp(name, "help", 4))
        return (found_opt){&help_opt, NULL};
    return (found_opt){NULL, NULL};
}

static found_opt find_letter(const tf_opt_cmd *cmd, char letter)
{
    for (guint g = 0; g < G_N_ELEMENTS(cmd->groups); g++)
        for (const tf_opt *o = cmd->groups[g].opts; o && o->name; o++)
            if (o->letter && o->letter == letter)
                return (found_opt){o, cmd->groups[g].dest};
    return (found_opt){letter == 'h' ? &help_opt : NULL, NULL};
}

/* Stores value (NULL for a flag) as o says; option is "--name" for errors. */
static gboolean store(const tf_opt *o, void *dest, const char *option, const char *value,
                      GError **error)
{
    void *field = (char *)dest + o->offset;
    switch (o->kind) {
    case TF_OPT_FLAG:
        *(int *)field = o->flag_value;
        return TRUE;
    case TF_OPT_TEXT:
        *(const char **)field = value;
        return TRUE;
    case TF_OPT_TEXTS:
        g_ptr_array_add(*(GPtrArray **)field, (gpointer)value);
        return TRUE;
    case TF_OPT_UINT:
        return tf_opt_parse_uint(option, value, o->min, o->max, (guint64 *)field, error);
    case TF_OPT_SECONDS:
        return tf_opt_parse_seconds(option, value, (gint64 *)field, error);
    case TF_OPT_CALL:
        return o->call(option, value, field, error);
    }
    return FALSE;
}

/* Handles the option at argv[*i] (it starts with '-'); may consume argv[*i + 1]. */
static tf_opt_result one_option(const tf_opt_cmd *cmd, int argc, char **argv, int *i,
                                GError **error)
{
    const char *arg = argv[*i];
    gboolean is_long = arg[1] == '-';
    const char *name = arg + (is_long ? 2 : 1);
    const char *eq = strchr(name, '=');
    gsize len = eq ? (gsize)(eq - name) : strlen(name);
    found_opt f = is_long ? find_long(cmd, name, len)
                          : len == 1 ? find_letter(cmd, name[0]) : (found_opt){NULL, NULL};
    if (!f.opt) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "unknown option '%s'", arg);
        return TF_OPT_ERROR;
    }
    char *option = g_strdup_printf("--%s", f.opt->name);
    const char *value = eq ? eq + 1 : NULL;
    tf_opt_result r = TF_OPT_ERROR;
    if (f.opt->kind == TF_OPT_FLAG && value) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s takes no value", option);
    } else if (f.opt == &help_opt) {
        r = TF_OPT_HELP;
    } else if (f.opt->kind != TF_OPT_FLAG && !value && *i + 1 >= argc) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s needs a value", option);
    } else {
        if (f.opt->kind != TF_OPT_FLAG && !value)
            value = argv[++*i];
        r = store(f.opt, f.dest, option, value, error) ? TF_OPT_OK : TF_OPT_ERROR;
    }
    g_free(option);
    return r;
}

tf_opt_result tf_opt_parse(const tf_opt_cmd *cmd, int argc, char **argv, GPtrArray *positional,
                           GError **error)
{
    gboolean options_end = FALSE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        tf_opt_result r = TF_OPT_OK;
        if (!options_end && !strcmp(a, "--"))
            options_end = TRUE;
        else if (!options_end && a[0] == '-' && a[1])
            r = one_option(cmd, argc, argv, &i, error);
        else if (cmd->positional && positional)
            g_ptr_array_add(positional, (gpointer)a);
        else {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "unexpected argument '%s'", a);
            r = TF_OPT_ERROR;
        }
        if (r != TF_OPT_OK)
            return r;
    }
    return TF_OPT_OK;
}

/* ---- usage ---- */

static char *left_column(const tf_opt *o)
{
    return g_strdup_printf("  %c%c%s--%s%s%s", o->letter ? '-' : ' ', o->letter ? o->letter : ' ',
                           o->letter ? ", " : "  ", o->name, o->value_name ? " " : "",
                           o->value_name ? o->value_name : "");
}

/* The column option help starts at: past the widest left column that is not too wide. */
static gsize help_column(const tf_opt_cmd *cmd)
{
    gsize widest = strlen("  -h, --help");
    for (guint g = 0; g < G_N_ELEMENTS(cmd->groups); g++)
        for (const tf_opt *o = cmd->groups[g].opts; o && o->name; o++) {
            char *left = left_column(o);
            gsize w = strlen(left);
            if (w <= USAGE_LEFT_MAX && w > widest)
                widest = w;
            g_free(left);
        }
    return widest + 2;
}

static void usage_entry(GString *out, const tf_opt *o, gsize column)
{
    char *left = left_column(o);
    g_string_append(out, left);
    gsize w = strlen(left);
    g_free(left);
    char *help = g_strdup_printf("%s%s", o->help ? o->help : "",
                                 o->kind == TF_OPT_TEXTS || o->repeatable ? " (repeatable)" : "");
    char **lines = g_strsplit(help, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (l != lines || w >= column) {
            g_string_append_c(out, '\n');
            w = 0;
        }
        g_string_append_printf(out, "%*s%s", (int)(column - w), "", *l);
    }
    g_string_append_c(out, '\n');
    g_strfreev(lines);
    g_free(help);
}

char *tf_opt_usage_text(const tf_opt_cmd *cmd)
{
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "usage: %s%s%s\n", cmd->prog, cmd->synopsis ? " " : "",
                           cmd->synopsis ? cmd->synopsis : "");
    if (cmd->preamble)
        g_string_append(out, cmd->preamble);
    gsize column = help_column(cmd);
    for (guint g = 0; g < G_N_ELEMENTS(cmd->groups); g++)
        for (const tf_opt *o = cmd->groups[g].opts; o && o->name; o++)
            usage_entry(out, o, column);
    usage_entry(out, &help_opt, column);
    if (cmd->epilogue)
        g_string_append(out, cmd->epilogue);
    return g_string_free(out, FALSE);
}

void tf_opt_usage(const tf_opt_cmd *cmd, FILE *out)
{
    char *text = tf_opt_usage_text(cmd);
    fputs(text, out);
    g_free(text);
}

int tf_opt_fail(const tf_opt_cmd *cmd, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", cmd->prog, msg);
    tf_opt_usage(cmd, stderr);
    g_free(msg);
    return 2;
}

int tf_opt_parse_or_exit(const tf_opt_cmd *cmd, int argc, char **argv, GPtrArray *positional)
{
    GError *error = NULL;
    tf_opt_result r = tf_opt_parse(cmd, argc, argv, positional, &error);
    if (r == TF_OPT_HELP) {
        tf_opt_usage(cmd, stdout);
        return 0;
    }
    if (r == TF_OPT_OK)
        return -1;
    int code = tf_opt_fail(cmd, "%s", error->message);
    g_error_free(error);
    return code;
}
