/* test_cck.c: the Cucumber Compatibility Kit: runs every sample's .feature with its step
 * definitions ported to C (cck_steps.h) and `--format message`, and compares the NDJSON
 * with the sample's, envelope by envelope, after normalising away what cannot match:
 * ids (renumbered by first appearance), `timestamp`, `duration`, `sourceReference` (the
 * TypeScript lines), `exception` (JavaScript error types and stack traces), `snippets`
 * (C instead of TypeScript), `uri` (basename only) and the `meta` envelope. Everything
 * else, `message` texts included, must be equal. An NDJSON line that is not JSON fails
 * the sample. Every sample folder present must be in cck_samples[], and exactly the 40
 * official ones must be present (38 run, 2 listed as unsupported). Without the folder:
 * skip.h.
 *
 * Every sample runs twice: serially and with --parallel 4 (worker processes: this test
 * program started again, which then runs the sample its parent named in TF_CCK_SAMPLE).
 * A parallel run may legitimately differ in two ways, undone before comparing: its
 * attempts end in another order (each attempt's envelopes stay together: they are put
 * back in the order of the test cases), and BeforeAll/AfterAll run once per worker (a
 * hook's later runs are dropped, and must have ended as its first did). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <glib/gstdio.h>
#include "tf/runner.h"
#include "cck_steps.h"
#include "skip.h"

#define CCK_SAMPLES 40 /* official sample folders in ../shared/cck */
#define CCK_RUN 38     /* all but markdown and test-run-exception (see cck_samples[]) */

static gboolean is_id_key(const char *k)
{
    return !strcmp(k, "id") || g_str_has_suffix(k, "Id");
}

static json_t *map_id(json_t *v, GHashTable *ids)
{
    if (!json_is_string(v))
        return json_incref(v);
    const char *s = json_string_value(v);
    gpointer n = g_hash_table_lookup(ids, s);
    if (!n) {
        n = GUINT_TO_POINTER(g_hash_table_size(ids) + 1);
        g_hash_table_insert(ids, g_strdup(s), n);
    }
    return json_sprintf("id%u", GPOINTER_TO_UINT(n));
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *normalise(json_t *v, GHashTable *ids)
{
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) json_array_append_new(out, normalise(e, ids));
        return out;
    }
    if (!json_is_object(v))
        return json_incref(v);
    GPtrArray *keys = g_ptr_array_new();
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) g_ptr_array_add(keys, (gpointer)k);
    g_ptr_array_sort(keys, cmp_str);
    json_t *out = json_object();
    for (guint i = 0; i < keys->len; i++) {
        k = g_ptr_array_index(keys, i);
        e = json_object_get(v, k);
        if (!strcmp(k, "timestamp") || !strcmp(k, "duration") || !strcmp(k, "sourceReference") ||
            !strcmp(k, "exception") || !strcmp(k, "snippets"))
            continue;
        if (!strcmp(k, "uri") && json_is_string(e)) {
            char *b = g_path_get_basename(json_string_value(e));
            json_object_set_new(out, k, json_string(b));
            g_free(b);
        } else if (is_id_key(k)) {
            json_object_set_new(out, k, map_id(e, ids));
        } else if (g_str_has_suffix(k, "Ids") && json_is_array(e)) {
            json_t *arr = json_array();
            size_t j;
            json_t *x;
            json_array_foreach(e, j, x) json_array_append_new(arr, map_id(x, ids));
            json_object_set_new(out, k, arr);
        } else {
            json_object_set_new(out, k, normalise(e, ids));
        }
    }
    g_ptr_array_unref(keys);
    return out;
}

static const char *str_at(json_t *env, const char *kind, const char *key)
{
    return json_string_value(json_object_get(json_object_get(env, kind), key));
}

/* A parallel run's envelopes (owned by raw) in a serial run's order: each attempt's block
 * moved to where the serial run has it (test case order, then attempt), and every
 * BeforeAll/AfterAll hook's runs after the first dropped. FALSE + *why when a dropped run
 * ended otherwise than the kept one or an attempt block is not whole. */
static gboolean serial_order(GPtrArray *raw, char **why)
{
    GHashTable *case_pos = g_hash_table_new(g_str_hash, g_str_equal); /* testCase id -> n */
    GHashTable *hook_status = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTable *dropped_runs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *run_hook = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GPtrArray *head = g_ptr_array_new(), *tail = g_ptr_array_new(), *blocks = g_ptr_array_new();
    GPtrArray *block = NULL;
    gboolean ok = TRUE, cases_done = FALSE;
    for (guint i = 0; i < raw->len && ok; i++) {
        json_t *env = raw->pdata[i];
        const char *hrs = str_at(env, "testRunHookStarted", "id");
        const char *hrf = str_at(env, "testRunHookFinished", "testRunHookStartedId");
        const char *att = str_at(env, "attachment", "testRunHookStartedId");
        if (json_object_get(env, "testCase"))
            g_hash_table_insert(case_pos, (gpointer)str_at(env, "testCase", "id"),
                                GUINT_TO_POINTER(g_hash_table_size(case_pos)));
        if (hrs) {
            const char *hook = str_at(env, "testRunHookStarted", "hookId");
            g_hash_table_insert(run_hook, g_strdup(hrs), g_strdup(hook));
            if (g_hash_table_contains(hook_status, hook)) {
                g_hash_table_add(dropped_runs, g_strdup(hrs));
                continue;
            }
            g_hash_table_insert(hook_status, g_strdup(hook), NULL);
        }
        if (hrf) {
            const char *hook = g_hash_table_lookup(run_hook, hrf);
            json_t *r = json_object_get(json_object_get(env, "testRunHookFinished"), "result");
            const char *st = json_string_value(json_object_get(r, "status"));
            const char *first = hook ? g_hash_table_lookup(hook_status, hook) : NULL;
            if (g_hash_table_contains(dropped_runs, hrf)) {
                if (!first || !st || strcmp(first, st)) {
                    *why = g_strdup_printf("hook %s ended %s in one worker, %s in another",
                                           hook ? hook : "?", first ? first : "?", st ? st : "?");
                    ok = FALSE;
                }
                continue;
            }
            if (hook)
                g_hash_table_insert(hook_status, g_strdup(hook), g_strdup(st ? st : "?"));
        }
        if (att && g_hash_table_contains(dropped_runs, att))
            continue;
        if (json_object_get(env, "testCaseStarted")) {
            block = g_ptr_array_new();
            g_ptr_array_add(blocks, block);
        }
        if (block)
            g_ptr_array_add(block, env);
        else
            g_ptr_array_add(blocks->len ? tail : head, env);
        if (json_object_get(env, "testCaseFinished"))
            block = NULL;
        cases_done = blocks->len > 0;
    }
    (void)cases_done;
    if (ok && block) {
        *why = g_strdup("an attempt's envelopes end without testCaseFinished");
        ok = FALSE;
    }
    /* Sort the blocks: test case position, then attempt. */
    for (guint i = 1; ok && i < blocks->len; i++) {
        for (guint k = i; k > 0; k--) {
            GPtrArray *a = blocks->pdata[k - 1], *b = blocks->pdata[k];
            json_t *sa = json_object_get(a->pdata[0], "testCaseStarted");
            json_t *sb = json_object_get(b->pdata[0], "testCaseStarted");
            guint pa = GPOINTER_TO_UINT(g_hash_table_lookup(
                case_pos, json_string_value(json_object_get(sa, "testCaseId"))));
            guint pb = GPOINTER_TO_UINT(g_hash_table_lookup(
                case_pos, json_string_value(json_object_get(sb, "testCaseId"))));
            json_int_t aa = json_integer_value(json_object_get(sa, "attempt"));
            json_int_t ab = json_integer_value(json_object_get(sb, "attempt"));
            if (pa < pb || (pa == pb && aa <= ab))
                break;
            blocks->pdata[k - 1] = b;
            blocks->pdata[k] = a;
        }
    }
    GPtrArray *order = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
    for (guint i = 0; i < head->len; i++)
        g_ptr_array_add(order, json_incref(head->pdata[i]));
    for (guint i = 0; i < blocks->len; i++) {
        GPtrArray *b = blocks->pdata[i];
        for (guint k = 0; k < b->len; k++)
            g_ptr_array_add(order, json_incref(b->pdata[k]));
        g_ptr_array_unref(b);
    }
    for (guint i = 0; i < tail->len; i++)
        g_ptr_array_add(order, json_incref(tail->pdata[i]));
    /* raw now holds the serial order */
    g_ptr_array_set_size(raw, 0);
    for (guint i = 0; i < order->len; i++)
        g_ptr_array_add(raw, json_incref(order->pdata[i]));
    g_ptr_array_unref(order);
    g_ptr_array_unref(head);
    g_ptr_array_unref(tail);
    g_ptr_array_unref(blocks);
    g_hash_table_unref(case_pos);
    g_hash_table_unref(hook_status);
    g_hash_table_unref(dropped_runs);
    g_hash_table_unref(run_hook);
    return ok;
}

/* The file's envelopes, normalised (a parallel run's first put in serial order); NULL
 * with *why set when it cannot be read or a line is not a JSON object (a line is never
 * dropped, but a global hook's repeated runs in a parallel run). */
static GPtrArray *load_normalised(const char *path, gboolean parallel, char **why)
{
    char *data = NULL;
    GError *e = NULL;
    if (!g_file_get_contents(path, &data, NULL, &e)) {
        *why = g_strdup(e->message);
        g_error_free(e);
        return NULL;
    }
    GPtrArray *raw = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char **lines = g_strsplit(data, "\n", -1);
    for (guint n = 0; lines[n]; n++) {
        if (!*lines[n])
            continue;
        json_error_t je;
        json_t *env = json_loads(lines[n], 0, &je);
        if (!json_is_object(env)) {
            *why = g_strdup_printf("%s:%u: not a JSON object (%s): %.200s", path, n + 1,
                                   env ? "another JSON value" : je.text, lines[n]);
            json_decref(env);
            g_ptr_array_unref(raw);
            raw = NULL;
            break;
        }
        if (!json_object_get(env, "meta"))
            g_ptr_array_add(raw, env);
        else
            json_decref(env);
    }
    g_strfreev(lines);
    GPtrArray *out = NULL;
    if (raw && (!parallel || serial_order(raw, why))) {
        out = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
        for (guint i = 0; i < raw->len; i++)
            g_ptr_array_add(out, normalise(raw->pdata[i], ids));
    }
    if (raw)
        g_ptr_array_unref(raw);
    g_hash_table_unref(ids);
    g_free(data);
    return out;
}

/* Runs one sample (with --parallel 4 if parallel); returns NULL when it conforms, else a
 * description of the first diff. */
static char *run_sample(const cck_sample *s, const char *dir, const char *tmp, gboolean parallel)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup("tf-run"));
    char *out = g_strdup_printf("%s/%s%s.ndjson", tmp, s->name, parallel ? "-parallel" : "");
    g_ptr_array_add(argv, g_strdup_printf("--format=message:%s", out));
    if (parallel)
        g_ptr_array_add(argv, g_strdup("--parallel=4"));
    char *argfile = g_strdup_printf("%s/%s.arguments.txt", dir, s->name);
    char *args = NULL;
    if (g_file_get_contents(argfile, &args, NULL, NULL)) {
        char **parts = g_strsplit_set(g_strstrip(args), " \n", -1);
        for (char **p = parts; *p; p++)
            if (**p)
                g_ptr_array_add(argv, g_strdup(*p));
        g_strfreev(parts);
    }
    GDir *d = g_dir_open(dir, 0, NULL);
    GPtrArray *feats = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while (d && (n = g_dir_read_name(d)))
        if (g_str_has_suffix(n, ".feature"))
            g_ptr_array_add(feats, g_build_filename(dir, n, NULL));
    if (d)
        g_dir_close(d);
    g_ptr_array_sort(feats, cmp_str);
    for (guint i = 0; i < feats->len; i++)
        g_ptr_array_add(argv, g_strdup(g_ptr_array_index(feats, i)));
    g_ptr_array_add(argv, NULL);

    cck_dir = dir;
    g_setenv("TF_CCK_SAMPLE", s->name, TRUE); /* for the workers (main) */
    g_setenv("TF_CCK_DIR", dir, TRUE);
    tf_plugin_init_fn mods[] = {s->init};
    int code = tf_run_main((int)argv->len - 1, (char **)argv->pdata, mods, 1);
    char *why = NULL, *want_why = NULL, *got_why = NULL;
    char *expected_path = g_strdup_printf("%s/%s.ndjson", dir, s->name);
    GPtrArray *want = load_normalised(expected_path, FALSE, &want_why);
    GPtrArray *got = code == TF_RUN_EXIT_USAGE ? NULL : load_normalised(out, parallel, &got_why);
    if (!want) {
        why = g_strdup_printf("expected messages: %s", want_why);
    } else if (!got) {
        why = g_strdup_printf("tf run (exit %d): %s", code, got_why ? got_why : "usage error");
    } else {
        for (guint i = 0; i < MAX(want->len, got->len) && !why; i++) {
            json_t *w = i < want->len ? g_ptr_array_index(want, i) : NULL;
            json_t *g = i < got->len ? g_ptr_array_index(got, i) : NULL;
            if (w && g && json_equal(w, g))
                continue;
            char *ws = w ? json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS) : g_strdup("(none)");
            char *gs = g ? json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS) : g_strdup("(none)");
            why = g_strdup_printf("envelope %u differs\n    want: %.600s\n    got:  %.600s", i,
                                  ws, gs);
            free(ws);
            free(gs);
        }
    }
    if (want)
        g_ptr_array_unref(want);
    if (got)
        g_ptr_array_unref(got);
    g_free(want_why);
    g_free(got_why);
    g_free(expected_path);
    g_free(args);
    g_free(argfile);
    g_free(out);
    g_ptr_array_unref(feats);
    g_ptr_array_unref(argv);
    return why;
}

static gchar *cck_root; /* $TF_SHARED_DIR/cck */

static const cck_sample *sample_named(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(cck_samples); i++)
        if (!strcmp(cck_samples[i].name, name))
            return &cck_samples[i];
    return NULL;
}

/* Every sample folder present has a port in cck_samples[] and every port its folder. */
static void test_every_sample_is_ported(void **state)
{
    GError *e = NULL;
    GDir *d = g_dir_open(cck_root, 0, &e);
    if (!d)
        fail_msg("%s", e->message);
    guint folders = 0, strays = 0;
    const char *n;
    while ((n = g_dir_read_name(d))) {
        char *p = g_build_filename(cck_root, n, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            folders++;
            if (!sample_named(n)) {
                printf("FAIL %s: a CCK sample with no entry in cck_samples[] (cck_steps.h)\n", n);
                strays++;
            }
        }
        g_free(p);
    }
    g_dir_close(d);
    guint missing = 0;
    for (guint i = 0; i < G_N_ELEMENTS(cck_samples); i++) {
        char *p = g_build_filename(cck_root, cck_samples[i].name, NULL);
        if (!g_file_test(p, G_FILE_TEST_IS_DIR)) {
            printf("FAIL %s: no such sample folder\n", p);
            missing++;
        }
        g_free(p);
    }
    printf("%s: %u sample folders\n", cck_root, folders);
    assert_int_equal(strays, 0);
    assert_int_equal(missing, 0);
    if (folders != CCK_SAMPLES)
        fail_msg("%s holds %u samples, the official kit %u", cck_root, folders, CCK_SAMPLES);
}

static void test_cck_samples(void **state)
{
    char *tmp = g_dir_make_tmp("tf-cck-XXXXXX", NULL);
    assert_non_null(tmp);
    guint passed = 0, failed = 0, unsupported = 0;
    for (guint i = 0; i < G_N_ELEMENTS(cck_samples); i++) {
        const cck_sample *s = &cck_samples[i];
        if (s->unsupported) {
            printf("UNSUPPORTED %s: %s\n", s->name, s->unsupported);
            unsupported++;
            continue;
        }
        char *dir = g_build_filename(cck_root, s->name, NULL);
        char *why = run_sample(s, dir, tmp, FALSE);
        char *pwhy = why ? NULL : run_sample(s, dir, tmp, TRUE);
        if (why || pwhy) {
            printf("FAIL %s%s: %s\n", s->name, why ? "" : " (--parallel 4)", why ? why : pwhy);
            failed++;
        } else {
            printf("ok   %s (serial and --parallel 4)\n", s->name);
            passed++;
        }
        g_free(why);
        g_free(pwhy);
        g_free(dir);
    }
    printf("%u passed, %u failed\n", passed, failed);
    printf("(%u samples not supported, listed above)\n", unsupported);
    /* remove the temp outputs */
    GDir *d = g_dir_open(tmp, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(tmp, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmp);
    g_free(tmp);
    assert_int_equal(failed, 0);
    assert_int_equal(passed, CCK_RUN);
    assert_int_equal(passed + unsupported, CCK_SAMPLES);
}

/* A worker of a --parallel 4 run: the sample its parent runs, whose arguments the
 * parent sends (tf_run_main reads them). */
static int worker_main(void)
{
    const cck_sample *s = sample_named(g_getenv("TF_CCK_SAMPLE") ? g_getenv("TF_CCK_SAMPLE") : "");
    if (!s) {
        fprintf(stderr, "test_cck worker: TF_CCK_SAMPLE names no sample\n");
        return 2;
    }
    cck_dir = g_getenv("TF_CCK_DIR");
    char *argv[] = {"test_cck-worker", NULL};
    tf_plugin_init_fn mods[] = {s->init};
    return tf_run_main(1, argv, mods, 1);
}

int main(void)
{
    if (g_getenv("TF_RUN_WORKER"))
        return worker_main();
    cck_root = tf_test_shared_data("cck", "the Cucumber Compatibility Kit samples: one folder per "
                                          "sample with its .feature files and expected .ndjson");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_sample_is_ported),
        cmocka_unit_test(test_cck_samples),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    g_free(cck_root);
    return rc;
}
