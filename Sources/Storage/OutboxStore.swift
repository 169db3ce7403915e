/// A queued e-mail.
public struct OutboxRecord: Sendable, Equatable {
    public var id: Int64
    /// The envelope recipient.
    public var recipient: String
    /// Kept beside the message for logs and the admin view; never a secret.
    public var subject: String
    /// The complete RFC 5322 message with CRLF line endings.
    public var message: [UInt8]
    public var createdAt: Int64
    /// Delivery attempts made so far.
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var lastError: String?
    public var sentAt: Int64?
    /// Set when the worker gave up after its last attempt.
    public var abandonedAt: Int64?
}

/// The `outbox` table. Rows are written in the transaction of the change that caused
/// them and marked sent only after the transport accepted them, so a crash at any
/// point re-sends rather than loses (at-least-once).
public struct OutboxStore {
    let database: Database

    public init(_ database: Database) { self.database = database }

    /// Queues a message, due at once. - Returns: its row ID.
    @discardableResult
    public func enqueue(recipient: String, subject: String, message: [UInt8], at now: Int64) throws -> Int64 {
        let id = try database.queryFirst(
            "INSERT INTO outbox (recipient, subject, message, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            recipient, subject, message, now, now) { $0.int64(0) }
        guard let id else { throw StorageError.invalidValue(column: "outbox.id", value: "no row returned") }
        return id
    }

    /// Messages due at `now`, oldest due first.
    public func due(at now: Int64, limit: Int) throws -> [OutboxRecord] {
        try database.query(
            """
            SELECT \(Self.columns) FROM outbox
            WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= ?
            ORDER BY next_attempt_at, id LIMIT ?
            """, now, limit, transform: Self.record)
    }

    /// The row with this ID.
    public func find(id: Int64) throws -> OutboxRecord? {
        try database.queryFirst("SELECT \(Self.columns) FROM outbox WHERE id = ?", id, transform: Self.record)
    }

    /// Every row not yet sent nor abandoned.
    public func pending() throws -> [OutboxRecord] {
        try database.query(
            "SELECT \(Self.columns) FROM outbox WHERE sent_at IS NULL AND abandoned_at IS NULL ORDER BY id",
            transform: Self.record)
    }

    /// How many rows are neither sent nor abandoned: the outbox depth.
    public func unsentCount() throws -> Int {
        try database.queryFirst("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND abandoned_at IS NULL") { $0.int(0) } ?? 0
    }

    /// When the earliest unsent row is due, or nil when none is pending.
    public func earliestDueAt() throws -> Int64? {
        try database.queryFirst(
            "SELECT min(next_attempt_at) FROM outbox WHERE sent_at IS NULL AND abandoned_at IS NULL"
        ) { $0.optionalInt64(0) } ?? nil
    }

    /// Records a successful delivery and empties the stored message: a reset mail carries
    /// a live credential, which must not outlive its delivery in the database file.
    public func markSent(id: Int64, attempts: Int, at now: Int64) throws {
        try database.execute(
            "UPDATE outbox SET sent_at = ?, attempts = ?, last_error = NULL, message = ? WHERE id = ?",
            now, attempts, [UInt8](), id)
    }

    /// Drops the unsent mail to a recipient (the account was deleted). - Returns: how many.
    @discardableResult
    public func cancelPending(recipient: String) throws -> Int {
        try database.execute("DELETE FROM outbox WHERE recipient = ? AND sent_at IS NULL", recipient)
    }

    /// Whether mail with this subject to the recipient is queued and neither sent nor
    /// abandoned; an offline-message notice still waiting stands for a new one.
    public func hasUnsent(recipient: String, subject: String) throws -> Bool {
        try database.queryFirst(
            "SELECT 1 FROM outbox WHERE recipient = ? AND subject = ? AND sent_at IS NULL AND abandoned_at IS NULL LIMIT 1",
            recipient, subject) { _ in true } ?? false
    }

    /// Records a failed attempt and when to try again.
    public func scheduleRetry(id: Int64, attempts: Int, nextAttemptAt: Int64, error: String) throws {
        try database.execute(
            "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
            attempts, nextAttemptAt, error, id)
    }

    /// Records the last failed attempt; the row stays for inspection but is not retried.
    public func abandon(id: Int64, attempts: Int, error: String, at now: Int64) throws {
        try database.execute(
            "UPDATE outbox SET attempts = ?, last_error = ?, abandoned_at = ? WHERE id = ?", attempts, error, now, id)
    }

    private static let columns =
        "id, recipient, subject, message, created_at, attempts, next_attempt_at, last_error, sent_at, abandoned_at"

    private static func record(_ row: Row) -> OutboxRecord {
        OutboxRecord(id: row.int64(0), recipient: row.text(1), subject: row.text(2), message: row.blob(3),
                     createdAt: row.int64(4), attempts: row.int(5), nextAttemptAt: row.int64(6),
                     lastError: row.optionalText(7), sentAt: row.optionalInt64(8), abandonedAt: row.optionalInt64(9))
    }
}
