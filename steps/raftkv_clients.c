/* raftkv_clients.c: Jepsen's client workload inside a scenario: K threads read, write and
 * compare-and-set a few etcd keys through chosen members, each operation recorded in the
 * scenario's history (tf_world_ophistory) as the client saw it; then the history is
 * checked against the registers model, with a floor on how many operations (and how many
 * during faults) it must hold, since an empty or fault-free history proves nothing.
 * Clients are actors, not pollers: each paces itself with a timed wait on its stop
 * condition, as the background writer does; steps that wait on them wait on a condition
 * variable the clients signal. */
#include <string.h>
#include "raftkv/etcd_client.h"
#include "raftkv/lin_models.h"
#include "raftkv_clients.h"
#include "raftkv_world.h"

#define CLIENTS_KEY "raftkv.clients"
#define CHECK_LIMIT_KEY "raftkv.lincheck.limit"
#define OP_TIMEOUT (1 * G_USEC_PER_SEC)  /* a request's time limit: then unknown */
#define PACE_US (10 * 1000)              /* a client starts at most one op per 10 ms */
#define DEFAULT_CHECK_LIMIT (30 * G_USEC_PER_SEC)
#define DEFAULT_WAIT (30 * G_USEC_PER_SEC)
#define MAX_CLIENTS 64
#define MAX_KEYS 64

typedef struct rk_clients rk_clients;

/* One client thread and how it was started. */
typedef struct {
    rk_clients *all;
    guint index;               /* its first process id */
    gint member;               /* -1: a random member for each operation */
    guint n_keys;
    gboolean serializable;
    gboolean read_only;        /* a reader: reads only */
    GThread *thread;
    tf_http *http;             /* the thread's; interrupted on stop */
} client;

/* The scenario's clients: one or more groups started by Given steps, one history. */
struct rk_clients {
    tf_ophistory *h;           /* the world's (outlives the clients) */
    guint n_members;
    char **urls;               /* copies: the cluster's may be renewed */
    GPtrArray *clients;        /* client * */
    char *follower;            /* the member the last "through a follower" chose */
    char key_prefix[32];       /* "lin/<random>/": a cluster that outlives the scenario
                                  (compose, k8s) must not hand it keys that hold values */
    gint next_value;           /* atomic: values are unique per write */
    gint next_process;         /* atomic: the id a retired process's client goes on as */
    pthread_mutex_t lock;      /* guards what follows */
    pthread_cond_t stopped;    /* signalled on stop: ends the clients' pacing waits */
    pthread_cond_t progress;   /* signalled on stop and after each operation */
    gboolean stop, running;
    guint64 done[4];           /* by tf_op_status */
    gint64 mark;               /* "N more operations": counted from this time on */
    guint64 ok_since_mark;     /* ok operations whose completion time is >= mark */
    char *last_error;          /* of the last fail/unknown */
};

/* ---- the client threads ----------------------------------------------------------------- */

static void clients_signal_done(rk_clients *c, const raftkv_op_result *res)
{
    pthread_mutex_lock(&c->lock);
    c->done[res->status]++;
    /* by the completion's time in the history, not by when it is counted: a client can
     * be descheduled between the two, and an operation that completed before a fault
     * began must not count as one completed during it (the history would not) */
    if (res->status == TF_OP_OK && c->mark && res->complete_time >= c->mark)
        c->ok_since_mark++;
    if (res->error) {
        g_free(c->last_error);
        c->last_error = g_strdup(res->error);
    }
    pthread_cond_broadcast(&c->progress);
    pthread_mutex_unlock(&c->lock);
}

static struct timespec abs_time(gint64 monotonic_us)
{
    return (struct timespec){monotonic_us / G_USEC_PER_SEC, (monotonic_us % G_USEC_PER_SEC) * 1000};
}

static gpointer client_main(gpointer data)
{
    client *cl = data;
    rk_clients *c = cl->all;
    tf_http *http = cl->http;
    GRand *rng = g_rand_new_with_seed((guint32)(g_get_monotonic_time() ^ (cl->index * 2654435761u)));
    char **known = g_new0(char *, cl->n_keys); /* the last value seen of each key */
    gint64 process = cl->index;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        pthread_mutex_unlock(&c->lock);
        gint64 started = g_get_monotonic_time();
        guint k = g_rand_int_range(rng, 0, cl->n_keys);
        char key[48], value[32];
        g_snprintf(key, sizeof key, "%sk%u", c->key_prefix, k);
        g_snprintf(value, sizeof value, "%d", g_atomic_int_add(&c->next_value, 1));
        int pick = g_rand_int_range(rng, 0, 10);
        raftkv_op op = {.key = key, .value = value, .serializable = cl->serializable};
        op.kind = pick < 4 || cl->read_only ? RAFTKV_READ : pick < 7 || !known[k] ? RAFTKV_WRITE : RAFTKV_CAS;
        op.expect = known[k];
        guint m = cl->member >= 0 ? (guint)cl->member : (guint)g_rand_int_range(rng, 0, c->n_members);
        raftkv_op_result res = raftkv_client_run(http, c->urls[m], c->h, process, &op, OP_TIMEOUT);
        if (res.status == TF_OP_OK) {
            g_free(known[k]);
            known[k] = g_strdup(res.seen);
        } else if (res.status == TF_OP_UNKNOWN) {
            /* As Jepsen does: a process whose operation may still take effect is retired,
             * so a process never has two operations open; the client goes on as a new one. */
            process = g_atomic_int_add(&c->next_process, 1);
        }
        clients_signal_done(c, &res);
        raftkv_op_result_clear(&res);
        /* Pace: the next operation starts PACE_US after this one did, or at once on stop. */
        struct timespec next = abs_time(started + PACE_US);
        pthread_mutex_lock(&c->lock);
        while (!c->stop && pthread_cond_timedwait(&c->stopped, &c->lock, &next) == 0)
            ;
    }
    pthread_mutex_unlock(&c->lock);
    for (guint i = 0; i < cl->n_keys; i++)
        g_free(known[i]);
    g_free(known);
    g_rand_free(rng);
    return NULL;
}

/* Stops the clients and waits for them. A request still in flight is cut short: its
 * operation is recorded as a client that gave up records it (a write's outcome unknown,
 * a read failed), instead of waiting up to its time-out for a paused member. */
static void clients_stop(rk_clients *c)
{
    pthread_mutex_lock(&c->lock);
    gboolean running = c->running;
    c->stop = TRUE;
    c->running = FALSE;
    pthread_cond_broadcast(&c->stopped);
    pthread_cond_broadcast(&c->progress);
    pthread_mutex_unlock(&c->lock);
    for (guint i = 0; running && i < c->clients->len; i++)
        tf_http_interrupt(((client *)c->clients->pdata[i])->http);
    for (guint i = 0; running && i < c->clients->len; i++)
        g_thread_join(((client *)c->clients->pdata[i])->thread);
}

static void client_free(void *p)
{
    client *cl = p;
    tf_http_free(cl->http);
    g_free(cl);
}

static void clients_free(void *p)
{
    rk_clients *c = p;
    clients_stop(c);
    g_strfreev(c->urls);
    g_free(c->follower);
    g_ptr_array_unref(c->clients);
    g_free(c->last_error);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->stopped);
    pthread_cond_destroy(&c->progress);
    g_free(c);
}

/* "90 operations: 60 ok, 20 failed, 10 unknown" (new string; lock held). */
static char *counts_text(const rk_clients *c)
{
    guint64 all = c->done[TF_OP_OK] + c->done[TF_OP_FAIL] + c->done[TF_OP_UNKNOWN];
    return g_strdup_printf("%" G_GUINT64_FORMAT " operations completed: %" G_GUINT64_FORMAT
                           " ok, %" G_GUINT64_FORMAT " failed, %" G_GUINT64_FORMAT " unknown%s%s",
                           all, c->done[TF_OP_OK], c->done[TF_OP_FAIL], c->done[TF_OP_UNKNOWN],
                           c->last_error ? "; last error: " : "", c->last_error ? c->last_error : "");
}

/* ---- steps ---------------------------------------------------------------------------- */

/* A leader with quorum, and a reachable node following it. */
static gboolean role_known(const tf_snapshot *snap, void *unused)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    if (!s->leader || !s->quorum)
        return FALSE;
    for (guint i = 0; i < s->n; i++)
        if (s->nodes[i].reachable && !s->nodes[i].is_leader && !g_strcmp0(s->nodes[i].leader, s->leader))
            return TRUE;
    return FALSE;
}

/* The scenario's clients, made (not yet running any) on first use. */
static rk_clients *clients_make(tf_world *w, rk_world *rk, GError **error)
{
    rk_clients *c = tf_world_get(w, CLIENTS_KEY);
    if (c)
        return c;
    tf_ophistory *h = tf_world_ophistory(w, error);
    if (!h)
        return NULL;
    c = g_new0(rk_clients, 1);
    c->h = h;
    c->n_members = tf_cluster_size(rk->cluster);
    c->urls = g_new0(char *, c->n_members + 1);
    for (guint i = 0; i < c->n_members; i++)
        c->urls[i] = g_strdup(tf_cluster_node_url(rk->cluster, i));
    c->clients = g_ptr_array_new_with_free_func(client_free);
    /* the model starts every key absent: keys no earlier run of this cluster wrote */
    g_snprintf(c->key_prefix, sizeof c->key_prefix, "lin/%08x/", g_random_int());
    c->next_process = MAX_CLIENTS;
    c->running = TRUE;
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->stopped, &attr);
    pthread_cond_init(&c->progress, &attr);
    pthread_condattr_destroy(&attr);
    tf_world_set(w, CLIENTS_KEY, c, clients_free); /* freed before the history */
    return c;
}

/* The leader now, or the first node (in the cluster's order) that follows it (new
 * string), as observed: the member a group of clients goes through from then on. */
static char *member_by_role(rk_world *rk, gboolean leader, GError **error)
{
    tf_wait w = {.pred = role_known, .what = "a leader with quorum and a follower following it",
                 .timeout_us = DEFAULT_WAIT, .progress = rk_progress};
    tf_snapshot *snap = tf_handle_wait_for(rk->h, &w, error);
    if (!snap)
        return NULL;
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    char *name = leader ? g_strdup(s->leader) : NULL;
    for (guint i = 0; i < tf_cluster_size(rk->cluster) && !name; i++) {
        const raftkv_node *n = raftkv_snapshot_node(s, tf_cluster_node_name(rk->cluster, i));
        if (n && n->reachable && !n->is_leader && !g_strcmp0(n->leader, s->leader))
            name = g_strdup(n->name);
    }
    tf_snapshot_unref(snap);
    return name;
}

/* Starts a group of clients; a scenario may start several (writers through one member,
 * readers through another), all in one history. */
static tf_step_status given_clients(tf_step *step, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    if (!rk)
        return TF_STEP_FAILED;
    tf_world *w = tf_step_world(step);
    guint n = (guint)MAX(tf_step_arg_int(step, 0), 0), keys = (guint)MAX(tf_step_arg_int(step, 1), 0);
    rk_clients *c = tf_world_get(w, CLIENTS_KEY);
    guint before = c ? c->clients->len : 0;
    if (n < 1 || before + n > MAX_CLIENTS || keys < 1 || keys > MAX_KEYS)
        return TF_FAIL(error, "clients: %u clients on %u keys: give 1 to %d clients in all (%u "
                       "already) and 1 to %d keys", n, keys, MAX_CLIENTS, before, MAX_KEYS);
    if (c && !c->running)
        return TF_FAIL(error, "the clients of this scenario were stopped: its history is "
                       "complete, no more can join it");
    const char *member = tf_step_n_args(step) > 2 ? tf_step_arg_str(step, 2) : NULL;
    char *by_role = NULL;
    if (!member && strstr(tf_step_text(step), " through the leader") &&
        !(member = by_role = member_by_role(rk, TRUE, error)))
        return TF_STEP_FAILED;
    if (!member && strstr(tf_step_text(step), " through a follower") &&
        !(member = by_role = member_by_role(rk, FALSE, error)))
        return TF_STEP_FAILED;
    /* "that follower": the one earlier clients went through, else the one isolated */
    if (!member && strstr(tf_step_text(step), " through that follower") &&
        !(member = c && c->follower ? c->follower : rk->isolated))
        return TF_FAIL(error, "no follower was chosen in this scenario (\"When a follower is "
                       "isolated\", or clients \"through a follower\")");
    gint mi = -1;
    if (member && (mi = rk_node(rk, member, error)) < 0) {
        g_free(by_role);
        return TF_STEP_FAILED;
    }
    if (!(c = clients_make(w, rk, error))) {
        g_free(by_role);
        return TF_STEP_FAILED;
    }
    if (by_role && strstr(tf_step_text(step), " through a follower")) {
        g_free(c->follower);
        c->follower = g_strdup(by_role);
    }
    gboolean serializable = strstr(tf_step_text(step), "with serializable reads") != NULL;
    gboolean read_only = !strstr(tf_step_text(step), "compare-and-set");
    for (guint i = 0; i < n; i++) {
        client *cl = g_new0(client, 1);
        *cl = (client){c, before + i, mi, keys, serializable, read_only, NULL, tf_http_new()};
        g_ptr_array_add(c->clients, cl);
        cl->thread = g_thread_new("raftkv-client", client_main, cl);
    }
    tf_world_log(w, "%u %s (processes %u-%u) on %u keys through %s, %s reads, at most %d "
                 "operations a second each", n, read_only ? "readers" : "clients", before,
                 before + n - 1, keys, member ? member : "random members",
                 serializable ? "serializable" : "linearizable", (int)(G_USEC_PER_SEC / PACE_US));
    g_free(by_role);
    return TF_STEP_PASSED;
}

static rk_clients *clients_get(tf_step *step, GError **error)
{
    rk_clients *c = tf_world_get(tf_step_world(step), CLIENTS_KEY);
    if (!c)
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "no clients in this scenario: start them "
                    "with \"Given 5 clients read, write and compare-and-set 3 keys through "
                    "random members\"");
    return c;
}

/* Waits (on the clients' condition, no polling) until `more` further operations completed
 * ok, or `total` in all when more is FALSE. "More" are those whose completion time in the
 * history is at or after the step's start, so N more during a fault window are N in it. */
static tf_step_status wait_ops(tf_step *step, gboolean more, GError **error)
{
    rk_clients *c = clients_get(step, error);
    if (!c)
        return TF_STEP_FAILED;
    guint64 n = (guint64)MAX(tf_step_arg_int(step, 0), 0);
    /* within the runner's step time-out, so that this step's own message (what the
     * clients did) is the one reported */
    gint64 timeout = tf_step_timeout(step) > 0 ? MIN(DEFAULT_WAIT, tf_step_timeout(step) * 9 / 10)
                                               : DEFAULT_WAIT;
    gint64 t0 = g_get_monotonic_time();
    struct timespec deadline = abs_time(t0 + timeout);
    pthread_mutex_lock(&c->lock);
    if (more) {
        c->mark = g_get_monotonic_time();
        c->ok_since_mark = 0;
    }
    guint64 *count = more ? &c->ok_since_mark : &c->done[TF_OP_OK];
    while (c->running && *count < n &&
           pthread_cond_timedwait(&c->progress, &c->lock, &deadline) == 0)
        ;
    guint64 got = *count, want = n;
    gboolean running = c->running;
    char *counts = counts_text(c);
    pthread_mutex_unlock(&c->lock);
    tf_step_status st = TF_STEP_PASSED;
    if (got < want)
        st = TF_FAIL(error, "%s waiting for the clients to complete %" G_GUINT64_FORMAT "%s "
                     "operations: %s", running ? "timed out" : "the clients stopped",
                     n, more ? " more" : "", counts);
    else
        tf_world_log(tf_step_world(step), "%s (%.2f s)", counts,
                     (g_get_monotonic_time() - t0) / (double)G_USEC_PER_SEC);
    g_free(counts);
    return st;
}

static tf_step_status when_complete(tf_step *s, GError **e) { return wait_ops(s, FALSE, e); }
static tf_step_status when_complete_more(tf_step *s, GError **e) { return wait_ops(s, TRUE, e); }

static tf_step_status when_clients_stop(tf_step *step, GError **error)
{
    rk_clients *c = clients_get(step, error);
    if (!c)
        return TF_STEP_FAILED;
    clients_stop(c);
    pthread_mutex_lock(&c->lock);
    char *counts = counts_text(c);
    pthread_mutex_unlock(&c->lock);
    tf_world_log(tf_step_world(step), "clients stopped: %s", counts);
    g_free(counts);
    return TF_STEP_PASSED;
}

/* Pauses or resumes the follower a group of clients goes through ("through a follower"),
 * recording the fault window. */
static tf_step_status follower_fault(tf_step *step, gboolean pause, GError **error)
{
    rk_world *rk = rk_world_get(step, error);
    rk_clients *c = rk ? clients_get(step, error) : NULL;
    if (!c)
        return TF_STEP_FAILED;
    if (!c->follower)
        return TF_FAIL(error, "no clients go through a follower in this scenario (\"Given 6 "
                       "clients read 1 key through a follower\")");
    tf_world *w = tf_step_world(step);
    gint i = rk_node(rk, c->follower, error);
    if (i < 0 || !(pause ? tf_cluster_node_pause : tf_cluster_node_resume)(rk->cluster, (guint)i, error))
        return TF_STEP_FAILED;
    if (pause && !tf_world_fault_begin(w, c->follower, "paused", error))
        return TF_STEP_FAILED;
    if (!pause)
        tf_world_fault_end(w, c->follower);
    tf_world_log(w, "%s %s", pause ? "paused" : "resumed", c->follower);
    rk->acted_at = g_get_monotonic_time();
    tf_handle_wake(rk->h);
    return TF_STEP_PASSED;
}

static tf_step_status when_follower_paused(tf_step *s, GError **e) { return follower_fault(s, TRUE, e); }

static tf_step_status when_follower_resumed(tf_step *s, GError **e) { return follower_fault(s, FALSE, e); }

static tf_step_status given_check_limit(tf_step *step, GError **error)
{
    double s = tf_step_arg_double(step, 0);
    if (!(s > 0) || s > 86400)
        return TF_FAIL(error, "the check's time limit must be in (0, 86400] seconds, not %g", s);
    gint64 *limit = g_new(gint64, 1);
    *limit = (gint64)(s * G_USEC_PER_SEC);
    tf_world_set(tf_step_world(step), CHECK_LIMIT_KEY, limit, g_free);
    return TF_STEP_PASSED;
}

/* What a history holds, for the step's floor and its messages. */
typedef struct {
    guint ok, fail, unknown, pending, ok_during_faults, faults;
} history_counts;

static history_counts count_history(GPtrArray *ops, GPtrArray *faults)
{
    history_counts n = {.faults = faults->len};
    for (guint i = 0; i < ops->len; i++) {
        const tf_op *op = ops->pdata[i];
        switch (op->status) {
        case TF_OP_OK:
            n.ok++;
            n.ok_during_faults += tf_faults_cover(faults, op->complete_time);
            break;
        case TF_OP_FAIL: n.fail++; break;
        case TF_OP_UNKNOWN: n.unknown++; break;
        default: n.pending++; break;
        }
    }
    return n;
}

/* Checks the scenario's history; min_ok / min_faulted: the floor the step names. With
 * refute, the step expects a violation (a weaker read mode shown to be weaker). */
static tf_step_status check_history(tf_step *step, guint min_ok, guint min_faulted, gboolean refute,
                               GError **error)
{
    tf_world *w = tf_step_world(step);
    tf_ophistory *h = tf_world_ophistory_peek(w);
    rk_clients *c = tf_world_get(w, CLIENTS_KEY);
    if (!h || !c)
        return TF_FAIL(error, "no client history in this scenario: start clients with \"Given 5 "
                       "clients read, write and compare-and-set 3 keys through random members\"");
    if (c->running) {
        clients_stop(c);
        tf_world_log(w, "stopped the clients first: a check needs the whole history");
    }
    const gint64 *limit = tf_world_get(w, CHECK_LIMIT_KEY);
    tf_lin_options o = {.timeout_us = limit ? *limit : DEFAULT_CHECK_LIMIT};
    const tf_lin_model *m = &raftkv_registers_model;
    GPtrArray *ops = tf_ophistory_ops(h), *faults = tf_ophistory_faults(h);
    history_counts n = count_history(ops, faults);
    tf_lin_result *r = tf_lin_check_ops(ops, m, &o, error);
    tf_step_status st = TF_STEP_PASSED;
    if (!r) {
        g_prefix_error(error, "the client history cannot be checked: ");
        st = TF_STEP_FAILED;
        goto out;
    }
    tf_world_attach_lin_result(w, ops, m, r);
    char *what = g_strdup_printf("%u operations: %u ok (%u completed during %u fault window%s), "
                                 "%u unknown, %u failed (no effect: not checked), on %u key%s",
                                 ops->len, n.ok, n.ok_during_faults, n.faults, n.faults == 1 ? "" : "s",
                                 n.unknown + n.pending, n.fail, r->parts, r->parts == 1 ? "" : "s");
    if (refute && r->verdict == TF_LIN_VIOLATION) {
        tf_world_log(w, "NOT linearizable, as expected: %s (%s; checked in %.3f s)", r->summary,
                     what, r->elapsed_us / 1e6);
    } else if (refute && r->verdict == TF_LIN_OK) {
        st = TF_FAIL(error, "the client history is linearizable, but the step expects it not to "
                     "be (%s)", what);
    } else if (r->verdict == TF_LIN_VIOLATION) {
        st = TF_FAIL(error, "the client history is NOT linearizable: %s (%s; the operations "
                     "involved are in linearizability.txt and drawn in linearizability.svg)",
                     r->summary, what);
    } else if (r->verdict == TF_LIN_UNKNOWN) {
        st = TF_FAIL(error, "the linearizability check gave no verdict: %s (%s). A history that "
                     "was not checked proves nothing: allow more time with \"Given the "
                     "linearizability check may take 120 seconds\"", r->summary, what);
    } else if (n.ok < min_ok) {
        st = TF_FAIL(error, "the client history is linearizable but too small to prove anything: "
                     "%u operations completed ok, the step asks for at least %u (%s)",
                     n.ok, min_ok, what);
    } else if (n.ok_during_faults < min_faulted) {
        st = TF_FAIL(error, "the client history is linearizable but shows too little of the "
                     "faults: %u operations completed ok during faults, the step asks for at "
                     "least %u (%s)", n.ok_during_faults, min_faulted, what);
    } else {
        tf_world_log(w, "linearizable: %s; checked in %.3f s (%" G_GUINT64_FORMAT " search steps%s)",
                     what, r->elapsed_us / 1e6, r->steps,
                     r->pruned ? "; unknown ones nobody observed left out" : "");
    }
    g_free(what);
out:
    tf_lin_result_free(r);
    g_ptr_array_unref(ops);
    g_ptr_array_unref(faults);
    return st;
}

static tf_step_status then_linearizable(tf_step *step, GError **error)
{
    return check_history(step, 0, 0, FALSE, error);
}

static tf_step_status then_linearizable_min(tf_step *step, GError **error)
{
    return check_history(step, (guint)MAX(tf_step_arg_int(step, 0), 0), 0, FALSE, error);
}

static tf_step_status then_linearizable_min_faults(tf_step *step, GError **error)
{
    return check_history(step, (guint)MAX(tf_step_arg_int(step, 0), 0),
                         (guint)MAX(tf_step_arg_int(step, 1), 0), FALSE, error);
}

static tf_step_status then_not_linearizable(tf_step *step, GError **error)
{
    return check_history(step, 0, 0, TRUE, error);
}

/* The history goes into the report of every scenario that has one, complete: the clients
 * are stopped first. */
static tf_step_status after_clients(tf_world *world, GError **error)
{
    rk_clients *c = tf_world_get(world, CLIENTS_KEY);
    if (c)
        clients_stop(c);
    return tf_world_ophistory_attach(world, error) ? TF_STEP_PASSED : TF_STEP_FAILED;
}

gboolean raftkv_clients_register(tf_registry *reg, GError **error)
{
    /* clients that read, write and cas, or readers that only read; each through random
     * members or a named one, with linearizable (default) or serializable reads */
    static const char *const starts[] = {
        "{int} client(s) read, write and compare-and-set {int} key(s) through ",
        "{int} client(s) read {int} key(s) through ",
    };
    static const char *const targets[] = {
        "random members", "member {word}", "the leader", "a follower",
        "random members with serializable reads", "member {word} with serializable reads",
        "the leader with serializable reads", "a follower with serializable reads",
        "that follower", "that follower with serializable reads",
    };
    for (guint k = 0; k < G_N_ELEMENTS(starts); k++)
        for (guint i = 0; i < G_N_ELEMENTS(targets); i++) {
            char *pattern = g_strconcat(starts[k], targets[i], NULL);
            gboolean ok = tf_registry_add_step(reg, TF_KEYWORD_GIVEN, pattern, FALSE,
                                               given_clients, __FILE__, __LINE__, error);
            g_free(pattern);
            if (!ok)
                return FALSE;
        }
    TF_WHEN("the clients complete {int} operations", when_complete);
    TF_WHEN("the clients complete {int} more operations", when_complete_more);
    TF_WHEN("the clients stop", when_clients_stop);
    TF_WHEN("that follower is paused", when_follower_paused);
    TF_WHEN("that follower is resumed", when_follower_resumed);
    TF_GIVEN("the linearizability check may take {float} seconds", given_check_limit);
    TF_THEN("the history is linearizable", then_linearizable);
    TF_THEN("the history of at least {int} operations is linearizable", then_linearizable_min);
    TF_THEN("the history of at least {int} operations, {int} of them completed during faults, "
            "is linearizable", then_linearizable_min_faults);
    TF_THEN("the history is not linearizable", then_not_linearizable);
    TF_AFTER_OWN(NULL, after_clients);
    return TRUE;
}
