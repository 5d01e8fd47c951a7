/* exec.c: runs step and hook bodies on a worker thread so the runner can give up on a
 * body that overruns its timeout or is interrupted by Ctrl-C, and still run After hooks
 * and cleanups. A stuck worker is abandoned (detached, frees itself when its body
 * returns) and never touches the run again; a fresh worker serves later calls. */
#include <string.h>
#include "runner_priv.h"
#include "tf/handle.h"

void tf_world_set_current(tf_world *world);

typedef struct worker worker;

struct tf_exec {
    gint refs;
    tf_mutex m;
    tf_cond done_cond;
    guint interrupts; /* how many interrupts arrived; a call is cut by a new one */
    worker *worker;
    tf_exec_wait_fn wait_fn;
    void *wait_data;
};

struct worker {
    tf_exec *exec;
    pthread_t thread;
    tf_cond job_cond;
    tf_call call;
    gboolean has_job, done, abandoned, quit;
    tf_step_status status;
    GError *error;
};

tf_exec *tf_exec_new(void)
{
    tf_exec *e = g_new0(tf_exec, 1);
    e->refs = 1;
    tf_mutex_init(&e->m);
    tf_cond_init(&e->done_cond);
    return e;
}

tf_exec *tf_exec_ref(tf_exec *e)
{
    g_atomic_int_inc(&e->refs);
    return e;
}

static void worker_join(worker *w);

void tf_exec_unref(tf_exec *e)
{
    if (!e || !g_atomic_int_dec_and_test(&e->refs))
        return;
    tf_mutex_clear(&e->m);
    tf_cond_clear(&e->done_cond);
    g_free(e);
}

void tf_exec_lock(tf_exec *e) { tf_mutex_lock(&e->m); }
void tf_exec_unlock(tf_exec *e) { tf_mutex_unlock(&e->m); }

void tf_exec_interrupt(tf_exec *e)
{
    tf_mutex_lock(&e->m);
    e->interrupts++;
    tf_cond_broadcast(&e->done_cond);
    tf_mutex_unlock(&e->m);
}

gboolean tf_exec_interrupted(tf_exec *e)
{
    tf_mutex_lock(&e->m);
    gboolean r = e->interrupts > 0;
    tf_mutex_unlock(&e->m);
    return r;
}

void tf_exec_set_wait_listener(tf_exec *e, tf_exec_wait_fn fn, void *data)
{
    tf_mutex_lock(&e->m);
    e->wait_fn = fn;
    e->wait_data = data;
    tf_mutex_unlock(&e->m);
}

static void worker_listener(const char *what, const char *progress, gint64 elapsed_us,
                            gint64 timeout_us, void *data)
{
    worker *w = data;
    tf_exec *e = w->exec;
    tf_mutex_lock(&e->m);
    if (!w->abandoned && e->wait_fn)
        e->wait_fn(e->wait_data, what, progress, elapsed_us, timeout_us);
    tf_mutex_unlock(&e->m);
}

static tf_step_status run_body(const tf_call *c, GError **error)
{
    switch (c->kind) {
    case TF_CALL_STEP:
        return c->step_fn(c->step, error);
    case TF_CALL_HOOK:
        return c->hook_fn(c->world, error);
    case TF_CALL_GLOBAL_HOOK:
        return c->global_fn(c->user_data, error);
    }
    return TF_STEP_FAILED;
}

/* A step body is often a few microseconds: spinning that long before sleeping on the
 * condition saves two context switches per step (the hand-off dominated the runner's
 * profile). Bounded: about 20-50 us, then the usual blocking wait. */
#define EXEC_SPIN 4000

static gboolean spin_until(const gboolean *flag)
{
    for (int i = 0; i < EXEC_SPIN; i++) {
        if (__atomic_load_n(flag, __ATOMIC_ACQUIRE))
            return TRUE;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    return FALSE;
}

static void *worker_main(void *data)
{
    worker *w = data;
    tf_exec *e = w->exec;
    tf_wait_set_listener(worker_listener, w);
    tf_mutex_lock(&e->m);
    for (;;) {
        while (!w->has_job && !w->quit) {
            tf_mutex_unlock(&e->m);
            gboolean got = spin_until(&w->has_job);
            tf_mutex_lock(&e->m);
            if (!got && !w->has_job && !w->quit)
                tf_cond_wait(&w->job_cond, &e->m);
        }
        if (!w->has_job)
            break;
        tf_call call = w->call;
        tf_mutex_unlock(&e->m);
        GError *err = NULL;
        tf_world_set_current(call.world);
        tf_step_status st = run_body(&call, &err);
        tf_world_set_current(NULL);
        if (st == TF_STEP_FAILED && !err)
            g_set_error(&err, TF_ERROR, TF_ERROR_FAILED, "step failed without a message");
        tf_mutex_lock(&e->m);
        __atomic_store_n(&w->has_job, FALSE, __ATOMIC_RELEASE);
        if (w->abandoned) {
            g_clear_error(&err);
            break;
        }
        w->status = st;
        w->error = err;
        __atomic_store_n(&w->done, TRUE, __ATOMIC_RELEASE);
        tf_cond_broadcast(&e->done_cond);
    }
    gboolean abandoned = w->abandoned;
    tf_mutex_unlock(&e->m);
    tf_wait_set_listener(NULL, NULL);
    if (abandoned) { /* nobody will join a detached worker: it cleans up after itself */
        tf_cond_clear(&w->job_cond);
        g_free(w);
        tf_exec_unref(e);
    }
    return NULL;
}

static worker *worker_start(tf_exec *e)
{
    worker *w = g_new0(worker, 1);
    w->exec = tf_exec_ref(e);
    tf_cond_init(&w->job_cond);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        g_error("exec: pthread_create failed");
    return w;
}

static void worker_join(worker *w)
{
    tf_exec *e = w->exec;
    tf_mutex_lock(&e->m);
    w->quit = TRUE;
    tf_cond_signal(&w->job_cond);
    tf_mutex_unlock(&e->m);
    pthread_join(w->thread, NULL);
    tf_cond_clear(&w->job_cond);
    g_free(w);
    tf_exec_unref(e);
}

/* Stops the current worker (joined); abandoned ones finish on their own. */
void tf_exec_shutdown(tf_exec *e);
void tf_exec_shutdown(tf_exec *e)
{
    tf_mutex_lock(&e->m);
    worker *w = e->worker;
    e->worker = NULL;
    tf_mutex_unlock(&e->m);
    if (w)
        worker_join(w);
}

tf_call_outcome tf_exec_call(tf_exec *e, const tf_call *call, gint64 timeout_us,
                             tf_step_status *status, GError **error)
{
    tf_mutex_lock(&e->m);
    if (!e->worker)
        e->worker = worker_start(e);
    worker *w = e->worker;
    guint gen = e->interrupts;
    w->call = *call;
    __atomic_store_n(&w->done, FALSE, __ATOMIC_RELEASE);
    __atomic_store_n(&w->has_job, TRUE, __ATOMIC_RELEASE);
    tf_cond_signal(&w->job_cond);
    gint64 deadline = timeout_us > 0 ? g_get_monotonic_time() + timeout_us : 0;
    tf_mutex_unlock(&e->m);
    spin_until(&w->done); /* w stays ours: only this thread or shutdown replaces it */
    tf_mutex_lock(&e->m);
    gboolean timed_out = FALSE;
    while (!w->done && e->interrupts == gen) {
        if (deadline) {
            if (!tf_cond_wait_until(&e->done_cond, &e->m, deadline) && !w->done &&
                g_get_monotonic_time() >= deadline) {
                timed_out = TRUE;
                break;
            }
        } else {
            tf_cond_wait(&e->done_cond, &e->m);
        }
    }
    tf_call_outcome out;
    if (w->done) {
        *status = w->status;
        if (w->error)
            g_propagate_error(error, w->error);
        w->error = NULL;
        __atomic_store_n(&w->done, FALSE, __ATOMIC_RELEASE);
        out = TF_CALL_DONE;
    } else {
        w->abandoned = TRUE;
        if (call->world)
            call->world->abandoned = TRUE;
        pthread_detach(w->thread);
        e->worker = NULL;
        out = timed_out ? TF_CALL_TIMEOUT : TF_CALL_INTERRUPTED;
        *status = TF_STEP_FAILED;
    }
    tf_mutex_unlock(&e->m);
    return out;
}
