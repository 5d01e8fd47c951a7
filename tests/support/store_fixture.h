/* store_fixture.h: what the store's tests share: a temp directory removed however its
 * files were left (read-only ones too), a race of forked processes released at once,
 * and running the tf binary (TF_BIN) as a user would, capturing its output. Uses cmocka's
 * assertions: include cmocka.h first. */
#ifndef TF_TEST_STORE_FIXTURE_H
#define TF_TEST_STORE_FIXTURE_H

#include <glib.h>

/* A new temp directory "<prefix>-XXXXXX" (new string); fails the test when it cannot. */
char *sf_tmpdir_new(const char *prefix);
/* Removes dir and everything in it (made writable first), then frees the string. */
void sf_tmpdir_remove(char *dir);

/* Forks n (<= 8) processes that wait for one signal, then each runs body(i, data) and
 * exits with its result; returns once all exited, failing the test unless all exited 0.
 * Fork from a process with no other threads. */
void sf_race(int n, int (*body)(int i, void *data), void *data);

/* The tf binary from TF_BIN. When there is none the test program cannot check anything:
 * it says why and exits 77 (skipped), or 1 under CI=true (skip.h: the binary is REQUIRED). */
const char *sf_tf_bin_or_exit(const char *test);

/* What a tf command did. */
typedef struct {
    int code; /* exit status, 128 when killed */
    char *out, *err;
} sf_result;
/* Runs TF_BIN with args (NULL-terminated, after "tf") in cwd (NULL: here), TF_STORE
 * unset and env_add (name, value pairs, NULL-terminated; may be NULL) set; setup (may be
 * NULL) runs in the child before exec. */
sf_result sf_tf(const char *cwd, const char *const *args, const char *const *env_add,
                GSpawnChildSetupFunc setup);
/* Frees the outputs. */
void sf_result_clear(sf_result *r);
/* Fails the test, showing both outputs, unless r exited `code` and its stdout holds
 * in_out and its stderr in_err (each may be NULL). */
void sf_expect(const sf_result *r, int code, const char *in_out, const char *in_err);

#endif
