/* registry.c: the step registry: step definitions, hooks and parameter types of a run,
 * kept in registration order because Cucumber Messages list them (and number them) in
 * the order their source declared them. */
#include <string.h>
#include "runner_priv.h"
#include "tf/error.h"

static void step_def_free(tf_step_def *d)
{
    tf_expression_free(d->expr);
    g_free(d->pattern);
    g_free(d->file);
    g_free(d);
}

static void hook_def_free(tf_hook_def *h)
{
    tf_tag_matcher_free(h->tags);
    g_free(h->name);
    g_free(h->tags_src);
    g_free(h->file);
    g_free(h);
}

static void param_def_free(tf_param_def *p)
{
    g_free(p->name);
    g_strfreev(p->regexps);
    g_free(p);
}

static void undefined_free(tf_undefined_param *u)
{
    g_free(u->name);
    g_free(u->expression);
    g_free(u);
}

tf_registry *tf_registry_new(void)
{
    tf_registry *reg = g_new0(tf_registry, 1);
    reg->params = tf_param_registry_new();
    reg->steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_def_free);
    reg->hooks = g_ptr_array_new_with_free_func((GDestroyNotify)hook_def_free);
    reg->param_defs = g_ptr_array_new_with_free_func((GDestroyNotify)param_def_free);
    reg->undefined = g_ptr_array_new_with_free_func((GDestroyNotify)undefined_free);
    return reg;
}

void tf_registry_free(tf_registry *reg)
{
    if (!reg)
        return;
    g_ptr_array_unref(reg->steps);
    g_ptr_array_unref(reg->hooks);
    g_ptr_array_unref(reg->param_defs);
    g_ptr_array_unref(reg->undefined);
    if (reg->param_trees)
        g_hash_table_unref(reg->param_trees);
    tf_param_registry_unref(reg->params);
    g_free(reg);
}

void tf_registry_set_world(tf_registry *reg, void *(*world_new)(void *user_data),
                           void (*world_free)(void *world), void *user_data)
{
    reg->world_new = world_new;
    reg->world_free = world_free;
    reg->world_data = user_data;
}

gboolean tf_registry_add_module(tf_registry *reg, tf_plugin_init_fn init, GError **error)
{
    reg->module = ++reg->n_modules;
    gboolean ok = init(reg, error);
    reg->module = 0;
    return ok;
}

/* Cucumber reports an expression naming an unknown {type} as undefinedParameterType
 * and keeps going; the registry remembers it so the run can report it the same way. */
static void note_undefined_param(tf_registry *reg, const char *pattern, const GError *err)
{
    const char *p = strstr(err->message, "Undefined parameter type '");
    if (!p)
        return;
    p += strlen("Undefined parameter type '");
    const char *q = strchr(p, '\'');
    if (!q)
        return;
    tf_undefined_param *u = g_new0(tf_undefined_param, 1);
    u->seq = reg->next_seq++;
    u->name = g_strndup(p, q - p);
    u->expression = g_strdup(pattern);
    g_ptr_array_add(reg->undefined, u);
}

gboolean tf_registry_add_step(tf_registry *reg, tf_keyword kw, const char *pattern,
                              gboolean is_regex, tf_step_fn fn, const char *file, int line,
                              GError **error)
{
    GError *err = NULL;
    tf_expression *expr = is_regex ? tf_expression_new_regex(reg->params, pattern, &err)
                                   : tf_expression_new_cucumber(reg->params, pattern, &err);
    if (!expr) {
        note_undefined_param(reg, pattern, err);
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s:%d: step pattern '%s': %s",
                    file ? file : "?", line, pattern, err->message);
        g_error_free(err);
        return FALSE;
    }
    tf_step_def *d = g_new0(tf_step_def, 1);
    d->seq = reg->next_seq++;
    d->kw = kw;
    d->pattern = g_strdup(pattern);
    d->is_regex = is_regex;
    d->expr = expr;
    d->fn = fn;
    d->file = g_strdup(file ? file : "");
    d->line = line;
    d->module = reg->module;
    g_ptr_array_add(reg->steps, d);
    return TRUE;
}

static tf_hook_def *hook_new(tf_registry *reg, tf_hook_kind kind, const char *name,
                             const char *file, int line)
{
    tf_hook_def *h = g_new0(tf_hook_def, 1);
    h->seq = reg->next_seq++;
    h->kind = kind;
    h->name = g_strdup(name);
    h->file = g_strdup(file ? file : "");
    h->line = line;
    h->module = reg->module;
    return h;
}

gboolean tf_registry_add_hook(tf_registry *reg, tf_hook_kind kind, const tf_hook_options *opts,
                              tf_hook_fn fn, const char *file, int line, GError **error)
{
    static const tf_hook_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (kind != TF_HOOK_BEFORE && kind != TF_HOOK_AFTER && kind != TF_HOOK_BEFORE_STEP &&
        kind != TF_HOOK_AFTER_STEP) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s:%d: hook: BeforeAll/AfterAll take tf_registry_add_global_hook",
                    file ? file : "?", line);
        return FALSE;
    }
    if (opts->scope != TF_HOOK_ANY_STEPS && opts->scope != TF_HOOK_OWN_STEPS) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s:%d: hook: scope %d is not a "
                    "tf_hook_scope", file ? file : "?", line, (int)opts->scope);
        return FALSE;
    }
    tf_tag_matcher *m = NULL;
    if (opts->tags && *opts->tags) {
        GError *err = NULL;
        m = tf_tag_matcher_new(opts->tags, &err);
        if (!m) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s:%d: hook tags '%s': %s",
                        file ? file : "?", line, opts->tags, err->message);
            g_error_free(err);
            return FALSE;
        }
    }
    tf_hook_def *h = hook_new(reg, kind, opts->name, file, line);
    h->tags = m;
    h->tags_src = g_strdup(opts->tags);
    h->order = opts->order;
    h->scope = opts->scope;
    h->fn = fn;
    g_ptr_array_add(reg->hooks, h);
    return TRUE;
}

gboolean tf_registry_add_global_hook(tf_registry *reg, tf_hook_kind kind, const char *name,
                                     tf_global_hook_fn fn, void *user_data, const char *file,
                                     int line, GError **error)
{
    if (kind != TF_HOOK_BEFORE_ALL && kind != TF_HOOK_AFTER_ALL) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s:%d: global hook: kind must be BeforeAll or AfterAll", file ? file : "?",
                    line);
        return FALSE;
    }
    tf_hook_def *h = hook_new(reg, kind, name, file, line);
    h->gfn = fn;
    h->user_data = user_data;
    g_ptr_array_add(reg->hooks, h);
    return TRUE;
}

gboolean tf_registry_add_param_type(tf_registry *reg, const char *name,
                                    const char *const *regexps, tf_param_transform_fn transform,
                                    void *user_data, tf_param_flags flags, GError **error)
{
    GError *err = NULL;
    if (!tf_param_registry_define(reg->params, name, regexps, transform, user_data, NULL, flags,
                                  &err)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "parameter type {%s}: %s", name,
                    err->message);
        g_error_free(err);
        return FALSE;
    }
    tf_param_def *p = g_new0(tf_param_def, 1);
    p->seq = reg->next_seq++;
    p->name = g_strdup(name);
    p->regexps = g_strdupv((char **)regexps);
    p->use_for_snippets = (flags & TF_PARAM_USE_FOR_SNIPPETS) != 0;
    p->prefer = (flags & TF_PARAM_PREFER_FOR_REGEXP_MATCH) != 0;
    g_ptr_array_add(reg->param_defs, p);
    return TRUE;
}
