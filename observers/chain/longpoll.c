/* longpoll.c: one thread per source blocked in `waitfornewblock` (with a short timeout),
 * ringing the runtime's waker as soon as the node's tip changes, so a new block is
 * ingested at once rather than at the next interval. Stopping sets a flag and interrupts
 * the request in flight; a failing node is retried after a timed wait on the stop flag. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "chain/observer_priv.h"

struct chain_longpoll {
    GThread *thread;
    tf_http *http;
    chain_rpc *rpc;
    tf_waker *waker;
    guint timeout_ms;
    /* pthreads, not GMutex/GCond: glib's futex locks are invisible to ThreadSanitizer
     * (README "Sanitizers"); cond runs on CLOCK_MONOTONIC, as g_get_monotonic_time. */
    pthread_mutex_t lock;          /* guards stop (with cond) */
    pthread_cond_t cond;
    gboolean stop;
    gint wakes;                    /* atomic */
};

static gboolean stopping(chain_longpoll *lp)
{
    pthread_mutex_lock(&lp->lock);
    gboolean s = lp->stop;
    pthread_mutex_unlock(&lp->lock);
    return s;
}

/* Waits on cond until stop is set or until `until` (monotonic µs); lock held. */
static void wait_stop_until(chain_longpoll *lp, gint64 until)
{
    struct timespec ts = {.tv_sec = until / G_USEC_PER_SEC,
                          .tv_nsec = (until % G_USEC_PER_SEC) * 1000};
    while (!lp->stop && pthread_cond_timedwait(&lp->cond, &lp->lock, &ts) != ETIMEDOUT)
        ;
}

static gpointer longpoll_main(gpointer data)
{
    chain_longpoll *lp = data;
    char last[CHAIN_HASH_BUF] = "";
    while (!stopping(lp)) {
        GError *err = NULL;
        json_t *res = chain_rpc_call(lp->rpc, lp->http, NULL, "waitfornewblock",
                                     json_pack("[i]", (int)lp->timeout_ms),
                                     (gint64)lp->timeout_ms * 1000 + 2 * G_USEC_PER_SEC, &err);
        const char *hash = json_string_value(json_object_get(res, "hash"));
        if (hash && strlen(hash) == 64) {
            /* The first answer wakes too: the block may have come before the thread knew a tip. */
            if (strcmp(hash, last)) {
                g_atomic_int_inc(&lp->wakes);
                tf_waker_wake(lp->waker);
                g_strlcpy(last, hash, sizeof last);
            }
        } else {
            /* Node down or refusing: retry after the timeout, unless told to stop. */
            pthread_mutex_lock(&lp->lock);
            wait_stop_until(lp, g_get_monotonic_time() + (gint64)lp->timeout_ms * 1000);
            pthread_mutex_unlock(&lp->lock);
        }
        json_decref(res);
        g_clear_error(&err);
    }
    return NULL;
}

chain_longpoll *chain_longpoll_start(const tf_source *src, tf_waker *waker, guint timeout_ms)
{
    chain_rpc *rpc = chain_rpc_from_source(src, NULL);
    if (!rpc) {
        tf_waker_unref(waker);
        return NULL;
    }
    chain_longpoll *lp = g_new0(chain_longpoll, 1);
    lp->rpc = rpc;
    lp->http = tf_http_new();
    lp->waker = waker;
    lp->timeout_ms = timeout_ms ? timeout_ms : 1000;
    pthread_mutex_init(&lp->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&lp->cond, &attr);
    pthread_condattr_destroy(&attr);
    lp->thread = g_thread_new("chain-longpoll", longpoll_main, lp);
    return lp;
}

guint64 chain_longpoll_wakes(chain_longpoll *lp)
{
    return lp ? (guint64)g_atomic_int_get(&lp->wakes) : 0;
}

void chain_longpoll_stop(chain_longpoll *lp)
{
    if (!lp)
        return;
    pthread_mutex_lock(&lp->lock);
    lp->stop = TRUE;
    pthread_cond_broadcast(&lp->cond);
    pthread_mutex_unlock(&lp->lock);
    tf_http_interrupt(lp->http); /* ends a waitfornewblock in flight (or the next one) */
    g_thread_join(lp->thread);
    tf_http_free(lp->http);
    chain_rpc_free(lp->rpc);
    tf_waker_unref(lp->waker);
    pthread_mutex_destroy(&lp->lock);
    pthread_cond_destroy(&lp->cond);
    g_free(lp);
}
