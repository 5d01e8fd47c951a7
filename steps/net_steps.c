/* net_steps.c: Gherkin steps that cut the network between a scenario's cluster members
 * (tf_cluster_partition and friends), a seeded random nemesis, the record of every fault
 * in the report and the journal, and the check that observation never paused while the
 * network was faulty. The app's Given step attaches its cluster (net_world_attach). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "tf/durable.h"
#include "tf/ophistory.h"
#include "tf/world_store.h"
#include "net_steps.h"

#define NET_WORLD_KEY "net"
#define NET_STREAM "faults"

typedef struct {
    tf_world *world;
    tf_cluster *cluster;     /* borrowed */
    tf_handle *h;            /* borrowed, may be NULL */
    gint64 interval_us;
    net_acted_fn acted;
    void *app;
    GRand *rand;             /* the nemesis's choices: from the scenario's seed */
    pthread_mutex_t lock;    /* guards the journal (faults may come from any thread) */
    tf_journal *journal;     /* NULL without a store */
    guint64 seq;
} net_world;

/* ---- the world ---------------------------------------------------------------------- */

static void on_fault(const json_t *ev, void *data)
{
    net_world *nw = data;
    const char *what = json_string_value(json_object_get(ev, "event"));
    gboolean started = !g_strcmp0(what, "fault_started");
    /* The scenario's client history (if it has one) shades the fault's window too. */
    if (tf_world_ophistory_peek(nw->world)) {
        char *name = g_strdup_printf("net-%" JSON_INTEGER_FORMAT,
                                     json_integer_value(json_object_get(ev, "id")));
        if (started)
            tf_world_fault_begin(nw->world, name,
                                 json_string_value(json_object_get(ev, "description")), NULL);
        else
            tf_world_fault_end(nw->world, name);
        g_free(name);
    }
    tf_world_log(nw->world, "%s %s: %s (applied in %.1f ms)", started ? "fault" : "healed",
                 json_string_value(json_object_get(ev, "fault")),
                 json_string_value(json_object_get(ev, "description")),
                 json_integer_value(json_object_get(ev, "apply_us")) / 1000.0);
    pthread_mutex_lock(&nw->lock);
    if (nw->journal) {
        json_t *batch = json_pack("{s:I, s:I, s:I, s:[O]}", "seq", (json_int_t)(nw->seq + 1),
                                  "cycle", (json_int_t)0, "wall_time",
                                  json_integer_value(json_object_get(ev, "wall_time")), "events",
                                  (json_t *)ev);
        GError *e = NULL;
        if (tf_journal_append(nw->journal, nw->seq + 1, 0,
                              json_integer_value(json_object_get(ev, "wall_time")), batch, &e)) {
            nw->seq++;
        } else { /* loud: the report says the journal lost it */
            tf_world_log(nw->world, "faults journal: %s", e->message);
            g_error_free(e);
        }
        json_decref(batch);
    }
    pthread_mutex_unlock(&nw->lock);
    if (nw->acted)
        nw->acted(nw->app, ev);
}

static void net_world_free(void *p)
{
    net_world *nw = p;
    tf_cluster_set_fault_listener(nw->cluster, NULL, NULL);
    tf_journal_unref(nw->journal);
    g_rand_free(nw->rand);
    pthread_mutex_destroy(&nw->lock);
    g_free(nw);
}

gboolean net_world_attach(tf_world *world, tf_cluster *c, tf_handle *h, gint64 interval_us,
                          net_acted_fn acted, void *app, GError **error)
{
    net_world *nw = g_new0(net_world, 1);
    nw->world = world;
    nw->cluster = c;
    nw->h = h;
    nw->interval_us = interval_us;
    nw->acted = acted;
    nw->app = app;
    guint64 seed = tf_world_seed(world);
    guint32 words[2] = {(guint32)seed, (guint32)(seed >> 32)};
    nw->rand = g_rand_new_with_seed_array(words, 2);
    pthread_mutex_init(&nw->lock, NULL);
    /* The journal stream of this scenario's execution (the store keys it by run, pickle
     * and attempt); none without a store. */
    if (tf_world_journal(world, NET_STREAM, &nw->journal, error) == TF_LOOKUP_FAILED ||
        (nw->journal && !tf_journal_last_seq(nw->journal, &nw->seq, error))) {
        net_world_free(nw);
        return FALSE;
    }
    tf_world_set(world, NET_WORLD_KEY, nw, net_world_free);
    tf_cluster_set_fault_listener(c, on_fault, nw);
    return TRUE;
}

json_t *net_world_faults(tf_world *world)
{
    net_world *nw = tf_world_get(world, NET_WORLD_KEY);
    return nw ? tf_cluster_faults(nw->cluster) : json_array();
}

gboolean net_world_can_isolate(GError **error)
{
    return tf_cluster_network_usable(error);
}

static net_world *net_get(tf_step *step, GError **error)
{
    net_world *nw = tf_world_get(tf_step_world(step), NET_WORLD_KEY);
    if (!nw)
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "no cluster whose network can be cut in this scenario: start one with "
                    "\"Given a 3-node etcd cluster is running in network namespaces\"");
    return nw;
}

gint net_node_index(tf_cluster *c, const char *name, GError **error)
{
    gint i = tf_cluster_node_index(c, name);
    if (i < 0) {
        GString *known = g_string_new(NULL);
        for (guint j = 0; j < tf_cluster_size(c); j++)
            g_string_append_printf(known, "%s%s", j ? ", " : "", tf_cluster_node_name(c, j));
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "no node named %s (nodes: %s)", name, known->str);
        g_string_free(known, TRUE);
    }
    return i;
}

static gint node_index(net_world *nw, const char *name, GError **error)
{
    return net_node_index(nw->cluster, name, error);
}

/* ---- {nodes}: "{n1}" or "{n2, n3}" -------------------------------------------------------- */

static gboolean parse_nodes(const char *const *groups, guint n_groups, tf_arg *value, void *user,
                            GError **error)
{
    const char *text = groups[0];
    gsize len = strlen(text);
    gchar *inner = g_strndup(text + 1, len >= 2 ? len - 2 : 0);
    gchar **names = g_strsplit(inner, ",", -1);
    g_free(inner);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (gchar **n = names; *n; n++) {
        g_strstrip(*n);
        if (**n)
            g_ptr_array_add(out, g_strdup(*n));
    }
    g_strfreev(names);
    if (!out->len) {
        g_ptr_array_unref(out);
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: a group names at least one node", text);
        return FALSE;
    }
    tf_arg_set_custom(value, out, (GDestroyNotify)g_ptr_array_unref);
    return TRUE;
}

/* ---- the faults -------------------------------------------------------------------------------- */

static tf_step_status when_partitioned(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    if (!nw)
        return TF_STEP_FAILED;
    guint n = tf_cluster_size(nw->cluster);
    guint *group = g_new(guint, n);
    for (guint i = 0; i < n; i++)
        group[i] = G_MAXUINT;
    for (guint g = 0; g < tf_step_n_args(step); g++) {
        const GPtrArray *names = tf_step_arg_value(step, g);
        for (guint k = 0; k < names->len; k++) {
            gint i = node_index(nw, names->pdata[k], error);
            if (i < 0 || group[i] != G_MAXUINT) {
                if (i >= 0)
                    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s is in two groups",
                                (char *)names->pdata[k]);
                g_free(group);
                return TF_STEP_FAILED;
            }
            group[i] = g;
        }
    }
    for (guint i = 0; i < n; i++) {
        if (group[i] == G_MAXUINT) {
            tf_step_status st = TF_FAIL(error, "%s is in no group: a partition names every node",
                                   tf_cluster_node_name(nw->cluster, i));
            g_free(group);
            return st;
        }
    }
    gboolean ok = tf_cluster_partition(nw->cluster, group, n, error);
    g_free(group);
    return ok ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status when_isolated(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    gint i = nw ? node_index(nw, tf_step_arg_str(step, 0), error) : -1;
    return i >= 0 && tf_cluster_node_isolate(nw->cluster, (guint)i, error) ? TF_STEP_PASSED
                                                                           : TF_STEP_FAILED;
}

static tf_step_status when_cut(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    gint from = nw ? node_index(nw, tf_step_arg_str(step, 0), error) : -1;
    gint to = from >= 0 ? node_index(nw, tf_step_arg_str(step, 1), error) : -1;
    return to >= 0 && tf_cluster_cut(nw->cluster, (guint)from, (guint)to, error) ? TF_STEP_PASSED
                                                                                 : TF_STEP_FAILED;
}

static tf_step_status when_loses(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    gint i = nw ? node_index(nw, tf_step_arg_str(step, 0), error) : -1;
    double share = tf_step_arg_int(step, 1) / 100.0;
    return i >= 0 && tf_cluster_node_lose(nw->cluster, (guint)i, share, error) ? TF_STEP_PASSED
                                                                               : TF_STEP_FAILED;
}

static tf_step_status when_delayed(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    gint i = nw ? node_index(nw, tf_step_arg_str(step, 0), error) : -1;
    gint64 delay = tf_step_arg_int(step, 1) * 1000;
    return i >= 0 && tf_cluster_node_delay(nw->cluster, (guint)i, delay, error) ? TF_STEP_PASSED
                                                                                : TF_STEP_FAILED;
}

static tf_step_status when_unobserved(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    gint i = nw ? node_index(nw, tf_step_arg_str(step, 0), error) : -1;
    return i >= 0 && tf_cluster_node_unobserve(nw->cluster, (guint)i, error) ? TF_STEP_PASSED
                                                                             : TF_STEP_FAILED;
}

static tf_step_status when_heals(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    return nw && tf_cluster_heal(nw->cluster, error) ? TF_STEP_PASSED : TF_STEP_FAILED;
}

/* ---- the nemesis ------------------------------------------------------------------------------- */

/* Waits until `until` (monotonic µs) or the run is interrupted: the nemesis paces its own
 * schedule (it is an actor, like a client), it does not wait for any state. */
static void pace(tf_world *w, gint64 until)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_condattr_t attr;
    pthread_cond_t cond;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_lock(&m);
    while (g_get_monotonic_time() < until && !tf_world_interrupted(w)) {
        gint64 slice = MIN(until, g_get_monotonic_time() + 100000); /* look at Ctrl-C often */
        struct timespec ts = {slice / G_USEC_PER_SEC, (slice % G_USEC_PER_SEC) * 1000};
        pthread_cond_timedwait(&cond, &m, &ts);
    }
    pthread_mutex_unlock(&m);
    pthread_cond_destroy(&cond);
    pthread_mutex_destroy(&m);
}

/* One random fault: a partition into two non-empty sides, one node isolated, or a
 * one-way cut between two nodes. */
static gboolean random_fault(net_world *nw, GError **error)
{
    guint n = tf_cluster_size(nw->cluster);
    switch (g_rand_int_range(nw->rand, 0, n > 2 ? 3 : 2)) {
    case 0: {
        guint *group = g_new0(guint, n);
        guint mask;
        do /* a random split with both sides non-empty */
            mask = (guint)g_rand_int_range(nw->rand, 1, (gint32)((1u << n) - 1));
        while (!mask);
        for (guint i = 0; i < n; i++)
            group[i] = (mask >> i) & 1;
        gboolean ok = tf_cluster_partition(nw->cluster, group, n, error);
        g_free(group);
        return ok;
    }
    case 1:
        return tf_cluster_node_isolate(nw->cluster, (guint)g_rand_int_range(nw->rand, 0, (gint32)n),
                                       error);
    default: {
        guint from = (guint)g_rand_int_range(nw->rand, 0, (gint32)n);
        guint to = (from + (guint)g_rand_int_range(nw->rand, 1, (gint32)n)) % n;
        return tf_cluster_cut(nw->cluster, from, to, error);
    }
    }
}

/* Random faults for the given time: each held 0.4-1.5 s, then healed for 0.2-0.8 s (a
 * few election timeouts of the bundled etcd specs each way), all drawn from the
 * scenario's seed. The network is healed when the step ends, however it ends. */
static tf_step_status when_random_partitions(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    if (!nw)
        return TF_STEP_FAILED;
    if (tf_cluster_size(nw->cluster) < 2)
        return TF_FAIL(error, "random partitions need at least two nodes");
    gint64 duration = (gint64)(tf_step_arg_double(step, 0) * G_USEC_PER_SEC);
    if (duration <= 0 || duration + 30 * G_USEC_PER_SEC > tf_step_timeout(step))
        return TF_FAIL(error, "random partitions for %.1f s: give a duration above 0 and at least "
                       "30 s shorter than the step timeout (%.0f s)", duration / 1e6,
                       tf_step_timeout(step) / 1e6);
    tf_world *w = tf_step_world(step);
    gint64 end = g_get_monotonic_time() + duration;
    guint faults = 0;
    gboolean ok = TRUE;
    while (ok && g_get_monotonic_time() < end && !tf_world_interrupted(w)) {
        ok = random_fault(nw, error);
        faults += ok;
        pace(w, MIN(end, g_get_monotonic_time() + g_rand_int_range(nw->rand, 400000, 1500000)));
        ok = ok && tf_cluster_heal(nw->cluster, error);
        pace(w, MIN(end, g_get_monotonic_time() + g_rand_int_range(nw->rand, 200000, 800000)));
    }
    GError *e = NULL;
    if (!tf_cluster_heal(nw->cluster, ok ? error : &e)) /* never leave the network cut */
        ok = FALSE;
    g_clear_error(&e);
    tf_world_log(w, "random partitions: %u faults in %.1f s (scenario seed %" G_GUINT64_FORMAT ")",
                 faults, duration / 1e6, tf_world_seed(w));
    return ok ? TF_STEP_PASSED : TF_STEP_FAILED;
}

/* ---- observation while the network was faulty --------------------------------------------- */

/* The observer's cycles covered every moment from the first fault to the last heal: no
 * two consecutive snapshots (cycle starts) further apart than max_gap intervals. The bound
 * is a timing bound on this machine (how late the observer's thread gets to run), so
 * --timeout-scale / TF_TIMEOUT_SCALE multiplies it like every wait bound; unscaled it is
 * the feature's N intervals. Scenarios that check it are @serial: a worker beside them
 * would measure the machine's load, not the observer. */
static tf_step_status then_no_gap(tf_step *step, GError **error)
{
    net_world *nw = net_get(step, error);
    if (!nw)
        return TF_STEP_FAILED;
    if (!nw->h)
        return TF_FAIL(error, "this scenario's observer was not attached to its network");
    gint64 intervals = tf_step_arg_int(step, 0);
    gint64 max_gap = tf_timeout_scaled(intervals * nw->interval_us);
    json_t *log = tf_cluster_faults(nw->cluster);
    gint64 from = 0, to = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(log, i, ev) {
        gint64 t = json_integer_value(json_object_get(ev, "time"));
        if (!from)
            from = t;
        to = t;
    }
    guint64 faults = json_array_size(log);
    json_decref(log);
    if (!faults)
        return TF_FAIL(error, "no fault happened in this scenario: there is no window to check");
    if (tf_cluster_faults_active(nw->cluster))
        return TF_FAIL(error, "the network is still faulty: heal it first, then check the window");
    GPtrArray *snaps = tf_handle_snapshots(nw->h);
    gint64 worst = 0, worst_at = 0, worst_took = 0, prev = 0, prev_took = 0;
    guint cycles = 0;
    for (guint k = 0; k < snaps->len; k++) {
        /* a cycle samples the members when it starts: the gaps are between cycle starts */
        gint64 t = tf_snapshot_cycle_started(snaps->pdata[k]);
        /* the gap [prev, t] counts when it overlaps the window [from, to] */
        if (prev && t > from && prev < to && t - prev > worst) {
            worst = t - prev;
            worst_at = t;
            worst_took = prev_took;
        }
        cycles += t >= from && t <= to;
        prev = t;
        prev_took = tf_snapshot_time(snaps->pdata[k]) - t;
    }
    guint kept = snaps->len;
    gint64 first = kept ? tf_snapshot_cycle_started(snaps->pdata[0]) : 0;
    gint64 last = kept ? tf_snapshot_cycle_started(snaps->pdata[kept - 1]) : 0;
    g_ptr_array_unref(snaps);
    if (!kept || first > from || last < to)
        return TF_FAIL(error, "the kept snapshots (%.1f-%.1f s) do not span the fault window "
                       "(%.1f-%.1f s): raise the runtime's snapshot_history", first / 1e6,
                       last / 1e6, from / 1e6, to / 1e6);
    tf_world_log(tf_step_world(step), "%u cycles over the %.1f s fault window (%" G_GUINT64_FORMAT
                 " fault events); longest gap between cycle starts %.0f ms (the cycle before it took "
                 "%.0f ms; limit %.0f ms)", cycles, (to - from) / 1e6, faults, worst / 1e3,
                 worst_took / 1e3, max_gap / 1e3);
    if (worst <= max_gap)
        return TF_STEP_PASSED;
    double scale = tf_timeout_scale();
    char *scaled = scale != 1.0 ? g_strdup_printf(" x timeout scale %g", scale) : g_strdup("");
    g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "the observer paused for %.0f ms between "
                "cycle starts (%.1f s after the first fault; the cycle before took %.0f ms), "
                "more than %" G_GINT64_FORMAT " intervals%s (%.0f ms)", worst / 1e3,
                (worst_at - worst - from) / 1e6, worst_took / 1e3, intervals, scaled,
                max_gap / 1e3);
    g_free(scaled);
    return TF_STEP_FAILED;
}

/* ---- the @netns hook: skipped, with the reason, where namespaces cannot be made --------- */

static tf_step_status before_netns(tf_world *world, GError **error)
{
    GError *e = NULL;
    const char *env = tf_cluster_env_name(NULL, &e);
    if (!env) {
        g_propagate_error(error, e);
        return TF_STEP_FAILED;
    }
    if (strcmp(env, "local")) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "skipped: this scenario needs local network namespaces (TF_ENV=%s: partitions, "
                    "one-way cuts and packet loss have no %s mapping)", env, env);
        return TF_STEP_SKIPPED;
    }
    if (!tf_cluster_network_usable(&e)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "skipped: %s", e->message);
        g_error_free(e);
        return TF_STEP_SKIPPED;
    }
    return TF_STEP_PASSED;
}

void net_world_report(tf_world *world)
{
    json_t *faults = net_world_faults(world);
    if (json_array_size(faults)) {
        char *text = json_dumps(faults, JSON_COMPACT);
        tf_world_attach(world, text, strlen(text), "application/json", "faults.json");
        free(text);
    }
    json_decref(faults);
}

gboolean net_steps_register(tf_registry *reg, GError **error)
{
    static const char *const nodes_re[] = {"\\{[^{}]*\\}", NULL};
    if (!tf_registry_add_param_type(reg, "nodes", nodes_re, parse_nodes, NULL, 0, error))
        return FALSE;
    TF_WHEN("the network is partitioned into {nodes} and {nodes}", when_partitioned);
    TF_WHEN("the network is partitioned into {nodes}, {nodes} and {nodes}", when_partitioned);
    TF_WHEN("node {word} is isolated", when_isolated);
    TF_WHEN("node {word} can no longer reach node {word}", when_cut);
    TF_WHEN("node {word} loses {int}% of its packets", when_loses);
    TF_WHEN("node {word}'s packets are delayed by {int} ms", when_delayed);
    TF_WHEN("node {word} is cut off from the observer", when_unobserved);
    TF_WHEN("the network heals", when_heals);
    TF_WHEN("random partitions come and go for {float} seconds", when_random_partitions);
    TF_THEN("the observer saw the whole fault window with no gap over {int} intervals", then_no_gap);
    /* By tag, not by module: @netns scenarios start their cluster with the app's steps. */
    const tf_hook_options netns = {.name = "network namespaces", .tags = "@netns", .order = -10};
    if (!tf_registry_add_hook(reg, TF_HOOK_BEFORE, &netns, before_netns, __FILE__, __LINE__, error))
        return FALSE;
    return TRUE;
}
