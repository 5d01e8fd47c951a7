/* test_raftkv_clients.c: the client workload steps end to end (runner, launcher, observer,
 * client threads, fault steps, the check, the After hook, the report and the store)
 * against fake etcd members, where each case can be made to happen: clients through one
 * consistent member give a linearizable history whose export from the store checks the
 * same as the report's attachment; a history below the floor the step names fails, as
 * does one without operations during faults; members that share nothing (random
 * members) give stale reads that are refuted with the explanation and drawing attached,
 * and a step expecting a violation passes on them; groups of clients share a history; a
 * check out of time fails; writes whose outcome is unknown retire their process. The
 * members are this test binary run as fake_etcd_main by the real launcher. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "fake_etcd.h"
#include "it_scenarios.h"
#include "raftkv_steps.h"
#include "tf/runner.h"
#include "tf/tf.h"

static guint runs;

typedef struct {
    int code;
    it_report rep;
    char *dir; /* the run's dir (store, report) */
} report;

static void report_clear(report *r)
{
    it_report_clear(&r->rep);
    g_free(r->dir);
}

/* Runs `steps` as one scenario named "case" against 3 fake members started with `extra`,
 * with a store in the run's dir. */
static report run(const char *extra, const char *steps)
{
    report r = {0};
    r.dir = g_strdup_printf("%s/run%u", it_tmp(), ++runs);
    g_assert(g_mkdir(r.dir, 0700) == 0);
    g_free(fake_etcd_write_spec(r.dir, extra, TRUE));
    g_setenv("TF_CLUSTERS", r.dir, TRUE);
    char *feature = g_build_filename(r.dir, "case.feature", NULL);
    char *text = g_strdup_printf("Feature: clients\n  Scenario: case\n"
                                 "    Given a 3-node etcd cluster is running\n%s", steps);
    g_assert(g_file_set_contents(feature, text, -1, NULL));
    char *messages = g_build_filename(r.dir, "messages.ndjson", NULL);
    char *store = g_build_filename(r.dir, "state.db", NULL);
    char *fmt = g_strdup_printf("message:%s", messages);
    char *argv[] = {"tf-run", "--store", store, "--format", "summary", "--format", fmt, feature, NULL};
    const tf_plugin_init_fn mods[] = {raftkv_steps_register};
    r.code = tf_run_main(G_N_ELEMENTS(argv) - 1, argv, mods, 1);
    it_report_read(messages, &r.rep);
    g_free(fmt);
    g_free(store);
    g_free(messages);
    g_free(text);
    g_free(feature);
    return r;
}

/* Fails the test with `why`, first printing the node logs a failed scenario's report
 * carries (a member that died says why there). */
#define fail_run(r, ...)                                                                    \
    do {                                                                                    \
        print_node_logs(r);                                                                 \
        fail_msg(__VA_ARGS__);                                                              \
    } while (0)

static void print_node_logs(const report *r)
{
    for (guint i = 0; i < r->rep.attachments->len; i++) {
        const char *name = it_att(r->rep.attachments->pdata[i], "fileName");
        if (!name || !g_str_has_suffix(name, ".stderr.log"))
            continue;
        char *log = it_report_attachment(&r->rep, name, NULL);
        printf("---- %s\n%s\n", name, log ? log : "");
        g_free(log);
    }
}

static const char *first_failure(const report *r)
{
    return r->rep.failures->len ? r->rep.failures->pdata[0] : "(none)";
}

/* The history attached to the report, parsed. */
static tf_ophistory *attached_history(const report *r, char **text)
{
    char *t = it_report_attachment(&r->rep, "ophistory.ndjson", NULL);
    assert_non_null(t);
    GError *err = NULL;
    tf_ophistory *h = tf_ophistory_parse("ophistory.ndjson", t, strlen(t), &err);
    if (!h)
        fail_msg("%s", err->message);
    if (text)
        *text = t;
    else
        g_free(t);
    return h;
}

static char *history_text(tf_ophistory *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_true(tf_ophistory_write(h, f, NULL));
    fclose(f);
    char *s = g_strndup(buf, len);
    free(buf);
    return s;
}

/* Clients through one member (consistent by itself) while another is paused: the
 * history is linearizable with enough operations during the fault; the report carries it
 * and the check's text; the store's journal, exported by `tf history export`, reads back
 * as the same history, and `tf history check` agrees. */
static void test_linearizable_history_round_trip(void **unused)
{
    report r = run("", "    And 3 clients read, write and compare-and-set 2 keys through member n1\n"
                       "    When the clients complete 60 operations\n"
                       "    And node n2 is paused\n"
                       "    And the clients complete 40 more operations\n"
                       "    And node n2 is resumed\n"
                       "    And the clients stop\n"
                       "    Then the history of at least 100 operations, 40 of them completed during faults, is linearizable\n");
    if (r.code != TF_RUN_EXIT_PASSED)
        fail_run(&r, "run failed: %s", first_failure(&r));
    char *log = it_report_attachment(&r.rep, NULL, "completed during 1 fault window");
    assert_non_null(log);
    assert_true(g_str_has_prefix(log, "linearizable: "));
    assert_non_null(strstr(log, "on 2 keys"));
    g_free(log);
    char *txt = it_report_attachment(&r.rep, "linearizability.txt", NULL);
    assert_true(g_str_has_prefix(txt, "linearizable: "));
    g_free(txt);
    assert_null(it_report_attachment(&r.rep, "linearizability.svg", NULL)); /* violations only */

    char *attached_text = NULL;
    tf_ophistory *h = attached_history(&r, &attached_text);
    GPtrArray *ops = tf_ophistory_ops(h), *faults = tf_ophistory_faults(h);
    assert_true(ops->len >= 100);
    guint processes_seen[3] = {0};
    for (guint i = 0; i < ops->len; i++) {
        const tf_op *op = ops->pdata[i];
        assert_int_not_equal(op->status, TF_OP_PENDING); /* stopped clients finished theirs */
        assert_true(op->process >= 0 && op->process < 3); /* nothing unknown: none retired */
        processes_seen[op->process]++;
        assert_non_null(json_object_get(op->input, "key"));
    }
    assert_true(processes_seen[0] && processes_seen[1] && processes_seen[2]);
    assert_int_equal(faults->len, 1);
    const tf_fault *f = faults->pdata[0];
    assert_string_equal(f->name, "n2");
    assert_string_equal(f->what, "paused");
    assert_true(f->end > f->begin);
    g_ptr_array_unref(faults);
    g_ptr_array_unref(ops);

    /* the journal, exported and read back: the same history, checked the same way */
    char *export = NULL, *store = g_build_filename(r.dir, "state.db", NULL);
    char *export_path = g_build_filename(r.dir, "run.ndjson", NULL);
    const char *export_args[] = {"history", "export", "--store", store, NULL};
    assert_int_equal(it_run_cmd(export_args, &export), 0);
    assert_true(g_file_set_contents(export_path, export, -1, NULL));
    GError *err = NULL;
    GPtrArray *all = tf_ophistory_parse_all("run.ndjson", export, strlen(export), &err);
    if (!all)
        fail_msg("%s", err->message);
    assert_int_equal(all->len, 1); /* the raftkv observer's stream is not a client history */
    char *back = history_text(((tf_ophistory_part *)all->pdata[0])->history);
    assert_string_equal(back, attached_text);
    g_free(back);
    g_ptr_array_unref(all);
    char *out = NULL;
    const char *check_args[] = {"history", "check", "--model", "registers", export_path, NULL};
    assert_int_equal(it_run_cmd(check_args, &out), 0);
    assert_true(g_str_has_prefix(out, export_path));
    assert_true(g_str_has_suffix(out, " [run 1, execution 1 (scenario 'case', attempt 0)]: linearizable\n"));
    g_free(out);
    g_free(export_path);
    g_free(store);
    g_free(export);
    g_free(attached_text);
    tf_ophistory_free(h);
    report_clear(&r);
}

/* An empty or fault-free history proves nothing: below the floor the step fails, saying
 * how many operations there were and how many it asked for. The history is attached. */
static void test_floor(void **unused)
{
    report r = run("", "    And 2 clients read, write and compare-and-set 1 key through member n1\n"
                       "    When the clients complete 20 operations\n"
                       "    Then the history of at least 100000 operations is linearizable\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    const char *msg = r.rep.failures->len ? r.rep.failures->pdata[0] : "";
    if (!g_str_has_prefix(msg, "the client history is linearizable but too small to prove anything: ") ||
        !strstr(msg, "operations completed ok, the step asks for at least 100000 ("))
        fail_run(&r, "unexpected failure: %s", msg);
    char *log = it_report_attachment(&r.rep, NULL, "stopped the clients first");
    assert_non_null(log); /* the check stopped them: it needs the whole history */
    g_free(log);
    tf_ophistory *h = attached_history(&r, NULL);
    assert_true(tf_ophistory_len(h) >= 20);
    tf_ophistory_free(h);
    report_clear(&r);

    r = run("", "    And 2 clients read, write and compare-and-set 1 key through member n1\n"
                "    When the clients complete 20 operations\n"
                "    Then the history of at least 10 operations, 5 of them completed during faults, is linearizable\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    msg = r.rep.failures->len ? r.rep.failures->pdata[0] : "";
    if (!g_str_has_prefix(msg, "the client history is linearizable but shows too little of the faults: "
                               "0 operations completed ok during faults, the step asks for at least 5 (") ||
        !strstr(msg, "during 0 fault windows"))
        fail_run(&r, "unexpected failure: %s", msg);
    report_clear(&r);

    /* a check without clients says how to start them */
    r = run("", "    Then the history is linearizable\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    assert_non_null(it_report_failure(&r.rep, "no client history in this scenario: start clients with"));
    report_clear(&r);
}

/* Members that share nothing, used at random: a read through one misses a write through
 * another, and the check refutes the history, naming the failing read and attaching the
 * explanation and the drawing. */
static void test_stale_reads_refuted(void **unused)
{
    report r = run("", "    And 3 clients read, write and compare-and-set 2 keys through random members\n"
                       "    When the clients complete 100 operations\n"
                       "    Then the history is linearizable\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    const char *msg = it_report_failure(&r.rep, "the client history is NOT linearizable: the first ");
    if (!msg || !strstr(msg, "but not event ") || !strstr(msg, "linearizability.svg"))
        fail_run(&r, "unexpected failure: %s", first_failure(&r));
    char *txt = it_report_attachment(&r.rep, "linearizability.txt", NULL);
    assert_true(g_str_has_prefix(txt, "NOT linearizable: "));
    assert_non_null(strstr(txt, "\nfailing: op "));
    assert_non_null(strstr(txt, "\none linearization of the longest prefix ("));
    g_free(txt);
    char *svg = it_report_attachment(&r.rep, "linearizability.svg", NULL);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "class=\"op failing\""));
    g_free(svg);
    report_clear(&r);
}

/* Groups of clients share one history: writers through one member and readers (that
 * only read) through another that shares nothing with it is the fake's version of a
 * partitioned member's serializable reads, and "is not linearizable" passes on it, with
 * the violation attached; it fails on a history that is linearizable. No group joins
 * after a stop. */
static void test_groups_and_refutation(void **unused)
{
    report r = run("", "    And 2 clients read, write and compare-and-set 1 key through member n1\n"
                       "    And 2 clients read 1 key through member n2 with serializable reads\n"
                       "    When the clients complete 60 operations\n"
                       "    Then the history is not linearizable\n");
    if (r.code != TF_RUN_EXIT_PASSED)
        fail_run(&r, "run failed: %s", first_failure(&r));
    char *log = it_report_attachment(&r.rep, NULL, "2 readers (processes 2-3) on 1 keys through n2, serializable reads");
    assert_non_null(log);
    g_free(log);
    log = it_report_attachment(&r.rep, NULL, "NOT linearizable, as expected: the first ");
    assert_non_null(log);
    g_free(log);
    char *svg = it_report_attachment(&r.rep, "linearizability.svg", NULL);
    assert_non_null(svg);
    g_free(svg);
    tf_ophistory *h = attached_history(&r, NULL);
    GPtrArray *ops = tf_ophistory_ops(h);
    guint serializable = 0;
    for (guint i = 0; i < ops->len; i++) {
        const tf_op *op = ops->pdata[i];
        gboolean s = json_is_true(json_object_get(op->input, "serializable"));
        assert_true(!s || op->process >= 2); /* the second group's (or a retired process) */
        assert_true(!s || !strcmp(op->name, "read")); /* readers only read */
        assert_true(op->process < 2 || op->process >= 64 || s); /* readers: 2 and 3 */
        serializable += s;
    }
    assert_true(serializable > 0);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
    report_clear(&r);

    r = run("", "    And 2 clients read, write and compare-and-set 1 key through member n1\n"
                "    When the clients complete 20 operations\n"
                "    Then the history is not linearizable\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    assert_non_null(it_report_failure(&r.rep, "the client history is linearizable, but the step expects it not to be ("));
    report_clear(&r);

    r = run("", "    And 2 clients read, write and compare-and-set 1 key through member n1\n"
                "    When the clients stop\n"
                "    And 2 clients read, write and compare-and-set 1 key through member n2\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    assert_non_null(it_report_failure(&r.rep, "the clients of this scenario were stopped: its history is "
                                              "complete, no more can join it"));
    report_clear(&r);
}

/* Members by role: the leader the observer sees (n1 here) and its first follower (n2),
 * which "that follower" then pauses and resumes, as a fault window of the history. */
static void test_members_by_role(void **unused)
{
    report r = run("", "    And 2 clients read, write and compare-and-set 1 key through the leader\n"
                       "    And 2 clients read 1 key through a follower with serializable reads\n"
                       "    When the clients complete 30 operations\n"
                       "    And that follower is paused\n"
                       "    And the clients complete 10 more operations\n"
                       "    And that follower is resumed\n"
                       "    Then the history is not linearizable\n");
    if (r.code != TF_RUN_EXIT_PASSED)
        fail_run(&r, "run failed: %s", first_failure(&r));
    char *log = it_report_attachment(&r.rep, NULL, "2 clients (processes 0-1) on 1 keys through n1,");
    assert_non_null(log);
    g_free(log);
    log = it_report_attachment(&r.rep, NULL, "2 readers (processes 2-3) on 1 keys through n2,");
    assert_non_null(log);
    g_free(log);
    tf_ophistory *h = attached_history(&r, NULL);
    GPtrArray *faults = tf_ophistory_faults(h);
    assert_int_equal(faults->len, 1);
    assert_string_equal(((tf_fault *)faults->pdata[0])->name, "n2");
    assert_true(((tf_fault *)faults->pdata[0])->end > 0);
    g_ptr_array_unref(faults);
    tf_ophistory_free(h);
    report_clear(&r);

    r = run("", "    And 2 clients read, write and compare-and-set 1 key through member n1\n"
                "    When that follower is paused\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    assert_non_null(it_report_failure(&r.rep, "no clients go through a follower in this scenario"));
    report_clear(&r);
}

/* A check that runs out of time is a failure that says so, never a pass. */
static void test_check_out_of_time(void **unused)
{
    report r = run("", "    Given the linearizability check may take 0.000001 seconds\n"
                       "    And 2 clients read, write and compare-and-set 1 key through member n1\n"
                       "    When the clients complete 20 operations\n"
                       "    Then the history is linearizable\n");
    assert_int_equal(r.code, TF_RUN_EXIT_FAILED);
    const char *msg = it_report_failure(&r.rep, "the linearizability check gave no verdict: time limit of 1e-06 s reached");
    if (!msg || !strstr(msg, "A history that was not checked proves nothing"))
        fail_run(&r, "unexpected failure: %s", first_failure(&r));
    char *txt = it_report_attachment(&r.rep, "linearizability.txt", NULL);
    assert_true(g_str_has_prefix(txt, "unknown: "));
    g_free(txt);
    report_clear(&r);
}

/* Writes answered "request timed out" may still commit: each is unknown, and its client
 * goes on as a new process (Jepsen's rule), so no process has two operations open. */
static void test_unknown_retires_process(void **unused)
{
    report r = run("\"--put\", \"refuse\"",
                   "    And 2 clients read, write and compare-and-set 1 key through member n1\n"
                   "    When the clients complete 20 operations\n"
                   "    Then the history of at least 20 operations is linearizable\n");
    if (r.code != TF_RUN_EXIT_PASSED)
        fail_run(&r, "run failed: %s", first_failure(&r));
    tf_ophistory *h = attached_history(&r, NULL);
    GPtrArray *ops = tf_ophistory_ops(h);
    GHashTable *closed = g_hash_table_new(g_int64_hash, g_int64_equal);
    guint unknown = 0;
    gint64 top = 0;
    for (guint i = 0; i < ops->len; i++) {
        tf_op *op = ops->pdata[i];
        if (g_hash_table_contains(closed, &op->process))
            fail_msg("process %" G_GINT64_FORMAT " went on after an unknown operation", op->process);
        if (op->status == TF_OP_UNKNOWN) {
            assert_string_not_equal(op->name, "read"); /* a read is never left unknown */
            /* refused by the member, or cut short when the check stopped the clients */
            if (!strstr(op->error, "etcdserver: request timed out") && !strstr(op->error, ": interrupted"))
                fail_msg("op %" G_GUINT64_FORMAT ": %s", op->id, op->error);
            g_hash_table_add(closed, &op->process);
            unknown++;
        }
        top = MAX(top, op->process);
    }
    assert_true(unknown > 0);
    assert_true(top >= 2); /* processes past the two clients' first ids */
    assert_true(unknown >= 5);
    /* none of those writes was ever read: the check left them out instead of searching
     * the 2^n ways they might have taken effect */
    char *log = it_report_attachment(&r.rep, NULL, "of unknown outcome that cannot change the verdict left out");
    assert_non_null(log);
    g_free(log);
    g_hash_table_unref(closed);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
    report_clear(&r);
}

static int setup(void **unused) { return it_setup("tf-raftkv-clients"); }
static int teardown(void **unused) { return it_teardown(); }

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "fake-etcd"))
        return fake_etcd_main(argc - 1, argv + 1);
    g_unsetenv("TF_STORE");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linearizable_history_round_trip),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_stale_reads_refuted),
        cmocka_unit_test(test_groups_and_refutation),
        cmocka_unit_test(test_members_by_role),
        cmocka_unit_test(test_check_out_of_time),
        cmocka_unit_test(test_unknown_retires_process),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
