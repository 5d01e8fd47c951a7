/* bundled.c: the list of step modules the `tf` command carries in.
 * Registration is explicit (no constructors) so a static link never drops a module. */
#include "bundled.h"

void tf_steps_bundled_register(void *registry)
{
    (void)registry;
}
