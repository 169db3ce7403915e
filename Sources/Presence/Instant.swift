/// A point in time on the clock the gateway injects.
///
/// The core has no clock of its own: every command arrives with an `Instant`, and
/// deadlines are expressed in the same unit. The gateway should pass wall-clock
/// milliseconds since the Unix epoch so that instants inside events (message times,
/// last-seen) can be shown to people as they are. The core treats time as monotonic:
/// an instant earlier than one it has already seen is read as "no time passed".
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since the gateway's epoch.
    public var milliseconds: Int64

    /// Creates an instant `milliseconds` after the gateway's epoch.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// The epoch itself.
    public static let zero = Instant(milliseconds: 0)

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }

    /// The instant `duration` after `instant`, rounded down to whole milliseconds.
    public static func + (instant: Instant, duration: Duration) -> Instant {
        instant.adding(duration.wholeMilliseconds)
    }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        .milliseconds(lhs.milliseconds - rhs.milliseconds)
    }

    public var description: String { "@\(milliseconds)ms" }

    func adding(_ milliseconds: Int64) -> Instant {
        Instant(milliseconds: self.milliseconds &+ milliseconds)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down; the core's deadline arithmetic works in these.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
