/* net_peer.h: a stand-in cluster member for tests of network faults: an HTTP server on a
 * member's own address that answers /health and /ping, and on /connect?to=ADDR:PORT tries
 * to reach another member (connect, GET /ping, "pong" back) and says whether it could.
 * The test program runs it when started with --net-peer ADDR PORT, so a cluster spec can
 * start the test's own binary as its members (net_peer_spec). */
#ifndef TF_TEST_NET_PEER_H
#define TF_TEST_NET_PEER_H

#include <glib.h>
#include <tf/cluster.h>
#include <tf/http.h>

/* Before any test runs: skips the whole program where network namespaces cannot be
 * made: a failure under CI=true when ip or iptables is missing (install-deps.sh installs
 * them), a skip everywhere when only the privileges are missing (nothing installs them;
 * the reason says how to get them). */
void net_test_need_namespaces(void);

/* The argv[1] that makes a test program a peer. */
#define NET_PEER_FLAG "--net-peer"

/* When argv asks for a peer: serves until killed and never returns; else returns. */
void net_peer_maybe_run(int argc, char **argv);
/* A spec of n peers (this program, --net-peer) in network namespaces (new; free it). */
tf_cluster_spec *net_peer_spec(guint n);
/* Whether node `from` of c reaches node `to` now: asks `from` (through the runner's HTTP
 * client, which faults never cut) to connect to `to`. The attempt gives up after 1.5 s. */
gboolean net_peer_reaches(tf_http *http, tf_cluster *c, guint from, guint to);
/* Every ordered pair at once (one batch): reach[from * n + to] (diagonal TRUE). New array. */
gboolean *net_peer_matrix(tf_http *http, tf_cluster *c);
/* The matrix as text, "n1->n2 ok, n1->n3 CUT, ..." (new string), for failure messages. */
gchar *net_peer_matrix_text(tf_cluster *c, const gboolean *m);

#endif
