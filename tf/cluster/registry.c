/* registry.c: every live node process group, killed on any way out of the process.
 * A fixed array of pgids (lock-free atomics, so the signal handler may read it) is swept
 * with SIGKILL on SIGINT/SIGTERM/SIGHUP and at exit; PR_SET_PDEATHSIG in each child
 * covers the ways out that run no code at all (SIGKILL, a crash). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cluster_priv.h"

#define TF_REGISTRY_SLOTS 1024

static atomic_int registry[TF_REGISTRY_SLOTS];
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction previous[N_FATAL];
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

void tf_cluster_kill_all_now(void)
{
    int saved = errno;
    for (int i = 0; i < TF_REGISTRY_SLOTS; i++) {
        int pg = atomic_load(&registry[i]);
        if (pg > 0)
            kill(-pg, SIGKILL);
    }
    errno = saved;
}

static volatile sig_atomic_t in_handler;

static void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
    tf_cluster_kill_all_now();
    if (in_handler)
        return; /* an application handler that chains back to us: no loop */
    for (unsigned i = 0; i < N_FATAL; i++) {
        if (fatal_signals[i] != sig)
            continue;
        const struct sigaction *old = &previous[i];
        if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
            in_handler = 1;
            old->sa_sigaction(sig, info, uctx); /* the application's own handler decides */
            in_handler = 0;
            return;
        }
        if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL &&
            old->sa_handler != SIG_IGN) {
            in_handler = 1;
            old->sa_handler(sig);
            in_handler = 0;
            return;
        }
    }
    /* Default action: die by the same signal, so the parent sees what happened. */
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

static void on_exit_kill(void)
{
    tf_cluster_kill_all_now();
}

/* A forked child (a test's helper, say) does not own its parent's nodes. */
static void on_fork_child(void)
{
    for (int i = 0; i < TF_REGISTRY_SLOTS; i++)
        atomic_store(&registry[i], 0);
}

static void install_hooks(void)
{
    atexit(on_exit_kill);
    pthread_atfork(NULL, NULL, on_fork_child);
}

/* Puts our handler in front of whatever handles each fatal signal now. Checked at every
 * spawn, so a handler the application installed after ours (or in a forked child) is
 * chained rather than silently losing the cleanup. */
static void install_handlers(void)
{
    pthread_mutex_lock(&install_lock);
    for (unsigned i = 0; i < N_FATAL; i++) {
        struct sigaction old;
        if (sigaction(fatal_signals[i], NULL, &old) < 0)
            continue;
        if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_fatal_signal)
            continue; /* ours already */
        if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN)
            continue; /* ignored on purpose (nohup): leave it so */
        previous[i] = old; /* written before ours is installed: the handler reads it */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[i], &sa, NULL);
    }
    pthread_mutex_unlock(&install_lock);
}

void tf_cluster_registry_add(pid_t pgid)
{
    pthread_once(&hooks_once, install_hooks);
    install_handlers();
    for (int i = 0; i < TF_REGISTRY_SLOTS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&registry[i], &expected, (int)pgid))
            return;
    }
    /* Full: PR_SET_PDEATHSIG still covers this node; only the graceful paths miss it. */
    g_warning("tf cluster: more than %d live nodes; node %d is not in the cleanup registry",
              TF_REGISTRY_SLOTS, (int)pgid);
}

void tf_cluster_registry_remove(pid_t pgid)
{
    for (int i = 0; i < TF_REGISTRY_SLOTS; i++) {
        int expected = (int)pgid;
        if (atomic_compare_exchange_strong(&registry[i], &expected, 0))
            return;
    }
}
