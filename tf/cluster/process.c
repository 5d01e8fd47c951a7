/* process.c: starting, watching and describing node processes; no shell involved.
 * fork+exec from one long-lived spawner thread: PR_SET_PDEATHSIG fires when the *thread*
 * that forked ends, so forking from a step's short-lived thread would kill the node with
 * it. Each child leads its own process group and dies with this process. */
#define _GNU_SOURCE /* pipe2, close_range, pidfd_open, setns */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "tf/error.h"
#include "cluster_priv.h"

typedef struct {
    char *const *argv;
    int out_fd, err_fd;
    int netns_fd;      /* network namespace to run in, -1 = ours */
    pid_t pid;
    int pidfd;
    int err;           /* errno of the failed step, 0 on success */
    const char *what;  /* which step failed */
    gboolean done;
} spawn_req;

/* The spawner: plain pthread objects so a forked child can reset them (see on_fork). */
static pthread_mutex_t sp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sp_cond = PTHREAD_COND_INITIALIZER;
static spawn_req *sp_pending;
static pid_t sp_owner; /* pid of the process whose spawner thread exists, 0 = none */
static pthread_once_t sp_atfork_once = PTHREAD_ONCE_INIT;

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_exec(const spawn_req *r, pid_t parent, int devnull, int report_fd)
{
    int err;
    const char *step = "setpgid";
    if (setpgid(0, 0) < 0)
        goto fail;
    step = "prctl(PR_SET_PDEATHSIG)";
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        goto fail;
    if (getppid() != parent)
        _exit(127); /* the parent died before prctl took effect */
    step = "setns(CLONE_NEWNET)";
    if (r->netns_fd >= 0 && setns(r->netns_fd, CLONE_NEWNET) < 0)
        goto fail;
    step = "dup2";
    if (dup2(devnull, 0) < 0 || dup2(r->out_fd, 1) < 0 || dup2(r->err_fd, 2) < 0)
        goto fail;
    /* No descriptor of ours leaks into the node (a test's pipe would never see EOF). */
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    /* Handlers are reset by exec, but ignored signals and the mask are inherited. */
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    step = "exec";
    execv(r->argv[0], r->argv);
fail:
    err = errno;
    /* report "step\0errno": the parent names the failing step */
    (void)!write(report_fd, &err, sizeof err);
    (void)!write(report_fd, &step, sizeof step);
    _exit(127);
}

static void do_spawn(spawn_req *r)
{
    int report[2];
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) {
        r->err = errno, r->what = "open /dev/null";
        return;
    }
    if (pipe2(report, O_CLOEXEC) < 0) {
        r->err = errno, r->what = "pipe";
        close(devnull);
        return;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(r, parent, devnull, report[1]);
    int fork_errno = errno;
    close(devnull);
    close(report[1]);
    if (pid < 0) {
        r->err = fork_errno, r->what = "fork";
        close(report[0]);
        return;
    }
    setpgid(pid, pid); /* both sides set it: no window where signals miss the group */
    tf_cluster_registry_add(pid);
    int child_err = 0;
    const char *child_step = NULL;
    ssize_t n;
    do
        n = read(report[0], &child_err, sizeof child_err);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof child_err) {
        if (read(report[0], &child_step, sizeof child_step) != (ssize_t)sizeof child_step)
            child_step = "exec";
    }
    close(report[0]);
    if (n > 0) { /* exec failed: the child has exited with 127 */
        waitpid(pid, NULL, 0);
        tf_cluster_registry_remove(pid);
        r->err = child_err, r->what = child_step;
        return;
    }
    int pidfd = pidfd_open(pid, 0); /* not reaped yet (only we wait for it): still valid */
    if (pidfd < 0) {
        r->err = errno, r->what = "pidfd_open";
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        tf_cluster_registry_remove(pid);
        return;
    }
    fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    r->pid = pid;
    r->pidfd = pidfd;
}

static void *spawner_main(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are for the application's threads */
    pthread_mutex_lock(&sp_lock);
    for (;;) {
        while (!sp_pending || sp_pending->done)
            pthread_cond_wait(&sp_cond, &sp_lock);
        spawn_req *r = sp_pending;
        pthread_mutex_unlock(&sp_lock);
        do_spawn(r);
        pthread_mutex_lock(&sp_lock);
        r->done = TRUE;
        pthread_cond_broadcast(&sp_cond);
    }
    return NULL;
}

/* A forked child has no spawner thread and maybe a lock held by a thread that is gone. */
static void on_fork_child(void)
{
    pthread_mutex_init(&sp_lock, NULL);
    pthread_cond_init(&sp_cond, NULL);
    sp_pending = NULL;
    sp_owner = 0;
}

static void atfork_install(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

gboolean tf_cluster_proc_spawn(char *const *argv, int out_fd, int err_fd, int netns_fd,
                               pid_t *pid, int *pidfd, GError **error)
{
    pthread_once(&sp_atfork_once, atfork_install);
    spawn_req r = {.argv = argv, .out_fd = out_fd, .err_fd = err_fd, .netns_fd = netns_fd,
                   .pidfd = -1};
    pthread_mutex_lock(&sp_lock);
    if (sp_owner != getpid()) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, spawner_main, NULL);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            pthread_mutex_unlock(&sp_lock);
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "spawn %s: spawner thread: %s", argv[0],
                        g_strerror(rc));
            return FALSE;
        }
        sp_owner = getpid();
    }
    /* One request at a time: spawning takes a millisecond or two. */
    while (sp_pending && !sp_pending->done)
        pthread_cond_wait(&sp_cond, &sp_lock);
    sp_pending = &r;
    pthread_cond_broadcast(&sp_cond);
    while (!r.done)
        pthread_cond_wait(&sp_cond, &sp_lock);
    sp_pending = NULL;
    pthread_cond_broadcast(&sp_cond);
    pthread_mutex_unlock(&sp_lock);
    if (r.err) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s %s: %s", r.what, argv[0],
                    g_strerror(r.err));
        return FALSE;
    }
    *pid = r.pid;
    *pidfd = r.pidfd;
    return TRUE;
}

gboolean tf_cluster_proc_wait_exit(int pidfd, gint64 timeout_us)
{
    gint64 deadline = timeout_us < 0 ? -1 : g_get_monotonic_time() + timeout_us;
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            gint64 left = deadline - g_get_monotonic_time();
            ms = left <= 0 ? 0 : (int)((left + 999) / 1000);
        }
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        int rc = poll(&pfd, 1, ms);
        if (rc > 0)
            return TRUE;
        if (rc == 0)
            return FALSE;
        if (errno != EINTR)
            return FALSE;
    }
}

gchar *tf_cluster_proc_status_str(int status)
{
    if (WIFEXITED(status))
        return g_strdup_printf("exit %d", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return g_strdup_printf("signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                               WCOREDUMP(status) ? ", core dumped" : "");
    return g_strdup_printf("status 0x%x", status);
}
