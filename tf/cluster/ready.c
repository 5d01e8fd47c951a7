/* ready.c: waiting until nodes answer their readiness probe, and saying why they don't.
 * Between probe attempts we poll() the nodes' pidfds for the interval, so a node that
 * dies is noticed at once rather than after the whole timeout; the error then names the
 * node, the probe, the last probe error and the tail of the node's stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "tf/error.h"
#include "tf/handle.h"
#include "cluster_priv.h"

#define TF_READY_TAIL 2000
#define TF_PROBE_ATTEMPT_MAX_US (2 * G_USEC_PER_SEC)

static gchar *read_tail(const char *path, gsize max_bytes)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return g_strdup("");
    struct stat st;
    gsize size = fstat(fd, &st) == 0 ? (gsize)st.st_size : 0;
    gsize want = MIN(size, max_bytes);
    gchar *buf = g_malloc(want + 1);
    gsize got = 0;
    if (want && lseek(fd, (off_t)(size - want), SEEK_SET) >= 0) {
        while (got < want) {
            ssize_t r = read(fd, buf + got, want - got);
            if (r <= 0)
                break;
            got += (gsize)r;
        }
    }
    close(fd);
    buf[got] = '\0';
    return buf;
}

gchar *tf_cluster_scrubbed_tail(tf_cluster *c, tf_cluster_node *n, tf_cluster_log which,
                                gsize max_bytes)
{
    gchar *tail = read_tail(n->log[which], max_bytes);
    if (!*c->secret || !strstr(tail, c->secret))
        return tail;
    gchar **parts = g_strsplit(tail, c->secret, -1);
    gchar *clean = g_strjoinv("***", parts);
    g_strfreev(parts);
    g_free(tail);
    return clean;
}

gchar *tf_local_node_log_tail(tf_cluster *c, guint i, tf_cluster_log which, gsize max_bytes)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n ? tf_cluster_scrubbed_tail(c, n, which, max_bytes) : g_strdup("");
}

static void fail_node(tf_cluster *c, tf_cluster_node *n, const tf_probe *probe,
                      const char *what, const GError *last, GError **error)
{
    gchar *desc = tf_cluster_probe_describe(probe);
    gchar *tail = tf_cluster_scrubbed_tail(c, n, TF_CLUSTER_LOG_STDERR, TF_READY_TAIL);
    g_strchomp(tail);
    g_set_error(error, TF_ERROR, TF_ERROR_TIMEOUT,
                "%s/%s: %s: probe %s: %s; stderr (%s) tail:\n%s", c->spec->name, n->name, what,
                desc, last ? last->message : "never tried", n->log[TF_CLUSTER_LOG_STDERR],
                *tail ? tail : "(empty)");
    g_free(desc);
    g_free(tail);
}

/* Copies what one attempt needs under the lock. FALSE when the node is not up (why in
 * *st, its status in *status). */
static gboolean snapshot_node(tf_cluster *c, tf_cluster_node *n, tf_probe *probe, int *fd,
                              tf_node_state *st, int *status)
{
    tf_cluster_node_lock_fresh(c, n);
    *st = n->state;
    *status = n->status;
    gboolean up = n->state == TF_NODE_RUNNING || n->state == TF_NODE_PAUSED;
    tf_cluster_probe_clear(probe);
    probe->kind = n->probe.kind;
    probe->target = g_strdup(n->probe.target);
    probe->method = g_strdup(n->probe.method);
    probe->body = g_strdup(n->probe.body);
    probe->user = g_strdup(n->probe.user);
    probe->password = g_strdup(n->probe.password);
    probe->host = g_strdup(n->probe.host);
    *fd = up ? dup(n->pidfd) : -1;
    pthread_mutex_unlock(&c->lock);
    return up;
}

gboolean tf_cluster_wait_ready_set(tf_cluster *c, const guint *idx, guint count,
                                   gint64 timeout_us, GError **error)
{
    if (timeout_us <= 0)
        timeout_us = c->spec->ready.timeout_us;
    timeout_us = tf_timeout_scaled(timeout_us); /* TF_TIMEOUT_SCALE: a loaded machine */
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    gboolean *ready = g_new0(gboolean, count);
    GError **last = g_new0(GError *, count);
    tf_probe *probes = g_new0(tf_probe, count);
    struct pollfd *pfd = g_new0(struct pollfd, count);
    guint *who = g_new0(guint, count);
    gboolean ok = FALSE, done = FALSE;
    while (!done) {
        guint waiting = 0;
        for (guint k = 0; k < count && !done; k++) {
            if (ready[k])
                continue;
            tf_cluster_node *n = tf_cluster_get_node(c, idx[k]);
            tf_node_state st;
            int status, fd;
            if (!n) {
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: no node %u", c->spec->name,
                            idx[k]);
                done = TRUE;
                break;
            }
            if (!snapshot_node(c, n, &probes[k], &fd, &st, &status)) {
                gchar *how = st == TF_NODE_EXITED || st == TF_NODE_STOPPED
                                 ? tf_cluster_proc_status_str(status) : g_strdup("never started");
                gchar *what = g_strdup_printf("%s (%s) before it was ready",
                                              tf_node_state_name(st), how);
                fail_node(c, n, &probes[k], what, last[k], error);
                g_free(how);
                g_free(what);
                done = TRUE;
                break;
            }
            gint64 left = deadline - g_get_monotonic_time();
            gint64 attempt = CLAMP(left, 1000, TF_PROBE_ATTEMPT_MAX_US);
            g_clear_error(&last[k]);
            if (tf_cluster_probe_once(&probes[k], attempt, &last[k])) {
                ready[k] = TRUE;
                close(fd);
                continue;
            }
            pfd[waiting] = (struct pollfd){.fd = fd, .events = POLLIN};
            who[waiting++] = k;
        }
        if (!done && waiting == 0) {
            ok = done = TRUE;
        } else if (!done && g_get_monotonic_time() >= deadline) {
            tf_cluster_node *n = tf_cluster_get_node(c, idx[who[0]]);
            gchar *what = g_strdup_printf("not ready after %" G_GINT64_FORMAT " ms",
                                          timeout_us / 1000);
            fail_node(c, n, &probes[who[0]], what, last[who[0]], error);
            g_free(what);
            done = TRUE;
        } else if (!done) {
            /* The interval between attempts, cut short if a node exits. */
            gint64 left = deadline - g_get_monotonic_time();
            gint64 wait = MIN(left, c->spec->ready.interval_us);
            int ms = wait <= 0 ? 0 : (int)((wait + 999) / 1000);
            while (poll(pfd, waiting, ms) < 0 && errno == EINTR)
                ;
        }
        for (guint w = 0; w < waiting; w++)
            close(pfd[w].fd);
    }
    for (guint k = 0; k < count; k++) {
        g_clear_error(&last[k]);
        tf_cluster_probe_clear(&probes[k]);
    }
    g_free(ready);
    g_free(last);
    g_free(probes);
    g_free(pfd);
    g_free(who);
    return ok;
}

gboolean tf_local_node_wait_ready(tf_cluster *c, guint i, gint64 timeout_us, GError **error)
{
    return tf_cluster_wait_ready_set(c, &i, 1, timeout_us, error);
}
