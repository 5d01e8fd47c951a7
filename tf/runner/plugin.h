/* plugin.h: the step modules a command registers besides its own: the bundled plug-ins
 * (`tf run`, `tf wire`) and each `--plugin FILE.so`, ABI-checked (tf/plugin.h) before any
 * of their code runs. Shared by tf_run_main (so a user's runner takes --plugin like
 * `tf run`) and `tf wire`. */
#ifndef TF_RUNNER_PLUGIN_H
#define TF_RUNNER_PLUGIN_H

#include <glib.h>
#include "options.h"
#include "tf/plugin.h"

/* Registers a step module into reg as one module: what it defines carries the module's
 * number, which TF_HOOK_OWN_STEPS hooks are scoped by (registry.c). FALSE + init's error. */
gboolean tf_registry_add_module(tf_registry *reg, tf_plugin_init_fn init, GError **error);

/* TRUE when record (NULL: the plug-in has none) is of this tf's ABI; else FALSE +
 * TF_ERROR_INVALID "WHO: built against tf 0.1.0 (ABI 0); this tf is 0.2.0 (ABI 1): rebuild
 * it against this tf" (or naming the struct whose size differs). */
gboolean tf_abi_check(const tf_abi_record *record, const char *who, GError **error);

/* The init function of plug-in file (dlopen'ed, never closed once accepted: its code may
 * still run on an abandoned step thread), or NULL + error "--plugin FILE: why". */
tf_plugin_init_fn tf_plugin_load(const char *file, GError **error);

/* A command's bundled plug-ins: DIR/NAME.so for each name. */
typedef struct {
    const char *dir;
    const char *const *names; /* NULL-terminated, in registration order */
} tf_bundled_plugins;

/* What --plugin, --bundled and --no-bundled asked for. */
typedef struct {
    GPtrArray *files; /* each --plugin value (borrowed from argv), in order */
    int bundled;      /* -1: only without --plugin; 0: --no-bundled; 1: --bundled */
} tf_plugin_args;

/* Option tables writing into a tf_plugin_args: --plugin alone (a runner built on
 * tf_run_main), and --plugin, --bundled, --no-bundled (commands with bundled plug-ins). */
extern const tf_opt tf_plugin_opts[];
extern const tf_opt tf_plugin_bundled_opts[];

/* Prepares args for parsing: no file, bundled -1. */
void tf_plugin_args_init(tf_plugin_args *args);
/* Frees what args holds (not the strings). */
void tf_plugin_args_clear(tf_plugin_args *args);

/* Registers into reg, one module each (tf_registry_add_module): the bundled plug-ins (NULL:
 * none) when args asks for them, then each --plugin file. FALSE + error naming the file. */
gboolean tf_plugins_register(tf_registry *reg, const tf_bundled_plugins *bundled,
                             const tf_plugin_args *args, GError **error);

#endif
