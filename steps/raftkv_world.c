/* raftkv_world.c: the Raft KV scenario world: cluster + runtime lifetime, acknowledged
 * writes, and a background writer. The writer paces itself with a timed wait on its stop
 * condition; it is an actor (a client of the system), not a poller of state. */
#include <string.h>
#include "raftkv/etcd_kv.h"
#include "net_steps.h"
#include "raftkv_world.h"

static void rk_world_free(void *p)
{
    rk_world *rk = p;
    rk_writer_stop(rk);
    tf_handle_unref(rk->h);
    tf_runtime_free(rk->rt);     /* stop observing before the nodes go away */
    tf_cluster_free(rk->cluster); /* kills and reaps every node, removes the temp dir */
    tf_http_free(rk->http);
    g_hash_table_unref(rk->acked);
    pthread_mutex_destroy(&rk->lock);
    pthread_cond_destroy(&rk->cond);
    g_free(rk->old_leader);
    g_free(rk->isolated);
    g_free(rk->leader_at_fault);
    g_free(rk);
}

void rk_world_fault(void *p, const json_t *event)
{
    rk_world *rk = p;
    rk->acted_at = json_integer_value(json_object_get(event, "time"));
    tf_snapshot *snap = tf_handle_latest(rk->h);
    const raftkv_snapshot *s = snap ? tf_snapshot_data(snap) : NULL;
    g_free(rk->leader_at_fault);
    rk->leader_at_fault = s && s->leader ? g_strdup(s->leader) : NULL;
    rk->term_at_fault = s ? s->leader_term : 0;
    tf_snapshot_unref(snap);
    tf_handle_wake(rk->h);
}

rk_world *rk_world_new(tf_world *world, tf_cluster *cluster, gint64 interval_us, GError **error)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = interval_us;
    /* A paused node must not stall a cycle: 300 ms; with a longer interval (network
     * namespaces: 150 ms) 50 ms under two intervals, so no slow member makes one cycle
     * start more than two intervals after the one before (net_steps' gap check). */
    cfg.request_timeout_us = interval_us > 100 * 1000 ? MIN(300 * 1000, 2 * interval_us - 50 * 1000)
                                                      : 300 * 1000;
    cfg.stale_after_us = G_USEC_PER_SEC;
    cfg.snapshot_history = (guint)(600 * G_USEC_PER_SEC / interval_us); /* 10 minutes of timeline */
    cfg.event_history = 4096;
    tf_runtime *rt = tf_runtime_new(&cfg, &raftkv_observer, NULL, tf_cluster_provider(cluster), error);
    if (!rt || !tf_world_journal_runtime(world, rt, "raftkv", error)) {
        tf_runtime_free(rt);
        tf_cluster_free(cluster);
        return NULL;
    }
    rk_world *rk = g_new0(rk_world, 1);
    rk->cluster = cluster;
    rk->rt = rt;
    rk->h = tf_runtime_handle(rt);
    rk->http = tf_http_new();
    rk->seed = tf_world_seed(world);
    rk->interval_us = cfg.interval_us;
    rk->acked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    pthread_mutex_init(&rk->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&rk->cond, &attr);
    pthread_condattr_destroy(&attr);
    tf_world_set(world, "raftkv", rk, rk_world_free);
    if (!tf_runtime_start(rt, error))
        return NULL;
    return rk;
}

rk_world *rk_world_get(tf_step *step, GError **error)
{
    rk_world *rk = tf_world_get(tf_step_world(step), "raftkv");
    if (!rk)
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "no etcd cluster in this scenario: start one with "
                    "\"Given a 3-node etcd cluster is running\"");
    return rk;
}

void rk_world_acked(rk_world *rk, const char *key, const char *value)
{
    pthread_mutex_lock(&rk->lock);
    g_hash_table_insert(rk->acked, g_strdup(key), g_strdup(value));
    rk->writes_acked++;
    pthread_mutex_unlock(&rk->lock);
}

gint rk_node(rk_world *rk, const char *name, GError **error)
{
    return net_node_index(rk->cluster, name, error);
}

char *rk_write_target(rk_world *rk, const tf_snapshot *view, const char **node)
{
    if (node)
        *node = NULL;
    tf_snapshot *snap = view ? tf_snapshot_ref((tf_snapshot *)view) : tf_handle_latest(rk->h);
    if (!snap)
        return NULL;
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    const raftkv_node *pick = s->leader ? raftkv_snapshot_node(s, s->leader) : NULL;
    if (!pick || !pick->reachable)
        for (guint i = 0; i < s->n && (!pick || !pick->reachable); i++)
            pick = &s->nodes[i];
    char *url = NULL;
    if (pick && pick->reachable) {
        gint i = tf_cluster_node_index(rk->cluster, pick->name);
        url = i >= 0 ? g_strdup(tf_cluster_node_url(rk->cluster, i)) : NULL;
        if (url && node)
            *node = tf_cluster_node_name(rk->cluster, (guint)i);
    }
    tf_snapshot_unref(snap);
    return url;
}

static gpointer writer_main(gpointer data)
{
    rk_world *rk = data;
    tf_http *http = tf_http_new();
    guint n = 0;
    /* The workload's pacing comes from the scenario's seed: a run replays with its seed. */
    guint32 words[2] = {(guint32)rk->seed, (guint32)(rk->seed >> 32)};
    GRand *rand = g_rand_new_with_seed_array(words, 2);
    pthread_mutex_lock(&rk->lock);
    while (!rk->writer_stop) {
        pthread_mutex_unlock(&rk->lock);
        char *url = rk_write_target(rk, NULL, NULL);
        char key[32], value[32];
        g_snprintf(key, sizeof key, "bg/%06u", n);
        g_snprintf(value, sizeof value, "v%u", n);
        GError *err = NULL;
        gboolean ok = url && raftkv_etcd_put(http, url, key, value, G_USEC_PER_SEC, &err);
        g_clear_error(&err);
        g_free(url);
        if (ok)
            rk_world_acked(rk, key, value);
        n++;
        pthread_mutex_lock(&rk->lock);
        if (!ok)
            rk->write_failures++;
        /* Pace: one write every 10-30 ms (20 on average), ended at once by rk_writer_stop. */
        gint64 until = g_get_monotonic_time() + g_rand_int_range(rand, 10000, 30001);
        struct timespec ts = {until / G_USEC_PER_SEC, (until % G_USEC_PER_SEC) * 1000};
        while (!rk->writer_stop && pthread_cond_timedwait(&rk->cond, &rk->lock, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&rk->lock);
    g_rand_free(rand);
    tf_http_free(http);
    return NULL;
}

void rk_writer_start(rk_world *rk)
{
    if (rk->writer)
        return;
    rk->writer_stop = FALSE;
    rk->writer = g_thread_new("raftkv-writer", writer_main, rk);
}

void rk_writer_stop(rk_world *rk)
{
    if (!rk->writer)
        return;
    pthread_mutex_lock(&rk->lock);
    rk->writer_stop = TRUE;
    pthread_cond_broadcast(&rk->cond);
    pthread_mutex_unlock(&rk->lock);
    g_thread_join(rk->writer);
    rk->writer = NULL;
}

char *rk_progress(const tf_snapshot *snap, void *unused)
{
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    GString *p = g_string_new(NULL);
    if (s->leader)
        g_string_append_printf(p, "leader %s (term %" G_GUINT64_FORMAT ")", s->leader, s->leader_term);
    else
        g_string_append(p, "no leader");
    g_string_append_printf(p, ", %u/%u nodes up, %s", s->reachable, s->n, s->quorum ? "quorum" : "no quorum");
    return g_string_free(p, FALSE);
}
