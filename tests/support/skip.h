/* skip.h: how a test that cannot run what it checks says so, the same way everywhere.
 *
 * Such a test never passes: it prints "SKIPPED: <why>" and its program exits 77, which
 * ctest shows as Skipped. What scripts/install-deps.sh installs is REQUIRED: under CI=true
 * (CI has run install-deps) its absence is a failure, never a skip. What the project never
 * installs (a live Kubernetes cluster, the official data of ../shared beside the clone) is
 * OPTIONAL: skipped even under CI, saying where it goes. */
#ifndef TF_TEST_SKIP_H
#define TF_TEST_SKIP_H

#include <glib.h>

typedef enum {
    TF_NEED_REQUIRED, /* installed by scripts/install-deps.sh: fails under CI=true */
    TF_NEED_OPTIONAL, /* never installed by the project: a skip everywhere */
} tf_need;

/* TRUE when the environment says CI=true (or CI=1). */
gboolean tf_test_under_ci(void);

/* Before any test has run: prints why and exits 77, or prints it as a failure and exits 1
 * when `need` is REQUIRED and CI=true. */
G_NORETURN void tf_test_skip_all(tf_need need, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Inside a cmocka test: skips that test after printing and recording why (fails it
 * instead when `need` is REQUIRED and CI=true). Does not return. */
#define tf_test_skip(need, ...) tf_test_skip_at(__FILE__, __LINE__, need, __VA_ARGS__)
void tf_test_skip_at(const char *file, int line, tf_need need, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* What main returns after cmocka_run_group_tests(): its result when a test failed, else
 * 77 when tf_test_skip() skipped a test (each reason printed again), else 0. */
int tf_test_status(int cmocka_result);

/* The folder `sub` of the official data that conformance tests read in place, newly
 * allocated: $TF_SHARED_DIR/sub, or <project root>/../shared/sub when TF_SHARED_DIR is
 * unset. When it is not a folder, tf_test_skip_all(OPTIONAL) names the folder it looked
 * for and what belongs in it (`contents`). */
gchar *tf_test_shared_data(const char *sub, const char *contents);

/* Inside a cmocka test: the full path of `program` on PATH, newly allocated; when it is
 * missing, tf_test_skip(REQUIRED) naming the Debian `package` that install-deps.sh installs. */
#define tf_test_need_program(program, package) \
    tf_test_need_program_at(__FILE__, __LINE__, program, package)
gchar *tf_test_need_program_at(const char *file, int line, const char *program, const char *package);

/* When the program that the bundled cluster spec scenarios/clusters/<spec_file> runs
 * (etcd, litecoind: installed by install-deps.sh) is not installed: inside a cmocka test
 * tf_test_skip(REQUIRED), in main before the tests tf_test_skip_all(REQUIRED), naming it. */
#define tf_test_need_cluster(spec_file) tf_test_need_cluster_at(__FILE__, __LINE__, spec_file)
void tf_test_need_cluster_at(const char *file, int line, const char *spec_file);
void tf_test_need_cluster_all(const char *spec_file);

#endif
