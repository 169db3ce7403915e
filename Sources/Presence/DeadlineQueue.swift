/// What a deadline is for. Each carries enough to tell, when it falls due, whether it still
/// matters: deadlines are never removed early, only skipped when stale, which keeps
/// rescheduling O(log n) with no search.
///
/// Every payload fits in 8 bytes (slots are 32-bit here), so an entry of the queue is 24
/// bytes, not 32: with a check and sometimes a grace end queued per session, that is a
/// per-session cost.
enum DeadlineKind: Hashable, Sendable {
    /// Check whether a session has gone idle, or silent for too long
    /// (`PresenceCore.checkSession`). At most one per session is live: a queued one whose
    /// instant is not the session's `checkAt` is stale.
    case sessionCheck(slot: UInt32, generation: UInt32)
    /// A disconnected session's grace period ends.
    case graceEnd(slot: UInt32, generation: UInt32)
    /// Publish a user's settled presence after the debounce window.
    case publish(UserRef, generation: UInt32)
    /// An unanswered call stops ringing.
    case ringTimeout(CallID)
    /// Some reveal of a hidden user may have run out.
    case revealCheck(UserRef)
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
        var kind: DeadlineKind
        /// Insertion order among the entries queued now; 32 bits so that the entry is 24
        /// bytes (`renumber` keeps it from wrapping).
        var order: UInt32
    }

    private var heap: [Entry] = []
    private var nextOrder: UInt32

    /// An empty queue. `firstOrder` is for tests of the renumbering.
    init(firstOrder: UInt32 = 0) { nextOrder = firstOrder }

    /// The earliest deadline.
    var first: Entry? { heap.first }
    var count: Int { heap.count }

    mutating func insert(at instant: Instant, _ kind: DeadlineKind) {
        if nextOrder == .max { renumber() }
        heap.append(Entry(at: instant, kind: kind, order: nextOrder))
        nextOrder += 1
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

    /// Numbers the queued entries 0, 1, 2 … in the order they leave the queue, which keeps
    /// every tie's order, once 2^32 - 1 insertions have used the numbers up. The sorted
    /// array is a valid heap as it is.
    mutating func renumber() {
        heap.sort(by: Self.precedes)
        for index in heap.indices { heap[index].order = UInt32(index) }
        nextOrder = UInt32(heap.count)
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.at != b.at ? a.at < b.at : a.order < b.order
    }
}
