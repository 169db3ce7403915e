import CPosix

/// Gives freed heap back to the kernel after bursts.
///
/// glibc returns memory only from the top of each arena. A sign-in storm leaves the
/// account workers' and the presence thread's arenas full of freed temporaries (contact
/// lists read from storage, replay rings grown and released), below live data, which
/// stay resident for good. With 10,000 sessions signed in that was ~1.5 KB of RSS per
/// session over the ~2 KB live. Every `interval` this thread reads `mallinfo2()` and,
/// when more than `threshold` bytes sit free in the arenas, calls `malloc_trim(0)`, which
/// hands those pages back (`MADV_DONTNEED`) and keeps the data where it is.
///
/// A thread of its own, not a timer on a latency-critical one: a trim of a large heap
/// holds each arena's lock for some milliseconds.
final class HeapTrimmer: @unchecked Sendable {
    private let threshold: Int
    private var thread: PeriodicThread!

    /// - Parameters:
    ///   - interval: seconds between checks.
    ///   - threshold: free bytes in the arenas that make a check trim.
    init(interval: Double = 10, threshold: Int = 4 << 20) {
        self.threshold = threshold
        thread = PeriodicThread(name: "heap-trim", interval: interval, runsAtStart: false, stopTimeout: 5,
                                work: { [self] in trimIfWorthIt() })
    }

    /// Trims now if enough is free; returns the bytes that were free in the arenas.
    @discardableResult
    func trimIfWorthIt() -> Int {
        let free = Int(cposix_heap_free_bytes())
        if free > threshold { _ = cposix_heap_trim() }
        return free
    }

    func start() { thread.start() }

    func stop() { thread.stop() }
}
