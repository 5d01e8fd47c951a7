/* fault.c: network faults on a local cluster (the local backend's hooks): which are in
 * effect, the iptables rules they add up to in each member's namespace, and the journal
 * of their starts and ends (the journal's readers serve every backend).
 * The rules of every member are derived from the whole set of faults in effect each time
 * it changes, so faults compose (a partition plus packet loss) and ending one leaves the
 * others exactly as they were. Only members whose rules changed are touched. */
#include <string.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "net.h"

typedef enum { F_PARTITION, F_ISOLATE, F_CUT, F_LOSS, F_DELAY, F_UNOBSERVED } fault_kind;

static const char *const kind_names[] = {"partition", "isolate", "cut", "loss", "delay", "unobserved"};

typedef struct {
    guint id;
    fault_kind kind;
    guint *group_of;  /* PARTITION: group of each of the n first nodes */
    guint n;
    guint a, b;       /* ISOLATE, LOSS, DELAY: node a; CUT: a can no longer reach b */
    double share;     /* LOSS */
    gint64 delay_us;  /* DELAY */
    gchar *desc;
    json_t *nodes;    /* names of the nodes it names */
} fault;

struct tf_faults {
    pthread_mutex_t lock;   /* guards the fields below (changes are serialised by net_lock) */
    GPtrArray *active;      /* fault *, in the order they started */
    GPtrArray *applied;     /* gchar *: the rules each member has now ("" = none) */
    GArray *delays;         /* gint64: the delay each member has now */
    json_t *log;            /* every event so far */
    guint next_id;
    tf_cluster_fault_fn fn;
    void *fn_data;
};

static void fault_free(gpointer p)
{
    fault *f = p;
    g_free(f->group_of);
    g_free(f->desc);
    json_decref(f->nodes);
    g_free(f);
}

struct tf_faults *tf_faults_new(void)
{
    struct tf_faults *fs = g_new0(struct tf_faults, 1);
    pthread_mutex_init(&fs->lock, NULL);
    fs->active = g_ptr_array_new_with_free_func(fault_free);
    fs->applied = g_ptr_array_new_with_free_func(g_free);
    fs->delays = g_array_new(FALSE, TRUE, sizeof(gint64));
    fs->log = json_array();
    fs->next_id = 1;
    return fs;
}

void tf_faults_free(struct tf_faults *fs)
{
    if (!fs)
        return;
    g_ptr_array_unref(fs->active);
    g_ptr_array_unref(fs->applied);
    g_array_unref(fs->delays);
    json_decref(fs->log);
    pthread_mutex_destroy(&fs->lock);
    g_free(fs);
}

/* ---- the rules a set of faults adds up to ----------------------------------------------- */

static void add_line(GString *out, GHashTable *seen, gchar *line)
{
    if (g_hash_table_add(seen, line))
        g_string_append(out, line);
}

static gchar *probability(double share)
{
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.6f", share));
}

/* Member b's TF-IN rules under the faults in `active` (every drop happens on arrival). */
static gchar *rules_for(tf_net *net, GPtrArray *active, guint b)
{
    GString *out = g_string_new(NULL);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint n = tf_net_size(net);
    for (guint k = 0; k < active->len; k++) {
        const fault *f = active->pdata[k];
        switch (f->kind) {
        case F_PARTITION:
            for (guint a = 0; b < f->n && a < f->n; a++)
                if (f->group_of[a] != f->group_of[b])
                    add_line(out, seen, g_strdup_printf("-A TF-IN -s %s/32 -j DROP\n",
                                                        tf_net_address(net, a)));
            break;
        case F_ISOLATE:
            for (guint a = 0; a < n; a++)
                if (a != b && (a == f->a || b == f->a))
                    add_line(out, seen, g_strdup_printf("-A TF-IN -s %s/32 -j DROP\n",
                                                        tf_net_address(net, a)));
            break;
        case F_CUT:
            if (b == f->b) /* packets of connections f->a opened (ORIGINAL = its direction) */
                add_line(out, seen, g_strdup_printf(
                    "-A TF-IN -s %s/32 -m conntrack --ctdir ORIGINAL -j DROP\n",
                    tf_net_address(net, f->a)));
            break;
        case F_LOSS: {
            gchar *p = probability(f->share);
            if (b == f->a) /* every peer's packets, never the runner's */
                add_line(out, seen, g_strdup_printf(
                    "-A TF-IN ! -s %s/32 -m statistic --mode random --probability %s -j DROP\n",
                    tf_net_runner_address(net), p));
            else
                add_line(out, seen, g_strdup_printf(
                    "-A TF-IN -s %s/32 -m statistic --mode random --probability %s -j DROP\n",
                    tf_net_address(net, f->a), p));
            g_free(p);
            break;
        }
        case F_DELAY:
            break; /* a queueing discipline, not a rule */
        case F_UNOBSERVED:
            if (b == f->a)
                add_line(out, seen, g_strdup_printf("-A TF-IN -s %s/32 -j DROP\n",
                                                    tf_net_runner_address(net)));
            break;
        }
    }
    g_hash_table_unref(seen);
    return g_string_free(out, FALSE);
}

static gint64 delay_for(GPtrArray *active, guint i)
{
    gint64 d = 0;
    for (guint k = 0; k < active->len; k++) {
        const fault *f = active->pdata[k];
        if (f->kind == F_DELAY && f->a == i)
            d = f->delay_us; /* the latest one wins */
    }
    return d;
}

/* Brings every member's rules and delay to what `active` says (net_lock held). FALSE +
 * the first error; members after a failure are still tried. */
static gboolean apply(tf_cluster *c, GPtrArray *active, GError **error)
{
    struct tf_faults *fs = c->faults;
    guint n = tf_net_size(c->net);
    gboolean ok = TRUE;
    for (guint i = 0; i < n; i++) {
        pthread_mutex_lock(&fs->lock);
        while (fs->applied->len <= i)
            g_ptr_array_add(fs->applied, g_strdup(""));
        if (fs->delays->len <= i)
            g_array_set_size(fs->delays, i + 1);
        gboolean same = FALSE;
        gchar *want = rules_for(c->net, active, i);
        same = !strcmp(want, fs->applied->pdata[i]);
        gint64 delay = delay_for(active, i), had = g_array_index(fs->delays, gint64, i);
        pthread_mutex_unlock(&fs->lock);
        GError *e = NULL;
        gboolean done = same || tf_net_set_rules(c->net, i, want, &e);
        if (done && delay != had)
            done = tf_net_set_delay(c->net, i, delay, &e);
        pthread_mutex_lock(&fs->lock);
        if (done) {
            g_free(fs->applied->pdata[i]);
            fs->applied->pdata[i] = want;
            want = NULL;
            g_array_index(fs->delays, gint64, i) = delay;
        }
        pthread_mutex_unlock(&fs->lock);
        g_free(want);
        if (!done && ok)
            g_propagate_error(error, e);
        else
            g_clear_error(&e);
        ok = ok && done;
    }
    return ok;
}

/* ---- recording ---------------------------------------------------------------------------- */

static json_t *event_json(const fault *f, const char *event, gint64 at, gint64 apply_us)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:O, s:I, s:I, s:I}", "event", event, "id", (int)f->id,
                     "fault", kind_names[f->kind], "description", f->desc, "nodes", f->nodes,
                     "time", (json_int_t)at, "wall_time", (json_int_t)g_get_real_time(),
                     "apply_us", (json_int_t)apply_us);
}

/* Hands the events to the log and the listener (no lock held when the listener runs). */
static void publish(tf_cluster *c, json_t *events)
{
    struct tf_faults *fs = c->faults;
    pthread_mutex_lock(&fs->lock);
    tf_cluster_fault_fn fn = fs->fn;
    void *data = fs->fn_data;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
        json_array_append(fs->log, ev);
    pthread_mutex_unlock(&fs->lock);
    json_array_foreach(events, i, ev)
        if (fn)
            fn(ev, data);
    json_decref(events);
}

/* ---- changing the set ------------------------------------------------------------------------ */

/* Which faults a change ends: all (heal) or those that cut node `node` off (rejoin). */
typedef enum { END_NONE, END_ALL, END_CUTTING } end_rule;

static gboolean cuts_off(const fault *f, guint node)
{
    switch (f->kind) {
    case F_PARTITION:
        return node < f->n;
    case F_ISOLATE:
        return TRUE; /* it cuts node from f->a, or f->a from everyone */
    case F_CUT:
        return f->a == node || f->b == node;
    default:
        return FALSE;
    }
}

static gboolean no_network(tf_cluster *c, GError **error)
{
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                "%s: network faults need the cluster's members in network namespaces, and this "
                "cluster runs them on loopback: ask for \"network\": \"namespaces\" in %s (or "
                "tf_cluster_new_network)", c->spec->name, c->spec->where);
    return FALSE;
}

/* Adds `add` (may be NULL; taken) and ends what `rule` says, applies the result and
 * records it. On failure nothing is recorded and the previous rules are put back. */
static gboolean change(tf_cluster *c, fault *add, end_rule rule, guint node, GError **error)
{
    struct tf_faults *fs = c->faults;
    pthread_mutex_lock(&c->net_lock);
    if (!c->net) {
        pthread_mutex_unlock(&c->net_lock);
        if (add)
            fault_free(add);
        return no_network(c, error);
    }
    gint64 t0 = g_get_monotonic_time();
    pthread_mutex_lock(&fs->lock);
    GPtrArray *next = g_ptr_array_new(), *ended = g_ptr_array_new_with_free_func(fault_free);
    for (guint k = 0; k < fs->active->len; k++) {
        fault *f = fs->active->pdata[k];
        gboolean ends = rule == END_ALL || (rule == END_CUTTING && cuts_off(f, node));
        g_ptr_array_add(ends ? ended : next, f);
    }
    if (add) {
        add->id = fs->next_id++;
        g_ptr_array_add(next, add);
    }
    pthread_mutex_unlock(&fs->lock);
    GError *e = NULL;
    gboolean ok = apply(c, next, &e);
    json_t *events = json_array();
    if (ok) {
        gint64 at = g_get_monotonic_time();
        pthread_mutex_lock(&fs->lock);
        g_ptr_array_set_free_func(fs->active, NULL);
        g_ptr_array_set_size(fs->active, 0);
        g_ptr_array_set_free_func(fs->active, fault_free);
        for (guint k = 0; k < next->len; k++)
            g_ptr_array_add(fs->active, next->pdata[k]);
        pthread_mutex_unlock(&fs->lock);
        for (guint k = 0; k < ended->len; k++)
            json_array_append_new(events, event_json(ended->pdata[k], "fault_ended", at, at - t0));
        if (add)
            json_array_append_new(events, event_json(add, "fault_started", at, at - t0));
    } else {
        /* Put back what was in effect (best effort: the error names the failure). */
        pthread_mutex_lock(&fs->lock);
        GPtrArray *prev = g_ptr_array_new();
        for (guint k = 0; k < fs->active->len; k++)
            g_ptr_array_add(prev, fs->active->pdata[k]);
        pthread_mutex_unlock(&fs->lock);
        apply(c, prev, NULL);
        g_ptr_array_unref(prev);
        g_ptr_array_set_free_func(ended, NULL); /* still active */
        if (add)
            fault_free(add);
        g_propagate_error(error, e);
    }
    g_ptr_array_unref(ended);
    g_ptr_array_unref(next);
    pthread_mutex_unlock(&c->net_lock);
    publish(c, events);
    return ok;
}

static gboolean check_node(tf_cluster *c, guint i, GError **error)
{
    if (i < tf_cluster_size(c))
        return TRUE;
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: no node %u (cluster has %u)",
                tf_cluster_name(c), i, tf_cluster_size(c));
    return FALSE;
}

static fault *fault_new(fault_kind kind, gchar *desc)
{
    fault *f = g_new0(fault, 1);
    f->kind = kind;
    f->desc = desc;
    f->nodes = json_array();
    return f;
}

static void name_node(tf_cluster *c, fault *f, guint i)
{
    json_array_append_new(f->nodes, json_string(tf_cluster_node_name(c, i)));
}

/* ---- the public faults -------------------------------------------------------------------------- */

gboolean tf_local_partition(tf_cluster *c, const guint *group_of, guint n, GError **error)
{
    if (n != tf_cluster_size(c)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: a partition gives every node a group: %u given for %u nodes",
                    tf_cluster_name(c), n, tf_cluster_size(c));
        return FALSE;
    }
    /* "{n1} | {n2, n3}": groups in order of their first member */
    GString *desc = g_string_new(NULL);
    GArray *order = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < n; i++) {
        gboolean seen = FALSE;
        for (guint k = 0; k < order->len && !seen; k++)
            seen = g_array_index(order, guint, k) == group_of[i];
        if (!seen)
            g_array_append_val(order, group_of[i]);
    }
    if (order->len < 2) {
        g_array_unref(order);
        g_string_free(desc, TRUE);
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: a partition needs at least two groups",
                    tf_cluster_name(c));
        return FALSE;
    }
    fault *f = fault_new(F_PARTITION, NULL);
    for (guint k = 0; k < order->len; k++) {
        g_string_append(desc, k ? " | {" : "{");
        gboolean first = TRUE;
        for (guint i = 0; i < n; i++) {
            if (group_of[i] != g_array_index(order, guint, k))
                continue;
            g_string_append_printf(desc, "%s%s", first ? "" : ", ", tf_cluster_node_name(c, i));
            first = FALSE;
        }
        g_string_append(desc, "}");
    }
    for (guint i = 0; i < n; i++)
        name_node(c, f, i);
    g_array_unref(order);
    f->desc = g_string_free(desc, FALSE);
    f->group_of = g_memdup2(group_of, n * sizeof *group_of);
    f->n = n;
    return change(c, f, END_NONE, 0, error);
}

gboolean tf_local_isolate(tf_cluster *c, guint i, GError **error)
{
    if (!check_node(c, i, error))
        return FALSE;
    fault *f = fault_new(F_ISOLATE, g_strdup_printf("%s isolated", tf_cluster_node_name(c, i)));
    f->a = i;
    name_node(c, f, i);
    return change(c, f, END_NONE, 0, error);
}

gboolean tf_local_rejoin(tf_cluster *c, guint i, GError **error)
{
    return check_node(c, i, error) && change(c, NULL, END_CUTTING, i, error);
}

gboolean tf_local_isolated(tf_cluster *c, guint i)
{
    struct tf_faults *fs = c->faults;
    gboolean cut = FALSE;
    pthread_mutex_lock(&fs->lock);
    for (guint k = 0; k < fs->active->len && !cut; k++) {
        const fault *f = fs->active->pdata[k];
        if (f->kind == F_ISOLATE) {
            cut = f->a == i;
        } else if (f->kind == F_PARTITION && i < f->n) {
            guint mates = 0;
            for (guint a = 0; a < f->n; a++)
                mates += f->group_of[a] == f->group_of[i];
            cut = mates == 1;
        }
    }
    pthread_mutex_unlock(&fs->lock);
    return cut;
}

gboolean tf_local_cut(tf_cluster *c, guint from, guint to, GError **error)
{
    if (!check_node(c, from, error) || !check_node(c, to, error))
        return FALSE;
    if (from == to) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: a one-way cut needs two nodes (got %s twice)",
                    tf_cluster_name(c), tf_cluster_node_name(c, from));
        return FALSE;
    }
    fault *f = fault_new(F_CUT, g_strdup_printf("%s cannot reach %s (connections %s opens to %s fail)",
                                                tf_cluster_node_name(c, from), tf_cluster_node_name(c, to),
                                                tf_cluster_node_name(c, from), tf_cluster_node_name(c, to)));
    f->a = from;
    f->b = to;
    name_node(c, f, from);
    name_node(c, f, to);
    return change(c, f, END_NONE, 0, error);
}

gboolean tf_local_lose(tf_cluster *c, guint i, double share, GError **error)
{
    if (!check_node(c, i, error))
        return FALSE;
    if (!(share > 0 && share <= 1)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: a share of packets is above 0 and at most 1 "
                    "(got %g)", tf_cluster_name(c), share);
        return FALSE;
    }
    fault *f = fault_new(F_LOSS, g_strdup_printf("%s loses %g%% of its packets to and from its peers",
                                                 tf_cluster_node_name(c, i), share * 100));
    f->a = i;
    f->share = share;
    name_node(c, f, i);
    return change(c, f, END_NONE, 0, error);
}

gboolean tf_local_delay(tf_cluster *c, guint i, gint64 delay_us, GError **error)
{
    if (!check_node(c, i, error))
        return FALSE;
    if (delay_us <= 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: a delay must be positive",
                    tf_cluster_name(c));
        return FALSE;
    }
    fault *f = fault_new(F_DELAY, g_strdup_printf("%s delayed by %.1f ms", tf_cluster_node_name(c, i),
                                                  delay_us / 1000.0));
    f->a = i;
    f->delay_us = delay_us;
    name_node(c, f, i);
    return change(c, f, END_NONE, 0, error);
}

gboolean tf_local_unobserve(tf_cluster *c, guint i, GError **error)
{
    if (!check_node(c, i, error))
        return FALSE;
    fault *f = fault_new(F_UNOBSERVED, g_strdup_printf("%s cut off from the observer",
                                                       tf_cluster_node_name(c, i)));
    f->a = i;
    name_node(c, f, i);
    return change(c, f, END_NONE, 0, error);
}

gboolean tf_local_heal(tf_cluster *c, GError **error)
{
    if (!c->net && !tf_cluster_faults_active(c))
        return TRUE; /* nothing to heal on loopback */
    return change(c, NULL, END_ALL, 0, error);
}

guint tf_cluster_faults_active(tf_cluster *c)
{
    pthread_mutex_lock(&c->faults->lock);
    guint n = c->faults->active->len;
    pthread_mutex_unlock(&c->faults->lock);
    return n;
}

json_t *tf_cluster_faults(tf_cluster *c)
{
    pthread_mutex_lock(&c->faults->lock);
    json_t *copy = json_deep_copy(c->faults->log);
    pthread_mutex_unlock(&c->faults->lock);
    return copy;
}

void tf_cluster_set_fault_listener(tf_cluster *c, tf_cluster_fault_fn fn, void *data)
{
    pthread_mutex_lock(&c->faults->lock);
    c->faults->fn = fn;
    c->faults->fn_data = data;
    pthread_mutex_unlock(&c->faults->lock);
}

const char *tf_local_node_address(tf_cluster *c, guint i)
{
    tf_cluster_node *n = tf_cluster_get_node(c, i);
    return n ? n->address : NULL;
}
