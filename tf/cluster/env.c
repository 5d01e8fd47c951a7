/* env.c: which environment a run targets (`tf run --env local|compose|k8s`, TF_ENV).
 * The runner sets TF_ENV; steps that start clusters read it through here so an unknown
 * name fails the same way everywhere. */
#include <string.h>
#include "tf/cluster.h"
#include "tf/error.h"

const char *tf_cluster_env_name(const char *env, GError **error)
{
    static const char *known[] = {"local", "compose", "k8s"};
    if (!env)
        env = g_getenv("TF_ENV");
    if (!env || !*env)
        return known[0];
    for (guint i = 0; i < G_N_ELEMENTS(known); i++)
        if (!strcmp(env, known[i]))
            return known[i];
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "environment '%s': use local, compose or k8s", env);
    return NULL;
}
