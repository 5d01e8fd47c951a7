/* fiber.h: execution contexts switched by hand, so that a piece of code with its own
 * stack (the run loop) can be suspended on one thread and resumed on another.
 * exec.c uses it to run step bodies inline without giving up the ability to walk away
 * from a stuck one. Sanitizer-aware: ASan learns each stack switch (fake stacks, stack
 * bounds) and TSan sees each context as its own fiber. Internal header. */
#ifndef TF_RUNNER_FIBER_H
#define TF_RUNNER_FIBER_H

#include <glib.h>
#include <setjmp.h>
#include <ucontext.h>

typedef struct tf_fiber {
    sigjmp_buf jb;        /* where it was suspended */
    ucontext_t ctx;       /* its start (own stack only) */
    gboolean started;
    void *stack;          /* own stack (mmap), NULL for a thread's native stack */
    gsize stack_size;
    const void *bottom;   /* the stack's lowest address and size, for ASan */
    gsize size;
    void *asan_fake;      /* ASan's fake stack while switched away */
    void *tsan;           /* TSan's context for this fiber */
    void (*fn)(void *);
    void *data;
} tf_fiber;

/* Describes the calling thread's own stack as a fiber (call on that thread, before it
 * switches away the first time). Nothing to free. */
void tf_fiber_init_thread(tf_fiber *f);
/* A fiber with a stack of its own (stack_size bytes, plus a guard page) that runs fn(data)
 * when first switched to. fn must not return: it leaves with tf_fiber_exit. */
tf_fiber *tf_fiber_new(gsize stack_size, void (*fn)(void *), void *data);
/* Frees a fiber made by tf_fiber_new; it must not be running or suspended mid-work. */
void tf_fiber_free(tf_fiber *f);
/* Suspends the running fiber `from` and resumes `to` (on this thread); returns when some
 * thread switches back to `from`. */
void tf_fiber_switch(tf_fiber *from, tf_fiber *to);
/* Leaves `from` for good (its stack is not used again) and resumes `to`. */
G_GNUC_NORETURN void tf_fiber_exit(tf_fiber *from, tf_fiber *to);

#endif
