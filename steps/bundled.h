/* bundled.h: registers every bundled step module into a step registry. */
#ifndef TF_STEPS_BUNDLED_H
#define TF_STEPS_BUNDLED_H

#include "tf/steps.h"

/* Adds the bundled step definitions to reg (borrowed); FALSE + error naming the module
 * when one fails. Has the tf_plugin_init_fn shape, so `tf run` loads it like a plug-in. */
gboolean tf_steps_bundled_register(tf_registry *reg, GError **error);

#endif
