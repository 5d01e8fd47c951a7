/* runner.h: the step runner's entry point, what `tf run` and a user's own runner binary
 * call. It parses cucumber-like options, loads step modules into a registry, runs the
 * feature files and writes the reports. Exit codes follow cucumber. */
#ifndef TF_RUNNER_H
#define TF_RUNNER_H

#include <glib.h>
#include "tf/steps.h"
#include "tf/api.h"

G_BEGIN_DECLS

/* Exit codes of tf_run_main. */
enum {
    TF_RUN_EXIT_PASSED = 0,       /* every scenario passed */
    TF_RUN_EXIT_FAILED = 1,       /* a scenario failed (or, with --strict, was undefined/pending) */
    TF_RUN_EXIT_USAGE = 2,        /* bad options, unreadable or unparsable feature files */
    TF_RUN_EXIT_INTERRUPTED = 130 /* SIGINT/SIGTERM stopped the run (128 + SIGINT) */
};

/* Runs `tf run`-style argv (argv[0] is the program name, used in messages): registers each
 * of the n_modules step modules (borrowed function pointers), then each `--plugin FILE.so`
 * (refused unless built against this tf's ABI, plugin.h; it needs tf's API exported by the
 * program: libtf.so, or the whole libtf.a with -rdynamic), each as one module (steps.h:
 * TF_HOOK_OWN_STEPS), into a fresh registry, runs the features named by the arguments and returns an exit
 * code above. Prints usage with --help. Installs SIGINT/SIGTERM handling for the duration
 * of the run only. */
TF_API int tf_run_main(int argc, char **argv, const tf_plugin_init_fn *modules, guint n_modules);

G_END_DECLS

#endif
