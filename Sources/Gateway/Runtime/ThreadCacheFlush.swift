import CJemalloc

/// Gives a thread's cached free blocks back to jemalloc's arenas at most once a second,
/// so that what a burst left in them can be purged.
///
/// jemalloc keeps a cache of freed blocks per thread and trims it only as that thread
/// allocates again; a thread that went quiet after a sign-in storm kept its cache for
/// good. With no thread caches at all (`MALLOC_CONF=tcache:false`) a signed-in session at
/// rest cost 1,375 B of RSS instead of 1,554 B (one shard; loadtest/README.md, "The
/// allocator"), but every allocation then takes an arena lock. Flushing once a second
/// keeps the caches for the busy path (a flush costs microseconds; the cache refills from
/// its arena) and returns them at rest.
///
/// The event loops flush on their one-second tick (`GatewayHandler.tick`). A thread that
/// sleeps until there is work (a presence shard) bounds its wait with `waitMilliseconds`
/// and reports each wake-up with `noteWoke(didWork:)`: a flush a second after its last
/// work, and no wake-up for it once flushed.
struct ThreadCacheFlush {
    private var isDirty = false
    private var lastFlush: ContinuousClock.Instant
    private let flush: () -> Void

    /// - Parameter flush: what a flush does (a test counts them instead).
    init(now: ContinuousClock.Instant = .now, flush: @escaping () -> Void = { cjemalloc_flush_thread_cache() }) {
        lastFlush = now
        self.flush = flush
    }

    /// How long the thread may sleep now: a second while its cache holds a burst's blocks.
    var waitMilliseconds: Int { isDirty ? 1_000 : Int.max }

    mutating func noteWoke(didWork: Bool, now: ContinuousClock.Instant = .now) {
        if didWork { isDirty = true }
        guard isDirty, now - lastFlush >= .seconds(1) else { return }
        flush()
        isDirty = false
        lastFlush = now
    }

    /// For a thread that wakes every second anyway.
    static func flushNow() { cjemalloc_flush_thread_cache() }
}
