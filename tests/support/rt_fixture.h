/* rt_fixture.h: helpers shared by the runtime's unit tests: cells, sources, a fake clock
 * and a runtime built over counter_observer with a mutable provider. */
#ifndef TF_TEST_RT_FIXTURE_H
#define TF_TEST_RT_FIXTURE_H

#include <pthread.h>
#include "counter_observer.h"

#define FIX_MAX_CELLS 16

/* cmocka-style check that a GError is unset (use after including cmocka.h). */
#define assert_no_gerror(e) \
    do { \
        if (e) \
            fail_msg("unexpected error: %s", (e)->message); \
    } while (0)

/* A provider whose source list the test edits between cycles. */
typedef struct {
    pthread_mutex_t lock; /* pthreads, not GMutex: visible to TSan */
    GPtrArray *sources;   /* tf_source*, listed as is */
    gboolean fail;        /* list() fails with "planned refresh failure" */
} fix_provider;

typedef struct {
    counter_cell cells[FIX_MAX_CELLS];
    fix_provider *prov;   /* owned by the runtime once created */
    gint64 now;           /* fake clock, µs */
    tf_runtime *rt;
    tf_handle *h;
} fix;

/* Builds a runtime over n cells named n0..n{n-1}; cfg may be NULL (defaults with the
 * fake clock). ccfg may be NULL. */
fix *fix_new(guint n, const tf_runtime_config *cfg, const counter_config *ccfg);
/* Frees the handle and runtime. */
void fix_free(fix *f);
/* Adds / removes a source named `name` backed by cells[i]. */
void fix_add_source(fix *f, const char *name, guint i);
void fix_remove_source(fix *f, const char *name);
/* Makes the provider fail (or succeed again). */
void fix_provider_fail(fix *f, gboolean fail);
/* The fake clock function; data is a gint64*. */
gint64 fix_clock(void *data);

#endif
