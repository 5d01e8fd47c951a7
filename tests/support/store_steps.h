/* store_steps.h: step definitions for tests of `tf run --store`, over the in-process
 * counter observer so a run takes milliseconds: each scenario journals a runtime whose
 * batches are counted exactly (the first sighting plus one per change), a step fails on
 * a pickle's first attempt (for --retry), and a cleanup publishes a batch while the
 * scenario's world ends (after its last step). */
#ifndef TF_TEST_STORE_STEPS_H
#define TF_TEST_STORE_STEPS_H

#include <tf/tf.h>

/* Registers:
 *   Given an observed counter that changes {int} times   (exactly N+1 batches)
 *   Then it fails on the first attempt                   (per pickle, per process)
 *   Then the counter changes once more as the scenario ends
 */
gboolean store_steps_register(tf_registry *reg, GError **error);

#endif
