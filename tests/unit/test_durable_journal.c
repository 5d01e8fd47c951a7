/* test_durable_journal.c: the durable store and its journal: opening (default path, WAL,
 * foreign/corrupt/newer files refused and left untouched), gapless persisted sequence
 * numbers, the runtime journaling every batch and continuing its sequence after a
 * restart, subscriptions resuming from the journal, retention and NDJSON export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "rt_fixture.h"
#include "tf/durable.h"

static char *tmp_dir(void)
{
    GError *err = NULL;
    char *d = g_dir_make_tmp("tf-durable-XXXXXX", &err);
    assert_no_gerror(err);
    return d;
}

static void rm_rf(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, n, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            rm_rf(p);
        else
            g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

static char *file_sha(const char *path)
{
    char *data;
    gsize len;
    assert_true(g_file_get_contents(path, &data, &len, NULL));
    char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
    g_free(data);
    return sum;
}

/* The stream's last sequence number; the store must answer. */
static guint64 last_seq(tf_journal *j)
{
    GError *err = NULL;
    guint64 seq = 99999;
    if (!tf_journal_last_seq(j, &seq, &err))
        fail_msg("last seq: %s", err->message);
    return seq;
}

/* The batch of seq, or NULL when the stream has none; the store must answer. */
static json_t *read_seq(tf_journal *j, guint64 seq)
{
    GError *err = NULL;
    json_t *v = NULL;
    if (tf_journal_read(j, seq, &v, &err) == TF_LOOKUP_FAILED)
        fail_msg("read %" G_GUINT64_FORMAT ": %s", seq, err->message);
    return v;
}

/* Opening `path` must fail with TF_ERROR_CORRUPT mentioning `why`, leave the file's bytes
 * alone and create no WAL beside it. */
static void assert_refused(const char *path, const char *why)
{
    char *before = file_sha(path);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    assert_null(s);
    assert_non_null(err);
    assert_int_equal(err->code, TF_ERROR_CORRUPT);
    if (!strstr(err->message, why) || !strstr(err->message, path))
        fail_msg("error '%s' does not say '%s'", err->message, why);
    assert_non_null(strstr(err->message, "left untouched"));
    g_error_free(err);
    char *after = file_sha(path);
    assert_string_equal(before, after);
    char *wal = g_strconcat(path, "-wal", NULL);
    assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));
    g_free(wal);
    g_free(before);
    g_free(after);
}

static void test_default_path_and_wal(void **unused)
{
    char *dir = tmp_dir();
    char *cwd = g_get_current_dir();
    assert_int_equal(chdir(dir), 0);
    GError *err = NULL;
    tf_store *s = tf_store_open(NULL, &err);
    assert_no_gerror(err);
    assert_string_equal(tf_store_path(s), ".tf/state.db");
    assert_true(g_file_test(".tf/state.db", G_FILE_TEST_IS_REGULAR));
    gint64 run = tf_store_run_begin(s, "first", &err);
    assert_no_gerror(err);
    assert_true(run > 0);
    tf_store_unref(s);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(".tf/state.db", &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* Reopening keeps what was there. */
    s = tf_store_open(NULL, &err);
    assert_no_gerror(err);
    gint64 latest = 0;
    assert_int_equal(tf_store_run_latest(s, &latest, &err), TF_LOOKUP_FOUND);
    assert_int_equal(latest, run);
    tf_store_unref(s);
    assert_int_equal(chdir(cwd), 0);
    rm_rf(dir);
    g_free(dir);
    g_free(cwd);
}

static void test_foreign_files_refused(void **unused)
{
    char *dir = tmp_dir();
    char *text = g_build_filename(dir, "notes.db", NULL);
    assert_true(g_file_set_contents(text, "hello, I am a text file and not a database\n", -1,
                                    NULL));
    assert_refused(text, "not an SQLite database");

    char *tiny = g_build_filename(dir, "tiny.db", NULL);
    assert_true(g_file_set_contents(tiny, "SQLite format 3", 16, NULL));
    assert_refused(tiny, "truncated");

    /* A real SQLite database of another application. */
    char *other = g_build_filename(dir, "other.db", NULL);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE accounts(id, owner); INSERT INTO accounts "
                                      "VALUES (1, 'alice');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_refused(other, "another application");

    /* A tf store from a newer tf. */
    char *newer = g_build_filename(dir, "newer.db", NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(newer, &err);
    assert_no_gerror(err);
    tf_store_unref(s);
    assert_int_equal(sqlite3_open(newer, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA user_version=99",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_refused(newer, "newer tf (schema 99");

    g_free(text);
    g_free(tiny);
    g_free(other);
    g_free(newer);
    rm_rf(dir);
    g_free(dir);
}

static void test_corrupt_store_refused(void **unused)
{
    char *dir = tmp_dir();
    char *path = g_build_filename(dir, "state.db", NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    assert_no_gerror(err);
    tf_journal *j = tf_journal_open(s, "counter", 0, &err);
    json_t *ev = json_pack("{s:[s]}", "events", "padding padding padding padding padding");
    for (guint64 i = 1; i <= 300; i++)
        assert_true(tf_journal_append(j, i, i, g_get_real_time(), ev, &err));
    json_decref(ev);
    tf_journal_unref(j);
    assert_true(tf_store_flush(s, &err));
    tf_store_unref(s);
    /* Move everything into the main file, then scribble over a b-tree page. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 4096 * 3 + 8, SEEK_SET), 0);
    char junk[2000];
    memset(junk, 0xA5, sizeof junk);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    char *before = file_sha(path);
    s = tf_store_open(path, &err);
    assert_null(s);
    assert_non_null(err);
    assert_int_equal(err->code, TF_ERROR_CORRUPT);
    assert_non_null(strstr(err->message, path));
    if (!strstr(err->message, "integrity check failed") && !strstr(err->message, "cannot read"))
        fail_msg("unexpected message: %s", err->message);
    g_clear_error(&err);
    char *after = file_sha(path);
    assert_string_equal(before, after);
    g_free(before);
    g_free(after);
    g_free(path);
    rm_rf(dir);
    g_free(dir);
}

static void test_journal_gapless_and_persisted(void **unused)
{
    char *dir = tmp_dir();
    char *path = g_build_filename(dir, "state.db", NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    tf_journal *j = tf_journal_open(s, "alpha", 0, &err);
    assert_no_gerror(err);
    assert_int_equal(last_seq(j), 0);
    json_t *b = json_pack("{s:[i]}", "events", 1);
    for (guint64 i = 1; i <= 5; i++)
        assert_true(tf_journal_append(j, i, i, 0, b, &err));
    assert_false(tf_journal_append(j, 7, 7, 0, b, &err)); /* a gap */
    assert_int_equal(err->code, TF_ERROR_INVALID);
    assert_non_null(strstr(err->message, "last is 5"));
    g_clear_error(&err);
    assert_false(tf_journal_append(j, 3, 3, 0, b, &err)); /* reuse */
    g_clear_error(&err);
    tf_journal_unref(j);
    tf_store_unref(s);

    s = tf_store_open(path, &err);
    j = tf_journal_open(s, "alpha", 0, &err);
    tf_journal *other = tf_journal_open(s, "beta", 0, &err);
    assert_int_equal(last_seq(j), 5);
    assert_int_equal(last_seq(other), 0); /* streams are independent */
    assert_true(tf_journal_append(j, 6, 6, 0, b, &err));
    json_t *back = read_seq(j, 6);
    assert_no_gerror(err);
    assert_true(json_equal(back, b));
    json_decref(back);
    assert_null(read_seq(j, 99));
    assert_no_gerror(err);

    /* Pruning keeps the number: the next append is still 7. */
    tf_retention r = {.max_batches = 2};
    tf_store_set_retention(s, &r);
    assert_int_equal(tf_store_prune(s, &err), 4);
    assert_null(read_seq(j, 4));
    guint64 next = 0;
    assert_int_equal(tf_journal_next_stored(j, 1, &next, &err), TF_LOOKUP_FOUND);
    assert_int_equal(next, 5);
    assert_int_equal(tf_journal_next_stored(j, 8, &next, &err), TF_LOOKUP_ABSENT);
    assert_int_equal(next, 0);
    assert_int_equal(last_seq(j), 6);
    assert_false(tf_journal_append(j, 1, 1, 0, b, &err));
    g_clear_error(&err);
    assert_true(tf_journal_append(j, 7, 7, 0, b, &err));
    json_decref(b);
    tf_journal_unref(j);
    tf_journal_unref(other);
    tf_store_unref(s);
    g_free(path);
    rm_rf(dir);
    g_free(dir);
}

/* ---- runtime integration ---- */

static fix *journaled_fix(tf_journal *j, guint history)
{
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.event_history = history;
    fix *f = fix_new(1, &cfg, NULL);
    GError *err = NULL;
    assert_true(tf_runtime_set_journal(f->rt, j, &err));
    assert_no_gerror(err);
    return f;
}

static void change(fix *f)
{
    g_atomic_int_inc(&f->cells[0].value);
    assert_true(tf_runtime_cycle(f->rt, NULL));
}

static gint event_new_value(json_t *batch, guint i)
{
    return (gint)json_integer_value(
        json_object_get(json_array_get(json_object_get(batch, "events"), i), "new"));
}

static void test_runtime_journals_and_resumes(void **unused)
{
    char *dir = tmp_dir();
    char *path = g_build_filename(dir, "state.db", NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    gint64 run1 = tf_store_run_begin(s, "one", &err);
    tf_journal *j = tf_journal_open(s, "counter", run1, &err);
    assert_no_gerror(err);

    /* Ring of 2: a slow reader still receives all 10 batches, 8 of them from the journal. */
    fix *f = journaled_fix(j, 2);
    tf_sub *slow = tf_handle_subscribe(f->h, 0);
    for (int i = 0; i < 10; i++)
        change(f);
    assert_int_equal(last_seq(j), 10);
    guint replayed = 0;
    for (guint64 seq = 1; seq <= 10; seq++) {
        tf_batch *b = NULL;
        guint64 lost = 0;
        assert_int_equal(tf_sub_next(slow, 0, &b, &lost), TF_SUB_BATCH);
        assert_int_equal(tf_batch_seq(b), seq);
        assert_int_equal(tf_batch_len(b), 1);
        json_t *v = tf_batch_to_json(b);
        assert_int_equal(event_new_value(v, 0), seq);
        json_decref(v);
        if (tf_batch_replayed(b)) {
            replayed++;
            assert_null(tf_batch_event(b, 0));
            assert_true(tf_batch_wall_time(b) > 0);
        } else {
            assert_non_null(tf_batch_event(b, 0));
        }
        tf_batch_unref(b);
    }
    assert_int_equal(replayed, 8);
    tf_batch *none = NULL;
    assert_int_equal(tf_sub_next(slow, 0, &none, NULL), TF_SUB_TIMEOUT);
    tf_sub_free(slow);
    fix_free(f);
    tf_journal_unref(j);
    assert_true(tf_store_run_end(s, run1, "passed", &err));
    tf_store_unref(s);

    /* A restart: the sequence continues at 11 and a new reader from 0 loses nothing. */
    s = tf_store_open(path, &err);
    gint64 run2 = tf_store_run_begin(s, "two", &err);
    j = tf_journal_open(s, "counter", run2, &err);
    f = journaled_fix(j, 16);
    assert_int_equal(tf_handle_last_seq(f->h), 10);
    for (int i = 0; i < 3; i++)
        change(f);
    assert_int_equal(tf_handle_last_seq(f->h), 13);
    assert_int_equal(last_seq(j), 13);
    tf_sub *reader = tf_handle_subscribe(f->h, 0);
    for (guint64 seq = 1; seq <= 13; seq++) {
        tf_batch *b = NULL;
        assert_int_equal(tf_sub_next(reader, 0, &b, NULL), TF_SUB_BATCH);
        assert_int_equal(tf_batch_seq(b), seq);
        assert_int_equal(tf_batch_replayed(b), seq <= 10);
        tf_batch_unref(b);
    }
    tf_sub_free(reader);

    /* Export: run 2 has exactly seqs 11..13; run 1 has 1..10. */
    char *out_path = g_build_filename(dir, "export.ndjson", NULL);
    FILE *out = fopen(out_path, "w");
    assert_int_equal(tf_store_export_journal(s, 0, NULL, out, &err), 3);
    assert_int_equal(tf_store_export_journal(s, run1, "counter", out, &err), 10);
    fclose(out);
    char *text;
    assert_true(g_file_get_contents(out_path, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    assert_int_equal(g_strv_length(lines), 14); /* 13 lines + the empty tail */
    for (guint i = 0; i < 13; i++) {
        json_t *line = json_loads(lines[i], 0, NULL);
        assert_non_null(line);
        guint64 seq = (guint64)json_integer_value(json_object_get(line, "seq"));
        assert_int_equal(seq, i < 3 ? 11 + i : i - 2);
        assert_int_equal(json_integer_value(json_object_get(line, "run")), i < 3 ? run2 : run1);
        assert_string_equal(json_string_value(json_object_get(line, "stream")), "counter");
        assert_int_equal(event_new_value(line, 0), i < 3 ? i + 1 : seq); /* run 2 restarted its cells at 0 */
        json_decref(line);
    }
    g_strfreev(lines);
    g_free(text);
    g_free(out_path);

    json_t *runs = tf_store_runs(s, &err);
    assert_int_equal(json_array_size(runs), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(runs, 1), "batches")), 10);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 1), "status")),
                        "passed");
    json_decref(runs);

    fix_free(f);
    tf_journal_unref(j);
    tf_store_unref(s);
    g_free(path);
    rm_rf(dir);
    g_free(dir);
}

static void test_retention_reports_exact_loss(void **unused)
{
    char *dir = tmp_dir();
    char *path = g_build_filename(dir, "state.db", NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    tf_journal *j = tf_journal_open(s, "counter", 0, &err);
    fix *f = journaled_fix(j, 2);
    for (int i = 0; i < 10; i++)
        change(f);
    tf_retention r = {.max_batches = 5};
    tf_store_set_retention(s, &r);
    assert_int_equal(tf_store_prune(s, &err), 5); /* journal keeps 6..10, ring 9..10 */
    tf_sub *sub = tf_handle_subscribe(f->h, 0);
    tf_batch *b = NULL;
    guint64 lost = 0;
    assert_int_equal(tf_sub_next(sub, 0, &b, &lost), TF_SUB_LAGGED);
    assert_int_equal(lost, 5);
    for (guint64 seq = 6; seq <= 10; seq++) {
        assert_int_equal(tf_sub_next(sub, 0, &b, &lost), TF_SUB_BATCH);
        assert_int_equal(tf_batch_seq(b), seq);
        tf_batch_unref(b);
    }
    tf_sub_free(sub);
    fix_free(f);
    tf_journal_unref(j);

    /* Setting the journal after a cycle is refused. */
    j = tf_journal_open(s, "other", 0, &err);
    f = journaled_fix(j, 4);
    tf_journal_unref(j);
    j = tf_journal_open(s, "third", 0, &err);
    change(f);
    assert_false(tf_runtime_set_journal(f->rt, j, &err));
    assert_int_equal(err->code, TF_ERROR_INVALID);
    g_clear_error(&err);
    fix_free(f);
    tf_journal_unref(j);
    tf_store_unref(s);
    g_free(path);
    rm_rf(dir);
    g_free(dir);
}

/* Stopping a running runtime flushes: every batch it published is in the journal. */
static void test_threaded_runtime_stop_flushes(void **unused)
{
    char *dir = tmp_dir();
    char *path = g_build_filename(dir, "state.db", NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    tf_journal *j = tf_journal_open(s, "counter", 0, &err);
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 1000;
    cfg.event_history = 4;
    fix *f = fix_new(1, &cfg, NULL);
    assert_true(tf_runtime_set_journal(f->rt, j, &err));
    assert_true(tf_runtime_start(f->rt, &err));
    tf_sub *sub = tf_handle_subscribe(f->h, 0);
    for (gint i = 1; i <= 20; i++) {
        g_atomic_int_set(&f->cells[0].value, i);
        tf_handle_wake(f->h);
        gint seen = -1;
        while (seen != i) { /* one batch per change; skip nothing else */
            tf_batch *b = NULL;
            assert_int_equal(tf_sub_next(sub, 5 * G_USEC_PER_SEC, &b, NULL), TF_SUB_BATCH);
            seen = ((const counter_event *)tf_batch_event(b, 0))->new_value;
            tf_batch_unref(b);
        }
    }
    tf_runtime_stop(f->rt);
    guint64 last = tf_handle_last_seq(f->h);
    assert_true(last >= 20);
    assert_int_equal(last_seq(j), last);
    for (guint64 seq = 1; seq <= last; seq++) {
        json_t *v = read_seq(j, seq);
        assert_non_null(v);
        json_decref(v);
    }
    tf_sub_free(sub);
    fix_free(f);
    tf_journal_unref(j);
    tf_store_unref(s);
    g_free(path);
    rm_rf(dir);
    g_free(dir);
}

/* Two runtimes on one stream: the second one's append would reuse a number, so it is
 * refused, recorded as a "journal" failure, and that runtime stops journaling; the
 * stored stream stays gapless and belongs to the first. */
static void test_conflicting_writer_stops_journaling(void **unused)
{
    char *dir = tmp_dir();
    char *path = g_build_filename(dir, "state.db", NULL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    tf_journal *j1 = tf_journal_open(s, "shared", 0, &err);
    tf_journal *j2 = tf_journal_open(s, "shared", 0, &err);
    fix *a = journaled_fix(j1, 4), *b = journaled_fix(j2, 4);
    change(a);
    change(b); /* wants seq 1 too */
    tf_failure *fl = tf_handle_last_error(b->h);
    assert_non_null(fl);
    assert_int_equal(fl->stage, TF_STAGE_JOURNAL);
    assert_string_equal(tf_stage_name(fl->stage), "journal");
    assert_non_null(strstr(fl->message, "journaling stopped"));
    assert_non_null(strstr(fl->message, "reuse a number"));
    tf_failure_free(fl);
    assert_null(tf_handle_last_error(a->h));
    change(b); /* no further attempts: nothing new recorded */
    change(a);
    assert_int_equal(last_seq(j1), 2);
    assert_int_equal(tf_handle_last_seq(b->h), 2); /* in memory it still counts */
    fix_free(a);
    fix_free(b);
    tf_journal_unref(j1);
    tf_journal_unref(j2);
    tf_store_unref(s);
    g_free(path);
    rm_rf(dir);
    g_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_path_and_wal),
        cmocka_unit_test(test_foreign_files_refused),
        cmocka_unit_test(test_corrupt_store_refused),
        cmocka_unit_test(test_journal_gapless_and_persisted),
        cmocka_unit_test(test_runtime_journals_and_resumes),
        cmocka_unit_test(test_retention_reports_exact_loss),
        cmocka_unit_test(test_threaded_runtime_stop_flushes),
        cmocka_unit_test(test_conflicting_writer_stops_journaling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
