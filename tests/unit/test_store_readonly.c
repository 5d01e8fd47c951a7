/* test_store_readonly.c: reading an archived store that cannot be written. `tf history
 * runs` and `export` open the store read-only, so they work on a store in a read-only
 * directory (no -wal: read as immutable), on a read-only file, and on a directory that
 * still holds the -wal and -shm of commits never checkpointed (those commits are read);
 * a -wal without its -shm in a read-only directory is refused with what to do; a schema-1
 * store is read as it is; prune (a write) fails clearly. As root, the checks run as user
 * nobody (root ignores permission bits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "skip.h"
#include "store_fixture.h"
#include "tf/durable.h"

#define NOBODY 65534

static char *tmpdir;

static void drop_root(gpointer unused)
{
    if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
        _exit(120);
}

/* Runs `tf history <sub> --store <store> [opt val]` as a user who cannot write there. */
static sf_result history(const char *sub, const char *store, const char *opt, const char *val)
{
    const char *args[] = {"history", sub, "--store", store, opt, val, NULL};
    return sf_tf(NULL, args, NULL, drop_root);
}

static char *path_in(const char *dir, const char *name) { return g_build_filename(tmpdir, dir, name, NULL); }

static void copy_file(const char *from, const char *to)
{
    char *data;
    gsize len;
    assert_true(g_file_get_contents(from, &data, &len, NULL));
    assert_true(g_file_set_contents(to, data, (gssize)len, NULL));
    g_free(data);
}

/* A store with one run of one execution journaling 3 batches of stream "counter". */
static void make_store(const char *path)
{
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    assert_non_null(s);
    gint64 run = tf_store_run_begin(s, "archived", &err);
    tf_execution e = {.pickle = "7", .uri = "a.feature", .line = 3, .name = "kept"};
    gint64 ex = tf_store_execution_begin(s, run, &e, &err);
    tf_journal *j = tf_journal_open_execution(s, ex, "counter", &err);
    json_t *b = json_pack("{s:[i]}", "events", 1);
    for (guint64 seq = 1; seq <= 3; seq++)
        assert_true(tf_journal_append(j, seq, seq, 1, b, &err));
    json_decref(b);
    tf_journal_unref(j);
    assert_true(tf_store_execution_end(s, ex, "passed", NULL, &err));
    assert_true(tf_store_run_end(s, run, "passed", &err));
    tf_store_unref(s); /* the last connection checkpoints and removes the -wal */
}

/* Makes dir/s.db (+ -wal, + -shm as asked) hold a store whose newest run, "only-in-wal",
 * is committed in the -wal only. */
static void copy_with_wal(const char *src, const char *dir, gboolean with_shm)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(src, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0;"
                                      "INSERT INTO runs(label, started) VALUES ('only-in-wal', 1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (guint i = 0; i < (with_shm ? 3u : 2u); i++) {
        char *from = g_strconcat(src, suffixes[i], NULL);
        char *name = g_strconcat("s.db", suffixes[i], NULL);
        char *to = g_build_filename(dir, name, NULL);
        copy_file(from, to);
        g_free(from);
        g_free(name);
        g_free(to);
    }
    sqlite3_close(db);
}

static char *make_dir(const char *name)
{
    char *dir = g_build_filename(tmpdir, name, NULL);
    assert_int_equal(g_mkdir(dir, 0755), 0);
    return dir;
}

/* Every file in dir read-only, and dir too (or left writable). */
static void seal(const char *dir, gboolean dir_too)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    while ((n = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, n, NULL);
        assert_int_equal(chmod(p, 0444), 0);
        g_free(p);
    }
    g_dir_close(d);
    assert_int_equal(chmod(dir, dir_too ? 0555 : 0777), 0);
}

static void test_readonly_directory(void **unused)
{
    char *dir = make_dir("archive"), *store = path_in("archive", "s.db");
    make_store(store);
    seal(dir, TRUE);
    sf_result r = history("runs", store, NULL, NULL);
    sf_expect(&r, 0, "\"label\":\"archived\",", NULL);
    sf_result_clear(&r);
    r = history("export", store, NULL, NULL);
    sf_expect(&r, 0, "\"scenario\":\"kept\",\"pickle\":\"7\",\"attempt\":0,\"stream\":\"counter\",\"seq\":3,", NULL);
    sf_result_clear(&r);
    /* Reading wrote nothing: no -wal or -shm beside it. */
    char *wal = g_strconcat(store, "-wal", NULL);
    assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));
    g_free(wal);
    r = history("prune", store, NULL, NULL);
    sf_expect(&r, 1, NULL, "readonly");
    sf_result_clear(&r);
    g_free(dir);
    g_free(store);
}

static void test_readonly_file(void **unused)
{
    char *dir = make_dir("rofile"), *store = path_in("rofile", "s.db");
    make_store(store);
    seal(dir, FALSE);
    sf_result r = history("export", store, NULL, NULL);
    sf_expect(&r, 0, "\"seq\":1,", NULL);
    sf_result_clear(&r);
    g_free(dir);
    g_free(store);
}

static void test_wal_left_behind(void **unused)
{
    char *src = path_in("rofile", "s.db");
    char *dir = make_dir("walshm"), *store = path_in("walshm", "s.db");
    copy_with_wal(src, dir, TRUE);
    seal(dir, TRUE);
    sf_result r = history("runs", store, NULL, NULL);
    sf_expect(&r, 0, "\"label\":\"only-in-wal\"", NULL); /* read from the -wal */
    sf_result_clear(&r);
    char *dir2 = make_dir("walonly"), *store2 = path_in("walonly", "s.db");
    copy_with_wal(src, dir2, FALSE);
    seal(dir2, TRUE);
    r = history("runs", store2, NULL, NULL);
    sf_expect(&r, 1, NULL, "copy the store with its -wal file to a writable directory");
    sf_result_clear(&r);
    g_free(src);
    g_free(dir);
    g_free(store);
    g_free(dir2);
    g_free(store2);
}

static void test_schema_1_read_as_it_is(void **unused)
{
    char *dir = make_dir("v1"), *store = path_in("v1", "s.db");
    copy_file(TF_SOURCE_DIR "/tests/unit/data/store/v1-raftkv.db", store);
    seal(dir, TRUE);
    sf_result r = history("runs", store, NULL, NULL);
    sf_expect(&r, 0, "\"run\":1,\"label\":\"tf run\"", NULL);
    assert_non_null(strstr(r.out, "\"batches\":5,\"executions\":0,\"journal_errors\":0"));
    sf_result_clear(&r);
    r = history("export", store, "--run", "1");
    sf_expect(&r, 0,
           "{\"run\":1,\"stream\":\"raftkv/Killing the leader elects a new leader with a higher "
           "term\",\"seq\":4,",
           NULL);
    sf_result_clear(&r);
    r = history("export", store, "--stream", "raftkv/A paused leader is replaced, then steps down and catches up");
    sf_expect(&r, 0, "\"seq\":5,", NULL);
    char **lines = g_strsplit(r.out, "\n", -1);
    assert_int_equal(g_strv_length(lines), 6); /* 5 lines and the empty rest */
    g_strfreev(lines);
    sf_result_clear(&r);
    g_free(dir);
    g_free(store);
}

/* Can this process make a place it cannot write? Root can only by becoming nobody. */
static gboolean can_seal(char **why)
{
    char *dir = make_dir("probe");
    assert_int_equal(chmod(dir, 0555), 0);
    char *probe = g_build_filename(dir, "x", NULL);
    char *argv[] = {"touch", probe, NULL};
    int status = 0;
    gboolean spawned = g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                                    drop_root, NULL, NULL, NULL, &status, NULL);
    gboolean ok = spawned && !g_spawn_check_wait_status(status, NULL);
    if (!ok)
        *why = g_strdup_printf("a read-only directory is still writable here (as uid %d)",
                               geteuid() == 0 ? NOBODY : (int)geteuid());
    g_free(probe);
    g_free(dir);
    return ok;
}

int main(void)
{
    sf_tf_bin_or_exit("test_store_readonly");
    tmpdir = sf_tmpdir_new("tf-store-ro");
    assert_int_equal(chmod(tmpdir, 0755), 0); /* nobody must reach the stores */
    char *why = NULL;
    if (!can_seal(&why)) {
        sf_tmpdir_remove(tmpdir);
        /* Root can always become nobody, and anyone else is bound by permission bits. */
        tf_test_skip_all(TF_NEED_REQUIRED, "test_store_readonly: %s", why);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readonly_directory),
        cmocka_unit_test(test_readonly_file),
        cmocka_unit_test(test_wal_left_behind),
        cmocka_unit_test(test_schema_1_read_as_it_is),
    };
    int code = cmocka_run_group_tests(tests, NULL, NULL);
    sf_tmpdir_remove(tmpdir);
    return code;
}
