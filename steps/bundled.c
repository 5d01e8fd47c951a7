/* bundled.c: the list of step modules the `tf` command carries in.
 * Registration is explicit (no constructors) so a static link never drops a module. */
#include "bundled.h"
#include "chain_steps.h"
#include "net_steps.h"
#include "raftkv_steps.h"
#include "wallet_steps.h"

/* One line per bundled module: its init function, as a plug-in exports it. */
static const tf_plugin_init_fn modules[] = {
    raftkv_steps_register,
    chain_steps_register,
    wallet_steps_register,
    net_steps_register,
};

gboolean tf_steps_bundled_register(tf_registry *reg, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(modules); i++)
        if (modules[i] && !modules[i](reg, error))
            return FALSE;
    return TRUE;
}
