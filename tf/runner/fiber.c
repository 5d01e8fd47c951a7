/* fiber.c: hand-switched execution contexts (see fiber.h). A fiber starts with
 * makecontext/setcontext; every later switch is sigsetjmp/siglongjmp without the signal
 * mask, as QEMU's coroutines do: no system call per switch (swapcontext makes one) and
 * nothing ASan warns about. The one subtle rule: sanitizers keep per-stack state, so
 * every switch tells ASan where the next stack lies (start/finish_switch_fiber) and TSan
 * which fiber runs next; without that they report false positives or lose track of
 * happens-before across the switch. */
/* glibc's checked longjmp refuses to jump to another stack: this file jumps on purpose. */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE /* pthread_getattr_np */
#include "fiber.h"
#include <pthread.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define __SANITIZE_ADDRESS__ 1
#endif
#if __has_feature(thread_sanitizer)
#define __SANITIZE_THREAD__ 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#endif

/* Before leaving the running fiber for `to`; save is NULL when leaving for good. */
static inline void switch_begin(void **save, tf_fiber *to)
{
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_start_switch_fiber(save, to->bottom, to->size);
#else
    (void)save;
#endif
#ifdef __SANITIZE_THREAD__
    __tsan_switch_to_fiber(to->tsan, 0); /* 0: the switch orders memory, like a lock */
#endif
    (void)to;
}

/* On arrival in fiber f (resumed, or entered for the first time). */
static inline void switch_end(tf_fiber *f)
{
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_finish_switch_fiber(f->asan_fake, NULL, NULL);
#endif
    (void)f;
}

void tf_fiber_init_thread(tf_fiber *f)
{
    memset(f, 0, sizeof *f);
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    f->bottom = addr;
    f->size = size;
    f->started = TRUE;
#ifdef __SANITIZE_THREAD__
    f->tsan = __tsan_get_current_fiber();
#endif
}

/* makecontext passes int arguments only: the fiber pointer travels in two halves. */
static void fiber_entry(unsigned hi, unsigned lo)
{
    tf_fiber *f = (tf_fiber *)(((uintptr_t)hi << 16 << 16) | (uintptr_t)lo);
    switch_end(f);
    f->fn(f->data);
    g_error("fiber: its function returned instead of calling tf_fiber_exit");
}

tf_fiber *tf_fiber_new(gsize size, void (*fn)(void *), void *data)
{
    tf_fiber *f = g_new0(tf_fiber, 1);
    gsize page = (gsize)sysconf(_SC_PAGESIZE);
    const gsize stack_size = (size + page - 1) / page * page;
    /* Pages are committed as the stack grows into them; the lowest one is a guard. */
    char *mem = mmap(NULL, stack_size + page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED || mprotect(mem, page, PROT_NONE) != 0)
        g_error("fiber: cannot map a %" G_GSIZE_FORMAT " byte stack", stack_size);
    f->stack = mem;
    f->stack_size = stack_size + page;
    f->bottom = mem + page;
    f->size = stack_size;
    f->fn = fn;
    f->data = data;
    if (getcontext(&f->ctx) != 0)
        g_error("fiber: getcontext failed");
    f->ctx.uc_stack.ss_sp = (void *)f->bottom;
    f->ctx.uc_stack.ss_size = stack_size;
    f->ctx.uc_link = NULL;
    uintptr_t p = (uintptr_t)f;
    makecontext(&f->ctx, (void (*)(void))fiber_entry, 2, (unsigned)(p >> 16 >> 16),
                (unsigned)(p & 0xffffffffu));
#ifdef __SANITIZE_THREAD__
    f->tsan = __tsan_create_fiber(0);
#endif
    return f;
}

void tf_fiber_free(tf_fiber *f)
{
    if (!f)
        return;
#ifdef __SANITIZE_THREAD__
    __tsan_destroy_fiber(f->tsan);
#endif
    munmap(f->stack, f->stack_size);
    g_free(f);
}

void tf_fiber_switch(tf_fiber *from, tf_fiber *to)
{
    /* TSan files a jump buffer under the fiber running at sigsetjmp and looks for it
     * under the one running at siglongjmp: save first, then announce the switch. */
    if (!sigsetjmp(from->jb, 0)) {
        switch_begin(&from->asan_fake, to);
        if (!to->started) {
            to->started = TRUE;
            setcontext(&to->ctx);
            g_error("fiber: setcontext failed");
        }
        siglongjmp(to->jb, 1);
    }
    switch_end(from);
}

void tf_fiber_exit(tf_fiber *from, tf_fiber *to)
{
    (void)from;
    switch_begin(NULL, to);
    g_assert(to->started);
    siglongjmp(to->jb, 1);
}
