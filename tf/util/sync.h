/* sync.h: mutex and condition variable for tf's threaded core, on pthreads.
 * glib's GMutex/GCond are futex-based on Linux, invisible to ThreadSanitizer; pthreads
 * keep TSan's verdicts meaningful. Deadlines are CLOCK_MONOTONIC µs, the same clock as
 * g_get_monotonic_time(). Internal header. */
#ifndef TF_UTIL_SYNC_H
#define TF_UTIL_SYNC_H

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <time.h>

typedef pthread_mutex_t tf_mutex;
typedef pthread_cond_t tf_cond;

static inline void tf_mutex_init(tf_mutex *m) { pthread_mutex_init(m, NULL); }
static inline void tf_mutex_clear(tf_mutex *m) { pthread_mutex_destroy(m); }
static inline void tf_mutex_lock(tf_mutex *m) { pthread_mutex_lock(m); }
static inline void tf_mutex_unlock(tf_mutex *m) { pthread_mutex_unlock(m); }

static inline void tf_cond_init(tf_cond *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
}
static inline void tf_cond_clear(tf_cond *c) { pthread_cond_destroy(c); }
static inline void tf_cond_signal(tf_cond *c) { pthread_cond_signal(c); }
static inline void tf_cond_broadcast(tf_cond *c) { pthread_cond_broadcast(c); }
static inline void tf_cond_wait(tf_cond *c, tf_mutex *m) { pthread_cond_wait(c, m); }

/* Waits until signalled or until the monotonic deadline (µs); FALSE on timeout. */
static inline gboolean tf_cond_wait_until(tf_cond *c, tf_mutex *m, gint64 deadline_us)
{
    struct timespec ts = {.tv_sec = deadline_us / G_USEC_PER_SEC,
                          .tv_nsec = (deadline_us % G_USEC_PER_SEC) * 1000};
    return pthread_cond_timedwait(c, m, &ts) != ETIMEDOUT;
}

#endif
