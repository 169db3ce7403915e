import Histogram

/// What one loop observed in one run; merged across loops by `RunResult`.
struct LoopResult {
    var latency = LatencySummary.makeHistogram()
    var attempted = 0
    var opened = 0
    var connectFailures = 0
    var handshakeFailures = 0
    /// Connections the server closed or reset while they should have stayed open.
    var droppedByServer = 0
    var protocolErrors = 0
    /// The first error text seen, for the summary.
    var firstError: String?
    /// Monotonic ns: first connect started, last handshake completed.
    var connectStarted: UInt64 = 0
    var connectFinished: UInt64 = 0
    var sent: UInt64 = 0
    var answered: UInt64 = 0
    /// Answers whose bytes, order or connection did not match what was sent.
    var mismatched: UInt64 = 0
    /// Answers received inside the measured window.
    var answeredInWindow: UInt64 = 0
    var slowBytesSent = 0
    var slowWasClosed = false
    var slowCloseCode: UInt16 = 0
    var slowCloseReason: String?
    /// Nanoseconds from the slow client's first send to its close being seen.
    var slowClosedAfterNanos: UInt64 = 0

    /// Signed-in scenarios only.
    var session = SessionTally()

    mutating func note(_ error: String) { if firstError == nil { firstError = error } }
}
