import CPosix
import Glibc
import Synchronization

/// Why `Mailbox.post(_:)` refused a message.
public enum MailboxRefusal: Error, Equatable, Sendable {
    /// `capacity` messages already wait.
    case full
    /// The mailbox was closed (`close()`): its consumer is finishing or gone.
    case closed
}

/// A bounded multi-producer, single-consumer queue with an `eventfd` wake-up: the one way
/// threads talk to each other (loops → presence, workers and the storage writer → presence,
/// presence and workers → loops, anyone → the cluster link, loops and presence → the
/// account workers and the storage writer).
///
/// - Producers call `post(_:)`. Past `capacity` waiting messages it refuses with
///   `MailboxRefusal.full`, so a flood becomes a clear, documented error at the edge (the
///   gateway answers `overloaded`) instead of unbounded memory. `postAdmitted(_:)` skips the
///   bound for messages whose number is already bounded by something admitted earlier (the
///   commit result of a message that was accepted, a connection that closed): refusing
///   those would lose an acknowledged fact. `postWaitingForRoom(_:)` is for a producer that
///   may block (never an event loop) and whose message must not be lost.
/// - A loop consumer (`consumerIsLoop`) watches `readinessDescriptor` in its epoll set and calls
///   `takeAll(into:)`; any other consumer calls `receive(into:atMost:timeoutMilliseconds:)`.
///   That wait is `poll(2)` with a relative timeout, so it follows the monotonic clock: a
///   step of the wall clock neither fires a deadline early nor freezes it.
/// - `close()` refuses every later post (`MailboxRefusal.closed`) and lets the consumer
///   drain what is queued; `receive` then says the mailbox is finished.
///
/// One consumer at a time: several threads may share the consuming (the account workers
/// do), if they take turns under a lock of their own.
///
/// Hand-rolled because nothing in our dependency set offers a bounded queue whose consumer
/// can sleep with a monotonic timeout: `NSCondition.wait(until:)` takes a wall-clock `Date`.
///
/// `@unchecked Sendable`: the queue is inside a `Mutex`; `wakeFD` is written once in `init`.
public final class Mailbox<Message: Sendable>: @unchecked Sendable {
    private struct State {
        var messages: [Message] = []
        /// Whether the consumer may be asleep in `poll`: the next post must wake it.
        var isConsumerWaiting = false
        /// Set by `close()`: every later post is refused.
        var isClosed = false
    }

    private let state: Mutex<State>
    private let wakeFD: Int32
    /// Waiting messages beyond which `post(_:)` refuses.
    public let capacity: Int

    /// How long `postWaitingForRoom(_:)` naps between tries. A full mailbox is an overload
    /// that no legitimate load reaches (each owner's capacity says why), so the rare wait
    /// polls instead of every mailbox carrying a second descriptor for "room again".
    static var roomRetryMicroseconds: UInt32 { 1_000 }

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

    deinit { Glibc.close(wakeFD) }

    /// Readable when a message arrived for a consumer that took everything before it (a
    /// loop registers it in its epoll set, level-triggered).
    public var readinessDescriptor: Int32 { wakeFD }

    /// The number of waiting messages (a gauge; stale as soon as it returns).
    public var count: Int { state.withLock { $0.messages.count } }

    /// Whether `post(_:)` would take a message now (stale as soon as it returns): for a
    /// producer that must refuse work before it starts it.
    public var hasRoom: Bool { state.withLock { !$0.isClosed && $0.messages.count < capacity } }

    // MARK: - Producers

    /// Queues `message`, or throws `.full` when `capacity` messages already wait, `.closed`
    /// after `close()`.
    public func post(_ message: Message) throws(MailboxRefusal) {
        let outcome: Result<Bool, MailboxRefusal> = state.withLock { s in
            if s.isClosed { return .failure(.closed) }
            guard s.messages.count < capacity else { return .failure(.full) }
            s.messages.append(message)
            defer { s.isConsumerWaiting = false }
            return .success(s.isConsumerWaiting)
        }
        if try outcome.get() { signal() }
    }

    /// Queues `message` whatever the count. Only for messages bounded by earlier admission.
    /// - Returns: false (the message was dropped) only after `close()`.
    @discardableResult
    public func postAdmitted(_ message: Message) -> Bool {
        let wake: Bool? = state.withLock { s in
            if s.isClosed { return nil }
            s.messages.append(message)
            defer { s.isConsumerWaiting = false }
            return s.isConsumerWaiting
        }
        guard let wake else { return false }
        if wake { signal() }
        return true
    }

    /// Queues `message`, waiting while the mailbox is full. For producers that may block
    /// (never an event loop) with a message that must not be lost: the presence thread's
    /// writes of what the core already did. The wait passes the overload back to the
    /// producer's own bounded mailbox, whose producers are refused at the edge.
    /// - Throws: `.closed` after `close()` (also while waiting).
    public func postWaitingForRoom(_ message: Message) throws(MailboxRefusal) {
        while true {
            do throws(MailboxRefusal) {
                try post(message)
                return
            } catch .full {
                usleep(Self.roomRetryMicroseconds)
            }
        }
    }

    /// Refuses every later post; what is queued stays for the consumer, whose `receive`
    /// returns false once it took the last of it. Idempotent.
    public func close() {
        let wake = state.withLock { s in
            if s.isClosed { return false }
            s.isClosed = true
            defer { s.isConsumerWaiting = false }
            return s.isConsumerWaiting
        }
        if wake { signal() }
    }

    // MARK: - The consumer

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

    /// Moves up to `limit` waiting messages, oldest first, into `batch` (which should be
    /// empty). If none waits, sleeps until one arrives, the mailbox is closed, or
    /// `timeoutMilliseconds` pass (-1: no timeout); an empty `batch` means one of the last
    /// two, never a spurious wake-up.
    /// - Returns: false once the mailbox is closed and nothing is left: the consumer is done.
    @discardableResult
    public func receive(into batch: inout [Message], atMost limit: Int = .max, timeoutMilliseconds: Int) -> Bool {
        let deadline = timeoutMilliseconds < 0 ? nil : ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while true {
            let isOpen: Bool? = state.withLock { s in
                if !s.messages.isEmpty {
                    s.isConsumerWaiting = false
                    take(atMost: limit, from: &s.messages, into: &batch)
                    return true
                }
                if s.isClosed { return false }
                // Also after a wake-up with nothing to take (a token left by a post that
                // raced an earlier timeout): sleep again, for what is left of the timeout.
                s.isConsumerWaiting = true
                return nil
            }
            if let isOpen { return isOpen }
            var remaining: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                guard left > .zero else {
                    // Timed out. A post may have come since the check above; take it now.
                    return state.withLock { s in
                        s.isConsumerWaiting = false
                        take(atMost: limit, from: &s.messages, into: &batch)
                        return !(s.isClosed && batch.isEmpty)
                    }
                }
                let (seconds, attoseconds) = left.components
                // Rounded up, so the sleep never ends just short of the deadline.
                remaining = Int32(clamping: seconds * 1_000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            }
            var fd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
            if poll(&fd, 1, remaining) > 0 {
                var counter: UInt64 = 0
                _ = read(wakeFD, &counter, 8)
            }
        }
    }

    private func take(atMost limit: Int, from messages: inout [Message], into batch: inout [Message]) {
        if limit >= messages.count {
            swap(&batch, &messages)
        } else {
            batch.append(contentsOf: messages[..<limit])
            messages.removeFirst(limit)
        }
    }

    private func signal() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }
}
