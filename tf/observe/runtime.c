/* runtime.c: the observation loop: refresh sources, poll, publish, repeat.
 * One thread per runtime; it sleeps on a condition variable until the next interval or
 * until someone rings the waker, so a step that acted can get a fresh view at once. */
#include <string.h>
#include "tf/http.h"
#include "observe_priv.h"

struct tf_runtime {
    tf_runtime_config cfg;
    const tf_observer *obs;
    void *state;
    tf_source_provider *provider;
    GPtrArray *sources; /* current set, sorted by name */
    tf_names *names;    /* their names, shared by snapshots; NULL after a change */
    tf_http *http;
    tf_hub *hub;
    tf_waker *waker;
    GThread *thread;
    guint64 cycle;
    gboolean started;
    gboolean stopped;
};

struct tf_poll_ctx {
    tf_runtime *rt;
    guint64 cycle;
    gint64 now;
    GPtrArray *added, *removed;
    GPtrArray *events;
    guint dropped;   /* events emitted by an observer that cannot free or print them */
    GArray *reports; /* tf_source_report */
};

/* ---- waker -------------------------------------------------------------------------- */

tf_waker *tf_waker_new(void)
{
    tf_waker *w = g_new0(tf_waker, 1);
    w->refs = 1;
    tf_mutex_init(&w->lock);
    tf_cond_init(&w->cond);
    return w;
}

tf_waker *tf_waker_ref(tf_waker *w)
{
    tf_refs_inc(&w->refs);
    return w;
}

void tf_waker_unref(tf_waker *w)
{
    if (!w || !tf_refs_dec(&w->refs))
        return;
    tf_mutex_clear(&w->lock);
    tf_cond_clear(&w->cond);
    g_free(w);
}

void tf_waker_wake(tf_waker *w)
{
    tf_mutex_lock(&w->lock);
    w->pending = TRUE;
    tf_cond_signal(&w->cond);
    tf_mutex_unlock(&w->lock);
}

/* ---- poll context ------------------------------------------------------------------- */

guint64 tf_poll_cycle(const tf_poll_ctx *ctx) { return ctx->cycle; }
gint64 tf_poll_now(const tf_poll_ctx *ctx) { return ctx->now; }
GPtrArray *tf_poll_sources(const tf_poll_ctx *ctx) { return ctx->rt->sources; }
GPtrArray *tf_poll_sources_added(const tf_poll_ctx *ctx) { return ctx->added; }
GPtrArray *tf_poll_sources_removed(const tf_poll_ctx *ctx) { return ctx->removed; }
tf_http *tf_poll_http(const tf_poll_ctx *ctx) { return ctx->rt->http; }
gint64 tf_poll_request_timeout(const tf_poll_ctx *ctx) { return ctx->rt->cfg.request_timeout_us; }
tf_waker *tf_poll_waker(tf_poll_ctx *ctx) { return tf_waker_ref(ctx->rt->waker); }

void tf_poll_emit(tf_poll_ctx *ctx, void *event)
{
    g_return_if_fail(event != NULL);
    if (!ctx->rt->obs->free_event) { /* cannot be freed or printed: run_cycle fails the cycle */
        ctx->dropped++;
        return;
    }
    g_ptr_array_add(ctx->events, event);
}

static void report(tf_poll_ctx *ctx, const tf_source *source, gboolean ok, const char *message)
{
    tf_source_report r = {tf_source_name(source), ok, ok ? NULL : g_strdup(message)};
    g_array_append_val(ctx->reports, r);
}

void tf_poll_source_ok(tf_poll_ctx *ctx, const tf_source *source)
{
    report(ctx, source, TRUE, NULL);
}

void tf_poll_source_failed(tf_poll_ctx *ctx, const tf_source *source, const char *message)
{
    report(ctx, source, FALSE, message ? message : "failed");
}

static void report_clear(gpointer p) { g_free(((tf_source_report *)p)->message); }

/* ---- lifecycle ---------------------------------------------------------------------- */

void tf_runtime_config_init(tf_runtime_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->interval_us = 100 * 1000;
    cfg->event_history = 1024;
    cfg->snapshot_history = 64;
    cfg->request_timeout_us = 2 * G_USEC_PER_SEC;
    cfg->stale_after_us = 3 * G_USEC_PER_SEC;
}

static gboolean check_observer(const tf_observer *obs, GError **error)
{
    if (!obs) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "runtime: no observer given");
        return FALSE;
    }
    const char *name = obs->name ? obs->name : "(unnamed)";
    const char *missing = !obs->name               ? "name"
                          : !obs->init             ? "init"
                          : !obs->poll             ? "poll"
                          : !obs->snapshot         ? "snapshot"
                          : !obs->free_state       ? "free_state"
                          : !obs->free_snapshot    ? "free_snapshot"
                          : !obs->snapshot_to_json ? "snapshot_to_json"
                                                   : NULL;
    if (missing) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "observer '%s': missing vtable function '%s'", name, missing);
        return FALSE;
    }
    /* Events are optional (observer.h), but an event tf can free and not print, or print
     * and not free, is a half-written observer: say so before it runs. */
    if (!obs->free_event != !obs->event_to_json) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "observer '%s': free_event and event_to_json go together: set both (to "
                    "emit events) or neither", name);
        return FALSE;
    }
    return TRUE;
}

static gboolean check_config(const tf_runtime_config *cfg, GError **error)
{
    const char *bad = !cfg                             ? "config is NULL"
                      : cfg->interval_us <= 0          ? "interval_us must be > 0"
                      : cfg->request_timeout_us <= 0   ? "request_timeout_us must be > 0"
                      : cfg->stale_after_us <= 0       ? "stale_after_us must be > 0"
                      : cfg->snapshot_history > 1 << 20 ? "snapshot_history must be <= 1048576"
                      : cfg->event_history > 1 << 24   ? "event_history must be <= 16777216"
                                                       : NULL;
    if (bad) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "runtime config: %s", bad);
        return FALSE;
    }
    return TRUE;
}

tf_runtime *tf_runtime_new(const tf_runtime_config *cfg, const tf_observer *obs,
                           const void *observer_config, tf_source_provider *provider,
                           GError **error)
{
    if (!check_config(cfg, error) || !check_observer(obs, error)) {
        tf_source_provider_free(provider);
        return NULL;
    }
    if (!provider) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "observer '%s': no source provider",
                    obs->name);
        return NULL;
    }
    GError *err = NULL;
    void *state = obs->init(observer_config, &err);
    if (!state) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "observer '%s': init: %s", obs->name,
                    err ? err->message : "returned no state");
        g_clear_error(&err);
        tf_source_provider_free(provider);
        return NULL;
    }
    tf_runtime *rt = g_new0(tf_runtime, 1);
    rt->cfg = *cfg;
    rt->obs = obs;
    rt->state = state;
    rt->provider = provider;
    rt->sources = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    rt->http = tf_http_new();
    rt->waker = tf_waker_new();
    rt->hub = tf_hub_new(obs, cfg, rt->waker);
    return rt;
}

const tf_observer *tf_runtime_observer(const tf_runtime *rt) { return rt->obs; }

tf_handle *tf_runtime_handle(tf_runtime *rt) { return tf_handle_new(rt->hub); }

gboolean tf_runtime_set_journal(tf_runtime *rt, tf_journal *j, GError **error)
{
    if (rt->started || rt->stopped || rt->cycle > 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "observer '%s': the journal must be set before the first cycle",
                    rt->obs->name);
        return FALSE;
    }
    return tf_hub_set_journal(rt->hub, j, error);
}

void tf_runtime_wake(tf_runtime *rt) { tf_waker_wake(rt->waker); }

/* ---- one cycle ---------------------------------------------------------------------- */

static gint cmp_source(gconstpointer a, gconstpointer b)
{
    return strcmp(tf_source_name(*(tf_source **)a), tf_source_name(*(tf_source **)b));
}

/* Replaces the source set; fills added/removed (a changed source counts as both).
 * Both sets are sorted by name, so the difference is one merge pass: O(n) per cycle. */
static gboolean refresh_sources(tf_runtime *rt, GPtrArray *added, GPtrArray *removed,
                                GError **error)
{
    GPtrArray *fresh = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    if (!tf_source_provider_list(rt->provider, fresh, error)) {
        g_ptr_array_unref(fresh);
        return FALSE;
    }
    g_ptr_array_sort(fresh, cmp_source);
    for (guint i = 1; i < fresh->len; i++) {
        if (!strcmp(tf_source_name(fresh->pdata[i]), tf_source_name(fresh->pdata[i - 1]))) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: duplicate source name '%s'",
                        tf_source_provider_name(rt->provider), tf_source_name(fresh->pdata[i]));
            g_ptr_array_unref(fresh);
            return FALSE;
        }
    }
    GPtrArray *old = rt->sources;
    guint i = 0, j = 0;
    while (i < fresh->len || j < old->len) {
        tf_source *f = i < fresh->len ? fresh->pdata[i] : NULL;
        tf_source *o = j < old->len ? old->pdata[j] : NULL;
        int c = !f ? 1 : !o ? -1 : strcmp(tf_source_name(f), tf_source_name(o));
        if (c < 0) {
            g_ptr_array_add(added, tf_source_ref(f));
            i++;
        } else if (c > 0) {
            g_ptr_array_add(removed, tf_source_ref(o));
            j++;
        } else {
            if (f != o && !tf_source_equal(f, o)) {
                g_ptr_array_add(removed, tf_source_ref(o));
                g_ptr_array_add(added, tf_source_ref(f));
            }
            i++;
            j++;
        }
    }
    g_ptr_array_unref(old);
    rt->sources = fresh;
    if (added->len || removed->len)
        g_clear_pointer(&rt->names, tf_names_unref);
    return TRUE;
}

/* The names of the current sources, shared by every snapshot until the set changes. */
static tf_names *current_names(tf_runtime *rt)
{
    if (!rt->names) {
        char **names = g_new0(char *, rt->sources->len + 1);
        for (guint i = 0; i < rt->sources->len; i++)
            names[i] = g_strdup(tf_source_name(rt->sources->pdata[i]));
        rt->names = tf_names_new(names);
    }
    return tf_names_ref(rt->names);
}

static gboolean run_cycle(tf_runtime *rt, GError **error)
{
    tf_hub *hub = rt->hub;
    tf_poll_ctx ctx = {.rt = rt, .cycle = ++rt->cycle, .now = tf_hub_now(hub)};
    ctx.added = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    ctx.removed = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    ctx.events = g_ptr_array_new();
    ctx.reports = g_array_new(FALSE, FALSE, sizeof(tf_source_report));
    g_array_set_clear_func(ctx.reports, report_clear);
    GError *err = NULL;
    gboolean ok = TRUE;

    if (!refresh_sources(rt, ctx.added, ctx.removed, &err)) {
        /* Keep polling the previous set: a flaky provider must not blind the run. */
        tf_hub_fail(hub, TF_STAGE_REFRESH, ctx.cycle, NULL, g_strdup(err->message));
        g_propagate_error(error, err);
        err = NULL;
        ok = FALSE;
    }
    tf_hub_sources(hub, ctx.added, ctx.removed, ctx.now);

    if (!rt->obs->poll(rt->state, &ctx, &err)) {
        char *msg = g_strdup_printf("observer '%s': %s", rt->obs->name,
                                    err ? err->message : "poll failed without an error");
        tf_hub_fail(hub, TF_STAGE_POLL, ctx.cycle, NULL, g_strdup(msg));
        if (ok)
            g_set_error_literal(error, TF_ERROR, TF_ERROR_FAILED, msg);
        g_free(msg);
        g_clear_error(&err);
        ok = FALSE;
    } else if (ctx.dropped) {
        char *msg = g_strdup_printf("observer '%s': poll emitted %u event%s, but the observer "
                                    "has no free_event and event_to_json (set both in its "
                                    "tf_observer to emit events); dropped",
                                    rt->obs->name, ctx.dropped, ctx.dropped == 1 ? "" : "s");
        tf_hub_fail(hub, TF_STAGE_POLL, ctx.cycle, NULL, g_strdup(msg));
        if (ok)
            g_set_error_literal(error, TF_ERROR, TF_ERROR_INVALID, msg);
        g_free(msg);
        ok = FALSE;
    }
    gint64 done = tf_hub_now(hub);
    tf_hub_reports(hub, ctx.reports, ctx.cycle, done);

    /* Publish even after a failure: waiters see the cycle, its error and every event. */
    tf_snapshot *snap = tf_snapshot_new(rt->obs, rt->obs->snapshot(rt->state), ctx.cycle,
                                        ctx.now, done, current_names(rt));
    tf_hub_publish(hub, snap, ctx.events, ctx.cycle);

    g_ptr_array_unref(ctx.added);
    g_ptr_array_unref(ctx.removed);
    g_array_unref(ctx.reports);
    return ok;
}

gboolean tf_runtime_cycle(tf_runtime *rt, GError **error)
{
    if (rt->started) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "observer '%s': tf_runtime_cycle called while the loop thread runs",
                    rt->obs->name);
        return FALSE;
    }
    return run_cycle(rt, error);
}

static gpointer loop(gpointer data)
{
    tf_runtime *rt = data;
    tf_waker *w = rt->waker;
    for (;;) {
        gint64 next = g_get_monotonic_time() + rt->cfg.interval_us;
        run_cycle(rt, NULL);
        tf_mutex_lock(&w->lock);
        while (!w->pending && !w->stopping)
            if (!tf_cond_wait_until(&w->cond, &w->lock, next))
                break;
        gboolean stop = w->stopping;
        w->pending = FALSE;
        tf_mutex_unlock(&w->lock);
        if (stop)
            break;
    }
    return NULL;
}

gboolean tf_runtime_start(tf_runtime *rt, GError **error)
{
    if (rt->started || rt->stopped) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "observer '%s': runtime already %s",
                    rt->obs->name, rt->stopped ? "stopped" : "started");
        return FALSE;
    }
    rt->started = TRUE;
    rt->thread = g_thread_new(rt->obs->name, loop, rt);
    return TRUE;
}

void tf_runtime_stop(tf_runtime *rt)
{
    if (rt->stopped)
        return;
    rt->stopped = TRUE;
    if (rt->thread) {
        tf_mutex_lock(&rt->waker->lock);
        rt->waker->stopping = TRUE;
        tf_cond_signal(&rt->waker->cond);
        tf_mutex_unlock(&rt->waker->lock);
        tf_http_interrupt(rt->http); /* cut a cycle stuck on slow sources short */
        g_thread_join(rt->thread);
        rt->thread = NULL;
    }
    tf_hub_flush_journal(rt->hub); /* before readers are told it is over */
    tf_hub_close(rt->hub);
}

void tf_runtime_free(tf_runtime *rt)
{
    if (!rt)
        return;
    tf_runtime_stop(rt);
    rt->obs->free_state(rt->state);
    tf_source_provider_free(rt->provider);
    g_ptr_array_unref(rt->sources);
    tf_names_unref(rt->names);
    tf_http_free(rt->http);
    tf_hub_unref(rt->hub);
    tf_waker_unref(rt->waker);
    g_free(rt);
}
