/* test_shards.c: `tf run --shard I/N` and `tf report merge`, and the Kubernetes Indexed
 * Job that runs the shards (scenarios/deploy/k8s/tf-shards.yaml, tf-report-merge.yaml).
 * - For N = 1..5 the shards' test cases, together, are the serial run's, none twice; a
 *   shard does not change with --order random or with another run (the split hashes file,
 *   line and name, not ids), and every shard of N = 5 over 300 scenarios gets some.
 * - The manifests agree with each other: an Indexed Job whose completions, parallelism and
 *   TF_SHARDS are one number, each pod's index from the downward API in --shard, reports
 *   written to the claim the merge Job reads, which merges exactly shard 0 .. N-1.
 * - The manifests' own arguments, run here (index substituted, the claim a temp dir, with
 *   --dry-run: no clusters), give shards whose merged Messages and JUnit reports hold every
 *   bundled scenario once.
 * Runs the tf command ($TF_BIN) on the bundled features: no peers, no network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "../../tf/cluster/deploy_priv.h"

static char *tmp;

static int run_tf(GPtrArray *args, char **out)
{
    GPtrArray *argv = g_ptr_array_new();
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    g_ptr_array_add(argv, (gpointer)bin);
    for (guint i = 0; i < args->len; i++)
        g_ptr_array_add(argv, args->pdata[i]);
    g_ptr_array_add(argv, NULL);
    int status = -1;
    GError *e = NULL;
    if (!g_spawn_sync(TF_SOURCE_DIR, (char **)argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                      NULL, out, NULL, &status, &e))
        fail_msg("%s", e->message);
    g_ptr_array_unref(argv);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The test cases of a Messages report as "uri name #astNodeIds" keys, in report order. */
static GPtrArray *case_keys(const char *ndjson_text)
{
    GHashTable *pickles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    char **lines = g_strsplit(ndjson_text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!*lines[i])
            continue;
        json_t *env = json_loads(lines[i], 0, NULL);
        assert_non_null(env);
        json_t *p = json_object_get(env, "pickle"), *tc = json_object_get(env, "testCase");
        if (p) {
            char *ast = json_dumps(json_object_get(p, "astNodeIds"), JSON_COMPACT);
            g_hash_table_insert(pickles, g_strdup(json_string_value(json_object_get(p, "id"))),
                                g_strdup_printf("%s %s #%s",
                                                json_string_value(json_object_get(p, "uri")),
                                                json_string_value(json_object_get(p, "name")), ast));
            free(ast);
        }
        if (tc) {
            const char *k = g_hash_table_lookup(
                pickles, json_string_value(json_object_get(tc, "pickleId")));
            assert_non_null(k);
            g_ptr_array_add(keys, g_strdup(k));
        }
        json_decref(env);
    }
    g_strfreev(lines);
    g_hash_table_unref(pickles);
    return keys;
}

static char *read_file(const char *path)
{
    char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* A dry run's test cases over features, with extra arguments (NULL-terminated). */
static GPtrArray *dry_run(const char *const *features, ...)
{
    static guint n;
    char *report = g_strdup_printf("%s/dry-%u.ndjson", tmp, n++);
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(args, g_strdup("run"));
    g_ptr_array_add(args, g_strdup("--dry-run"));
    g_ptr_array_add(args, g_strdup("--format=summary"));
    g_ptr_array_add(args, g_strdup_printf("--format=message:%s", report));
    va_list ap;
    va_start(ap, features);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(args, g_strdup(a));
    va_end(ap);
    for (guint i = 0; features[i]; i++)
        g_ptr_array_add(args, g_strdup(features[i]));
    char *out = NULL;
    int code = run_tf(args, &out);
    assert_true(code == 0 || code == 1); /* undefined steps in the test data: 1 */
    g_free(out);
    char *text = read_file(report);
    GPtrArray *keys = case_keys(text);
    g_free(text);
    g_unlink(report);
    g_free(report);
    g_ptr_array_unref(args);
    return keys;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_shards_cover_the_suite_once(void **state)
{
    /* 300 outline rows beside the bundled features: enough for every shard of 5 */
    GString *big = g_string_new("Feature: many\n  Scenario Outline: row <n>\n    Given a step "
                                "<n>\n    Examples:\n      | n |\n");
    for (int i = 0; i < 300; i++)
        g_string_append_printf(big, "      | %d |\n", i);
    char *big_path = g_build_filename(tmp, "many.feature", NULL);
    assert_true(g_file_set_contents(big_path, big->str, -1, NULL));
    g_string_free(big, TRUE);
    const char *features[] = {"scenarios", "examples", "tests/integration/data", big_path, NULL};
    GPtrArray *serial = dry_run(features, NULL);
    assert_true(serial->len >= 300 + 12);
    g_ptr_array_sort(serial, cmp_str);
    for (guint n = 1; n <= 5; n++) {
        GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
        GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < n; i++) {
            char *shard = g_strdup_printf("--shard=%u/%u", i, n);
            GPtrArray *part = dry_run(features, shard, NULL);
            GPtrArray *again = dry_run(features, shard, "--order=random:7", NULL);
            assert_int_equal(part->len, again->len); /* the order does not move cases */
            g_ptr_array_sort(again, cmp_str);
            if (n == 5)
                assert_true(part->len > 0);
            for (guint k = 0; k < part->len; k++) {
                if (g_hash_table_contains(seen, part->pdata[k]))
                    fail_msg("N=%u: %s runs in two shards", n, (char *)part->pdata[k]);
                char *key = g_strdup(part->pdata[k]);
                g_ptr_array_add(all, key);
                g_hash_table_add(seen, key);
            }
            g_ptr_array_sort(part, cmp_str);
            for (guint k = 0; k < part->len; k++)
                assert_string_equal(part->pdata[k], again->pdata[k]);
            g_ptr_array_unref(part);
            g_ptr_array_unref(again);
            g_free(shard);
        }
        g_ptr_array_sort(all, cmp_str);
        assert_int_equal(all->len, serial->len);
        for (guint k = 0; k < all->len; k++)
            assert_string_equal(all->pdata[k], serial->pdata[k]);
        printf("N=%u: %u test cases, each in one shard\n", n, all->len);
        g_hash_table_unref(seen);
        g_ptr_array_unref(all);
    }
    g_ptr_array_unref(serial);
    g_unlink(big_path);
    g_free(big_path);
}

/* ---- the Kubernetes manifests ---- */

static json_t *load_doc(const char *file, const char *kind, const char *name)
{
    char *path = g_build_filename(TF_SOURCE_DIR, "scenarios/deploy/k8s", file, NULL);
    char *text = read_file(path);
    char **docs = g_strsplit(text, "\n---\n", -1);
    json_t *found = NULL;
    for (guint i = 0; docs[i]; i++) {
        GError *e = NULL;
        json_t *d = tf_yaml_subset_parse(docs[i], file, &e);
        if (!d)
            fail_msg("%s", e->message);
        const char *k = json_string_value(json_object_get(d, "kind"));
        const char *n = json_string_value(json_object_get(json_object_get(d, "metadata"), "name"));
        if (!found && !g_strcmp0(k, kind) && !g_strcmp0(n, name))
            found = json_incref(d);
        json_decref(d);
    }
    g_strfreev(docs);
    g_free(text);
    g_free(path);
    if (!found)
        fail_msg("%s: no %s %s", file, kind, name);
    return found;
}

static json_t *at(json_t *v, const char *path)
{
    char **parts = g_strsplit(path, ".", -1);
    for (guint i = 0; parts[i] && v; i++)
        v = json_object_get(v, parts[i]);
    g_strfreev(parts);
    return v;
}

static const char *str(json_t *v, const char *path) { return json_string_value(at(v, path)); }

static json_t *container(json_t *job, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(at(job, "spec.template.spec.containers"), i, c) if (!g_strcmp0(
        str(c, "name"), name)) return c;
    fail_msg("no container %s", name);
    return NULL;
}

static const char *env_value(json_t *c, const char *name, const char **field)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(c, "env"), i, e) {
        if (g_strcmp0(str(e, "name"), name))
            continue;
        if (field)
            *field = str(e, "valueFrom.fieldRef.fieldPath");
        return str(e, "value");
    }
    fail_msg("no env %s", name);
    return NULL;
}

/* The mount path of the container's volume backed by claim. */
static const char *claim_mount(json_t *job, json_t *c, const char *claim)
{
    const char *vol = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(at(job, "spec.template.spec.volumes"), i, v) if (!g_strcmp0(
        str(v, "persistentVolumeClaim.claimName"), claim)) vol = str(v, "name");
    assert_non_null(vol);
    json_array_foreach(json_object_get(c, "volumeMounts"), i, v) if (!g_strcmp0(str(v, "name"), vol))
        return str(v, "mountPath");
    fail_msg("the container does not mount the claim %s", claim);
    return NULL;
}

/* The value after flag in the args. */
static const char *arg_after(json_t *args, const char *flag, guint nth)
{
    guint seen = 0;
    for (size_t i = 0; i + 1 < json_array_size(args); i++)
        if (!g_strcmp0(json_string_value(json_array_get(args, i)), flag) && seen++ == nth)
            return json_string_value(json_array_get(args, i + 1));
    return NULL;
}

static char *subst(const char *s, guint index, guint n, const char *mount, const char *dir)
{
    char *idx = g_strdup_printf("%u", index), *cnt = g_strdup_printf("%u", n);
    GString *o = g_string_new(s);
    g_string_replace(o, "$(JOB_COMPLETION_INDEX)", idx, 0);
    g_string_replace(o, "$(TF_SHARDS)", cnt, 0);
    if (mount)
        g_string_replace(o, mount, dir, 0);
    g_free(idx);
    g_free(cnt);
    return g_string_free(o, FALSE);
}

static void test_indexed_job_runs_every_shard_once(void **state)
{
    json_t *pvc = load_doc("tf-shards.yaml", "PersistentVolumeClaim", "tf-reports");
    json_t *job = load_doc("tf-shards.yaml", "Job", "tf-shards");
    json_t *merge = load_doc("tf-report-merge.yaml", "Job", "tf-report-merge");
    assert_string_equal(json_string_value(json_array_get(at(pvc, "spec.accessModes"), 0)),
                        "ReadWriteMany"); /* pods on several nodes write to it */
    assert_string_equal(str(job, "spec.completionMode"), "Indexed");
    guint n = (guint)atoi(str(job, "spec.completions"));
    assert_true(n >= 2);
    assert_int_equal(atoi(str(job, "spec.parallelism")), n);
    assert_string_equal(str(job, "spec.backoffLimitPerIndex"), "0"); /* no shard twice */
    assert_string_equal(str(job, "spec.template.spec.restartPolicy"), "Never");
    json_t *tf = container(job, "tf");
    json_t *args = json_object_get(tf, "args");
    assert_string_equal(json_string_value(json_array_get(args, 0)), "run");
    const char *field = NULL;
    assert_int_equal(atoi(env_value(tf, "TF_SHARDS", NULL)), n);
    env_value(tf, "JOB_COMPLETION_INDEX", &field);
    assert_string_equal(field, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    assert_string_equal(arg_after(args, "--shard", 0), "$(JOB_COMPLETION_INDEX)/$(TF_SHARDS)");
    const char *mount = claim_mount(job, tf, "tf-reports");
    const char *msg = NULL, *junit = NULL;
    for (guint k = 0; arg_after(args, "--format", k); k++) {
        const char *f = arg_after(args, "--format", k);
        if (g_str_has_prefix(f, "message:"))
            msg = f + 8;
        if (g_str_has_prefix(f, "junit:"))
            junit = f + 6;
    }
    assert_non_null(msg);
    assert_non_null(junit);
    assert_true(g_str_has_prefix(msg, mount) && strstr(msg, "$(JOB_COMPLETION_INDEX)"));
    assert_true(g_str_has_prefix(junit, mount) && strstr(junit, "$(JOB_COMPLETION_INDEX)"));

    /* Run the shards as the pods would (dry runs: no clusters), the claim a temp dir. */
    char *dir = g_build_filename(tmp, "reports", NULL);
    g_mkdir_with_parents(dir, 0700);
    for (guint i = 0; i < n; i++) {
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
        for (size_t k = 0; k < json_array_size(args); k++) {
            if (k + 1 == json_array_size(args))
                g_ptr_array_add(a, g_strdup("--dry-run"));
            g_ptr_array_add(a, subst(json_string_value(json_array_get(args, k)), i, n, mount, dir));
        }
        char *out = NULL;
        assert_int_equal(run_tf(a, &out), 0);
        g_free(out);
        g_ptr_array_unref(a);
    }
    /* The merge Job: each container merges exactly the shards' files of its kind. */
    const char *kinds[][2] = {{"messages", msg}, {"junit", junit}};
    char *merged[2];
    for (guint c = 0; c < 2; c++) {
        json_t *mc = container(merge, kinds[c][0]);
        const char *mmount = claim_mount(merge, mc, "tf-reports");
        assert_string_equal(mmount, mount);
        json_t *margs = json_object_get(mc, "args");
        assert_int_equal(json_array_size(margs), 2 + n);
        assert_string_equal(json_string_value(json_array_get(margs, 0)), "report");
        assert_string_equal(json_string_value(json_array_get(margs, 1)), "merge");
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
        for (size_t k = 0; k < json_array_size(margs); k++) {
            char *want = k >= 2 ? subst(kinds[c][1], (guint)k - 2, n, NULL, NULL) : NULL;
            if (want)
                assert_string_equal(json_string_value(json_array_get(margs, k)), want);
            g_free(want);
            g_ptr_array_add(a, subst(json_string_value(json_array_get(margs, k)), 0, n, mount, dir));
        }
        assert_int_equal(run_tf(a, &merged[c]), 0);
        g_ptr_array_unref(a);
    }
    const char *bundled[] = {"scenarios", NULL};
    GPtrArray *serial = dry_run(bundled, NULL);
    GPtrArray *got = case_keys(merged[0]);
    g_ptr_array_sort(serial, cmp_str);
    g_ptr_array_sort(got, cmp_str);
    assert_int_equal(got->len, serial->len);
    for (guint k = 0; k < got->len; k++)
        assert_string_equal(got->pdata[k], serial->pdata[k]);
    char *tests = g_strdup_printf("tests=\"%u\"", serial->len);
    assert_non_null(strstr(merged[1], tests));
    guint testcases = 0;
    for (const char *p = merged[1]; (p = strstr(p, "<testcase ")); p++)
        testcases++;
    assert_int_equal(testcases, serial->len);
    printf("%u shards of the Indexed Job, merged: %u test cases, each once\n", n, got->len);
    g_free(tests);
    g_free(merged[0]);
    g_free(merged[1]);
    g_ptr_array_unref(serial);
    g_ptr_array_unref(got);
    g_free(dir);
    json_decref(pvc);
    json_decref(job);
    json_decref(merge);
}

static int setup(void **state)
{
    tmp = g_dir_make_tmp("tf-shards-XXXXXX", NULL);
    return tmp ? 0 : -1;
}

static int teardown(void **state)
{
    char *argv[] = {"rm", "-rf", tmp, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_cover_the_suite_once),
        cmocka_unit_test(test_indexed_job_runs_every_shard_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
