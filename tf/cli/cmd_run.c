/* cmd_run.c: `tf run`: runs feature files with the bundled plug-ins (when no --plugin is
 * given, or with --bundled) and each `--plugin FILE.so`, through the same entry point a
 * user's own runner binary calls (tf_run_main), which parses every option but one: `--env
 * local|compose|k8s` is tf run's, as only the bundled steps start clusters; it sets
 * TF_ENV, which those steps read (tf_cluster_env_name). */
#include "cli_priv.h"
#include "runner/runner_main.h"
#include "tf/cluster.h"

static gboolean opt_env(const char *option, const char *value, void *field, GError **error)
{
    const char *name = tf_cluster_env_name(value, error);
    if (!name) {
        g_prefix_error(error, "%s: ", option);
        return FALSE;
    }
    g_setenv("TF_ENV", name, TRUE); /* before any step thread exists */
    return TRUE;
}

static const tf_opt env_opts[] = {
    {"env", 0, TF_OPT_CALL, "ENV", "local (default), compose or k8s: where Given steps find\n"
     "clusters (sets TF_ENV)", .call = opt_env},
    {NULL},
};

int tf_cmd_run(int argc, char **argv)
{
    tf_run_ext ext = {.prog = "tf run", .extra = {env_opts, NULL}, .bundled = tf_cli_bundled()};
    return tf_run_main_ext(argc, argv, NULL, 0, &ext);
}
