/* cmd_run.c: `tf run`: runs feature files with the bundled step modules plus any
 * `--plugin FILE.so` (dlopen'ed, entry point TF_PLUGIN_INIT_SYMBOL), through the same
 * entry point a user's own runner binary calls (tf_run_main). `--env local|compose|k8s`
 * sets TF_ENV, which steps that start clusters read (tf_cluster_env_name). */
#include <stdio.h>
#include <string.h>
#include "cli_priv.h"
#include "bundled.h"
#include "tf/cluster.h"
#include "tf/runner.h"

int tf_cmd_run(int argc, char **argv)
{
    GPtrArray *mods = g_ptr_array_new();
    GPtrArray *rest = g_ptr_array_new();
    int code = TF_RUN_EXIT_USAGE;
    g_ptr_array_add(mods, (gpointer)tf_steps_bundled_register);
    g_ptr_array_add(rest, argv[0]);
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        const char *env = NULL;
        if (!strcmp(argv[i], "--env")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tf run: --env needs local, compose or k8s\n");
                goto out;
            }
            env = argv[++i];
        } else if (g_str_has_prefix(argv[i], "--env=")) {
            env = argv[i] + strlen("--env=");
        }
        if (env) {
            GError *e = NULL;
            const char *name = tf_cluster_env_name(env, &e);
            if (!name) {
                fprintf(stderr, "tf run: --env: %s\n", e->message);
                g_error_free(e);
                goto out;
            }
            g_setenv("TF_ENV", name, TRUE); /* before any step thread exists */
            continue;
        }
        if (!strcmp(argv[i], "--plugin")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tf run: --plugin needs a FILE.so\n");
                goto out;
            }
            path = argv[++i];
        } else if (g_str_has_prefix(argv[i], "--plugin=")) {
            path = argv[i] + strlen("--plugin=");
        } else {
            g_ptr_array_add(rest, argv[i]);
            continue;
        }
        GError *e = NULL;
        tf_plugin_init_fn fn = tf_cli_plugin_load(path, &e);
        if (!fn) {
            fprintf(stderr, "tf run: %s\n", e->message);
            g_error_free(e);
            goto out;
        }
        g_ptr_array_add(mods, (gpointer)fn);
    }
    g_ptr_array_add(rest, NULL);
    code = tf_run_main((int)rest->len - 1, (char **)rest->pdata,
                       (const tf_plugin_init_fn *)mods->pdata, mods->len);
out:
    g_ptr_array_unref(rest);
    g_ptr_array_unref(mods);
    return code;
}
