/* wallet.c: the entry point of the bundled plug-in wallet.so: wallets and payments on the
 * clusters chain.so starts (steps/wallet_steps.c over observers/wallet; it shares the
 * chain plug-in's world, so a wallet scenario loads both). */
#include "tf/plugin.h"
#include "wallet_steps.h"

TF_PLUGIN_DEFINE(wallet_steps_register)
