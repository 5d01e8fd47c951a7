/* cli_priv.h: the subcommands of the `tf` command, one per file in tf/cli/.
 * Each takes argv with argv[0] = the subcommand name and returns the exit code. */
#ifndef TF_CLI_PRIV_H
#define TF_CLI_PRIV_H

#include <glib.h>
#include "runner/plugin.h"
#include "tf/steps.h"

int tf_cmd_demo(int argc, char **argv);
int tf_cmd_gherkin(int argc, char **argv);
int tf_cmd_report(int argc, char **argv);
int tf_cmd_run(int argc, char **argv);
int tf_cmd_history(int argc, char **argv);
/* `tf history check` (argv[0] = "check"). */
int tf_cmd_history_check(int argc, char **argv);
int tf_cmd_wire(int argc, char **argv);

/* The bundled plug-ins and their directory beside the running tf (static, never freed). */
const tf_bundled_plugins *tf_cli_bundled(void);

#endif
