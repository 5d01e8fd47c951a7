/* raftkv_steps.c: Gherkin steps for Raft KV clusters (etcd here). Steps act on the local
 * cluster and read the raftkv handle; every expectation is a tf_handle_wait with a named
 * condition, never a sleep or a poll loop. */
#include <string.h>
#include "raftkv/etcd_kv.h"
#include "tf/durable.h"
#include "net_steps.h"
#include "raftkv_clients.h"
#include "tf/world_store.h"
#include "raftkv_steps.h"
#include "raftkv_world.h"

/* Waits without a bound in the feature. Measured over 15 runs of scenarios/raftkv (ASan
 * build, this 2-core machine at load 4-6 from other suites; scripts/soak.sh): 3 members up
 * with a leader p50 0.33 s, max 2.5 s; an election p50 0.6 s, max 1.2 s; a rolling restart
 * of 3 members p50 0.5 s, max 0.8 s; every node applying the last commit max 0.17 s.
 * 30 s is over 10x the slowest: a wait that runs out found a stuck cluster, not a slow one. */
#define DEFAULT_WAIT (30 * G_USEC_PER_SEC)
/* One put or read: one that commits takes ~10 ms here (put steps max 0.02 s above). One
 * that cannot commit (no quorum) etcd holds for its own request timeout (5 s + two
 * election timeouts) before refusing: the step stops waiting at 2 s, 100x a committing
 * write, and counts that write's outcome as unknown (it may still commit). */
#define KV_TIMEOUT (2 * G_USEC_PER_SEC)
#define RK_LOG_ATTACH (64 * 1024) /* bytes of each node's log attached to a failed scenario */

/* ---- conditions ---------------------------------------------------------------------- */

static gboolean all_up_with_leader(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    return s->n == GPOINTER_TO_UINT(data) && s->reachable == s->n && s->leader && s->quorum;
}

typedef struct {
    const char *old_leader; /* NULL: any leader will do */
    guint64 old_term;
} leader_want;

static gboolean new_leader(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    const leader_want *w = data;
    if (!s->leader || !s->quorum)
        return FALSE;
    return !w->old_leader || (strcmp(s->leader, w->old_leader) && s->leader_term > w->old_term);
}

static gboolean all_agree(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    if (!s->leader || !s->quorum)
        return FALSE;
    for (guint i = 0; i < s->n; i++)
        if (s->nodes[i].reachable && g_strcmp0(s->nodes[i].leader, s->leader))
            return FALSE;
    return TRUE;
}

static gboolean leaderless_without_quorum(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    if (s->quorum || s->leader)
        return FALSE;
    for (guint i = 0; i < s->n; i++)
        if (s->nodes[i].reachable && s->nodes[i].leader)
            return FALSE;
    return TRUE;
}

typedef struct {
    const char *node;
    guint64 min_applied;
} catch_up;

static gboolean follower_caught_up(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    const catch_up *c = data;
    const raftkv_node *n = raftkv_snapshot_node(s, c->node);
    return n && n->reachable && !n->is_leader && s->leader && !g_strcmp0(n->leader, s->leader) &&
           n->applied >= c->min_applied;
}

static gboolean node_reachable(const tf_snapshot *snap, void *data)
{
    const raftkv_node *n = raftkv_snapshot_node(tf_snapshot_data(snap), data);
    return n && n->reachable;
}

static gboolean all_applied(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    for (guint i = 0; i < s->n; i++)
        if (s->nodes[i].reachable && s->nodes[i].applied < *(guint64 *)data)
            return FALSE;
    return s->reachable > 0;
}

/* Waits with the standard progress line; returns the satisfying snapshot or NULL. */
static tf_snapshot *wait_for(rk_world *rk, tf_predicate pred, void *data, const char *what,
                             gint64 timeout, gint64 fresh_after, GError **error)
{
    tf_wait w = {.pred = pred, .data = data, .what = what, .timeout_us = timeout,
                 .fresh_after = fresh_after, .progress = rk_progress};
    return tf_handle_wait_for(rk->h, &w, error);
}

static gint64 seconds(const tf_step *step, guint i)
{
    return (gint64)(tf_step_arg_double(step, i) * G_USEC_PER_SEC);
}

/* The leader now (new string) or NULL + error. */
static char *current_leader(rk_world *rk, guint64 *term, GError **error)
{
    tf_snapshot *snap = wait_for(rk, new_leader, &(leader_want){NULL, 0}, "a leader is known",
                                 DEFAULT_WAIT, 0, error);
    if (!snap)
        return NULL;
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    char *leader = g_strdup(s->leader);
    if (term)
        *term = s->leader_term;
    tf_snapshot_unref(snap);
    return leader;
}

/* ---- Given ----------------------------------------------------------------------------- */

/* scenarios/deploy/compose/etcd-3.yml near the feature (as specs are found), or NULL. */
static char *find_compose_file(tf_step *step)
{
    const tf_gherkin_pickle *p = tf_world_pickle(tf_step_world(step));
    return tf_cluster_file_find(p ? p->uri : NULL, "deploy/compose/etcd-3.yml");
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = g_getenv(name);
    return v && *v ? v : fallback;
}

/* The etcd cluster of `tf run --env compose|k8s` (TF_ENV): a deployment someone else runs,
 * configured by TF_COMPOSE_* / TF_K8S_* (README "Compose and Kubernetes"). */
static tf_cluster *remote_cluster(tf_step *step, const char *env, guint n, GError **error)
{
    if (!strcmp(env, "compose")) {
        char *file = g_strdup(g_getenv("TF_COMPOSE_FILE"));
        if (!file || !*file) {
            g_free(file);
            file = find_compose_file(step);
        }
        tf_compose_config cfg = {
            .project = env_or("TF_COMPOSE_PROJECT", "tf-etcd"),
            .file = file,
            .label = env_or("TF_COMPOSE_LABEL", NULL),
            .port = 2379,
            .engine = env_or("TF_COMPOSE_ENGINE", NULL),
            .expect = n,
        };
        tf_cluster *c = tf_cluster_compose_new(&cfg, error);
        g_free(file);
        return c;
    }
    /* Inside a pod (KUBERNETES_SERVICE_HOST is set) pod IPs are reachable; outside,
     * they usually are not, so go through kubectl port-forward unless told otherwise. */
    const char *pf = env_or("TF_K8S_PORT_FORWARD", NULL);
    tf_k8s_config cfg = {
        .ns = env_or("TF_K8S_NAMESPACE", NULL),
        .selector = env_or("TF_K8S_SELECTOR", "app=tf-etcd"),
        .port = 2379,
        .port_forward = pf ? strcmp(pf, "0") != 0 : g_getenv("KUBERNETES_SERVICE_HOST") == NULL,
        .expect = n,
    };
    return tf_cluster_k8s_new(&cfg, error);
}

/* Starts an n-node etcd cluster from spec `spec_name` with the given networking (local
 * runs; compose and k8s run what they run) and waits for a leader. */
static tf_step_status start_cluster(tf_step *step, const char *spec_name, tf_cluster_network net,
                               GError **error)
{
    guint n = (guint)tf_step_arg_int(step, 0);
    const char *env = tf_cluster_env_name(NULL, error);
    if (!env)
        return TF_STEP_FAILED;
    tf_cluster *c = NULL;
    if (strcmp(env, "local")) {
        c = remote_cluster(step, env, n, error);
    } else {
        const tf_gherkin_pickle *p = tf_world_pickle(tf_step_world(step));
        tf_cluster_spec *spec = tf_cluster_spec_load_named(spec_name, p ? p->uri : NULL, error);
        if (!spec || !tf_cluster_spec_require_url(spec, "the etcd steps", error)) {
            tf_cluster_spec_free(spec);
            return TF_STEP_FAILED;
        }
        c = tf_cluster_new_network(spec, n, net, error);
        tf_cluster_spec_free(spec);
    }
    if (!c)
        return TF_STEP_FAILED;
    /* 20 Hz: failovers take ~0.5 s here. In network namespaces every 150 ms: those
     * scenarios check that no two cycles start more than 2 intervals (300 ms) apart while
     * the network is faulty. A cycle lasts at most the request timeout (250 ms, see
     * rk_world_new) plus the journal append; on this 2-core machine at load 7-10 (other
     * test suites beside it) the observer's thread was seen starting a cycle 135 ms late
     * and a cycle taking 210 ms, so a 100 ms interval (200 ms limit) failed 1 run in 3
     * there, while 300 ms leaves 50 ms beyond the slowest possible member answer. */
    gint64 interval = tf_cluster_network_of(c) == TF_CLUSTER_NET_NAMESPACES ? 150000 : 50000;
    rk_world *rk = rk_world_new(tf_step_world(step), c, interval, error);
    if (!rk || !net_world_attach(tf_step_world(step), c, rk->h, rk->interval_us, rk_world_fault,
                                 rk, error) ||
        !tf_cluster_start(c, error))
        return TF_STEP_FAILED;
    tf_snapshot *snap = wait_for(rk, all_up_with_leader, GUINT_TO_POINTER(n),
                                 "every node up and a leader elected", DEFAULT_WAIT, 0, error);
    if (!snap)
        return TF_STEP_FAILED;
    tf_world_log(tf_step_world(step), "cluster %s up in %s%s", tf_cluster_name(c), tf_cluster_dir(c),
                 tf_cluster_network_of(c) == TF_CLUSTER_NET_NAMESPACES ? " (network namespaces)" : "");
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

static tf_step_status given_cluster(tf_step *s, GError **e) { return start_cluster(s, "etcd-3", TF_CLUSTER_NET_SPEC, e); }
static tf_step_status given_netns_cluster(tf_step *s, GError **e)
{
    return start_cluster(s, "etcd-3", TF_CLUSTER_NET_NAMESPACES, e);
}
static tf_step_status given_prevote_cluster(tf_step *s, GError **e)
{
    return start_cluster(s, "etcd-3-prevote", TF_CLUSTER_NET_NAMESPACES, e);
}

/* ---- When: faults ----------------------------------------------------------------------- */

typedef gboolean (*node_op)(tf_cluster *c, guint i, GError **error);

typedef struct {
    tf_cluster *c;
    guint i;
} kill_target;

static json_t *kill_effect(void *data, GError **error)
{
    kill_target *t = data;
    pid_t pid = tf_cluster_node_pid(t->c, t->i);
    if (!tf_cluster_node_kill(t->c, t->i, error))
        return NULL;
    return json_pack("{s:s, s:I}", "node", tf_cluster_node_name(t->c, t->i), "pid", (json_int_t)pid);
}

/* Kills node i as an idempotent effect keyed by the step, the cluster and the node's
 * incarnation (its pid): with a store, a retried attempt or a restarted runner reuses
 * the recorded kill instead of repeating it (tf_world_effect_once). */
static gboolean kill_once(tf_step *step, tf_cluster *c, guint i, GError **error)
{
    tf_world *w = tf_step_world(step);
    const char *node = tf_cluster_node_name(c, i);
    json_t *input = json_pack("{s:s, s:s, s:s, s:I}", "step", tf_step_text(step), "cluster",
                              tf_cluster_dir(c) ? tf_cluster_dir(c) : tf_cluster_name(c),
                              "node", node, "pid", (json_int_t)tf_cluster_node_pid(c, i));
    gboolean replayed;
    json_t *done = tf_world_effect_once(w, "raftkv.kill", input, tf_step_timeout(step) + 60 * G_USEC_PER_SEC,
                                        kill_effect, &(kill_target){c, i}, &replayed, error);
    json_decref(input);
    if (done && replayed)
        tf_world_log(w, "%s: already killed by an earlier attempt (durable claim)", node);
    else if (done && tf_world_store(w, &(tf_store *){NULL}, NULL) == TF_LOOKUP_FOUND)
        tf_world_log(w, "killed %s (durable claim done)", node);
    json_decref(done);
    return done != NULL;
}

/* op on node i; a kill goes through kill_once. A fault (kill, stop, pause) is recorded
 * as a fault window of the scenario's client history; resuming a node heals it (starting
 * one again is done in when_stopped_restarted). */
static gboolean apply_op(tf_step *step, node_op op, tf_cluster *c, guint i, GError **error)
{
    gboolean ok = op == tf_cluster_node_kill ? kill_once(step, c, i, error) : op(c, i, error);
    const char *fault = op == tf_cluster_node_kill ? "killed" : op == tf_cluster_node_stop ? "stopped"
                        : op == tf_cluster_node_pause ? "paused"
                        : op == tf_cluster_node_isolate ? "isolated" : NULL;
    if (ok && fault)
        ok = tf_world_fault_begin(tf_step_world(step), tf_cluster_node_name(c, i), fault, error);
    else if (ok && op == tf_cluster_node_resume)
        tf_world_fault_end(tf_step_world(step), tf_cluster_node_name(c, i));
    return ok;
}

static tf_step_status fault_leader(tf_step *step, node_op op, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    guint64 term = 0;
    char *leader = current_leader(rk, &term, error);
    if (!leader)
        return TF_STEP_FAILED;
    gint i = rk_node(rk, leader, error);
    if (i < 0 || !apply_op(step, op, rk->cluster, (guint)i, error)) {
        g_free(leader);
        return TF_STEP_FAILED;
    }
    rk->acted_at = g_get_monotonic_time();
    g_free(rk->old_leader);
    rk->old_leader = leader;
    rk->old_term = term;
    tf_handle_wake(rk->h);
    return TF_STEP_PASSED;
}

static tf_step_status when_leader_killed(tf_step *s, GError **e) { return fault_leader(s, tf_cluster_node_kill, e); }
static tf_step_status when_leader_paused(tf_step *s, GError **e) { return fault_leader(s, tf_cluster_node_pause, e); }
static tf_step_status when_leader_stopped(tf_step *s, GError **e) { return fault_leader(s, tf_cluster_node_stop, e); }
static tf_step_status when_leader_isolated(tf_step *s, GError **e) { return fault_leader(s, tf_cluster_node_isolate, e); }

static tf_step_status when_old_leader_resumed(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    if (!rk->old_leader)
        return TF_FAIL(error, "no leader was paused in this scenario");
    gint i = rk_node(rk, rk->old_leader, error);
    if (i < 0 || !apply_op(step, tf_cluster_node_resume, rk->cluster, (guint)i, error))
        return TF_STEP_FAILED;
    rk->acted_at = g_get_monotonic_time();
    tf_handle_wake(rk->h);
    return TF_STEP_PASSED;
}

static tf_step_status node_action(tf_step *step, node_op op, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    gint i = rk_node(rk, tf_step_arg_str(step, 0), error);
    if (i < 0 || !apply_op(step, op, rk->cluster, (guint)i, error))
        return TF_STEP_FAILED;
    rk->acted_at = g_get_monotonic_time();
    tf_handle_wake(rk->h);
    return TF_STEP_PASSED;
}

static tf_step_status when_node_killed(tf_step *s, GError **e) { return node_action(s, tf_cluster_node_kill, e); }
static tf_step_status when_node_stopped(tf_step *s, GError **e) { return node_action(s, tf_cluster_node_stop, e); }
static tf_step_status when_node_paused(tf_step *s, GError **e) { return node_action(s, tf_cluster_node_pause, e); }
static tf_step_status when_node_resumed(tf_step *s, GError **e) { return node_action(s, tf_cluster_node_resume, e); }
/* A restart is a fault window from before the restart until the node is running again. */
static tf_step_status when_node_restarted(tf_step *s, GError **e)
{
    const char *node = tf_step_arg_str(s, 0);
    if (!tf_world_fault_begin(tf_step_world(s), node, "restarted", e))
        return TF_STEP_FAILED;
    tf_step_status st = node_action(s, tf_cluster_node_restart, e);
    tf_world_fault_end(tf_step_world(s), node);
    return st;
}

/* Stops `count` nodes, followers first (the leader last), so "a minority" keeps the leader. */
static tf_step_status stop_nodes(tf_step *step, guint count, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    char *leader = current_leader(rk, NULL, NULL);
    guint n = tf_cluster_size(rk->cluster), stopped = 0;
    for (int pass = 0; pass < 2 && stopped < count; pass++) {
        for (guint i = 0; i < n && stopped < count; i++) {
            gboolean is_leader = leader && !strcmp(tf_cluster_node_name(rk->cluster, i), leader);
            if (is_leader != (pass == 1) || tf_cluster_node_state(rk->cluster, i, NULL) != TF_NODE_RUNNING)
                continue;
            if (!apply_op(step, tf_cluster_node_stop, rk->cluster, i, error)) {
                g_free(leader);
                return TF_STEP_FAILED;
            }
            tf_world_log(tf_step_world(step), "stopped %s", tf_cluster_node_name(rk->cluster, i));
            stopped++;
        }
    }
    g_free(leader);
    rk->acted_at = g_get_monotonic_time();
    tf_handle_wake(rk->h);
    return stopped == count ? TF_STEP_PASSED
                            : TF_FAIL(error, "only %u of %u nodes could be stopped", stopped, count);
}

static tf_step_status when_majority_stopped(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    return rk ? stop_nodes(step, tf_cluster_size(rk->cluster) / 2 + 1, error) : TF_STEP_FAILED;
}

static tf_step_status when_minority_stopped(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    return rk ? stop_nodes(step, (tf_cluster_size(rk->cluster) - 1) / 2, error) : TF_STEP_FAILED;
}

static tf_step_status when_stopped_restarted(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    for (guint i = 0; i < tf_cluster_size(rk->cluster); i++) {
        tf_node_state st = tf_cluster_node_state(rk->cluster, i, NULL);
        if ((st == TF_NODE_STOPPED || st == TF_NODE_EXITED) && !tf_cluster_node_start(rk->cluster, i, error))
            return TF_STEP_FAILED;
        if (st == TF_NODE_STOPPED || st == TF_NODE_EXITED)
            tf_world_fault_end(tf_step_world(step), tf_cluster_node_name(rk->cluster, i));
    }
    rk->acted_at = g_get_monotonic_time();
    tf_handle_wake(rk->h);
    return TF_STEP_PASSED;
}

/* Restarts each node in turn; before the next one, the restarted node must be back and
 * the cluster must have a leader with quorum again (observed, not slept on). */
static tf_step_status when_rolling_restart(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    for (guint i = 0; i < tf_cluster_size(rk->cluster); i++) {
        const char *name = tf_cluster_node_name(rk->cluster, i);
        if (!tf_world_fault_begin(tf_step_world(step), name, "restarted", error) ||
            !tf_cluster_node_restart(rk->cluster, i, error))
            return TF_STEP_FAILED;
        rk->acted_at = g_get_monotonic_time();
        char *what = g_strdup_printf("%s back after its restart", name);
        tf_snapshot *snap = wait_for(rk, node_reachable, (void *)name, what, DEFAULT_WAIT, rk->acted_at, error);
        g_free(what);
        if (snap) {
            tf_snapshot_unref(snap);
            snap = wait_for(rk, all_agree, NULL, "every running node follows one leader",
                            DEFAULT_WAIT, 0, error);
        }
        if (!snap)
            return TF_STEP_FAILED;
        tf_world_fault_end(tf_step_world(step), name); /* back, and following a leader */
        tf_world_log(tf_step_world(step), "restarted %s", name);
        tf_snapshot_unref(snap);
    }
    return TF_STEP_PASSED;
}

/* ---- When/Then: writes -------------------------------------------------------------------- */

static tf_step_status when_put(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    const char *key = tf_step_arg_str(step, 0), *value = tf_step_arg_str(step, 1);
    char *url = rk_write_target(rk, NULL, NULL);
    if (!url)
        return TF_FAIL(error, "put %s: no reachable node to write to", key);
    GError *first = NULL;
    gboolean ok = raftkv_etcd_put(rk->http, url, key, value, KV_TIMEOUT, &first);
    g_free(url);
    if (!ok) {
        /* Right after an election a put can fail transiently (the new leader's first entry
         * not yet committed, a slow answer). Putting the same value again is idempotent:
         * retry once, after a cycle that began after the failure still shows a leader
         * with quorum, as an etcd client would. The log keeps the first failure. */
        tf_world_log(tf_step_world(step), "put %s: %s; retrying once after a fresh leader view",
                     key, first->message);
        char *again = NULL;
        tf_snapshot *snap = wait_for(rk, new_leader, &(leader_want){NULL, 0},
                                     "a leader with quorum after the failed put", DEFAULT_WAIT,
                                     g_get_monotonic_time(), error);
        if (snap && (again = rk_write_target(rk, snap, NULL)))
            ok = raftkv_etcd_put(rk->http, again, key, value, KV_TIMEOUT, error);
        if (snap && !again)
            g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "put %s: no reachable node to write to", key);
        if (!ok)
            g_prefix_error(error, "first attempt: %s; second: ", first->message);
        tf_snapshot_unref(snap);
        g_free(again);
        g_error_free(first);
        if (!ok)
            return TF_STEP_FAILED;
    }
    rk_world_acked(rk, key, value);
    rk->acted_at = g_get_monotonic_time();
    return TF_STEP_PASSED;
}

/* The write key = value must be tried through `node` (NULL: the node a client would pick
 * from the first snapshot taken after the last action; an older one may still show nodes
 * that are gone) and not be acknowledged. Failures say what was observed, never what was
 * assumed; a write that was acknowledged is recorded, so later checks expect it. */
static tf_step_status expect_refused(tf_step *step, rk_world *rk, const char *key, const char *value,
                                const char *node, GError **error)
{
    tf_snapshot *view = tf_handle_wait_fresh(rk->h, rk->acted_at, DEFAULT_WAIT, error);
    if (!view)
        return TF_STEP_FAILED;
    char *seen = rk_progress(view, NULL);
    char *url = NULL;
    if (node) {
        gint i = rk_node(rk, node, error);
        url = i >= 0 ? g_strdup(tf_cluster_node_url(rk->cluster, (guint)i)) : NULL;
    } else {
        url = rk_write_target(rk, view, &node);
    }
    tf_snapshot_unref(view);
    tf_step_status st = TF_STEP_PASSED;
    GError *err = NULL;
    if (!url && node) {
        st = TF_STEP_FAILED; /* no such node: error set by rk_node */
    } else if (!url) {
        st = TF_FAIL(error, "put %s = %s: no node could be reached to try the write (observed: %s); "
                     "a write that was never tried does not show that writes fail", key, value, seen);
    } else if (raftkv_etcd_put(rk->http, url, key, value, KV_TIMEOUT, &err)) {
        rk_world_acked(rk, key, value); /* it is in the cluster now: later checks must see it */
        st = TF_FAIL(error, "put %s = %s was acknowledged by %s, but the write should have failed "
                     "(observed before the write: %s)", key, value, node, seen);
    } else {
        /* a write that timed out may still take effect later (after a partition heals) */
        tf_world_log(tf_step_world(step), "the write to %s was not acknowledged, as expected "
                     "(observed before it: %s): %s", node, seen, err->message);
        g_clear_error(&err);
    }
    g_free(url);
    g_free(seen);
    return st;
}

static tf_step_status then_put_fails(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    return rk ? expect_refused(step, rk, tf_step_arg_str(step, 0), tf_step_arg_str(step, 1), NULL, error)
              : TF_STEP_FAILED;
}

static tf_step_status when_writer_starts(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    rk_writer_start(rk);
    return TF_STEP_PASSED;
}

static tf_step_status when_writer_stops(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    rk_writer_stop(rk);
    pthread_mutex_lock(&rk->lock);
    guint64 acked = rk->writes_acked, failed = rk->write_failures;
    pthread_mutex_unlock(&rk->lock);
    tf_world_log(tf_step_world(step), "background writes: %" G_GUINT64_FORMAT " acknowledged, %"
                 G_GUINT64_FORMAT " failed", acked, failed);
    if (!acked)
        return TF_FAIL(error, "the background writer got no write acknowledged (%" G_GUINT64_FORMAT
                       " failed)", failed);
    return TF_STEP_PASSED;
}

/* Every reachable node has applied everything committed before now: read once after. */
static gboolean wait_applied(rk_world *rk, GError **error)
{
    gint64 now = g_get_monotonic_time();
    tf_snapshot *snap = tf_handle_wait_fresh(rk->h, now, DEFAULT_WAIT, error);
    if (!snap)
        return FALSE;
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    guint64 target = 0;
    for (guint i = 0; i < s->n; i++)
        if (s->nodes[i].reachable)
            target = MAX(target, s->nodes[i].commit);
    tf_snapshot_unref(snap);
    char *what = g_strdup_printf("every reachable node applied index %" G_GUINT64_FORMAT, target);
    snap = wait_for(rk, all_applied, &target, what, DEFAULT_WAIT, 0, error);
    g_free(what);
    tf_snapshot_unref(snap);
    return snap != NULL;
}

/* After a failed read of node: waits until a status answer from it arrives after the
 * failure. FALSE (re-read) once it did; TRUE (keep the read error) if it did not. */
static gboolean reread_after_answer(rk_world *rk, const char *node, const GError *read_err)
{
    GError *err = NULL;
    char *what = g_strdup_printf("%s answers again after a failed read (%s)", node, read_err->message);
    /* 10 s: the observer asks every 50 ms; a node that failed a read answers again within
     * a restart's time (0.8 s at most for three restarts above) unless it is down */
    tf_snapshot *snap = wait_for(rk, node_reachable, (void *)node, what, KV_TIMEOUT * 5,
                                 g_get_monotonic_time(), &err);
    g_free(what);
    g_clear_error(&err);
    tf_snapshot_unref(snap);
    return snap == NULL;
}

/* Reads key on every running node; appends mismatches to bad. A read that fails is
 * repeated once, after the node was seen answering again. */
static void check_key(rk_world *rk, const char *key, const char *want, GString *bad, guint *reads)
{
    for (guint i = 0; i < tf_cluster_size(rk->cluster); i++) {
        if (tf_cluster_node_state(rk->cluster, i, NULL) != TF_NODE_RUNNING)
            continue;
        gboolean found;
        GError *err = NULL;
        const char *name = tf_cluster_node_name(rk->cluster, i);
        char *got = raftkv_etcd_get(rk->http, tf_cluster_node_url(rk->cluster, i), key, TRUE,
                                    KV_TIMEOUT, &found, &err);
        (*reads)++;
        if (err && !reread_after_answer(rk, name, err)) {
            /* A node that did not answer proves nothing about the key: read once more
             * after the runtime saw it answer a status request again. */
            g_clear_error(&err);
            g_free(got);
            got = raftkv_etcd_get(rk->http, tf_cluster_node_url(rk->cluster, i), key, TRUE,
                                  KV_TIMEOUT, &found, &err);
            (*reads)++;
        }
        if (err)
            g_string_append_printf(bad, "\n  %s: %s", name, err->message);
        else if (!found || strcmp(got, want))
            g_string_append_printf(bad, "\n  %s: %s reads %s%s%s, want \"%s\"",
                                   name, key, found ? "\"" : "",
                                   found ? got : "nothing", found ? "\"" : "", want);
        g_clear_error(&err);
        g_free(got);
    }
}

static tf_step_status then_key_reads(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk || !wait_applied(rk, error))
        return TF_STEP_FAILED;
    GString *bad = g_string_new(NULL);
    guint reads = 0;
    check_key(rk, tf_step_arg_str(step, 0), tf_step_arg_str(step, 1), bad, &reads);
    tf_step_status st = bad->len ? TF_FAIL(error, "per-node reads disagree:%s", bad->str) : TF_STEP_PASSED;
    g_string_free(bad, TRUE);
    return st;
}

static tf_step_status then_acked_readable(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk || !wait_applied(rk, error))
        return TF_STEP_FAILED;
    pthread_mutex_lock(&rk->lock);
    GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, rk->acked);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_insert(copy, g_strdup(k), g_strdup(v));
    pthread_mutex_unlock(&rk->lock);
    GString *bad = g_string_new(NULL);
    guint reads = 0, keys = g_hash_table_size(copy);
    g_hash_table_iter_init(&it, copy);
    while (g_hash_table_iter_next(&it, &k, &v) && bad->len < 4000)
        check_key(rk, k, v, bad, &reads);
    g_hash_table_unref(copy);
    tf_world_log(tf_step_world(step), "%u acknowledged keys checked with %u per-node reads", keys, reads);
    tf_step_status st = bad->len ? TF_FAIL(error, "acknowledged writes lost or stale:%s", bad->str)
                            : keys ? TF_STEP_PASSED
                                   : TF_FAIL(error, "no write was acknowledged in this scenario");
    g_string_free(bad, TRUE);
    return st;
}

/* ---- Then: leadership ---------------------------------------------------------------------- */

static tf_step_status then_leader_within(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    leader_want want = {rk->old_leader, rk->old_term};
    const char *what = rk->old_leader ? "a new leader with a higher term" : "a leader is elected";
    tf_snapshot *snap = wait_for(rk, new_leader, &want, what, seconds(step, 0), rk->acted_at, error);
    if (!snap)
        return TF_STEP_FAILED;
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    tf_world_log(tf_step_world(step), "leader %s at term %" G_GUINT64_FORMAT ", %.2f s after the last action",
                 s->leader, s->leader_term,
                 (tf_snapshot_time(snap) - rk->acted_at) / (double)G_USEC_PER_SEC);
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

static tf_step_status then_all_agree(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    tf_snapshot *snap = wait_for(rk, all_agree, NULL, "every running node follows one leader",
                                 DEFAULT_WAIT, rk->acted_at, error);
    tf_snapshot_unref(snap);
    return snap ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status then_no_leader(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    tf_snapshot *snap = wait_for(rk, leaderless_without_quorum, NULL,
                                 "no quorum and no node knowing a leader", DEFAULT_WAIT, rk->acted_at, error);
    tf_snapshot_unref(snap);
    return snap ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status then_old_leader_catches_up(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    if (!rk->old_leader)
        return TF_FAIL(error, "no leader was faulted in this scenario");
    /* Caught up = it applied at least what the new leader had committed when we looked. */
    tf_snapshot *now = tf_handle_wait_fresh(rk->h, g_get_monotonic_time(), DEFAULT_WAIT, error);
    if (!now)
        return TF_STEP_FAILED;
    const raftkv_snapshot *s = tf_snapshot_data(now);
    const raftkv_node *leader = s->leader ? raftkv_snapshot_node(s, s->leader) : NULL;
    catch_up c = {rk->old_leader, leader ? leader->commit : 0};
    tf_snapshot_unref(now);
    char *what = g_strdup_printf("%s steps down, follows the leader and applies index %" G_GUINT64_FORMAT,
                                 rk->old_leader, c.min_applied);
    tf_snapshot *snap = wait_for(rk, follower_caught_up, &c, what, DEFAULT_WAIT, 0, error);
    g_free(what);
    tf_snapshot_unref(snap);
    return snap ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status then_safety_holds(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    tf_snapshot *snap = tf_handle_wait_fresh(rk->h, g_get_monotonic_time(), DEFAULT_WAIT, error);
    if (!snap)
        return TF_STEP_FAILED;
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    tf_step_status st = s->violations ? TF_FAIL(error, "%s", s->violation) : TF_STEP_PASSED;
    if (!s->violations)
        tf_world_log(tf_step_world(step), "Election Safety held over %" G_GUINT64_FORMAT
                     " elections (max term %" G_GUINT64_FORMAT ")", s->elections, s->max_term);
    tf_snapshot_unref(snap);
    return st;
}

/* ---- network faults (the faults themselves are net_steps.c's) ----------------------------- */

typedef struct {
    const char *node;
    guint64 term;
} node_term;

static gboolean stopped_claiming(const tf_snapshot *snap, void *data)
{
    const raftkv_node *n = raftkv_snapshot_node(tf_snapshot_data(snap), data);
    return n && n->reachable && !n->is_leader;
}

/* The leader cut off by "the leader is isolated" no longer says it leads. How long that
 * takes is etcd's CheckQuorum: a leader that hears from no quorum for an election timeout
 * (250 ms in the bundled specs) steps down; measured here at 0.3-0.6 s, and the log
 * line gives each run's figure. */
static tf_step_status then_isolated_leader_steps_down(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    if (!rk->old_leader)
        return TF_FAIL(error, "no leader was isolated in this scenario");
    char *what = g_strdup_printf("%s (isolated) no longer claims to lead", rk->old_leader);
    tf_snapshot *snap = wait_for(rk, stopped_claiming, rk->old_leader, what, seconds(step, 0),
                                 rk->acted_at, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    const raftkv_node *n = raftkv_snapshot_node(tf_snapshot_data(snap), rk->old_leader);
    tf_world_log(tf_step_world(step), "%s stopped claiming leadership %.2f s after it was isolated "
                 "(now term %" G_GUINT64_FORMAT ", %s)", rk->old_leader,
                 (tf_snapshot_time(snap) - rk->acted_at) / 1e6, n->term,
                 n->leader ? "following someone it cannot reach" : "knowing no leader");
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

/* A put through one named node (not the leader the client would pick). */
static tf_step_status when_put_through(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    const char *key = tf_step_arg_str(step, 0), *value = tf_step_arg_str(step, 1);
    gint i = rk_node(rk, tf_step_arg_str(step, 2), error);
    if (i < 0 || !raftkv_etcd_put(rk->http, tf_cluster_node_url(rk->cluster, (guint)i), key, value,
                                  KV_TIMEOUT, error))
        return TF_STEP_FAILED;
    rk_world_acked(rk, key, value);
    rk->acted_at = g_get_monotonic_time();
    return TF_STEP_PASSED;
}

/* A put through a node that cannot reach a majority must not be acknowledged. etcd
 * holds such a request until its own timeout; the step gives it KV_TIMEOUT (2 s). */
static tf_step_status then_put_through_fails(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    return rk ? expect_refused(step, rk, tf_step_arg_str(step, 0), tf_step_arg_str(step, 1),
                               tf_step_arg_str(step, 2), error)
              : TF_STEP_FAILED;
}

/* Every running member reads the same for key (a value, or nothing): for a write whose
 * outcome the client could not learn (it timed out), either outcome is right, as long
 * as the members agree. */
static tf_step_status then_key_same(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk || !wait_applied(rk, error))
        return TF_STEP_FAILED;
    const char *key = tf_step_arg_str(step, 0);
    GString *seen = g_string_new(NULL);
    char *first = NULL;
    gboolean any = FALSE, same = TRUE;
    for (guint i = 0; i < tf_cluster_size(rk->cluster); i++) {
        if (tf_cluster_node_state(rk->cluster, i, NULL) != TF_NODE_RUNNING)
            continue;
        gboolean found = FALSE;
        GError *err = NULL;
        char *got = raftkv_etcd_get(rk->http, tf_cluster_node_url(rk->cluster, i), key, TRUE,
                                    KV_TIMEOUT, &found, &err);
        if (err) {
            g_string_append_printf(seen, "\n  %s: %s", tf_cluster_node_name(rk->cluster, i), err->message);
            g_error_free(err);
            g_free(got);
            g_free(first);
            tf_step_status st = TF_FAIL(error, "key %s could not be read everywhere:%s", key, seen->str);
            g_string_free(seen, TRUE);
            return st;
        }
        char *shown = found ? g_strdup_printf("\"%s\"", got) : g_strdup("nothing");
        g_string_append_printf(seen, "\n  %s: %s", tf_cluster_node_name(rk->cluster, i), shown);
        if (any && g_strcmp0(first, shown))
            same = FALSE;
        if (!any)
            first = g_strdup(shown);
        any = TRUE;
        g_free(shown);
        g_free(got);
    }
    tf_step_status st = TF_STEP_PASSED;
    if (!any)
        st = TF_FAIL(error, "no running node to read %s from", key);
    else if (!same)
        st = TF_FAIL(error, "the members disagree on key %s:%s", key, seen->str);
    else
        tf_world_log(tf_step_world(step), "every running node reads %s for %s", first, key);
    g_free(first);
    g_string_free(seen, TRUE);
    return st;
}

/* Isolates one follower, chosen with the scenario's seed. */
static tf_step_status when_follower_isolated(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    guint64 term = 0;
    char *leader = current_leader(rk, &term, error);
    if (!leader)
        return TF_STEP_FAILED;
    GPtrArray *followers = g_ptr_array_new();
    for (guint i = 0; i < tf_cluster_size(rk->cluster); i++)
        if (strcmp(tf_cluster_node_name(rk->cluster, i), leader) &&
            tf_cluster_node_state(rk->cluster, i, NULL) == TF_NODE_RUNNING)
            g_ptr_array_add(followers, GUINT_TO_POINTER(i));
    g_free(leader);
    if (!followers->len) {
        g_ptr_array_unref(followers);
        return TF_FAIL(error, "no running follower to isolate");
    }
    guint i = GPOINTER_TO_UINT(followers->pdata[rk->seed % followers->len]);
    g_ptr_array_unref(followers);
    if (!tf_cluster_node_isolate(rk->cluster, i, error))
        return TF_STEP_FAILED;
    g_free(rk->isolated);
    rk->isolated = g_strdup(tf_cluster_node_name(rk->cluster, i));
    tf_world_log(tf_step_world(step), "isolated %s (a follower at term %" G_GUINT64_FORMAT ")",
                 rk->isolated, term);
    return TF_STEP_PASSED;
}

static gboolean term_above(const tf_snapshot *snap, void *data)
{
    const node_term *t = data;
    const raftkv_node *n = raftkv_snapshot_node(tf_snapshot_data(snap), t->node);
    return n && n->reachable && n->term >= t->term;
}

/* Without pre-vote an isolated member campaigns on every election timeout (250-500 ms
 * here), raising its term each time: the bound is the wait for that many timeouts with
 * a wide margin for a loaded machine. */
static tf_step_status then_isolated_term_climbs(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    if (!rk->isolated)
        return TF_FAIL(error, "no follower was isolated in this scenario");
    guint64 by = (guint64)tf_step_arg_int(step, 0);
    node_term want = {rk->isolated, rk->term_at_fault + by};
    char *what = g_strdup_printf("%s's term reaches %" G_GUINT64_FORMAT " (the leader's %"
                                 G_GUINT64_FORMAT " + %" G_GUINT64_FORMAT ")", rk->isolated,
                                 want.term, rk->term_at_fault, by);
    tf_snapshot *snap = wait_for(rk, term_above, &want, what, seconds(step, 1), rk->acted_at, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    tf_world_log(tf_step_world(step), "%s's term climbed from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                 " in %.2f s while isolated; the majority stayed at term %" G_GUINT64_FORMAT,
                 rk->isolated, rk->term_at_fault, raftkv_snapshot_node(s, rk->isolated)->term,
                 (tf_snapshot_time(snap) - rk->acted_at) / 1e6, s->leader_term);
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

/* A property that must hold over a period: observed, not slept on. The wait is for the
 * property's violation; its timeout is the success. */
static tf_step_status holds_for(tf_step *step, rk_world *rk, tf_predicate broken, void *data,
                           const char *what, gint64 period, GError **error)
{
    GError *e = NULL;
    gint64 from = g_get_monotonic_time();
    tf_snapshot *snap = wait_for(rk, broken, data, what, period, from, &e);
    if (!snap && g_error_matches(e, TF_ERROR, TF_ERROR_TIMEOUT)) {
        g_error_free(e);
        return TF_STEP_PASSED;
    }
    if (!snap) {
        g_propagate_error(error, e);
        return TF_STEP_FAILED;
    }
    char *seen = rk_progress(snap, NULL);
    tf_step_status st = TF_FAIL(error, "%s, %.2f s into the %.1f s it should not (observed: %s)", what,
                           (tf_snapshot_time(snap) - from) / 1e6, period / 1e6, seen);
    g_free(seen);
    tf_snapshot_unref(snap);
    return st;
}

static tf_step_status then_isolated_term_stays(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    if (!rk->isolated)
        return TF_FAIL(error, "no follower was isolated in this scenario");
    node_term over = {rk->isolated, rk->term_at_fault + 1};
    char *what = g_strdup_printf("%s's term rose above %" G_GUINT64_FORMAT, rk->isolated,
                                 rk->term_at_fault);
    tf_step_status st = holds_for(step, rk, term_above, &over, what, seconds(step, 0), error);
    g_free(what);
    if (st == TF_STEP_PASSED)
        tf_world_log(tf_step_world(step), "%s stayed at term %" G_GUINT64_FORMAT " for %.1f s while isolated",
                     rk->isolated, rk->term_at_fault, seconds(step, 0) / 1e6);
    return st;
}

static gboolean term_beyond(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    return s->leader && s->quorum && s->leader_term > *(guint64 *)data;
}

/* After the heal: the rejoining member's higher term makes the leader step down and the
 * cluster elect again in a term above the rejoining member's. */
static tf_step_status then_election_forced(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    guint64 before = rk->term_at_fault;
    char *what = g_strdup_printf("a new election: a leader in a term above %" G_GUINT64_FORMAT, before);
    tf_snapshot *snap = wait_for(rk, term_beyond, &before, what, seconds(step, 0), rk->acted_at, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    tf_world_log(tf_step_world(step), "after the heal the cluster elected %s at term %" G_GUINT64_FORMAT
                 " (%s led term %" G_GUINT64_FORMAT " when the network healed), %.2f s after the heal",
                 s->leader, s->leader_term, rk->leader_at_fault ? rk->leader_at_fault : "nobody", before,
                 (tf_snapshot_time(snap) - rk->acted_at) / 1e6);
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

typedef struct {
    char *leader;
    guint64 term;
} leadership;

static gboolean leadership_changed(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    const leadership *l = data;
    return s->leader_term != l->term || (s->leader && strcmp(s->leader, l->leader)) || s->max_term > l->term;
}

static gboolean unavailable(const tf_snapshot *snap, void *data)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    return !s->leader || !s->quorum;
}

/* Available: every snapshot over the period shows a leader agreed by a quorum. */
static tf_step_status then_stays_available(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    tf_snapshot *now = wait_for(rk, all_agree, NULL, "every running node follows one leader",
                                DEFAULT_WAIT, rk->acted_at, error);
    if (!now)
        return TF_STEP_FAILED;
    tf_snapshot_unref(now);
    tf_step_status st = holds_for(step, rk, unavailable, NULL, "the cluster had no leader with a quorum",
                             seconds(step, 0), error);
    if (st == TF_STEP_PASSED) {
        tf_snapshot *last = tf_handle_latest(rk->h);
        const raftkv_snapshot *s = tf_snapshot_data(last);
        tf_world_log(tf_step_world(step), "a leader with a quorum throughout %.1f s (now %s at term %"
                     G_GUINT64_FORMAT "; highest term any node reached: %" G_GUINT64_FORMAT ")",
                     seconds(step, 0) / 1e6, s->leader, s->leader_term, s->max_term);
        tf_snapshot_unref(last);
    }
    return st;
}

static tf_step_status then_leadership_stays(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    tf_snapshot *now = wait_for(rk, all_agree, NULL, "every running node follows one leader",
                                DEFAULT_WAIT, rk->acted_at, error);
    if (!now)
        return TF_STEP_FAILED;
    const raftkv_snapshot *s = tf_snapshot_data(now);
    leadership l = {g_strdup(s->leader), s->leader_term};
    tf_snapshot_unref(now);
    char *what = g_strdup_printf("the leadership changed from %s at term %" G_GUINT64_FORMAT
                                 " (or some node went beyond that term)", l.leader, l.term);
    tf_step_status st = holds_for(step, rk, leadership_changed, &l, what, seconds(step, 0), error);
    g_free(what);
    if (st == TF_STEP_PASSED)
        tf_world_log(tf_step_world(step), "%s kept leading at term %" G_GUINT64_FORMAT " for %.1f s",
                     l.leader, l.term, seconds(step, 0) / 1e6);
    g_free(l.leader);
    return st;
}

/* ---- After: safety check, timeline, logs ------------------------------------------------- */

static tf_step_status after_raftkv(tf_world *world, GError **error)
{
    net_world_report(world); /* the faults of this scenario's cluster, if any */
    rk_world *rk = tf_world_get(world, "raftkv");
    if (!rk)
        return TF_STEP_PASSED;
    rk_writer_stop(rk);
    GPtrArray *snaps = tf_handle_snapshots(rk->h);
    json_t *faults = net_world_faults(world);
    char *svg = rk_timeline_svg(snaps, faults);
    json_decref(faults);
    tf_world_attach(world, svg, strlen(svg), "image/svg+xml", "raftkv-timeline.svg");
    g_free(svg);
    json_t *events = json_array();
    GPtrArray *hist = tf_handle_batches(rk->h);
    for (guint i = 0; i < hist->len; i++)
        json_array_append_new(events, tf_batch_to_json(hist->pdata[i]));
    g_ptr_array_unref(hist);
    char *text = json_dumps(events, JSON_COMPACT);
    tf_world_attach(world, text, strlen(text), "application/json", "raftkv-events.json");
    free(text);
    json_decref(events);
    if (tf_world_status(world) == TF_STEP_FAILED) {
        /* The logs a failure names: in the report, and kept on disk past the scenario. */
        for (guint i = 0; i < tf_cluster_size(rk->cluster); i++) {
            char *tail = tf_cluster_node_log_tail(rk->cluster, i, TF_CLUSTER_LOG_STDERR, RK_LOG_ATTACH);
            char *name = g_strdup_printf("%s.stderr.log", tf_cluster_node_name(rk->cluster, i));
            tf_world_attach(world, tail, strlen(tail), "text/plain", name);
            g_free(name);
            g_free(tail);
        }
        const char *kept = tf_cluster_keep_logs(rk->cluster);
        if (kept)
            tf_world_log(world, "node logs kept in %s", kept);
    }
    tf_step_status st = TF_STEP_PASSED;
    if (snaps->len) {
        const raftkv_snapshot *s = tf_snapshot_data(snaps->pdata[snaps->len - 1]);
        if (s->violations)
            st = TF_FAIL(error, "%s", s->violation); /* a violation fails the scenario */
    }
    g_ptr_array_unref(snaps);
    return st;
}

gboolean raftkv_steps_register(tf_registry *reg, GError **error)
{
    TF_GIVEN("a {int}-node etcd cluster is running", given_cluster);
    TF_GIVEN("a {int}-node etcd cluster is running in network namespaces", given_netns_cluster);
    TF_GIVEN("a {int}-node etcd cluster with pre-vote is running in network namespaces",
             given_prevote_cluster);
    TF_WHEN("the leader is isolated", when_leader_isolated);
    TF_WHEN("a follower is isolated", when_follower_isolated);
    TF_WHEN("I put {string} = {string} through node {word}", when_put_through);
    TF_THEN("writing {string} = {string} through node {word} fails", then_put_through_fails);
    TF_THEN("key {string} reads the same on every running node", then_key_same);
    TF_THEN("the isolated leader stops claiming leadership within {float} seconds",
            then_isolated_leader_steps_down);
    TF_THEN("the isolated node's term climbs at least {int} above the leader's within {float} seconds",
            then_isolated_term_climbs);
    TF_THEN("the isolated node's term stays at the leader's for {float} seconds", then_isolated_term_stays);
    TF_THEN("a new election is forced within {float} seconds", then_election_forced);
    TF_THEN("the leader and its term stay the same for {float} seconds", then_leadership_stays);
    TF_THEN("the cluster keeps a leader with a quorum for {float} seconds", then_stays_available);
    TF_WHEN("the leader is killed", when_leader_killed);
    TF_WHEN("the leader is paused", when_leader_paused);
    TF_WHEN("the leader is stopped", when_leader_stopped);
    TF_WHEN("the old leader is resumed", when_old_leader_resumed);
    TF_WHEN("node {word} is killed", when_node_killed);
    TF_WHEN("node {word} is stopped", when_node_stopped);
    TF_WHEN("node {word} is paused", when_node_paused);
    TF_WHEN("node {word} is resumed", when_node_resumed);
    TF_WHEN("node {word} is restarted", when_node_restarted);
    TF_WHEN("a majority of nodes is stopped", when_majority_stopped);
    TF_WHEN("a minority of nodes is stopped", when_minority_stopped);
    TF_WHEN("the stopped nodes are restarted", when_stopped_restarted);
    TF_WHEN("every node is restarted one at a time", when_rolling_restart);
    TF_WHEN("I put {string} = {string}", when_put);
    TF_WHEN("writes run continuously in the background", when_writer_starts);
    TF_WHEN("the background writes stop", when_writer_stops);
    TF_THEN("writing {string} = {string} fails", then_put_fails);
    TF_THEN("a leader is elected within {float} seconds", then_leader_within);
    TF_THEN("all running nodes agree on the leader", then_all_agree);
    TF_THEN("no leader exists while quorum is lost", then_no_leader);
    TF_THEN("the old leader steps down and catches up", then_old_leader_catches_up);
    TF_THEN("key {string} reads {string} on every running node", then_key_reads);
    TF_THEN("every acknowledged write is readable", then_acked_readable);
    TF_THEN("Election Safety holds", then_safety_holds);
    TF_AFTER_OWN(NULL, after_raftkv);
    return raftkv_clients_register(reg, error);
}
