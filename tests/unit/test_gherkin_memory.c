/* test_gherkin_memory.c: what `tf gherkin` costs in memory per byte of input, measured
 * on the built binary (TF_BIN) as the max RSS of the child: parsing alone at most 10
 * bytes per input byte, the whole command (every envelope written) at most 2x that, and
 * in fact less than one byte per input byte more, as its envelopes are streamed.
 * Issue 15 found 5.5-6.8 GB for a 50 MB feature; scripts/gen-big-feature.py writes that
 * input at full size, this test writes the same shape at 1 and 4.5 MB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "skip.h"

static char *tmpdir;

/* Writes n generated outlines (the shape of scripts/gen-big-feature.py) to path. */
static gsize write_outlines(const char *path, guint n)
{
    GString *s = g_string_new("Feature: many outlines\n\n");
    for (guint i = 0; i < n; i++)
        g_string_append_printf(s,
                               "  @generated @n%u\n"
                               "  Scenario Outline: outline number %06u with <a>\n"
                               "    Given a step with <a> and <b>\n"
                               "    When something else happens to <b> here\n"
                               "    Then the result for %06u is <a>\n\n"
                               "    Examples:\n"
                               "      | a       | b       |\n"
                               "      | %07u | %07u |\n"
                               "      | %07u | %07u |\n\n",
                               i % 10, i, i, 1000000 + i, 2000000 + i, 3000000 + i, 4000000 + i);
    assert_true(g_file_set_contents(path, s->str, s->len, NULL));
    gsize len = s->len;
    g_string_free(s, TRUE);
    return len;
}

/* A child's ru_maxrss counts what it had before its exec: a child forked from this
 * test (large once it has made its inputs, and larger under ASan) would report the
 * test's size, not tf's. So a spawner is forked at the very start of main, while this
 * process is small, and it forks and execs tf for each measurement. */
static int spawner_in = -1, spawner_out = -1;
static long spawner_rss_kb; /* the spawner's own max RSS, which every child inherits */

static void spawner_loop(int in, int out)
{
    char req[4096];
    for (;;) {
        gsize got = 0;
        while (got < sizeof req - 1) { /* one request: "P path\n" or "W path\n" */
            ssize_t n = read(in, req + got, 1);
            if (n <= 0)
                _exit(0);
            if (req[got++] == '\n')
                break;
        }
        req[got - 1] = 0;
        gboolean parse_only = req[0] == 'P';
        const char *path = req + 2;
        const char *bin = getenv("TF_BIN") ? getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
        pid_t pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            /* ASan's quarantine keeps freed memory resident (256 MB): not tf's cost */
            char asan[1024];
            snprintf(asan, sizeof asan, "%s%squarantine_size_mb=0", getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "",
                     getenv("ASAN_OPTIONS") ? ":" : "");
            setenv("ASAN_OPTIONS", asan, 1);
            if (parse_only)
                execl(bin, bin, "gherkin", "--no-source", "--no-ast", "--no-pickles", path, (char *)NULL);
            else
                execl(bin, bin, "gherkin", path, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        struct rusage ru = {0}, self = {0};
        long rss = -1;
        if (pid > 0 && wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            rss = ru.ru_maxrss;
        getrusage(RUSAGE_SELF, &self);
        char reply[64];
        int len = snprintf(reply, sizeof reply, "%ld %ld\n", rss, self.ru_maxrss);
        if (write(out, reply, len) != len)
            _exit(1);
    }
}

static void spawner_start(void)
{
    int req[2], rep[2];
    if (pipe(req) != 0 || pipe(rep) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(req[1]);
        close(rep[0]);
        spawner_loop(req[0], rep[1]);
    }
    close(req[0]);
    close(rep[1]);
    spawner_in = req[1];
    spawner_out = rep[0];
}

/* Max RSS (bytes) of `tf gherkin [--no-source --no-ast --no-pickles] path`, stdout to
 * /dev/null, as the spawner measured it. */
static double child_max_rss(const char *path, gboolean parse_only)
{
    assert_true(spawner_in >= 0);
    char *req = g_strdup_printf("%c %s\n", parse_only ? 'P' : 'W', path);
    assert_int_equal(write(spawner_in, req, strlen(req)), (ssize_t)strlen(req));
    g_free(req);
    char reply[64] = {0};
    gsize got = 0;
    while (got < sizeof reply - 1 && (got == 0 || reply[got - 1] != '\n')) {
        ssize_t n = read(spawner_out, reply + got, 1);
        assert_true(n == 1);
        got++;
    }
    long rss = -1;
    assert_int_equal(sscanf(reply, "%ld %ld", &rss, &spawner_rss_kb), 2);
    if (rss < 0)
        fail_msg("tf gherkin %s failed", path);
    /* what the child inherited from the spawner must not be what is measured */
    if (rss <= spawner_rss_kb)
        fail_msg("tf's max RSS (%ld kB) is no more than its spawner's (%ld kB): not measurable", rss,
                 spawner_rss_kb);
    return rss * 1024.0;
}

/* Issue 15: a 50 MB feature cost 5.5-6.8 GB. The bound is on what each extra input
 * byte costs (the slope between two sizes, so the binary's fixed cost and the sanitizers'
 * reserves drop out): parsing at most 10 bytes of RSS per input byte, and the whole
 * command (source, document and pickles written) at most 2x what parsing costs. */
static void test_memory_per_input_byte(void **state)
{
    char *small = g_build_filename(tmpdir, "small.feature", NULL);
    char *large = g_build_filename(tmpdir, "large.feature", NULL);
    double n_small = write_outlines(small, 4000), n_large = write_outlines(large, 16000);
    double parse = (child_max_rss(large, TRUE) - child_max_rss(small, TRUE)) / (n_large - n_small);
    double whole = (child_max_rss(large, FALSE) - child_max_rss(small, FALSE)) / (n_large - n_small);
    g_unlink(small);
    g_unlink(large);
    g_free(small);
    g_free(large);
    print_message("RSS per input byte: parsing %.2f, whole command %.2f (inputs of %.0f and %.0f bytes)\n",
                  parse, whole, n_small, n_large);
    assert_true(parse > 0);
    assert_true(parse <= 10.0);
    assert_true(whole <= 2.0 * parse);
    /* and the envelopes are streamed: writing them adds under a byte per input byte
     * (collecting the pickles before writing them would add about 4, a jansson tree of
     * the document about 80) */
    assert_true(whole <= parse + 1.0);
}

int main(void)
{
#if defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer's shadow memory is several times the heap and it runs tf about 10x
     * slower: its RSS would measure TSan, not tf. The plain and ASan builds measure it. */
    tf_test_skip_all(TF_NEED_OPTIONAL, "tf's RSS is not its own under ThreadSanitizer "
                                       "(shadow memory); the ASan and plain builds measure it");
#endif
    spawner_start(); /* first, while this process is small */
    tmpdir = g_dir_make_tmp("tf-gherkin-mem-XXXXXX", NULL);
    if (!tmpdir)
        return 1;
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    if (!g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE)) {
        fprintf(stderr, "%s is not built (build the tf_cli target first)\n", bin);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_per_input_byte),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return rc;
}
