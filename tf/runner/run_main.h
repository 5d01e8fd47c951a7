/* run_main.h: tf_run_main with what a command built on it adds: `tf run` is tf_run_main
 * plus its own name in messages and its own options (--env). Internal to libtf and the
 * tf command. */
#ifndef TF_RUNNER_RUN_MAIN_H
#define TF_RUNNER_RUN_MAIN_H

#include "options.h"
#include "tf/runner.h"

typedef struct {
    const char *prog;   /* in usage and errors ("tf run"); NULL: argv[0]'s base name */
    tf_opt_group extra; /* options added after tf_run_main's own, or {NULL, NULL} */
} tf_run_ext;

/* tf_run_main(argc, argv, modules, n_modules) with ext (NULL: none). */
int tf_run_main_ext(int argc, char **argv, const tf_plugin_init_fn *modules, guint n_modules,
                    const tf_run_ext *ext);

#endif
