/* raftkv_clients.h: the linearizability client workload of the Raft KV steps (K client
 * threads reading, writing and compare-and-setting a few etcd keys, every operation in the
 * scenario's history) and the steps that start, wait on, stop and check it. */
#ifndef TF_STEPS_RAFTKV_CLIENTS_H
#define TF_STEPS_RAFTKV_CLIENTS_H

#include <tf/steps.h>

/* Registers the client steps and their After hook into reg (raftkv_steps_register calls
 * it). */
gboolean raftkv_clients_register(tf_registry *reg, GError **error);

#endif
