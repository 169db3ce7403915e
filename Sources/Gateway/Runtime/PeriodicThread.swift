import CPosix
import Foundation

/// A thread of its own that runs `work` every `interval` seconds until `stop()`: the mail
/// outbox. `stop()` wakes it at once, runs `last` (if any) on it, and
/// waits (at most `stopTimeout` seconds) for it to end.
///
/// The closures may capture their owner strongly, as a thread's body would: the owner then
/// lives while the thread runs, and the thread drops them when it ends, so nothing stays
/// in a cycle after `stop()`.
///
/// `@unchecked Sendable`: `work` and `last` are touched only on the thread; the semaphore
/// and the group are thread-safe.
final class PeriodicThread: @unchecked Sendable {
    private let name: String
    private let interval: Double
    private let runsAtStart: Bool
    private let stopTimeout: Double
    private var work: (() -> Void)?
    private var last: (() -> Void)?
    private let stopped = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()

    /// - Parameters:
    ///   - runsAtStart: run `work` as soon as the thread starts, not one interval later.
    ///   - last: runs once on the thread after `stop()`, before it ends (a final flush).
    init(name: String, interval: Double, runsAtStart: Bool, stopTimeout: Double = 10,
         work: @escaping () -> Void, last: (() -> Void)? = nil) {
        self.name = name
        self.interval = interval
        self.runsAtStart = runsAtStart
        self.stopTimeout = stopTimeout
        self.work = work
        self.last = last
    }

    func start() {
        finished.enter()
        let t = Thread { [self] in
            _ = cposix_name_this_thread(name)
            if runsAtStart { work?() }
            while stopped.wait(timeout: .now() + interval) == .timedOut { work?() }
            last?()
            work = nil
            last = nil
            finished.leave()
        }
        t.name = name
        t.start()
    }

    func stop() {
        stopped.signal()
        _ = finished.wait(timeout: .now() + stopTimeout)
    }
}
