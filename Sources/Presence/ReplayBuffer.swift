/// The last events sent to one session, kept so a client that reconnects can resume
/// without a new snapshot.
///
/// It is also the session's sequence counter: `append` hands out the next sequence. The
/// ring grows lazily up to its capacity, entries the client has acknowledged are dropped
/// from the front, and a fully acknowledged ring gives its memory back.
struct ReplayBuffer: Sendable {
    private var storage: [Event] = []
    private var start = 0
    private(set) var count = 0
    let capacity: Int
    /// The sequence the next event gets. Sequences start at 1; 0 means "nothing seen".
    private(set) var nextSequence: UInt64 = 1

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The highest sequence handed out so far (0 for none).
    var lastSequence: UInt64 { nextSequence - 1 }

    /// Records `event` and returns its sequence. When full, the oldest event is forgotten.
    mutating func append(_ event: Event) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        guard capacity > 0 else { return sequence }
        if count == capacity {
            storage[start] = event
            start = (start + 1) % capacity
            return sequence
        }
        // Entries fill the ring contiguously from index 0 until it first wraps, so the
        // write position is either the end of storage or an already-allocated slot.
        let position = (start + count) % capacity
        if position == storage.count {
            storage.append(event)
        } else {
            storage[position] = event
        }
        count += 1
        return sequence
    }

    /// Whether every event after `sequence` is still held.
    func canReplay(after sequence: UInt64) -> Bool {
        sequence <= lastSequence && lastSequence - sequence <= UInt64(count)
    }

    /// The events after `sequence`, oldest first, with their sequences. Call only when
    /// `canReplay(after:)` holds.
    func events(after sequence: UInt64) -> [(sequence: UInt64, event: Event)] {
        let missing = Int(lastSequence - sequence)
        var result: [(sequence: UInt64, event: Event)] = []
        result.reserveCapacity(missing)
        for offset in (count - missing)..<count {
            let position = (start + offset) % capacity
            result.append((lastSequence - UInt64(count - 1 - offset), storage[position]))
        }
        return result
    }

    /// Drops events up to and including `sequence`, the client has them. `body` sees each
    /// dropped event, oldest first.
    mutating func discard(through sequence: UInt64, _ body: (Event) -> Void) {
        let oldest = nextSequence - UInt64(count)
        guard sequence >= oldest, count > 0 else { return }
        let dropping = Int(min(sequence - oldest + 1, UInt64(count)))
        for _ in 0..<dropping {
            body(storage[start])
            start = (start + 1) % capacity
        }
        count -= dropping
        if count == 0 {
            // Release the ring too: a session whose client has everything owns no buffer,
            // which is most sessions most of the time. The next event allocates it again.
            storage = []
            start = 0
        }
    }
}
