#ifndef CJEMALLOC_H
#define CJEMALLOC_H
#include <stddef.h>

/// The heap's own figures from jemalloc (`mallctl("stats.…")`, refreshed by advancing
/// "epoch" first): bytes the application holds, and bytes of the heap resident in memory
/// (live data, allocator metadata, and freed pages not yet purged). Returns 0 on success.
int cjemalloc_heap_stats(size_t *allocated, size_t *resident);

/// `stats.allocated`, for a debugger to call in a running server (`gdb -p PID -batch -ex
/// 'call (unsigned long)cjemalloc_heap_allocated_bytes()'`): the load generator's live-heap
/// figure. 0 if jemalloc is not the process's allocator.
size_t cjemalloc_heap_allocated_bytes(void);

/// `stats.resident`, for a debugger likewise.
size_t cjemalloc_heap_resident_bytes(void);

/// Returns the calling thread's cached free blocks to their arenas
/// (`thread.tcache.flush`), where they can be purged. A thread's cache is trimmed only as
/// that thread allocates: a thread that went quiet after a burst keeps it.
void cjemalloc_flush_thread_cache(void);

/// jemalloc's version, or NULL if `mallctl` fails.
const char *cjemalloc_version(void);

/// The `dirty_decay_ms` option jemalloc runs with (a test checks that `malloc_conf` was
/// taken); -2 if it cannot be read.
long cjemalloc_dirty_decay_ms(void);
#endif
