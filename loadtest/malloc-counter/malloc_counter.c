// A counting malloc for `presence-loadtest bench`, loaded with LD_PRELOAD (see
// loadtest/bench.sh). Every allocation entry point bumps one counter and forwards to
// jemalloc, the allocator the bench links with the gateway (Sources/CJemalloc), through
// its non-standard API (`mallocx`, `rallocx`, `dallocx`, `sallocx`), whose names this file
// does not take over; so no dlsym (which itself allocates) is needed. `free` and
// `malloc_usable_size` are taken over too (uncounted): in a program that does not link
// jemalloc itself (`timeout`, which the smoke test runs under the same LD_PRELOAD), glibc's
// `free` comes before jemalloc's in the lookup order and would get jemalloc's blocks
// ("free(): invalid pointer"). The bench finds
// `loadtest_malloc_count` with dlsym; without the preload it reports allocations as not
// measured.
#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static atomic_uint_fast64_t allocations;

static inline void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

// mallocx's size must be non-zero; malloc(0) returns a unique pointer, as jemalloc's does.
void *malloc(size_t n) { count(); return mallocx(n ? n : 1, 0); }

void *calloc(size_t k, size_t n) {
    count();
    size_t bytes;
    if (__builtin_mul_overflow(k, n, &bytes)) { errno = ENOMEM; return NULL; }
    return mallocx(bytes ? bytes : 1, MALLOCX_ZERO);
}

void *realloc(void *p, size_t n) {
    count();
    if (p == NULL) return mallocx(n ? n : 1, 0);
    if (n == 0) { dallocx(p, 0); return NULL; }
    return rallocx(p, n, 0);
}

void *memalign(size_t a, size_t n) { count(); return mallocx(n ? n : 1, MALLOCX_ALIGN(a)); }
void *aligned_alloc(size_t a, size_t n) { count(); return mallocx(n ? n : 1, MALLOCX_ALIGN(a)); }

int posix_memalign(void **out, size_t a, size_t n) {
    count();
    void *p = mallocx(n ? n : 1, MALLOCX_ALIGN(a));
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p) { if (p != NULL) dallocx(p, 0); }
size_t malloc_usable_size(void *p) { return p == NULL ? 0 : sallocx(p, 0); }
void *valloc(size_t n) { count(); return mallocx(n ? n : 1, MALLOCX_ALIGN(4096)); }

/// Allocations so far in this process (all threads).
uint64_t loadtest_malloc_count(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }
