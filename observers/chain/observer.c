/* observer.c: the chain observer's cycle. Every node is asked for its best block in one
 * concurrent round; a tip already in the graph costs nothing more, a new tip one header,
 * and a tip that does not connect starts a catch-up: getblockhash windows walked down from
 * the graph's top (growing 16, 64, 256... up to max_batch) until a known hash, then the
 * missing headers, added lowest first so nothing waits as an orphan. Over REST they come
 * binary, 2,000 a request, all requests at once (their start hashes ride along with the
 * first window); over JSON-RPC their hashes, then the headers, max_batch calls a request
 * and every request of a round at once. */
#include <string.h>
#include <tf/error.h>
#include "chain/observer_priv.h"
#include "chain/rest.h"
#include "chain/work.h"

void chain_observer_config_init(chain_observer_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    chain_graph_config_init(&cfg->graph);
    cfg->graph.base_height = 0;
    cfg->prune = TRUE;
    cfg->max_batch = 2000;
    cfg->rest = TRUE;
    cfg->long_poll_ms = 1000;
    cfg->snapshot_blocks = 32;
}

static void cnode_free(gpointer p)
{
    chain_cnode *n = p;
    chain_longpoll_stop(n->lp);
    chain_rpc_free(n->rpc);
    tf_source_unref(n->src);
    g_free(n->error);
    g_free(n->name);
    g_free(n);
}

chain_state *chain_state_new(const chain_observer_config *cfg, GError **error)
{
    chain_state *st = g_new0(chain_state, 1);
    if (cfg)
        st->cfg = *cfg;
    else
        chain_observer_config_init(&st->cfg);
    if (!st->cfg.max_batch)
        st->cfg.max_batch = 2000;
    st->graph = chain_graph_new(&st->cfg.graph);
    st->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, cnode_free);
    if (st->cfg.store)
        st->ckpt = chain_ckpt_open(st); /* checkpoint.c */
    return st;
}

void chain_state_free(chain_state *st)
{
    if (!st)
        return;
    chain_ckpt_close(st, st->ckpt);
    g_hash_table_unref(st->nodes); /* joins every long-poll thread */
    chain_graph_free(st->graph);
    g_free(st);
}

const chain_graph *chain_state_graph(const chain_state *st)
{
    return st->graph;
}

guint64 chain_state_requests(const chain_state *st)
{
    return st->requests;
}

/* ---- sources ------------------------------------------------------------------------ */

static gboolean source_is_public(const tf_source *src)
{
    return !g_strcmp0(tf_source_attr_str(src, "role"), "public");
}

/* Brings the node table in line with this cycle's sources. */
static void sync_sources(chain_state *st, tf_poll_ctx *ctx)
{
    GPtrArray *sources = tf_poll_sources(ctx);
    GHashTable *present = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < sources->len; i++) {
        tf_source *src = sources->pdata[i];
        const char *name = tf_source_name(src);
        g_hash_table_add(present, (char *)name);
        chain_cnode *n = g_hash_table_lookup(st->nodes, name);
        if (n && tf_source_equal(n->src, src))
            continue;
        if (!n) {
            n = g_new0(chain_cnode, 1);
            n->name = g_strdup(name);
            g_hash_table_insert(st->nodes, n->name, n);
        }
        /* New or changed (url, credentials, role, state): rebuild the endpoint. */
        tf_source_unref(n->src);
        n->src = tf_source_ref(src);
        chain_rpc_free(n->rpc);
        n->rpc = chain_rpc_from_source(src, NULL);
        n->rest = 0;
        n->is_public = source_is_public(src);
        chain_graph_set_public(st->graph, name, n->is_public);
        const char *state = tf_source_attr_str(src, "state");
        gboolean running = !state || !strcmp(state, "running");
        if (st->cfg.long_poll && (!n->lp || !running)) {
            chain_longpoll_stop(n->lp);
            n->lp = running && n->rpc ? chain_longpoll_start(src, tf_poll_waker(ctx), st->cfg.long_poll_ms)
                                      : NULL;
        }
    }
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, st->nodes);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (!g_hash_table_contains(present, key)) {
            chain_graph_remove_node(st->graph, key);
            g_hash_table_iter_remove(&it);
        }
    }
    g_hash_table_unref(present);
}

static void node_failed(chain_state *st, tf_poll_ctx *ctx, chain_cnode *n, const char *msg)
{
    g_free(n->error);
    n->error = g_strdup(msg);
    n->reachable = FALSE;
    chain_graph_set_reachable(st->graph, n->name, FALSE);
    tf_poll_source_failed(ctx, n->src, msg);
}

static void node_failed_err(chain_state *st, tf_poll_ctx *ctx, chain_cnode *n, GError *err)
{
    node_failed(st, ctx, n, err ? err->message : "unknown failure");
}

/* ---- headers ------------------------------------------------------------------------ */

static gboolean add_header_json(chain_state *st, chain_cnode *n, json_t *obj, guint64 cycle,
                                GPtrArray *events, chain_add_status *status, GError **error)
{
    chain_header h;
    if (!chain_header_from_json(obj, &h, error)) {
        g_prefix_error(error, "%s: getblockheader: ", n->name);
        return FALSE;
    }
    return chain_graph_add_header(st->graph, &h, cycle, n->name, status, events, error);
}

/* Runs one batch on n's endpoint, counting requests. */
static void run1(chain_state *st, tf_poll_ctx *ctx, chain_rpc_batch *b)
{
    st->requests += chain_rpc_run(tf_poll_http(ctx), &b, 1, tf_poll_request_timeout(ctx));
}

/* Adds to hb a getblockhash for each height a + 2000j (j >= 1 when skip_first) up to
 * tip_height: where each /rest/headers request from anchor a starts. Returns how many. */
static guint add_starts(chain_rpc_batch *hb, gint64 a, gint64 tip_height, gboolean skip_first)
{
    guint added = 0;
    for (gint64 h = a + (skip_first ? CHAIN_REST_MAX_HEADERS : 0); h <= tip_height; h += CHAIN_REST_MAX_HEADERS) {
        chain_rpc_batch_add(hb, "getblockhash", json_pack("[I]", (json_int_t)h));
        added++;
    }
    return added;
}

/* The work of a block from its bits, remembering the last one (targets change rarely). */
static const chain_work *block_work(guint32 bits, guint32 *last_bits, chain_work *last)
{
    if (bits != *last_bits || !(last->limb[0] | last->limb[1] | last->limb[2] | last->limb[3])) {
        chain_work_from_bits(bits, last);
        *last_bits = bits;
    }
    return last;
}

/* A catch-up in progress: n's tip and where its chain meets the graph. */
typedef struct {
    chain_state *st;
    tf_poll_ctx *ctx;
    chain_cnode *n;
    const json_t *tip_hdr;
    gint64 tip_height;
    const char *tip_hash;
    gint64 anchor;                /* the first height to fetch (the known block's, if any) */
    const chain_block *known;     /* the graph's block at anchor, or NULL */
    GPtrArray *starts;            /* hashes at anchor + 2000j, for REST (may be partial) */
    GPtrArray *events;
} catchup;

static gboolean rest_usable(const catchup *c)
{
    return c->st->cfg.rest && c->n->rest >= 0;
}

/* Finds where n's chain meets the graph: getblockhash windows (16, 64, 256... up to
 * max_batch) from the graph's top down to lo_limit; the first window also asks the REST
 * start hashes, guessing the graph's top is on n's chain. With an empty graph the anchor
 * is lo_limit. FALSE + error on a failed request; c->known NULL and c->anchor -1 when n's
 * chain meets the graph nowhere above the floor. */
static gboolean find_anchor(catchup *c, gint64 lo_limit, GError **error)
{
    chain_state *st = c->st;
    const chain_block *top_b = chain_graph_canonical_tip(st->graph);
    gint64 top = top_b ? MIN(chain_block_height(top_b), c->tip_height - 1) : -1;
    c->anchor = lo_limit;
    if (top < lo_limit)
        return TRUE; /* nothing held to meet: fetch from lo_limit */
    gint64 hi = top, window = 16;
    gboolean first = TRUE;
    while (!c->known && hi >= lo_limit) {
        gint64 lo = MAX(lo_limit, hi - window + 1);
        chain_rpc_batch *hb = chain_rpc_batch_new(c->n->rpc, NULL);
        for (gint64 h = lo; h <= hi; h++)
            chain_rpc_batch_add(hb, "getblockhash", json_pack("[I]", (json_int_t)h));
        guint guessed = first && rest_usable(c) ? add_starts(hb, top, c->tip_height, TRUE) : 0;
        run1(st, c->ctx, hb);
        gboolean ok = TRUE;
        for (gint64 h = hi; h >= lo && ok && !c->known; h--) {
            json_t *r = chain_rpc_batch_result(hb, (guint)(h - lo), error);
            if (!json_is_string(r)) {
                if (r)
                    g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: getblockhash %" G_GINT64_FORMAT
                                ": not a string", c->n->name, h);
                ok = FALSE;
            } else if ((c->known = chain_graph_block(st->graph, json_string_value(r)))) {
                c->anchor = h;
            }
        }
        if (ok && c->known) {
            g_ptr_array_add(c->starts, g_strdup(chain_block_hash(c->known)));
            for (guint k = 0; c->anchor == top && k < guessed; k++) {
                json_t *r = chain_rpc_batch_result(hb, (guint)(hi - lo + 1) + k, NULL);
                if (!json_is_string(r))
                    break;
                g_ptr_array_add(c->starts, g_strdup(json_string_value(r)));
            }
        }
        chain_rpc_batch_free(hb);
        if (!ok)
            return FALSE;
        first = FALSE;
        hi = lo - 1;
        window = MIN(window * 4, (gint64)st->cfg.max_batch);
    }
    if (!c->known)
        c->anchor = -1;
    return TRUE;
}

typedef enum { REST_DONE, REST_FAILED, REST_ABSENT } rest_outcome;

/* REST: headers anchor..tip, 2,000 a request, all at once (the very first request to a
 * node goes alone: a node without -rest then costs one request, not one per 2,000). They
 * must link into one chain ending at the tip; chainwork is summed from their targets and
 * checked against the node's at the tip (derived from it when the chain starts above
 * genesis and below the graph); added lowest first. */
static rest_outcome fetch_rest(catchup *c, GError **error)
{
    chain_state *st = c->st;
    chain_cnode *n = c->n;
    gint64 anchor = c->anchor, tip_height = c->tip_height;
    chain_work tip_work;
    if (!chain_work_parse(json_string_value(json_object_get(c->tip_hdr, "chainwork")), &tip_work)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: getblockheader %s: chainwork is not hex", n->name,
                    c->tip_hash);
        return REST_FAILED;
    }
    guint nreq = (guint)((tip_height - anchor) / CHAIN_REST_MAX_HEADERS + 1);
    if (c->starts->len < nreq) { /* no guess (an empty graph) or a wrong one: ask them now */
        chain_rpc_batch *hb = chain_rpc_batch_new(n->rpc, NULL);
        add_starts(hb, anchor + (gint64)c->starts->len * CHAIN_REST_MAX_HEADERS, tip_height, FALSE);
        run1(st, c->ctx, hb);
        for (guint k = 0; k < chain_rpc_batch_len(hb); k++) {
            json_t *r = chain_rpc_batch_result(hb, k, error);
            if (!json_is_string(r)) {
                if (r)
                    g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: getblockhash: not a string", n->name);
                chain_rpc_batch_free(hb);
                return REST_FAILED;
            }
            g_ptr_array_add(c->starts, g_strdup(json_string_value(r)));
        }
        chain_rpc_batch_free(hb);
    }
    chain_rest_req *reqs = g_new0(chain_rest_req, nreq);
    for (guint j = 0; j < nreq; j++) {
        g_strlcpy(reqs[j].start, c->starts->pdata[j], CHAIN_HASH_BUF);
        reqs[j].count = (guint)MIN(CHAIN_REST_MAX_HEADERS, tip_height - (anchor + (gint64)j * CHAIN_REST_MAX_HEADERS) + 1);
    }
    guint sent_first = n->rest == 0 && nreq > 1 ? 1 : 0; /* probe a node not tried yet */
    if (sent_first)
        st->requests += chain_rest_headers_run(tf_poll_http(c->ctx), n->name, chain_rpc_url(n->rpc), reqs, 1,
                                               tf_poll_request_timeout(c->ctx));
    if (!sent_first || reqs[0].status != 404)
        st->requests += chain_rest_headers_run(tf_poll_http(c->ctx), n->name, chain_rpc_url(n->rpc),
                                               reqs + sent_first, nreq - sent_first,
                                               tf_poll_request_timeout(c->ctx));
    rest_outcome out = REST_DONE;
    for (guint j = 0; j < nreq && out == REST_DONE; j++) {
        if (reqs[j].status == 404) {
            out = REST_ABSENT;
        } else if (reqs[j].error) {
            g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: REST headers: %s", n->name, reqs[j].error);
            out = REST_FAILED;
        } else if (reqs[j].n != reqs[j].count || strcmp(reqs[j].headers[0].hash, reqs[j].start)) {
            g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: REST headers from %s: %u of %u headers: the "
                        "node's chain changed during the catch-up", n->name, reqs[j].start, reqs[j].n,
                        reqs[j].count);
            out = REST_FAILED;
        }
    }
    if (out != REST_ABSENT)
        n->rest = 1;
    /* One chain from anchor to the tip, and its chainwork. */
    chain_work cw = {{0, 0, 0, 0}}, last_work = {{0, 0, 0, 0}};
    guint32 last_bits = 0;
    gboolean derived = FALSE; /* anchor's chainwork from the tip's: nothing left to check it by */
    if (out == REST_DONE) {
        const chain_bin_header *prev = NULL;
        for (guint j = 0; j < nreq && out == REST_DONE; j++)
            for (guint i = 0; i < reqs[j].n; i++) {
                const chain_bin_header *h = &reqs[j].headers[i];
                if (prev && strcmp(h->parent, prev->hash)) {
                    g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: REST headers: %s does not follow %s: the "
                                "node's chain changed during the catch-up", n->name, h->hash, prev->hash);
                    out = REST_FAILED;
                    break;
                }
                prev = h;
            }
        if (out == REST_DONE && strcmp(prev->hash, c->tip_hash)) {
            g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: REST headers end at %s, not at the tip %s: the "
                        "node's chain changed during the catch-up", n->name, prev->hash, c->tip_hash);
            out = REST_FAILED;
        }
        if (out == REST_DONE && c->known) {
            cw = *chain_block_work(c->known);
        } else if (out == REST_DONE && chain_bin_header_is_genesis(&reqs[0].headers[0])) {
            cw = *block_work(reqs[0].headers[0].bits, &last_bits, &last_work);
        } else if (out == REST_DONE) {
            cw = tip_work;
            for (guint j = 0; j < nreq; j++)
                for (guint i = j ? 0 : 1; i < reqs[j].n; i++)
                    chain_work_sub(&cw, block_work(reqs[j].headers[i].bits, &last_bits, &last_work));
            derived = TRUE;
        }
    }
    if (out == REST_DONE) {
        /* Add anchor (unless known) .. tip - 1; the tip is in the graph already. */
        gint64 h = anchor;
        for (guint j = 0; j < nreq && out == REST_DONE; j++)
            for (guint i = 0; i < reqs[j].n && out == REST_DONE; i++, h++) {
                const chain_bin_header *b = &reqs[j].headers[i];
                if (h > anchor)
                    chain_work_add(&cw, block_work(b->bits, &last_bits, &last_work));
                if ((h == anchor && c->known) || h == tip_height)
                    continue;
                chain_header ch = {.hash = b->hash, .parent_hash = chain_bin_header_is_genesis(b) ? NULL : b->parent,
                                   .height = h, .time = b->time};
                if (!chain_graph_add_header_work(st->graph, &ch, &cw, tf_poll_cycle(c->ctx), n->name, NULL,
                                                 c->events, error)) {
                    g_prefix_error(error, "%s: REST header: ", n->name);
                    out = REST_FAILED;
                }
            }
        if (out == REST_DONE && !derived && chain_work_cmp(&cw, &tip_work)) {
            char mine[CHAIN_HASH_BUF], theirs[CHAIN_HASH_BUF];
            chain_work_format(&cw, mine);
            chain_work_format(&tip_work, theirs);
            g_set_error(error, TF_ERROR, TF_ERROR_SOURCE, "%s: chainwork summed from the headers' targets (%s) "
                        "is not the node's at the tip %s (%s)", n->name, mine, c->tip_hash, theirs);
            out = REST_FAILED;
        }
    }
    chain_rest_reqs_clear(reqs, nreq);
    g_free(reqs);
    return out;
}

/* Runs batches[0..n) at once (each one HTTP request), counting them. */
static void run_all(chain_state *st, tf_poll_ctx *ctx, GPtrArray *batches)
{
    st->requests += chain_rpc_run(tf_poll_http(ctx), (chain_rpc_batch *const *)batches->pdata, batches->len,
                                  tf_poll_request_timeout(ctx));
}

/* JSON-RPC: the hashes of heights anchor..tip - 1 (after the known block), then their
 * headers, max_batch calls a request and every request of a round at once; added lowest
 * first. */
static gboolean fetch_json(catchup *c, GError **error)
{
    chain_state *st = c->st;
    gint64 from = c->known ? c->anchor + 1 : c->anchor, to = c->tip_height - 1;
    if (from > to)
        return TRUE;
    GPtrArray *hashes = g_ptr_array_new_with_free_func((GDestroyNotify)chain_rpc_batch_free);
    GPtrArray *hdrs = g_ptr_array_new_with_free_func((GDestroyNotify)chain_rpc_batch_free);
    for (gint64 h = from; h <= to; h++) {
        if ((h - from) % st->cfg.max_batch == 0)
            g_ptr_array_add(hashes, chain_rpc_batch_new(c->n->rpc, NULL));
        chain_rpc_batch_add(hashes->pdata[hashes->len - 1], "getblockhash", json_pack("[I]", (json_int_t)h));
    }
    run_all(st, c->ctx, hashes);
    gboolean ok = TRUE;
    for (guint b = 0; ok && b < hashes->len; b++) {
        chain_rpc_batch *hb = hashes->pdata[b], *hd = chain_rpc_batch_new(c->n->rpc, NULL);
        g_ptr_array_add(hdrs, hd);
        for (guint i = 0; ok && i < chain_rpc_batch_len(hb); i++) {
            json_t *r = chain_rpc_batch_result(hb, i, error);
            ok = json_is_string(r);
            if (ok)
                chain_rpc_batch_add(hd, "getblockheader", json_pack("[O]", r));
            else if (r)
                g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: getblockhash: not a string", c->n->name);
        }
    }
    if (ok)
        run_all(st, c->ctx, hdrs);
    for (guint b = 0; ok && b < hdrs->len; b++)
        for (guint i = 0; ok && i < chain_rpc_batch_len(hdrs->pdata[b]); i++) {
            json_t *r = chain_rpc_batch_result(hdrs->pdata[b], i, error);
            ok = r && add_header_json(st, c->n, r, tf_poll_cycle(c->ctx), c->events, NULL, error);
        }
    g_ptr_array_unref(hashes);
    g_ptr_array_unref(hdrs);
    return ok;
}

/* Catches n up from its tip (tip_hdr, already added as an orphan): finds where its chain
 * meets the graph, then fetches the headers above it over REST where the node has it (a
 * 404 switches the node to JSON-RPC, in this cycle too), else over JSON-RPC. */
static gboolean catch_up(chain_state *st, tf_poll_ctx *ctx, chain_cnode *n, const json_t *tip_hdr,
                         GPtrArray *events, GError **error)
{
    catchup c = {st, ctx, n, tip_hdr, json_integer_value(json_object_get(tip_hdr, "height")),
                 json_string_value(json_object_get(tip_hdr, "hash")), -1, NULL,
                 g_ptr_array_new_with_free_func(g_free), events};
    gint64 floor = chain_graph_floor(st->graph);
    gint64 lo_limit = floor >= 0 ? floor
                      : st->cfg.graph.base_height >= 0 ? st->cfg.graph.base_height
                                                       : MAX(0, c.tip_height - (gint64)st->cfg.graph.retained_depth);
    gboolean ok = find_anchor(&c, lo_limit, error);
    if (ok && c.anchor >= 0 && rest_usable(&c)) { /* anchor -1: n's chain forks below the floor */
        rest_outcome r = fetch_rest(&c, error);
        if (r == REST_ABSENT) {
            n->rest = -1;
            g_message("%s: no REST interface (HTTP 404 on /rest/headers): catching up over JSON-RPC", n->name);
        } else {
            ok = r == REST_DONE;
            c.anchor = -1; /* done */
        }
    }
    if (ok && c.anchor >= 0)
        ok = fetch_json(&c, error);
    g_ptr_array_unref(c.starts);
    return ok;
}

/* Sets n's head to hash (connected) and records a reorg. */
static gboolean set_head(chain_state *st, tf_poll_ctx *ctx, chain_cnode *n, const char *hash,
                         GPtrArray *events, GError **error)
{
    chain_head_change ch;
    if (!chain_graph_set_head(st->graph, n->name, hash, tf_poll_cycle(ctx), &ch, events, error))
        return FALSE;
    if (ch.reorg) {
        n->reorgs++;
        st->reorgs++;
        n->last_reorg_cycle = tf_poll_cycle(ctx);
        g_strlcpy(n->last_reorg.old_tip, ch.old_tip, CHAIN_HASH_BUF);
        n->last_reorg.old_height = ch.old_height;
        g_strlcpy(n->last_reorg.new_tip, ch.new_tip, CHAIN_HASH_BUF);
        n->last_reorg.new_height = ch.new_height;
        g_strlcpy(n->last_reorg.common_ancestor, ch.common_ancestor, CHAIN_HASH_BUF);
        n->last_reorg.ancestor_height = ch.ancestor_height;
        n->last_reorg.depth = ch.depth;
        n->last_reorg.added = ch.added;
    }
    return TRUE;
}

/* getblock (verbosity 1) for every block discovered this cycle that the graph still holds
 * (after pruning: a catch-up of 5,000 blocks asks for the ~100 kept), asked of its reporter. */
static void fetch_txids(chain_state *st, tf_poll_ctx *ctx, GPtrArray *events, guint first, guint end)
{
    GHashTable *per_node = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                 (GDestroyNotify)g_ptr_array_unref);
    for (guint i = first; i < end; i++) {
        chain_event *ev = events->pdata[i];
        chain_cnode *n = ev->node ? g_hash_table_lookup(st->nodes, ev->node) : NULL;
        if (ev->kind != CHAIN_EVENT_BLOCK_DISCOVERED || !n || !n->rpc ||
            !chain_graph_block(st->graph, ev->u.block.hash))
            continue;
        GPtrArray *list = g_hash_table_lookup(per_node, n->name);
        if (!list)
            g_hash_table_insert(per_node, n->name, list = g_ptr_array_new());
        g_ptr_array_add(list, ev->u.block.hash);
    }
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, per_node);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        chain_cnode *n = g_hash_table_lookup(st->nodes, key);
        GPtrArray *hashes = value;
        for (guint at = 0; at < hashes->len; at += st->cfg.max_batch) {
            guint end = MIN(hashes->len, at + st->cfg.max_batch);
            chain_rpc_batch *b = chain_rpc_batch_new(n->rpc, NULL);
            for (guint i = at; i < end; i++)
                chain_rpc_batch_add(b, "getblock", json_pack("[s, i]", (char *)hashes->pdata[i], 1));
            run1(st, ctx, b);
            for (guint i = at; i < end; i++) {
                GError *err = NULL;
                json_t *tx = json_object_get(chain_rpc_batch_result(b, i - at, &err), "tx");
                if (!json_is_array(tx)) {
                    if (!err)
                        g_set_error(&err, TF_ERROR, TF_ERROR_PARSE, "%s: getblock: no tx array", n->name);
                    tf_poll_source_failed(ctx, n->src, err->message);
                    g_clear_error(&err);
                    continue;
                }
                const char **txids = g_new0(const char *, json_array_size(tx) + 1);
                gsize k = 0;
                for (gsize j = 0; j < json_array_size(tx); j++)
                    if (json_is_string(json_array_get(tx, j)))
                        txids[k++] = json_string_value(json_array_get(tx, j));
                chain_graph_set_txids(st->graph, hashes->pdata[i], txids, k, NULL);
                g_free(txids);
            }
            chain_rpc_batch_free(b);
        }
    }
    g_hash_table_unref(per_node);
}

/* ---- the cycle ---------------------------------------------------------------------- */

gboolean chain_state_poll(chain_state *st, tf_poll_ctx *ctx, GError **error)
{
    return chain_state_poll_collect(st, ctx, NULL, error);
}

gboolean chain_state_poll_collect(chain_state *st, tf_poll_ctx *ctx, GPtrArray *out,
                                  GError **error)
{
    sync_sources(st, ctx);
    guint64 cycle = tf_poll_cycle(ctx);
    GPtrArray *sources = tf_poll_sources(ctx);
    guint n_src = sources->len;
    chain_cnode **nodes = g_new0(chain_cnode *, n_src);
    chain_rpc_batch **batches = g_new0(chain_rpc_batch *, n_src);
    GPtrArray *events = g_ptr_array_new();

    /* Round 1: every running node's best block, concurrently. */
    for (guint i = 0; i < n_src; i++) {
        chain_cnode *n = nodes[i] = g_hash_table_lookup(st->nodes, tf_source_name(sources->pdata[i]));
        const char *state = tf_source_attr_str(n->src, "state");
        if (state && strcmp(state, "running")) {
            char *msg = g_strdup_printf("%s: node is %s", n->name, state);
            node_failed(st, ctx, n, msg);
            g_free(msg);
        } else if (!n->rpc) {
            char *msg = g_strdup_printf("%s: source has no url", n->name);
            node_failed(st, ctx, n, msg);
            g_free(msg);
        } else {
            batches[i] = chain_rpc_batch_new(n->rpc, NULL);
            chain_rpc_batch_add(batches[i], "getbestblockhash", NULL);
        }
    }
    st->requests += chain_rpc_run(tf_poll_http(ctx), batches, n_src, tf_poll_request_timeout(ctx));

    /* Round 2: headers of tips the graph lacks, concurrently. */
    chain_rpc_batch **hdr = g_new0(chain_rpc_batch *, n_src);
    char (*best)[CHAIN_HASH_BUF] = g_malloc0(sizeof *best * (n_src + 1));
    for (guint i = 0; i < n_src; i++) {
        if (!batches[i])
            continue;
        GError *err = NULL;
        json_t *r = chain_rpc_batch_result(batches[i], 0, &err);
        if (!json_is_string(r) || strlen(json_string_value(r)) != 64) {
            if (!err)
                g_set_error(&err, TF_ERROR, TF_ERROR_PARSE, "%s: getbestblockhash: not a block hash",
                            nodes[i]->name);
            node_failed_err(st, ctx, nodes[i], err);
            g_clear_error(&err);
            continue;
        }
        g_strlcpy(best[i], json_string_value(r), CHAIN_HASH_BUF);
        if (!chain_graph_block(st->graph, best[i])) {
            hdr[i] = chain_rpc_batch_new(nodes[i]->rpc, NULL);
            chain_rpc_batch_add(hdr[i], "getblockheader", json_pack("[s]", best[i]));
        }
    }
    st->requests += chain_rpc_run(tf_poll_http(ctx), hdr, n_src, tf_poll_request_timeout(ctx));

    /* Round 3: connect (catching up where needed) and set heads. */
    for (guint i = 0; i < n_src; i++) {
        if (!best[i][0])
            continue;
        chain_cnode *n = nodes[i];
        GError *err = NULL;
        gboolean ok = TRUE;
        if (hdr[i]) {
            json_t *r = chain_rpc_batch_result(hdr[i], 0, &err);
            chain_add_status status = CHAIN_ADD_DUPLICATE;
            ok = r && add_header_json(st, n, r, cycle, events, &status, &err);
            if (ok && !chain_graph_block(st->graph, best[i]) && status != CHAIN_ADD_BELOW_FLOOR)
                ok = catch_up(st, ctx, n, r, events, &err);
        }
        if (ok && !chain_graph_block(st->graph, best[i])) {
            g_set_error(&err, TF_ERROR, TF_ERROR_SOURCE,
                        "%s: tip %s does not connect to the known chain (it forks below the prune "
                        "floor at height %" G_GINT64_FORMAT ", or the node reorganised meanwhile)",
                        n->name, best[i], chain_graph_floor(st->graph));
            ok = FALSE;
        }
        if (ok)
            ok = set_head(st, ctx, n, best[i], events, &err);
        if (ok) {
            n->reachable = TRUE;
            g_clear_pointer(&n->error, g_free);
            chain_graph_set_reachable(st->graph, n->name, TRUE);
            tf_poll_source_ok(ctx, n->src);
        } else {
            node_failed_err(st, ctx, n, err);
        }
        g_clear_error(&err);
    }
    guint discovered_end = events->len; /* fork events follow; fetch_txids reads only these */
    chain_graph_update_forks(st->graph, cycle, events);
    if (st->cfg.prune)
        chain_graph_prune(st->graph);
    if (st->cfg.fetch_txids)
        fetch_txids(st, ctx, events, 0, discovered_end);
    if (st->ckpt)
        chain_ckpt_after_poll(st, st->ckpt);
    for (guint i = 0; i < events->len; i++) {
        if (out)
            g_ptr_array_add(out, events->pdata[i]);
        else
            tf_poll_emit(ctx, events->pdata[i]);
    }
    g_ptr_array_unref(events);
    for (guint i = 0; i < n_src; i++) {
        chain_rpc_batch_free(batches[i]);
        chain_rpc_batch_free(hdr[i]);
    }
    g_free(best);
    g_free(hdr);
    g_free(batches);
    g_free(nodes);
    return TRUE;
}

/* ---- the vtable ------------------------------------------------------------------------ */

static void *co_init(const void *config, GError **error) { return chain_state_new(config, error); }
static gboolean co_poll(void *state, tf_poll_ctx *ctx, GError **error) { return chain_state_poll(state, ctx, error); }
static void *co_snapshot(void *state) { return chain_state_snapshot(state); }
static void co_free_state(void *state) { chain_state_free(state); }
static void co_free_snapshot(void *s) { chain_snapshot_free(s); }
static json_t *co_snapshot_json(const void *s) { return chain_snapshot_to_json(s); }
static json_t *co_event_json(const void *e) { return chain_event_to_json(e); }

const tf_observer chain_observer = {
    .name = "chain",
    .version = 1,
    .init = co_init,
    .poll = co_poll,
    .snapshot = co_snapshot,
    .free_state = co_free_state,
    .free_snapshot = co_free_snapshot,
    .free_event = chain_event_free,
    .snapshot_to_json = co_snapshot_json,
    .event_to_json = co_event_json,
};
