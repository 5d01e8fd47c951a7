/* bench_wallet.c: cost of the wallet state after each new block at chain depths 100, 1,000
 * and 5,000: the incremental projection (parent state + block delta, fold below LIB)
 * against a backward scan from the tip over every block. A deterministic synthetic chain
 * (regtest-like: a coinbase and 4 payments per block, 3 wallets of 3 addresses among 13).
 * Both answers are checked equal; figures and ratios are printed, nothing passes or fails. */
#include <stdio.h>
#include <string.h>
#include "bench_util.h"
#include "wallet/projection.h"

#define N_WALLETS 3
#define ADDR_PER_WALLET 3
#define N_FOREIGN 4
#define TX_PER_BLOCK 4
#define MEASURED 200     /* new blocks timed per depth (incremental) */
#define SCANS 20         /* backward scans timed per depth */

static const char *addr_name(guint i)
{
    static char names[N_WALLETS * ADDR_PER_WALLET + N_FOREIGN][16];
    if (!names[i][0])
        g_snprintf(names[i], sizeof names[i], i < N_WALLETS * ADDR_PER_WALLET ? "w%u_a%u" : "foreign%u",
                   i < N_WALLETS * ADDR_PER_WALLET ? i / ADDR_PER_WALLET : i, i % ADDR_PER_WALLET);
    return names[i];
}

typedef struct {
    GRand *rng;
    GPtrArray *unspent;   /* "txid:vout" of every output (any address), spendable */
    guint64 next_tx;
    GPtrArray *blocks;    /* wallet_block*, the chain in order */
} gen;

static char *hex64(guint64 tag, guint64 n)
{
    return g_strdup_printf("%016" G_GINT64_MODIFIER "x%048" G_GINT64_MODIFIER "x", tag, n);
}

static wallet_block *gen_block(gen *g)
{
    guint h = g->blocks->len;
    char *hash = hex64(0xb, h), *parent = h ? hex64(0xb, h - 1) : NULL;
    wallet_block *b = wallet_block_new(hash, parent, h);
    g_free(hash);
    g_free(parent);
    guint n_addr = N_WALLETS * ADDR_PER_WALLET + N_FOREIGN;
    char *cb = hex64(0xc, g->next_tx++);
    const char *cba[] = {addr_name(g_rand_int_range(g->rng, 0, n_addr))};
    gint64 reward = 5000000000;
    wallet_block_add_tx(b, cb, TRUE, NULL, 0, cba, &reward, 1);
    /* Coinbases are spent only once mature: queue them 100 blocks. */
    GPtrArray *fresh = g_ptr_array_new();
    g_ptr_array_add(fresh, g_strdup_printf("%s:0", cb));
    g_free(cb);
    for (guint t = 0; t < TX_PER_BLOCK && g->unspent->len >= 2; t++) {
        /* Two inputs, two outputs: the UTXO set grows by the coinbases only. */
        const char *in[2];
        char *owned[2];
        for (guint k = 0; k < 2; k++) {
            guint at = g_rand_int_range(g->rng, 0, g->unspent->len);
            owned[k] = g_ptr_array_steal_index_fast(g->unspent, at);
            in[k] = owned[k];
        }
        char *txid = hex64(0x7, g->next_tx++);
        const char *outs[] = {addr_name(g_rand_int_range(g->rng, 0, n_addr)),
                              addr_name(g_rand_int_range(g->rng, 0, n_addr))};
        gint64 amts[] = {g_rand_int_range(g->rng, 1, 1000000), g_rand_int_range(g->rng, 1, 1000000)};
        wallet_block_add_tx(b, txid, FALSE, in, 2, outs, amts, 2);
        g_ptr_array_add(g->unspent, g_strdup_printf("%s:0", txid));
        g_ptr_array_add(g->unspent, g_strdup_printf("%s:1", txid));
        g_free(txid);
        g_free(owned[0]);
        g_free(owned[1]);
    }
    for (guint i = 0; i < fresh->len; i++)
        g_ptr_array_add(g->unspent, fresh->pdata[i]);
    g_ptr_array_unref(fresh);
    g_ptr_array_add(g->blocks, b);
    return b;
}

/* The naive answer: walk from the tip back to genesis, remember spends, keep outputs to a
 * wallet's addresses not spent later. Returns the number of outputs found; *sum their total. */
static guint backward_scan(GPtrArray *blocks, guint tip, GHashTable *addr_wallet, gint64 sum[N_WALLETS])
{
    GHashTable *spent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint found = 0;
    memset(sum, 0, sizeof(gint64) * N_WALLETS);
    char key[96];
    for (guint h = tip + 1; h-- > 0;) {
        const wallet_block *b = blocks->pdata[h];
        for (guint t = b->n_tx; t-- > 0;) {
            const wallet_tx *tx = &b->tx[t];
            for (guint o = 0; o < tx->n_out; o++) {
                gpointer w = g_hash_table_lookup(addr_wallet, tx->out[o].address);
                if (!w)
                    continue;
                g_snprintf(key, sizeof key, "%s:%u", tx->txid, o);
                if (!g_hash_table_contains(spent, key)) {
                    sum[GPOINTER_TO_UINT(w) - 1] += tx->out[o].amount;
                    found++;
                }
            }
            for (guint i = 0; i < tx->n_in; i++)
                g_hash_table_add(spent, g_strdup_printf("%s:%u", tx->in[i].txid, tx->in[i].vout));
        }
    }
    g_hash_table_unref(spent);
    return found;
}

static void run_depth(guint depth)
{
    gen g = {g_rand_new_with_seed(8), g_ptr_array_new_with_free_func(g_free), 1,
             g_ptr_array_new_with_free_func((GDestroyNotify)wallet_block_free)};
    wallet_projection *p = wallet_projection_new(NULL);
    GHashTable *addr_wallet = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint w = 0; w < N_WALLETS; w++) {
        const char *addrs[ADDR_PER_WALLET + 1] = {0};
        for (guint a = 0; a < ADDR_PER_WALLET; a++) {
            addrs[a] = addr_name(w * ADDR_PER_WALLET + a);
            g_hash_table_insert(addr_wallet, (char *)addrs[a], GUINT_TO_POINTER(w + 1));
        }
        char name[8];
        g_snprintf(name, sizeof name, "w%u", w);
        wallet_projection_add_wallet(p, name, addrs, NULL);
    }
    /* Catch up to `depth` blocks (timed too: the one-off cost of starting late). */
    gint64 t0 = g_get_monotonic_time();
    for (guint h = 0; h < depth; h++) {
        wallet_block *b = gen_block(&g);
        wallet_projection_add_block(p, b, NULL);
        wallet_projection_set_tip(p, b->hash, NULL, NULL);
        if (h >= 6)
            wallet_projection_fold(p, ((wallet_block *)g.blocks->pdata[h - 5])->hash); /* LIB: 6 confirmations */
    }
    double catchup_us = (double)(g_get_monotonic_time() - t0) / depth;
    /* New blocks, one at a time: the incremental projection. */
    double inc[MEASURED], list[MEASURED];
    GPtrArray *events = g_ptr_array_new_with_free_func(wallet_event_free);
    for (guint i = 0; i < MEASURED; i++) {
        wallet_block *b = gen_block(&g);
        guint h = g.blocks->len - 1;
        gint64 a = g_get_monotonic_time();
        wallet_projection_add_block(p, b, NULL);
        wallet_projection_set_tip(p, b->hash, events, NULL);
        wallet_projection_fold(p, ((wallet_block *)g.blocks->pdata[h - 5])->hash);
        gint64 m = g_get_monotonic_time();
        for (guint w = 0; w < N_WALLETS; w++)
            g_ptr_array_unref(wallet_state_list(wallet_projection_state(p, b->hash, w), h, NULL, NULL, NULL, NULL));
        inc[i] = (double)(m - a);
        list[i] = (double)(g_get_monotonic_time() - m);
        g_ptr_array_set_size(events, 0);
    }
    /* The same question answered by a backward scan from the tip, a few times. */
    double scan[SCANS];
    gint64 sum[N_WALLETS];
    guint found = 0;
    for (guint i = 0; i < SCANS; i++) {
        gint64 a = g_get_monotonic_time();
        found = backward_scan(g.blocks, g.blocks->len - 1, addr_wallet, sum);
        scan[i] = (double)(g_get_monotonic_time() - a);
    }
    /* Same answer? */
    const char *tip = ((wallet_block *)g.blocks->pdata[g.blocks->len - 1])->hash;
    guint n_proj = 0;
    gboolean same = TRUE;
    for (guint w = 0; w < N_WALLETS; w++) {
        wallet_state *s = wallet_projection_state(p, tip, w);
        n_proj += wallet_state_n_utxos(s);
        same = same && wallet_state_total(s) == sum[w];
    }
    same = same && n_proj == found;
    /* A 4-block branch off tip - 3 (coinbases to a wallet): flipping the canonical tip
     * between the branches is a reorg of depth 3 with its events, and each branch's state
     * stays a lookup. */
    guint base = g.blocks->len - 4;
    char *prev = g_strdup(((wallet_block *)g.blocks->pdata[base])->hash), *fork_tip = NULL;
    for (guint k = 1; k <= 4; k++) {
        char *hash = hex64(0xf, k), *cb = hex64(0xfc, k);
        wallet_block *fb = wallet_block_new(hash, prev, base + k);
        gint64 reward = 5000000000;
        wallet_block_add_tx(fb, cb, TRUE, NULL, 0, (const char *[]){addr_name(0)}, &reward, 1);
        wallet_projection_add_block(p, fb, NULL);
        wallet_block_free(fb);
        g_free(cb);
        g_free(prev);
        prev = hash;
    }
    fork_tip = prev;
    const char *main_tip = ((wallet_block *)g.blocks->pdata[g.blocks->len - 1])->hash;
    double flip[40], lookup[40];
    guint n_events = 0;
    for (guint i = 0; i < 40; i++) {
        const char *to = i % 2 ? main_tip : fork_tip;
        gint64 a = g_get_monotonic_time();
        wallet_projection_set_tip(p, to, events, NULL);
        gint64 m = g_get_monotonic_time();
        guint found_states = 0;
        for (guint r = 0; r < 1000; r++) /* µs clock: time 1000 lookups */
            found_states += wallet_projection_state(p, r % 2 ? main_tip : fork_tip, r % N_WALLETS) != NULL;
        gint64 l = g_get_monotonic_time();
        flip[i] = (double)(m - a);
        lookup[i] = (double)(l - m) * 1000.0 / MAX(found_states, 1u); /* ns each */
        n_events = events->len;
        g_ptr_array_set_size(events, 0);
    }
    g_free(fork_tip);
    double flip_med = bench_percentile(flip, 40, 50), lookup_med = bench_percentile(lookup, 40, 50);
    double inc_med = bench_percentile(inc, MEASURED, 50), inc_p99 = bench_percentile(inc, MEASURED, 99);
    double list_med = bench_percentile(list, MEASURED, 50);
    double scan_med = bench_percentile(scan, SCANS, 50);
    printf("depth %5u | incremental %8.1f us/block (p99 %8.1f) | backward scan %9.1f us/block | "
           "ratio %6.1fx | listing 3 wallets %7.1f us | %5u outputs, %3u headers held, catch-up %.1f us/block | "
           "same answer: %s\n",
           depth, inc_med, inc_p99, scan_med, scan_med / inc_med, list_med, n_proj, wallet_projection_size(p),
           catchup_us, same ? "yes" : "NO");
    printf("            | reorg of depth 3 between two held branches: set_tip %.1f us (%u events), "
           "state at either tip %.0f ns (a lookup); a rescan of that tip costs the backward scan above\n",
           flip_med, n_events, lookup_med);
    g_ptr_array_unref(events);
    wallet_projection_free(p);
    g_hash_table_unref(addr_wallet);
    g_ptr_array_unref(g.blocks);
    g_ptr_array_unref(g.unspent);
    g_rand_free(g.rng);
}

int main(void)
{
    printf("bench_wallet: wallet state after each new block, %u wallets x %u addresses, %u payments + "
           "a coinbase per block; fold depth 100 below LIB (6 confirmations)\n",
           N_WALLETS, ADDR_PER_WALLET, TX_PER_BLOCK);
    guint depths[] = {100, 1000, 5000};
    for (guint i = 0; i < G_N_ELEMENTS(depths); i++)
        run_depth(depths[i]);
    printf("RSS %ld KiB\n", bench_rss_kib());
    return 0;
}
