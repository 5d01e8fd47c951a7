/* ports.c: free loopback ports, picked at run time.
 * The kernel names a free port when we bind 127.0.0.1:0; we close the socket and hand the
 * number to a node. A process-wide set keeps us from handing the same number out twice
 * (the kernel would happily offer it again once our probe socket is closed). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tf/error.h"
#include "cluster_priv.h"

static pthread_mutex_t ports_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *ports_taken; /* port -> port, never shrinks: a freed cluster's port may
                                   still be held by a process in its last moments */

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
