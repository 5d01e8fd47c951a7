/* main.c: the `tf` command: dispatches to one subcommand per file in tf/cli/, and prints
 * the version (`tf --version`, `tf version`: tf/version.h's, with the ABI; the same one the
 * reports' meta envelope carries). Exit codes follow cucumber: 0 all passed, 1 failures,
 * 2 usage or parse errors. */
#include <stdio.h>
#include <string.h>
#include "cli_priv.h"
#include "tf/version.h"

static int version(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "tf version: takes no arguments ('%s')\n", argv[1]);
        return 2;
    }
    printf("tf %s (ABI %d)\n", tf_version(), tf_abi_version());
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"demo", tf_cmd_demo, "observe a local HTTP source and print what the runtime sees"},
    {"gherkin", tf_cmd_gherkin, "print Cucumber Messages for feature files"},
    {"run", tf_cmd_run, "run feature files against step definitions (tf run --help)"},
    {"report", tf_cmd_report, "merge the reports of several runs (tf report merge --help)"},
    {"wire", tf_cmd_wire, "serve the step definitions to Cucumber over the wire protocol"},
    {"history", tf_cmd_history, "print a run's event journal from the durable store (NDJSON)"},
    {"version", version, "print tf's version (also: tf --version)"},
    /* subcommands: one line each */
};

static int usage(FILE *out)
{
    fprintf(out, "usage: tf COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    if (!strcmp(argv[1], "--version"))
        return version(argc - 1, argv + 1);
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tf: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
