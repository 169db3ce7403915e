import Glibc

/// Nanoseconds on CLOCK_MONOTONIC (a vDSO call, ~20 ns): every timestamp of a run.
enum MonotonicClock {
    @inline(__always)
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    static func seconds(_ s: Double) -> UInt64 { UInt64(max(0, s) * 1e9) }

    /// Sleeps the calling thread (outside any event loop).
    static func sleep(seconds s: Double) {
        var request = timespec(tv_sec: Int(s), tv_nsec: Int((s - Double(Int(s))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
