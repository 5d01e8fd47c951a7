/* assert.h: tf_assert, an invariant check that stays on in every build, Release included.
 * The core's invariants (gapless sequence numbers, refcounts, ring bounds, monotonic
 * cycles) guard memory and "nothing observed is lost": a broken one must stop the process
 * naming itself, not corrupt a run silently. assert() goes away with NDEBUG (CMake's
 * Release) and g_assert with G_DISABLE_ASSERT, so neither fits; each check here is O(1),
 * a compare and a predictable branch. Internal header. */
#ifndef TF_UTIL_ASSERT_H
#define TF_UTIL_ASSERT_H

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

G_GNUC_NORETURN static inline void tf_assert_fail(const char *file, int line, const char *func,
                                                  const char *expr)
{
    fprintf(stderr, "tf: %s:%d: %s: invariant broken: %s\n", file, line, func, expr);
    fflush(stderr);
    abort();
}

/* Aborts with file, line, function and the expression when expr is false. */
#define tf_assert(expr)                                                                     \
    (G_LIKELY(expr) ? (void)0 : tf_assert_fail(__FILE__, __LINE__, G_STRFUNC, #expr))

/* Reference counts with their invariant: taking or dropping a reference on an object
 * whose count already reached zero is a use after free, caught before it corrupts memory. */
static inline void tf_refs_inc(gint *refs)
{
    gint old = g_atomic_int_add(refs, 1);
    tf_assert(old > 0 && "a reference taken on a freed object");
}

/* Drops one reference; TRUE when it was the last (the caller frees the object). */
static inline gboolean tf_refs_dec(gint *refs)
{
    gint old = g_atomic_int_add(refs, -1);
    tf_assert(old > 0 && "a reference dropped on a freed object");
    return old == 1;
}

#endif
