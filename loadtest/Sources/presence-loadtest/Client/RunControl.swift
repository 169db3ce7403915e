import Synchronization

/// The few facts the main thread and the client loops share during a run. Everything
/// else a loop owns alone; these are atomics because they cross threads.
final class RunControl: Sendable {
    /// Loops that finished connecting (successfully or not).
    let readyLoops = Atomic<Int>(0)
    /// Monotonic ns when the main thread started the run (0: not yet).
    let startNanos = Atomic<UInt64>(0)
    /// Set by the main thread when idle connections may be closed.
    let isReleased = Atomic<Bool>(false)

    init() {}
}
