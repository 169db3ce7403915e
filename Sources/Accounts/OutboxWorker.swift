import Storage

/// How the outbox retries: exponential backoff from `baseDelay`, doubling per failed
/// attempt up to `maximumDelay`, giving up after `maximumAttempts`.
public struct RetryPolicy: Sendable, Equatable {
    public var baseDelayMilliseconds: Int64
    public var maximumDelayMilliseconds: Int64
    public var maximumAttempts: Int

    /// 30 s, 1 min, 2 min … capped at 1 h; 12 attempts span about 6 hours, which rides
    /// out a relay outage without mailing a reset link that expired long ago.
    public init(baseDelayMilliseconds: Int64 = 30_000, maximumDelayMilliseconds: Int64 = 3_600_000,
                maximumAttempts: Int = 12) {
        self.baseDelayMilliseconds = baseDelayMilliseconds
        self.maximumDelayMilliseconds = maximumDelayMilliseconds
        self.maximumAttempts = maximumAttempts
    }

    /// The wait after the `attempts`-th failure (1-based).
    public func delay(afterAttempts attempts: Int) -> Int64 {
        let doublings = min(max(attempts - 1, 0), 32)
        return min(maximumDelayMilliseconds, baseDelayMilliseconds << Int64(doublings))
    }
}

/// What one `drain` did.
public struct OutboxDrainReport: Sendable, Equatable {
    public var sent = 0
    public var retried = 0
    public var abandoned = 0
}

/// Drains the outbox table through a transport. Call `drain()` from a worker thread
/// whenever mail may have been queued and on a timer (`nextAttemptAt()` says when).
///
/// A row is marked sent only after the transport accepted it, so a crash between the
/// two re-sends the mail on restart rather than losing it (at-least-once; the spool
/// transport overwrites the same file name, so there it is exactly-once).
/// Owns its connection like any `Database` user: one thread.
public final class OutboxWorker {
    private let database: Database
    private let transport: any MailTransport
    public let retryPolicy: RetryPolicy
    private let now: MillisecondClock

    public init(database: Database, transport: any MailTransport, retryPolicy: RetryPolicy = RetryPolicy(),
                now: @escaping MillisecondClock = systemMillisecondClock) {
        self.database = database
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.now = now
    }

    /// Mail neither sent nor abandoned yet (the outbox depth).
    public func unsentCount() throws -> Int { try OutboxStore(database).unsentCount() }

    /// Sends every due row (up to `limit`).
    @discardableResult
    public func drain(limit: Int = 100) throws -> OutboxDrainReport {
        let outbox = OutboxStore(database)
        var report = OutboxDrainReport()
        for row in try outbox.due(at: now(), limit: limit) {
            let attempts = row.attempts + 1
            do {
                try transport.deliver(OutgoingMail(name: "\(row.createdAt)-\(row.id)", recipient: row.recipient,
                                                   message: row.message))
                try outbox.markSent(id: row.id, attempts: attempts, at: now())
                report.sent += 1
            } catch {
                let reason = (error as? MailTransportError)?.message ?? "\(error)"
                if attempts >= retryPolicy.maximumAttempts {
                    try outbox.abandon(id: row.id, attempts: attempts, error: reason, at: now())
                    report.abandoned += 1
                } else {
                    try outbox.scheduleRetry(id: row.id, attempts: attempts,
                                             nextAttemptAt: now() + retryPolicy.delay(afterAttempts: attempts), error: reason)
                    report.retried += 1
                }
            }
        }
        return report
    }

    /// When the earliest pending row is due, or nil when nothing is pending.
    public func nextAttemptAt() throws -> Int64? {
        try OutboxStore(database).earliestDueAt()
    }
}
