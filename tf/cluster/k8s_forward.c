/* k8s_forward.c: `kubectl port-forward` to one pod, for a runner outside the cluster.
 * kubectl picks the local port and says so on stdout; it keeps writing there ("Handling
 * connection for ...") and dies of SIGPIPE if nobody reads, so a small thread drains its
 * output for as long as it lives. The forward ends when its pod does (kubectl exits). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "deploy_priv.h"

#define TF_FORWARD_SAID_MAX 4096
#define TF_FORWARD_TERM_US (5 * G_USEC_PER_SEC)

struct tf_k8s_forward {
    GPid pid;
    int out;
    gchar *uid;
    GThread *drain;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    gchar *url;     /* once kubectl said where it listens */
    gboolean eof;   /* kubectl closed its stdout: it has ended */
    GString *said;  /* its first words, for an error message */
};

static void die_with_spawner(gpointer unused)
{
    (void)unused;
    /* A runner blocks SIGTERM & co. for its signal thread, and a mask survives exec:
     * kubectl must take the SIGTERM that ends it. */
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* the spawning thread is the k8s watcher */
}

static gpointer drain_main(gpointer data)
{
    tf_k8s_forward *f = data;
    static const char mark[] = "Forwarding from 127.0.0.1:";
    char buf[512];
    for (;;) {
        ssize_t n = read(f->out, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        pthread_mutex_lock(&f->lock);
        if (!f->url && f->said->len < TF_FORWARD_SAID_MAX) {
            g_string_append_len(f->said, buf, n);
            const char *at = strstr(f->said->str, mark);
            if (at && strchr(at, '\n')) {
                guint port = (guint)strtoul(at + strlen(mark), NULL, 10);
                if (port)
                    f->url = g_strdup_printf("http://127.0.0.1:%u", port);
                pthread_cond_broadcast(&f->cond);
            }
        }
        pthread_mutex_unlock(&f->lock);
    }
    pthread_mutex_lock(&f->lock);
    f->eof = TRUE;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

tf_k8s_forward *tf_k8s_forward_start(const char *kubeconfig, const char *ns, const char *pod,
                                     const char *uid, guint port, gint64 timeout_us,
                                     GError **error)
{
    gchar *target = g_strdup_printf("pod/%s", pod), *ports = g_strdup_printf(":%u", port);
    char *argv[] = {"kubectl", "--kubeconfig", (char *)kubeconfig, "-n", (char *)ns,
                    "port-forward", "--address", "127.0.0.1", target, ports, NULL};
    GPid pid = 0;
    int out = -1;
    GError *e = NULL;
    gboolean ok = g_spawn_async_with_pipes(NULL, argv, NULL,
                                           G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                               G_SPAWN_STDERR_TO_DEV_NULL,
                                           die_with_spawner, NULL, &pid, NULL, &out, NULL, &e);
    g_free(target);
    g_free(ports);
    if (!ok) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "k8s/%s/%s: kubectl port-forward: %s", ns, pod,
                    e->message);
        g_error_free(e);
        return NULL;
    }
    tf_k8s_forward *f = g_new0(tf_k8s_forward, 1);
    f->pid = pid;
    f->out = out;
    f->uid = g_strdup(uid);
    f->said = g_string_new(NULL);
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &attr);
    pthread_condattr_destroy(&attr);
    f->drain = g_thread_new("tf-k8s-forward", drain_main, f);
    gint64 until = g_get_monotonic_time() + timeout_us;
    struct timespec ts = {until / G_USEC_PER_SEC, (until % G_USEC_PER_SEC) * 1000};
    pthread_mutex_lock(&f->lock);
    while (!f->url && !f->eof && pthread_cond_timedwait(&f->cond, &f->lock, &ts) == 0)
        ;
    gboolean up = f->url != NULL;
    if (!up)
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "k8s/%s/%s: kubectl port-forward %s "
                    "(said: %.200s)", ns, pod, f->eof ? "ended before it listened"
                    : "gave no local port in time", f->said->str);
    pthread_mutex_unlock(&f->lock);
    if (!up) {
        tf_k8s_forward_free(f);
        return NULL;
    }
    return f;
}

const char *tf_k8s_forward_url(tf_k8s_forward *f)
{
    return f->url; /* set before tf_k8s_forward_start returned, never changed */
}

const char *tf_k8s_forward_uid(tf_k8s_forward *f)
{
    return f->uid;
}

gboolean tf_k8s_forward_alive(tf_k8s_forward *f)
{
    pthread_mutex_lock(&f->lock);
    gboolean alive = !f->eof;
    pthread_mutex_unlock(&f->lock);
    return alive;
}

void tf_k8s_forward_free(tf_k8s_forward *f)
{
    if (!f)
        return;
    /* Not reaped yet, so the pid is still ours. TERM, and KILL if that is not enough. */
    int pidfd = pidfd_open(f->pid, 0);
    kill(f->pid, SIGTERM);
    if (pidfd < 0 || !tf_cluster_proc_wait_exit(pidfd, TF_FORWARD_TERM_US))
        kill(f->pid, SIGKILL);
    if (pidfd >= 0)
        close(pidfd);
    while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    g_spawn_close_pid(f->pid);
    g_thread_join(f->drain); /* EOF now that kubectl is gone */
    close(f->out);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    g_string_free(f->said, TRUE);
    g_free(f->uid);
    g_free(f->url);
    g_free(f);
}
