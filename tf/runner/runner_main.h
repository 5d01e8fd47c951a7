/* runner_main.h: tf_run_main with what a command built on it adds: `tf run` is tf_run_main
 * plus its own name in messages and its own options (--env); a tap sees the run's events
 * as the reporters do (tests; a parallel run's worker). Internal to libtf, the tf command
 * and the tests. */
#ifndef TF_RUNNER_RUNNER_MAIN_H
#define TF_RUNNER_RUNNER_MAIN_H

#include "options.h"
#include "plugin.h"
#include "run_event.h"
#include "tf/runner.h"

typedef struct {
    const char *prog;   /* in usage and errors ("tf run"); NULL: argv[0]'s base name */
    tf_opt_group extra; /* options added after tf_run_main's own, or {NULL, NULL} */
    /* Plug-ins loaded unless --plugin or --no-bundled says otherwise (and the options
     * --bundled, --no-bundled), or NULL: none */
    const tf_bundled_plugins *bundled;
    tf_event_sink tap;  /* also gets every event, after the reporters, or NULL */
    void *tap_data;
} tf_run_ext;

/* tf_run_main(argc, argv, modules, n_modules) with ext (NULL: none). */
int tf_run_main_ext(int argc, char **argv, const tf_plugin_init_fn *modules, guint n_modules,
                    const tf_run_ext *ext);

#endif
