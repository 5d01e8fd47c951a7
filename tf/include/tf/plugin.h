/* plugin.h: what a step plug-in (`tf run --plugin FILE.so`) exports. One line,
 *     TF_PLUGIN_DEFINE(my_steps_register);
 * in one of its files exports the entry point and a record of the tf it was compiled
 * against (TF_ABI_VERSION, TF_VERSION and the sizes of the public structs it fills or
 * reads). tf reads the record before it runs any of the plug-in's code and refuses a
 * plug-in built against another ABI: "plugin X.so was built against tf 0.1.0 (ABI 0);
 * this tf is 0.2.0 (ABI 1): rebuild it". A plug-in is not linked against libtf: the
 * program that loads it (tf, or a runner built on tf_run_main) provides tf's API. */
#ifndef TF_PLUGIN_H
#define TF_PLUGIN_H

#include <glib.h>
#include "tf/cluster.h"
#include "tf/handle.h"
#include "tf/lincheck.h"
#include "tf/observer.h"
#include "tf/runtime.h"
#include "tf/source.h"
#include "tf/steps.h"
#include "tf/version.h"

G_BEGIN_DECLS

/* The symbol of the entry point (a tf_plugin_init_fn, steps.h) and of the ABI record. */
#define TF_PLUGIN_INIT_SYMBOL "tf_plugin_init"
#define TF_PLUGIN_ABI_SYMBOL "tf_plugin_abi"

/* The size of one public struct as a plug-in's compiler saw it. */
typedef struct {
    const char *name; /* the struct's name ("tf_observer") */
    guint32 size;     /* its sizeof */
} tf_abi_size;

/* What TF_PLUGIN_DEFINE records (static data of the plug-in). The first three fields keep
 * their place in every ABI, so any tf can read which one a plug-in was built against. */
typedef struct {
    guint32 abi_version;      /* TF_ABI_VERSION */
    guint32 record_size;      /* sizeof(tf_abi_record) */
    const char *tf_version;   /* TF_VERSION */
    const tf_abi_size *sizes; /* n_sizes entries: TF_ABI_SIZES */
    guint32 n_sizes;
} tf_abi_record;

/* The public structs whose layout a plug-in depends on (it fills the vtables and configs,
 * reads the others field by field). tf compares each with its own: a differing size with
 * an equal ABI version means the version was not bumped, and is refused too. */
#define TF_ABI_SIZES                                                                        \
    {"tf_observer", sizeof(tf_observer)},                                                   \
    {"tf_source_provider_vtable", sizeof(tf_source_provider_vtable)},                       \
    {"tf_runtime_config", sizeof(tf_runtime_config)},                                       \
    {"tf_wait", sizeof(tf_wait)},                                                           \
    {"tf_failure", sizeof(tf_failure)},                                                     \
    {"tf_source_status", sizeof(tf_source_status)},                                         \
    {"tf_compose_config", sizeof(tf_compose_config)},                                       \
    {"tf_lin_model", sizeof(tf_lin_model)},                                                 \
    {"tf_lin_options", sizeof(tf_lin_options)},                                             \
    {"tf_gherkin_pickle", sizeof(tf_gherkin_pickle)},                                       \
    {"tf_gherkin_pickle_step", sizeof(tf_gherkin_pickle_step)},                             \
    {"tf_gherkin_pickle_row", sizeof(tf_gherkin_pickle_row)}

/* Marks the plug-in's two exported symbols (also under -fvisibility=hidden). */
#define TF_PLUGIN_EXPORT __attribute__((visibility("default")))

/* Defines, in the plug-in, the ABI record tf_plugin_abi and the entry point
 * tf_plugin_init, which calls init (a tf_plugin_init_fn registering the plug-in's steps
 * and hooks). Use it once per plug-in, at file scope. */
#define TF_PLUGIN_DEFINE(init)                                                              \
    static const tf_abi_size tf_plugin_sizes_[] = {TF_ABI_SIZES};                           \
    TF_PLUGIN_EXPORT extern const tf_abi_record tf_plugin_abi;                              \
    const tf_abi_record tf_plugin_abi = {TF_ABI_VERSION, sizeof(tf_abi_record), TF_VERSION, \
                                         tf_plugin_sizes_, G_N_ELEMENTS(tf_plugin_sizes_)}; \
    TF_PLUGIN_EXPORT gboolean tf_plugin_init(tf_registry *reg, GError **error);             \
    gboolean tf_plugin_init(tf_registry *reg, GError **error) { return (init)(reg, error); }

G_END_DECLS

#endif
