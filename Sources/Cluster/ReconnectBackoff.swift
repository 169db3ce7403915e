/// How long a Redis link waits before its next connection attempt: exponential from
/// `initialMilliseconds`, capped at `maximumMilliseconds`, with "equal jitter" (each delay
/// is uniform in the upper half of its exponential step), so nodes that lost the same
/// Redis do not come back in lockstep, and a node never retries faster than half a step.
///
/// Pure: the caller supplies the random source, so tests pin the bounds.
public struct ReconnectBackoff: Sendable, Equatable {
    /// The first step.
    public var initialMilliseconds: Int64
    /// The largest step. Keep it well under the node lease: a node re-asserts its lease
    /// within one step of Redis coming back.
    public var maximumMilliseconds: Int64
    /// Failed attempts since the last successful connection.
    public private(set) var failures = 0

    /// - Parameters:
    ///   - initialMilliseconds: the first step (at least 1).
    ///   - maximumMilliseconds: the cap (at least `initialMilliseconds`).
    public init(initialMilliseconds: Int64 = 50, maximumMilliseconds: Int64 = 1_000) {
        self.initialMilliseconds = max(1, initialMilliseconds)
        self.maximumMilliseconds = max(self.initialMilliseconds, maximumMilliseconds)
    }

    /// The exponential step for the current failure count, before jitter.
    public var step: Int64 {
        let shift = min(failures, 30)
        let (scaled, overflow) = initialMilliseconds.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? maximumMilliseconds : min(maximumMilliseconds, scaled)
    }

    /// Records one more failure and returns the delay before the next attempt, in
    /// `step/2 ... step` milliseconds.
    public mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> Int64 {
        let s = step
        failures += 1
        return Int64.random(in: (s + 1) / 2...s, using: &generator)
    }

    /// Records one more failure and returns the delay, with the system's random source.
    public mutating func nextDelay() -> Int64 {
        var g = SystemRandomNumberGenerator()
        return nextDelay(using: &g)
    }

    /// A connection succeeded: the next failure starts from the first step again.
    public mutating func reset() { failures = 0 }
}
