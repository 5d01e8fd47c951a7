/* fingerprint.c: an observer's fingerprint, the store's generic one (durable.h) taken
 * over the observer's name, version and code. Here, not in tf/durable, so that the store
 * stays a leaf that knows no observer. */
#include <string.h>
#include "tf/durable.h"
#include "tf/observer.h"

char *tf_fingerprint_observer(const tf_observer *obs, json_t *config,
                              const char *const *depends_on, GError **error)
{
    /* The poll function stands for the observer's code: it is what computes the state. */
    const void *code;
    G_STATIC_ASSERT(sizeof code == sizeof obs->poll);
    memcpy(&code, &obs->poll, sizeof code);
    return tf_fingerprint(obs->name, obs->version, config, code, depends_on, error);
}
