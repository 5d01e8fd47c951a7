/* test_history_check.c: `tf history check` as a user runs it: one verdict line per file in
 * argument order, exit 0 (all linearizable), 1 (some not), 2 (bad input or usage: file:line
 * on stderr, and it wins), 3 (none refuted, some unknown), the SVG of a violation, an
 * export of a run checked scenario by scenario, and the usage errors. Runs the built `tf`
 * on small histories written to a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <glib/gstdio.h>
#include <tf/tf.h>

static char *dir;

typedef struct {
    int code;
    char *out, *err;
} run_result;

static void run_free(run_result *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* Runs `tf history check ARGS...` (NULL-terminated) in the temp dir. */
static run_result run(const char *first, ...)
{
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    if (!g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE))
        fail_msg("%s is not built (cmake --build BUILD --target tf_cli)", bin);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)bin);
    g_ptr_array_add(argv, "history");
    g_ptr_array_add(argv, "check");
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    run_result r = {0};
    int status = 0;
    GError *err = NULL;
    if (!g_spawn_sync(dir, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err,
                      &status, &err))
        fail_msg("%s", err->message);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    g_ptr_array_unref(argv);
    return r;
}

static void write_file(const char *name, const char *text)
{
    char *p = g_build_filename(dir, name, NULL);
    assert_true(g_file_set_contents(p, text, -1, NULL));
    g_free(p);
}

static const char ok_tf[] =
    "{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"write\",\"input\":1,\"time\":10}\n"
    "{\"event\":\"ok\",\"op\":1,\"output\":null,\"time\":20}\n"
    "{\"event\":\"invoke\",\"op\":2,\"process\":1,\"name\":\"read\",\"input\":null,\"time\":30}\n"
    "{\"event\":\"ok\",\"op\":2,\"output\":1,\"time\":40}\n";

static const char bad_log[] = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
                              "INFO  jepsen.util - 0\t:ok\t:write\t1\n"
                              "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
                              "INFO  jepsen.util - 1\t:ok\t:read\tnil\n";

static int setup(void **unused)
{
    dir = g_dir_make_tmp("tf-check-XXXXXX", NULL);
    write_file("ok.ndjson", ok_tf);
    write_file("bad.log", bad_log);
    write_file("broken.log", "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
                             "INFO  jepsen.util - 0\t:ok\t:read\t1\n");
    write_file("nomodel.log", "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
                              "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2 3]\n");
    write_file("kv.edn", "{:process 0, :type :invoke, :f :put, :key \"a\", :value \"x\"}\n"
                         "{:process 0, :type :ok, :f :put, :key \"a\", :value \"x\"}\n"
                         "{:process 1, :type :invoke, :f :get, :key \"a\", :value nil}\n"
                         "{:process 1, :type :ok, :f :get, :key \"a\", :value \"x\"}\n");
    /* 60 overlapping writes and an impossible read: no verdict in reasonable time */
    GString *hard = g_string_new(NULL);
    for (int i = 0; i < 60; i++)
        g_string_append_printf(hard, "{\"event\":\"invoke\",\"op\":%d,\"process\":%d,\"name\":"
                               "\"write\",\"input\":%d,\"time\":%d}\n", i + 1, i, i, i);
    g_string_append(hard, "{\"event\":\"invoke\",\"op\":61,\"process\":60,\"name\":\"read\","
                          "\"input\":null,\"time\":500}\n"
                          "{\"event\":\"ok\",\"op\":61,\"output\":-1,\"time\":600}\n");
    for (int i = 0; i < 60; i++)
        g_string_append_printf(hard, "{\"event\":\"ok\",\"op\":%d,\"output\":null,\"time\":1000}\n",
                               i + 1);
    write_file("hard.ndjson", hard->str);
    /* `tf history export` of a run: two scenarios' client histories (registers by key),
     * the second with a stale read, and an observer's stream beside them */
    write_file("run.ndjson",
        "{\"run\":2,\"execution\":4,\"scenario\":\"fine\",\"pickle\":\"a\",\"attempt\":0,"
        "\"stream\":\"ophistory\",\"seq\":1,\"events\":["
        "{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"write\",\"input\":{\"key\":\"k\",\"value\":\"1\"},\"time\":10},"
        "{\"event\":\"ok\",\"op\":1,\"output\":null,\"time\":20}]}\n"
        "{\"run\":2,\"execution\":4,\"scenario\":\"fine\",\"pickle\":\"a\",\"attempt\":0,"
        "\"stream\":\"raftkv\",\"seq\":1,\"events\":[{\"leader\":\"n1\"}]}\n"
        "{\"run\":2,\"execution\":5,\"scenario\":\"stale\",\"pickle\":\"b\",\"attempt\":0,"
        "\"stream\":\"ophistory\",\"seq\":1,\"events\":["
        "{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"write\",\"input\":{\"key\":\"k\",\"value\":\"1\"},\"time\":10},"
        "{\"event\":\"ok\",\"op\":1,\"output\":null,\"time\":20},"
        "{\"event\":\"invoke\",\"op\":2,\"process\":1,\"name\":\"read\",\"input\":{\"key\":\"k\",\"value\":null},\"time\":30},"
        "{\"event\":\"ok\",\"op\":2,\"output\":null,\"time\":40}]}\n");
    g_string_free(hard, TRUE);
    return 0;
}

static int teardown(void **unused)
{
    const char *names[] = {"ok.ndjson", "bad.log", "broken.log", "nomodel.log", "kv.edn",
                           "hard.ndjson", "run.ndjson", "svg/bad.log.svg", "svg/run.ndjson-2.svg",
                           "svg", NULL};
    for (int i = 0; names[i]; i++) {
        char *p = g_build_filename(dir, names[i], NULL);
        g_remove(p);
        g_free(p);
    }
    g_rmdir(dir);
    g_free(dir);
    return 0;
}

static void test_verdicts_and_exit_codes(void **unused)
{
    run_result r = run("--model", "register", "ok.ndjson", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "ok.ndjson: linearizable\n");
    assert_string_equal(r.err, "");
    run_free(&r);

    r = run("--model", "register", "bad.log", "ok.ndjson", NULL);
    assert_int_equal(r.code, 1);
    assert_true(g_str_has_prefix(r.out, "bad.log: NOT linearizable (the first 3 of 4 events can be "
                                        "linearized (1 operation, then register = 1) but not "
                                        "event 4: the completion of op 2 (process 1, read() -> nil))\n"));
    assert_true(g_str_has_suffix(r.out, "\nok.ndjson: linearizable\n"));
    run_free(&r);

    r = run("--model", "kv", "kv.edn", NULL);
    assert_int_equal(r.code, 0);
    run_free(&r);
}

static void test_bad_input_names_file_and_line(void **unused)
{
    /* the other files are still checked; bad input wins the exit code */
    run_result r = run("--model", "register", "broken.log", "bad.log", "nomodel.log", "none.log", NULL);
    assert_int_equal(r.code, 2);
    assert_true(g_str_has_prefix(r.out, "bad.log: NOT linearizable ("));
    assert_null(strstr(r.out, "broken.log"));
    assert_non_null(strstr(r.err, "broken.log:2: process 0 completes :read but its pending "
                                  "operation is :write (line 1)\n"));
    assert_non_null(strstr(r.err, "nomodel.log:2: op 2 cas([1,2,3]) -> ?: cas input must be "
                                  "[from, to]\n"));
    assert_non_null(strstr(r.err, "none.log: Failed to open file"));
    run_free(&r);
    r = run("--model", "kv", "bad.log", NULL); /* a register history is bad kv input */
    assert_int_equal(r.code, 2);
    assert_string_equal(r.err, "bad.log:1: op 1 write(1) -> 1: the kv model has no operation "
                               "\"write\" (get, put, append)\n");
    run_free(&r);
}

static void test_time_limit_is_unknown(void **unused)
{
    run_result r = run("--model", "register", "--timeout", "0.2", "hard.ndjson", "ok.ndjson", NULL);
    assert_int_equal(r.code, 3);
    assert_true(g_str_has_prefix(r.out, "hard.ndjson: unknown (time limit of 0.2 s reached (61 "
                                        "operations) after "));
    assert_true(g_str_has_suffix(r.out, "\nok.ndjson: linearizable\n"));
    run_free(&r);
    /* a refutation elsewhere outranks an unknown */
    r = run("--model", "register", "--timeout", "0.2", "hard.ndjson", "bad.log", NULL);
    assert_int_equal(r.code, 1);
    run_free(&r);
}

static void test_svg_of_a_violation(void **unused)
{
    run_result r = run("--model", "register", "--svg", "svg", "bad.log", "ok.ndjson", NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "); drawn in svg/bad.log.svg\n"));
    char *path = g_build_filename(dir, "svg", "bad.log.svg", NULL), *svg = NULL;
    assert_true(g_file_get_contents(path, &svg, NULL, NULL));
    assert_non_null(strstr(svg, "class=\"op failing\" data-op=\"2\""));
    char *ok_svg = g_build_filename(dir, "svg", "ok.ndjson.svg", NULL);
    assert_false(g_file_test(ok_svg, G_FILE_TEST_EXISTS)); /* only violations are drawn */
    g_free(ok_svg);
    g_free(svg);
    g_free(path);
    run_free(&r);
}

/* An export of a run is checked scenario by scenario: a line each, named by its stream. */
static void test_export_of_a_run(void **unused)
{
    run_result r = run("--model", "registers", "--svg", "svg", "run.ndjson", NULL);
    assert_int_equal(r.code, 1);
    assert_true(g_str_has_prefix(r.out, "run.ndjson [run 2, execution 4 (scenario 'fine', attempt 0)]: "
                                        "linearizable\n"
                                        "run.ndjson [run 2, execution 5 (scenario 'stale', attempt 0)]: "
                                        "NOT linearizable ("));
    assert_true(g_str_has_suffix(r.out, "; drawn in svg/run.ndjson-2.svg\n"));
    assert_string_equal(r.err, "");
    run_free(&r);
}

static void test_usage(void **unused)
{
    const struct {
        const char *a, *b, *c, *d;
        const char *err;
    } cases[] = {
        {"ok.ndjson", NULL, NULL, NULL, "tf history check: --model register|registers|kv is required\n"},
        {"--model", "queue", "ok.ndjson", NULL, "tf history check: unknown model 'queue' (register, registers, kv)\n"},
        {"--model", "kv", NULL, NULL, "tf history check: no FILE given\n"},
        {"--timeout", "0", "ok.ndjson", NULL, "tf history check: --timeout: '0' is not above 0 seconds\n"},
        {"--timeout", "-1", "ok.ndjson", NULL, "tf history check: --timeout: '-1' is not a number of seconds"},
        {"--timeout", "1x", "ok.ndjson", NULL, "tf history check: --timeout: '1x' is not a number of seconds"},
        {"--timeout", "nan", "ok.ndjson", NULL, "tf history check: --timeout: 'nan' is not a number of seconds"},
        {"--frobnicate", "ok.ndjson", NULL, NULL, "tf history check: unknown option '--frobnicate'\n"},
        {"ok.ndjson", "--model", NULL, NULL, "tf history check: --model needs a value\n"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        run_result r = run(cases[i].a, cases[i].b, cases[i].c, cases[i].d, NULL);
        assert_int_equal(r.code, 2);
        assert_string_equal(r.out, "");
        if (!g_str_has_prefix(r.err, cases[i].err))
            fail_msg("case %u: expected stderr to start '%s', got '%s'", i, cases[i].err, r.err);
        run_free(&r);
    }
    run_result r = run("--help", NULL);
    assert_int_equal(r.code, 0);
    assert_true(g_str_has_prefix(r.out, "usage: tf history check --model register|registers|kv"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts_and_exit_codes),
        cmocka_unit_test(test_bad_input_names_file_and_line),
        cmocka_unit_test(test_time_limit_is_unknown),
        cmocka_unit_test(test_svg_of_a_violation),
        cmocka_unit_test(test_export_of_a_run),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
