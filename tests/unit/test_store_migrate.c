/* test_store_migrate.c: stores written before schema 2 keep working. The fixture
 * tests/unit/data/store/v1-raftkv.db was written by the tf of commit 9ed3185 (see the
 * README there). Opened read-only it is read as it is and not changed; opened to write
 * it is migrated in place with every run, batch and claim kept, its streams still
 * continue, and its schema is then exactly a new store's; two processes opening it at
 * once both succeed, 20 times over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <string.h>
#include <glib/gstdio.h>
#include "store_fixture.h"
#include "tf/durable.h"

#define FIXTURE TF_SOURCE_DIR "/tests/unit/data/store/v1-raftkv.db"
#define KILL_CLAIM "raftkv.kill:76a7f921f1e0b39a430e6406a2ba08930cce1c529c594c18e197d26f7bd09fd1"
#define STREAM_1 "raftkv/Killing the leader elects a new leader with a higher term"
#define MIGRATE_RACES 20

static char *tmpdir;

static char *copy_fixture(const char *name)
{
    char *path = g_build_filename(tmpdir, name, NULL), *data;
    gsize len;
    assert_true(g_file_get_contents(FIXTURE, &data, &len, NULL));
    assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
    g_free(data);
    return path;
}

static gint64 user_version(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    gint64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Every schema object as "type name tbl_name sql" lines, sorted. */
static char *schema_of(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT type, name, tbl_name, coalesce(sql, '') FROM"
                                        " sqlite_master ORDER BY type, name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    GString *out = g_string_new(NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
        g_string_append_printf(out, "%s %s %s %s\n", sqlite3_column_text(st, 0),
                               sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
                               sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return g_string_free(out, FALSE);
}

static char *export(tf_store *s, gint64 run, const char *stream)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    GError *err = NULL;
    gint64 n = tf_store_export_journal(s, run, stream, f, &err);
    fclose(f);
    if (n < 0)
        fail_msg("export: %s", err->message);
    char *copy = g_strdup(text);
    free(text);
    return copy;
}

/* What the fixture holds, through whichever store s opened it. */
static void assert_fixture_content(tf_store *s)
{
    GError *err = NULL;
    json_t *runs = tf_store_runs(s, &err);
    assert_non_null(runs);
    assert_int_equal(json_array_size(runs), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(runs, 0), "batches")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(runs, 1), "batches")), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 1), "status")), "passed");
    json_decref(runs);
    char *text = export(s, 1, NULL);
    assert_non_null(strstr(text, "{\"run\":1,\"stream\":\"" STREAM_1 "\",\"seq\":4,\"cycle\":"));
    assert_null(strstr(text, "\"execution\""));
    g_free(text);
}

static void test_read_only_reads_schema_1_as_it_is(void **unused)
{
    char *path = copy_fixture("ro.db");
    GError *err = NULL;
    tf_store *s = tf_store_open_readonly(path, &err);
    if (!s)
        fail_msg("%s", err->message);
    assert_fixture_content(s);
    tf_store_unref(s);
    assert_int_equal(user_version(path), 1);
    g_free(path);
}

static void test_migrates_with_nothing_lost(void **unused)
{
    char *path = copy_fixture("rw.db");
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    if (!s)
        fail_msg("%s", err->message);
    assert_int_equal(user_version(path), 2);
    assert_fixture_content(s);
    /* The completed kill is still done: a retry would not kill again. */
    json_t *res = NULL;
    assert_int_equal(tf_claim_acquire(s, KILL_CLAIM, "me", G_USEC_PER_SEC, &res, NULL, &err),
                     TF_CLAIM_DONE);
    assert_non_null(res);
    json_decref(res);
    /* An old stream continues its numbers; new executions get their own. */
    tf_journal *old = tf_journal_open(s, STREAM_1, 0, &err);
    guint64 last = 0;
    assert_true(tf_journal_last_seq(old, &last, &err));
    assert_int_equal(last, 4);
    json_t *b = json_pack("{s:[]}", "events");
    assert_true(tf_journal_append(old, 5, 5, 1, b, &err));
    gint64 run = tf_store_run_begin(s, "after migration", &err);
    tf_execution e = {.pickle = "1", .name = "Killing the leader elects a new leader with a higher term"};
    gint64 ex = tf_store_execution_begin(s, run, &e, &err);
    tf_journal *j = tf_journal_open_execution(s, ex, "raftkv", &err);
    assert_true(tf_journal_append(j, 1, 1, 1, b, &err));
    json_decref(b);
    char *text = export(s, run, "raftkv");
    assert_non_null(strstr(text, "\"execution\":1,\"scenario\":\"Killing"));
    g_free(text);
    tf_journal_unref(j);
    tf_journal_unref(old);
    tf_store_unref(s);
    /* Reopening a migrated store changes nothing more. */
    char *before = schema_of(path);
    s = tf_store_open(path, &err);
    tf_store_unref(s);
    char *after = schema_of(path);
    assert_string_equal(before, after);
    g_free(before);
    g_free(after);
    g_free(path);
}

static void test_migrated_schema_is_a_new_stores(void **unused)
{
    char *old = copy_fixture("schema.db");
    char *fresh = g_build_filename(tmpdir, "fresh.db", NULL);
    GError *err = NULL;
    tf_store_unref(tf_store_open(old, &err));
    tf_store_unref(tf_store_open(fresh, &err));
    char *a = schema_of(old), *b = schema_of(fresh);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "table executions executions"));
    g_free(a);
    g_free(b);
    g_free(old);
    g_free(fresh);
}

static int migrate_body(int i, void *path)
{
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    gint64 run = s ? tf_store_run_begin(s, "racer", &err) : 0;
    if (!run)
        fprintf(stderr, "racer %d: %s\n", i, err->message);
    tf_store_unref(s);
    return run ? 0 : 1;
}

static void test_two_processes_migrate_at_once(void **unused)
{
    for (int k = 0; k < MIGRATE_RACES; k++) {
        char *name = g_strdup_printf("race%d.db", k);
        char *path = copy_fixture(name);
        sf_race(2, migrate_body, path);
        assert_int_equal(user_version(path), 2);
        GError *err = NULL;
        tf_store *s = tf_store_open_readonly(path, &err);
        json_t *runs = tf_store_runs(s, &err);
        assert_int_equal(json_array_size(runs), 4);
        json_decref(runs);
        tf_store_unref(s);
        g_free(path);
        g_free(name);
    }
}

static int setup(void **unused)
{
    tmpdir = sf_tmpdir_new("tf-store-migrate");
    return 0;
}

static int teardown(void **unused)
{
    sf_tmpdir_remove(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_only_reads_schema_1_as_it_is),
        cmocka_unit_test(test_migrates_with_nothing_lost),
        cmocka_unit_test(test_migrated_schema_is_a_new_stores),
        cmocka_unit_test(test_two_processes_migrate_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
