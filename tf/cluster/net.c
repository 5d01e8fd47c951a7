/* net.c: one local cluster's isolated network, and what a dead run left of one.
 *
 *   runner's namespace          hub namespace              member i's namespace
 *   tfn<K> a.b.K.1/24 ---veth--- hub0 -+- br0 -+- m<i> ---veth--- eth0 a.b.K.(i+2)/24
 *   unreachable a.b.0.0/16
 *
 * The hub and member namespaces are held by descriptors only: when the runner dies, so do
 * they, with their links and rules. The runner's namespace keeps two things per run: the
 * tfn<K> end (gone with the hub, deleted at once on teardown) and the unreachable route
 * for tf's whole subnet, which stops a packet meant for a member from leaving by the
 * default route before the links exist or after they are gone. Each run records its slot
 * K in an owned directory (owner.h) under a lock shared by every run in this namespace;
 * the route goes when the last live record does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include "tf/error.h"
#include "net.h"
#include "owner.h"

#define TF_NET_DEFAULT_SUBNET "10.213.0.0/16"
#define TF_NET_SLOTS 256
#define TF_NET_MAX_MEMBERS 250      /* .2 .. .251 */
#define TF_NET_RECORD_PREFIX "net-"
#define TF_NET_SLOT_FILE "slot"
#define TF_NET_LINK_PREFIX "tfn"    /* + slot: at most 6 of the 15 characters a name has */

struct tf_net {
    gchar *where;
    guint slot;
    guint a, b;             /* tf's subnet is a.b.0.0/16 */
    gchar *subnet;          /* "a.b.0.0/16" */
    gchar *link;            /* runner-side veth */
    gchar *runner_addr;
    tf_owned_dir *record;
    int hub_fd;
    pthread_mutex_t lock;   /* guards the arrays (members can be added while others read) */
    GArray *fds;            /* int: member namespaces */
    GPtrArray *addrs;       /* gchar *: member addresses */
};

/* ---- the subnet and the state directory ------------------------------------------ */

static gboolean parse_subnet(const char *s, guint *a, guint *b)
{
    unsigned x, y, z, w, len;
    char tail;
    return sscanf(s, "%u.%u.%u.%u/%u%c", &x, &y, &z, &w, &len, &tail) == 5 && x > 0 && x < 224 &&
           y < 256 && z == 0 && w == 0 && len == 16 && x != 127 && (*a = x, *b = y, TRUE);
}

gchar *tf_net_subnet(GError **error)
{
    const char *env = g_getenv("TF_NET_SUBNET");
    const char *s = env && *env ? env : TF_NET_DEFAULT_SUBNET;
    guint a, b;
    if (!parse_subnet(s, &a, &b)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "TF_NET_SUBNET: '%s' is not a /16 of the form A.B.0.0/16 (default %s)", s,
                    TF_NET_DEFAULT_SUBNET);
        return NULL;
    }
    return g_strdup(s);
}

/* The runner's network namespace, as an inode number (records are per namespace: what
 * another namespace holds is invisible from here). */
static unsigned long runner_netns(void)
{
    struct stat st;
    return stat("/proc/thread-self/ns/net", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

gchar *tf_net_state_dir(void)
{
    /* /run is cleared at boot, like the routes it describes; a user in a user namespace
     * (who cannot write /run) uses their runtime directory, else the temp dir. */
    const char *runtime = g_getenv("XDG_RUNTIME_DIR");
    const char *base = access("/run", W_OK) == 0                       ? "/run"
                       : runtime && *runtime && access(runtime, W_OK) == 0 ? runtime
                                                                       : g_get_tmp_dir();
    gchar *ns = g_strdup_printf("ns-%lu", runner_netns());
    gchar *leaf = g_strdup_printf("tf-net-%u", (unsigned)geteuid());
    gchar *dir = g_build_filename(base, leaf, ns, NULL);
    g_free(leaf);
    g_free(ns);
    return dir;
}

/* Takes the lock every run in this namespace shares while it changes records or the
 * route. Returns its descriptor, or -1 + error. */
static int lock_state(const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "mkdir %s: %s", dir, g_strerror(errno));
        return -1;
    }
    gchar *path = g_build_filename(dir, ".lock", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int rc = fd >= 0 ? flock(fd, LOCK_EX) : -1;
    if (rc < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "lock %s: %s", path, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    g_free(path);
    return fd;
}

static void unlock_state(int fd)
{
    if (fd >= 0)
        close(fd); /* drops the flock */
}

/* ---- records ----------------------------------------------------------------------- */

typedef struct {
    gchar *path;
    guint slot;
    guint a, b;
    tf_owner_state owner;
} record;

static void record_free(gpointer p)
{
    record *r = p;
    g_free(r->path);
    g_free(r);
}

/* Every record in dir with its owner's state (lock held). Unreadable ones count as live:
 * whatever cannot be proven dead is left alone, and its slot is not reused. */
static GPtrArray *read_records(const char *dir)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(record_free);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        if (!g_str_has_prefix(name, TF_NET_RECORD_PREFIX))
            continue;
        record *r = g_new0(record, 1);
        r->path = g_build_filename(dir, name, NULL);
        r->slot = G_MAXUINT;
        r->owner = tf_owner_dir_state(r->path);
        gchar *file = g_build_filename(r->path, TF_NET_SLOT_FILE, NULL), *text = NULL;
        if (g_file_get_contents(file, &text, NULL, NULL) &&
            sscanf(text, "%u %u.%u", &r->slot, &r->a, &r->b) != 3)
            r->slot = G_MAXUINT;
        g_free(text);
        g_free(file);
        g_ptr_array_add(out, r);
    }
    if (d)
        g_dir_close(d);
    return out;
}

static gchar *link_name(guint slot)
{
    return g_strdup_printf(TF_NET_LINK_PREFIX "%u", slot);
}

/* Runs `ip ARGS...` in the runner's namespace. */
static gboolean ip_here(GError **error, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "ip");
    va_list ap;
    va_start(ap, error);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    gboolean ok = tf_netns_run(-1, (const char *const *)argv->pdata, NULL, NULL, 0, NULL, error);
    g_ptr_array_unref(argv);
    return ok;
}

/* Deletes a link of ours if it exists. */
static void del_link(const char *name, GPtrArray *removed)
{
    GError *e = NULL;
    if (ip_here(&e, "link", "del", name, NULL)) {
        if (removed)
            g_ptr_array_add(removed, g_strdup_printf("link %s", name));
    } else if (!strstr(e->message, "Cannot find device")) {
        g_warning("network: %s", e->message);
    }
    g_clear_error(&e);
}

/* Removes the unreachable route for a.b.0.0/16 if no live record of that subnet is left. */
static void drop_route_if_unused(GPtrArray *records, guint a, guint b, GPtrArray *removed)
{
    for (guint i = 0; i < records->len; i++) {
        record *r = records->pdata[i];
        if (r->owner != TF_OWNER_DEAD && (r->slot == G_MAXUINT || (r->a == a && r->b == b)))
            return;
    }
    gchar *net = g_strdup_printf("%u.%u.0.0/16", a, b);
    GError *e = NULL;
    if (ip_here(&e, "-4", "route", "del", "unreachable", net, NULL)) {
        if (removed)
            g_ptr_array_add(removed, g_strdup_printf("route unreachable %s", net));
    } else if (!strstr(e->message, "No such process")) { /* what ip says for no route */
        g_warning("network: %s", e->message);
    }
    g_clear_error(&e);
    g_free(net);
}

/* Removes dead records and what they left (lock held); returns the records still there. */
static GPtrArray *sweep_locked(const char *dir, GPtrArray *removed, guint *count)
{
    GPtrArray *records = read_records(dir);
    GArray *subnets = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < records->len; i++) {
        record *r = records->pdata[i];
        if (r->owner != TF_OWNER_DEAD)
            continue;
        if (r->slot != G_MAXUINT) {
            gchar *l = link_name(r->slot); /* usually gone with the dead run's hub already */
            del_link(l, removed);
            g_free(l);
            guint key = r->a << 8 | r->b;
            g_array_append_val(subnets, key);
        }
    }
    GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
    *count = tf_owner_sweep_dirs(dir, TF_NET_RECORD_PREFIX, gone);
    for (guint i = 0; removed && i < gone->len; i++)
        g_ptr_array_add(removed, g_strdup_printf("record %s", (char *)gone->pdata[i]));
    g_ptr_array_unref(gone);
    g_ptr_array_unref(records);
    records = read_records(dir);
    for (guint i = 0; i < subnets->len; i++) {
        guint key = g_array_index(subnets, guint, i);
        drop_route_if_unused(records, key >> 8, key & 0xff, removed);
    }
    g_array_unref(subnets);
    return records;
}

guint tf_net_sweep(GPtrArray *removed)
{
    gchar *dir = tf_net_state_dir();
    guint count = 0;
    if (g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        int lock = lock_state(dir, NULL);
        if (lock >= 0) {
            g_ptr_array_unref(sweep_locked(dir, removed, &count));
            unlock_state(lock);
        }
    }
    g_free(dir);
    return count;
}

/* ---- what the runner's namespace already has ------------------------------------- */

static gboolean in_subnet(const char *dst, guint a, guint b)
{
    unsigned x, y, z, w, len = 32;
    if (sscanf(dst, "%u.%u.%u.%u/%u", &x, &y, &z, &w, &len) < 4)
        return FALSE;
    if (len >= 16)
        return x == a && y == b;
    guint32 mask = len ? ~0u << (32 - len) : 0, ours = (a << 24 | b << 16);
    return ((x << 24 | y << 16 | z << 8 | w) & mask) == (ours & mask);
}

/* FALSE + error when a route not made by tf covers part of tf's subnet: then members'
 * addresses would collide with a network this machine already uses. */
static gboolean subnet_free(const tf_net *net, GError **error)
{
    gchar *out = NULL;
    GError *e = NULL;
    const char *argv[] = {"ip", "-j", "-4", "route", "show", "table", "main", NULL};
    if (!tf_netns_run(-1, argv, NULL, NULL, 0, &out, &e)) {
        g_propagate_error(error, e);
        return FALSE;
    }
    json_t *routes = json_loads(out, 0, NULL);
    gboolean ok = TRUE;
    size_t i;
    json_t *r;
    json_array_foreach(routes, i, r) {
        const char *dst = json_string_value(json_object_get(r, "dst"));
        const char *type = json_string_value(json_object_get(r, "type"));
        const char *dev = json_string_value(json_object_get(r, "dev"));
        if (!dst || !strcmp(dst, "default") || !in_subnet(dst, net->a, net->b))
            continue;
        if ((type && !strcmp(type, "unreachable") && !strcmp(dst, net->subnet)) ||
            (dev && g_str_has_prefix(dev, TF_NET_LINK_PREFIX)))
            continue; /* ours */
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: network: %s is in use on this machine (route %s%s%s): set TF_NET_SUBNET "
                    "to a /16 that nothing here uses", net->where, net->subnet, dst,
                    dev ? " dev " : "", dev ? dev : "");
        ok = FALSE;
        break;
    }
    json_decref(routes);
    g_free(out);
    return ok;
}

/* Names of the links in the runner's namespace (new table). */
static GHashTable *links_here(void)
{
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gchar *out = NULL;
    const char *argv[] = {"ip", "-j", "link", "show", NULL};
    if (tf_netns_run(-1, argv, NULL, NULL, 0, &out, NULL)) {
        json_t *links = json_loads(out, 0, NULL);
        size_t i;
        json_t *l;
        json_array_foreach(links, i, l) {
            const char *n = json_string_value(json_object_get(l, "ifname"));
            if (n)
                g_hash_table_add(names, g_strdup(n));
        }
        json_decref(links);
    }
    g_free(out);
    return names;
}

/* ---- building it ------------------------------------------------------------------- */

/* Claims a slot: sweeps, picks the lowest slot no live record and no link holds, writes
 * the record, holds the route. Lock held by the caller. */
static gboolean claim_slot(tf_net *net, const char *dir, GError **error)
{
    GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
    guint swept = 0;
    GPtrArray *records = sweep_locked(dir, removed, &swept);
    for (guint i = 0; i < removed->len; i++)
        g_message("network: removed %s, left by a run that died", (char *)removed->pdata[i]);
    g_ptr_array_unref(removed);
    gboolean used[TF_NET_SLOTS] = {FALSE};
    for (guint i = 0; i < records->len; i++) {
        record *r = records->pdata[i];
        if (r->slot < TF_NET_SLOTS)
            used[r->slot] = TRUE;
    }
    g_ptr_array_unref(records);
    GHashTable *links = links_here();
    net->slot = G_MAXUINT;
    for (guint k = 0; k < TF_NET_SLOTS && net->slot == G_MAXUINT; k++) {
        gchar *l = link_name(k);
        if (!used[k] && !g_hash_table_contains(links, l))
            net->slot = k;
        g_free(l);
    }
    g_hash_table_unref(links);
    if (net->slot == G_MAXUINT) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: network: all %d slots of %s are in use",
                    net->where, TF_NET_SLOTS, net->subnet);
        return FALSE;
    }
    if (!subnet_free(net, error))
        return FALSE;
    GError *e = NULL;
    net->record = tf_owned_dir_new(dir, TF_NET_RECORD_PREFIX, &e);
    gchar *file = net->record ? g_build_filename(tf_owned_dir_path(net->record), TF_NET_SLOT_FILE, NULL)
                              : NULL;
    gchar *text = g_strdup_printf("%u %u.%u\n", net->slot, net->a, net->b);
    if (net->record && !g_file_set_contents(file, text, -1, &e)) {
        tf_owned_dir_remove(net->record, NULL);
        net->record = NULL;
    }
    g_free(text);
    g_free(file);
    if (!net->record) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: network: record: %s", net->where, e->message);
        g_error_free(e);
        return FALSE;
    }
    /* replace: the route may be there already, held for another live run. */
    return ip_here(error, "-4", "route", "replace", "unreachable", net->subnet, NULL);
}

/* "/proc/self/fd/N" of a descriptor passed to a tool (as keep_fds). */
static gchar *fd_path(int fd)
{
    return g_strdup_printf("/proc/self/fd/%d", fd);
}

static gboolean ip_batch(int ns_fd, const char *batch, const int *keep, guint n_keep,
                         GError **error)
{
    const char *argv[] = {"ip", "-batch", "-", NULL};
    return tf_netns_run(ns_fd, argv, batch, keep, n_keep, NULL, error);
}

static const char *base_rules =
    "*filter\n"
    ":TF-IN - [0:0]\n"
    /* Matching on conntrack state enables connection tracking in this namespace before
     * any connection exists: a one-way cut (--ctdir) then knows who opened each one. */
    "-A INPUT -m conntrack --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED -j TF-IN\n";

/* TF-IN: loopback passes; then the faults (none matches the runner's address unless it
 * cuts the observer off on purpose); then the runner passes. */
static gchar *chain_text(const tf_net *net, const char *body)
{
    return g_strdup_printf("*filter\n"
                           ":TF-IN - [0:0]\n"
                           "-A TF-IN -i lo -j RETURN\n"
                           "%s"
                           "-A TF-IN -s %s/32 -j RETURN\n"
                           "COMMIT\n",
                           body ? body : "", net->runner_addr);
}

static gboolean restore(int ns_fd, const char *text, GError **error)
{
    const char *argv[] = {"iptables-restore", "--noflush", NULL};
    return tf_netns_run(ns_fd, argv, text, NULL, 0, NULL, error);
}

/* Creates member i's namespace, its link to the hub, its address and base rules. */
static gboolean make_member(tf_net *net, guint i, GError **error)
{
    if (i >= TF_NET_MAX_MEMBERS) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: network: at most %d members",
                    net->where, TF_NET_MAX_MEMBERS);
        return FALSE;
    }
    int fd = tf_netns_new(error);
    if (fd < 0)
        return FALSE;
    gchar *addr = g_strdup_printf("%u.%u.%u.%u", net->a, net->b, net->slot, i + 2);
    gchar *peer = fd_path(fd);
    gchar *hub = g_strdup_printf("link add m%u type veth peer name eth0 netns %s\n"
                                 "link set m%u master br0\n"
                                 "link set m%u up\n", i, peer, i, i);
    gchar *member = g_strdup_printf("link set lo up\n"
                                    "addr add %s/24 dev eth0\n"
                                    "link set eth0 up\n", addr);
    gchar *base = g_strdup_printf("%sCOMMIT\n", base_rules);
    gchar *rules = chain_text(net, NULL);
    gboolean ok = ip_batch(net->hub_fd, hub, &fd, 1, error) && ip_batch(fd, member, NULL, 0, error) &&
                  restore(fd, base, error) && restore(fd, rules, error);
    g_free(rules);
    g_free(base);
    g_free(member);
    g_free(hub);
    g_free(peer);
    if (!ok) {
        g_prefix_error(error, "%s: network: member %u: ", net->where, i);
        close(fd);
        g_free(addr);
        return FALSE;
    }
    pthread_mutex_lock(&net->lock);
    g_array_append_val(net->fds, fd);
    g_ptr_array_add(net->addrs, addr);
    pthread_mutex_unlock(&net->lock);
    return TRUE;
}

/* The hub with its bridge, and the runner's end of the link to it. */
static gboolean make_hub(tf_net *net, GError **error)
{
    net->hub_fd = tf_netns_new(error);
    if (net->hub_fd < 0)
        return FALSE;
    gchar *peer = fd_path(net->hub_fd);
    /* lo: a runner in a fresh namespace of its own (unshare --net) starts with it down */
    gchar *here = g_strdup_printf("link set lo up\n"
                                  "link add %s type veth peer name hub0 netns %s\n"
                                  "addr add %s/24 dev %s\n"
                                  "link set %s up\n",
                                  net->link, peer, net->runner_addr, net->link, net->link);
    const char *hub = "link add br0 type bridge\n"
                      "link set br0 up\n"
                      "link set hub0 master br0\n"
                      "link set hub0 up\n";
    gboolean ok = ip_batch(-1, here, &net->hub_fd, 1, error) && ip_batch(net->hub_fd, hub, NULL, 0, error);
    if (!ok)
        g_prefix_error(error, "%s: network: hub: ", net->where);
    g_free(here);
    g_free(peer);
    return ok;
}

tf_net *tf_net_new(const char *where, guint n_members, GError **error)
{
    if (!tf_netns_usable(error)) {
        g_prefix_error(error, "%s: ", where);
        return NULL;
    }
    gchar *subnet = tf_net_subnet(error);
    if (!subnet)
        return NULL;
    tf_net *net = g_new0(tf_net, 1);
    net->where = g_strdup(where);
    net->subnet = subnet;
    parse_subnet(subnet, &net->a, &net->b);
    net->hub_fd = -1;
    pthread_mutex_init(&net->lock, NULL);
    net->fds = g_array_new(FALSE, FALSE, sizeof(int));
    net->addrs = g_ptr_array_new_with_free_func(g_free);
    gchar *dir = tf_net_state_dir();
    int lock = lock_state(dir, error);
    gboolean ok = lock >= 0 && claim_slot(net, dir, error);
    unlock_state(lock);
    g_free(dir);
    if (ok) {
        net->link = link_name(net->slot);
        net->runner_addr = g_strdup_printf("%u.%u.%u.1", net->a, net->b, net->slot);
        ok = make_hub(net, error);
    }
    for (guint i = 0; ok && i < n_members; i++)
        ok = make_member(net, i, error);
    if (!ok) {
        tf_net_free(net);
        return NULL;
    }
    return net;
}

gboolean tf_net_add_member(tf_net *net, GError **error)
{
    return make_member(net, tf_net_size(net), error);
}

guint tf_net_size(const tf_net *net)
{
    pthread_mutex_lock((pthread_mutex_t *)&net->lock);
    guint n = net->fds->len;
    pthread_mutex_unlock((pthread_mutex_t *)&net->lock);
    return n;
}

const char *tf_net_address(const tf_net *net, guint i)
{
    pthread_mutex_lock((pthread_mutex_t *)&net->lock);
    const char *a = i < net->addrs->len ? net->addrs->pdata[i] : NULL;
    pthread_mutex_unlock((pthread_mutex_t *)&net->lock);
    return a; /* the strings live as long as net */
}

const char *tf_net_runner_address(const tf_net *net)
{
    return net->runner_addr;
}

int tf_net_member_fd(const tf_net *net, guint i)
{
    pthread_mutex_lock((pthread_mutex_t *)&net->lock);
    int fd = i < net->fds->len ? g_array_index(net->fds, int, i) : -1;
    pthread_mutex_unlock((pthread_mutex_t *)&net->lock);
    return fd;
}

gboolean tf_net_set_rules(tf_net *net, guint i, const char *rules, GError **error)
{
    int fd = tf_net_member_fd(net, i);
    if (fd < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: network: no member %u", net->where, i);
        return FALSE;
    }
    gchar *text = chain_text(net, rules);
    gboolean ok = restore(fd, text, error);
    g_free(text);
    if (!ok)
        g_prefix_error(error, "%s: network: rules of member %u: ", net->where, i);
    return ok;
}

gboolean tf_net_set_delay(tf_net *net, guint i, gint64 delay_us, GError **error)
{
    int fd = tf_net_member_fd(net, i);
    if (fd < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: network: no member %u", net->where, i);
        return FALSE;
    }
    gchar *delay = g_strdup_printf("%" G_GINT64_FORMAT "us", delay_us);
    const char *add[] = {"tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "delay", delay, NULL};
    const char *del[] = {"tc", "qdisc", "del", "dev", "eth0", "root", NULL};
    GError *e = NULL;
    gboolean ok = tf_netns_run(fd, delay_us > 0 ? add : del, NULL, NULL, 0, NULL, &e);
    g_free(delay);
    if (!ok && delay_us > 0 && strstr(e->message, "qdisc kind is unknown"))
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: network: a delay needs the netem queueing discipline (sch_netem), which "
                    "this kernel does not have (tc: \"%s\"): partitions, one-way cuts and packet "
                    "loss work without it", net->where, "Specified qdisc kind is unknown");
    else if (!ok && delay_us <= 0 && strstr(e->message, "No such file or directory"))
        ok = TRUE; /* no delay was set */
    else if (!ok)
        g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s: network: delay of member %u: %s",
                    net->where, i, e->message);
    g_clear_error(&e);
    return ok;
}

void tf_net_free(tf_net *net)
{
    if (!net)
        return;
    /* The namespaces go with their last descriptors (the members are gone already). */
    for (guint i = 0; i < net->fds->len; i++)
        close(g_array_index(net->fds, int, i));
    if (net->hub_fd >= 0)
        close(net->hub_fd);
    /* The hub's end would go with its namespace, but the kernel cleans namespaces up
     * later, on its own: delete the runner's end now so nothing is left when we return. */
    if (net->link)
        del_link(net->link, NULL);
    if (net->record) {
        gchar *dir = tf_net_state_dir();
        int lock = lock_state(dir, NULL);
        GError *e = NULL;
        if (!tf_owned_dir_remove(net->record, &e)) {
            g_warning("%s: network: %s", net->where, e->message);
            g_error_free(e);
        }
        if (lock >= 0) {
            GPtrArray *records = read_records(dir);
            drop_route_if_unused(records, net->a, net->b, NULL);
            g_ptr_array_unref(records);
        }
        unlock_state(lock);
        g_free(dir);
    }
    g_array_unref(net->fds);
    g_ptr_array_unref(net->addrs);
    pthread_mutex_destroy(&net->lock);
    g_free(net->where);
    g_free(net->subnet);
    g_free(net->link);
    g_free(net->runner_addr);
    g_free(net);
}
