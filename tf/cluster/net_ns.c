/* net_ns.c: network namespaces held by descriptors, and tools (ip, iptables-restore, tc)
 * run inside them. A namespace is made by a short-lived thread that unshares its own
 * network namespace and opens it: no process has to live in it and no name is left in
 * /run/netns, so nothing of it can outlive the descriptors that hold it. */
#define _GNU_SOURCE /* unshare, setns, memfd_create, close_range */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "tf/error.h"
#include "net.h"

#define TOOL_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define OUTPUT_MAX (256 * 1024)

/* ---- making a namespace ----------------------------------------------------------- */

typedef struct {
    int fd;
    int err;
    const char *step;
} ns_req;

static void *make_ns(void *arg)
{
    ns_req *r = arg;
    r->step = "unshare(CLONE_NEWNET)";
    if (unshare(CLONE_NEWNET) < 0) {
        r->err = errno;
        return NULL;
    }
    r->step = "open /proc/thread-self/ns/net";
    r->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        r->err = errno;
    return NULL; /* the thread ends; the descriptor now holds the namespace alone */
}

int tf_netns_new(GError **error)
{
    ns_req r = {.fd = -1};
    pthread_t t;
    int rc = pthread_create(&t, NULL, make_ns, &r);
    if (rc) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "network namespace: thread: %s", g_strerror(rc));
        return -1;
    }
    pthread_join(t, NULL);
    if (r.fd < 0)
        g_set_error(error, TF_ERROR, r.err == EPERM ? TF_ERROR_INVALID : TF_ERROR_IO,
                    "network namespace: %s: %s", r.step, g_strerror(r.err));
    return r.fd;
}

/* ---- finding the tools ------------------------------------------------------------ */

/* Full path of tool (new string): PATH first, then the sbin folders a non-root PATH
 * often lacks. NULL when absent. */
static gchar *find_tool(const char *tool)
{
    gchar *path = g_find_program_in_path(tool);
    static const char *const sbin[] = {"/usr/sbin", "/sbin", "/usr/local/sbin"};
    for (guint i = 0; !path && i < G_N_ELEMENTS(sbin); i++) {
        gchar *p = g_build_filename(sbin[i], tool, NULL);
        if (access(p, X_OK) == 0)
            path = p;
        else
            g_free(p);
    }
    return path;
}

/* ---- running a tool inside a namespace -------------------------------------------- */

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_run(int ns_fd, int in_fd, int out_fd, const int *keep, guint n_keep,
                      const char *path, char *const *argv)
{
    if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) < 0)
        _exit(126);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(126);
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    for (guint i = 0; i < n_keep; i++)
        fcntl(keep[i], F_SETFD, 0);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    execv(path, argv);
    _exit(127);
}

/* The input as a readable descriptor at offset 0 (a memfd: no pipe to keep fed). */
static int input_fd(const char *input, GError **error)
{
    if (!input)
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
    int fd = memfd_create("tf-net-input", MFD_CLOEXEC);
    gsize len = strlen(input), done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, input + done, len - done);
        if (n < 0 && errno != EINTR) {
            close(fd);
            fd = -1;
        } else if (n > 0) {
            done += (gsize)n;
        }
    }
    if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "input: %s", g_strerror(errno));
    return fd;
}

/* Reads fd to EOF (keeping at most OUTPUT_MAX bytes) until deadline. FALSE on timeout. */
static gboolean read_all(int fd, GString *out, gint64 deadline)
{
    char buf[4096];
    for (;;) {
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0)
            return FALSE;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, (int)((left + 999) / 1000));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return rc == 0 ? FALSE : TRUE;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return TRUE;
        if (out->len < OUTPUT_MAX)
            g_string_append_len(out, buf, MIN((gsize)n, OUTPUT_MAX - out->len));
    }
}

gboolean tf_netns_run(int ns_fd, const char *const *argv, const char *input, const int *keep_fds,
                      guint n_keep, gchar **out, GError **error)
{
    gchar *cmd = g_strjoinv(" ", (gchar **)argv);
    gchar *path = find_tool(argv[0]);
    if (!path) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: %s not found (PATH, /usr/sbin, /sbin)",
                    cmd, argv[0]);
        g_free(cmd);
        return FALSE;
    }
    int in = input_fd(input, error);
    int pipefd[2] = {-1, -1};
    if (in < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
        if (in >= 0)
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: pipe: %s", cmd, g_strerror(errno));
        if (in >= 0)
            close(in);
        g_free(path);
        g_free(cmd);
        return FALSE;
    }
    pid_t pid = fork();
    if (pid == 0)
        child_run(ns_fd, in, pipefd[1], keep_fds, n_keep, path, (char *const *)argv);
    int fork_errno = errno;
    close(in);
    close(pipefd[1]);
    GString *text = g_string_new(NULL);
    gboolean ok = FALSE;
    if (pid < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: fork: %s", cmd, g_strerror(fork_errno));
    } else {
        gboolean done = read_all(pipefd[0], text, g_get_monotonic_time() + TOOL_TIMEOUT_US);
        if (!done)
            kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        g_strstrip(text->str);
        text->len = strlen(text->str);
        if (!done)
            g_set_error(error, TF_ERROR, TF_ERROR_TIMEOUT, "%s: no answer after %d s", cmd,
                        (int)(TOOL_TIMEOUT_US / G_USEC_PER_SEC));
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: could not enter its network namespace",
                        cmd);
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s: %s %d%s%s", cmd,
                        WIFEXITED(status) ? "exit" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                        text->len ? ": " : "", text->str);
        else
            ok = TRUE;
    }
    close(pipefd[0]);
    if (ok && out)
        *out = g_string_free(text, FALSE);
    else
        g_string_free(text, TRUE);
    g_free(path);
    g_free(cmd);
    return ok;
}

/* ---- can we? ---------------------------------------------------------------------- */

static pthread_once_t usable_once = PTHREAD_ONCE_INIT;
static gchar *usable_error; /* NULL when usable; written once under usable_once */

static void check_usable(void)
{
    GError *e = NULL;
    int fd = tf_netns_new(&e);
    if (fd < 0) {
        usable_error = g_strdup_printf(
            "%s: network faults need their own network namespaces, which takes CAP_SYS_ADMIN "
            "and CAP_NET_ADMIN (tf runs as uid %u without them): run as root, or inside a user "
            "namespace where you are: unshare --user --map-root-user --net tf run ...",
            e->message, (unsigned)geteuid());
        g_error_free(e);
        return;
    }
    close(fd);
    static const char *const tools[][2] = {
        {"ip", "iproute2"}, {"iptables-restore", "iptables"}, {"iptables", "iptables"}};
    for (guint i = 0; i < G_N_ELEMENTS(tools); i++) {
        gchar *p = find_tool(tools[i][0]);
        if (!p) {
            usable_error = g_strdup_printf(
                "%s not found (PATH, /usr/sbin, /sbin): network faults need it (Debian: "
                "apt-get install %s)", tools[i][0], tools[i][1]);
            return;
        }
        g_free(p);
    }
}

gboolean tf_netns_usable(GError **error)
{
    pthread_once(&usable_once, check_usable);
    if (usable_error)
        g_set_error_literal(error, TF_ERROR, TF_ERROR_INVALID, usable_error);
    return usable_error == NULL;
}
