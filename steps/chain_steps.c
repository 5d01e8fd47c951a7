/* chain_steps.c: Gherkin steps for bitcoin-family clusters (litecoind regtest here). Steps
 * act through the nodes' RPC (mine, partition, heal, send) and read the chain handle;
 * every expectation is a tf_handle_wait with a named condition, never a sleep or a loop.
 * Reorg depths are cross-checked against the node's own view (getblockheader/getchaintips). */
#include <string.h>
#include "chain_steps.h"
#include "net_steps.h"
#include "chain_world.h"

/* The steps' own bound on what they wait for (convergence, a reorg, a confirmation, a
 * target height): on this 2-core machine at load 9-10 a healed partition's nodes were all
 * on the longer branch within 17-192 ms, a restarted node caught up within 0.66-0.85 s
 * (bench_netfaults, 20 events each), and a mined block reaches every node within a second:
 * 60 s leaves more than 60x the worst seen for a loaded CI machine (--timeout-scale for
 * more). */
#define DEFAULT_WAIT (60 * G_USEC_PER_SEC)
#define WALLET "/wallet/tf"
#define CH_LOG_ATTACH (64 * 1024) /* bytes of each node's log attached to a failed scenario */

static tf_snapshot *wait_for(ch_world *ch, tf_predicate pred, void *data, const char *what,
                             gint64 timeout, gint64 fresh_after, GError **error)
{
    tf_wait w = {.pred = pred, .data = data, .what = what, .timeout_us = timeout,
                 .fresh_after = fresh_after, .progress = ch_progress};
    return tf_handle_wait_for(ch->h, &w, error);
}

static void acted(ch_world *ch) { ch_world_acted(ch); }

/* ---- conditions ---------------------------------------------------------------------- */

static gboolean all_reachable(const tf_snapshot *snap, void *data)
{
    const chain_snapshot *s = tf_snapshot_data(snap);
    guint want = GPOINTER_TO_UINT(data), up = 0;
    for (guint i = 0; i < s->n_nodes; i++)
        up += s->nodes[i].reachable && s->nodes[i].height >= 0;
    return s->n_nodes == want && up == want;
}

static gboolean converged(const tf_snapshot *snap, void *data)
{
    const chain_snapshot *s = tf_snapshot_data(snap);
    gint64 min_height = *(gint64 *)data;
    if (!s->n_nodes || s->tip_height < min_height)
        return FALSE;
    for (guint i = 0; i < s->n_nodes; i++)
        if (!s->nodes[i].reachable || strcmp(s->nodes[i].head, s->tip))
            return FALSE;
    return TRUE;
}

static gboolean fork_live(const tf_snapshot *snap, void *data)
{
    return ((const chain_snapshot *)tf_snapshot_data(snap))->live_forks > 0;
}

typedef struct {
    const char *node;
    guint64 base;
} reorg_want;

static gboolean reorg_seen(const tf_snapshot *snap, void *data)
{
    const reorg_want *w = data;
    const chain_node_view *v = chain_snapshot_node(tf_snapshot_data(snap), w->node);
    return v && v->reorgs > w->base;
}

static gboolean target_at(const tf_snapshot *snap, void *data)
{
    return ((const chain_snapshot *)tf_snapshot_data(snap))->target_height >= *(gint64 *)data;
}

static gboolean locals_at_target(const tf_snapshot *snap, void *data)
{
    const chain_snapshot *s = tf_snapshot_data(snap);
    if (!s->target[0] || !s->n_local)
        return FALSE;
    for (guint i = 0; i < s->n_nodes; i++) {
        const chain_node_view *v = &s->nodes[i];
        if (v->is_public)
            continue;
        /* At the target, or past it on the canonical chain that holds it. */
        gboolean at = !strcmp(v->head, s->target) || (v->canonical && v->height >= s->target_height);
        if (!v->reachable || !at)
            return FALSE;
    }
    return TRUE;
}

typedef struct {
    const char *txid;
    gint64 k;
} tx_want;

static gboolean tx_confirmed(const tf_snapshot *snap, void *data)
{
    const tx_want *w = data;
    return chain_snapshot_tx_confirmations(tf_snapshot_data(snap), w->txid, NULL) >= w->k;
}

/* ---- Given ----------------------------------------------------------------------------- */

static guint total_nodes(ch_world *ch)
{
    guint n = 0;
    for (guint i = 0; i < ch->n_clusters; i++)
        n += tf_cluster_size(ch->clusters[i]);
    return n;
}

/* Asks node i of c to connect once to every other node of the same cluster. */
static gboolean connect_within(ch_world *ch, tf_cluster *c, guint i, GError **error)
{
    for (guint j = 0; j < tf_cluster_size(c); j++) {
        if (j == i)
            continue;
        tf_source *src = tf_cluster_node_source(c, j);
        const char *p2p = tf_source_attr_str(src, "p2p");
        GError *err = NULL;
        json_t *r = p2p ? ch_call(ch, tf_cluster_node_name(c, i), NULL, "addnode",
                                  json_pack("[s, s]", p2p, "onetry"), &err)
                        : NULL;
        tf_source_unref(src);
        json_decref(r);
        if (err && !strstr(err->message, "already")) {
            g_propagate_error(error, err);
            return FALSE;
        }
        g_clear_error(&err);
    }
    return TRUE;
}

/* A network fault took effect (net_steps.c): the next "Then" waits for observations
 * made after it; a heal is where reorgs are counted from; the nodes cut off from every
 * other node are "partitioned" (their head may differ from the others'). */
static void on_net_event(void *data, const json_t *ev)
{
    ch_world *ch = data;
    if (!g_strcmp0(json_string_value(json_object_get(ev, "event")), "fault_ended")) {
        tf_snapshot *snap = tf_handle_latest(ch->h);
        const chain_snapshot *s = snap ? tf_snapshot_data(snap) : NULL;
        for (guint i = 0; s && i < s->n_nodes; i++)
            g_hash_table_insert(ch->reorg_base, g_strdup(s->nodes[i].name),
                                GUINT_TO_POINTER((guint)s->nodes[i].reorgs));
        tf_snapshot_unref(snap);
    }
    g_hash_table_remove_all(ch->partitioned);
    for (guint k = 0; k < ch->n_clusters; k++)
        for (guint i = 0; i < tf_cluster_size(ch->clusters[k]); i++)
            if (tf_cluster_node_isolated(ch->clusters[k], i))
                g_hash_table_add(ch->partitioned, g_strdup(tf_cluster_node_name(ch->clusters[k], i)));
    ch->acted_at = json_integer_value(json_object_get(ev, "time"));
    tf_handle_wake(ch->h);
}

static tf_step_status start_cluster(tf_step *step, const char *spec_name, tf_cluster_network net,
                               GError **error)
{
    guint n = (guint)tf_step_arg_int(step, 0);
    ch_world *ch = ch_world_ensure(tf_step_world(step), error);
    if (!ch)
        return TF_STEP_FAILED;
    const tf_gherkin_pickle *p = tf_world_pickle(tf_step_world(step));
    tf_cluster_spec *spec = tf_cluster_spec_load_named(spec_name, p ? p->uri : NULL, error);
    if (!spec || !tf_cluster_spec_require_url(spec, "the chain steps", error)) {
        tf_cluster_spec_free(spec);
        return TF_STEP_FAILED;
    }
    tf_cluster *c = tf_cluster_new_network(spec, n, net, error);
    tf_cluster_spec_free(spec);
    if (!c)
        return TF_STEP_FAILED;
    ch_world_add_cluster(ch, c, TRUE); /* owned by the world from now on, even if start fails */
    /* The network steps act on the namespaced cluster of the scenario (one per world). */
    if (tf_cluster_network_of(c) == TF_CLUSTER_NET_NAMESPACES &&
        !net_world_attach(tf_step_world(step), c, ch->h, 100 * 1000, on_net_event, ch, error))
        return TF_STEP_FAILED;
    if (!tf_cluster_start(c, error))
        return TF_STEP_FAILED;
    /* The spec's -addnode lines connect the nodes eventually; connect them now. */
    for (guint i = 0; i < tf_cluster_size(c); i++)
        if (!connect_within(ch, c, i, error))
            return TF_STEP_FAILED;
    acted(ch);
    char *what = g_strdup_printf("all %u nodes answer the chain observer", total_nodes(ch));
    tf_snapshot *snap = wait_for(ch, all_reachable, GUINT_TO_POINTER(total_nodes(ch)), what,
                                 DEFAULT_WAIT, ch->acted_at, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    tf_world_log(tf_step_world(step), "cluster %s up in %s", tf_cluster_name(c), tf_cluster_dir(c));
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

static tf_step_status given_cluster(tf_step *s, GError **e)
{
    return start_cluster(s, "litecoin-3", TF_CLUSTER_NET_SPEC, e);
}
static tf_step_status given_netns_cluster(tf_step *s, GError **e)
{
    return start_cluster(s, "litecoin-3", TF_CLUSTER_NET_NAMESPACES, e);
}
static tf_step_status given_public(tf_step *s, GError **e)
{
    return start_cluster(s, "litecoin-public-3", TF_CLUSTER_NET_SPEC, e);
}

/* ---- When ---------------------------------------------------------------------------- */

static tf_step_status when_mines(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    const char *node = tf_step_arg_str(step, 0);
    gint64 n = tf_step_arg_int(step, 1);
    const char *addr = ch_address(ch, node, error);
    if (!addr)
        return TF_STEP_FAILED;
    json_t *r = ch_call(ch, node, NULL, "generatetoaddress", json_pack("[I, s]", (json_int_t)n, addr), error);
    if (!r)
        return TF_STEP_FAILED;
    gboolean ok = json_is_array(r) && json_array_size(r) == (size_t)n;
    json_decref(r);
    if (!ok)
        return TF_FAIL(error, "%s: generatetoaddress %" G_GINT64_FORMAT ": unexpected answer", node, n);
    json_t *count = ch_call(ch, node, NULL, "getblockcount", NULL, error);
    if (!count)
        return TF_STEP_FAILED;
    ch->mined_height = MAX(ch->mined_height, json_integer_value(count));
    tf_world_log(tf_step_world(step), "%s mined %" G_GINT64_FORMAT " block(s), now at height %"
                 G_GINT64_FORMAT, node, n, (gint64)json_integer_value(count));
    json_decref(count);
    acted(ch);
    return TF_STEP_PASSED;
}

static tf_step_status when_connects_public(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    const char *node = tf_step_arg_str(step, 0);
    guint linked = 0;
    for (guint k = 0; k < ch->n_clusters; k++) {
        tf_cluster *c = ch->clusters[k];
        for (guint j = 0; j < tf_cluster_size(c); j++) {
            tf_source *src = tf_cluster_node_source(c, j);
            const char *p2p = tf_source_attr_str(src, "p2p");
            gboolean pub = !g_strcmp0(tf_source_attr_str(src, "role"), "public");
            json_t *r = pub && p2p ? ch_call(ch, node, NULL, "addnode", json_pack("[s, s]", p2p, "onetry"), error)
                                   : NULL;
            tf_source_unref(src);
            if (pub && !r)
                return TF_STEP_FAILED;
            linked += pub;
            json_decref(r);
        }
    }
    if (!linked)
        return TF_FAIL(error, "no public peers in this scenario: start them with "
                       "\"Given a 3-node public litecoin regtest network is running\"");
    tf_world_log(tf_step_world(step), "%s connected to %u public peer(s)", node, linked);
    acted(ch);
    return TF_STEP_PASSED;
}

typedef struct {
    ch_world *ch;
    const char *from, *to, *addr;
    double amount;
} transfer;

static json_t *send_effect(void *data, GError **error)
{
    transfer *t = data;
    json_t *r = ch_call(t->ch, t->from, WALLET, "sendtoaddress", json_pack("[s, f]", t->addr, t->amount), error);
    if (r && !json_is_string(r))
        g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: sendtoaddress: no txid in the answer", t->from);
    json_t *done = r && json_is_string(r) ? json_pack("{s:O, s:s, s:s}", "txid", r, "from", t->from, "to", t->to) : NULL;
    json_decref(r);
    return done;
}

/* A payment is an idempotent effect keyed by the exact transfer (sender and receiver
 * addresses, amount; tf_world_effect_once adds the scenario's place): with a store, a
 * retried scenario or a restarted runner that already sent it reuses the recorded txid
 * instead of paying twice. */
static tf_step_status when_sends(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    const char *from = tf_step_arg_str(step, 0), *to = tf_step_arg_str(step, 2);
    double amount = tf_step_arg_double(step, 1);
    const char *addr = ch_address(ch, to, error);
    const char *from_addr = addr ? ch_address(ch, from, error) : NULL;
    if (!addr || !from_addr)
        return TF_STEP_FAILED;
    json_t *input = json_pack("{s:s, s:s, s:f}", "from", from_addr, "to", addr, "amount", amount);
    transfer t = {ch, from, to, addr, amount};
    gboolean replayed;
    json_t *done = tf_world_effect_once(tf_step_world(step), "chain.send", input,
                                        tf_step_timeout(step) + 60 * G_USEC_PER_SEC, send_effect,
                                        &t, &replayed, error);
    json_decref(input);
    const char *txid = json_string_value(json_object_get(done, "txid"));
    if (done && !txid)
        g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT, "%s -> %s: recorded payment without a txid", from, to);
    if (!txid) {
        json_decref(done);
        return TF_STEP_FAILED;
    }
    g_free(ch->txid);
    ch->txid = g_strdup(txid);
    g_free(ch->tx_sender);
    ch->tx_sender = g_strdup(from);
    json_decref(done);
    if (replayed)
        tf_world_log(tf_step_world(step), "%s sent %.8g to %s in an earlier attempt: tx %s, not sent again",
                     from, amount, to, ch->txid);
    else
        tf_world_log(tf_step_world(step), "%s sent %.8g to %s: tx %s", from, amount, to, ch->txid);
    acted(ch);
    return TF_STEP_PASSED;
}

/* ---- Then ---------------------------------------------------------------------------- */

static tf_step_status then_converge(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    gint64 min = ch->mined_height;
    char *what = g_strdup_printf("every node on one tip at height >= %" G_GINT64_FORMAT, min);
    tf_snapshot *snap = wait_for(ch, converged, &min, what,
                                 (gint64)(tf_step_arg_double(step, 0) * G_USEC_PER_SEC), ch->acted_at, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    const chain_snapshot *s = tf_snapshot_data(snap);
    tf_world_log(tf_step_world(step), "%u nodes on %s at height %" G_GINT64_FORMAT ", %.2f s after the last action",
                 s->n_nodes, s->tip, s->tip_height,
                 (tf_snapshot_time(snap) - ch->acted_at) / (double)G_USEC_PER_SEC);
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

static tf_step_status then_fork(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    tf_snapshot *snap = wait_for(ch, fork_live, NULL, "a live fork (a reachable node off the canonical chain)",
                                 DEFAULT_WAIT, ch->acted_at, error);
    if (!snap)
        return TF_STEP_FAILED;
    const chain_snapshot *s = tf_snapshot_data(snap);
    for (guint i = 0; i < s->forks->len; i++) {
        const chain_fork *f = s->forks->pdata[i];
        if (f->nodes && f->nodes[0])
            tf_world_log(tf_step_world(step), "fork at height %" G_GINT64_FORMAT ": branch of %" G_GINT64_FORMAT
                         " block(s) held by %s, canonical tip at %" G_GINT64_FORMAT,
                         f->fork_height, f->length, f->nodes[0], s->tip_height);
    }
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

/* confirmations of block hash on node, or G_MININT64 + error. */
static gint64 confirmations(ch_world *ch, const char *node, const char *hash, char parent[CHAIN_HASH_BUF],
                            GError **error)
{
    json_t *h = ch_call(ch, node, NULL, "getblockheader", json_pack("[s]", hash), error);
    if (!h)
        return G_MININT64;
    gint64 c = json_integer_value(json_object_get(h, "confirmations"));
    if (parent)
        g_strlcpy(parent, json_string_value(json_object_get(h, "previousblockhash")) ?: "", CHAIN_HASH_BUF);
    json_decref(h);
    return c;
}

/* Cross-checks a reorg against the node: every abandoned block reports confirmations -1,
 * the common ancestor is on its active chain, and getchaintips (when it lists the old
 * tip) gives the same branch length. Returns FALSE + error describing the mismatch. */
static gboolean check_reorg_on_node(ch_world *ch, const char *node, const chain_event_head *r,
                                    GString *log, GError **error)
{
    char cur[CHAIN_HASH_BUF], parent[CHAIN_HASH_BUF];
    g_strlcpy(cur, r->old_tip, sizeof cur);
    for (gint64 k = 0; k < r->depth; k++) {
        gint64 c = confirmations(ch, node, cur, parent, error);
        if (c == G_MININT64)
            return FALSE;
        if (c != -1) {
            g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s: block %s (%" G_GINT64_FORMAT " below the old tip) "
                        "has %" G_GINT64_FORMAT " confirmations, but the observer counts it abandoned",
                        node, cur, k, c);
            return FALSE;
        }
        g_strlcpy(cur, parent, sizeof cur);
    }
    if (strcmp(cur, r->common_ancestor)) {
        g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s: %" G_GINT64_FORMAT " blocks below the old tip is %s, "
                    "the observer says the common ancestor is %s", node, r->depth, cur, r->common_ancestor);
        return FALSE;
    }
    gint64 c = confirmations(ch, node, cur, NULL, error);
    if (c == G_MININT64)
        return FALSE;
    if (c < 1) {
        g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s: the common ancestor %s is not on its active chain "
                    "(confirmations %" G_GINT64_FORMAT ")", node, cur, c);
        return FALSE;
    }
    g_string_append_printf(log, "%s agrees: %" G_GINT64_FORMAT " abandoned block(s) report confirmations -1, "
                           "ancestor %.16s has %" G_GINT64_FORMAT, node, r->depth, cur, c);
    json_t *tips = ch_call(ch, node, NULL, "getchaintips", NULL, error);
    if (!tips)
        return FALSE;
    size_t i;
    json_t *t;
    gboolean listed = FALSE;
    json_array_foreach(tips, i, t) {
        if (g_strcmp0(json_string_value(json_object_get(t, "hash")), r->old_tip))
            continue;
        listed = TRUE;
        gint64 len = json_integer_value(json_object_get(t, "branchlen"));
        if (len != r->depth) {
            g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "%s: getchaintips gives the old branch length %"
                        G_GINT64_FORMAT ", the observer a reorg depth of %" G_GINT64_FORMAT, node, len, r->depth);
            json_decref(tips);
            return FALSE;
        }
    }
    g_string_append_printf(log, "; getchaintips %s", listed ? "lists the old tip with the same branch length"
                                                             : "lists only the active branch");
    json_decref(tips);
    return TRUE;
}

static tf_step_status then_reorg(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    gint64 depth = tf_step_arg_int(step, 0);
    const char *node = tf_step_arg_str(step, 1);
    reorg_want w = {node, GPOINTER_TO_UINT(g_hash_table_lookup(ch->reorg_base, node))};
    char *what = g_strdup_printf("a reorg on %s", node);
    tf_snapshot *snap = wait_for(ch, reorg_seen, &w, what, DEFAULT_WAIT, 0, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    const chain_node_view *v = chain_snapshot_node(tf_snapshot_data(snap), node);
    chain_event_head r = v->last_reorg;
    tf_snapshot_unref(snap);
    if (r.depth != depth)
        return TF_FAIL(error, "%s: reorg of depth %" G_GINT64_FORMAT " observed (old tip %s at %" G_GINT64_FORMAT
                       ", ancestor at %" G_GINT64_FORMAT "), expected depth %" G_GINT64_FORMAT,
                       node, r.depth, r.old_tip, r.old_height, r.ancestor_height, depth);
    GString *log = g_string_new(NULL);
    gboolean ok = check_reorg_on_node(ch, node, &r, log, error);
    tf_world_log(tf_step_world(step), "reorg on %s: depth %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                 " block(s) added, ancestor at height %" G_GINT64_FORMAT ". %s",
                 node, r.depth, r.added, r.ancestor_height, log->str);
    g_string_free(log, TRUE);
    return ok ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status then_target_height(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    gint64 h = tf_step_arg_int(step, 0);
    char *what = g_strdup_printf("the public majority target at height >= %" G_GINT64_FORMAT, h);
    tf_snapshot *snap = wait_for(ch, target_at, &h, what, DEFAULT_WAIT, ch->acted_at, error);
    g_free(what);
    tf_snapshot_unref(snap);
    return snap ? TF_STEP_PASSED : TF_STEP_FAILED;
}

static tf_step_status then_locals_at_target(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    tf_snapshot *snap = wait_for(ch, locals_at_target, NULL, "every local node at the public majority target",
                                 DEFAULT_WAIT, ch->acted_at, error);
    if (!snap)
        return TF_STEP_FAILED;
    const chain_snapshot *s = tf_snapshot_data(snap);
    tf_world_log(tf_step_world(step), "%u local node(s) reached the target %s at height %" G_GINT64_FORMAT
                 " agreed by %u public peer(s)", s->n_local, s->target, s->target_height, s->n_public_reachable);
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

static tf_step_status then_locals_not_at_target(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    tf_snapshot *snap = tf_handle_wait_fresh(ch->h, g_get_monotonic_time(), DEFAULT_WAIT, error);
    if (!snap)
        return TF_STEP_FAILED;
    gboolean at = locals_at_target(snap, NULL);
    gint64 target = ((const chain_snapshot *)tf_snapshot_data(snap))->target_height;
    tf_snapshot_unref(snap);
    return at ? TF_FAIL(error, "the local nodes are already at the public target (height %" G_GINT64_FORMAT ")", target)
              : TF_STEP_PASSED;
}

static tf_step_status then_tx_included(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return TF_STEP_FAILED;
    if (!ch->txid)
        return TF_FAIL(error, "no transaction was sent in this scenario");
    tx_want w = {ch->txid, tf_step_arg_int(step, 0)};
    char *what = g_strdup_printf("tx %.16s.. in the canonical chain with %" G_GINT64_FORMAT " confirmations",
                                 ch->txid, w.k);
    tf_snapshot *snap = wait_for(ch, tx_confirmed, &w, what, DEFAULT_WAIT, ch->acted_at, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    char block[CHAIN_HASH_BUF];
    gint64 got = chain_snapshot_tx_confirmations(tf_snapshot_data(snap), ch->txid, block);
    tf_snapshot_unref(snap);
    /* The sender's wallet must agree on the block. */
    json_t *tx = ch_call(ch, ch->tx_sender, WALLET, "gettransaction", json_pack("[s]", ch->txid), error);
    if (!tx)
        return TF_STEP_FAILED;
    const char *wallet_block = json_string_value(json_object_get(tx, "blockhash"));
    gint64 wallet_conf = json_integer_value(json_object_get(tx, "confirmations"));
    tf_step_status st = g_strcmp0(wallet_block, block)
                       ? TF_FAIL(error, "the observer has tx %s in block %s, the wallet of %s in %s", ch->txid,
                                 block, ch->tx_sender, wallet_block ? wallet_block : "no block")
                       : TF_STEP_PASSED;
    if (st == TF_STEP_PASSED)
        tf_world_log(tf_step_world(step), "tx %s in block %s: %" G_GINT64_FORMAT " confirmations (wallet: %"
                     G_GINT64_FORMAT ")", ch->txid, block, got, wallet_conf);
    json_decref(tx);
    return st;
}

/* ---- After: events and logs -------------------------------------------------------------- */

static tf_step_status after_chain(tf_world *world, GError **error)
{
    net_world_report(world); /* the faults of this scenario's cluster, if any */
    ch_world *ch = tf_world_get(world, "chain");
    if (!ch)
        return TF_STEP_PASSED;
    json_t *events = json_array();
    GPtrArray *hist = tf_handle_batches(ch->h);
    for (guint i = 0; i < hist->len; i++) {
        tf_batch *b = hist->pdata[i];
        json_t *bj = tf_batch_to_json(b);
        /* block_discovered is noise at 100+ blocks a scenario: keep the rest. */
        json_t *evs = json_object_get(bj, "events"), *kept = json_array();
        size_t k;
        json_t *ev;
        json_array_foreach(evs, k, ev)
            if (g_strcmp0(json_string_value(json_object_get(ev, "type")), "block_discovered"))
                json_array_append(kept, ev);
        json_object_set_new(bj, "events", kept);
        if (json_array_size(kept))
            json_array_append(events, bj);
        json_decref(bj);
    }
    g_ptr_array_unref(hist);
    char *text = json_dumps(events, JSON_COMPACT);
    tf_world_attach(world, text, strlen(text), "application/json", "chain-events.json");
    free(text);
    json_decref(events);
    if (tf_world_status(world) == TF_STEP_FAILED) {
        /* The logs a failure names: in the report, and kept on disk past the scenario. */
        for (guint k = 0; k < ch->n_clusters; k++) {
            for (guint i = 0; i < tf_cluster_size(ch->clusters[k]); i++) {
                for (int which = TF_CLUSTER_LOG_STDOUT; which <= TF_CLUSTER_LOG_STDERR; which++) {
                    char *tail = tf_cluster_node_log_tail(ch->clusters[k], i, which, CH_LOG_ATTACH);
                    char *name = g_strdup_printf("%s.%s.log", tf_cluster_node_name(ch->clusters[k], i),
                                                 which == TF_CLUSTER_LOG_STDOUT ? "stdout" : "stderr");
                    if (*tail || which == TF_CLUSTER_LOG_STDOUT)
                        tf_world_attach(world, tail, strlen(tail), "text/plain", name);
                    g_free(name);
                    g_free(tail);
                }
            }
            /* A borrowed network outlives the scenario: its owner decides what it keeps. */
            const char *kept = ch->owned[k] ? tf_cluster_keep_logs(ch->clusters[k]) : NULL;
            if (kept)
                tf_world_log(world, "node logs kept in %s", kept);
        }
    }
    return TF_STEP_PASSED;
}

gboolean chain_steps_register(tf_registry *reg, GError **error)
{
    TF_GIVEN("a {int}-node litecoin regtest cluster is running", given_cluster);
    TF_GIVEN("a {int}-node litecoin regtest cluster is running in network namespaces",
             given_netns_cluster);
    TF_GIVEN("a {int}-node public litecoin regtest network is running", given_public);
    TF_WHEN("node {word} mines {int} block(s)", when_mines);
    TF_WHEN("node {word} connects to the public network", when_connects_public);
    TF_WHEN("node {word} sends {float} coins to node {word}", when_sends);
    TF_THEN("all nodes converge on one tip within {float} seconds", then_converge);
    TF_THEN("a fork is observed", then_fork);
    TF_THEN("a reorg of depth {int} is observed on node {word}", then_reorg);
    TF_THEN("the public majority target reaches height {int}", then_target_height);
    TF_THEN("local nodes reach the public majority target", then_locals_at_target);
    TF_THEN("local nodes are not at the public majority target", then_locals_not_at_target);
    TF_THEN("the transaction is included with {int} confirmations", then_tx_included);
    TF_AFTER_OWN(NULL, after_chain);
    return TRUE;
}
