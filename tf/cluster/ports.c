/* ports.c: free loopback ports, picked at run time, never the same for two tf processes.
 * The kernel names a free port when we bind 127.0.0.1:0; we close the socket and hand the
 * number to a node, which binds it later. Two things could hand the same number out again
 * before that bind: this process (the kernel offers it again once the probe socket is
 * closed), which a process-wide set prevents, and another tf process (the workers of
 * `tf run --parallel`, parallel CI jobs), which a reservation prevents: a write lock on
 * byte PORT of one lock file per user (/tmp/tf-ports-UID.lock: ports are the machine's, so
 * the file is too, whatever TMPDIR each process has), taken with an open file
 * description lock (F_OFD_SETLK). The kernel drops the locks when the process dies however
 * it dies, so a killed run's reservations free themselves with no sweep, and a lock held
 * by a live process is never taken over. Reservations are kept for the process's life, as
 * the set is: a freed cluster's port may still be held by a node in its last moments.
 * Holding a bound socket (SO_REUSEADDR) until the node binds was the alternative; it works
 * only if every node binds with SO_REUSEADDR and while the socket does not listen, which
 * tf cannot promise for the programs it starts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tf/error.h"
#include "cluster_priv.h"

static pthread_mutex_t ports_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *ports_taken; /* port -> port, this process's; never shrinks */
static int reserve_fd = -1;     /* the lock file, opened by reserve_pid */
static pid_t reserve_pid;       /* a forked child opens its own: the locks are per opening */

static guint probe_free_port(GError **error)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "port: socket: %s", g_strerror(errno));
        return 0;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "port: bind 127.0.0.1:0: %s",
                    g_strerror(errno));
        close(fd);
        return 0;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

/* This process's uid as the machine knows it: inside a user namespace (unshare
 * --map-root-user) getuid() is the mapped 0, but the lock file belongs to the real user. */
static unsigned machine_uid(void)
{
    unsigned uid = (unsigned)getuid(), inside, outside, count;
    FILE *f = fopen("/proc/self/uid_map", "r");
    while (f && fscanf(f, "%u %u %u", &inside, &outside, &count) == 3)
        if (uid >= inside && uid - inside < count) {
            uid = outside + (uid - inside);
            break;
        }
    if (f)
        fclose(f);
    return uid;
}

char *tf_cluster_ports_lock_path(void)
{
    char *leaf = g_strdup_printf("tf-ports-%u.lock", machine_uid());
    /* $TMPDIR differs between runs (tests and soak runs set their own): only a
     * machine-wide place makes every tf process see the same reservations */
    const char *dir = access("/tmp", W_OK | X_OK) == 0 ? "/tmp" : g_get_tmp_dir();
    char *path = g_build_filename(dir, leaf, NULL);
    g_free(leaf);
    return path;
}

/* Reserves port for this process's life: TRUE, or FALSE when another process holds it
 * (*held) or the lock file cannot be used (error). ports_lock held. */
static gboolean reserve_locked(guint port, gboolean *held, GError **error)
{
    *held = FALSE;
    if (reserve_fd >= 0 && reserve_pid != getpid()) {
        close(reserve_fd); /* inherited through fork: the parent's reservations, not ours */
        reserve_fd = -1;
    }
    if (reserve_fd < 0) {
        char *path = tf_cluster_ports_lock_path();
        reserve_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (reserve_fd < 0) {
            g_set_error(error, TF_ERROR, TF_ERROR_IO, "port: reservations %s: %s", path,
                        g_strerror(errno));
            g_free(path);
            return FALSE;
        }
        g_free(path);
        reserve_pid = getpid();
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = port, .l_len = 1};
    if (fcntl(reserve_fd, F_OFD_SETLK, &fl) == 0)
        return TRUE;
    if (errno == EAGAIN || errno == EACCES) {
        *held = TRUE;
        return FALSE;
    }
    g_set_error(error, TF_ERROR, TF_ERROR_IO, "port: reserving %u: %s", port, g_strerror(errno));
    return FALSE;
}

guint tf_cluster_port_take(GError **error)
{
    for (int attempt = 0; attempt < 256; attempt++) {
        guint port = probe_free_port(error);
        if (!port)
            return 0;
        pthread_mutex_lock(&ports_lock);
        if (!ports_taken)
            ports_taken = g_hash_table_new(g_direct_hash, g_direct_equal);
        gboolean fresh = !g_hash_table_contains(ports_taken, GUINT_TO_POINTER(port));
        gboolean held = FALSE;
        if (fresh && !reserve_locked(port, &held, error)) {
            pthread_mutex_unlock(&ports_lock);
            if (!held)
                return 0;
            continue; /* another tf process has it */
        }
        if (fresh)
            g_hash_table_add(ports_taken, GUINT_TO_POINTER(port));
        pthread_mutex_unlock(&ports_lock);
        if (fresh)
            return port;
    }
    g_set_error(error, TF_ERROR, TF_ERROR_IO,
                "port: the kernel kept offering ports already handed out (256 tries)");
    return 0;
}
