/* node.c: fault injection on one local node: start, stop, kill, pause, resume, restart,
 * state (network faults, isolation included, are fault.c's): the local backend's hooks.
 * Operations on a node are serialised by its op mutex; the cluster lock guards only the
 * state fields, and is never held while waiting, so the provider can list at any time.
 * Every operation opens the same way (op_begin): node by index, op mutex, cluster lock,
 * reap an exit that happened meanwhile, so it acts on the node's real state. */
#define _GNU_SOURCE /* waitid flags, O_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "net.h"

/* How long a SIGKILLed process may take to go: only an uninterruptible sleep can delay it. */
#define TF_KILL_WAIT_US (30 * G_USEC_PER_SEC)

static gboolean is_up(const tf_cluster_node *n)
{
    return n->state == TF_NODE_RUNNING || n->state == TF_NODE_PAUSED;
}


void tf_cluster_node_refresh_locked(tf_cluster_node *n)
{
    if (n->pid <= 0 || !tf_cluster_proc_wait_exit(n->pidfd, 0))
        return;
    /* The leader is a zombie, so its pgid cannot be reused yet: sweep the group now. */
    kill(-n->pid, SIGKILL);
    int status = 0;
    while (waitpid(n->pid, &status, 0) < 0 && errno == EINTR)
        ;
    tf_cluster_registry_remove(n->pid);
    close(n->pidfd);
    n->pidfd = -1;
    n->pid = 0;
    n->status = status;
    n->state = n->stopping ? TF_NODE_STOPPED : TF_NODE_EXITED;
}

void tf_cluster_node_lock_fresh(tf_cluster *c, tf_cluster_node *n)
{
    pthread_mutex_lock(&c->lock);
    tf_cluster_node_refresh_locked(n);
}

/* The opening of every operation on node i: its op mutex, then the cluster lock, with an
 * exit since the last look reaped. NULL + error when there is no node i (nothing held). */
static tf_cluster_node *op_begin(tf_cluster *c, guint i, GError **error)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    if (!n) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: no node %u (cluster has %u)",
                    c->spec->name, i, tf_cluster_size(c));
        return NULL;
    }
    pthread_mutex_lock(&n->op);
    tf_cluster_node_lock_fresh(c, n);
    return n;
}

static int open_log(const char *path, guint start, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "open %s: %s", path, g_strerror(errno));
        return -1;
    }
    if (start > 1) { /* a marker, so a reader of the log can tell the runs apart */
        gchar *mark = g_strdup_printf("--- tf: start #%u ---\n", start);
        (void)!write(fd, mark, strlen(mark));
        g_free(mark);
    }
    return fd;
}

gboolean tf_local_node_start(tf_cluster *c, guint i, GError **error)
{
    tf_cluster_node *n = op_begin(c, i, error);
    if (!n)
        return FALSE;
    gboolean up = is_up(n), freed = c->freed;
    gchar **argv = g_strdupv(n->argv);
    guint start = n->starts + 1;
    pthread_mutex_unlock(&c->lock);
    gboolean ok = FALSE;
    int out = -1, err = -1;
    if (freed) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: cluster is freed", c->spec->name,
                    n->name);
    } else if (up) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: already running", c->spec->name,
                    n->name);
    } else if ((out = open_log(n->log[0], start, error)) >= 0 &&
               (err = open_log(n->log[1], start, error)) >= 0) {
        pid_t pid;
        int pidfd;
        GError *e = NULL;
        int netns = c->net ? tf_net_member_fd(c->net, n->index) : -1;
        ok = tf_cluster_proc_spawn(argv, out, err, netns, &pid, &pidfd, &e);
        if (ok) {
            pthread_mutex_lock(&c->lock);
            n->pid = pid;
            n->pidfd = pidfd;
            n->status = 0;
            n->stopping = FALSE;
            n->state = TF_NODE_RUNNING;
            n->starts = start;
            pthread_mutex_unlock(&c->lock);
        } else {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s/%s: %s", c->spec->name, n->name,
                        e->message);
            g_error_free(e);
        }
    }
    if (out >= 0)
        close(out);
    if (err >= 0)
        close(err);
    g_strfreev(argv);
    pthread_mutex_unlock(&n->op);
    return ok;
}

/* Ends n: see the header. Entered as op_begin leaves it (op mutex and cluster lock held,
 * n refreshed); returns with the cluster lock released, the op mutex still held. */
static gboolean end_begun(tf_cluster *c, tf_cluster_node *n, gboolean graceful,
                          GError **error)
{
    if (!is_up(n)) {
        pthread_mutex_unlock(&c->lock);
        return TRUE;
    }
    pid_t pid = n->pid;
    int fd = dup(n->pidfd); /* ours: a concurrent reap closes the node's */
    n->stopping = TRUE;
    if (graceful) {
        kill(-pid, SIGTERM);
        if (n->state == TF_NODE_PAUSED)
            kill(-pid, SIGCONT); /* a stopped process only sees TERM once continued */
    } else {
        kill(-pid, SIGKILL);
    }
    pthread_mutex_unlock(&c->lock);

    gboolean gone = graceful && fd >= 0 && tf_cluster_proc_wait_exit(fd, c->spec->stop_grace_us);
    if (!gone) {
        pthread_mutex_lock(&c->lock);
        if (n->pid == pid) /* not reaped meanwhile, so the pgid is still this group */
            kill(-pid, SIGKILL);
        pthread_mutex_unlock(&c->lock);
        gone = fd < 0 || tf_cluster_proc_wait_exit(fd, TF_KILL_WAIT_US);
    }
    if (fd >= 0)
        close(fd);
    tf_cluster_node_lock_fresh(c, n);
    pthread_mutex_unlock(&c->lock);
    if (!gone)
        g_set_error(error, TF_ERROR, TF_ERROR_TIMEOUT, "%s/%s: pid %d still alive %d s after SIGKILL",
                    c->spec->name, n->name, (int)pid, (int)(TF_KILL_WAIT_US / G_USEC_PER_SEC));
    return gone;
}

gboolean tf_cluster_node_end(tf_cluster *c, tf_cluster_node *n, gboolean graceful, GError **error)
{
    pthread_mutex_lock(&n->op);
    tf_cluster_node_lock_fresh(c, n);
    gboolean ok = end_begun(c, n, graceful, error);
    pthread_mutex_unlock(&n->op);
    return ok;
}

/* Stop (graceful) and kill. */
static gboolean end_node(tf_cluster *c, guint i, gboolean graceful, GError **error)
{
    tf_cluster_node *n = op_begin(c, i, error);
    if (!n)
        return FALSE;
    gboolean ok = end_begun(c, n, graceful, error);
    pthread_mutex_unlock(&n->op);
    return ok;
}

gboolean tf_local_node_stop(tf_cluster *c, guint i, GError **error)
{
    return end_node(c, i, TRUE, error);
}

gboolean tf_local_node_kill(tf_cluster *c, guint i, GError **error)
{
    return end_node(c, i, FALSE, error);
}

gboolean tf_local_node_restart(tf_cluster *c, guint i, GError **error)
{
    /* Another thread could start it in between; then start fails with "already running". */
    return end_node(c, i, TRUE, error) && tf_local_node_start(c, i, error);
}

gboolean tf_local_node_pause(tf_cluster *c, guint i, GError **error)
{
    tf_cluster_node *n = op_begin(c, i, error);
    if (!n)
        return FALSE;
    tf_node_state st = n->state;
    pid_t pid = n->pid;
    if (st == TF_NODE_RUNNING)
        kill(-pid, SIGSTOP);
    pthread_mutex_unlock(&c->lock);
    gboolean ok = st == TF_NODE_RUNNING;
    if (!ok) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: cannot pause: node is %s",
                    c->spec->name, n->name, tf_node_state_name(st));
    } else {
        /* SIGSTOP lands asynchronously: return once the leader really is stopped (or
         * gone), so the caller's next observation sees a frozen node. WNOWAIT leaves an
         * exit for the reaper. */
        siginfo_t si;
        while (waitid(P_PID, (id_t)pid, &si, WSTOPPED | WEXITED | WNOWAIT) < 0 && errno == EINTR)
            ;
        pthread_mutex_lock(&c->lock);
        if (n->pid == pid && n->state == TF_NODE_RUNNING)
            n->state = TF_NODE_PAUSED;
        tf_cluster_node_refresh_locked(n);
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&n->op);
    return ok;
}

gboolean tf_local_node_resume(tf_cluster *c, guint i, GError **error)
{
    tf_cluster_node *n = op_begin(c, i, error);
    if (!n)
        return FALSE;
    tf_node_state st = n->state;
    if (st == TF_NODE_PAUSED) {
        kill(-n->pid, SIGCONT); /* takes effect as it is sent: nothing to wait for */
        n->state = TF_NODE_RUNNING;
    }
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&n->op);
    if (st != TF_NODE_PAUSED) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s/%s: cannot resume: node is %s",
                    c->spec->name, n->name, tf_node_state_name(st));
        return FALSE;
    }
    return TRUE;
}

tf_node_state tf_local_node_state(tf_cluster *c, guint i, int *wait_status)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    if (wait_status)
        *wait_status = 0;
    if (!n)
        return TF_NODE_STOPPED;
    tf_cluster_node_lock_fresh(c, n);
    tf_node_state st = n->state;
    if (wait_status && (st == TF_NODE_EXITED || st == TF_NODE_STOPPED))
        *wait_status = n->status;
    pthread_mutex_unlock(&c->lock);
    return st;
}

pid_t tf_local_node_pid(tf_cluster *c, guint i)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    if (!n)
        return 0;
    tf_cluster_node_lock_fresh(c, n);
    pid_t pid = n->pid;
    pthread_mutex_unlock(&c->lock);
    return pid;
}

const char *tf_node_state_name(tf_node_state state)
{
    switch (state) {
    case TF_NODE_CREATED: return "created";
    case TF_NODE_RUNNING: return "running";
    case TF_NODE_PAUSED: return "paused";
    case TF_NODE_STOPPED: return "stopped";
    case TF_NODE_EXITED: return "exited";
    }
    return "unknown";
}
