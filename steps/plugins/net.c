/* net.c: the entry point of the bundled plug-in net.so: network faults (partitions,
 * isolation, one-way cuts, loss, delay, a seeded nemesis) for any cluster that raftkv.so
 * or chain.so started in network namespaces (steps/net_steps.c; the app's Given step
 * attaches its cluster to the scenario's world, where these steps find it). */
#include "tf/plugin.h"
#include "net_steps.h"

TF_PLUGIN_DEFINE(net_steps_register)
