/* run.c: running a deployment tool (docker, podman, kubectl) to completion from an argv.
 * No shell: the program is found on PATH like execvp would; its stderr tail goes into
 * the error, since that is where these tools say why they failed. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include "tf/error.h"
#include "deploy_priv.h"

#define TF_DEPLOY_ERR_TAIL 400

/* In the child: a runner's blocked signals (its signal thread uses sigwait) would be
 * inherited through exec; docker/podman/kubectl get a clean mask. */
static void clean_signals(gpointer unused)
{
    (void)unused;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
}

gboolean tf_deploy_run_env(const char *where, char **argv, const char *const *env, gchar **out,
                           gchar **err, GError **error)
{
    gchar *sout = NULL, *serr = NULL;
    gint status = 0;
    GError *e = NULL;
    gchar *cmd = g_strjoinv(" ", argv);
    gchar **envp = NULL;
    if (env) {
        envp = g_get_environ();
        for (guint i = 0; env[i]; i++) {
            const char *eq = strchr(env[i], '=');
            gchar *name = eq ? g_strndup(env[i], (gsize)(eq - env[i])) : g_strdup(env[i]);
            envp = eq ? g_environ_setenv(envp, name, eq + 1, TRUE) : g_environ_unsetenv(envp, name);
            g_free(name);
        }
    }
    gboolean ok = g_spawn_sync(NULL, argv, envp, G_SPAWN_SEARCH_PATH, clean_signals, NULL, &sout,
                               &serr, &status, &e);
    g_strfreev(envp);
    if (!ok) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: %s: %s", where, cmd, e->message);
        g_error_free(e);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        gchar *tail = g_strstrip(serr);
        gsize len = strlen(tail);
        if (len > TF_DEPLOY_ERR_TAIL)
            tail += len - TF_DEPLOY_ERR_TAIL;
        g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s: %s: %s %d%s%s", where, cmd,
                    WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), *tail ? ": " : "",
                    tail);
        ok = FALSE;
    }
    if (ok && out)
        *out = sout;
    else
        g_free(sout);
    if (ok && err)
        *err = serr;
    else
        g_free(serr);
    g_free(cmd);
    return ok;
}

gboolean tf_deploy_run(const char *where, char **argv, gchar **out, GError **error)
{
    return tf_deploy_run_env(where, argv, NULL, out, NULL, error);
}
