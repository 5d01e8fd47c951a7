/* test_raftkv_scenarios.c: the bundled Raft KV features run by `tf run` against real
 * local etcd clusters: every scenario passes (each with clients whose history is checked
 * linearizable under its faults), the report carries the timeline and the history, the
 * store's journal exported by `tf history export` is checked again by `tf history check`,
 * an impossible expectation fails with its explanation, and no etcd process outlives a
 * run. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <tf/tf.h>
#include "it_scenarios.h"
#include "skip.h"

/* The bundled scenarios of scenarios/raftkv (one expects a refutation). */
#define N_SCENARIOS 7

static int setup(void **unused) { return it_setup("tf-raftkv-it"); }
static int teardown(void **unused) { return it_teardown(); }

static void test_bundled_features_pass(void **unused)
{
    assert_int_equal(it_count_marked("etcd"), 0);
    char *store = it_path("state.db");
    /* the @netns features have their own test: test_netns_scenarios */
    const char *args[] = {"--store", store, "--tags", "not @netns", TF_SOURCE_DIR "/scenarios/raftkv", NULL};
    it_report rep;
    assert_int_equal(it_run_report(args, &rep), 0);
    assert_int_equal(it_count_marked("etcd"), 0); /* every cluster was torn down */

    /* The store holds one passed run with every scenario's journal, gapless from 1. */
    GError *err = NULL;
    tf_store *st = tf_store_open(store, &err);
    assert_non_null(st);
    json_t *runs = tf_store_runs(st, &err);
    assert_int_equal(json_array_size(runs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "status")), "passed");
    char *export = it_path("journal.ndjson");
    FILE *f = fopen(export, "w");
    assert_true(tf_store_export_journal(st, 0, NULL, f, &err) > 0);
    fclose(f);
    json_decref(runs);
    tf_store_unref(st);
    char *journal = NULL;
    assert_true(g_file_get_contents(export, &journal, NULL, NULL));
    GHashTable *last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint observer_streams = 0, client_streams = 0;
    char **jl = g_strsplit(journal, "\n", -1);
    for (char **l = jl; *l && **l; l++) {
        json_t *b = json_loads(*l, 0, NULL);
        /* Each scenario's execution has its own "raftkv" and "ophistory" streams. */
        const char *name = json_string_value(json_object_get(b, "stream"));
        gboolean observer = !g_strcmp0(name, "raftkv");
        assert_true(observer || !g_strcmp0(name, "ophistory"));
        char *stream = g_strdup_printf("%" JSON_INTEGER_FORMAT "/%s",
                                       json_integer_value(json_object_get(b, "execution")), name);
        guint64 seq = (guint64)json_integer_value(json_object_get(b, "seq"));
        assert_int_equal(seq, GPOINTER_TO_SIZE(g_hash_table_lookup(last, stream)) + 1);
        if (seq == 1)
            *(observer ? &observer_streams : &client_streams) += 1;
        g_hash_table_insert(last, stream, GSIZE_TO_POINTER(seq));
        json_decref(b);
    }
    assert_int_equal(observer_streams, N_SCENARIOS);
    assert_int_equal(client_streams, N_SCENARIOS); /* every scenario's client history */
    g_strfreev(jl);
    g_hash_table_unref(last);
    g_free(journal);

    /* the journal holds the very histories that were checked: checked again from it, the
     * same verdicts (the serializable reads' history refuted: exit 1) */
    const char *check[] = {"history", "check", "--model", "registers", export, NULL};
    char *verdicts = NULL;
    assert_int_equal(it_run_cmd(check, &verdicts), 1);
    char **lines = g_strsplit(verdicts, "\n", -1);
    assert_int_equal(g_strv_length(lines), N_SCENARIOS + 1);
    guint linearizable = 0, not_linearizable = 0;
    for (guint i = 0; i < N_SCENARIOS; i++) {
        linearizable += g_str_has_suffix(lines[i], "]: linearizable");
        not_linearizable += strstr(lines[i], "(scenario 'Serializable reads through a lagging follower "
                                             "are stale', attempt 0)]: NOT linearizable (") != NULL;
    }
    assert_int_equal(linearizable, N_SCENARIOS - 1);
    assert_int_equal(not_linearizable, 1);
    g_strfreev(lines);
    g_free(verdicts);
    g_free(export);
    g_free(store);

    guint svgs = 0, claimed_kills = 0, histories = 0, checked = 0, refuted = 0;
    for (guint i = 0; i < rep.attachments->len; i++) {
        json_t *att = rep.attachments->pdata[i];
        const char *body = it_att(att, "body");
        svgs += !g_strcmp0(it_att(att, "mediaType"), "image/svg+xml");
        claimed_kills += body && g_str_has_prefix(body, "killed ") && strstr(body, "(durable claim done)");
        histories += !g_strcmp0(it_att(att, "fileName"), "ophistory.ndjson");
        /* "linearizable: 268 operations: 189 ok (138 completed during 1 fault window), ..." */
        gboolean log = !g_strcmp0(it_att(att, "mediaType"), "text/x.cucumber.log+plain");
        if (log && g_str_has_prefix(body, "linearizable: ")) {
            guint ops = 0, ok = 0;
            assert_int_equal(sscanf(body, "linearizable: %u operations: %u ok", &ops, &ok), 2);
            assert_true(ok >= 100); /* each scenario's floor is at least 100 */
            checked++;
        }
        refuted += log && g_str_has_prefix(body, "NOT linearizable, as expected: ");
    }
    assert_int_equal(rep.cases, N_SCENARIOS);
    assert_true(rep.steps > 40);
    assert_int_equal(rep.passed, rep.steps);
    assert_int_equal(svgs, N_SCENARIOS + refuted); /* a timeline each, and each refutation drawn */
    assert_int_equal(claimed_kills, 1); /* the leader kill went through a durable claim */
    assert_int_equal(histories, N_SCENARIOS);
    assert_int_equal(refuted, 1); /* read_modes.feature: serializable reads are stale */
    assert_int_equal(checked + refuted, N_SCENARIOS);
    it_report_clear(&rep);
}

static void test_impossible_expectation_explains(void **unused)
{
    const char *args[] = {"--format", "summary", "--no-color",
                          TF_SOURCE_DIR "/tests/integration/data/raftkv_impossible.feature", NULL};
    char *out = NULL;
    int code = it_run_tf(args, &out);
    assert_int_equal(code, 1);
    assert_non_null(strstr(out, "timed out after 0.0 s waiting for: a new leader with a higher term"));
    assert_non_null(strstr(out, "last snapshot (raftkv, cycle "));
    assert_non_null(strstr(out, "\"quorum\":"));
    assert_non_null(strstr(out, "last error: "));
    assert_int_equal(it_count_marked("etcd"), 0); /* the failed scenario's cluster is gone too */
    g_free(out);
}

int main(void)
{
    tf_test_need_cluster_all("etcd-3.json");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_features_pass),
        cmocka_unit_test(test_impossible_expectation_explains),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
