/* wallet_steps.h: the wallet step module (node wallets on litecoind regtest clusters,
 * observed by the wallet projection; clusters and partitions come from the chain steps). */
#ifndef TF_STEPS_WALLET_H
#define TF_STEPS_WALLET_H

#include <tf/steps.h>

/* Registers the wallet steps and their After hook into reg. */
gboolean wallet_steps_register(tf_registry *reg, GError **error);

#endif
