// jemalloc (Debian libjemalloc-dev) is the allocator of every process that links the
// gateway. Written by hand here: only the option string and a few `mallctl` calls.
//
// Why not glibc's malloc: a signed-in session's records live for hours, while a sign-in
// storm allocates and frees many short-lived temporaries between them (contact lists read
// from storage, replay rings grown and released, JSON being encoded). glibc keeps freed
// chunks inside its arenas; `malloc_trim` gives back only whole free pages, so the small
// holes between long-lived records stayed resident: 2,376 B of RSS per session at rest at
// 10,000 × 50 against 1,428 B live (loadtest/README.md, "Memory at rest"). jemalloc
// groups allocations of one size class into their own runs, so holes are reused by the
// next object of that size, and it returns unused pages to the kernel by itself.
#include <stdint.h>
#include "CJemalloc.h"

#ifdef CJEMALLOC_SYSTEM_ALLOCATOR
// Built with `PRESENCE_ALLOCATOR=system` (Package.swift), for sanitizer runs: the C
// library's malloc, and every call here reports that jemalloc is absent.
int cjemalloc_heap_stats(size_t *allocated, size_t *resident) { (void)allocated; (void)resident; return -1; }
__attribute__((used, retain)) size_t cjemalloc_heap_allocated_bytes(void) { return 0; }
__attribute__((used, retain)) size_t cjemalloc_heap_resident_bytes(void) { return 0; }
void cjemalloc_flush_thread_cache(void) {}
const char *cjemalloc_version(void) { return NULL; }
long cjemalloc_dirty_decay_ms(void) { return -2; }
#else
#include <jemalloc/jemalloc.h>

// Read by jemalloc when it starts (the documented way for an application to configure it;
// `MALLOC_CONF` in the environment is applied after it, so an operator can still override).
// - background_thread: one jemalloc thread purges unused pages on time, instead of the
//   next malloc on some latency-critical thread doing it.
// - dirty_decay_ms 1000, muzzy_decay_ms 0: freed pages go back to the kernel about a
//   second after a burst instead of ten (the default), and at once rather than kept as
//   "muzzy" (MADV_FREE) pages, which still count as RSS until the kernel is short of memory.
//   Measured (one presence shard, 10,000 × 50, at rest): defaults with a background thread
//   1,856 B/session; these decays 1,533 B.
const char *malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";

int cjemalloc_heap_stats(size_t *allocated, size_t *resident) {
    uint64_t epoch = 1;
    size_t length = sizeof(epoch);
    if (mallctl("epoch", &epoch, &length, &epoch, length) != 0) return -1;
    length = sizeof(size_t);
    if (mallctl("stats.allocated", allocated, &length, NULL, 0) != 0) return -1;
    length = sizeof(size_t);
    if (mallctl("stats.resident", resident, &length, NULL, 0) != 0) return -1;
    return 0;
}

// `used, retain`: called only by a debugger, so the release link's --gc-sections would
// drop them (and gdb would then call the stale address its debug information still names).
__attribute__((used, retain)) size_t cjemalloc_heap_allocated_bytes(void) {
    size_t allocated = 0, resident = 0;
    return cjemalloc_heap_stats(&allocated, &resident) == 0 ? allocated : 0;
}

__attribute__((used, retain)) size_t cjemalloc_heap_resident_bytes(void) {
    size_t allocated = 0, resident = 0;
    return cjemalloc_heap_stats(&allocated, &resident) == 0 ? resident : 0;
}

void cjemalloc_flush_thread_cache(void) {
    mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
}

const char *cjemalloc_version(void) {
    const char *version = NULL;
    size_t length = sizeof(version);
    return mallctl("version", &version, &length, NULL, 0) == 0 ? version : NULL;
}

long cjemalloc_dirty_decay_ms(void) {
    ssize_t value = -2;
    size_t length = sizeof(value);
    return mallctl("opt.dirty_decay_ms", &value, &length, NULL, 0) == 0 ? (long)value : -2;
}
#endif
