/* raftkv_steps.h: the Raft KV step module (etcd clusters started by the local launcher). */
#ifndef TF_STEPS_RAFTKV_H
#define TF_STEPS_RAFTKV_H

#include <tf/steps.h>

/* Registers the Raft KV steps and their After hook into reg. */
gboolean raftkv_steps_register(tf_registry *reg, GError **error);

#endif
