/* plugin.c: loads a step plug-in (`--plugin FILE.so`) for the commands that take one:
 * dlopen, then the entry point TF_PLUGIN_INIT_SYMBOL. Plug-ins stay loaded: their code
 * may still run in abandoned (timed-out) step threads. */
#include <dlfcn.h>
#include <string.h>
#include "cli_priv.h"
#include "tf/error.h"

tf_plugin_init_fn tf_cli_plugin_load(const char *file, GError **error)
{
    /* dlopen searches the library path for a bare name; a file path must keep a '/'. */
    char *path = strchr(file, '/') ? g_strdup(file) : g_build_filename(".", file, NULL);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    g_free(path);
    void *sym = h ? dlsym(h, TF_PLUGIN_INIT_SYMBOL) : NULL;
    if (!sym) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "--plugin %s: %s", file,
                    h ? "no symbol " TF_PLUGIN_INIT_SYMBOL : dlerror());
        return NULL;
    }
    tf_plugin_init_fn init;
    memcpy(&init, &sym, sizeof init); /* object pointer to function pointer, as POSIX allows */
    return init;
}
