/// A password-reset token row. Only the SHA-256 of the token is stored.
public struct ResetTokenRecord: Sendable, Equatable {
    public var tokenHash: [UInt8]
    public var accountID: String
    public var createdAt: Int64
    /// The first instant at which the token no longer works.
    public var expiresAt: Int64
    /// When it was used or burnt, or nil while it is outstanding.
    public var usedAt: Int64?
}

/// The `reset_tokens` table.
public struct ResetTokenStore {
    let database: Database

    public init(_ database: Database) { self.database = database }

    /// Stores a new token hash.
    public func insert(tokenHash: [UInt8], accountID: String, createdAt: Int64, expiresAt: Int64) throws {
        try database.execute(
            "INSERT INTO reset_tokens (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            tokenHash, accountID, createdAt, expiresAt)
    }

    /// The token with this hash, used or not, expired or not.
    public func find(tokenHash: [UInt8]) throws -> ResetTokenRecord? {
        try database.queryFirst(
            "SELECT token_hash, account_id, created_at, expires_at, used_at FROM reset_tokens WHERE token_hash = ?",
            tokenHash
        ) { row in
            ResetTokenRecord(tokenHash: row.blob(0), accountID: row.text(1), createdAt: row.int64(2),
                             expiresAt: row.int64(3), usedAt: row.optionalInt64(4))
        }
    }

    /// Marks every outstanding token of the account used (the one just redeemed and any
    /// other sent earlier). - Returns: how many were burnt.
    @discardableResult
    public func burnAll(accountID: String, at now: Int64) throws -> Int {
        try database.execute(
            "UPDATE reset_tokens SET used_at = ? WHERE account_id = ? AND used_at IS NULL", now, accountID)
    }

    /// Deletes tokens that expired before `cutoff`; they can never be used again.
    /// - Returns: how many were deleted.
    @discardableResult
    public func deleteExpired(before cutoff: Int64) throws -> Int {
        try database.execute("DELETE FROM reset_tokens WHERE expires_at < ?", cutoff)
    }
}
