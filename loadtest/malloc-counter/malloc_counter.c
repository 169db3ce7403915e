// A counting malloc for `presence-loadtest bench`, loaded with LD_PRELOAD (see
// loadtest/bench.sh). Every allocation entry point bumps one counter and forwards to
// glibc's own implementation through its exported __libc_* names, so no dlsym (which
// itself allocates) is needed. The bench finds `loadtest_malloc_count` with dlsym; without
// the preload it reports allocations as not measured.
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_uint_fast64_t allocations;

static inline void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t k, size_t n) { count(); return __libc_calloc(k, n); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    count();
    void *p = __libc_memalign(a, n);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

/// Allocations so far in this process (all threads).
uint64_t loadtest_malloc_count(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }
