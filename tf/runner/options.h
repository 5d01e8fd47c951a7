/* options.h: the one command-line parser of tf: every `tf` subcommand and every runner
 * built on tf_run_main describes its options in a table, and the same table drives the
 * parser and the generated --help, so a usage text never lists an option the command
 * refuses, and `--opt=value`, `--opt value`, `-o value`, `--` and the errors read the
 * same everywhere. Numeric values go through option_value.h (ranges; nan, inf refused). */
#ifndef TF_RUNNER_OPTIONS_H
#define TF_RUNNER_OPTIONS_H

#include <stdio.h>
#include <glib.h>

typedef enum {
    TF_OPT_FLAG,    /* no value: stores flag_value in an int */
    TF_OPT_TEXT,    /* stores the value (const char *, borrowed from argv); last one wins */
    TF_OPT_TEXTS,   /* appends the value to a GPtrArray * (borrowed strings): repeatable */
    TF_OPT_UINT,    /* a whole number in [min, max], stored in a guint64 */
    TF_OPT_SECONDS, /* a duration ("30", "2.5", "500ms"), stored in a gint64 of microseconds */
    TF_OPT_CALL,    /* hands the value to call(), which checks and stores it */
} tf_opt_kind;

typedef struct tf_opt tf_opt;
struct tf_opt {
    const char *name;       /* the long name without dashes ("step-timeout"); NULL ends a table */
    char letter;            /* the short name ('f' for -f), or 0 */
    tf_opt_kind kind;
    const char *value_name; /* the value in the usage ("S", "PATH"); NULL for flags */
    const char *help;       /* the usage text; each '\n' starts an aligned continuation line */
    gsize offset;           /* where the value goes: an offset into the group's dest */
    int flag_value;         /* TF_OPT_FLAG: the value stored */
    guint64 min, max;       /* TF_OPT_UINT: the accepted range */
    /* TF_OPT_CALL: option is "--name" for errors, field points at dest + offset. */
    gboolean (*call)(const char *option, const char *value, void *field, GError **error);
    gboolean repeatable;    /* TF_OPT_CALL: the usage says "(repeatable)"; TEXTS always is */
};

/* One table and the struct its offsets point into. */
typedef struct {
    const tf_opt *opts; /* terminated by an entry whose name is NULL */
    void *dest;
} tf_opt_group;

/* A command: its options (more groups let a command add to shared tables, as `tf run`
 * adds the plug-in options and --env to tf_run_main's) and the text around them in the
 * usage. */
typedef struct {
    const char *prog;      /* "tf wire": starts the usage line and every error */
    const char *synopsis;  /* after "usage: PROG ": "[OPTIONS] [PATH[:LINE]...]" */
    const char *preamble;  /* lines between the usage line and the options, or NULL */
    const char *epilogue;  /* lines after the options, or NULL */
    tf_opt_group groups[3];
    gboolean positional;   /* takes arguments besides options */
} tf_opt_cmd;

typedef enum {
    TF_OPT_OK,    /* parsed; positional arguments collected */
    TF_OPT_HELP,  /* -h or --help came before any error */
    TF_OPT_ERROR, /* error set: "unknown option '--x'", "--x needs a value", a value's error */
} tf_opt_result;

/* Parses argv[1..argc-1] left to right: "--name=value", "--name value", "-l value" and
 * "-l=value"; "--" ends the options. Arguments that are not options (and "-") are
 * appended, borrowed, to positional, or are an error when the command takes none. Stops
 * at -h/--help (TF_OPT_HELP) or at the first error. */
tf_opt_result tf_opt_parse(const tf_opt_cmd *cmd, int argc, char **argv, GPtrArray *positional,
                           GError **error);
/* Writes the usage generated from cmd: usage line, preamble, one entry per option of each
 * group (and -h, --help), epilogue. */
void tf_opt_usage(const tf_opt_cmd *cmd, FILE *out);
/* The usage as a new string. */
char *tf_opt_usage_text(const tf_opt_cmd *cmd);
/* Parses and handles the outcome the same way for every command: on help prints the usage
 * to stdout and returns 0; on an error prints "PROG: message" and the usage to stderr and
 * returns 2; returns -1 when the command should go on. */
int tf_opt_parse_or_exit(const tf_opt_cmd *cmd, int argc, char **argv, GPtrArray *positional);
/* A usage error found after parsing: prints "PROG: message" and the usage to stderr; 2. */
int tf_opt_fail(const tf_opt_cmd *cmd, const char *format, ...) G_GNUC_PRINTF(2, 3);

#endif
