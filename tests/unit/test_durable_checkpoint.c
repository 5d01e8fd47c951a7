/* test_durable_checkpoint.c: fingerprints and checkpoints. The fingerprint changes with
 * the config, the logic version, the code's build-id and the fingerprints it builds on;
 * a checkpoint is used only when valid, and every other branch (missing, config changed,
 * version bumped, rebuilt code, bootstrap unfinished, corrupted file) says so. Also the
 * projection cache with provenance. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <string.h>
#include <glib/gstdio.h>
#include "rt_fixture.h"
#include "skip.h"
#include "tf/durable.h"

typedef struct {
    char *dir, *path;
    tf_store *s;
} env;

static int setup(void **state)
{
    env *e = g_new0(env, 1);
    e->dir = g_dir_make_tmp("tf-ckpt-XXXXXX", NULL);
    e->path = g_build_filename(e->dir, "state.db", NULL);
    e->s = tf_store_open(e->path, NULL);
    assert_non_null(e->s);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    tf_store_unref(e->s);
    GDir *d = g_dir_open(e->dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(e->dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(e->dir);
    g_free(e->dir);
    g_free(e->path);
    g_free(e);
    return 0;
}

static char *fp(const tf_observer *obs, json_t *cfg, const char *const *deps)
{
    GError *err = NULL;
    char *f = tf_fingerprint_observer(obs, cfg, deps, &err);
    assert_no_gerror(err);
    assert_int_equal(strlen(f), 64);
    return f;
}

typedef gboolean (*poll_fn)(void *, tf_poll_ctx *, GError **);

static void test_build_id(void **unused)
{
    GError *err = NULL;
    char *mine = tf_build_id_of((const void *)test_build_id, &err);
    assert_no_gerror(err);
    assert_true(strlen(mine) >= 16);
    char *theirs = tf_build_id_of((const void *)g_free, &err); /* libglib: another object */
    assert_no_gerror(err);
    assert_string_not_equal(mine, theirs);
    int on_stack = 0;
    assert_null(tf_build_id_of(&on_stack, &err)); /* not code of any object */
    assert_non_null(strstr(err->message, "no loaded object"));
    g_clear_error(&err);
    g_free(mine);
    g_free(theirs);
}

/* The build-id read from memory is the one binutils reads from the file. */
static void test_build_id_matches_readelf(void **unused)
{
    char *readelf = tf_test_need_program("readelf", "binutils");
    GError *err = NULL;
    char *mine = tf_build_id_of((const void *)test_build_id_matches_readelf, &err);
    assert_no_gerror(err);
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *argv[] = {readelf, "-n", exe, NULL};
    char *out = NULL;
    assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                             NULL, NULL, NULL));
    if (!strstr(out, mine))
        fail_msg("readelf -n %s does not show build-id %s", exe, mine);
    g_free(out);
    g_free(exe);
    g_free(readelf);
    g_free(mine);
}

static void test_fingerprint_inputs(void **unused)
{
    json_t *cfg = json_pack("{s:i, s:s}", "lib_k", 6, "net", "regtest");
    json_t *same = json_pack("{s:s, s:i}", "net", "regtest", "lib_k", 6); /* other key order */
    json_t *changed = json_pack("{s:i, s:s}", "lib_k", 7, "net", "regtest");
    char *a = fp(&counter_observer, cfg, NULL);
    char *b = fp(&counter_observer, same, NULL);
    assert_string_equal(a, b);
    char *c = fp(&counter_observer, changed, NULL);
    assert_string_not_equal(a, c);
    tf_observer bumped = counter_observer;
    bumped.version++;
    char *d = fp(&bumped, cfg, NULL);
    assert_string_not_equal(a, d);
    tf_observer rebuilt = counter_observer;
    rebuilt.poll = (poll_fn)(void (*)(void))g_free; /* code in another object: another build-id */
    char *e = fp(&rebuilt, cfg, NULL);
    assert_string_not_equal(a, e);
    const char *deps1[] = {a, NULL}, *deps2[] = {c, NULL};
    char *w1 = fp(&counter_observer, NULL, deps1);
    char *w2 = fp(&counter_observer, NULL, deps2);
    assert_string_not_equal(w1, w2); /* a projection follows the observer it builds on */
    char *items[] = {a, b, c, d, e, w1, w2};
    for (guint i = 0; i < G_N_ELEMENTS(items); i++)
        g_free(items[i]);
    json_decref(cfg);
    json_decref(same);
    json_decref(changed);
}

/* The store's generic fingerprint is the hash of one documented text, and an observer's
 * is that fingerprint over its name, version and poll function: the value checkpoints
 * were saved under before tf_fingerprint_observer moved out of tf/durable. */
static void test_fingerprint_generic(void **unused)
{
    GError *err = NULL;
    json_t *cfg = json_pack("{s:s, s:i}", "net", "regtest", "lib_k", 6);
    const char *deps[] = {"d1", "d2", NULL};
    const void *code;
    memcpy(&code, &counter_observer.poll, sizeof code);
    char *build_id = tf_build_id_of(code, &err);
    assert_no_gerror(err);
    char *text = g_strdup_printf("tf-fingerprint/1\nname=%s\nversion=%u\n"
                                 "config={\"lib_k\":6,\"net\":\"regtest\"}\n"
                                 "build-id=%s\ndepends=d1\ndepends=d2\n",
                                 counter_observer.name, counter_observer.version, build_id);
    char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
    char *generic = tf_fingerprint(counter_observer.name, counter_observer.version, cfg, code,
                                   deps, &err);
    assert_no_gerror(err);
    assert_string_equal(generic, want);
    char *observer = fp(&counter_observer, cfg, deps);
    assert_string_equal(observer, want);
    int on_stack = 0;
    assert_null(tf_fingerprint("x", 1, NULL, &on_stack, NULL, &err)); /* no object: no build-id */
    assert_non_null(strstr(err->message, "no loaded object"));
    g_clear_error(&err);
    g_free(observer);
    g_free(generic);
    g_free(want);
    g_free(text);
    g_free(build_id);
    json_decref(cfg);
}

/* Loads and checks the status and the log line. */
static json_t *load(env *e, const char *fpr, tf_checkpoint_status want, const char *why_has)
{
    json_t *state = NULL;
    char *why = NULL;
    GError *err = NULL;
    tf_checkpoint_status st = tf_checkpoint_load(e->s, "counter", fpr, &state, &why, &err);
    assert_no_gerror(err);
    if (st != want || !strstr(why, why_has))
        fail_msg("got %s (%s), wanted %s with '%s'", tf_checkpoint_status_name(st), why,
                 tf_checkpoint_status_name(want), why_has);
    if (want == TF_CHECKPOINT_VALID)
        assert_non_null(state);
    else
        assert_null(state);
    g_free(why);
    return state;
}

static void test_every_branch(void **state)
{
    env *e = *state;
    GError *err = NULL;
    json_t *cfg = json_pack("{s:i}", "lib_k", 6);
    char *now = fp(&counter_observer, cfg, NULL);
    json_t *saved = json_pack("{s:i, s:[s,s]}", "height", 5000, "heads", "aa", "bb");

    json_decref(load(e, now, TF_CHECKPOINT_MISSING, "none stored: full scan"));

    assert_true(tf_checkpoint_save(e->s, "counter", now, FALSE, saved, &err));
    json_decref(load(e, now, TF_CHECKPOINT_INCOMPLETE, "before its bootstrap finished"));

    assert_true(tf_checkpoint_save(e->s, "counter", now, TRUE, saved, &err));
    json_t *back = load(e, now, TF_CHECKPOINT_VALID, "valid");
    assert_true(json_equal(back, saved));
    json_decref(back);

    /* Config changed. */
    json_t *cfg2 = json_pack("{s:i}", "lib_k", 3);
    char *other_cfg = fp(&counter_observer, cfg2, NULL);
    json_decref(load(e, other_cfg, TF_CHECKPOINT_MISMATCH, "fingerprint mismatch"));
    /* Version bumped. */
    tf_observer bumped = counter_observer;
    bumped.version++;
    char *other_ver = fp(&bumped, cfg, NULL);
    json_decref(load(e, other_ver, TF_CHECKPOINT_MISMATCH, "version, config or code changed"));
    /* Rebuilt code (another build-id). */
    tf_observer rebuilt = counter_observer;
    rebuilt.poll = (poll_fn)(void (*)(void))g_free;
    char *other_code = fp(&rebuilt, cfg, NULL);
    json_decref(load(e, other_code, TF_CHECKPOINT_MISMATCH, "fingerprint mismatch"));
    /* Still valid for the unchanged observer. */
    json_decref(load(e, now, TF_CHECKPOINT_VALID, "skipped"));

    /* Corrupted file: one byte of the stored state flipped on disk. */
    tf_store_unref(e->s); /* the last close folds the WAL into the file */
    e->s = NULL;
    char *data;
    gsize len;
    assert_true(g_file_get_contents(e->path, &data, &len, NULL));
    /* 5000 -> 5900 wherever it is (a stale copy may sit in a free page): still valid
     * JSON and a sound SQLite file, but not what was saved. */
    guint hits = 0;
    for (char *hit = data; (hit = memmem(hit, len - (gsize)(hit - data), "\"height\":5000", 13));
         hits++)
        hit[10] = '9';
    assert_true(hits >= 1);
    assert_true(g_file_set_contents(e->path, data, (gssize)len, NULL));
    g_free(data);
    e->s = tf_store_open(e->path, &err);
    assert_no_gerror(err);
    json_decref(load(e, now, TF_CHECKPOINT_CORRUPT, "checksum does not match"));

    g_free(now);
    g_free(other_cfg);
    g_free(other_ver);
    g_free(other_code);
    json_decref(saved);
    json_decref(cfg);
    json_decref(cfg2);
}

static void test_cache_with_provenance(void **state)
{
    env *e = *state;
    GError *err = NULL;
    json_t *in1 = json_pack("{s:s, s:[s,s]}", "header", "00ab", "wallets", "w1", "w2");
    json_t *in1b = json_pack("{s:[s,s], s:s}", "wallets", "w1", "w2", "header", "00ab");
    json_t *in2 = json_pack("{s:s, s:[s,s]}", "header", "00cd", "wallets", "w1", "w2");
    char *k1 = tf_cache_key("fp-wallet", in1), *k1b = tf_cache_key("fp-wallet", in1b);
    char *k2 = tf_cache_key("fp-wallet", in2), *k1c = tf_cache_key("fp-other", in1);
    assert_string_equal(k1, k1b);
    assert_string_not_equal(k1, k2);
    assert_string_not_equal(k1, k1c); /* a new projection logic never reuses old results */
    json_t *got = NULL, *prov = NULL;
    assert_int_equal(tf_cache_get(e->s, "wallet", k1, &got, NULL, &err), TF_LOOKUP_ABSENT);
    assert_null(got);
    assert_no_gerror(err);
    json_t *res = json_pack("{s:i}", "w1", 50);
    gint64 before = g_get_real_time();
    assert_true(tf_cache_put(e->s, "wallet", k1, in1, res, 7, &err));
    assert_int_equal(tf_cache_get(e->s, "wallet", k1, &got, &prov, &err), TF_LOOKUP_FOUND);
    assert_true(json_equal(got, res));
    assert_int_equal(json_integer_value(json_object_get(prov, "run")), 7);
    assert_true(json_integer_value(json_object_get(prov, "time")) >= before);
    assert_true(json_equal(json_object_get(prov, "input"), in1));
    json_t *none = NULL;
    assert_int_equal(tf_cache_get(e->s, "wallet", k2, &none, NULL, &err), TF_LOOKUP_ABSENT);
    assert_int_equal(tf_cache_get(e->s, "other-kind", k1, &none, NULL, &err), TF_LOOKUP_ABSENT);
    assert_no_gerror(err);
    /* Unreadable stored JSON is a failure, never "absent" (which would recompute silently). */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE cache SET result = '{not json'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(tf_cache_get(e->s, "wallet", k1, &none, NULL, &err), TF_LOOKUP_FAILED);
    assert_null(none);
    assert_non_null(err);
    assert_int_equal(err->code, TF_ERROR_CORRUPT);
    g_clear_error(&err);
    json_decref(got);
    json_decref(prov);
    json_decref(res);
    json_decref(in1);
    json_decref(in1b);
    json_decref(in2);
    g_free(k1);
    g_free(k1b);
    g_free(k1c);
    g_free(k2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_id),
        cmocka_unit_test(test_build_id_matches_readelf),
        cmocka_unit_test(test_fingerprint_inputs),
        cmocka_unit_test(test_fingerprint_generic),
        cmocka_unit_test_setup_teardown(test_every_branch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_with_provenance, setup, teardown),
    };
    return tf_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
