/* world.c: the per-scenario world (named values, deferred cleanups, attachments) and
 * the step accessors. Cleanups run newest first however the scenario ends; a world a
 * stuck step may still hold after a timeout is cleaned up but never freed. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "option_value.h"
#include "runner_priv.h"

typedef struct {
    char *key; /* NULL for a deferred cleanup */
    void *value;
    GDestroyNotify fn;
} cleanup;

static __thread tf_world *current_world;

tf_world *tf_world_current(void) { return current_world; }

/* exec.c sets the world of the body it runs on the worker thread. */
void tf_world_set_current(tf_world *world);
void tf_world_set_current(tf_world *world) { current_world = world; }

/* ---- seeds ---- */

gboolean tf_run_seed_from_env(guint64 *seed, gboolean *from_env, GError **error)
{
    const char *env = g_getenv("TF_SEED");
    if (from_env)
        *from_env = env && *env;
    if (env && *env)
        return tf_opt_parse_uint("TF_SEED", env, 0, G_MAXUINT32, seed, error);
    *seed = (guint64)g_random_int_range(1, G_MAXINT32);
    return TRUE;
}

void tf_run_tell_seed(tf_run *run)
{
    if (run && run->opts.seed_set && g_atomic_int_compare_and_exchange(&run->seed_told, 0, 1))
        fprintf(stderr, "tf: seed %" G_GUINT64_FORMAT "%s (repeat with --seed %" G_GUINT64_FORMAT ")\n",
                run->opts.seed, run->opts.random ? ", random order" : "", run->opts.seed);
}

static guint64 splitmix64(guint64 x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static guint64 fnv1a(guint64 h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (guchar)*s) * 0x100000001b3ull;
    return h;
}

/* The seed of a world without a run (tf wire): $TF_SEED, else one per process. */
static guint64 process_seed(void)
{
    static gsize once;
    static guint64 seed;
    if (g_once_init_enter(&once)) {
        if (!tf_run_seed_from_env(&seed, NULL, NULL))
            seed = (guint64)g_random_int_range(1, G_MAXINT32);
        g_once_init_leave(&once, 1);
    }
    return seed;
}

/* Mixes the run's seed with what names the scenario (file, line, name, its last AST node:
 * an outline's example row), not with its position in the run. */
static guint64 scenario_seed(guint64 run_seed, const tf_gherkin_pickle *p)
{
    guint64 h = 0xcbf29ce484222325ull;
    if (p) {
        h = fnv1a(h, p->uri);
        h = fnv1a(h, p->name);
        h ^= splitmix64(p->location.line);
        if (p->n_ast_node_ids)
            h = fnv1a(h, p->ast_node_ids[p->n_ast_node_ids - 1]);
    }
    return splitmix64(run_seed ^ splitmix64(h));
}

guint64 tf_world_seed(const tf_world *w)
{
    /* A run that asked for no seed says which one it drew, before anything uses it. */
    tf_run_tell_seed(w->abandoned ? NULL : w->run);
    return w->seed;
}

tf_world *tf_world_new_internal(tf_run *run, tf_exec *exec, const tf_gherkin_pickle *pickle)
{
    tf_world *w = g_new0(tf_world, 1);
    w->refs = 1;
    w->seed = scenario_seed(run && run->opts.seed_set ? run->opts.seed : process_seed(), pickle);
    w->run = run;
    w->exec = tf_exec_ref(exec);
    w->pickle = pickle;
    tf_mutex_init(&w->lock);
    w->cleanups = g_array_new(FALSE, TRUE, sizeof(cleanup));
    w->status = TF_STEP_PASSED;
    return w;
}

void tf_world_cleanup(tf_world *w)
{
    for (;;) {
        tf_mutex_lock(&w->lock);
        if (w->cleanups->len == 0) {
            tf_mutex_unlock(&w->lock);
            break;
        }
        cleanup c = g_array_index(w->cleanups, cleanup, w->cleanups->len - 1);
        g_array_set_size(w->cleanups, w->cleanups->len - 1);
        tf_mutex_unlock(&w->lock);
        if (c.fn)
            c.fn(c.value);
        g_free(c.key);
    }
}

void tf_world_release(tf_world *w)
{
    if (!w || !g_atomic_int_dec_and_test(&w->refs))
        return; /* an abandoned body still runs on it: it lets go when it returns */
    if (w->app && w->app_free)
        w->app_free(w->app);
    g_array_unref(w->cleanups);
    tf_mutex_clear(&w->lock);
    tf_exec_unref(w->exec);
    g_free(w);
}

void *tf_world_app(tf_world *world) { return world ? world->app : NULL; }

void tf_world_set(tf_world *w, const char *key, void *value, GDestroyNotify free_fn)
{
    cleanup old = {0};
    tf_mutex_lock(&w->lock);
    for (guint i = 0; i < w->cleanups->len; i++) {
        cleanup *c = &g_array_index(w->cleanups, cleanup, i);
        if (c->key && !strcmp(c->key, key)) {
            old = *c;
            g_array_remove_index(w->cleanups, i);
            break;
        }
    }
    cleanup c = {g_strdup(key), value, free_fn};
    g_array_append_val(w->cleanups, c);
    tf_mutex_unlock(&w->lock);
    if (old.fn)
        old.fn(old.value);
    g_free(old.key);
}

void *tf_world_get(tf_world *w, const char *key)
{
    void *v = NULL;
    tf_mutex_lock(&w->lock);
    for (guint i = w->cleanups->len; i-- > 0;) {
        cleanup *c = &g_array_index(w->cleanups, cleanup, i);
        if (c->key && !strcmp(c->key, key)) {
            v = c->value;
            break;
        }
    }
    tf_mutex_unlock(&w->lock);
    return v;
}

void tf_world_defer(tf_world *w, GDestroyNotify fn, void *data)
{
    cleanup c = {NULL, data, fn};
    tf_mutex_lock(&w->lock);
    g_array_append_val(w->cleanups, c);
    tf_mutex_unlock(&w->lock);
}

void tf_world_attach(tf_world *w, const void *data, gsize len, const char *media_type,
                     const char *file_name)
{
    if (!w)
        return;
    /* Under the exec lock: an abandoned world's stuck thread must not reach the run. */
    tf_exec_lock(w->exec);
    if (!w->abandoned && w->run)
        tf_run_emit_attachment(w->run, w, data, len, media_type, file_name);
    tf_exec_unlock(w->exec);
}

void tf_world_log(tf_world *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    tf_world_attach(w, s, strlen(s), "text/x.cucumber.log+plain", NULL);
    g_free(s);
}

const tf_gherkin_pickle *tf_world_pickle(const tf_world *w) { return w->pickle; }
tf_step_status tf_world_status(const tf_world *w) { return w->status; }
gboolean tf_world_interrupted(const tf_world *w) { return tf_exec_interrupted(w->exec); }

/* ---- step accessors ---- */

static const tf_arg *arg_at(const tf_step *s, guint i)
{
    return s->args && i < s->args->len ? g_ptr_array_index(s->args, i) : NULL;
}

guint tf_step_n_args(const tf_step *s) { return s->args ? s->args->len : 0; }

gint64 tf_step_arg_int(const tf_step *s, guint i)
{
    const tf_arg *a = arg_at(s, i);
    if (!a)
        return 0;
    switch (tf_arg_kind_of(a)) {
    case TF_ARG_INT:
        return tf_arg_int(a);
    case TF_ARG_DOUBLE:
        return (gint64)tf_arg_double(a);
    case TF_ARG_STRING:
        return g_ascii_strtoll(tf_arg_string(a), NULL, 10);
    default:
        return tf_arg_text(a) ? g_ascii_strtoll(tf_arg_text(a), NULL, 10) : 0;
    }
}

double tf_step_arg_double(const tf_step *s, guint i)
{
    const tf_arg *a = arg_at(s, i);
    if (!a)
        return 0;
    switch (tf_arg_kind_of(a)) {
    case TF_ARG_INT:
        return (double)tf_arg_int(a);
    case TF_ARG_DOUBLE:
        return tf_arg_double(a);
    case TF_ARG_STRING:
        return g_ascii_strtod(tf_arg_string(a), NULL);
    default:
        return tf_arg_text(a) ? g_ascii_strtod(tf_arg_text(a), NULL) : 0;
    }
}

const char *tf_step_arg_str(const tf_step *s, guint i)
{
    const tf_arg *a = arg_at(s, i);
    if (!a)
        return NULL;
    if (tf_arg_kind_of(a) == TF_ARG_STRING)
        return tf_arg_string(a);
    return tf_arg_text(a);
}

const void *tf_step_arg_value(const tf_step *s, guint i)
{
    const tf_arg *a = arg_at(s, i);
    if (!a)
        return NULL;
    if (tf_arg_kind_of(a) == TF_ARG_CUSTOM)
        return tf_arg_custom(a);
    const char *type = tf_arg_param_type(a);
    if (!type)
        return NULL;
    static const char *const builtins[] = {"int", "float", "word", "string", "",
                                           "bigdecimal", "biginteger", "byte", "short",
                                           "long", "double"};
    for (guint k = 0; k < G_N_ELEMENTS(builtins); k++)
        if (!strcmp(type, builtins[k]))
            return NULL;
    return tf_arg_kind_of(a) == TF_ARG_STRING ? tf_arg_string(a) : tf_arg_text(a);
}

const char *tf_step_text(const tf_step *s) { return s->pstep->text; }

const tf_gherkin_pickle_row *tf_step_table(const tf_step *s, guint *n_rows)
{
    if (n_rows)
        *n_rows = s->pstep->has_data_table ? s->pstep->n_rows : 0;
    return s->pstep->has_data_table ? s->pstep->rows : NULL;
}

const char *tf_step_doc_string(const tf_step *s, const char **media_type)
{
    if (media_type)
        *media_type = s->pstep->doc_string ? s->pstep->doc_string_media_type : NULL;
    return s->pstep->doc_string;
}

tf_world *tf_step_world(tf_step *s) { return s->world; }
gint64 tf_step_timeout(const tf_step *s) { return s->timeout_us; }
