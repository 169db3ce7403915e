/// The last events sent to one session, kept so a client that reconnects can resume
/// without a new snapshot.
///
/// It is also the session's sequence counter: `append` hands out the next sequence. The
/// ring grows lazily up to its capacity, entries the client has acknowledged are dropped
/// from the front, and a fully acknowledged ring gives its memory back.
struct ReplayBuffer: Sendable {
    /// How much a ring holds: the same for every session of a core, so the core keeps it
    /// once (`PresenceCore.replayLimits`) and passes it in, rather than each of 10,000
    /// rings storing a copy.
    struct Limits: Sendable {
        /// The most events held.
        let capacity: Int
        /// The most `Event.replayCost` bytes held; the oldest events go first past it.
        let byteCapacity: Int

        /// - Parameters: capacity and byteCapacity are clamped to 0...2^32 - 1 (what the
        ///   ring's 32-bit fields hold).
        init(capacity: Int, byteCapacity: Int = .max) {
            self.capacity = Int(UInt32(clamping: max(0, capacity)))
            self.byteCapacity = Int(UInt32(clamping: max(0, byteCapacity)))
        }
    }

    // One per session, so its fields are 32-bit where the range allows, and the limits
    // live with the core: 28 bytes, and the session record puts a 4-byte field in the tail.
    private var storage: [Event] = []
    /// The sequence the next event gets. Sequences start at 1; 0 means "nothing seen".
    private(set) var nextSequence: UInt64 = 1
    private var start32: UInt32 = 0
    private var count32: UInt32 = 0
    private var bytes32: UInt32 = 0

    /// Events held.
    private(set) var count: Int {
        get { Int(count32) }
        set { count32 = UInt32(newValue) }
    }
    private var start: Int {
        get { Int(start32) }
        set { start32 = UInt32(newValue) }
    }
    /// `replayCost` of the events held.
    private(set) var bytes: Int {
        get { Int(bytes32) }
        set { bytes32 = UInt32(newValue) }
    }

    init() {}

    /// The element count of the ring's storage: the first thing `append` reads, read
    /// ahead by a fan-out to bring the ring into the cache (`PresenceCore.fanOut`).
    var storageCount: Int { storage.count }

    /// The highest sequence handed out so far (0 for none).
    var lastSequence: UInt64 { nextSequence - 1 }

    /// Records `event` and returns its sequence. When full (by count or by bytes), the
    /// oldest events are forgotten; an event larger than the whole byte budget is not kept
    /// (a resume from before it is then impossible, and the client signs in afresh).
    mutating func append(_ event: Event, within limits: Limits) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        let capacity = limits.capacity
        guard capacity > 0 else { return sequence }
        let cost = event.replayCost
        guard cost <= limits.byteCapacity else {
            dropAll()
            return sequence
        }
        while count > 0, bytes + cost > limits.byteCapacity { dropOldest(capacity: capacity) }
        bytes += cost
        if count == capacity {
            bytes -= storage[start].replayCost
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
    func events(after sequence: UInt64, within limits: Limits) -> [(sequence: UInt64, event: Event)] {
        let capacity = limits.capacity
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
    mutating func discard(through sequence: UInt64, within limits: Limits, _ body: (Event) -> Void) {
        let capacity = limits.capacity
        let oldest = nextSequence - UInt64(count)
        guard sequence >= oldest, count > 0 else { return }
        let dropping = Int(min(sequence - oldest + 1, UInt64(count)))
        for _ in 0..<dropping {
            body(storage[start])
            bytes -= storage[start].replayCost
            start = (start + 1) % capacity
        }
        count -= dropping
        if count == 0 { releaseStorage() }
    }

    /// Forgets the oldest event (the client may not have it: a resume from before it is
    /// no longer possible).
    private mutating func dropOldest(capacity: Int) {
        bytes -= storage[start].replayCost
        start = (start + 1) % capacity
        count -= 1
        if count == 0 { releaseStorage() }
    }

    private mutating func dropAll() {
        count = 0
        releaseStorage()
    }

    /// A session whose client has everything owns no buffer, which is most sessions most
    /// of the time. The next event allocates it again.
    private mutating func releaseStorage() {
        storage = []
        start = 0
        bytes = 0
    }
}
