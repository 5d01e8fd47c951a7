/* test_netns_scenarios.c: the bundled network-fault features (scenarios/raftkv/
 * partitions.feature, prevote.feature) run by `tf run` against real etcd members in
 * network namespaces: every scenario passes; each report holds its faults (log lines,
 * faults.json, a timeline whose fault windows name them) and, with a store, a gapless
 * "faults" journal per execution; nothing is left running or linked afterwards. Delay
 * fails saying netem is missing where it is. For a user who cannot
 * make namespaces the @netns scenarios are Skipped with the reason, never passed, and a
 * step that asks for namespaces outside them fails at once saying what is missing. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <tf/tf.h>
#include "it_scenarios.h"
#include "net_peer.h"
#include "skip.h"
#include "../../tf/cluster/net.h"
#include "../../tf/cluster/owner.h"

#define NOBODY 65534

static int setup(void **unused) { return it_setup("tf-netns-it"); }
static int teardown(void **unused) { return it_teardown(); }

/* Network records whose owner is not dead and is a process of this test (its token
 * "BOOT-PIDNS-PID-START" names a pid carrying the marker), or has no readable token: other
 * tf runs on the machine (other CI jobs, other users' suites) hold records of their own. */
static guint count_records(void)
{
    gchar *dir = tf_net_state_dir();
    GDir *d = g_dir_open(dir, 0, NULL);
    guint n = 0;
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        gchar *path = g_build_filename(dir, name, NULL);
        if (g_str_has_prefix(name, "net-") && tf_owner_dir_state(path) != TF_OWNER_DEAD) {
            gchar *owner = g_build_filename(path, TF_OWNER_FILE, NULL), *token = NULL;
            int pid = 0;
            gboolean known = g_file_get_contents(owner, &token, NULL, NULL) &&
                             sscanf(token, "%*[0-9a-f]-%*[0-9]-%d-", &pid) == 1 && pid > 0;
            n += !known || it_pid_marked((pid_t)pid);
            g_free(token);
            g_free(owner);
        }
        g_free(path);
    }
    if (d)
        g_dir_close(d);
    g_free(dir);
    return n;
}

static void test_bundled_fault_features_pass(void **unused)
{
    guint records = count_records();
    char *store = it_path("state.db");
    const char *args[] = {"--store", store, TF_SOURCE_DIR "/scenarios/raftkv/partitions.feature",
                          TF_SOURCE_DIR "/scenarios/raftkv/prevote.feature", NULL};
    it_report rep;
    int code = it_run_report(args, &rep);
    for (guint i = 0; i < rep.failures->len; i++)
        printf("failure: %s\n", (char *)rep.failures->pdata[i]);
    assert_int_equal(code, 0);
    assert_int_equal(rep.cases, 6);
    assert_int_equal(rep.passed, rep.steps);
    assert_int_equal(it_count_marked("etcd"), 0); /* every member is gone */
    assert_int_equal(count_records(), records);   /* and every network */

    /* Each scenario's timeline shows its faults; faults.json lists them. */
    guint timelines_with_faults = 0, fault_files = 0, fault_lines = 0;
    for (guint i = 0; i < rep.attachments->len; i++) {
        json_t *att = rep.attachments->pdata[i];
        gchar *text = NULL;
        if (!g_strcmp0(it_att(att, "contentEncoding"), "BASE64")) {
            gsize len = 0;
            guchar *raw = g_base64_decode(it_att(att, "body"), &len);
            text = g_strndup((const char *)raw, len);
            g_free(raw);
        }
        const char *body = text ? text : it_att(att, "body");
        if (!g_strcmp0(it_att(att, "mediaType"), "image/svg+xml") && strstr(body, "class=\"fault\""))
            timelines_with_faults++;
        if (!g_strcmp0(it_att(att, "fileName"), "faults.json")) {
            json_t *ev = json_loads(body, 0, NULL);
            assert_true(json_array_size(ev) >= 2);
            json_decref(ev);
            fault_files++;
        }
        fault_lines += body && g_str_has_prefix(body, "fault ");
        g_free(text);
    }
    assert_int_equal(timelines_with_faults, 6);
    assert_int_equal(fault_files, 6);
    assert_true(fault_lines >= 6);
    char *svg = it_report_attachment(&rep, "raftkv-timeline.svg", "{n1} | {n2, n3}");
    assert_non_null(svg); /* the partition is named in its window */
    g_free(svg);
    char *iso = it_report_attachment(&rep, NULL, "stopped claiming leadership");
    assert_non_null(iso);
    g_free(iso);
    char *forced = it_report_attachment(&rep, NULL, "after the heal the cluster elected");
    assert_non_null(forced);
    g_free(forced);

    /* The store's "faults" streams are gapless: every start and end was journaled. */
    GError *err = NULL;
    tf_store *st = tf_store_open(store, &err);
    assert_non_null(st);
    char *export = it_path("journal.ndjson");
    FILE *f = fopen(export, "w");
    assert_true(tf_store_export_journal(st, 0, NULL, f, &err) > 0);
    fclose(f);
    tf_store_unref(st);
    char *journal = NULL;
    assert_true(g_file_get_contents(export, &journal, NULL, NULL));
    GHashTable *last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint fault_events = 0;
    char **jl = g_strsplit(journal, "\n", -1);
    for (char **l = jl; *l && **l; l++) {
        json_t *b = json_loads(*l, 0, NULL);
        /* each scenario's execution has its own "faults" stream beside its "raftkv" one */
        if (!g_strcmp0(json_string_value(json_object_get(b, "stream")), "faults")) {
            char *stream = g_strdup_printf("%" JSON_INTEGER_FORMAT "/faults",
                                           json_integer_value(json_object_get(b, "execution")));
            guint64 seq = (guint64)json_integer_value(json_object_get(b, "seq"));
            assert_int_equal(seq, GPOINTER_TO_SIZE(g_hash_table_lookup(last, stream)) + 1);
            g_hash_table_insert(last, stream, GSIZE_TO_POINTER(seq));
            fault_events += json_array_size(json_object_get(b, "events"));
        }
        json_decref(b);
    }
    assert_int_equal(g_hash_table_size(last), 6);
    assert_true(fault_events >= 12);
    g_strfreev(jl);
    g_hash_table_unref(last);
    g_free(journal);
    g_free(export);
    g_free(store);
    it_report_clear(&rep);
}

/* In a Messages report: how many SKIPPED steps or hooks say needle, and how many
 * Gherkin steps (not hooks) PASSED (*passed_steps). */
static guint skipped_saying(const char *report, const char *needle, guint *passed_steps)
{
    gchar *text = NULL;
    assert_true(g_file_get_contents(report, &text, NULL, NULL));
    gchar **lines = g_strsplit(text, "\n", -1);
    GHashTable *pickle_steps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint n = 0;
    *passed_steps = 0;
    for (gchar **l = lines; *l && **l; l++) {
        json_t *m = json_loads(*l, 0, NULL);
        size_t i;
        json_t *ts;
        json_array_foreach(json_object_get(json_object_get(m, "testCase"), "testSteps"), i, ts)
            if (json_object_get(ts, "pickleStepId"))
                g_hash_table_add(pickle_steps, g_strdup(json_string_value(json_object_get(ts, "id"))));
        json_t *fin = json_object_get(m, "testStepFinished");
        json_t *res = json_object_get(fin, "testStepResult");
        const char *msg = json_string_value(json_object_get(res, "message"));
        const char *status = json_string_value(json_object_get(res, "status"));
        n += !g_strcmp0(status, "SKIPPED") && msg && strstr(msg, needle);
        *passed_steps += !g_strcmp0(status, "PASSED") &&
                         g_hash_table_contains(pickle_steps, json_string_value(json_object_get(fin, "testStepId")));
        json_decref(m);
    }
    g_hash_table_unref(pickle_steps);
    g_strfreev(lines);
    g_free(text);
    return n;
}

static gchar *last_report;

/* Runs `tf run ARGS` as user nobody (who cannot make network namespaces); returns the
 * exit code and the Messages report it wrote (its path in last_report). */
static int run_as_nobody(const char *const *args, it_report *rep)
{
    gchar *dir = it_path("nobody");
    assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
    assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
    assert_int_equal(chmod(it_tmp(), 0711), 0); /* nobody may pass through to its dir */
    gchar *report = g_build_filename(dir, "report.ndjson", NULL);
    gchar *fmt = g_strdup_printf("message:%s", report);
    const char *bin = g_getenv("TF_BIN");
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)(bin && *bin ? bin : TF_BINARY_DIR "/bin/tf"));
    g_ptr_array_add(argv, "run");
    g_ptr_array_add(argv, "--format");
    g_ptr_array_add(argv, fmt);
    g_ptr_array_add(argv, "--format");
    g_ptr_array_add(argv, "summary");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        g_setenv("TMPDIR", dir, TRUE);
        g_unsetenv("TF_STORE");
        if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
            _exit(120);
        execv(argv->pdata[0], (char **)argv->pdata);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    it_report_read(report, rep);
    g_ptr_array_unref(argv);
    g_free(fmt);
    g_free(last_report);
    last_report = report;
    g_free(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_unprivileged_user_gets_skips_with_the_reason(void **unused)
{
    const char *args[] = {TF_SOURCE_DIR "/scenarios/raftkv/partitions.feature", NULL};
    it_report rep;
    int code = run_as_nobody(args, &rep);
    assert_int_equal(code, 0); /* skipped is not failed */
    assert_int_equal(rep.cases, 4);
    assert_int_equal(rep.failures->len, 0);
    assert_int_equal(it_count_marked("etcd"), 0);
    guint passed = 0;
    assert_int_equal(skipped_saying(last_report, "CAP_SYS_ADMIN", &passed), 4); /* each says why */
    assert_int_equal(passed, 0); /* and none passed: no step of them ran */
    it_report_clear(&rep);
}

static void test_untagged_namespaced_step_fails_at_once(void **unused)
{
    const char *args[] = {TF_SOURCE_DIR "/tests/integration/data/netns_untagged.feature", NULL};
    it_report rep;
    gint64 t0 = g_get_monotonic_time();
    int code = run_as_nobody(args, &rep);
    assert_int_equal(code, 1);
    assert_true(g_get_monotonic_time() - t0 < 10 * G_USEC_PER_SEC); /* at once, no wait */
    assert_non_null(it_report_failure(&rep, "Operation not permitted"));
    assert_non_null(it_report_failure(&rep, "unshare --user --map-root-user --net"));
    it_report_clear(&rep);
}

/* Delay needs netem: the step's error says so where the kernel lacks it (this one). */
static void test_delay_step_says_netem_is_missing(void **unused)
{
    const char *args[] = {TF_SOURCE_DIR "/tests/integration/data/netns_delay.feature", NULL};
    it_report rep;
    int code = it_run_report(args, &rep);
    if (code == 0) { /* a kernel with netem: the delay was applied, then healed */
        char *line = it_report_attachment(&rep, NULL, "fault delay: n1 delayed by 100.0 ms");
        assert_non_null(line);
        g_free(line);
    } else {
        assert_int_equal(code, 1);
        const char *why = it_report_failure(&rep, "netem");
        assert_non_null(why);
        assert_non_null(strstr(why, "this kernel does not have"));
        assert_non_null(strstr(why, "partitions, one-way cuts and packet loss work without it"));
    }
    assert_int_equal(it_count_marked("etcd"), 0);
    it_report_clear(&rep);
}

int main(void)
{
    net_test_need_namespaces();
    tf_test_need_cluster_all("etcd-3.json");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_fault_features_pass),
        cmocka_unit_test(test_unprivileged_user_gets_skips_with_the_reason),
        cmocka_unit_test(test_untagged_namespaced_step_fails_at_once),
        cmocka_unit_test(test_delay_step_says_netem_is_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
