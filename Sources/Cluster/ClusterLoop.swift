import CPosix
import Foundation
import Glibc
import Mailboxes
import Synchronization

/// The epoll thread the cluster's Redis links run on: it watches foreign descriptors (the
/// sockets hiredis opens), runs one-shot timers, and runs closures other threads hand it.
///
/// Why a loop of its own rather than a hook in Transport's `EventLoop`:
/// - The lease must be renewed on time. A network loop busy with thousands of sockets and
///   their fan-out can stall for tens of milliseconds per iteration under load; here nothing
///   but the cluster link competes, so renewals and membership polls keep their schedule.
/// - What arrives from Redis is for the presence shards and for every network loop, not
///   for one of them: it is handed on through mailboxes from one place, as the storage
///   writer's results are.
/// - It needs none of `EventLoop`'s server machinery (listeners, configuration, TLS), so
///   it starts on its own, in a test as in the daemon, and Transport stays untouched.
/// It is still "our own epoll loop driving hiredis's async API", one thread for all the
/// node's links, never a thread per call.
///
/// Everything but `execute(_:)`, `shutdown()` and `isOnLoopThread` must be called on the
/// loop thread (inside a callback, a timer or an `execute` closure).
///
/// `@unchecked Sendable`: the watch table, the timers and `isStopping` are touched only on
/// the loop thread (checked by `precondition(isOnLoopThread)` in every method that uses
/// them); other threads reach the loop only through `inbox` (a `Mailbox`, the one
/// cross-thread queue type of the project) and the atomic `threadID`.
public final class ClusterLoop: @unchecked Sendable {
    /// What a watched descriptor should be woken for.
    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Readable (and hang-ups and errors).
        public static let read = Interest(rawValue: 1)
        /// Writable.
        public static let write = Interest(rawValue: 2)
    }

    /// A watched descriptor. Its generation makes a stale handle (or a stale epoll event
    /// for a descriptor number reused since) harmless.
    public struct WatchID: Hashable, Sendable {
        let fd: Int32
        let generation: UInt32
        var token: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd)) }
    }

    /// A scheduled timer, for `cancel(_:)`.
    public struct TimerID: Hashable, Sendable {
        let value: UInt64
    }

    private struct Watch {
        var generation: UInt32
        var interest: Interest
        /// Whether the descriptor is in the epoll set. It leaves the set when it has no
        /// interest, so a hang-up nobody reads cannot wake the loop over and over.
        var isRegistered: Bool
        var onReadable: () -> Void
        var onWritable: () -> Void
    }

    private struct Timer {
        var due: Int64
        var body: () -> Void
    }

    private let epfd: Int32
    private static let wakeToken = UInt64.max
    private var watches: [Int32: Watch] = [:]
    private var nextGeneration: UInt32 = 1
    /// Timers by id. The link has a handful (reconnects, connect timeouts, renewals,
    /// polls), so finding the next one is a scan, not a heap.
    private var timers: [UInt64: Timer] = [:]
    private var nextTimerID: UInt64 = 1
    private var isStopping = false
    /// Closures from other threads. Unbounded (`postAdmitted`): the link's callers are the
    /// node's own components, a handful of calls per lease period, not clients.
    private let inbox = Mailbox<@Sendable () -> Void>(capacity: .max, consumerIsLoop: true)
    private let threadID = Atomic<UInt>(0)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the loop on a new thread named `name`.
    /// - Throws: `ClusterError.system` when epoll or the eventfd cannot be created.
    public init(name: String = "cluster-link") throws(ClusterError) {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw .system("epoll_create1", errno: cposix_errno()) }
        _ = cposix_epoll_ctl(epfd, EPOLL_CTL_ADD, inbox.readinessDescriptor, EPOLLIN.rawValue, Self.wakeToken)
        let thread = Thread { [self, name] in
            _ = cposix_name_this_thread(name)
            run()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        Glibc.close(epfd)
    }

    // MARK: - Any thread

    /// Whether the caller runs on this loop's thread.
    public var isOnLoopThread: Bool { threadID.load(ordering: .acquiring) == UInt(pthread_self()) }

    /// Runs `body` on the loop thread soon. Safe from any thread; ignored once stopped.
    public func execute(_ body: @escaping @Sendable () -> Void) { inbox.postAdmitted(body) }

    /// Stops the loop after the closures already handed to it, and waits for its thread
    /// to end (unless called on the loop thread itself). Close the links first: a
    /// descriptor still watched is simply no longer served.
    public func shutdown() {
        execute { [self] in isStopping = true }
        if !isOnLoopThread { finished.wait() }
    }

    // MARK: - Loop thread

    /// The loop's monotonic clock in milliseconds.
    public var now: Int64 { Self.monotonicMilliseconds() }

    /// Watches `fd`, with no interest yet (see `setInterest(_:_:)`). The callbacks run on
    /// the loop thread; a hang-up or error counts as readable (or writable, when only
    /// writing is of interest, as while connecting).
    public func watch(_ fd: Int32, onReadable: @escaping () -> Void, onWritable: @escaping () -> Void) -> WatchID {
        precondition(isOnLoopThread, "ClusterLoop.watch off the loop thread")
        precondition(watches[fd] == nil, "descriptor \(fd) is already watched")
        let generation = nextGeneration
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        watches[fd] = Watch(generation: generation, interest: [], isRegistered: false, onReadable: onReadable, onWritable: onWritable)
        return WatchID(fd: fd, generation: generation)
    }

    /// Adds to or removes from what wakes a watch; idempotent (hiredis calls its hooks so).
    public func setInterest(_ id: WatchID, adding: Interest = [], removing: Interest = []) {
        precondition(isOnLoopThread, "ClusterLoop.setInterest off the loop thread")
        guard var w = watches[id.fd], w.generation == id.generation else { return }
        let interest = w.interest.union(adding).subtracting(removing)
        guard interest != w.interest || (interest.isEmpty == w.isRegistered) else { return }
        var events: UInt32 = 0
        if interest.contains(.read) { events |= EPOLLIN.rawValue }
        if interest.contains(.write) { events |= EPOLLOUT.rawValue }
        if interest.isEmpty {
            if w.isRegistered { _ = cposix_epoll_ctl(epfd, EPOLL_CTL_DEL, id.fd, 0, 0) }
            w.isRegistered = false
        } else if w.isRegistered {
            _ = cposix_epoll_ctl(epfd, EPOLL_CTL_MOD, id.fd, events, id.token)
        } else {
            _ = cposix_epoll_ctl(epfd, EPOLL_CTL_ADD, id.fd, events, id.token)
            w.isRegistered = true
        }
        w.interest = interest
        watches[id.fd] = w
    }

    /// Stops watching; call before the descriptor is closed. Idempotent.
    public func unwatch(_ id: WatchID) {
        precondition(isOnLoopThread, "ClusterLoop.unwatch off the loop thread")
        guard let w = watches[id.fd], w.generation == id.generation else { return }
        if w.isRegistered { _ = cposix_epoll_ctl(epfd, EPOLL_CTL_DEL, id.fd, 0, 0) }
        watches[id.fd] = nil
    }

    /// Runs `body` once, `milliseconds` from now (0: on this iteration's timer pass, after
    /// the current callback returns). Due timers run by due time, then in scheduling order.
    @discardableResult
    public func schedule(afterMilliseconds milliseconds: Int64, _ body: @escaping () -> Void) -> TimerID {
        precondition(isOnLoopThread, "ClusterLoop.schedule off the loop thread")
        let id = nextTimerID
        nextTimerID += 1
        timers[id] = Timer(due: now + max(0, milliseconds), body: body)
        return TimerID(value: id)
    }

    /// Cancels a timer that has not run; harmless for one that has.
    public func cancel(_ timer: TimerID) {
        precondition(isOnLoopThread, "ClusterLoop.cancel off the loop thread")
        timers[timer.value] = nil
    }

    // MARK: - The loop

    private func run() {
        threadID.store(UInt(pthread_self()), ordering: .releasing)
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer {
            events.deallocate()
            finished.signal()
        }
        while !isStopping {
            var timeout: Int32 = -1
            if let next = timers.values.lazy.map(\.due).min() {
                timeout = Int32(clamping: max(0, next - now))
            }
            let n = epoll_wait(epfd, events, Int32(capacity), timeout)
            if n < 0 {
                if cposix_errno() == EINTR { continue }
                preconditionFailure("epoll_wait: errno \(cposix_errno())")
            }
            for i in 0..<Int(n) {
                let e = events.advanced(by: i)
                dispatch(token: cposix_event_data(e), mask: cposix_event_mask(e))
            }
            runDueTimers()
        }
    }

    private func dispatch(token: UInt64, mask: UInt32) {
        if token == Self.wakeToken {
            var tasks: [@Sendable () -> Void] = []
            inbox.takeAll(into: &tasks)
            for task in tasks { task() }
            return
        }
        let id = WatchID(fd: Int32(bitPattern: UInt32(truncatingIfNeeded: token)), generation: UInt32(token >> 32))
        guard let w = watches[id.fd], w.generation == id.generation else { return }  // stale
        let failed = mask & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        var handled = false
        if w.interest.contains(.read), mask & EPOLLIN.rawValue != 0 || failed {
            w.onReadable()
            handled = true
        }
        // The read callback may have ended the watch (hiredis frees its context there).
        guard let after = watches[id.fd], after.generation == id.generation else { return }
        if after.interest.contains(.write), mask & EPOLLOUT.rawValue != 0 || (failed && !handled) {
            after.onWritable()
        }
    }

    private func runDueTimers() {
        let t = now
        let due = timers.filter { $0.value.due <= t }.sorted { ($0.value.due, $0.key) < ($1.value.due, $1.key) }.map(\.key)
        for id in due {
            // A timer run earlier in this pass may have cancelled this one.
            guard let timer = timers.removeValue(forKey: id) else { continue }
            timer.body()
        }
    }

    static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
