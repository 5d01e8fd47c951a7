/* raftkv.c: the entry point of the bundled plug-in raftkv.so: etcd clusters, their faults
 * and the Raft checks (steps/raftkv_*.c over observers/raftkv). */
#include "tf/plugin.h"
#include "raftkv_steps.h"

TF_PLUGIN_DEFINE(raftkv_steps_register)
