/// A hashed timing wheel of connection deadlines.
///
/// Each connection has at most one live entry, filed under the tick of its earliest
/// deadline. Moving a deadline later costs nothing: the entry fires early, sees the
/// connection is not due, and is filed again. Entries of closed or reused descriptors are
/// dropped by their generation. Arming and firing are O(1), and memory is one 8-byte entry
/// per connection.
struct TimerWheel {
    /// Milliseconds per tick: timeouts here are seconds long, so 64 ms is precise enough.
    static let tickMilliseconds: Int64 = 64
    /// 512 slots of 64 ms reach 32.8 s; later deadlines are filed at the horizon and again.
    static let slotCount = 512

    private var slots: [[UInt64]]
    /// The tick being processed next.
    private(set) var currentTick: Int64
    private(set) var entryCount = 0

    init(now: Int64) {
        slots = Array(repeating: [], count: Self.slotCount)
        currentTick = now / Self.tickMilliseconds
    }

    /// The tick a deadline falls in.
    static func tick(of deadline: Int64) -> Int64 { (deadline + tickMilliseconds - 1) / tickMilliseconds }

    /// Files an entry for `token` at `tick` (clamped to the wheel's reach).
    /// - Returns: the tick actually used, for the connection to remember.
    mutating func file(_ token: UInt64, atTick tick: Int64) -> Int64 {
        let t = min(max(tick, currentTick), currentTick + Int64(Self.slotCount) - 1)
        slots[Int(t % Int64(Self.slotCount))].append(token)
        entryCount += 1
        return t
    }

    /// Milliseconds until the next tick is due, or -1 when the wheel is empty.
    func timeout(now: Int64) -> Int32 {
        guard entryCount > 0 else { return -1 }
        let due = currentTick * Self.tickMilliseconds
        return Int32(clamping: max(0, due - now))
    }

    /// Takes the entries of every tick up to `now`, calling `fire(token, tick)` for each.
    mutating func advance(to now: Int64, _ fire: (UInt64, Int64) -> Void) {
        let last = now / Self.tickMilliseconds
        while currentTick <= last {
            let index = Int(currentTick % Int64(Self.slotCount))
            if !slots[index].isEmpty {
                var due: [UInt64] = []
                swap(&due, &slots[index])
                entryCount -= due.count
                let tick = currentTick
                currentTick += 1
                for token in due { fire(token, tick) }
                // Give the slot its memory back for reuse if it is still empty.
                if slots[index].isEmpty { due.removeAll(keepingCapacity: true); swap(&due, &slots[index]) }
                continue
            }
            currentTick += 1
        }
    }
}
