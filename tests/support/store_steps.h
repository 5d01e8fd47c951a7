/* store_steps.h: step definitions for tests of `tf run --store`, over the in-process
 * counter observer so a run takes milliseconds: each scenario journals a runtime whose
 * batches are counted exactly (the first sighting plus one per change), a step fails on
 * a pickle's first attempt (for --retry), and a cleanup publishes a batch while the
 * scenario's world ends (after its last step). */
#ifndef TF_TEST_STORE_STEPS_H
#define TF_TEST_STORE_STEPS_H

#include <tf/tf.h>
#include "counter_observer.h"

/* A runtime observing one counter cell every 1 ms, journaled in the world's store as
 * stream "counter" and kept in the world under key (freed with it). */
typedef struct {
    counter_cell cell;
    tf_runtime *rt;
    tf_handle *h;
} store_counter;

/* Makes, journals (before the runtime is in the world, as durable.h asks) and starts a
 * store_counter at value; NULL + error on failure (what was made goes with the world). */
store_counter *store_counter_start(tf_world *world, const char *key, gint value, GError **error);

/* Registers:
 *   Given an observed counter that changes {int} times   (exactly N+1 batches)
 *   Then it fails on the first attempt                   (per pickle, per process)
 *   Then the counter changes once more as the scenario ends
 */
gboolean store_steps_register(tf_registry *reg, GError **error);

#endif
