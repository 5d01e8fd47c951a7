/* test_wallet_projection.c: the wallet projection over hand-built block trees: transfers,
 * coinbase maturity, forks and reorgs (revert and re-mine), events, folding below LIB,
 * unconfirmed spends, block JSON parsing, and a randomised tree whose every header's state
 * is checked against a backward scan from that header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "wallet/projection.h"

#define COIN G_GINT64_CONSTANT(100000000)

static char *hx(guint64 n) /* a 64-hex-digit name for n (static ring) */
{
    static char ring[8][CHAIN_HASH_BUF];
    static guint at;
    char *s = ring[at++ % 8];
    g_snprintf(s, CHAIN_HASH_BUF, "%064" G_GINT64_MODIFIER "x", n);
    return s;
}

/* The coinbase txid of block id, and "txid:0" (static rings). */
static char *cbid(guint64 id)
{
    static char ring[4][CHAIN_HASH_BUF];
    static guint at;
    char *s = ring[at++ % 4];
    g_snprintf(s, CHAIN_HASH_BUF, "c%063" G_GINT64_MODIFIER "x", id);
    return s;
}

static char *cbin(guint64 id)
{
    static char ring[4][CHAIN_HASH_BUF + 4];
    static guint at;
    char *s = ring[at++ % 4];
    g_snprintf(s, sizeof ring[0], "%s:0", cbid(id));
    return s;
}

/* A block with a coinbase paying `amount` to `addr` (txid = "c" + block number). */
static wallet_block *coinbase_block(guint64 id, guint64 parent, gint64 height, const char *addr, gint64 amount)
{
    wallet_block *b = wallet_block_new(hx(id), parent ? hx(parent) : "", height);
    const char *addrs[] = {addr};
    wallet_block_add_tx(b, cbid(id), TRUE, NULL, 0, addrs, &amount, 1);
    return b;
}

static void add(wallet_projection *p, wallet_block *b)
{
    GError *err = NULL;
    gboolean ok = wallet_projection_add_block(p, b, &err);
    if (!ok)
        fail_msg("%s", err->message);
    wallet_block_free(b);
}

static wallet_projection *three_wallets(void)
{
    wallet_projection *p = wallet_projection_new(NULL);
    const char *a[] = {"addrA", "addrA2", NULL}, *b[] = {"addrB", NULL}, *c[] = {"addrC", NULL};
    assert_true(wallet_projection_add_wallet(p, "A", a, NULL));
    assert_true(wallet_projection_add_wallet(p, "B", b, NULL));
    assert_true(wallet_projection_add_wallet(p, "C", c, NULL));
    return p;
}

static gint64 listed(wallet_projection *p, const char *hash, guint w, guint *n)
{
    wallet_state *s = wallet_projection_state(p, hash, w);
    assert_non_null(s);
    wallet_rule rule = {.coinbase_maturity = 100, .pending_spends = wallet_projection_pending_spends(p)};
    gint64 bal = -1;
    GPtrArray *l = wallet_state_list(s, wallet_state_height(s), &rule, &bal, NULL, NULL);
    if (n)
        *n = l->len;
    g_ptr_array_unref(l);
    return bal;
}

static guint count_kind(GPtrArray *events, wallet_event_kind kind, const char *wallet, const char *txid)
{
    guint n = 0;
    for (guint i = 0; i < events->len; i++) {
        const wallet_event *ev = events->pdata[i];
        n += ev->kind == kind && (!wallet || !g_strcmp0(ev->wallet, wallet)) &&
             (!txid || !strcmp(ev->txid, txid));
    }
    return n;
}

/* Coinbase outputs are listed once their depth reaches 101 (tip = 1), as listunspent does. */
static void test_coinbase_maturity(void **unused)
{
    wallet_projection *p = three_wallets();
    add(p, coinbase_block(1, 0, 0, "nobody", 50 * COIN)); /* genesis */
    for (guint64 h = 1; h <= 102; h++)
        add(p, coinbase_block(h + 1, h, (gint64)h, "addrA", 50 * COIN));
    guint n = 0;
    assert_int_equal(listed(p, hx(100), 0, &n), 0);      /* height 99: nothing mature */
    assert_int_equal(n, 0);
    assert_int_equal(listed(p, hx(101), 0, &n), 0);      /* height 100: depth of block 1 is 100 */
    assert_int_equal(listed(p, hx(102), 0, &n), 50 * COIN); /* height 101: depth 101 */
    assert_int_equal(n, 1);
    assert_int_equal(listed(p, hx(103), 0, &n), 100 * COIN);
    wallet_state *s = wallet_projection_state(p, hx(103), 0);
    assert_int_equal(wallet_state_total(s), 102 * 50 * COIN);
    assert_int_equal(wallet_state_n_utxos(s), 102);
    gint64 imm = 0;
    g_ptr_array_unref(wallet_state_list(s, 102, NULL, NULL, &imm, NULL));
    assert_int_equal(imm, 100 * 50 * COIN);
    wallet_rule rule = {.coinbase_maturity = 100};
    assert_true(wallet_state_balance_at_least(s, 102, &rule, 100 * COIN));
    assert_false(wallet_state_balance_at_least(s, 102, &rule, 100 * COIN + 1));
    assert_int_equal(listed(p, hx(103), 1, NULL), 0);
    wallet_projection_free(p);
}

/* A payment with change, and an output created and spent inside one block. */
static void test_transfer_and_events(void **unused)
{
    wallet_projection *p = three_wallets();
    add(p, coinbase_block(1, 0, 0, "addrA", 50 * COIN));
    wallet_block *b = coinbase_block(2, 1, 1, "nobody", 50 * COIN);
    const char *in1[] = {cbin(1)};
    const char *o1[] = {"addrB", "addrA2"};
    gint64 a1[] = {10 * COIN, 40 * COIN - 1000};
    wallet_block_add_tx(b, hx(0xaa), FALSE, in1, 1, o1, a1, 2);
    char spend_b[80];
    g_snprintf(spend_b, sizeof spend_b, "%s:0", hx(0xaa));
    const char *in2[] = {spend_b};
    const char *o2[] = {"addrC", NULL};
    gint64 a2[] = {9 * COIN, COIN - 500};
    wallet_block_add_tx(b, hx(0xbb), FALSE, in2, 1, o2, a2, 2);
    add(p, b);
    GPtrArray *events = g_ptr_array_new_with_free_func(wallet_event_free);
    assert_true(wallet_projection_set_tip(p, hx(2), events, NULL));
    wallet_state *sa = wallet_projection_state(p, hx(2), 0), *sb = wallet_projection_state(p, hx(2), 1);
    wallet_state *sc = wallet_projection_state(p, hx(2), 2);
    assert_int_equal(wallet_state_total(sa), 40 * COIN - 1000);
    assert_non_null(wallet_state_lookup(sa, hx(0xaa), 1));
    assert_null(wallet_state_lookup(sa, cbid(1), 0));
    assert_int_equal(wallet_state_total(sb), 0);
    assert_int_equal(wallet_state_n_utxos(sb), 0);
    assert_int_equal(wallet_state_total(sc), 9 * COIN);
    /* The root's state is untouched. */
    assert_int_equal(wallet_state_total(wallet_projection_state(p, hx(1), 0)), 50 * COIN);
    /* Events from the root: A's coinbase, then block 2. */
    assert_int_equal(count_kind(events, WALLET_EVENT_UTXO_CREATED, "A", NULL), 2);
    assert_int_equal(count_kind(events, WALLET_EVENT_UTXO_SPENT, "A", NULL), 1);
    assert_int_equal(count_kind(events, WALLET_EVENT_UTXO_CREATED, "B", hx(0xaa)), 1);
    assert_int_equal(count_kind(events, WALLET_EVENT_UTXO_SPENT, "B", hx(0xaa)), 1);
    assert_int_equal(count_kind(events, WALLET_EVENT_TX_INCLUDED, "B", NULL), 2);
    assert_int_equal(count_kind(events, WALLET_EVENT_TX_INCLUDED, "C", hx(0xbb)), 1);
    for (guint i = 0; i < events->len; i++) {
        const wallet_event *ev = events->pdata[i];
        if (ev->kind == WALLET_EVENT_TX_INCLUDED && !strcmp(ev->wallet, "A") && !strcmp(ev->txid, hx(0xaa)))
            assert_int_equal(ev->amount, -10 * COIN - 1000); /* net: spent 50, got 40 - fee back */
    }
    json_t *j = wallet_event_to_json(events->pdata[0]);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "tx_included");
    json_decref(j);
    assert_int_equal(wallet_projection_tx_confirmations(p, hx(2), hx(0xaa)), 1);
    assert_int_equal(wallet_projection_tx_confirmations(p, hx(1), hx(0xaa)), 0);
    assert_true(wallet_projection_tx_included(p, hx(0xbb), 1));
    assert_false(wallet_projection_tx_included(p, hx(0xbb), 2));
    g_ptr_array_unref(events);
    wallet_projection_free(p);
}

/* A payment on a short branch is reverted by a longer one, then mined there again; both
 * tips stay answerable without recomputing. */
static void test_reorg_revert_and_remine(void **unused)
{
    wallet_projection *p = three_wallets();
    add(p, coinbase_block(1, 0, 0, "addrA", 50 * COIN));
    /* Branch X: block 10 with the payment A -> B. */
    const char *in[] = {cbin(1)};
    const char *outs[] = {"addrB", "addrA"};
    gint64 amts[] = {20 * COIN, 30 * COIN - 100};
    wallet_block *x = coinbase_block(10, 1, 1, "nobody", COIN);
    wallet_block_add_tx(x, hx(0xbeef), FALSE, in, 1, outs, amts, 2);
    add(p, x);
    GPtrArray *ev = g_ptr_array_new_with_free_func(wallet_event_free);
    assert_true(wallet_projection_set_tip(p, hx(10), ev, NULL));
    g_ptr_array_set_size(ev, 0);
    /* Branch Y: two empty blocks, then the payment re-mined in a third. */
    add(p, coinbase_block(20, 1, 1, "nobody", COIN));
    add(p, coinbase_block(21, 20, 2, "nobody", COIN));
    assert_true(wallet_projection_set_tip(p, hx(21), ev, NULL));
    assert_int_equal(count_kind(ev, WALLET_EVENT_UTXO_REVERTED_BY_REORG, "B", hx(0xbeef)), 1);
    assert_int_equal(count_kind(ev, WALLET_EVENT_UTXO_REVERTED_BY_REORG, "A", hx(0xbeef)), 1);
    assert_int_equal(count_kind(ev, WALLET_EVENT_TX_DROPPED_BY_REORG, "B", hx(0xbeef)), 1);
    assert_int_equal(count_kind(ev, WALLET_EVENT_TX_DROPPED_BY_REORG, "A", hx(0xbeef)), 1);
    assert_int_equal(count_kind(ev, WALLET_EVENT_TX_INCLUDED, NULL, NULL), 0);
    assert_int_equal(wallet_state_total(wallet_projection_state(p, hx(21), 1)), 0);
    assert_int_equal(wallet_state_total(wallet_projection_state(p, hx(21), 0)), 50 * COIN);
    assert_int_equal(wallet_state_total(wallet_projection_state(p, hx(10), 1)), 20 * COIN);
    assert_false(wallet_projection_tx_included(p, hx(0xbeef), 1));
    assert_int_equal(wallet_projection_tx_confirmations(p, hx(10), hx(0xbeef)), 1);
    g_ptr_array_set_size(ev, 0);
    wallet_block *y3 = coinbase_block(22, 21, 3, "nobody", COIN);
    wallet_block_add_tx(y3, hx(0xbeef), FALSE, in, 1, outs, amts, 2);
    add(p, y3);
    add(p, coinbase_block(23, 22, 4, "nobody", COIN));
    assert_true(wallet_projection_set_tip(p, hx(23), ev, NULL));
    assert_int_equal(count_kind(ev, WALLET_EVENT_TX_INCLUDED, "B", hx(0xbeef)), 1);
    assert_int_equal(count_kind(ev, WALLET_EVENT_UTXO_CREATED, "B", hx(0xbeef)), 1);
    assert_int_equal(count_kind(ev, WALLET_EVENT_UTXO_SPENT, "A", NULL), 1);
    assert_true(wallet_projection_tx_included(p, hx(0xbeef), 2));
    assert_false(wallet_projection_tx_included(p, hx(0xbeef), 3));
    const wallet_utxo *u = wallet_state_lookup(wallet_projection_state(p, hx(23), 1), hx(0xbeef), 0);
    assert_non_null(u);
    assert_int_equal(u->height, 3);
    assert_int_equal(u->amount, 20 * COIN);
    /* Back to branch X (say it grew): everything of Y is reverted, X's payment included. */
    add(p, coinbase_block(11, 10, 2, "addrC", COIN));
    add(p, coinbase_block(12, 11, 3, "nobody", COIN));
    add(p, coinbase_block(13, 12, 4, "nobody", COIN));
    add(p, coinbase_block(14, 13, 5, "nobody", COIN));
    g_ptr_array_set_size(ev, 0);
    assert_true(wallet_projection_set_tip(p, hx(14), ev, NULL));
    assert_int_equal(count_kind(ev, WALLET_EVENT_TX_DROPPED_BY_REORG, "B", hx(0xbeef)), 1);
    assert_int_equal(count_kind(ev, WALLET_EVENT_TX_INCLUDED, "B", hx(0xbeef)), 1);
    assert_int_equal(count_kind(ev, WALLET_EVENT_UTXO_CREATED, "C", NULL), 1);
    /* Dropped events come first, highest block first. */
    const wallet_event *first = ev->pdata[0];
    assert_int_equal(first->kind, WALLET_EVENT_UTXO_REVERTED_BY_REORG);
    assert_int_equal(first->height, 3);
    assert_int_equal(wallet_projection_tx_confirmations(p, hx(14), hx(0xbeef)), 5);
    assert_false(wallet_projection_set_tip(p, hx(99), NULL, NULL));
    g_ptr_array_unref(ev);
    wallet_projection_free(p);
}

/* Folding keeps the LIB window, drops what is below it and every branch off it below the
 * new root, and remembers folded transactions' heights. */
static void test_fold_below_lib(void **unused)
{
    wallet_projection_config cfg;
    wallet_projection_config_init(&cfg);
    cfg.fold_depth = 10;
    wallet_projection *p = wallet_projection_new(&cfg);
    const char *a[] = {"addrA", NULL};
    assert_true(wallet_projection_add_wallet(p, "A", a, NULL));
    for (guint64 h = 0; h < 60; h++)
        add(p, coinbase_block(h + 1, h, (gint64)h, h % 2 ? "addrA" : "x", COIN));
    add(p, coinbase_block(1000, 20, 20, "addrA", COIN)); /* a side branch off height 19 */
    add(p, coinbase_block(1001, 55, 55, "addrA", COIN)); /* a side branch off height 54 */
    assert_true(wallet_projection_set_tip(p, hx(60), NULL, NULL));
    gint64 before = wallet_state_total(wallet_projection_state(p, hx(40), 0));
    assert_int_equal(wallet_projection_size(p), 62);
    assert_int_equal(wallet_projection_fold(p, hx(10)), 0);   /* LIB too low: nothing */
    guint dropped = wallet_projection_fold(p, hx(50));        /* LIB height 49: root at 39 */
    assert_int_equal(dropped, 39 + 1);                          /* heights 0..38 and the old side branch */
    assert_int_equal(wallet_projection_root_height(p), 39);
    assert_string_equal(wallet_projection_root(p), hx(40));
    assert_int_equal(wallet_projection_size(p), 21 + 1);
    assert_false(wallet_projection_has(p, hx(1000)));
    assert_true(wallet_projection_has(p, hx(1001)));
    assert_int_equal(wallet_state_total(wallet_projection_state(p, hx(40), 0)), before);
    assert_int_equal(wallet_state_total(wallet_projection_state(p, hx(60), 0)), 30 * COIN);
    /* A folded coinbase still counts its confirmations. */
    assert_int_equal(wallet_projection_tx_confirmations(
                         p, hx(60), cbid(2)), 59);
    assert_string_equal(wallet_projection_tip(p), hx(60));
    /* Blocks below the checkpoint no longer connect. */
    GError *err = NULL;
    wallet_block *late = coinbase_block(2000, 5, 5, "addrA", COIN);
    assert_false(wallet_projection_add_block(p, late, &err));
    assert_non_null(strstr(err->message, "not held"));
    g_clear_error(&err);
    wallet_block_free(late);
    /* Events after a fold start from the held chain. */
    add(p, coinbase_block(61, 60, 60, "addrA", COIN));
    GPtrArray *ev = g_ptr_array_new_with_free_func(wallet_event_free);
    assert_true(wallet_projection_set_tip(p, hx(61), ev, NULL));
    assert_int_equal(ev->len, 2);
    g_ptr_array_unref(ev);
    /* The root's single-child line ends at 54 (the side branch 1001). A fold whose new
     * root lies on that line takes it; one whose lib is on the side branch, above the
     * fork, keeps the side branch's ancestor and drops the main line above the fork. */
    for (guint64 h = 61; h < 66; h++)
        add(p, coinbase_block(h + 1, h, (gint64)h, "x", COIN));
    for (guint64 h = 56; h < 72; h++)
        add(p, coinbase_block(h + 1000 - 54, h == 56 ? 1001 : h + 1000 - 55, (gint64)h, "addrA", COIN));
    gint64 side = wallet_state_total(wallet_projection_state(p, hx(1017), 0));
    assert_int_equal(wallet_projection_fold(p, hx(62)), 12);  /* LIB height 61: root at 51 */
    assert_string_equal(wallet_projection_root(p), hx(52));
    assert_true(wallet_projection_has(p, hx(1001)));
    assert_int_equal(wallet_projection_fold(p, hx(1017)), 4 + 6 + 11); /* LIB 71 on the side: root 61 */
    assert_string_equal(wallet_projection_root(p), hx(1007));
    assert_false(wallet_projection_has(p, hx(55)));
    assert_false(wallet_projection_has(p, hx(66)));
    assert_true(wallet_projection_has(p, hx(1017)));
    assert_int_equal(wallet_projection_size(p), 11);
    assert_int_equal(wallet_state_total(wallet_projection_state(p, hx(1017), 0)), side);
    assert_string_equal(wallet_projection_tip(p), "");            /* the old tip went with its branch */
    /* The newest child first in the tree: a branch off 1009 (h63) reaching past the new
     * root's height must not be taken for the line lib lies on. */
    for (guint64 id = 1018; id <= 1030; id++)
        add(p, coinbase_block(id, id - 1, (gint64)id - 1018 + 72, "x", COIN));
    for (guint64 id = 3001; id <= 3012; id++)
        add(p, coinbase_block(id, id == 3001 ? 1009 : id - 1, (gint64)id - 3001 + 64, "addrA", COIN));
    assert_int_equal(wallet_projection_fold(p, hx(1030)), 13 + 12); /* LIB 84: root 1020 (h74) */
    assert_string_equal(wallet_projection_root(p), hx(1020));
    assert_false(wallet_projection_has(p, hx(3011)));
    assert_int_equal(wallet_projection_size(p), 11);
    wallet_projection_free(p);
}

/* A block's events share one allocation: each is freed on its own, in any order, and any
 * of them outlives the projection and the rest (ASan checks the memory). */
static void test_event_batch_lifetime(void **unused)
{
    wallet_projection *p = three_wallets();
    add(p, coinbase_block(1, 0, 0, "addrA", COIN));
    wallet_block *b = coinbase_block(2, 1, 1, "addrB", COIN);
    const char *in[] = {cbin(1)};
    const char *o[] = {"addrC", "addrA2"};
    gint64 a[] = {COIN / 2, COIN / 2 - 100};
    wallet_block_add_tx(b, hx(0xcc), FALSE, in, 1, o, a, 2);
    add(p, b);
    GPtrArray *ev = g_ptr_array_new();
    assert_true(wallet_projection_set_tip(p, hx(2), ev, NULL));
    /* Block 1: A's coinbase (tx + output); block 2: B's coinbase (2), the payment (A, C
     * txs; A spent, C and A2 created). */
    assert_int_equal(ev->len, 2 + 2 + 2 + 3);
    wallet_event *keep = ev->pdata[ev->len - 1];
    for (guint i = 0; i + 1 < ev->len; i += 2)  /* every other one first, then the rest */
        wallet_event_free(ev->pdata[i]);
    for (guint i = 1; i + 1 < ev->len; i += 2)
        wallet_event_free(ev->pdata[i]);
    wallet_projection_free(p);
    assert_int_equal(keep->kind, WALLET_EVENT_UTXO_CREATED);
    assert_string_equal(keep->wallet, "A");
    assert_string_equal(keep->txid, hx(0xcc));
    assert_int_equal(keep->vout, 1);
    assert_string_equal(keep->block, hx(2));
    wallet_event_free(keep);
    g_ptr_array_unref(ev);
}

/* Outputs spent by unconfirmed transactions are hidden; unconfirmed outputs are not listed. */
static void test_unconfirmed(void **unused)
{
    wallet_projection *p = three_wallets();
    add(p, coinbase_block(1, 0, 0, "nobody", COIN));
    wallet_block *b = coinbase_block(2, 1, 1, "nobody", COIN);
    const char *outs[] = {"addrA", "addrA"};
    gint64 amts[] = {3 * COIN, 4 * COIN};
    wallet_block_add_tx(b, hx(0x77), FALSE, (const char *[]){"ff:0"}, 1, outs, amts, 2);
    add(p, b);
    assert_int_equal(listed(p, hx(2), 0, NULL), 7 * COIN);
    wallet_block *mem = wallet_block_new(hx(0xeeee), NULL, -1);
    char spend[80];
    g_snprintf(spend, sizeof spend, "%s:1", hx(0x77));
    const char *to[] = {"addrB"};
    gint64 amt = 4 * COIN - 10;
    const wallet_tx *tx = wallet_block_add_tx(mem, hx(0x88), FALSE, (const char *[]){spend}, 1, to, &amt, 1);
    wallet_projection_set_unconfirmed(p, &tx, 1);
    guint n = 0;
    assert_int_equal(listed(p, hx(2), 0, &n), 3 * COIN);
    assert_int_equal(n, 1);
    assert_int_equal(listed(p, hx(2), 1, NULL), 0);
    gint64 pend = 0;
    wallet_rule rule = {.coinbase_maturity = 100, .pending_spends = wallet_projection_pending_spends(p)};
    g_ptr_array_unref(wallet_state_list(wallet_projection_state(p, hx(2), 0), 1, &rule, NULL, NULL, &pend));
    assert_int_equal(pend, 4 * COIN);
    wallet_projection_set_unconfirmed(p, NULL, 0);
    assert_int_equal(listed(p, hx(2), 0, NULL), 7 * COIN);
    wallet_block_free(mem);
    wallet_projection_free(p);
}

static void test_errors(void **unused)
{
    wallet_projection *p = three_wallets();
    GError *err = NULL;
    assert_false(wallet_projection_add_wallet(p, "A", NULL, &err));
    assert_non_null(strstr(err->message, "already tracked"));
    g_clear_error(&err);
    add(p, coinbase_block(1, 0, 0, "x", 1));
    assert_false(wallet_projection_add_wallet(p, "D", NULL, &err));
    assert_non_null(strstr(err->message, "rescan"));
    g_clear_error(&err);
    wallet_block *b = coinbase_block(3, 2, 2, "x", 1);
    assert_false(wallet_projection_add_block(p, b, &err));
    assert_non_null(strstr(err->message, "parent"));
    g_clear_error(&err);
    wallet_block_free(b);
    b = coinbase_block(3, 1, 5, "x", 1);
    assert_false(wallet_projection_add_block(p, b, &err));
    assert_non_null(strstr(err->message, "does not follow"));
    g_clear_error(&err);
    wallet_block_free(b);
    assert_null(wallet_projection_state(p, hx(1), 3));
    assert_null(wallet_projection_state(p, hx(9), 0));
    assert_int_equal(wallet_projection_tx_confirmations(p, hx(9), hx(1)), -1);
    assert_int_equal(wallet_projection_wallet_index(p, "C"), 2);
    assert_int_equal(wallet_projection_wallet_index(p, "Z"), -1);
    wallet_projection_free(p);
}

/* getblock verbosity 2 as litecoind 0.21 writes it ("addresses" array) and as newer
 * nodes do ("address"); amounts become exact satoshis. */
static void test_block_json(void **unused)
{
    const char *text =
        "{\"hash\":\"" "1111111111111111111111111111111111111111111111111111111111111111" "\","
        "\"previousblockhash\":\"" "2222222222222222222222222222222222222222222222222222222222222222" "\","
        "\"height\":7,\"tx\":["
        "{\"txid\":\"3333333333333333333333333333333333333333333333333333333333333333\","
        " \"vin\":[{\"coinbase\":\"0101\",\"sequence\":4294967295}],"
        " \"vout\":[{\"value\":49.99996160,\"n\":0,\"scriptPubKey\":{\"addresses\":[\"rltc1qa\"]}},"
        "           {\"value\":0.0,\"n\":1,\"scriptPubKey\":{\"type\":\"nulldata\"}}]},"
        "{\"txid\":\"4444444444444444444444444444444444444444444444444444444444444444\","
        " \"vin\":[{\"txid\":\"3333333333333333333333333333333333333333333333333333333333333333\",\"vout\":0}],"
        " \"vout\":[{\"value\":0.1,\"n\":0,\"scriptPubKey\":{\"address\":\"rltc1qb\"}},"
        "           {\"value\":20999999.99999999,\"n\":1,\"scriptPubKey\":{\"address\":\"rltc1qc\"}}]}]}";
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    GError *err = NULL;
    wallet_block *b = wallet_block_from_json(j, &err);
    assert_non_null(b);
    assert_int_equal(b->height, 7);
    assert_int_equal(b->n_tx, 2);
    assert_true(b->tx[0].coinbase);
    assert_int_equal(b->tx[0].n_in, 0);
    assert_int_equal(b->tx[0].out[0].amount, G_GINT64_CONSTANT(4999996160));
    assert_string_equal(b->tx[0].out[0].address, "rltc1qa");
    assert_null(b->tx[0].out[1].address);
    assert_false(b->tx[1].coinbase);
    assert_int_equal(b->tx[1].in[0].vout, 0);
    assert_int_equal(b->tx[1].out[0].amount, 10000000);
    assert_int_equal(b->tx[1].out[1].amount, G_GINT64_CONSTANT(2099999999999999));
    assert_string_equal(b->tx[1].out[1].address, "rltc1qc");
    wallet_block_free(b);
    json_decref(j);
    j = json_loads("{\"hash\":\"11\",\"height\":1,\"tx\":[]}", 0, NULL);
    assert_null(wallet_block_from_json(j, &err));
    assert_non_null(strstr(err->message, "getblock"));
    g_clear_error(&err);
    json_decref(j);
    j = json_loads("{\"txid\":\"3333333333333333333333333333333333333333333333333333333333333333\","
                   "\"vin\":[],\"vout\":[{\"value\":-1,\"n\":0}]}", 0, NULL);
    wallet_tx tx;
    assert_false(wallet_tx_from_json(j, &tx, &err));
    assert_non_null(strstr(err->message, "vout 0"));
    g_clear_error(&err);
    json_decref(j);
}

/* ---- randomised: every header's state equals a backward scan from that header ---------- */

typedef struct {
    guint64 id, parent;
    gint64 height;
    wallet_block *blk;
} rblock;

static gint cmp_str_ptr(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The naive answer: walk from `tip` to the root, collect spends, then outputs to `addrs`
 * not spent later on that path (nor replaced by a later output of the same txid:vout, as
 * a pre-BIP30 duplicate coinbase does). Returns "txid:vout=amount" lines sorted, and the
 * sum. */
static char *scan(GPtrArray *blocks, GHashTable *by_id, guint64 tip, GHashTable *addrs, gint64 *sum)
{
    GPtrArray *path = g_ptr_array_new();
    for (rblock *b = g_hash_table_lookup(by_id, &tip); b; b = b->parent ? g_hash_table_lookup(by_id, &b->parent) : NULL)
        g_ptr_array_add(path, b);
    GHashTable *spent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    *sum = 0;
    for (guint i = 0; i < path->len; i++) { /* tip first */
        wallet_block *blk = ((rblock *)path->pdata[i])->blk;
        for (guint t = blk->n_tx; t-- > 0;) {
            wallet_tx *tx = &blk->tx[t];
            for (guint o = 0; o < tx->n_out; o++) {
                char key[96];
                g_snprintf(key, sizeof key, "%s:%u", tx->txid, o);
                if (tx->out[o].address && g_hash_table_contains(addrs, tx->out[o].address) &&
                    !g_hash_table_contains(spent, key)) {
                    g_ptr_array_add(lines, g_strdup_printf("%s=%" G_GINT64_FORMAT, key, tx->out[o].amount));
                    *sum += tx->out[o].amount;
                }
                g_hash_table_add(spent, g_strdup(key)); /* an older output of this key is gone */
            }
            for (guint k = 0; k < tx->n_in; k++)
                g_hash_table_add(spent, g_strdup_printf("%s:%u", tx->in[k].txid, tx->in[k].vout));
        }
    }
    g_ptr_array_sort(lines, cmp_str_ptr);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < lines->len; i++)
        g_string_append_printf(s, "%s\n", (char *)lines->pdata[i]);
    g_ptr_array_unref(lines);
    g_hash_table_unref(spent);
    g_ptr_array_unref(path);
    (void)blocks;
    return g_string_free(s, FALSE);
}

static char *state_text(wallet_state *s)
{
    GPtrArray *all = wallet_state_list(s, G_MAXINT64 / 2, &(wallet_rule){.coinbase_maturity = 0}, NULL, NULL, NULL);
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < all->len; i++) {
        const wallet_utxo *u = all->pdata[i];
        g_ptr_array_add(lines, g_strdup_printf("%s:%u=%" G_GINT64_FORMAT, u->txid, u->vout, u->amount));
    }
    g_ptr_array_sort(lines, cmp_str_ptr);
    GString *t = g_string_new(NULL);
    for (guint i = 0; i < lines->len; i++)
        g_string_append_printf(t, "%s\n", (char *)lines->pdata[i]);
    g_ptr_array_unref(lines);
    g_ptr_array_unref(all);
    return g_string_free(t, FALSE);
}

static void test_random_tree_against_scan(void **unused)
{
    guint32 seed = 20261123;
    GRand *rng = g_rand_new_with_seed(seed);
    const char *addrs[3][3] = {{"a0", "a1", NULL}, {"b0", "b1", NULL}, {"c0", NULL, NULL}};
    const char *all_addr[] = {"a0", "a1", "b0", "b1", "c0", "z0", "z1"};
    wallet_projection *p = wallet_projection_new(NULL);
    GHashTable *sets[3];
    for (guint w = 0; w < 3; w++) {
        char name[8];
        g_snprintf(name, sizeof name, "w%u", w);
        assert_true(wallet_projection_add_wallet(p, name, addrs[w], NULL));
        sets[w] = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; addrs[w][i]; i++)
            g_hash_table_add(sets[w], (char *)addrs[w][i]);
    }
    GPtrArray *blocks = g_ptr_array_new();
    GHashTable *by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
    guint64 next_tx = 1;
    guint dups = 0;
    for (guint64 id = 1; id <= 300; id++) {
        rblock *rb = g_new0(rblock, 1);
        rb->id = id;
        if (id > 1) {
            /* Mostly extend a recent block, sometimes fork from an older one. */
            guint back = g_rand_int_range(rng, 0, 100) < 80 ? g_rand_int_range(rng, 1, 3) : g_rand_int_range(rng, 1, 20);
            rblock *par = blocks->pdata[blocks->len > back ? blocks->len - back : 0];
            rb->parent = par->id;
            rb->height = par->height + 1;
        }
        rb->blk = wallet_block_new(hx(id), rb->parent ? hx(rb->parent) : NULL, rb->height);
        /* Coinbase to a random address; one in 8 repeats an older coinbase's txid (a pre-BIP30
         * duplicate: on its branch it replaces the older output) and pays a tracked address (the
         * projection does not see an untracked duplicate, so it keeps the older output). */
        gint64 cb = g_rand_int_range(rng, 1, 5000);
        char cbid[CHAIN_HASH_BUF];
        gboolean dup = blocks->len && g_rand_int_range(rng, 0, 8) == 0;
        if (dup) {
            rblock *old = blocks->pdata[g_rand_int_range(rng, 0, blocks->len)];
            memcpy(cbid, old->blk->tx[0].txid, CHAIN_HASH_BUF);
            dups++;
        } else {
            g_snprintf(cbid, sizeof cbid, "%064" G_GINT64_MODIFIER "x", G_GUINT64_CONSTANT(1) << 60 | next_tx++);
        }
        const char *cba[] = {all_addr[g_rand_int_range(rng, 0, dup ? 5 : 7)]};
        wallet_block_add_tx(rb->blk, cbid, TRUE, NULL, 0, cba, &cb, 1);
        /* Spend some outputs of this branch (from the parent's state) and of this block. */
        GPtrArray *avail = g_ptr_array_new_with_free_func(g_free);
        if (rb->parent)
            for (guint w = 0; w < 3; w++) {
                GPtrArray *l = wallet_state_list(wallet_projection_state(p, hx(rb->parent), w), G_MAXINT64 / 2,
                                                 &(wallet_rule){0}, NULL, NULL, NULL);
                for (guint i = 0; i < l->len; i++) {
                    const wallet_utxo *u = l->pdata[i];
                    g_ptr_array_add(avail, g_strdup_printf("%s:%u", u->txid, u->vout));
                }
                g_ptr_array_unref(l);
            }
        g_ptr_array_add(avail, g_strdup_printf("%s:0", cbid));
        guint ntx = g_rand_int_range(rng, 0, 4);
        for (guint t = 0; t < ntx && avail->len; t++) {
            guint k = g_rand_int_range(rng, 0, avail->len);
            char *in = avail->pdata[k];
            char txid[CHAIN_HASH_BUF];
            g_snprintf(txid, sizeof txid, "%064" G_GINT64_MODIFIER "x", G_GUINT64_CONSTANT(2) << 60 | next_tx++);
            const char *o[] = {all_addr[g_rand_int_range(rng, 0, 7)], all_addr[g_rand_int_range(rng, 0, 7)]};
            gint64 a[] = {g_rand_int_range(rng, 1, 1000), g_rand_int_range(rng, 1, 1000)};
            wallet_block_add_tx(rb->blk, txid, FALSE, (const char *[]){in}, 1, o, a, 2);
            g_ptr_array_remove_index_fast(avail, k);
            g_ptr_array_add(avail, g_strdup_printf("%s:1", txid)); /* spendable later in this block */
        }
        g_ptr_array_unref(avail);
        GError *err = NULL;
        if (!wallet_projection_add_block(p, rb->blk, &err))
            fail_msg("seed %u: %s", seed, err->message);
        g_ptr_array_add(blocks, rb);
        g_hash_table_insert(by_id, &rb->id, rb);
        if (id % 7 == 0)
            assert_true(wallet_projection_set_tip(p, hx(id), NULL, NULL));
    }
    guint checked = 0;
    for (guint i = 0; i < blocks->len; i++) {
        rblock *rb = blocks->pdata[i];
        for (guint w = 0; w < 3; w++) {
            gint64 sum = 0;
            char *want = scan(blocks, by_id, rb->id, sets[w], &sum);
            wallet_state *s = wallet_projection_state(p, hx(rb->id), w);
            char *got = state_text(s);
            if (strcmp(want, got))
                fail_msg("seed %u: block %" G_GUINT64_FORMAT " wallet %u:\nwant\n%s\ngot\n%s", seed, rb->id, w, want, got);
            assert_int_equal(wallet_state_total(s), sum);
            /* Each listed output is found by lookup, in this wallet only; the count agrees. */
            GPtrArray *l = wallet_state_list(s, G_MAXINT64 / 2, &(wallet_rule){0}, NULL, NULL, NULL);
            assert_int_equal(l->len, wallet_state_n_utxos(s));
            for (guint k = 0; k < l->len; k++) {
                const wallet_utxo *u = l->pdata[k];
                assert_ptr_equal(wallet_state_lookup(s, u->txid, u->vout), u);
                assert_null(wallet_state_lookup(wallet_projection_state(p, hx(rb->id), (w + 1) % 3), u->txid,
                                                u->vout));
            }
            g_ptr_array_unref(l);
            checked++;
            g_free(want);
            g_free(got);
        }
    }
    assert_int_equal(checked, 900);
    assert_true(dups > 10);
    print_message("random tree (seed %u): %u blocks (%u duplicate coinbase txids), %u states equal to a backward "
                  "scan\n", seed, blocks->len, dups, checked);
    for (guint i = 0; i < blocks->len; i++) {
        rblock *rb = blocks->pdata[i];
        wallet_block_free(rb->blk);
        g_free(rb);
    }
    g_ptr_array_unref(blocks);
    g_hash_table_unref(by_id);
    for (guint w = 0; w < 3; w++)
        g_hash_table_unref(sets[w]);
    wallet_projection_free(p);
    g_rand_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coinbase_maturity),
        cmocka_unit_test(test_transfer_and_events),
        cmocka_unit_test(test_reorg_revert_and_remine),
        cmocka_unit_test(test_fold_below_lib),
        cmocka_unit_test(test_event_batch_lifetime),
        cmocka_unit_test(test_unconfirmed),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_block_json),
        cmocka_unit_test(test_random_tree_against_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
