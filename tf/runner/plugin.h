/* plugin.h: loading a step plug-in (`--plugin FILE.so`), shared by tf_run_main (so a
 * user's own runner takes --plugin like `tf run`) and `tf wire`. */
#ifndef TF_RUNNER_PLUGIN_H
#define TF_RUNNER_PLUGIN_H

#include <glib.h>
#include "tf/steps.h"

/* The init function of plug-in file (dlopen'ed, never closed: its code may still run on
 * an abandoned step thread), or NULL + error "--plugin FILE: why". */
tf_plugin_init_fn tf_plugin_load(const char *file, GError **error);

#endif
