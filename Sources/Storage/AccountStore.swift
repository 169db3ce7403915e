/// An account row. `id` is the e-mail address, lowercased by the caller
/// (the Accounts module owns the normalisation rule).
public struct AccountRecord: Sendable, Equatable {
    /// The account ID: the lowercased e-mail address. Never changes.
    public var id: String
    public var firstName: String
    public var lastName: String
    /// The encoded password hash, or nil for an account that has only signed in with Google.
    public var passwordHash: String?
    /// Whether messages received while signed out are announced by e-mail.
    public var wantsOfflineEmail: Bool
    /// The `sub` claim of the linked Google account, if any.
    public var googleSubject: String?
    /// Milliseconds since the Unix epoch.
    public var createdAt: Int64
    /// Milliseconds since the Unix epoch.
    public var updatedAt: Int64

    public init(id: String, firstName: String, lastName: String, passwordHash: String?,
                wantsOfflineEmail: Bool, googleSubject: String?, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.passwordHash = passwordHash
        self.wantsOfflineEmail = wantsOfflineEmail
        self.googleSubject = googleSubject
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The `accounts` table.
public struct AccountStore {
    let database: Database

    public init(_ database: Database) { self.database = database }

    private static let columns =
        "id, first_name, last_name, password_hash, wants_offline_email, google_subject, created_at, updated_at"

    /// Inserts a new account.
    /// - Throws: a `StorageError` whose `isConstraintViolation` is true when the ID
    ///   (or the Google subject) is already taken.
    public func insert(_ account: AccountRecord) throws {
        try database.execute(
            "INSERT INTO accounts (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            account.id, account.firstName, account.lastName, account.passwordHash,
            account.wantsOfflineEmail, account.googleSubject, account.createdAt, account.updatedAt)
    }

    /// The account with this (already lowercased) ID.
    public func find(id: String) throws -> AccountRecord? {
        try database.queryFirst("SELECT \(Self.columns) FROM accounts WHERE id = ?", id, transform: Self.record)
    }

    /// The account linked to this Google subject.
    public func find(googleSubject: String) throws -> AccountRecord? {
        try database.queryFirst(
            "SELECT \(Self.columns) FROM accounts WHERE google_subject = ?", googleSubject, transform: Self.record)
    }

    /// Saves the editable profile fields. - Returns: whether the account exists.
    @discardableResult
    public func updateProfile(id: String, firstName: String, lastName: String,
                              wantsOfflineEmail: Bool, at now: Int64) throws -> Bool {
        try database.execute(
            "UPDATE accounts SET first_name = ?, last_name = ?, wants_offline_email = ?, updated_at = ? WHERE id = ?",
            firstName, lastName, wantsOfflineEmail, now, id) == 1
    }

    /// Replaces the password hash. - Returns: whether the account exists.
    @discardableResult
    public func setPasswordHash(id: String, _ hash: String, at now: Int64) throws -> Bool {
        try database.execute(
            "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?", hash, now, id) == 1
    }

    /// Links a Google subject to the account. - Returns: whether the account exists.
    @discardableResult
    public func linkGoogle(id: String, subject: String, at now: Int64) throws -> Bool {
        try database.execute(
            "UPDATE accounts SET google_subject = ?, updated_at = ? WHERE id = ?", subject, now, id) == 1
    }

    /// Deletes the account row; foreign keys cascade to every row that refers to it.
    /// - Returns: whether it existed.
    @discardableResult
    public func delete(id: String) throws -> Bool {
        try database.execute("DELETE FROM accounts WHERE id = ?", id) == 1
    }

    private static func record(_ row: Row) -> AccountRecord {
        AccountRecord(
            id: row.text(0), firstName: row.text(1), lastName: row.text(2), passwordHash: row.optionalText(3),
            wantsOfflineEmail: row.bool(4), googleSubject: row.optionalText(5),
            createdAt: row.int64(6), updatedAt: row.int64(7))
    }
}
