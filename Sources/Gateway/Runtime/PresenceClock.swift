import Foundation
import Presence
import Synchronization

/// The presence runtime's two clocks.
///
/// - The core runs on the **monotonic** clock: every deadline (grace, debounce, idle,
///   ring, reveal) is an `Instant` of it, so a step of the wall clock (NTP, an operator,
///   a VM resume) neither expires every grace period at once nor freezes the timers.
/// - Timestamps that leave the process (`lastSeen` and `sentAt` on the wire, times stored
///   in the database) are **wall-clock** milliseconds since the epoch. A core instant
///   becomes one at the moment it leaves: `wall = wallNow − (monotonicNow − instant)`,
///   that is, "so long ago", measured on the clock that cannot jump.
public struct PresenceClock: Sendable {
    /// Milliseconds since the Unix epoch: only for timestamps.
    public var wall: @Sendable () -> Instant
    /// Milliseconds on a clock that never steps: for deadlines.
    public var monotonic: @Sendable () -> Instant
    /// The last offset handed out (see `mapping()`).
    private let offset = OffsetCache()

    /// `wall − monotonic` as last handed out. Reading the two clocks is not one atomic
    /// act, so a fresh difference jitters by a millisecond; a timestamp converted twice
    /// (a `lastSeen` sent now and again in a later snapshot, or stored at drain) must read
    /// the same. The offset therefore moves only when the wall clock really stepped.
    private final class OffsetCache: Sendable {
        let value = Atomic<Int64>(.min)
    }

    /// Creates a clock pair; the defaults are `CLOCK_REALTIME` and `CLOCK_MONOTONIC`.
    public init(wall: @escaping @Sendable () -> Instant = PresenceClock.systemWall,
                monotonic: @escaping @Sendable () -> Instant = PresenceClock.systemMonotonic) {
        self.wall = wall
        self.monotonic = monotonic
    }

    /// `CLOCK_REALTIME` in milliseconds.
    @Sendable public static func systemWall() -> Instant { read(CLOCK_REALTIME) }
    /// `CLOCK_MONOTONIC` in milliseconds.
    @Sendable public static func systemMonotonic() -> Instant { read(CLOCK_MONOTONIC) }

    private static func read(_ id: clockid_t) -> Instant {
        var ts = timespec()
        clock_gettime(id, &ts)
        return Instant(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    /// The mapping between the two clocks right now: the previous offset unless the wall
    /// clock moved more than 50 ms against the monotonic one since (a step, or drift).
    public func mapping() -> WallTimeMapping {
        let fresh = wall().milliseconds - monotonic().milliseconds
        let last = offset.value.load(ordering: .relaxed)
        if last != .min, abs(fresh - last) <= 50 { return WallTimeMapping(offset: last) }
        offset.value.store(fresh, ordering: .relaxed)
        return WallTimeMapping(offset: fresh)
    }
}

/// Converts between core (monotonic) instants and wall-clock timestamps, with the offset
/// of one moment. Take a fresh one for each batch of work; never store it.
public struct WallTimeMapping: Sendable {
    /// `wall − monotonic`, in milliseconds.
    public var offset: Int64

    /// The wall-clock timestamp of a core instant.
    public func wall(_ instant: Instant) -> Instant { Instant(milliseconds: instant.milliseconds &+ offset) }
    /// The core instant of a wall-clock timestamp (read back from storage).
    public func core(wallMilliseconds: Int64) -> Instant { Instant(milliseconds: wallMilliseconds &- offset) }
}
