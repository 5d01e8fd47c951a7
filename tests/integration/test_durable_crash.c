/* test_durable_crash.c: crash safety of the journal. A child process runs a journaled
 * runtime and acknowledges every batch it sees published; the parent kills it with
 * SIGKILL at a random point, 50 times over one store. After every kill the store opens,
 * its sequence is gapless from 1, and no acknowledged (hence committed) batch is lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "rt_fixture.h"
#include "tf/durable.h"

#define KILLS 50

/* The writer: publishes one batch per change, as fast as it can, and writes each
 * published seq to `ack` (8 bytes). Never returns. */
static void writer_main(const char *path, int ack)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    if (!s) {
        fprintf(stderr, "writer: %s\n", err->message);
        _exit(3);
    }
    tf_retention keep_all = {0}; /* the default keeps 20 runs; every round is a run */
    tf_store_set_retention(s, &keep_all);
    gint64 run = tf_store_run_begin(s, "crash writer", &err);
    tf_journal *j = tf_journal_open(s, "counter", run, &err);
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    cfg.interval_us = 1000;
    cfg.event_history = 8;
    fix *f = fix_new(1, &cfg, NULL);
    if (!j || !tf_runtime_set_journal(f->rt, j, &err) || !tf_runtime_start(f->rt, &err)) {
        fprintf(stderr, "writer: %s\n", err ? err->message : "?");
        _exit(3);
    }
    tf_sub *sub = tf_handle_subscribe(f->h, tf_handle_last_seq(f->h));
    for (gint v = 1;; v++) {
        g_atomic_int_set(&f->cells[0].value, v);
        tf_handle_wake(f->h);
        tf_batch *b = NULL;
        tf_sub_status st = tf_sub_next(sub, 10 * G_USEC_PER_SEC, &b, NULL);
        if (st != TF_SUB_BATCH)
            _exit(4);
        guint64 seq = tf_batch_seq(b);
        tf_batch_unref(b);
        if (write(ack, &seq, sizeof seq) != sizeof seq)
            _exit(5);
    }
}

/* Reads acks until `want` arrived; returns the last acked seq (0 on EOF/timeout). */
static guint64 read_acks(int fd, guint want)
{
    guint64 last = 0;
    for (guint n = 0; n < want; n++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 20000) <= 0)
            return 0;
        guint64 seq;
        ssize_t r = read(fd, &seq, sizeof seq);
        if (r != sizeof seq)
            return 0;
        last = seq;
    }
    return last;
}

static void test_sigkill_50_times(void **unused)
{
    GError *err = NULL;
    char *dir = g_dir_make_tmp("tf-crash-XXXXXX", &err);
    char *path = g_build_filename(dir, "state.db", NULL);
    guint32 seed = g_random_int();
    GRand *rng = g_rand_new_with_seed(seed);
    fprintf(stderr, "crash test: kill points from seed %u\n", seed);
    guint64 total_acked = 0, total_extra = 0;
    for (int round = 0; round < KILLS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer_main(path, fds[1]);
        }
        close(fds[1]);
        guint want = (guint)g_rand_int_range(rng, 1, 60);
        guint64 acked = read_acks(fds[0], want);
        if (acked == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("round %d: the writer stopped acknowledging", round);
        }
        /* Land the kill anywhere: between commits, inside one, during fsync. */
        g_usleep((gulong)g_rand_int_range(rng, 0, 3000));
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Drain acks that were written before death: they were committed too. */
        for (;;) {
            guint64 seq;
            if (read(fds[0], &seq, sizeof seq) != sizeof seq)
                break;
            acked = seq;
        }
        close(fds[0]);

        tf_store *s = tf_store_open(path, &err);
        if (!s)
            fail_msg("round %d: store does not open after SIGKILL: %s", round, err->message);
        tf_journal *j = tf_journal_open(s, "counter", 0, &err);
        assert_no_gerror(err);
        guint64 last = 0, first = 0;
        assert_true(tf_journal_last_seq(j, &last, &err));
        if (last < acked)
            fail_msg("round %d: batch %" G_GUINT64_FORMAT " was published but the journal ends "
                     "at %" G_GUINT64_FORMAT,
                     round, acked, last);
        total_acked = acked;
        total_extra += last - acked; /* committed, killed before it was acknowledged */
        /* Gapless from 1: every number is stored exactly once (nothing pruned here). */
        assert_int_equal(tf_journal_next_stored(j, 1, &first, &err), TF_LOOKUP_FOUND);
        assert_int_equal(first, 1);
        for (guint64 seq = 1; seq <= last; seq++) {
            json_t *v = NULL;
            if (tf_journal_read(j, seq, &v, &err) != TF_LOOKUP_FOUND)
                fail_msg("round %d: seq %" G_GUINT64_FORMAT " missing (%s)", round, seq,
                         err ? err->message : "no row");
            if ((guint64)json_integer_value(json_object_get(v, "seq")) != seq)
                fail_msg("round %d: seq %" G_GUINT64_FORMAT " holds another batch", round, seq);
            json_decref(v);
        }
        json_t *beyond = NULL;
        assert_int_equal(tf_journal_read(j, last + 1, &beyond, &err), TF_LOOKUP_ABSENT);
        assert_no_gerror(err);
        tf_journal_unref(j);
        tf_store_unref(s);
    }
    fprintf(stderr, "%d kills: %" G_GUINT64_FORMAT " batches acknowledged, all stored; %"
                    G_GUINT64_FORMAT " more were committed before their ack\n",
            KILLS, total_acked, total_extra);
    g_rand_free(rng);
    /* Clean up the temp dir. */
    const char *n;
    GDir *d = g_dir_open(dir, 0, NULL);
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_50_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
