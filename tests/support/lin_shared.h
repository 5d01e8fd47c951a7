/* lin_shared.h: the linearizability histories of ../shared/linearizability with the
 * verdicts Porcupine's test suite asserts (each folder's verdicts.tsv), for the
 * conformance test and bench_lin. The data is read in place, never copied. */
#ifndef TF_LIN_SHARED_H
#define TF_LIN_SHARED_H

#include <glib.h>

/* One history and its known verdict (owned by the array from lin_cases_load). */
typedef struct {
    char *file;             /* name in the folder, "etcd_000.log" */
    char *path;             /* full path */
    gboolean linearizable;  /* the asserted verdict */
} lin_case;

/* The linearizability data folder: $TF_SHARED_DIR/linearizability when TF_SHARED_DIR is
 * set, else ../shared/linearizability beside the source tree (new string). */
char *lin_shared_root(void);
/* The cases of `folder` ("jepsen-etcd", "kv") under `root`, in verdicts.tsv order (new
 * array, frees its elements). NULL + error when verdicts.tsv is missing or malformed, or
 * when a history in the folder has no verdict or a verdict names a missing file. */
GPtrArray *lin_cases_load(const char *root, const char *folder, GError **error);

#endif
