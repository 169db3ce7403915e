import CPosix
import Glibc
import Synchronization

/// A bounded multi-producer, single-consumer queue with an `eventfd` wake-up: how threads
/// talk to each other (loops → presence, workers and the storage writer → presence,
/// presence and workers → loops, anyone → the cluster link).
///
/// - Producers call `post(_:)`. Past `capacity` waiting messages it refuses with
///   `MailboxFull`, so a flood becomes a clear, documented error at the edge (the gateway
///   answers `overloaded`) instead of unbounded memory. `postAdmitted(_:)` skips the bound
///   for messages whose number is already bounded by something admitted earlier (the
///   commit result of a message that was accepted, a connection that closed): refusing
///   those would lose an acknowledged fact.
/// - A loop consumer (`consumerIsLoop`) watches `readinessDescriptor` in its epoll set and calls
///   `takeAll(into:)`; any other consumer calls `receive(into:timeoutMilliseconds:)`. That
///   wait is `poll(2)`
///   with a relative timeout, so it follows the monotonic clock: a step of the wall clock
///   neither fires a deadline early nor freezes it.
///
/// Hand-rolled because nothing in our dependency set offers a bounded queue whose consumer
/// can sleep with a monotonic timeout: `NSCondition.wait(until:)` takes a wall-clock `Date`.
///
/// `@unchecked Sendable`: the queue is inside a `Mutex`; `wakeFD` is written once in `init`.
public final class Mailbox<Message: Sendable>: @unchecked Sendable {
    /// `post(_:)` found the mailbox full.
    public struct MailboxFull: Error, Sendable {}

    private struct State {
        var messages: [Message] = []
        /// Whether the consumer may be asleep in `poll`: the next post must wake it.
        var isConsumerWaiting = false
    }

    private let state: Mutex<State>
    private let wakeFD: Int32
    /// Waiting messages beyond which `post(_:)` refuses.
    public let capacity: Int

    /// - Parameters:
    ///   - capacity: the most messages `post(_:)` lets wait.
    ///   - consumerIsLoop: the consumer is an epoll loop: it watches `readinessDescriptor`
    ///     with its other descriptors and calls `takeAll(into:)` when it is readable,
    ///     instead of sleeping in `receive` (event loops and the cluster link). Such a
    ///     consumer counts as waiting from the start, so the first post wakes it.
    public init(capacity: Int, consumerIsLoop: Bool = false) {
        self.capacity = max(1, capacity)
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(wakeFD >= 0, "eventfd failed: errno \(cposix_errno())")
        state = Mutex(State(isConsumerWaiting: consumerIsLoop))
    }

    /// Readable when a message arrived for a consumer that took everything before it (a
    /// loop registers it in its epoll set, level-triggered).
    public var readinessDescriptor: Int32 { wakeFD }

    /// Moves every waiting message into `batch` (which should be empty) without blocking,
    /// and arms the wake-up for the next post: for a consumer that sleeps in its own epoll.
    public func takeAll(into batch: inout [Message]) {
        var counter: UInt64 = 0
        _ = read(wakeFD, &counter, 8)  // non-blocking: resets the eventfd if it was set
        state.withLock { s in
            s.isConsumerWaiting = true
            swap(&batch, &s.messages)
        }
    }

    deinit { Glibc.close(wakeFD) }

    /// The number of waiting messages (a gauge; stale as soon as it returns).
    public var count: Int { state.withLock { $0.messages.count } }

    /// Queues `message`, or throws `MailboxFull` when `capacity` messages already wait.
    public func post(_ message: Message) throws(MailboxFull) {
        let wake: Bool? = state.withLock { s in
            guard s.messages.count < capacity else { return nil }
            s.messages.append(message)
            defer { s.isConsumerWaiting = false }
            return s.isConsumerWaiting
        }
        guard let wake else { throw MailboxFull() }
        if wake { signal() }
    }

    /// Queues `message` whatever the count. Only for messages bounded by earlier admission.
    public func postAdmitted(_ message: Message) {
        let wake = state.withLock { s in
            s.messages.append(message)
            defer { s.isConsumerWaiting = false }
            return s.isConsumerWaiting
        }
        if wake { signal() }
    }

    /// Moves every waiting message into `batch` (which should be empty). If none waits,
    /// sleeps until one arrives or `timeoutMilliseconds` pass (-1: no timeout).
    public func receive(into batch: inout [Message], timeoutMilliseconds: Int) {
        let hasMessages = state.withLock { s in
            if s.messages.isEmpty {
                s.isConsumerWaiting = true
                return false
            }
            swap(&batch, &s.messages)
            return true
        }
        guard !hasMessages else { return }
        var fd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        let ready = poll(&fd, 1, Int32(clamping: timeoutMilliseconds))
        if ready > 0 {
            var counter: UInt64 = 0
            _ = read(wakeFD, &counter, 8)
        }
        state.withLock { s in
            s.isConsumerWaiting = false
            swap(&batch, &s.messages)
        }
    }

    private func signal() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }
}
