/* bundled.c: the plug-ins the tf command carries (the bundled raftkv, chain, wallet and
 * net step modules, steps/plugins/), and where they are: TF_PLUGIN_RELDIR from the directory
 * of the running tf, so an installed tree and the build tree both find their own, and a
 * moved installation still does. */
#include "cli_priv.h"

/* In registration order: one line per bundled plug-in (steps/CMakeLists.txt builds them). */
static const char *const names[] = {"raftkv", "chain", "wallet", "net", NULL};

const tf_bundled_plugins *tf_cli_bundled(void)
{
    static gsize once = 0;
    static tf_bundled_plugins bundled = {.names = names};
    if (g_once_init_enter(&once)) {
        char *exe = g_file_read_link("/proc/self/exe", NULL);
        char *bindir = exe ? g_path_get_dirname(exe) : g_strdup(".");
        char *dir = g_build_filename(bindir, TF_PLUGIN_RELDIR, NULL);
        bundled.dir = g_canonicalize_filename(dir, NULL); /* kept for the process */
        g_free(dir);
        g_free(bindir);
        g_free(exe);
        g_once_init_leave(&once, 1);
    }
    return &bundled;
}
