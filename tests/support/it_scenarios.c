/* it_scenarios.c: temp dir, environment marker, marked process count and `tf run` for
 * the integration tests that drive bundled features against real daemons. */
#define _GNU_SOURCE /* memmem */
#include "it_scenarios.h"
#include <dirent.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

static char *tmp;
static char mark[64]; /* "TF_IT_MARK=<pid>-<time>", as it appears in /proc/PID/environ */

int it_setup(const char *prefix)
{
    char *templ = g_strdup_printf("%s-XXXXXX", prefix);
    tmp = g_dir_make_tmp(templ, NULL);
    g_free(templ);
    g_setenv("TF_CLUSTERS", TF_SOURCE_DIR "/scenarios/clusters", TRUE);
    g_snprintf(mark, sizeof mark, "TF_IT_MARK=%d-%" G_GINT64_FORMAT, getpid(), g_get_real_time());
    g_setenv("TF_IT_MARK", strchr(mark, '=') + 1, TRUE);
    return tmp ? 0 : -1;
}

int it_teardown(void)
{
    GDir *d = g_dir_open(tmp, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(tmp, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmp);
    g_clear_pointer(&tmp, g_free);
    return 0;
}

const char *it_tmp(void) { return tmp; }

char *it_path(const char *name) { return g_build_filename(tmp, name, NULL); }

guint it_count_marked(const char *exe_name)
{
    char *suffix = g_strconcat("/", exe_name, NULL);
    guint n = 0;
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while (proc && (e = readdir(proc))) {
        char link[64], target[256];
        g_snprintf(link, sizeof link, "/proc/%s/exe", e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = 0;
        char *env_path = g_strdup_printf("/proc/%s/environ", e->d_name), *env = NULL;
        gsize env_len = 0;
        if (g_str_has_suffix(target, suffix) && g_file_get_contents(env_path, &env, &env_len, NULL))
            n += memmem(env, env_len, mark, strlen(mark) + 1) != NULL;
        g_free(env);
        g_free(env_path);
    }
    if (proc)
        closedir(proc);
    g_free(suffix);
    return n;
}

int it_run_tf(const char *const *args, char **out)
{
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)bin);
    g_ptr_array_add(argv, "run");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    int status = -1;
    GError *err = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, out, NULL, &status, &err);
    g_ptr_array_unref(argv);
    if (!ok) {
        *out = g_strdup_printf("cannot run %s: %s", bin, err->message);
        g_error_free(err);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
