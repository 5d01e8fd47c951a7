/* rt_fixture.c: see rt_fixture.h. */
#include <string.h>
#include "rt_fixture.h"

gint64 fix_clock(void *data) { return __atomic_load_n((gint64 *)data, __ATOMIC_RELAXED); }

static gboolean prov_list(void *self, GPtrArray *out, GError **error)
{
    fix_provider *p = self;
    pthread_mutex_lock(&p->lock);
    gboolean fail = p->fail;
    if (!fail)
        for (guint i = 0; i < p->sources->len; i++)
            g_ptr_array_add(out, tf_source_ref(p->sources->pdata[i]));
    pthread_mutex_unlock(&p->lock);
    if (fail)
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "fixture provider: planned refresh failure");
    return !fail;
}

static void prov_free(void *self)
{
    fix_provider *p = self;
    g_ptr_array_unref(p->sources);
    pthread_mutex_destroy(&p->lock);
    g_free(p);
}

static const tf_source_provider_vtable prov_vt = {"fixture", prov_list, prov_free};

fix *fix_new(guint n, const tf_runtime_config *cfg, const counter_config *ccfg)
{
    fix *f = g_new0(fix, 1);
    f->now = 1000000;
    f->prov = g_new0(fix_provider, 1);
    pthread_mutex_init(&f->prov->lock, NULL);
    f->prov->sources = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    for (guint i = 0; i < n; i++) {
        char name[16];
        g_snprintf(name, sizeof name, "n%u", i);
        fix_add_source(f, name, i);
    }
    tf_runtime_config c;
    if (cfg) {
        c = *cfg;
    } else {
        tf_runtime_config_init(&c);
        c.clock = fix_clock;
        c.clock_data = &f->now;
    }
    GError *err = NULL;
    f->rt = tf_runtime_new(&c, &counter_observer, ccfg,
                           tf_source_provider_new(&prov_vt, f->prov), &err);
    g_assert_no_error(err);
    f->h = tf_runtime_handle(f->rt);
    return f;
}

void fix_free(fix *f)
{
    tf_handle_unref(f->h);
    tf_runtime_free(f->rt);
    g_free(f);
}

void fix_add_source(fix *f, const char *name, guint i)
{
    g_assert(i < FIX_MAX_CELLS);
    pthread_mutex_lock(&f->prov->lock);
    g_ptr_array_add(f->prov->sources, counter_source_new(name, &f->cells[i]));
    pthread_mutex_unlock(&f->prov->lock);
}

void fix_remove_source(fix *f, const char *name)
{
    pthread_mutex_lock(&f->prov->lock);
    for (guint i = 0; i < f->prov->sources->len; i++)
        if (!strcmp(tf_source_name(f->prov->sources->pdata[i]), name))
            g_ptr_array_remove_index(f->prov->sources, i--);
    pthread_mutex_unlock(&f->prov->lock);
}

void fix_provider_fail(fix *f, gboolean fail)
{
    pthread_mutex_lock(&f->prov->lock);
    f->prov->fail = fail;
    pthread_mutex_unlock(&f->prov->lock);
}
