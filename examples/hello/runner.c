/* runner.c: a user's own runner binary: its main hands argv and its step modules to
 * tf_run_main, which behaves exactly like `tf run`. */
#include <tf/tf.h>

gboolean hello_steps_register(tf_registry *reg, GError **error); /* hello_steps.c */

int main(int argc, char **argv)
{
    const tf_plugin_init_fn modules[] = {hello_steps_register};
    return tf_run_main(argc, argv, modules, G_N_ELEMENTS(modules));
}
