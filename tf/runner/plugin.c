/* plugin.c: loads a step plug-in (`--plugin FILE.so`) for tf_run_main and `tf wire`:
 * dlopen, then the entry point TF_PLUGIN_INIT_SYMBOL. Plug-ins stay loaded: their code
 * may still run in abandoned (timed-out) step threads. */
#include <dlfcn.h>
#include <string.h>
#include "plugin.h"
#include "tf/error.h"

tf_plugin_init_fn tf_plugin_load(const char *file, GError **error)
{
    /* dlopen searches the library path for a bare name; a file path must keep a '/'. */
    char *path = strchr(file, '/') ? g_strdup(file) : g_build_filename(".", file, NULL);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    g_free(path);
    void *sym = h ? dlsym(h, TF_PLUGIN_INIT_SYMBOL) : NULL;
    if (!sym) {
        const char *why = h ? "no symbol " TF_PLUGIN_INIT_SYMBOL : dlerror();
        /* A runner linked with the static libtf must export tf's API to its plug-ins. */
        gboolean no_api = !h && strstr(why, "undefined symbol: tf_");
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "--plugin %s: %s%s", file, why,
                    no_api ? " (this program does not export tf's API to plug-ins: link it "
                             "with libtf.so, or with -rdynamic)"
                           : "");
        return NULL;
    }
    tf_plugin_init_fn init;
    memcpy(&init, &sym, sizeof init); /* object pointer to function pointer, as POSIX allows */
    return init;
}
