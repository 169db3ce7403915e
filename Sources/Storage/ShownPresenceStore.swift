/// One user's presence as contacts saw it when the gateway drained.
public struct ShownPresenceRow: Sendable, Equatable {
    /// The account ID (the lowercased e-mail address).
    public var accountID: String
    /// The observed status's wire name: `offline`, `idle`, `mobile`, `online` or `busy`.
    /// Never `hidden`: the public view already shows a hidden user as `offline`.
    public var status: String
    /// Milliseconds since the epoch; only for `offline` with a known last-seen.
    public var lastSeen: Int64?

    public init(accountID: String, status: String, lastSeen: Int64?) {
        self.accountID = accountID
        self.status = status
        self.lastSeen = lastSeen
    }
}

/// The `shown_presence` table: what contacts were shown of each user at the last drain,
/// so the next process keeps showing it through the disconnect grace (no flap across a
/// restart). Written once at drain, read and emptied once at start.
public struct ShownPresenceStore {
    let database: Database

    public init(_ database: Database) { self.database = database }

    /// Replaces every row with `rows`, stamped `drainedAt` (ms since the epoch), in one
    /// transaction: a crash half-way leaves the previous drain's rows or the new ones.
    public func replace(with rows: [ShownPresenceRow], drainedAt: Int64) throws {
        try database.transaction {
            _ = try database.execute("DELETE FROM shown_presence")
            for row in rows {
                _ = try database.execute(
                    "INSERT INTO shown_presence (account_id, status, last_seen, drained_at) VALUES (?, ?, ?, ?)",
                    row.accountID, row.status, row.lastSeen, drainedAt)
            }
        }
    }

    /// Takes the rows drained at or after `drainedSince`, and deletes every row (older
    /// ones are stale: their grace is over). One transaction, so rows are used once.
    /// - Returns: the rows and the time they were drained.
    public func take(drainedSince: Int64) throws -> [(row: ShownPresenceRow, drainedAt: Int64)] {
        try database.transaction {
            let rows = try database.query(
                "SELECT account_id, status, last_seen, drained_at FROM shown_presence WHERE drained_at >= ?",
                drainedSince
            ) { (row: ShownPresenceRow(accountID: $0.text(0), status: $0.text(1), lastSeen: $0.optionalInt64(2)),
                 drainedAt: $0.int64(3)) }
            _ = try database.execute("DELETE FROM shown_presence")
            return rows
        }
    }

    /// A cluster's form of `replace`: upserts `rows` stamped `drainedAt`, leaving other
    /// users' rows (other nodes write theirs into the same table), and deletes rows older
    /// than `expiredBefore`. One transaction.
    public func merge(_ rows: [ShownPresenceRow], drainedAt: Int64, expiredBefore: Int64) throws {
        try database.transaction {
            _ = try database.execute("DELETE FROM shown_presence WHERE drained_at < ?", expiredBefore)
            for row in rows {
                _ = try database.execute(
                    """
                    INSERT INTO shown_presence (account_id, status, last_seen, drained_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (account_id) DO UPDATE SET status = excluded.status, last_seen = excluded.last_seen,
                        drained_at = excluded.drained_at
                    """,
                    row.accountID, row.status, row.lastSeen, drainedAt)
            }
        }
    }

    /// A cluster's form of `take`: the rows drained at or after `drainedSince`, left in
    /// place for the other nodes (each reads them at the same re-placement).
    public func recent(drainedSince: Int64) throws -> [(row: ShownPresenceRow, drainedAt: Int64)] {
        try database.query(
            "SELECT account_id, status, last_seen, drained_at FROM shown_presence WHERE drained_at >= ?",
            drainedSince
        ) { (row: ShownPresenceRow(accountID: $0.text(0), status: $0.text(1), lastSeen: $0.optionalInt64(2)),
             drainedAt: $0.int64(3)) }
    }

    /// How many rows are stored (for tests and diagnostics).
    public func count() throws -> Int {
        try database.queryFirst("SELECT count(*) FROM shown_presence") { Int($0.int64(0)) } ?? 0
    }
}
