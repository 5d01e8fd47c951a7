/* exec.c: runs step and hook bodies so that the runner can give up on a body that overruns
 * its timeout or is interrupted by Ctrl-C, and still run After hooks and cleanups. A stuck
 * body keeps its thread (abandoned: it never touches the run again and frees itself when
 * the body returns); a fresh thread serves what comes next. Two ways to get there:
 *
 * - driven (tf_exec_drive; tf run): the run loop is a fiber on a host thread and each body
 *   runs inline on the host's own stack. A step costs two user-space context switches: no
 *   wake-up, no thread hop, nothing that spins, so runners sharing a busy machine do not
 *   starve each other. The caller of tf_exec_drive is the supervisor: it sleeps until the
 *   running body's deadline or an interrupt, then abandons the host and starts a new one,
 *   which adopts the suspended run loop fiber; there the call returns TIMEOUT/INTERRUPTED.
 * - hop (any other caller: the wire server, whose calls cross a socket anyway): the body
 *   runs on a worker thread while the caller blocks on a condition variable. */
#include <string.h>
#include "fiber.h"
#include "runner_priv.h"
#include "tf/handle.h"

void tf_world_set_current(tf_world *world);

/* The run loop's stack: steps run on the hosts' thread stacks, but reporters, the store
 * and a plug-in's hooks of the loop may nest deeply. Untouched pages cost nothing. */
#define LOOP_STACK_SIZE (8u << 20)
#define FOREVER G_MAXINT64

typedef struct host host;
typedef struct drive drive;

struct tf_exec {
    gint refs;
    tf_mutex m;
    tf_cond cond;     /* a body finished, an interrupt arrived, a deadline came closer */
    guint interrupts; /* how many interrupts arrived; a call is cut by a new one */
    tf_exec_wait_fn wait_fn;
    void *wait_data;
    host *host;       /* the thread that runs bodies now (hop: created on first call) */
    drive *drive;     /* set while tf_exec_drive runs */
    /* the call in flight: one at a time */
    tf_call call;
    guint gen;        /* interrupts when the call began */
    gboolean done;    /* the body returned: status and error hold its answer */
    tf_step_status status;
    GError *error;
};

/* A thread that runs bodies. Hop: waits for jobs. Driven: runs the loop fiber, and each
 * body the loop asks for, on its own stack (native). */
struct host {
    tf_exec *exec; /* referenced */
    pthread_t thread;
    tf_cond job_cond;     /* hop: a job or quit arrived */
    gboolean job, quit;   /* hop */
    gboolean abandoned;   /* its body overran: it must not touch the run again */
    tf_call call;         /* abandoned: the call it owns (a world reference, the step) */
    tf_fiber native;      /* driven */
};

struct drive {
    tf_fiber *loop;
    void (*fn)(void *);
    void *data;
    gboolean finished;     /* fn returned */
    gboolean in_body;      /* the host is inside a body (its deadline runs) */
    gint64 timeout_us;     /* of the current call; 0 = none */
    gint64 deadline;       /* of the body running; FOREVER when none */
    gint64 wake_at;        /* when the supervisor plans to look next; FOREVER = not before
                            * it is signalled */
    tf_call_outcome outcome; /* of an abandoned call */
};

tf_exec *tf_exec_new(void)
{
    tf_exec *e = g_new0(tf_exec, 1);
    e->refs = 1;
    tf_mutex_init(&e->m);
    tf_cond_init(&e->cond);
    return e;
}

tf_exec *tf_exec_ref(tf_exec *e)
{
    g_atomic_int_inc(&e->refs);
    return e;
}

void tf_exec_unref(tf_exec *e)
{
    if (!e || !g_atomic_int_dec_and_test(&e->refs))
        return;
    tf_mutex_clear(&e->m);
    tf_cond_clear(&e->cond);
    g_free(e);
}

void tf_exec_lock(tf_exec *e) { tf_mutex_lock(&e->m); }
void tf_exec_unlock(tf_exec *e) { tf_mutex_unlock(&e->m); }

void tf_exec_interrupt(tf_exec *e)
{
    tf_mutex_lock(&e->m);
    e->interrupts++;
    tf_cond_broadcast(&e->cond);
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

/* ---- hosts ---- */

static void host_listener(const char *what, const char *progress, gint64 elapsed_us,
                          gint64 timeout_us, void *data)
{
    host *h = data;
    tf_exec *e = h->exec;
    tf_mutex_lock(&e->m);
    if (!h->abandoned && e->wait_fn)
        e->wait_fn(e->wait_data, what, progress, elapsed_us, timeout_us);
    tf_mutex_unlock(&e->m);
}

static host *host_start(tf_exec *e, void *(*main_fn)(void *))
{
    host *h = g_new0(host, 1);
    h->exec = tf_exec_ref(e);
    tf_cond_init(&h->job_cond);
    if (pthread_create(&h->thread, NULL, main_fn, h) != 0)
        g_error("exec: pthread_create failed");
    return h;
}

static void host_free(host *h)
{
    tf_exec *e = h->exec;
    tf_cond_clear(&h->job_cond);
    g_free(h);
    tf_exec_unref(e);
}

/* Called with the lock held, by whoever gives up on h's body: h is detached, takes a
 * reference to the world and the step, and frees them and itself when the body returns. */
static void host_abandon(tf_exec *e, host *h)
{
    h->abandoned = TRUE;
    h->call = e->call;
    if (e->call.world) {
        e->call.world->abandoned = TRUE;
        g_atomic_int_inc(&e->call.world->refs);
    }
    pthread_detach(h->thread);
}

/* An abandoned host whose body returned (lock not held): what the call left it, then h. */
static void host_free_abandoned(host *h)
{
    if (h->call.step && h->call.step_free)
        h->call.step_free(h->call.step);
    tf_world_release(h->call.world);
    host_free(h);
}

/* Runs the call of e (copied under the lock) on the calling thread, then, under the lock,
 * stores its answer unless the host was abandoned meanwhile. Returns with the lock held;
 * FALSE when abandoned (the answer is dropped). */
static gboolean host_run_body(host *h, tf_call call)
{
    tf_exec *e = h->exec;
    tf_mutex_unlock(&e->m);
    GError *err = NULL;
    tf_world_set_current(call.world);
    tf_step_status st = TF_STEP_FAILED;
    switch (call.kind) {
    case TF_CALL_STEP: st = call.step_fn(call.step, &err); break;
    case TF_CALL_HOOK: st = call.hook_fn(call.world, &err); break;
    case TF_CALL_GLOBAL_HOOK: st = call.global_fn(call.user_data, &err); break;
    }
    tf_world_set_current(NULL);
    if (st == TF_STEP_FAILED && !err)
        g_set_error(&err, TF_ERROR, TF_ERROR_FAILED, "step failed without a message");
    tf_mutex_lock(&e->m);
    if (h->abandoned) {
        g_clear_error(&err);
        return FALSE;
    }
    e->status = st;
    e->error = err;
    e->done = TRUE;
    return TRUE;
}

/* What a finished call hands back (lock held). */
static tf_call_outcome call_collect(tf_exec *e, tf_step_status *status, GError **error)
{
    *status = e->status;
    if (e->error)
        g_propagate_error(error, e->error);
    e->error = NULL;
    e->done = FALSE;
    return TF_CALL_DONE;
}

/* ---- driven: bodies inline, the run loop a fiber ---- */

/* A host of a driven exec: runs the loop fiber until it asks for a body (or ends), runs
 * that body here on the thread's own stack, and switches back. The first host enters the
 * loop at its start; a host started after an abandonment adopts it mid-call. */
static void *host_drive_main(void *data)
{
    host *h = data;
    tf_exec *e = h->exec;
    drive *d = e->drive;
    tf_fiber_init_thread(&h->native);
    tf_wait_set_listener(host_listener, h);
    for (;;) {
        tf_fiber_switch(&h->native, d->loop);
        tf_mutex_lock(&e->m);
        if (d->finished)
            break;
        /* The loop is suspended (its context saved): from here the supervisor may abandon
         * this body and hand the loop to another host. */
        d->in_body = TRUE;
        d->deadline = d->timeout_us > 0 ? g_get_monotonic_time() + d->timeout_us : FOREVER;
        if (d->deadline < d->wake_at || e->interrupts != e->gen)
            tf_cond_signal(&e->cond);
        if (!host_run_body(h, e->call))
            break;
        d->in_body = FALSE;
        tf_mutex_unlock(&e->m);
    }
    gboolean abandoned = h->abandoned;
    tf_mutex_unlock(&e->m);
    tf_wait_set_listener(NULL, NULL);
    if (abandoned) /* nobody joins it: it cleans up after itself */
        host_free_abandoned(h);
    return NULL;
}

static void loop_main(void *data)
{
    tf_exec *e = data;
    drive *d = e->drive;
    d->fn(d->data);
    tf_mutex_lock(&e->m);
    d->finished = TRUE;
    host *h = e->host;
    tf_cond_broadcast(&e->cond);
    tf_mutex_unlock(&e->m);
    tf_fiber_exit(d->loop, &h->native);
}

/* The supervisor's side of a call that overran (lock held): the host keeps the body, a
 * new host takes the loop, which sees the call end with `out`. */
static void drive_abandon(tf_exec *e, drive *d, tf_call_outcome out)
{
    host_abandon(e, e->host);
    d->in_body = FALSE;
    d->outcome = out;
    e->host = host_start(e, host_drive_main);
}

void tf_exec_drive(tf_exec *e, void (*fn)(void *), void *data)
{
    drive d = {.fn = fn, .data = data, .deadline = FOREVER, .wake_at = FOREVER};
    d.loop = tf_fiber_new(LOOP_STACK_SIZE, loop_main, e);
    tf_mutex_lock(&e->m);
    g_assert(!e->drive && !e->host);
    e->drive = &d;
    e->host = host_start(e, host_drive_main);
    while (!d.finished) {
        gint64 now = g_get_monotonic_time();
        if (d.in_body && e->interrupts != e->gen) {
            drive_abandon(e, &d, TF_CALL_INTERRUPTED);
            continue;
        }
        if (d.in_body && now >= d.deadline) {
            drive_abandon(e, &d, TF_CALL_TIMEOUT);
            continue;
        }
        /* Idle or inside a body: look again at its deadline, or when a body started now
         * with the last call's timeout would end. A host signals only when its deadline is
         * earlier than that, so a run of steps with one timeout wakes nobody. */
        d.wake_at = d.in_body ? d.deadline : d.timeout_us > 0 ? now + d.timeout_us : FOREVER;
        if (d.wake_at == FOREVER)
            tf_cond_wait(&e->cond, &e->m);
        else
            tf_cond_wait_until(&e->cond, &e->m, d.wake_at);
    }
    host *last = e->host;
    e->host = NULL;
    e->drive = NULL;
    tf_mutex_unlock(&e->m);
    pthread_join(last->thread, NULL); /* after this nothing runs on the loop's stack */
    host_free(last);
    tf_fiber_free(d.loop);
}

static tf_call_outcome drive_call(tf_exec *e, const tf_call *call, gint64 timeout_us,
                                  tf_step_status *status, GError **error)
{
    drive *d = e->drive;
    tf_mutex_lock(&e->m);
    host *h = e->host;
    e->call = *call;
    e->gen = e->interrupts;
    e->done = FALSE;
    d->timeout_us = timeout_us > 0 ? timeout_us : 0;
    tf_mutex_unlock(&e->m);
    /* The host runs the body and switches back; or, when the body overran, a new host
     * switches back in its place. */
    tf_fiber_switch(d->loop, &h->native);
    tf_mutex_lock(&e->m);
    tf_call_outcome out;
    if (e->done) {
        out = call_collect(e, status, error);
    } else {
        out = d->outcome;
        *status = TF_STEP_FAILED;
    }
    tf_mutex_unlock(&e->m);
    return out;
}

/* ---- hop: bodies on a worker thread ---- */

static void *host_hop_main(void *data)
{
    host *h = data;
    tf_exec *e = h->exec;
    tf_wait_set_listener(host_listener, h);
    tf_mutex_lock(&e->m);
    for (;;) {
        while (!h->job && !h->quit)
            tf_cond_wait(&h->job_cond, &e->m);
        if (!h->job)
            break;
        h->job = FALSE;
        if (!host_run_body(h, e->call))
            break;
        tf_cond_broadcast(&e->cond);
    }
    gboolean abandoned = h->abandoned;
    tf_mutex_unlock(&e->m);
    tf_wait_set_listener(NULL, NULL);
    if (abandoned)
        host_free_abandoned(h);
    return NULL;
}

static tf_call_outcome hop_call(tf_exec *e, const tf_call *call, gint64 timeout_us,
                                tf_step_status *status, GError **error)
{
    tf_mutex_lock(&e->m);
    if (!e->host)
        e->host = host_start(e, host_hop_main);
    host *h = e->host;
    e->call = *call;
    e->gen = e->interrupts;
    e->done = FALSE;
    h->job = TRUE;
    tf_cond_signal(&h->job_cond);
    gint64 deadline = timeout_us > 0 ? g_get_monotonic_time() + timeout_us : 0;
    gboolean timed_out = FALSE;
    while (!e->done && e->interrupts == e->gen) {
        if (!deadline) {
            tf_cond_wait(&e->cond, &e->m);
        } else if (!tf_cond_wait_until(&e->cond, &e->m, deadline) && !e->done &&
                   g_get_monotonic_time() >= deadline) {
            timed_out = TRUE;
            break;
        }
    }
    tf_call_outcome out;
    if (e->done) {
        out = call_collect(e, status, error);
    } else {
        host_abandon(e, h);
        e->host = NULL;
        out = timed_out ? TF_CALL_TIMEOUT : TF_CALL_INTERRUPTED;
        *status = TF_STEP_FAILED;
    }
    tf_mutex_unlock(&e->m);
    return out;
}

void tf_exec_shutdown(tf_exec *e)
{
    tf_mutex_lock(&e->m);
    host *h = e->drive ? NULL : e->host;
    if (h) {
        e->host = NULL;
        h->quit = TRUE;
        tf_cond_signal(&h->job_cond);
    }
    tf_mutex_unlock(&e->m);
    if (h) {
        pthread_join(h->thread, NULL);
        host_free(h);
    }
}

tf_call_outcome tf_exec_call(tf_exec *e, const tf_call *call, gint64 timeout_us,
                             tf_step_status *status, GError **error)
{
    /* e->drive is set before the loop fiber first runs and cleared after it ended, so
     * the loop reads it without the lock; other callers of a driven exec are a bug. */
    return e->drive ? drive_call(e, call, timeout_us, status, error)
                    : hop_call(e, call, timeout_us, status, error);
}
