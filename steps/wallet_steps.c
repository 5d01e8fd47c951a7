/* wallet_steps.c: Gherkin steps for the wallet projection over litecoind regtest clusters.
 * The cluster, mining by node, partitions and healing are the chain steps' (this module
 * reuses their world); these steps declare node wallets, pay between them, mine to them,
 * and wait on the wallet observer's handle: inclusion, reverts, balances, and an exact
 * comparison of every wallet with its node's listunspent. */
#include <math.h>
#include <string.h>
#include "chain_world.h"
#include "wallet_steps.h"
#include "wallet/observer.h"

/* Under the runner's 60 s step timeout, so our message names the condition. What it waits
 * for (a payment seen, confirmed, reorganised away) follows block relay between local
 * regtest nodes, which is under a second here even at load 9-10 (bench_netfaults): 45 s
 * is more than 45x that. */
#define WAIT (45 * G_USEC_PER_SEC)
#define N_ADDR 3   /* tracked addresses per wallet: payments, change and coinbases use them */

typedef struct {
    ch_world *ch;                 /* borrowed: the chain steps' world owns the clusters */
    tf_world *world;              /* borrowed: the scenario's world, which owns this */
    wallet_observer_config cfg;
    tf_runtime *rt;
    tf_handle *h;
    GPtrArray *names;             /* declared wallets, in order */
    GHashTable *node_of;          /* wallet -> node name */
    GHashTable *addrs;            /* wallet -> char** (N_ADDR) */
    guint rr;                     /* round-robin over addresses */
    char *txid, *payer;           /* the last payment */
    gint64 acted_at;
} wl_world;

static void wl_world_free(void *p)
{
    wl_world *w = p;
    tf_handle_unref(w->h);
    tf_runtime_free(w->rt);
    wallet_observer_config_clear(&w->cfg);
    g_ptr_array_unref(w->names);
    g_hash_table_unref(w->node_of);
    g_hash_table_unref(w->addrs);
    g_free(w->txid);
    g_free(w->payer);
    g_free(w);
}

static wl_world *wl_get(tf_step *step, GError **error)
{
    ch_world *ch = ch_world_get(step, error);
    if (!ch)
        return NULL;
    tf_world *world = tf_step_world(step);
    wl_world *w = tf_world_get(world, "wallet");
    if (w)
        return w;
    w = g_new0(wl_world, 1);
    w->ch = ch;
    w->world = world;
    wallet_observer_config_init(&w->cfg);
    w->cfg.chain.long_poll = TRUE;
    w->names = g_ptr_array_new_with_free_func(g_free);
    w->node_of = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    w->addrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
    tf_world_set(world, "wallet", w, wl_world_free);
    return w;
}

/* The running wallet observer; started on the first step that needs it, once every wallet
 * is declared (the projection tracks a fixed set from the root block on). */
static gboolean wl_runtime(wl_world *w, GError **error)
{
    if (w->rt)
        return TRUE;
    if (!w->names->len) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "no wallet declared: add \"Given wallet NAME on node NODE\"");
        return FALSE;
    }
    tf_runtime_config rc;
    tf_runtime_config_init(&rc);
    rc.interval_us = 100 * 1000;
    rc.request_timeout_us = 10 * G_USEC_PER_SEC;
    rc.stale_after_us = 20 * G_USEC_PER_SEC;
    rc.event_history = 8192;
    rc.snapshot_history = 16;
    /* One provider per cluster the chain world started. */
    tf_source_provider *prov = tf_cluster_provider(w->ch->clusters[0]);
    if (w->ch->n_clusters > 1) {
        tf_source_provider_free(prov);
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "wallet steps observe one cluster; this scenario has %u",
                    w->ch->n_clusters);
        return FALSE;
    }
    /* With a store, per-header wallet deltas are cached there (a restart reuses them). */
    tf_lookup found = tf_world_store(w->world, &w->cfg.store, error);
    if (found == TF_LOOKUP_FOUND)
        found = tf_world_run(w->world, &w->cfg.run, error);
    if (found == TF_LOOKUP_FAILED) {
        tf_source_provider_free(prov);
        return FALSE;
    }
    w->rt = tf_runtime_new(&rc, &wallet_observer, &w->cfg, prov, error);
    if (!w->rt || !tf_world_journal_runtime(w->world, w->rt, "wallet", error) ||
        !tf_runtime_start(w->rt, error))
        return FALSE;
    w->h = tf_runtime_handle(w->rt);
    return TRUE;
}

static void acted(wl_world *w)
{
    w->acted_at = g_get_monotonic_time();
    ch_world_acted(w->ch); /* the chain steps' waits must also see past this action */
    if (w->h)
        tf_handle_wake(w->h);
}

static char *wl_progress(const tf_snapshot *snap, void *unused)
{
    const wallet_snapshot *s = tf_snapshot_data(snap);
    GString *p = g_string_new(NULL);
    for (guint i = 0; s->chain && i < s->chain->n_nodes; i++)
        g_string_append_printf(p, "%s h=%" G_GINT64_FORMAT " %.8s, ", s->chain->nodes[i].name,
                               s->chain->nodes[i].height, s->chain->nodes[i].head);
    g_string_append_printf(p, "projection tip %" G_GINT64_FORMAT, s->tip_height);
    for (guint i = 0; i < s->n_wallets; i++)
        g_string_append_printf(p, ", %s %.8f", s->wallets[i].name, s->wallets[i].balance / 1e8);
    return g_string_free(p, FALSE);
}

static tf_snapshot *wl_wait(wl_world *w, tf_predicate pred, void *data, const char *what,
                            gint64 fresh_after, GError **error)
{
    tf_wait wt = {.pred = pred, .data = data, .what = what, .timeout_us = WAIT,
                  .fresh_after = fresh_after, .progress = wl_progress};
    return tf_handle_wait_for(w->h, &wt, error);
}

static const char *wallet_node(wl_world *w, const char *name, GError **error)
{
    const char *node = g_hash_table_lookup(w->node_of, name);
    if (!node)
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "no wallet %s in this scenario (declare it with "
                    "\"Given wallet %s on node NODE\")", name, name);
    return node;
}

static char *wallet_path(const char *name)
{
    return g_strdup_printf("/wallet/%s", name);
}

/* Coins (a step's float) to exact litoshis and to the 8-decimal string the node parses. */
static gint64 coins_to_sat(double coins)
{
    return (gint64)llround(coins * 1e8);
}

static char *sat_str(gint64 sat)
{
    return g_strdup_printf("%" G_GINT64_FORMAT ".%08" G_GINT64_FORMAT, sat / 100000000, sat % 100000000);
}

/* ---- Given ----------------------------------------------------------------------------- */

static tf_step_status given_wallet(tf_step *step, GError **error)
{
    wl_world *w = wl_get(step, error);
    if (!w)
        return TF_STEP_FAILED;
    const char *name = tf_step_arg_str(step, 0), *node = tf_step_arg_str(step, 1);
    if (w->rt)
        return TF_FAIL(error, "wallet %s: wallets are declared before the first wallet action", name);
    if (g_hash_table_contains(w->node_of, name))
        return TF_FAIL(error, "wallet %s is already declared", name);
    json_t *r = ch_call(w->ch, node, NULL, "createwallet", json_pack("[s]", name), error);
    if (!r)
        return TF_STEP_FAILED;
    json_decref(r);
    char *path = wallet_path(name);
    char **addrs = g_new0(char *, N_ADDR + 1);
    for (guint i = 0; i < N_ADDR; i++) {
        json_t *a = ch_call(w->ch, node, path, "getnewaddress", NULL, error);
        if (!json_is_string(a)) {
            json_decref(a);
            g_strfreev(addrs);
            g_free(path);
            return TF_STEP_FAILED;
        }
        addrs[i] = g_strdup(json_string_value(a));
        json_decref(a);
    }
    g_free(path);
    wallet_observer_config_add_wallet(&w->cfg, name, (const char *const *)addrs);
    g_ptr_array_add(w->names, g_strdup(name));
    g_hash_table_insert(w->node_of, g_strdup(name), g_strdup(node));
    tf_world_log(tf_step_world(step), "wallet %s on %s tracks %s, %s, %s", name, node, addrs[0], addrs[1], addrs[2]);
    g_hash_table_insert(w->addrs, g_strdup(name), addrs);
    return TF_STEP_PASSED;
}

/* ---- When ------------------------------------------------------------------------------ */

static const char *next_addr(wl_world *w, const char *name)
{
    char **a = g_hash_table_lookup(w->addrs, name);
    return a[w->rr++ % N_ADDR];
}

static tf_step_status when_wallet_mines(tf_step *step, GError **error)
{
    wl_world *w = wl_get(step, error);
    const char *name = tf_step_arg_str(step, 0);
    const char *node = w ? wallet_node(w, name, error) : NULL;
    if (!node || !wl_runtime(w, error))
        return TF_STEP_FAILED;
    gint64 n = tf_step_arg_int(step, 1);
    json_t *r = ch_call(w->ch, node, NULL, "generatetoaddress",
                        json_pack("[I, s]", (json_int_t)n, next_addr(w, name)), error);
    if (!r)
        return TF_STEP_FAILED;
    gboolean ok = json_is_array(r) && json_array_size(r) == (size_t)n;
    tf_world_log(tf_step_world(step), "%s mined %" G_GINT64_FORMAT " block(s) for wallet %s, last %s", node, n,
                 name, ok ? json_string_value(json_array_get(r, n - 1)) : "?");
    json_decref(r);
    acted(w);
    return ok ? TF_STEP_PASSED : TF_FAIL(error, "%s: generatetoaddress %" G_GINT64_FORMAT ": unexpected answer", node, n);
}

static tf_step_status when_pays(tf_step *step, GError **error)
{
    wl_world *w = wl_get(step, error);
    const char *from = tf_step_arg_str(step, 0), *to = tf_step_arg_str(step, 2);
    const char *node = w ? wallet_node(w, from, error) : NULL;
    if (!node || !wallet_node(w, to, error) || !wl_runtime(w, error))
        return TF_STEP_FAILED;
    gint64 sat = coins_to_sat(tf_step_arg_double(step, 1));
    char *value = sat_str(sat), *path = wallet_path(from);
    json_t *outputs = json_array();
    json_array_append_new(outputs, json_pack("{s:s}", next_addr(w, to), value));
    /* Change to a tracked address: the node would otherwise pick a fresh one we do not know. */
    json_t *opts = json_pack("{s:s}", "change_address", next_addr(w, from));
    json_t *r = ch_call(w->ch, node, path, "send", json_pack("[o, n, s, n, o]", outputs, "unset", opts), error);
    g_free(path);
    const char *txid = json_string_value(json_object_get(r, "txid"));
    if (!txid) {
        json_decref(r);
        g_free(value);
        return r ? TF_FAIL(error, "wallet %s: send: no txid in the answer", from) : TF_STEP_FAILED;
    }
    g_free(w->txid);
    g_free(w->payer);
    w->txid = g_strdup(txid);
    w->payer = g_strdup(from);
    tf_world_log(tf_step_world(step), "wallet %s paid %s coins to wallet %s: tx %s", from, value, to, txid);
    json_decref(r);
    g_free(value);
    acted(w);
    return TF_STEP_PASSED;
}

/* ---- Then ------------------------------------------------------------------------------ */

typedef struct {
    const char *txid;
    gint64 k;
    tf_handle *h;
} tx_want;

static gboolean tx_included(const tf_snapshot *snap, void *data)
{
    const tx_want *t = data;
    return wallet_snapshot_tx_included(tf_snapshot_data(snap), t->txid, (guint)t->k);
}

static tf_step_status then_included(tf_step *step, GError **error)
{
    wl_world *w = wl_get(step, error);
    if (!w || !wl_runtime(w, error))
        return TF_STEP_FAILED;
    if (!w->txid)
        return TF_FAIL(error, "no payment was made in this scenario");
    tx_want t = {w->txid, tf_step_arg_int(step, 0), NULL};
    char *what = g_strdup_printf("payment %.16s.. on the canonical chain with %" G_GINT64_FORMAT " confirmation(s)",
                                 w->txid, t.k);
    tf_snapshot *snap = wl_wait(w, tx_included, &t, what, w->acted_at, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    const wallet_snapshot *s = tf_snapshot_data(snap);
    gint64 conf = wallet_snapshot_tx_confirmations(s, w->txid);
    /* The payer's node agrees when it is on the projection's canonical tip. */
    const chain_node_view *v = chain_snapshot_node(s->chain, g_hash_table_lookup(w->node_of, w->payer));
    tf_step_status st = TF_STEP_PASSED;
    if (v && !strcmp(v->head, s->tip)) {
        char *path = wallet_path(w->payer);
        json_t *tx = ch_call(w->ch, v->name, path, "gettransaction", json_pack("[s]", w->txid), error);
        g_free(path);
        gint64 node_conf = tx ? json_integer_value(json_object_get(tx, "confirmations")) : -1;
        if (!tx)
            st = TF_STEP_FAILED;
        else if (node_conf < conf)
            st = TF_FAIL(error, "the projection gives payment %s %" G_GINT64_FORMAT " confirmation(s), wallet %s on "
                         "%s only %" G_GINT64_FORMAT, w->txid, conf, w->payer, v->name, node_conf);
        else
            tf_world_log(tf_step_world(step), "payment %s: %" G_GINT64_FORMAT " confirmation(s) on tip %s (wallet "
                         "%s on %s: %" G_GINT64_FORMAT ")", w->txid, conf, s->tip, w->payer, v->name, node_conf);
        json_decref(tx);
    } else {
        tf_world_log(tf_step_world(step), "payment %s: %" G_GINT64_FORMAT " confirmation(s) on tip %s", w->txid,
                     conf, s->tip);
    }
    tf_snapshot_unref(snap);
    return st;
}

/* A tx_dropped_by_reorg event for t->txid is in the handle's history. */
static gboolean dropped_event(tf_handle *h, const char *txid, gint64 *height)
{
    GPtrArray *hist = tf_handle_batches(h);
    gboolean found = FALSE;
    for (guint b = 0; b < hist->len && !found; b++)
        for (guint i = 0; i < tf_batch_len(hist->pdata[b]) && !found; i++) {
            const wallet_event *ev = tf_batch_event(hist->pdata[b], i);
            if (ev->kind == WALLET_EVENT_TX_DROPPED_BY_REORG && !strcmp(ev->txid, txid)) {
                found = TRUE;
                if (height)
                    *height = ev->height;
            }
        }
    g_ptr_array_unref(hist);
    return found;
}

static gboolean tx_reverted(const tf_snapshot *snap, void *data)
{
    const tx_want *t = data;
    return wallet_snapshot_tx_confirmations(tf_snapshot_data(snap), t->txid) == 0 &&
           dropped_event(t->h, t->txid, NULL);
}

static tf_step_status then_reverted(tf_step *step, GError **error)
{
    wl_world *w = wl_get(step, error);
    if (!w || !wl_runtime(w, error))
        return TF_STEP_FAILED;
    if (!w->txid)
        return TF_FAIL(error, "no payment was made in this scenario");
    tx_want t = {w->txid, 0, w->h};
    char *what = g_strdup_printf("payment %.16s.. off the canonical chain with a tx_dropped_by_reorg event", w->txid);
    tf_snapshot *snap = wl_wait(w, tx_reverted, &t, what, w->acted_at, error);
    g_free(what);
    if (!snap)
        return TF_STEP_FAILED;
    gint64 h = -1;
    dropped_event(w->h, w->txid, &h);
    tf_world_log(tf_step_world(step), "payment %s dropped by a reorg from its block at height %" G_GINT64_FORMAT
                 "; canonical tip now %s", w->txid, h, ((const wallet_snapshot *)tf_snapshot_data(snap))->tip);
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

typedef struct {
    const char *name;
    gint64 sat;
} bal_want;

static gboolean balance_at_least(const tf_snapshot *snap, void *data)
{
    const bal_want *b = data;
    return wallet_snapshot_balance_at_least(tf_snapshot_data(snap), b->name, b->sat);
}

static tf_step_status then_balance(tf_step *step, GError **error)
{
    wl_world *w = wl_get(step, error);
    const char *name = tf_step_arg_str(step, 0);
    if (!w || !wallet_node(w, name, error) || !wl_runtime(w, error))
        return TF_STEP_FAILED;
    bal_want b = {name, coins_to_sat(tf_step_arg_double(step, 1))};
    char *amount = sat_str(b.sat);
    char *what = g_strdup_printf("wallet %s with a balance of at least %s coins", name, amount);
    tf_snapshot *snap = wl_wait(w, balance_at_least, &b, what, w->acted_at, error);
    g_free(what);
    g_free(amount);
    if (!snap)
        return TF_STEP_FAILED;
    const wallet_view *v = wallet_snapshot_wallet(tf_snapshot_data(snap), name);
    tf_world_log(tf_step_world(step), "wallet %s: balance %.8f coins in %u output(s), %.8f immature, %.8f pending",
                 name, v->balance / 1e8, v->listed->len, v->immature / 1e8, v->pending / 1e8);
    tf_snapshot_unref(snap);
    return TF_STEP_PASSED;
}

/* ---- the oracle: every wallet equals its node's listunspent ------------------------------ */

typedef struct {
    wl_world *w;
    GHashTable *best;   /* node -> best hash, or NULL: only convergence */
} settle_want;

/* Nodes not cut off from the others (by a network fault: the chain world's partitioned
 * set) share one head, and every head's state is held (with best set: every node's head
 * is the best block it reported). */
static gboolean settled(const tf_snapshot *snap, void *data)
{
    const settle_want *sw = data;
    const wallet_snapshot *s = tf_snapshot_data(snap);
    const char *joint = NULL;
    for (guint i = 0; s->chain && i < s->chain->n_nodes; i++) {
        const chain_node_view *v = &s->chain->nodes[i];
        if (!v->reachable || !v->head[0] || !g_hash_table_contains(s->states, v->head))
            return FALSE;
        const char *best = sw->best ? g_hash_table_lookup(sw->best, v->name) : NULL;
        if (best && strcmp(best, v->head))
            return FALSE;
        if (g_hash_table_contains(sw->w->ch->partitioned, v->name))
            continue;
        if (joint && strcmp(joint, v->head))
            return FALSE;
        joint = v->head;
    }
    return s->chain && s->chain->n_nodes > 0;
}

static char *listed_text(GPtrArray *utxos)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < utxos->len; i++) {
        const wallet_utxo *u = utxos->pdata[i];
        g_string_append_printf(s, "  %s:%u %" G_GINT64_FORMAT "\n", u->txid, u->vout, u->amount);
    }
    return g_string_free(s, FALSE);
}

static gint cmp_line(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static tf_step_status then_match(tf_step *step, GError **error)
{
    wl_world *w = wl_get(step, error);
    if (!w || !wl_runtime(w, error))
        return TF_STEP_FAILED;
    settle_want sw = {w, NULL};
    tf_snapshot *snap = wl_wait(w, settled, &sw, "the nodes settled (one head per partition) and their states held",
                                g_get_monotonic_time(), error);
    if (!snap)
        return TF_STEP_FAILED;
    tf_snapshot_unref(snap);
    gint64 asked = g_get_monotonic_time();
    sw.best = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTable *want = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    tf_step_status st = TF_STEP_PASSED;
    for (guint i = 0; i < w->names->len && st == TF_STEP_PASSED; i++) {
        const char *name = w->names->pdata[i], *node = g_hash_table_lookup(w->node_of, name);
        json_t *best = ch_call(w->ch, node, NULL, "getbestblockhash", NULL, error);
        /* The wallet learns of blocks through the validation queue: let it catch up first. */
        json_t *sync = best ? ch_call(w->ch, node, NULL, "syncwithvalidationinterfacequeue", NULL, error) : NULL;
        char *path = wallet_path(name);
        json_t *lu = sync ? ch_call(w->ch, node, path, "listunspent", NULL, error) : NULL;
        g_free(path);
        if (!lu) {
            st = TF_STEP_FAILED;
        } else {
            g_hash_table_replace(sw.best, g_strdup(node), g_strdup(json_string_value(best)));
            GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
            for (gsize k = 0; k < json_array_size(lu); k++) {
                json_t *u = json_array_get(lu, k);
                gint64 amount = -1;
                wallet_amount_from_json(json_object_get(u, "amount"), &amount);
                g_ptr_array_add(lines, g_strdup_printf("  %s:%d %" G_GINT64_FORMAT "\n",
                                                       json_string_value(json_object_get(u, "txid")),
                                                       (int)json_integer_value(json_object_get(u, "vout")), amount));
            }
            g_ptr_array_sort(lines, cmp_line);
            GString *text = g_string_new(NULL);
            for (guint k = 0; k < lines->len; k++)
                g_string_append(text, lines->pdata[k]);
            g_hash_table_insert(want, (char *)name, g_string_free(text, FALSE));
            g_ptr_array_unref(lines);
        }
        json_decref(best);
        json_decref(sync);
        json_decref(lu);
    }
    snap = st == TF_STEP_PASSED ? wl_wait(w, settled, &sw, "every wallet node's reported best block in the projection",
                                            asked, error)
                                  : NULL;
    if (!snap)
        st = TF_STEP_FAILED;
    GString *log = g_string_new(NULL);
    for (guint i = 0; snap && i < w->names->len && st == TF_STEP_PASSED; i++) {
        const char *name = w->names->pdata[i], *node = g_hash_table_lookup(w->node_of, name);
        const char *head = g_hash_table_lookup(sw.best, node);
        gint64 bal = 0;
        GPtrArray *got = wallet_snapshot_list_at(tf_snapshot_data(snap), head, name, &bal);
        char *have = got ? listed_text(got) : g_strdup("(no state)\n");
        if (strcmp(have, g_hash_table_lookup(want, name)))
            st = TF_FAIL(error, "wallet %s at %s's head %s: listunspent and the projection differ\nlistunspent "
                         "(txid:vout litoshis):\n%sprojection:\n%s", name, node, head,
                         (char *)g_hash_table_lookup(want, name), have);
        else
            g_string_append_printf(log, "%s%s on %s at %.12s: %u output(s), %.8f coins", log->len ? "; " : "",
                                   name, node, head, got->len, bal / 1e8);
        g_free(have);
        if (got)
            g_ptr_array_unref(got);
    }
    if (st == TF_STEP_PASSED)
        tf_world_log(tf_step_world(step), "listunspent matches exactly: %s", log->str);
    g_string_free(log, TRUE);
    tf_snapshot_unref(snap);
    g_hash_table_unref(want);
    g_hash_table_unref(sw.best);
    return st;
}

/* ---- After: the wallet events as an attachment -------------------------------------------- */

static tf_step_status after_wallet(tf_world *world, GError **error)
{
    wl_world *w = tf_world_get(world, "wallet");
    if (!w || !w->h)
        return TF_STEP_PASSED;
    GPtrArray *hist = tf_handle_batches(w->h);
    json_t *arr = json_array();
    for (guint b = 0; b < hist->len; b++)
        for (guint i = 0; i < tf_batch_len(hist->pdata[b]); i++) {
            const wallet_event *ev = tf_batch_event(hist->pdata[b], i);
            if (ev->kind != WALLET_EVENT_CHAIN)
                json_array_append_new(arr, wallet_event_to_json(ev));
        }
    g_ptr_array_unref(hist);
    char *text = json_dumps(arr, JSON_INDENT(1));
    if (text)
        tf_world_attach(world, text, strlen(text), "application/json", "wallet-events.json");
    free(text);
    json_decref(arr);
    return TF_STEP_PASSED;
}

gboolean wallet_steps_register(tf_registry *reg, GError **error)
{
    TF_GIVEN("wallet {word} on node {word}", given_wallet);
    TF_WHEN("wallet {word} mines {int} block(s)", when_wallet_mines);
    TF_WHEN("wallet {word} pays {float} coins to wallet {word}", when_pays);
    TF_THEN("the payment is included with {int} confirmation(s)", then_included);
    TF_THEN("the payment is reverted by a reorg", then_reverted);
    TF_THEN("wallet {word} has a balance of at least {float} coins", then_balance);
    TF_THEN("every wallet matches its node's listunspent", then_match);
    TF_AFTER_OWN(NULL, after_wallet);
    return TRUE;
}
