/* test_raftkv_steps.c: the raftkv steps end to end (runner, launcher, observer, steps,
 * After hook, Cucumber Messages report) against fake etcd members where real etcd cannot
 * show the case: two leaders in one term must fail the scenario with the violation named
 * and marked on the attached timeline; "writing ... fails" must say what it observed when
 * a write is acknowledged, and fail when no node could be reached to try it. Also spec
 * errors that must come before anything starts (no source URL, a missing TF_CLUSTERS
 * file), the node logs a failure names, kept and attached, and the term read being the
 * current one. The members are this test
 * binary run as fake_etcd_main by the real launcher; each run takes well under a second. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "fake_etcd.h"
#include "it_scenarios.h"
#include "raftkv_steps.h"
#include "tf/runner.h"
#include "../../tf/cluster/owner.h"

static char *root; /* this test's TMPDIR: cluster dirs, specs, features, reports */
static guint runs;

/* A run's exit code and report. */
typedef struct {
    int code;
    it_report rep;
} report;

static void report_clear(report *r) { it_report_clear(&r->rep); }
static const char *failure_with(const report *r, const char *needle) { return it_report_failure(&r->rep, needle); }
static char *attachment(const report *r, const char *file_name) { return it_report_attachment(&r->rep, file_name, NULL); }

/* Runs `steps` as one scenario with the raftkv steps against 3 fake members started with
 * `extra` arguments (spec in a fresh dir, no "source" unless with_source); TF_CLUSTERS is
 * that dir, or `clusters` when not NULL. */
static report run_with(const char *extra, gboolean with_source, const char *steps,
                       const char *clusters)
{
    char *dir = g_strdup_printf("%s/run%u", root, ++runs);
    g_assert(g_mkdir(dir, 0700) == 0);
    char *spec = fake_etcd_write_spec(dir, extra, with_source);
    g_free(spec);
    g_setenv("TF_CLUSTERS", clusters ? clusters : dir, TRUE);
    char *feature = g_build_filename(dir, "case.feature", NULL);
    char *text = g_strdup_printf("Feature: raftkv steps\n  Scenario: case\n%s", steps);
    g_assert(g_file_set_contents(feature, text, -1, NULL));
    char *messages = g_build_filename(dir, "messages.ndjson", NULL);
    char *fmt = g_strdup_printf("message:%s", messages);
    char *argv[] = {"tf-run", "--format", "summary", "--format", fmt, feature, NULL};
    const tf_plugin_init_fn mods[] = {raftkv_steps_register};
    report r;
    r.code = tf_run_main(G_N_ELEMENTS(argv) - 1, argv, mods, 1);
    it_report_read(messages, &r.rep);
    g_free(fmt);
    g_free(messages);
    g_free(text);
    g_free(feature);
    g_free(dir);
    return r;
}

static report run(const char *extra, gboolean with_source, const char *steps)
{
    return run_with(extra, with_source, steps, NULL);
}

#define GIVEN3 "    Given a 3-node etcd cluster is running\n"

/* Election Safety end to end: a step asking for it fails naming the violation, the After
 * hook fails the scenario too, and the attached timeline marks it. */
static void test_two_leaders_in_one_term_fail_with_timeline(void **unused)
{
    report r = run("\"--leaders\", \"1,3\"", TRUE, GIVEN3 "    Then Election Safety holds\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    const char *want = "Election Safety violated: term 2 had two leaders, ";
    const char *msg = failure_with(&r, want);
    if (!msg || !(strstr(msg, "n1 and n3") || strstr(msg, "n3 and n1")))
        fail_msg("no failure names the violation: %s",
                 r.rep.failures->len ? (char *)r.rep.failures->pdata[0] : "(no failure)");
    assert_int_equal(r.rep.failures->len, 2); /* the step, and the After hook */
    assert_int_equal(r.rep.passed, 2); /* the Given (n1 is the leader a majority agrees on) and
                                          the client steps' After hook (no history to attach) */
    char *svg = attachment(&r, "raftkv-timeline.svg");
    assert_non_null(svg);
    assert_true(g_str_has_prefix(svg, "<svg "));
    assert_non_null(strstr(svg, want));
    assert_non_null(strstr(svg, "<line "));
    g_free(svg);
    report_clear(&r);

    /* The same cluster with one leader passes: the test tells the two apart. */
    r = run("\"--leaders\", \"1\"", TRUE, GIVEN3 "    Then Election Safety holds\n");
    assert_int_equal(r.code, TF_RUN_EXIT_PASSED);
    svg = attachment(&r, "raftkv-timeline.svg");
    assert_non_null(svg);
    assert_null(strstr(svg, "violated"));
    g_free(svg);
    report_clear(&r);
}

/* The term a leader is reported with is its current term (etcd's raft.status), not the
 * term of its last applied entry (the v3 status's raftTerm, which lags a new leader's
 * term and made the kill-the-leader scenario see two leaders in one term under load). */
static void test_term_is_the_current_term(void **unused)
{
    report r = run("\"--term\", \"3\", \"--applied-term\", \"2\"", TRUE,
                   GIVEN3 "    Then a leader is elected within 5 seconds\n");
    assert_int_equal(r.code, TF_RUN_EXIT_PASSED);
    char *line = it_report_attachment(&r.rep, NULL, "leader n1 at term 3,");
    assert_non_null(line);
    g_free(line);
    report_clear(&r);
}

/* An acknowledged write: the failure says who acknowledged it and what was observed
 * (a leader with quorum), not a guess that the cluster had no quorum. */
static void test_acknowledged_write_says_what_was_observed(void **unused)
{
    report r = run("\"--put\", \"ok\"", TRUE, GIVEN3 "    Then writing \"k\" = \"v\" fails\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    const char *msg = failure_with(&r, "put k = v was acknowledged by n1");
    if (!msg || !strstr(msg, "observed before the write: leader n1 (term 2), 3/3 nodes up, quorum") ||
        strstr(msg, "no quorum"))
        fail_msg("unexpected failure: %s", msg ? msg : "(none)");
    report_clear(&r);

    r = run("\"--put\", \"refuse\"", TRUE, GIVEN3 "    Then writing \"k\" = \"v\" fails\n");
    assert_int_equal(r.code, TF_RUN_EXIT_PASSED); /* refused: the step holds */
    report_clear(&r);
}

/* No node to try the write on: the step fails instead of passing. */
static void test_no_reachable_node_fails_the_write_step(void **unused)
{
    report r = run("\"--put\", \"refuse\"", TRUE,
                   GIVEN3 "    When node n1 is stopped\n    And node n2 is stopped\n"
                          "    And node n3 is stopped\n    Then writing \"k\" = \"v\" fails\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    const char *msg = failure_with(&r, "put k = v: no node could be reached to try the write");
    if (!msg || !strstr(msg, "0/3 nodes up"))
        fail_msg("unexpected failures: %s", r.rep.failures->len ? (char *)r.rep.failures->pdata[0] : "(none)");
    report_clear(&r);
}

/* A spec without a source URL fails before any node starts, naming file, field and why. */
static void test_spec_without_source_fails_up_front(void **unused)
{
    report r = run("", FALSE, GIVEN3);
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    char *want = g_strdup_printf("%s/run%u/etcd-3.json: source.url: missing: the etcd steps reach "
                                 "each node at this URL", root, runs);
    if (!failure_with(&r, want))
        fail_msg("want \"%s\", got: %s", want, r.rep.failures->len ? (char *)r.rep.failures->pdata[0] : "(none)");
    assert_null(failure_with(&r, "URL using bad"));
    g_free(want);
    report_clear(&r);
}

/* A TF_CLUSTERS folder without the spec: the error names the path and TF_CLUSTERS. */
static void test_missing_clusters_file_is_named(void **unused)
{
    char *nowhere = g_build_filename(root, "nowhere", NULL);
    report r = run_with("", TRUE, GIVEN3, nowhere);
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    char *want = g_strdup_printf("cluster spec etcd-3: %s/etcd-3.json: cannot read: No such file or "
                                 "directory (TF_CLUSTERS=%s)", nowhere, nowhere);
    if (!failure_with(&r, want))
        fail_msg("want \"%s\", got: %s", want, r.rep.failures->len ? (char *)r.rep.failures->pdata[0] : "(none)");
    assert_null(failure_with(&r, ":-1:-1"));
    g_free(want);
    g_free(nowhere);
    report_clear(&r);
}

/* A node that dies at start: the failure names its stderr.log, which still exists after
 * the scenario (data removed, dir no longer owned so no sweep takes it) and whose content
 * is attached to the report. */
static void test_failed_node_log_kept_and_attached(void **unused)
{
    report r = run("\"--die\", \"cannot open the data dir (test)\"", TRUE, GIVEN3);
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    const char *msg = failure_with(&r, "before it was ready");
    assert_non_null(msg);
    const char *from = strstr(msg, "stderr (");
    assert_non_null(from);
    from += strlen("stderr (");
    char *path = g_strndup(from, strcspn(from, ")"));
    char *log = NULL;
    if (!g_file_get_contents(path, &log, NULL, NULL))
        fail_msg("the log the failure names is gone: %s", path);
    assert_non_null(strstr(log, "cannot open the data dir (test)"));
    char *node_dir = g_path_get_dirname(path), *data = g_build_filename(node_dir, "data", NULL);
    assert_false(g_file_test(data, G_FILE_TEST_EXISTS)); /* the data is not kept */
    char *cluster_dir = g_path_get_dirname(node_dir);
    assert_int_equal(tf_owner_dir_state(cluster_dir), TF_OWNER_UNKNOWN);
    char *node = g_path_get_basename(node_dir);
    char *att_name = g_strdup_printf("%s.stderr.log", node);
    char *att = attachment(&r, att_name);
    assert_non_null(att);
    assert_non_null(strstr(att, "cannot open the data dir (test)"));
    char *kept = g_strdup_printf("node logs kept in %s", cluster_dir);
    char *logged = it_report_attachment(&r.rep, NULL, kept);
    assert_non_null(logged);
    g_free(logged);
    g_free(kept);
    g_free(att);
    g_free(att_name);
    g_free(node);
    g_free(cluster_dir);
    g_free(data);
    g_free(node_dir);
    g_free(log);
    g_free(path);
    report_clear(&r);
}

/* After every case: no cluster dir of this process is left owned (freed or kept). */
static int no_owned_dirs(void **unused)
{
    GDir *d = g_dir_open(root, 0, NULL);
    const char *n;
    int bad = 0;
    while ((n = g_dir_read_name(d))) {
        char *p = g_build_filename(root, n, NULL);
        if (g_str_has_prefix(n, "tf-") && tf_owner_dir_state(p) != TF_OWNER_UNKNOWN) {
            fprintf(stderr, "left behind: %s\n", p);
            bad = 1;
        }
        g_free(p);
    }
    g_dir_close(d);
    return bad;
}

static int rm_root(void **unused)
{
    gchar *argv[] = {"rm", "-rf", root, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(root);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "fake-etcd"))
        return fake_etcd_main(argc - 1, argv + 1);
    const char *tmp = g_getenv("TMPDIR");
    root = g_build_filename(tmp && *tmp ? tmp : "/tmp", "tf-raftkv-steps-XXXXXX", NULL);
    if (!g_mkdtemp(root))
        return 1;
    g_setenv("TMPDIR", root, TRUE); /* before glib caches the temp dir: clusters go here */
    g_unsetenv("TF_ENV");
    g_unsetenv("TF_STORE");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_two_leaders_in_one_term_fail_with_timeline, no_owned_dirs),
        cmocka_unit_test_teardown(test_term_is_the_current_term, no_owned_dirs),
        cmocka_unit_test_teardown(test_acknowledged_write_says_what_was_observed, no_owned_dirs),
        cmocka_unit_test_teardown(test_no_reachable_node_fails_the_write_step, no_owned_dirs),
        cmocka_unit_test_teardown(test_spec_without_source_fails_up_front, no_owned_dirs),
        cmocka_unit_test_teardown(test_missing_clusters_file_is_named, no_owned_dirs),
        cmocka_unit_test_teardown(test_failed_node_log_kept_and_attached, no_owned_dirs),
    };
    return cmocka_run_group_tests(tests, NULL, rm_root);
}
