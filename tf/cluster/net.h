/* net.h: isolated networking for local clusters (internal to tf/cluster).
 * Each member runs in a network namespace of its own, joined to the others and to the
 * runner by a bridge in a hub namespace; faults are iptables rules inside the members'
 * namespaces. Namespaces are held by file descriptors only (no /run/netns names), so the
 * kernel removes them, their links and their rules when the last holder goes, however
 * the runner ends; what lives in the runner's namespace (one veth end, one route) is
 * recorded in an owned directory that a later run sweeps when its owner is dead. */
#ifndef TF_CLUSTER_NET_H
#define TF_CLUSTER_NET_H

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

/* ---- net_ns.c: namespaces and commands inside them -------------------------------- */

/* Whether this process can build isolated networks: make a network namespace, and find
 * `ip` (iproute2) and `iptables-restore` (iptables). Checked once per process (the answer
 * is cached). FALSE + error saying what is missing and how to get it. */
gboolean tf_netns_usable(GError **error);
/* A new, empty network namespace, held by the returned descriptor (close-on-exec; the
 * namespace goes when it and every process inside are gone), or -1 + error. */
int tf_netns_new(GError **error);
/* Runs argv (argv[0] a tool name, found in PATH, /usr/sbin or /sbin) inside the namespace
 * ns_fd (-1: the caller's), with `input` (may be NULL) on its stdin and keep_fds (n_keep of
 * them, may be NULL) left open in it under the same numbers (for /proc/self/fd/N paths).
 * Gives up after 10 s. TRUE when it exits 0, with stdout+stderr in *out (may be NULL).
 * FALSE + error "ARGV: exit N: output" otherwise. */
gboolean tf_netns_run(int ns_fd, const char *const *argv, const char *input, const int *keep_fds,
                      guint n_keep, gchar **out, GError **error);

/* ---- net.c: one cluster's network -------------------------------------------------- */

/* The network of one cluster: a /24 of tf's subnet (TF_NET_SUBNET, default
 * 10.213.0.0/16), the runner at .1, member i at .(i + 2). */
typedef struct tf_net tf_net;

/* Builds the network for n members (0 is allowed): sweeps what dead runs left, claims a
 * free /24, holds an `unreachable` route for tf's whole subnet in the runner's namespace,
 * creates the hub and member namespaces with their links and the members' base rules.
 * `where` names the cluster in errors. NULL + error (nothing left behind) on failure. */
tf_net *tf_net_new(const char *where, guint n_members, GError **error);
/* Adds member number n_members (the next index) with its namespace and link. */
gboolean tf_net_add_member(tf_net *net, GError **error);
/* Member i's address ("10.213.7.2", borrowed), or NULL when out of range. */
const char *tf_net_address(const tf_net *net, guint i);
/* The runner's address on this network (borrowed). */
const char *tf_net_runner_address(const tf_net *net);
/* The descriptor holding member i's namespace (borrowed), or -1. */
int tf_net_member_fd(const tf_net *net, guint i);
/* Number of members. */
guint tf_net_size(const tf_net *net);
/* Replaces member i's fault rules: `rules` is the body of its TF-IN chain (lines of
 * iptables-restore "-A TF-IN ..."), placed after the rule that lets loopback through and
 * before the one that lets the runner through (so a rule that names no source must
 * exclude the runner's address unless it means to cut the observer off). Atomic per
 * member. FALSE + error naming the member. */
gboolean tf_net_set_rules(tf_net *net, guint i, const char *rules, GError **error);
/* Adds a netem delay to everything member i sends on its link, or removes it (delay_us
 * 0). FALSE + error "... needs the netem queueing discipline ..." where the kernel has
 * no netem. */
gboolean tf_net_set_delay(tf_net *net, guint i, gint64 delay_us, GError **error);
/* Tears the network down: namespaces, links, the record, and the route when no other
 * live run needs it. Members' processes must be gone already. NULL is a no-op. */
void tf_net_free(tf_net *net);

/* Removes what dead runs left in this network namespace (their runner-side links, their
 * records, the route when no live run remains); never what a live run holds. Adds a line
 * per removed thing to removed (may be NULL). Returns how many records were removed. */
guint tf_net_sweep(GPtrArray *removed);
/* The directory holding this network namespace's records (new string): for tests. */
gchar *tf_net_state_dir(void);
/* tf's subnet ("10.213.0.0/16", new string) from TF_NET_SUBNET, or NULL + error. */
gchar *tf_net_subnet(GError **error);

G_END_DECLS

#endif
