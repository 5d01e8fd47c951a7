/* test_wallet_utxo_map.c: the persistent UTXO map against a plain hash table: random
 * inserts, replacements and removals where every kept older version must still read as it
 * did, the same through edits (changes made in place on the nodes an edit created, as the
 * projection does within one block), and keys whose 32-bit hashes collide completely
 * (found by search). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "wallet/utxo_map.h"

static wallet_utxo *mk(const char *txid, guint32 vout, gint64 amount)
{
    return wallet_utxo_new(txid, vout, amount, "a", 1, FALSE, 1);
}

typedef struct {
    utxo_map *m;
    GHashTable *model; /* "txid:vout" -> amount */
} version;

static void count_one(const wallet_utxo *u, void *data)
{
    (*(guint *)data)++;
    (void)u;
}

static void check_version(const version *v)
{
    GHashTableIter it;
    gpointer k, val;
    g_hash_table_iter_init(&it, v->model);
    while (g_hash_table_iter_next(&it, &k, &val)) {
        char txid[CHAIN_HASH_BUF];
        const char *colon = strchr(k, ':');
        g_strlcpy(txid, k, (gsize)(colon - (char *)k) + 1);
        const wallet_utxo *u = utxo_map_lookup(v->m, txid, (guint32)atoi(colon + 1));
        assert_non_null(u);
        assert_int_equal(u->amount, GPOINTER_TO_SIZE(val));
    }
    guint n = 0;
    utxo_map_foreach(v->m, count_one, &n);
    assert_int_equal(n, g_hash_table_size(v->model));
}

/* Applies one change to m: through the persistent calls when edit is 0, else through the
 * edit calls (which take m's reference). */
static utxo_map *do_insert(utxo_map *m, wallet_utxo *u, wallet_utxo **old, guint64 edit)
{
    if (!edit) {
        utxo_map *next = utxo_map_insert(m, u, old);
        utxo_map_unref(m);
        return next;
    }
    return utxo_map_insert_edit(m, u, utxo_map_key_hash(u->txid, u->vout), old, edit);
}

static utxo_map *do_remove(utxo_map *m, const char *txid, guint32 vout, wallet_utxo **gone, guint64 edit)
{
    if (!edit) {
        utxo_map *next = utxo_map_remove(m, txid, vout, gone);
        assert_true(*gone || next == m); /* absent: the same version */
        utxo_map_unref(m);
        return next;
    }
    return utxo_map_remove_edit(m, txid, vout, utxo_map_key_hash(txid, vout), gone, edit);
}

/* Random changes to one map; a version is kept every 500 changes and must read the same
 * at the end. With edits, each edit spans 1 to 40 changes and versions are kept only
 * between edits (as the projection keeps a block's state once the block is applied). */
static void random_versions(gboolean edits)
{
    GRand *rng = g_rand_new_with_seed(42);
    guint64 edit = 0, edit_left = 0, in_place = 0;
    gboolean changed_in_edit = FALSE, want_keep = FALSE;
    utxo_map *m = NULL;
    GHashTable *model = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    GArray *kept = g_array_new(FALSE, FALSE, sizeof(version));
    for (guint op = 0; op < 20000; op++) {
        if (edits && !edit_left) { /* a new edit: nothing it did not create may change in place */
            edit++;
            edit_left = g_rand_int_range(rng, 1, 41);
            changed_in_edit = FALSE;
        }
        guint r = g_rand_int_range(rng, 0, 10);
        if (r < 6 || !keys->len) { /* insert a new key, or replace an old one */
            char txid[CHAIN_HASH_BUF], key[CHAIN_HASH_BUF + 12];
            gboolean replace = r == 5 && keys->len;
            guint32 vout = 0;
            if (replace) {
                const char *k = keys->pdata[g_rand_int_range(rng, 0, keys->len)];
                const char *colon = strchr(k, ':');
                g_strlcpy(txid, k, (gsize)(colon - k) + 1);
                vout = (guint32)atoi(colon + 1);
            } else {
                g_snprintf(txid, sizeof txid, "%064x", g_rand_int(rng));
                vout = g_rand_int_range(rng, 0, 4);
            }
            g_snprintf(key, sizeof key, "%s:%u", txid, vout);
            gint64 amount = g_rand_int_range(rng, 1, 1 << 30);
            wallet_utxo *old = NULL;
            m = do_insert(m, mk(txid, vout, amount), &old, edit);
            changed_in_edit = TRUE;
            assert_int_equal(old != NULL, g_hash_table_contains(model, key));
            if (old)
                wallet_utxo_unref(old);
            else
                g_ptr_array_add(keys, g_strdup(key));
            g_hash_table_replace(model, g_strdup(key), GSIZE_TO_POINTER((gsize)amount));
        } else { /* remove a present key, or an absent one */
            guint at = g_rand_int_range(rng, 0, keys->len);
            char *k = keys->pdata[at];
            char txid[CHAIN_HASH_BUF];
            const char *colon = strchr(k, ':');
            g_strlcpy(txid, k, (gsize)(colon - k) + 1);
            guint32 vout = (guint32)atoi(colon + 1) + (r == 9 ? 7 : 0); /* r 9: never present */
            wallet_utxo *gone = NULL;
            utxo_map *before = m;
            gboolean owned = edits && changed_in_edit && g_hash_table_size(model) > 1;
            m = do_remove(m, txid, vout, &gone, edit);
            if (owned || r == 9) /* a root this edit made shrinks in place; absent: unchanged */
                assert_ptr_equal(m, before);
            in_place += owned && r != 9;
            if (r == 9) {
                assert_null(gone);
            } else {
                changed_in_edit = TRUE;
                assert_non_null(gone);
                assert_int_equal(gone->amount, GPOINTER_TO_SIZE(g_hash_table_lookup(model, k)));
                wallet_utxo_unref(gone);
                g_hash_table_remove(model, k);
                g_ptr_array_remove_index_fast(keys, at);
            }
        }
        if (edits)
            edit_left--;
        want_keep |= op % 500 == 0;
        if (want_keep && (!edits || !edit_left)) {
            want_keep = FALSE;
            version v = {utxo_map_ref(m), g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
            GHashTableIter it;
            gpointer k, val;
            g_hash_table_iter_init(&it, model);
            while (g_hash_table_iter_next(&it, &k, &val))
                g_hash_table_insert(v.model, g_strdup(k), val);
            g_array_append_val(kept, v);
        }
    }
    version now = {m, model};
    check_version(&now);
    for (guint i = 0; i < kept->len; i++) { /* older versions are untouched */
        version *v = &g_array_index(kept, version, i);
        check_version(v);
        utxo_map_unref(v->m);
        g_hash_table_unref(v->model);
    }
    print_message("20000 operations%s, %u live outputs, %u older versions checked, %" G_GUINT64_FORMAT
                  " removals in place\n", edits ? " in edits" : "", g_hash_table_size(model), kept->len, in_place);
    if (edits)
        assert_true(in_place > 1000);
    utxo_map_unref(m);
    g_hash_table_unref(model);
    g_ptr_array_unref(keys);
    g_array_unref(kept);
    g_rand_free(rng);
}

static void test_random_versions(void **unused)
{
    random_versions(FALSE);
}

static void test_random_edits(void **unused)
{
    random_versions(TRUE);
}

/* Two keys with the same 32-bit hash end in a collision node; both stay addressable. */
static void test_full_hash_collision(void **unused)
{
    GHashTable *seen = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    char a[CHAIN_HASH_BUF] = "", b[CHAIN_HASH_BUF] = "";
    for (guint64 i = 0; !a[0]; i++) {
        char txid[CHAIN_HASH_BUF];
        g_snprintf(txid, sizeof txid, "%064" G_GINT64_MODIFIER "x", i);
        guint32 h = utxo_map_key_hash(txid, 0);
        char *prev = g_hash_table_lookup(seen, GUINT_TO_POINTER(h));
        if (prev) {
            g_strlcpy(a, prev, sizeof a);
            g_strlcpy(b, txid, sizeof b);
        } else {
            g_hash_table_insert(seen, GUINT_TO_POINTER(h), g_strdup(txid));
        }
    }
    g_hash_table_unref(seen);
    assert_int_equal(utxo_map_key_hash(a, 0), utxo_map_key_hash(b, 0));
    utxo_map *m1 = utxo_map_insert(NULL, mk(a, 0, 1), NULL);
    utxo_map *m2 = utxo_map_insert(m1, mk(b, 0, 2), NULL);
    wallet_utxo *old = NULL;
    utxo_map *m3 = utxo_map_insert(m2, mk(b, 0, 3), &old); /* replace inside the collision node */
    assert_non_null(old);
    assert_int_equal(old->amount, 2);
    wallet_utxo_unref(old);
    assert_int_equal(utxo_map_lookup(m3, a, 0)->amount, 1);
    assert_int_equal(utxo_map_lookup(m3, b, 0)->amount, 3);
    assert_int_equal(utxo_map_lookup(m2, b, 0)->amount, 2);
    assert_null(utxo_map_lookup(m1, b, 0));
    wallet_utxo *gone = NULL;
    utxo_map *m4 = utxo_map_remove(m3, a, 0, &gone);
    assert_int_equal(gone->amount, 1);
    wallet_utxo_unref(gone);
    assert_null(utxo_map_lookup(m4, a, 0));
    assert_int_equal(utxo_map_lookup(m4, b, 0)->amount, 3);
    utxo_map *m5 = utxo_map_remove(m4, b, 0, NULL);
    assert_null(m5); /* empty again */
    assert_int_equal(utxo_map_lookup(m3, a, 0)->amount, 1);
    print_message("colliding keys %.12s.. and %.12s.. (hash %08x)\n", a, b, utxo_map_key_hash(a, 0));
    utxo_map_unref(m1);
    utxo_map_unref(m2);
    utxo_map_unref(m3);
    utxo_map_unref(m4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_versions),
        cmocka_unit_test(test_random_edits),
        cmocka_unit_test(test_full_hash_collision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
