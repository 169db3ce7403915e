/// A hashed timing wheel of connection deadlines.
///
/// Each connection has at most one live entry, filed under the tick of its earliest
/// deadline. Moving a deadline later costs nothing: the entry fires early, sees the
/// connection is not due, and is filed again. Entries of closed or reused descriptors are
/// dropped by their generation. Arming and firing are O(1), and memory is one 8-byte entry
/// per connection: a slot gives its array back once fired, unless it is small
/// (`keptSlotCapacity`). Kept, a slot would hold the largest bunch of deadlines it ever
/// held: connections opened in one burst keep falling due together, into a different slot
/// each round, so after a few minutes every slot held a burst's worth, ~520 B per idle
/// connection at 10,000 (loadtest/README.md, "Bare idle connection under jemalloc").
struct TimerWheel {
    /// Milliseconds per tick: timeouts here are seconds long, so 64 ms is precise enough.
    static let tickMilliseconds: Int64 = 64
    /// 512 slots of 64 ms reach 32.8 s; later deadlines are filed at the horizon and again.
    static let slotCount = 512
    /// A fired slot keeps an array of at most this many entries (at most 512 × 160 B in all).
    static let keptSlotCapacity = 16

    private var slots: [[UInt64]]
    /// The tick being processed next.
    private(set) var currentTick: Int64
    private(set) var entryCount = 0

    init(now: Int64) {
        slots = Array(repeating: [], count: Self.slotCount)
        currentTick = now / Self.tickMilliseconds
    }

    /// The tick a deadline falls in.
    /// Saturating: a deadline near `Int64.max` ("never") falls in the last tick instead of
    /// overflowing (which trapped the server once; see `EventLoop.arm`).
    static func tick(of deadline: Int64) -> Int64 {
        let (rounded, overflow) = deadline.addingReportingOverflow(tickMilliseconds - 1)
        return (overflow ? Int64.max : rounded) / tickMilliseconds
    }

    /// Files an entry for `token` at `tick` (clamped to the wheel's reach).
    /// - Returns: the tick actually used, for the connection to remember.
    mutating func file(_ token: UInt64, atTick tick: Int64) -> Int64 {
        let t = min(max(tick, currentTick), currentTick + Int64(Self.slotCount) - 1)
        slots[Int(t % Int64(Self.slotCount))].append(token)
        entryCount += 1
        return t
    }

    /// Entries the slots' arrays have room for, filed or not (their memory, for tests).
    var reservedEntries: Int { slots.reduce(0) { $0 + $1.capacity } }

    /// Milliseconds until the next tick is due, or -1 when the wheel is empty.
    func timeout(now: Int64) -> Int32 {
        guard entryCount > 0 else { return -1 }
        let due = currentTick * Self.tickMilliseconds
        return Int32(clamping: max(0, due - now))
    }

    /// Moves the entries of every tick up to `now` into `due` as (token, tick) pairs. The
    /// caller fires them afterwards, when firing may file new entries.
    mutating func advance(to now: Int64, into due: inout [(token: UInt64, tick: Int64)]) {
        let last = now / Self.tickMilliseconds
        while currentTick <= last {
            let index = Int(currentTick % Int64(Self.slotCount))
            if !slots[index].isEmpty {
                entryCount -= slots[index].count
                for token in slots[index] { due.append((token, currentTick)) }
                slots[index].removeAll(keepingCapacity: slots[index].capacity <= Self.keptSlotCapacity)
            }
            currentTick += 1
        }
    }
}
