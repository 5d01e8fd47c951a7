/* error.c: the TF_ERROR GError domain, in tf/util because every layer raises it: tf/net
 * and tf/durable use it without depending on tf/observe. Not G_DEFINE_QUARK: its
 * unguarded static is a data race when two threads make their first TF_ERROR at once.
 * The first error is also made here, under pthread_once: glib allocates the lock of its
 * error-domain table lazily with atomics that ThreadSanitizer cannot see (glib is not
 * instrumented), so two threads making their first GError at once would be reported as
 * a race. */
#include <pthread.h>
#include "tf/error.h"

static pthread_once_t quark_once = PTHREAD_ONCE_INIT;
static GQuark quark;

static void quark_init(void)
{
    quark = g_quark_from_static_string("tf-error-quark");
    g_error_free(g_error_new_literal(quark, TF_ERROR_FAILED, "warm-up"));
}

GQuark tf_error_quark(void)
{
    pthread_once(&quark_once, quark_init);
    return quark;
}
