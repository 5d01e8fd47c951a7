/* chain_steps.h: the chain step module (litecoind regtest clusters started by the local
 * launcher, observed by the chain observer). */
#ifndef TF_STEPS_CHAIN_H
#define TF_STEPS_CHAIN_H

#include <tf/steps.h>

/* Registers the chain steps and their After hook into reg. */
gboolean chain_steps_register(tf_registry *reg, GError **error);

#endif
