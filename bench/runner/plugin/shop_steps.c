/* shop_steps.c: bench_runner's step definitions as a user would ship them to `tf run`:
 * a plug-in (tf run --plugin) with five trivial steps, the same five that bench_runner
 * gives cucumber-js in JavaScript. Only the public API is used. */
#include <tf/tf.h>

static tf_step_status trivial(tf_step *step, GError **error)
{
    return TF_STEP_PASSED;
}

static gboolean shop_steps_register(tf_registry *reg, GError **error)
{
    TF_GIVEN("a user named {string}", trivial);
    TF_GIVEN("the user has {int} items in the cart", trivial);
    TF_WHEN("the user adds {int} more", trivial);
    TF_WHEN("the user checks out", trivial);
    TF_THEN("the order has {int} items", trivial);
    return TRUE;
}

TF_PLUGIN_DEFINE(shop_steps_register)
