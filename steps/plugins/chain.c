/* chain.c: the entry point of the bundled plug-in chain.so: litecoin regtest clusters,
 * mining, partitions, forks and reorgs (steps/chain_*.c over observers/chain). */
#include "tf/plugin.h"
#include "chain_steps.h"

TF_PLUGIN_DEFINE(chain_steps_register)
