/* bench_server.c: see bench_server.h. The child answers one stats record per byte read
 * from its control pipe and exits on end of file (the parent closed it, or died). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench_server.h"
#include "bench_util.h"

struct bench_server {
    pid_t pid;
    int ctl;        /* parent -> child: one byte per stats request */
    int rep;        /* child -> parent: the port, then one bench_server_stats per request */
    guint16 port;
    void *shared;
    gsize shared_size;
};

static gboolean read_full(int fd, void *buf, gsize n)
{
    char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return FALSE;
        p += r;
        n -= (gsize)r;
    }
    return TRUE;
}

static gboolean write_full(int fd, const void *buf, gsize n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return FALSE;
        p += w;
        n -= (gsize)w;
    }
    return TRUE;
}

static G_GNUC_NORETURN void child(int ctl, int rep, void *shared, bench_server_setup setup, guint threads)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fixture_http *fx = threads ? fixture_http_start_pooled(threads) : fixture_http_start();
    setup(fx, shared);
    guint16 port = fixture_http_port(fx);
    if (!write_full(rep, &port, sizeof port))
        _exit(1);
    char c;
    while (read(ctl, &c, 1) == 1) {
        bench_server_stats st = {fixture_http_requests(fx), fixture_http_connections(fx),
                                 bench_cpu_seconds()};
        if (!write_full(rep, &st, sizeof st))
            break;
    }
    fixture_http_free(fx);
    _exit(0);
}

bench_server *bench_server_fork(gsize shared_size, bench_server_setup setup)
{
    return bench_server_fork_pooled(shared_size, setup, 0);
}

bench_server *bench_server_fork_pooled(gsize shared_size, bench_server_setup setup, guint threads)
{
    bench_server *s = g_new0(bench_server, 1);
    s->shared_size = MAX(shared_size, 1);
    s->shared = mmap(NULL, s->shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int ctl[2], rep[2];
    if (s->shared == MAP_FAILED || pipe(ctl) || pipe(rep))
        bench_die("server: shared memory or pipes: %s", g_strerror(errno));
    signal(SIGPIPE, SIG_IGN); /* a dead child is reported by the failed write instead */
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        bench_die("server: fork: %s", g_strerror(errno));
    if (s->pid == 0) {
        close(ctl[1]);
        close(rep[0]);
        child(ctl[0], rep[1], s->shared, setup, threads);
    }
    close(ctl[0]);
    close(rep[1]);
    s->ctl = ctl[1];
    s->rep = rep[0];
    if (!read_full(s->rep, &s->port, sizeof s->port))
        bench_die("server: the server process did not start");
    return s;
}

void *bench_server_shared(bench_server *s)
{
    return s->shared;
}

char *bench_server_url(bench_server *s, const char *path)
{
    return g_strdup_printf("http://127.0.0.1:%u%s", s->port, path);
}

bench_server_stats bench_server_stats_get(bench_server *s)
{
    bench_server_stats st = {0};
    if (!write_full(s->ctl, "?", 1) || !read_full(s->rep, &st, sizeof st))
        bench_die("server: the server process is gone");
    return st;
}

void bench_server_free(bench_server *s)
{
    if (!s)
        return;
    close(s->ctl);
    close(s->rep);
    int status;
    waitpid(s->pid, &status, 0);
    munmap(s->shared, s->shared_size);
    g_free(s);
}
