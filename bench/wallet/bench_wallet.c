/* bench_wallet.c: cost of the wallet state after each new block at chain depths 100, 1,000
 * and 5,000: the incremental projection (parent state + block delta, the tip moved with its
 * events, fold below LIB) against the two things a user would write instead: a forward
 * UTXO map (one mutable table, tip only: what a new block costs it) and a backward scan
 * from the tip over every block (what a reorg costs when only the tip is kept). Then a
 * depth-3 reorg between two held branches: set_tip and a state lookup at either tip. A
 * deterministic synthetic chain (regtest-like: a coinbase and 4 payments per block, 3
 * wallets of 3 addresses among 13). The answer check: every wallet's full set of unspent
 * outputs (txid, vout, amount) from the projection equals the forward map's and the scan's,
 * at several new blocks, at the final tip and (the scan's) at the tip of a held fork; the
 * bench exits 1 when one differs. A further baseline is one more
 * function returning an out_set (see backward_scan). Usage: bench_wallet [--small]
 * [--depth N] (one depth only: for callgrind, with --toggle-collect=projection_timed or
 * forward_timed, which stay out of line for it). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"
#include "wallet/projection.h"

#define N_WALLETS 3
#define ADDR_PER_WALLET 3
#define N_FOREIGN 4
#define TX_PER_BLOCK 4
#define MEASURED_MAX 200 /* new blocks timed per depth (incremental) */
#define CHECK_EVERY 50   /* the answers are compared every this many new blocks */

static guint measured = MEASURED_MAX; /* small mode: fewer */
static guint scans = 20;              /* backward scans timed per depth */

/* Microseconds on the monotonic clock with ns resolution (per-block costs are a few us). */
static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

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

/* ---- answers: every wallet's unspent outputs ----------------------------------------- */

/* One unspent output of a wallet, as every side reports it. */
typedef struct {
    guint wallet;
    char txid[CHAIN_HASH_BUF];
    guint32 vout;
    gint64 amount;
} out_row;

/* A set of out_row (GArray), sorted by out_sort before it is compared. */
typedef GArray out_set;

static out_set *out_set_new(void)
{
    return g_array_new(FALSE, TRUE, sizeof(out_row));
}

static void out_set_add(out_set *s, guint wallet, const char *txid, guint32 vout, gint64 amount)
{
    out_row r = {.wallet = wallet, .vout = vout, .amount = amount};
    g_strlcpy(r.txid, txid, sizeof r.txid);
    g_array_append_val(s, r);
}

static gint cmp_row(gconstpointer a, gconstpointer b)
{
    const out_row *x = a, *y = b;
    if (x->wallet != y->wallet)
        return x->wallet < y->wallet ? -1 : 1;
    int c = strcmp(x->txid, y->txid);
    return c ? c : (x->vout > y->vout) - (x->vout < y->vout);
}

/* Checks that a (tf) and b (a baseline) hold the same outputs with the same amounts;
 * on a difference the check names the first output that differs. */
static void out_sets_check(out_set *a, out_set *b, const char *what, const char *b_name)
{
    g_array_sort(a, cmp_row);
    g_array_sort(b, cmp_row);
    guint i = 0, j = 0;
    char *diff = NULL;
    while (!diff && (i < a->len || j < b->len)) {
        const out_row *x = i < a->len ? &g_array_index(a, out_row, i) : NULL;
        const out_row *y = j < b->len ? &g_array_index(b, out_row, j) : NULL;
        int c = !x ? 1 : !y ? -1 : cmp_row(x, y);
        if (c < 0)
            diff = g_strdup_printf("wallet %u: the projection holds %s:%u (%" G_GINT64_FORMAT
                                   ") that the %s does not", x->wallet, x->txid, x->vout, x->amount, b_name);
        else if (c > 0)
            diff = g_strdup_printf("wallet %u: the %s holds %s:%u (%" G_GINT64_FORMAT
                                   ") that the projection does not", y->wallet, b_name, y->txid, y->vout,
                                   y->amount);
        else if (x->amount != y->amount)
            diff = g_strdup_printf("wallet %u: %s:%u is %" G_GINT64_FORMAT " in the projection, %"
                                   G_GINT64_FORMAT " in the %s", x->wallet, x->txid, x->vout, x->amount,
                                   y->amount, b_name);
        i++;
        j++;
    }
    char *label = g_strdup_printf("%s: projection = %s (%u outputs)", what, b_name, a->len);
    bench_check(!diff, label, "%s (%u outputs against %u)", diff, a->len, b->len);
    g_free(label);
    g_free(diff);
}

/* The projection's answer at header hash: each wallet's every unspent output (a coinbase
 * of any depth included, as the scan counts it). */
static out_set *projection_outputs(wallet_projection *p, const char *hash)
{
    out_set *set = out_set_new();
    wallet_rule every = {.coinbase_maturity = 0}; /* every confirmed output is listed */
    for (guint w = 0; w < N_WALLETS; w++) {
        wallet_state *s = wallet_projection_state(p, hash, w);
        if (!s)
            bench_die("no state of wallet %u at %s", w, hash);
        GPtrArray *list = wallet_state_list(s, wallet_state_height(s), &every, NULL, NULL, NULL);
        for (guint i = 0; i < list->len; i++) {
            const wallet_utxo *u = list->pdata[i];
            out_set_add(set, w, u->txid, u->vout, u->amount);
        }
        if (list->len != wallet_state_n_utxos(s))
            bench_die("wallet %u lists %u of its %u outputs", w, list->len, wallet_state_n_utxos(s));
        g_ptr_array_unref(list);
    }
    return set;
}

/* The naive answer: walk the chain (genesis first, `len` blocks) from its tip back,
 * remember spends, keep the outputs to a wallet's addresses not spent later. */
static out_set *backward_scan(const wallet_block *const *chain, guint len, GHashTable *addr_wallet)
{
    GHashTable *spent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    out_set *set = out_set_new();
    char key[96];
    for (guint h = len; h-- > 0;) {
        const wallet_block *b = chain[h];
        for (guint t = b->n_tx; t-- > 0;) {
            const wallet_tx *tx = &b->tx[t];
            for (guint o = 0; o < tx->n_out; o++) {
                gpointer w = g_hash_table_lookup(addr_wallet, tx->out[o].address);
                if (!w)
                    continue;
                g_snprintf(key, sizeof key, "%s:%u", tx->txid, o);
                if (!g_hash_table_contains(spent, key))
                    out_set_add(set, GPOINTER_TO_UINT(w) - 1, tx->txid, o, tx->out[o].amount);
            }
            for (guint i = 0; i < tx->n_in; i++)
                g_hash_table_add(spent, g_strdup_printf("%s:%u", tx->in[i].txid, tx->in[i].vout));
        }
    }
    g_hash_table_unref(spent);
    return set;
}

/* The baseline a user would write when only the tip matters: one mutable table of every
 * wallet's unspent outputs, walked forward block by block (the block's spent outputs
 * removed, its new outputs to a wallet's addresses added). It answers for the tip only:
 * a reorg would need undo data or a rescan. Rows are keyed by (txid, vout). */
typedef struct {
    GHashTable *rows;          /* out_row* -> itself (owned) */
    GHashTable *addr_wallet;   /* borrowed: address -> wallet + 1 */
} forward_map;

static guint row_hash(gconstpointer p)
{
    const out_row *r = p;
    return g_str_hash(r->txid) ^ (r->vout * 0x9e3779b9u);
}

static gboolean row_equal(gconstpointer a, gconstpointer b)
{
    const out_row *x = a, *y = b;
    return x->vout == y->vout && !strcmp(x->txid, y->txid);
}

static void forward_init(forward_map *f, GHashTable *addr_wallet)
{
    f->rows = g_hash_table_new_full(row_hash, row_equal, g_free, NULL);
    f->addr_wallet = addr_wallet;
}

/* One new block on the tip: the forward map's whole per-block work. */
static __attribute__((noinline)) void forward_apply_block(forward_map *f, const wallet_block *b)
{
    out_row key;
    for (guint t = 0; t < b->n_tx; t++) {
        const wallet_tx *tx = &b->tx[t];
        for (guint i = 0; i < tx->n_in; i++) {
            memcpy(key.txid, tx->in[i].txid, CHAIN_HASH_BUF);
            key.vout = tx->in[i].vout;
            g_hash_table_remove(f->rows, &key);
        }
        for (guint o = 0; o < tx->n_out; o++) {
            gpointer w = tx->out[o].address ? g_hash_table_lookup(f->addr_wallet, tx->out[o].address) : NULL;
            if (!w)
                continue;
            out_row *r = g_new(out_row, 1);
            r->wallet = GPOINTER_TO_UINT(w) - 1;
            memcpy(r->txid, tx->txid, CHAIN_HASH_BUF);
            r->vout = o;
            r->amount = tx->out[o].amount;
            g_hash_table_replace(f->rows, r, r);
        }
    }
}

/* The forward map's cost of one new block, in us. */
static __attribute__((noinline)) double forward_timed(forward_map *f, const wallet_block *b)
{
    double a = now_us();
    forward_apply_block(f, b);
    return now_us() - a;
}

/* The projection's cost of one new block (its states, the tip moved with events, the fold
 * below LIB), in us. */
static __attribute__((noinline)) double projection_timed(wallet_projection *p, const wallet_block *b,
                                                         const wallet_block *lib, GPtrArray *events)
{
    double a = now_us();
    wallet_projection_add_block(p, b, NULL);
    wallet_projection_set_tip(p, b->hash, events, NULL);
    wallet_projection_fold(p, lib->hash);
    return now_us() - a;
}

static out_set *forward_outputs(const forward_map *f)
{
    out_set *set = out_set_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, f->rows);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        const out_row *r = k;
        out_set_add(set, r->wallet, r->txid, r->vout, r->amount);
    }
    return set;
}

/* Compares the projection at the chain's tip with the backward scan of the chain. */
static void check_at(wallet_projection *p, const wallet_block *const *chain, guint len,
                     GHashTable *addr_wallet, const char *what)
{
    out_set *proj = projection_outputs(p, chain[len - 1]->hash);
    out_set *scan = backward_scan(chain, len, addr_wallet);
    out_sets_check(proj, scan, what, "backward scan");
    g_array_unref(proj);
    g_array_unref(scan);
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
    /* Catch up to `depth` blocks (timed too: the one-off cost of starting late); the
     * forward map walks the same blocks. */
    forward_map fwd;
    forward_init(&fwd, addr_wallet);
    double catchup_us = 0;
    for (guint h = 0; h < depth; h++) {
        wallet_block *b = gen_block(&g);
        double a = now_us();
        wallet_projection_add_block(p, b, NULL);
        wallet_projection_set_tip(p, b->hash, NULL, NULL);
        if (h >= 6)
            wallet_projection_fold(p, ((wallet_block *)g.blocks->pdata[h - 5])->hash); /* LIB: 6 confirmations */
        catchup_us += now_us() - a;
        forward_apply_block(&fwd, b);
    }
    catchup_us /= depth;
    /* New blocks, one at a time, each applied by both sides back to back: the projection
     * (its block's states, the tip moved with events, the fold below LIB) and the forward
     * map; every CHECK_EVERY blocks (untimed) both answers against the scan's. */
    double inc[MEASURED_MAX], fwd_us[MEASURED_MAX], list[MEASURED_MAX];
    GPtrArray *events = g_ptr_array_new_with_free_func(wallet_event_free);
    for (guint i = 0; i < measured; i++) {
        wallet_block *b = gen_block(&g);
        guint h = g.blocks->len - 1;
        /* Which side reads the new block first (cold) alternates. */
        if (i % 2)
            fwd_us[i] = forward_timed(&fwd, b);
        inc[i] = projection_timed(p, b, g.blocks->pdata[h - 5], events);
        if (!(i % 2))
            fwd_us[i] = forward_timed(&fwd, b);
        double l = now_us();
        for (guint w = 0; w < N_WALLETS; w++)
            g_ptr_array_unref(wallet_state_list(wallet_projection_state(p, b->hash, w), h, NULL, NULL, NULL, NULL));
        list[i] = now_us() - l;
        g_ptr_array_set_size(events, 0);
        if ((i + 1) % CHECK_EVERY == 0 && i + 1 < measured) {
            char *what = g_strdup_printf("depth %u, new block %u", depth, i + 1);
            check_at(p, (const wallet_block *const *)g.blocks->pdata, g.blocks->len, addr_wallet, what);
            out_set *proj = projection_outputs(p, b->hash), *fw = forward_outputs(&fwd);
            out_sets_check(proj, fw, what, "forward map");
            g_array_unref(proj);
            g_array_unref(fw);
            g_free(what);
        }
    }
    /* The same question answered by a backward scan from the tip, a few times. */
    double scan[20];
    out_set *scanned = NULL;
    for (guint i = 0; i < scans; i++) {
        if (scanned)
            g_array_unref(scanned);
        double a = now_us();
        scanned = backward_scan((const wallet_block *const *)g.blocks->pdata, g.blocks->len, addr_wallet);
        scan[i] = now_us() - a;
    }
    const char *main_tip = ((wallet_block *)g.blocks->pdata[g.blocks->len - 1])->hash;
    out_set *proj = projection_outputs(p, main_tip);
    guint n_proj = proj->len;
    char *what = g_strdup_printf("depth %u, tip", depth);
    out_sets_check(proj, scanned, what, "backward scan");
    out_set *fw = forward_outputs(&fwd);
    out_sets_check(proj, fw, what, "forward map");
    g_array_unref(fw);
    g_hash_table_unref(fwd.rows);
    g_free(what);
    g_array_unref(proj);
    g_array_unref(scanned);
    /* A 4-block branch off tip - 3 (coinbases to a wallet): flipping the canonical tip
     * between the branches is a reorg of depth 3 with its events, and each branch's state
     * stays a lookup. */
    guint base = g.blocks->len - 4;
    GPtrArray *fork_chain = g_ptr_array_new(); /* genesis .. base, then the fork's blocks */
    for (guint h = 0; h <= base; h++)
        g_ptr_array_add(fork_chain, g.blocks->pdata[h]);
    GPtrArray *fork_blocks = g_ptr_array_new_with_free_func((GDestroyNotify)wallet_block_free);
    const char *prev = ((wallet_block *)g.blocks->pdata[base])->hash;
    for (guint k = 1; k <= 4; k++) {
        char *hash = hex64(0xf, k), *cb = hex64(0xfc, k);
        wallet_block *fb = wallet_block_new(hash, prev, base + k);
        gint64 reward = 5000000000;
        wallet_block_add_tx(fb, cb, TRUE, NULL, 0, (const char *[]){addr_name(0)}, &reward, 1);
        wallet_projection_add_block(p, fb, NULL);
        g_ptr_array_add(fork_blocks, fb);
        g_ptr_array_add(fork_chain, fb);
        prev = fb->hash;
        g_free(cb);
        g_free(hash);
    }
    const char *fork_tip = prev;
    double flip[40], lookup[40];
    guint n_events = 0;
    for (guint i = 0; i < 40; i++) {
        const char *to = i % 2 ? main_tip : fork_tip;
        double a = now_us();
        wallet_projection_set_tip(p, to, events, NULL);
        double m = now_us();
        guint found_states = 0;
        for (guint r = 0; r < 1000; r++) /* time 1000 lookups */
            found_states += wallet_projection_state(p, r % 2 ? main_tip : fork_tip, r % N_WALLETS) != NULL;
        double l = now_us();
        flip[i] = m - a;
        lookup[i] = (l - m) * 1000.0 / MAX(found_states, 1u); /* ns each */
        n_events = events->len;
        g_ptr_array_set_size(events, 0);
    }
    what = g_strdup_printf("depth %u, tip of a held fork", depth);
    check_at(p, (const wallet_block *const *)fork_chain->pdata, fork_chain->len, addr_wallet, what);
    g_free(what);
    double flip_med = bench_percentile(flip, 40, 50), lookup_med = bench_percentile(lookup, 40, 50);
    double inc_med = bench_percentile(inc, measured, 50), inc_p99 = bench_percentile(inc, measured, 99);
    double fwd_med = bench_percentile(fwd_us, measured, 50);
    double list_med = bench_percentile(list, measured, 50);
    double scan_med = bench_percentile(scan, scans, 50);
    printf("depth %5u | per new block: projection %6.2f us (p99 %7.1f) | forward map %6.2f us | "
           "projection/forward %.2fx | backward scan %9.1f us | listing 3 wallets %7.1f us | "
           "%5u outputs, %3u headers held, catch-up %.1f us/block\n",
           depth, inc_med, inc_p99, fwd_med, inc_med / fwd_med, scan_med, list_med, n_proj,
           wallet_projection_size(p), catchup_us);
    printf("            | reorg of depth 3 between two held branches: projection set_tip %.1f us (%u events), "
           "state at either tip %.0f ns (a lookup); the forward map must rescan: backward scan %.1f us "
           "(%.0fx)\n", flip_med, n_events, lookup_med, scan_med, scan_med / (flip_med + lookup_med / 1000.0));
    g_ptr_array_unref(fork_chain);
    g_ptr_array_unref(fork_blocks);
    g_ptr_array_unref(events);
    wallet_projection_free(p);
    g_hash_table_unref(addr_wallet);
    g_ptr_array_unref(g.blocks);
    g_ptr_array_unref(g.unspent);
    g_rand_free(g.rng);
}

int main(int argc, char **argv)
{
    bench_init("bench_wallet", &argc, argv);
    if (bench_small()) {
        measured = 100;
        scans = 3;
    }
    printf("bench_wallet: wallet state after each new block, %u wallets x %u addresses, %u payments + "
           "a coinbase per block; fold depth 100 below LIB (6 confirmations)\n",
           N_WALLETS, ADDR_PER_WALLET, TX_PER_BLOCK);
    static const guint full[] = {100, 1000, 5000}, small[] = {100, 500};
    const guint *depths = bench_small() ? small : full;
    guint n_depths = bench_small() ? G_N_ELEMENTS(small) : G_N_ELEMENTS(full);
    guint one = 0;
    if (argc == 3 && !strcmp(argv[1], "--depth")) {
        one = (guint)g_ascii_strtoull(argv[2], NULL, 10);
        if (one < 10 || one > 100000)
            bench_die("--depth %s: a chain depth from 10 to 100000", argv[2]);
        depths = &one;
        n_depths = 1;
    } else if (argc > 1) {
        bench_die("usage: bench_wallet [--small] [--depth N]");
    }
    for (guint i = 0; i < n_depths; i++)
        run_depth(depths[i]);
    printf("RSS %ld KiB\n", bench_rss_kib());
    return bench_finish();
}
