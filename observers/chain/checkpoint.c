/* checkpoint.c: the chain observer's durable checkpoint: the block graph (every kept
 * block, lowest first, and each node's head) saved to a tf_store under the observer's
 * fingerprint, so a restart reconnects to a known tip with a few requests instead of
 * walking the whole chain again. Any doubt (fingerprint, checksum, bootstrap) = full scan. */
#include <string.h>
#include <tf/error.h>
#include "chain/observer_priv.h"

#define CKPT_FORMAT 1

struct chain_ckpt {
    tf_store *store;
    char *name;        /* checkpoint name in the store */
    char *fingerprint;
    char *why;         /* the load decision, for logs and tests */
    gboolean restored;
    gboolean bootstrapped; /* a cycle connected every reachable node's tip */
    guint64 cycles;
};

static json_t *fingerprint_config(const chain_observer_config *cfg, const char *name)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:b, s:b}", "checkpoint", name,
                     "lib_confirmations", (json_int_t)cfg->graph.lib_confirmations,
                     "retained_depth", (json_int_t)cfg->graph.retained_depth, "base_height",
                     (json_int_t)cfg->graph.base_height, "max_orphans",
                     (json_int_t)cfg->graph.max_orphans, "prune", cfg->prune, "fetch_txids",
                     cfg->fetch_txids);
}

/* Adds b and its ancestors down to an already collected block (or the floor). */
static void collect_branch(const chain_graph *g, const chain_block *b, GHashTable *seen,
                           GPtrArray *out)
{
    while (b && !g_hash_table_contains(seen, chain_block_hash(b))) {
        g_hash_table_add(seen, (gpointer)chain_block_hash(b));
        g_ptr_array_add(out, (gpointer)b);
        b = chain_graph_block(g, chain_block_parent_hash(b));
    }
}

static gint cmp_block_height(gconstpointer a, gconstpointer b)
{
    gint64 ha = chain_block_height(*(const chain_block *const *)a);
    gint64 hb = chain_block_height(*(const chain_block *const *)b);
    return ha < hb ? -1 : ha > hb;
}

json_t *chain_state_checkpoint_json(const chain_state *st)
{
    const chain_graph *g = st->graph;
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *blocks = g_ptr_array_new();
    collect_branch(g, chain_graph_canonical_tip(g), seen, blocks);
    GPtrArray *forks = chain_graph_forks(g);
    for (guint i = 0; i < forks->len; i++)
        collect_branch(g, chain_graph_block(g, ((chain_fork *)forks->pdata[i])->tip), seen, blocks);
    g_ptr_array_unref(forks);
    json_t *heads = json_array();
    GPtrArray *names = chain_graph_nodes(g);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        const chain_block *h = chain_graph_head(g, name);
        if (!h)
            continue;
        collect_branch(g, h, seen, blocks);
        chain_cnode *n = g_hash_table_lookup(st->nodes, name);
        json_array_append_new(heads, json_pack("{s:s, s:s, s:b}", "name", name, "head",
                                               chain_block_hash(h), "public",
                                               n ? n->is_public : FALSE));
    }
    g_ptr_array_unref(names);
    g_ptr_array_sort(blocks, cmp_block_height);
    json_t *arr = json_array();
    for (guint i = 0; i < blocks->len; i++) {
        const chain_block *b = blocks->pdata[i];
        char work[65];
        chain_work_format(chain_block_work(b), work);
        json_t *txids = json_null();
        const char *const *t = chain_block_txids(b);
        if (t) {
            txids = json_array();
            for (; *t; t++)
                json_array_append_new(txids, json_string(*t));
        }
        json_array_append_new(arr, json_pack("[s, s, I, s, I, o]", chain_block_hash(b),
                                             chain_block_parent_hash(b),
                                             (json_int_t)chain_block_height(b), work,
                                             (json_int_t)chain_block_time(b), txids));
    }
    g_ptr_array_unref(blocks);
    g_hash_table_unref(seen);
    return json_pack("{s:i, s:I, s:o, s:o}", "format", CKPT_FORMAT, "floor",
                     (json_int_t)chain_graph_floor(g), "blocks", arr, "heads", heads);
}

gboolean chain_state_restore_json(chain_state *st, json_t *cp, GError **error)
{
    json_t *blocks = json_object_get(cp, "blocks"), *heads = json_object_get(cp, "heads");
    json_int_t floor = json_integer_value(json_object_get(cp, "floor"));
    if (json_integer_value(json_object_get(cp, "format")) != CKPT_FORMAT ||
        !json_is_array(blocks) || !json_is_array(heads)) {
        g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT, "chain checkpoint: unknown format");
        return FALSE;
    }
    chain_graph_config gc = st->cfg.graph;
    if (json_array_size(blocks))
        gc.base_height = floor; /* the lowest kept block is the new root */
    chain_graph *g = chain_graph_new(&gc);
    size_t i;
    json_t *b;
    json_array_foreach(blocks, i, b) {
        const char *hash = NULL, *parent = NULL, *work = NULL;
        json_int_t height = 0, time = 0;
        json_t *txids = NULL;
        chain_add_status status;
        if (json_unpack(b, "[s, s, I, s, I, o]", &hash, &parent, &height, &work, &time, &txids)) {
            g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT, "chain checkpoint: block %zu malformed", i);
            goto fail;
        }
        chain_header h = {hash, parent, height, work, time};
        if (!chain_graph_add_header(g, &h, 0, NULL, &status, NULL, error))
            goto fail;
        if (status != CHAIN_ADD_CONNECTED && status != CHAIN_ADD_DUPLICATE) {
            g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT,
                        "chain checkpoint: block %s at %" JSON_INTEGER_FORMAT " does not connect",
                        hash, height);
            goto fail;
        }
        if (json_is_array(txids)) {
            gsize n = json_array_size(txids);
            const char **ids = g_new0(const char *, n + 1);
            for (gsize k = 0; k < n; k++)
                ids[k] = json_string_value(json_array_get(txids, k));
            gboolean ok = chain_graph_set_txids(g, hash, ids, n, error);
            g_free(ids);
            if (!ok)
                goto fail;
        }
    }
    json_array_foreach(heads, i, b) {
        const char *name = json_string_value(json_object_get(b, "name"));
        const char *head = json_string_value(json_object_get(b, "head"));
        if (!name || !head || !chain_graph_set_head(g, name, head, 0, NULL, NULL, error))
            goto fail;
        chain_graph_set_public(g, name, json_is_true(json_object_get(b, "public")));
        chain_graph_set_reachable(g, name, FALSE); /* until it answers this run */
    }
    chain_graph_update_forks(g, 0, NULL); /* known forks are not news after a restart */
    chain_graph_free(st->graph);
    st->graph = g;
    st->cfg.graph.base_height = gc.base_height;
    return TRUE;
fail:
    chain_graph_free(g);
    return FALSE;
}

/* ---- the hook: open at init, save every few cycles and at the end ------------------- */

chain_ckpt *chain_ckpt_open(chain_state *st)
{
    const chain_observer_config *cfg = &st->cfg;
    chain_ckpt *ck = g_new0(chain_ckpt, 1);
    ck->store = tf_store_ref(cfg->store);
    ck->name = g_strdup(cfg->checkpoint_name ? cfg->checkpoint_name : "chain");
    GError *fe = NULL;
    ck->fingerprint = chain_observer_fingerprint(cfg, &fe);
    if (!ck->fingerprint) {
        g_warning("chain observer: no checkpoints: %s", fe->message);
        g_error_free(fe);
        chain_ckpt_free(ck);
        return NULL;
    }
    json_t *saved = NULL;
    GError *err = NULL;
    tf_checkpoint_status cs = tf_checkpoint_load(ck->store, ck->name, ck->fingerprint, &saved,
                                                 &ck->why, &err);
    if (cs == TF_CHECKPOINT_VALID && !chain_state_restore_json(st, saved, &err)) {
        char *why = g_strdup_printf("checkpoint of %s: unreadable (%s): full scan", ck->name,
                                    err->message);
        g_free(ck->why);
        ck->why = why;
    } else if (cs == TF_CHECKPOINT_VALID) {
        ck->restored = TRUE;
        ck->bootstrapped = TRUE;
        char *why = g_strdup_printf("%s (%u blocks from height %" G_GINT64_FORMAT ")", ck->why,
                                    chain_graph_block_count(st->graph),
                                    chain_graph_floor(st->graph));
        g_free(ck->why);
        ck->why = why;
    }
    g_clear_error(&err);
    json_decref(saved);
    g_message("chain observer: %s", ck->why);
    return ck;
}

/* Saves now; failures are logged, never fatal: the observer works without a store. */
static void save(chain_state *st, chain_ckpt *ck)
{
    json_t *cp = chain_state_checkpoint_json(st);
    GError *err = NULL;
    if (!tf_checkpoint_save(ck->store, ck->name, ck->fingerprint, ck->bootstrapped, cp, &err)) {
        g_warning("chain observer: checkpoint %s not saved: %s", ck->name, err->message);
        g_error_free(err);
    }
    json_decref(cp);
}

void chain_ckpt_after_poll(chain_state *st, chain_ckpt *ck)
{
    gboolean was = ck->bootstrapped;
    if (!ck->bootstrapped && chain_graph_canonical_tip(st->graph)) {
        /* Bootstrap is done once a cycle connected every node that answered. */
        GHashTableIter it;
        gpointer key, value;
        gboolean any = FALSE;
        g_hash_table_iter_init(&it, st->nodes);
        while (g_hash_table_iter_next(&it, &key, &value))
            any |= ((chain_cnode *)value)->reachable;
        ck->bootstrapped = any;
    }
    guint every = st->cfg.checkpoint_every ? st->cfg.checkpoint_every : 10;
    if (ck->bootstrapped && (!was || ++ck->cycles % every == 0))
        save(st, ck);
}

void chain_ckpt_close(chain_state *st, chain_ckpt *ck)
{
    if (!ck)
        return;
    if (chain_graph_block_count(st->graph))
        save(st, ck);
    chain_ckpt_free(ck);
}

void chain_ckpt_free(chain_ckpt *ck)
{
    if (!ck)
        return;
    tf_store_unref(ck->store);
    g_free(ck->name);
    g_free(ck->fingerprint);
    g_free(ck->why);
    g_free(ck);
}

const char *chain_state_checkpoint_why(const chain_state *st)
{
    return st->ckpt ? st->ckpt->why : NULL;
}

gboolean chain_state_checkpoint_restored(const chain_state *st)
{
    return st->ckpt && st->ckpt->restored;
}

const char *chain_state_fingerprint(const chain_state *st)
{
    return st->ckpt ? st->ckpt->fingerprint : NULL;
}

char *chain_observer_fingerprint(const chain_observer_config *cfg, GError **error)
{
    chain_observer_config defaults;
    if (!cfg) {
        chain_observer_config_init(&defaults);
        cfg = &defaults;
    }
    json_t *fc = fingerprint_config(cfg, cfg->checkpoint_name ? cfg->checkpoint_name : "chain");
    char *fp = tf_fingerprint_observer(&chain_observer, fc, NULL, error);
    json_decref(fc);
    return fp;
}
