/// The kind of device a session runs on. Presence needs it: a mobile session shows
/// the Mobile status.
public enum DeviceKind: String, Sendable, CaseIterable {
    case desktop
    case mobile
    case web
}

/// A "stay signed in" device token row. The token itself is never stored, only its SHA-256.
public struct DeviceTokenRecord: Sendable, Equatable {
    /// Stable for the device across rotations.
    public var id: Int64
    public var accountID: String
    public var tokenHash: [UInt8]
    public var deviceKind: DeviceKind
    public var createdAt: Int64
    public var lastUsedAt: Int64
    /// When it was revoked, or nil while it is valid.
    public var revokedAt: Int64?
}

/// The `device_tokens` table.
public struct DeviceTokenStore {
    let database: Database

    public init(_ database: Database) { self.database = database }

    private static let columns = "id, account_id, token_hash, device_kind, created_at, last_used_at, revoked_at"

    /// Stores a new token hash for a device. - Returns: the row ID of the device.
    @discardableResult
    public func insert(accountID: String, tokenHash: [UInt8], deviceKind: DeviceKind, at now: Int64) throws -> Int64 {
        let id = try database.queryFirst(
            "INSERT INTO device_tokens (account_id, token_hash, device_kind, created_at, last_used_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            accountID, tokenHash, deviceKind.rawValue, now, now) { $0.int64(0) }
        guard let id else { throw StorageError.invalidValue(column: "device_tokens.id", value: "no row returned") }
        return id
    }

    /// The unrevoked token with this hash.
    public func findActive(tokenHash: [UInt8]) throws -> DeviceTokenRecord? {
        try database.queryFirst(
            "SELECT \(Self.columns) FROM device_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            tokenHash, transform: Self.record)
    }

    /// Every unrevoked token of the account.
    public func active(accountID: String) throws -> [DeviceTokenRecord] {
        try database.query(
            "SELECT \(Self.columns) FROM device_tokens WHERE account_id = ? AND revoked_at IS NULL ORDER BY id",
            accountID, transform: Self.record)
    }

    /// The unrevoked device this token signs in: the token is its current one, or the one
    /// its last rotation replaced while that is still in its grace period.
    public func findUsable(tokenHash: [UInt8], at now: Int64) throws -> DeviceTokenRecord? {
        if let current = try findActive(tokenHash: tokenHash) { return current }
        return try database.queryFirst(
            """
            SELECT \(Self.columns) FROM device_tokens
            WHERE previous_token_hash = ? AND previous_valid_until > ? AND revoked_at IS NULL
            """, tokenHash, now, transform: Self.record)
    }

    /// Replaces a usable token with a new one. A compare-and-swap on the old hash.
    ///
    /// When `oldTokenHash` is the current token, it becomes the previous one, valid until
    /// `graceUntil` (a reply carrying the new token may be lost), and any older previous
    /// token dies: the current one was used, so the client has it. When `oldTokenHash` is
    /// the previous token within its grace (the client never got the current one), only
    /// the current token is replaced; the grace deadline stays where the first rotation
    /// put it. - Returns: whether a token was rotated.
    @discardableResult
    public func rotate(from oldTokenHash: [UInt8], to newTokenHash: [UInt8], at now: Int64, graceUntil: Int64? = nil) throws -> Bool {
        let rotatedCurrent = try database.execute(
            """
            UPDATE device_tokens SET previous_token_hash = token_hash, previous_valid_until = ?,
                token_hash = ?, last_used_at = ?
            WHERE token_hash = ? AND revoked_at IS NULL
            """, graceUntil ?? now, newTokenHash, now, oldTokenHash) == 1
        if rotatedCurrent { return true }
        return try database.execute(
            """
            UPDATE device_tokens SET token_hash = ?, last_used_at = ?
            WHERE previous_token_hash = ? AND previous_valid_until > ? AND revoked_at IS NULL
            """, newTokenHash, now, oldTokenHash, now) == 1
    }

    /// Revokes the device this token signs in (current and previous token alike).
    /// - Returns: the account it belonged to, if it was usable.
    @discardableResult
    public func revoke(tokenHash: [UInt8], at now: Int64) throws -> String? {
        guard let record = try findUsable(tokenHash: tokenHash, at: now) else { return nil }
        try database.execute("UPDATE device_tokens SET revoked_at = ? WHERE id = ?", now, record.id)
        return record.accountID
    }

    /// Revokes the token in row `id` (its previous value too). - Returns: whether it was valid.
    @discardableResult
    public func revoke(id: Int64, at now: Int64) throws -> Bool {
        try database.execute("UPDATE device_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id) > 0
    }

    /// Revokes every valid token of the account, except the device `keeping` if given.
    /// - Returns: how many were revoked.
    @discardableResult
    public func revokeAll(accountID: String, keeping keptID: Int64? = nil, at now: Int64) throws -> Int {
        try database.execute(
            "UPDATE device_tokens SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL AND id IS DISTINCT FROM ?",
            now, accountID, keptID)
    }

    private static func record(_ row: Row) throws -> DeviceTokenRecord {
        let kindText = row.text(3)
        guard let kind = DeviceKind(rawValue: kindText) else {
            throw StorageError.invalidValue(column: "device_tokens.device_kind", value: kindText)
        }
        return DeviceTokenRecord(
            id: row.int64(0), accountID: row.text(1), tokenHash: row.blob(2), deviceKind: kind,
            createdAt: row.int64(4), lastUsedAt: row.int64(5), revokedAt: row.optionalInt64(6))
    }
}
