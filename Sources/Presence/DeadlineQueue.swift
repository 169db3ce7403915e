/// What a deadline is for. Each carries enough to tell, when it falls due, whether it still
/// matters: deadlines are never removed early, only skipped when stale, which keeps
/// rescheduling O(log n) with no search.
enum DeadlineKind: Hashable, Sendable {
    /// Check whether a session has gone idle. At most one per session is queued.
    case idleCheck(slot: Int, generation: UInt32)
    /// A disconnected session's grace period ends.
    case graceEnd(slot: Int, generation: UInt32)
    /// Publish a user's settled presence after the debounce window.
    case publish(UserRef, generation: UInt32)
    /// An unanswered call stops ringing.
    case ringTimeout(CallID)
    /// Some reveal of a hidden user may have run out.
    case revealCheck(UserRef)
    /// Check whether a connected session has been silent too long. At most one per session.
    case silenceCheck(slot: Int, generation: UInt32)
    /// The users restored after a restart for this instant stop being held.
    case restoreEnd
    /// A user record may no longer be needed (see `PresenceCore+Forgetting.swift`).
    case forgetCheck(UserRef)
}

/// The core's pending deadlines, earliest first: a binary min-heap, ties broken by
/// insertion order so that runs are reproducible.
struct DeadlineQueue: Sendable {
    struct Entry: Sendable {
        var at: Instant
        var order: UInt64
        var kind: DeadlineKind
    }

    private var heap: [Entry] = []
    private var nextOrder: UInt64 = 0

    /// The earliest deadline.
    var first: Entry? { heap.first }
    var count: Int { heap.count }

    mutating func insert(at instant: Instant, _ kind: DeadlineKind) {
        heap.append(Entry(at: instant, order: nextOrder, kind: kind))
        nextOrder &+= 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func removeFirst() -> Entry {
        let first = heap[0]
        let last = heap.removeLast()
        guard !heap.isEmpty else { return first }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            let right = left + 1
            let smaller = right < heap.count && Self.precedes(heap[right], heap[left]) ? right : left
            guard Self.precedes(heap[smaller], heap[parent]) else { break }
            heap.swapAt(smaller, parent)
            parent = smaller
        }
        return first
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.at != b.at ? a.at < b.at : a.order < b.order
    }
}
