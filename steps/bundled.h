/* bundled.h: registers every bundled step module into a step registry. */
#ifndef TF_STEPS_BUNDLED_H
#define TF_STEPS_BUNDLED_H

/* Adds the bundled step definitions to `registry` (borrowed). */
void tf_steps_bundled_register(void *registry);

#endif
