/* plugin.c: the step modules a command registers: the ones linked into it, the bundled
 * plug-ins (`tf run`, `tf wire`) and each `--plugin FILE.so`, one module each (the scope
 * of TF_HOOK_OWN_STEPS hooks). A plug-in's ABI record (plugin.h) is checked before any of
 * its code runs, so one built against another tf is refused with what to do instead of
 * misreading structs. Plug-ins stay loaded: their code may still run in abandoned
 * (timed-out) step threads. */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include "plugin.h"
#include "runner_priv.h"
#include "tf/error.h"
#include "tf/plugin.h"

static const tf_abi_size own_sizes[] = {TF_ABI_SIZES};

/* The size of struct name as this tf has it, or 0 when it does not know the struct. */
static guint32 own_size(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(own_sizes); i++)
        if (!strcmp(own_sizes[i].name, name))
            return own_sizes[i].size;
    return 0;
}

gboolean tf_abi_check(const tf_abi_record *rec, const char *who, GError **error)
{
    if (!rec) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: no %s record: built against a tf older than 0.2.0 (before plug-ins "
                    "recorded their ABI) or without TF_PLUGIN_DEFINE; this tf is %s (ABI %d): "
                    "rebuild it against this tf with TF_PLUGIN_DEFINE (tf/plugin.h)",
                    who, TF_PLUGIN_ABI_SYMBOL, TF_VERSION, TF_ABI_VERSION);
        return FALSE;
    }
    /* abi_version, record_size and tf_version keep their places in every ABI. */
    const char *theirs = rec->tf_version ? rec->tf_version : "?";
    if (rec->abi_version != TF_ABI_VERSION) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: built against tf %s (ABI %u); this tf is %s (ABI %d): rebuild it "
                    "against this tf", who, theirs, rec->abi_version, TF_VERSION, TF_ABI_VERSION);
        return FALSE;
    }
    const char *unbumped = "rebuild it (the two differ though both say ABI %d: tf's ABI "
                           "version should have been bumped)";
    if (rec->record_size != sizeof *rec) {
        char *tail = g_strdup_printf(unbumped, TF_ABI_VERSION);
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: built against tf %s whose ABI record has %u bytes; this tf's (%s) has "
                    "%zu: %s", who, theirs, rec->record_size, TF_VERSION, sizeof *rec, tail);
        g_free(tail);
        return FALSE;
    }
    /* Structs only one side knows were added compatibly (a newer minor version). */
    for (guint32 i = 0; rec->sizes && i < rec->n_sizes; i++) {
        const tf_abi_size *s = &rec->sizes[i];
        guint32 own = s->name ? own_size(s->name) : 0;
        if (own && own != s->size) {
            char *tail = g_strdup_printf(unbumped, TF_ABI_VERSION);
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "%s: built against tf %s where %s has %u bytes; in this tf (%s) it "
                        "has %u: %s", who, theirs, s->name, s->size, TF_VERSION, own, tail);
            g_free(tail);
            return FALSE;
        }
    }
    return TRUE;
}

/* The plug-in's record read without binding its functions, for a plug-in that RTLD_NOW
 * refused: one built against another tf may call functions this one lacks, and its
 * record then says more than "undefined symbol". FALSE + error when it is refused. */
static gboolean check_unloadable(const char *path, const char *who, GError **error)
{
    void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (!h)
        return TRUE;
    gboolean ok = tf_abi_check(dlsym(h, TF_PLUGIN_ABI_SYMBOL), who, error);
    dlclose(h);
    return ok;
}

/* Opens a plug-in file and checks its ABI; its init function, or NULL + error. */
static tf_plugin_init_fn plugin_open(const char *file, const char *who, GError **error)
{
    /* dlopen searches the library path for a bare name; a file path must keep a '/'. */
    char *path = strchr(file, '/') ? g_strdup(file) : g_build_filename(".", file, NULL);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        char *why = g_strdup(dlerror());
        if (check_unloadable(path, who, error)) {
            /* A runner linked with the static libtf must export tf's API to its plug-ins. */
            gboolean no_api = strstr(why, "undefined symbol: tf_") != NULL;
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: %s%s", who, why,
                        no_api ? " (this program does not export tf's API to plug-ins: link "
                                 "it with libtf.so, or with the whole libtf.a and -rdynamic)"
                               : "");
        }
        g_free(why);
        g_free(path);
        return NULL;
    }
    g_free(path);
    void *sym = NULL;
    if (tf_abi_check(dlsym(h, TF_PLUGIN_ABI_SYMBOL), who, error) &&
        !(sym = dlsym(h, TF_PLUGIN_INIT_SYMBOL)))
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: no symbol %s", who,
                    TF_PLUGIN_INIT_SYMBOL);
    if (!sym) {
        dlclose(h); /* refused before any of its functions ran */
        return NULL;
    }
    tf_plugin_init_fn init;
    memcpy(&init, &sym, sizeof init); /* object pointer to function pointer, as POSIX allows */
    return init;
}

tf_plugin_init_fn tf_plugin_load(const char *file, GError **error)
{
    char *who = g_strdup_printf("--plugin %s", file);
    tf_plugin_init_fn init = plugin_open(file, who, error);
    g_free(who);
    return init;
}

#define OPT(field) offsetof(tf_plugin_args, field)
const tf_opt tf_plugin_opts[] = {
    {"plugin", 0, TF_OPT_TEXTS, "FILE.so", "load step definitions from a plug-in", OPT(files)},
    {NULL},
};

const tf_opt tf_plugin_bundled_opts[] = {
    {"plugin", 0, TF_OPT_TEXTS, "FILE.so", "load step definitions from a plug-in (then the\n"
     "bundled ones only with --bundled)", OPT(files)},
    {"bundled", 0, TF_OPT_FLAG, NULL, "load the bundled plug-ins (default without --plugin)",
     OPT(bundled), 1},
    {"no-bundled", 0, TF_OPT_FLAG, NULL, "do not load the bundled plug-ins", OPT(bundled), 0},
    {NULL},
};
#undef OPT

void tf_plugin_args_init(tf_plugin_args *args)
{
    args->files = g_ptr_array_new();
    args->bundled = -1;
}

void tf_plugin_args_clear(tf_plugin_args *args)
{
    g_clear_pointer(&args->files, g_ptr_array_unref);
}

/* Registers the bundled plug-ins, in their order. */
static gboolean register_bundled(tf_registry *reg, const tf_bundled_plugins *b, GError **error)
{
    for (const char *const *name = b->names; *name; name++) {
        char *file = g_strdup_printf("%s/%s.so", b->dir, *name);
        char *who = g_strdup_printf("bundled plug-in %s", file);
        tf_plugin_init_fn init = plugin_open(file, who, error);
        gboolean ok = init && tf_registry_add_module(reg, init, error);
        if (!ok && init)
            g_prefix_error(error, "%s: ", who);
        g_free(who);
        g_free(file);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

gboolean tf_plugins_register(tf_registry *reg, const tf_bundled_plugins *bundled,
                             const tf_plugin_args *args, GError **error)
{
    gboolean want_bundled = args->bundled == 1 || (args->bundled < 0 && args->files->len == 0);
    if (bundled && want_bundled && !register_bundled(reg, bundled, error))
        return FALSE;
    for (guint i = 0; i < args->files->len; i++) {
        const char *file = g_ptr_array_index(args->files, i);
        tf_plugin_init_fn init = tf_plugin_load(file, error);
        if (!init)
            return FALSE;
        if (!tf_registry_add_module(reg, init, error)) {
            g_prefix_error(error, "--plugin %s: ", file);
            return FALSE;
        }
    }
    return TRUE;
}
