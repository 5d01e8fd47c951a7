/* test_provider_file.c: the cluster-file provider: re-read on change, clear errors for
 * missing, unreadable and malformed files, and the runtime keeping the last good set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "rt_fixture.h"

static char *dir;

static int setup(void **unused)
{
    dir = g_dir_make_tmp("tf-provider-XXXXXX", NULL);
    return dir ? 0 : -1;
}

static int teardown(void **unused)
{
    char *cmd_path = g_build_filename(dir, "cluster.json", NULL);
    g_unlink(cmd_path);
    g_free(cmd_path);
    g_rmdir(dir);
    g_free(dir);
    return 0;
}

static char *write_file(const char *text)
{
    char *path = g_build_filename(dir, "cluster.json", NULL);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static GPtrArray *list(tf_source_provider *p, GError **err)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    if (!tf_source_provider_list(p, out, err)) {
        g_ptr_array_unref(out);
        return NULL;
    }
    return out;
}

static void test_reads_and_rereads(void **unused)
{
    char *path = write_file("{\"sources\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:1\",\"role\":\"public\"},"
                            "{\"name\":\"b\"}]}");
    tf_source_provider *p = tf_source_provider_new_file(path);
    assert_string_equal(tf_source_provider_name(p), "cluster-file");
    GError *err = NULL;
    GPtrArray *s = list(p, &err);
    assert_non_null(s);
    assert_int_equal(s->len, 2);
    assert_string_equal(tf_source_name(s->pdata[0]), "a");
    assert_string_equal(tf_source_url(s->pdata[0]), "http://127.0.0.1:1");
    assert_string_equal(tf_source_attr_str(s->pdata[0], "role"), "public");
    assert_null(tf_source_attr_str(s->pdata[0], "name")); /* name is not an attribute */
    assert_null(tf_source_url(s->pdata[1]));
    tf_source *first = tf_source_ref(s->pdata[0]);
    g_ptr_array_unref(s);
    /* Unchanged file: the very same source objects come back (no re-parse). */
    s = list(p, &err);
    assert_ptr_equal(s->pdata[0], first);
    g_ptr_array_unref(s);
    tf_source_unref(first);
    /* Changed file: re-read. */
    g_free(write_file("{\"sources\":[{\"name\":\"c\"},{\"name\":\"a\"},{\"name\":\"d\"}]}"));
    s = list(p, &err);
    assert_int_equal(s->len, 3);
    assert_string_equal(tf_source_name(s->pdata[0]), "c");
    g_ptr_array_unref(s);
    tf_source_provider_free(p);
    g_free(path);
}

static void test_errors_name_the_place(void **unused)
{
    GError *err = NULL;
    tf_source_provider *p = tf_source_provider_new_file("/nonexistent/cluster.json");
    assert_null(list(p, &err));
    assert_string_equal(err->message, "cluster file /nonexistent/cluster.json: No such file or directory");
    g_clear_error(&err);
    tf_source_provider_free(p);

    char *path = write_file("{\"sources\":[{\"name\":\"a\"},\n{\"url\":\"x\"}]}");
    p = tf_source_provider_new_file(path);
    assert_null(list(p, &err));
    char *want = g_strdup_printf("cluster file %s: sources[1]: missing string field \"name\"", path);
    assert_string_equal(err->message, want);
    g_free(want);
    g_clear_error(&err);

    g_free(write_file("{\"sources\": [ {\"name\": \"a\" } \n garbage"));
    assert_null(list(p, &err));
    assert_int_equal(err->code, TF_ERROR_PARSE);
    assert_non_null(strstr(err->message, path));
    assert_non_null(strstr(err->message, ":2:"));
    g_clear_error(&err);

    g_free(write_file("[1,2]"));
    assert_null(list(p, &err));
    assert_non_null(strstr(err->message, "expected an object with a \"sources\" array"));
    g_clear_error(&err);

    g_free(write_file("{\"sources\":[{\"name\":\"a\",\"url\":7}]}"));
    assert_null(list(p, &err));
    assert_non_null(strstr(err->message, "sources[0]: \"url\" must be a string"));
    g_clear_error(&err);

    if (geteuid() != 0) { /* root reads anything: the unreadable case needs a normal user */
        g_free(write_file("{\"sources\":[]}"));
        chmod(path, 0);
        assert_null(list(p, &err));
        assert_non_null(strstr(err->message, path));
        g_clear_error(&err);
        chmod(path, 0600);
    }
    tf_source_provider_free(p);
    g_free(path);
}

static void test_runtime_keeps_last_good_set(void **unused)
{
    char *path = write_file("{\"sources\":[{\"name\":\"b\"},{\"name\":\"a\"}]}");
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&cfg, &counter_observer, NULL,
                                    tf_source_provider_new_file(path), &err);
    assert_non_null(rt);
    tf_handle *h = tf_runtime_handle(rt);
    assert_true(tf_runtime_cycle(rt, &err));
    tf_snapshot *s = tf_handle_latest(h);
    assert_string_equal(tf_snapshot_sources(s)[0], "a"); /* sorted by name */
    assert_string_equal(tf_snapshot_sources(s)[1], "b");
    assert_null(tf_snapshot_sources(s)[2]);
    tf_snapshot_unref(s);
    g_free(write_file("not json"));
    assert_false(tf_runtime_cycle(rt, &err));
    assert_non_null(strstr(err->message, "cluster file"));
    g_clear_error(&err);
    s = tf_handle_latest(h); /* the last good set is still observed */
    assert_int_equal(tf_snapshot_cycle(s), 2);
    assert_string_equal(tf_snapshot_sources(s)[1], "b");
    tf_snapshot_unref(s);
    tf_handle_unref(h);
    tf_runtime_free(rt);
    g_free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_and_rereads),
        cmocka_unit_test(test_errors_name_the_place),
        cmocka_unit_test(test_runtime_keeps_last_good_set),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
