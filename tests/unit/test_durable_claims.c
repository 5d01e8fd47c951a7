/* test_durable_claims.c: idempotent effects through durable claims: a completed effect
 * is reported DONE with its result to every later owner, a live claim is BUSY to others,
 * an expired one is taken over, and two processes racing over 100 effects on one store
 * perform each exactly once. A process that dies holding claims is recovered from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "rt_fixture.h"
#include "tf/durable.h"

#define EFFECTS 100

typedef struct {
    char *dir;
    char *path;
} env;

static int setup(void **state)
{
    env *e = g_new0(env, 1);
    e->dir = g_dir_make_tmp("tf-claims-XXXXXX", NULL);
    e->path = g_build_filename(e->dir, "state.db", NULL);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    GDir *d = g_dir_open(e->dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(e->dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(e->dir);
    g_free(e->dir);
    g_free(e->path);
    g_free(e);
    return 0;
}

static void test_claim_lifecycle(void **state)
{
    env *e = *state;
    GError *err = NULL;
    tf_store *s = tf_store_open(e->path, &err);
    assert_no_gerror(err);
    json_t *res = NULL;
    gboolean over = TRUE;
    const gint64 minute = 60 * G_USEC_PER_SEC;
    assert_int_equal(tf_claim_acquire(s, "send:tx1", "a", minute, &res, &over, &err),
                     TF_CLAIM_ACQUIRED);
    assert_false(over);
    /* Re-entrant for its owner, busy for anyone else while the lease lives. */
    assert_int_equal(tf_claim_acquire(s, "send:tx1", "a", minute, NULL, NULL, &err),
                     TF_CLAIM_ACQUIRED);
    assert_int_equal(tf_claim_acquire(s, "send:tx1", "b", minute, &res, NULL, &err),
                     TF_CLAIM_BUSY);
    assert_null(res);
    assert_false(tf_claim_complete(s, "send:tx1", "b", NULL, &err));
    assert_int_equal(err->code, TF_ERROR_INVALID);
    g_clear_error(&err);
    json_t *txid = json_pack("{s:s}", "txid", "abc123");
    assert_true(tf_claim_complete(s, "send:tx1", "a", txid, &err));
    /* Done: nobody acts again, everybody learns the result. */
    assert_int_equal(tf_claim_acquire(s, "send:tx1", "b", minute, &res, NULL, &err),
                     TF_CLAIM_DONE);
    assert_true(json_equal(res, txid));
    json_decref(res);
    assert_false(tf_claim_complete(s, "send:tx1", "a", txid, &err)); /* once */
    g_clear_error(&err);
    json_decref(txid);
    tf_store_unref(s);

    /* A restarted runner (new connection, new owner) sees the same. */
    s = tf_store_open(e->path, &err);
    char *owner = tf_claim_owner_new();
    assert_int_equal(tf_claim_acquire(s, "send:tx1", owner, minute, &res, NULL, &err),
                     TF_CLAIM_DONE);
    assert_string_equal(json_string_value(json_object_get(res, "txid")), "abc123");
    json_decref(res);

    /* Release: the effect did not happen; someone else may do it. */
    assert_int_equal(tf_claim_acquire(s, "kill:n2", owner, minute, NULL, NULL, &err),
                     TF_CLAIM_ACQUIRED);
    assert_false(tf_claim_release(s, "kill:n2", "intruder", &err));
    g_clear_error(&err);
    assert_true(tf_claim_release(s, "kill:n2", owner, &err));
    assert_int_equal(tf_claim_acquire(s, "kill:n2", "c", minute, NULL, &over, &err),
                     TF_CLAIM_ACQUIRED);
    assert_false(over);

    /* An expired lease is taken over; the old owner can no longer complete. */
    assert_int_equal(tf_claim_acquire(s, "kill:n3", "old", 20 * 1000, NULL, NULL, &err),
                     TF_CLAIM_ACQUIRED);
    g_usleep(60 * 1000);
    assert_int_equal(tf_claim_acquire(s, "kill:n3", "new", minute, NULL, &over, &err),
                     TF_CLAIM_ACQUIRED);
    assert_true(over);
    assert_false(tf_claim_complete(s, "kill:n3", "old", NULL, &err));
    assert_non_null(strstr(err->message, "took it over"));
    g_clear_error(&err);
    assert_true(tf_claim_complete(s, "kill:n3", "new", NULL, &err));
    assert_int_equal(tf_claim_acquire(s, "x", "o", 0, NULL, NULL, &err), TF_CLAIM_ERROR);
    g_clear_error(&err);
    g_free(owner);
    tf_store_unref(s);
}

/* A racer: performs every effect it wins (one line per effect in its log file). */
static int racer(const char *path, const char *log_path, int go)
{
    char c;
    if (read(go, &c, 1) != 1) /* start together */
        return 10;
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    if (!s) {
        fprintf(stderr, "racer: %s\n", err->message);
        return 11;
    }
    char *owner = tf_claim_owner_new();
    FILE *log = fopen(log_path, "w");
    GQueue pending = G_QUEUE_INIT;
    for (int i = 0; i < EFFECTS; i++)
        g_queue_push_tail(&pending, GINT_TO_POINTER(i));
    int rounds = 0;
    while (!g_queue_is_empty(&pending) && rounds++ < 100000) {
        int i = GPOINTER_TO_INT(g_queue_pop_head(&pending));
        char key[32];
        g_snprintf(key, sizeof key, "effect-%d", i);
        json_t *res = NULL;
        tf_claim_status st = tf_claim_acquire(s, key, owner, 30 * G_USEC_PER_SEC, &res, NULL, &err);
        if (st == TF_CLAIM_ERROR) {
            fprintf(stderr, "racer: %s\n", err->message);
            return 12;
        }
        if (st == TF_CLAIM_BUSY) {
            g_queue_push_tail(&pending, GINT_TO_POINTER(i)); /* the other one is on it */
            continue;
        }
        if (st == TF_CLAIM_ACQUIRED) {
            fprintf(log, "%s\n", key); /* the effect */
            fflush(log);
            json_t *r = json_pack("{s:s}", "by", owner);
            gboolean ok = tf_claim_complete(s, key, owner, r, &err);
            json_decref(r);
            if (!ok)
                return 13;
        } else if (!json_is_object(res)) {
            return 14; /* DONE must carry the winner's result */
        }
        json_decref(res);
    }
    fclose(log);
    g_free(owner);
    tf_store_unref(s);
    return g_queue_is_empty(&pending) ? 0 : 15;
}

static void test_two_processes_race(void **state)
{
    env *e = *state;
    GError *err = NULL;
    tf_store *s = tf_store_open(e->path, &err); /* created before the race */
    assert_no_gerror(err);
    tf_store_unref(s);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[2];
    char *logs[2];
    for (int k = 0; k < 2; k++) {
        logs[k] = g_strdup_printf("%s/racer%d.log", e->dir, k);
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(go[1]);
            _exit(racer(e->path, logs[k], go[0]));
        }
    }
    close(go[0]);
    assert_int_equal(write(go[1], "gg", 2), 2);
    close(go[1]);
    for (int k = 0; k < 2; k++) {
        int status;
        assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint per[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        char *text = NULL;
        assert_true(g_file_get_contents(logs[k], &text, NULL, NULL));
        char **lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l && **l; l++) {
            if (g_hash_table_contains(seen, *l))
                fail_msg("%s was performed twice", *l);
            g_hash_table_add(seen, g_strdup(*l));
            per[k]++;
        }
        g_strfreev(lines);
        g_free(text);
        g_free(logs[k]);
    }
    assert_int_equal(g_hash_table_size(seen), EFFECTS);
    fprintf(stderr, "race: %u + %u effects, each performed once\n", per[0], per[1]);
    g_hash_table_unref(seen);
}

static void test_dead_owner_taken_over(void **state)
{
    env *e = *state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        tf_store *s = tf_store_open(e->path, NULL);
        gboolean ok = s && tf_claim_acquire(s, "long", "doomed", (gint64)3600 * G_USEC_PER_SEC, NULL,
                                            NULL, NULL) == TF_CLAIM_ACQUIRED &&
                      tf_claim_acquire(s, "short", "doomed", 50 * 1000, NULL, NULL, NULL) ==
                          TF_CLAIM_ACQUIRED;
        if (write(ready[1], ok ? "y" : "n", 1) != 1)
            _exit(2);
        raise(SIGKILL); /* dies holding both claims, mid-effect */
    }
    close(ready[1]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    close(ready[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    GError *err = NULL;
    tf_store *s = tf_store_open(e->path, &err);
    assert_no_gerror(err);
    gboolean over = FALSE;
    assert_int_equal(tf_claim_acquire(s, "long", "heir", G_USEC_PER_SEC, NULL, &over, &err),
                     TF_CLAIM_BUSY);
    g_usleep(100 * 1000); /* past the short lease */
    assert_int_equal(tf_claim_acquire(s, "short", "heir", G_USEC_PER_SEC, NULL, &over, &err),
                     TF_CLAIM_ACQUIRED);
    assert_true(over);
    tf_store_unref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_owner_taken_over, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
