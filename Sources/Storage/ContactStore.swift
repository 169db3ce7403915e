/// Where a contact link stands.
public enum ContactState: String, Sendable {
    /// Requested by one side, not yet accepted by the other.
    case pending
    /// Both sides see each other.
    case accepted
}

/// A contact link as seen from one of its two accounts.
public struct ContactRecord: Sendable, Equatable {
    /// The other account.
    public var peerID: String
    public var state: ContactState
    /// The account that asked first.
    public var requestedBy: String
    public var updatedAt: Int64
}

/// The `contacts` table: one row per pair of accounts, stored with the smaller ID first;
/// plus `contact_invitations`: requests to addresses that have no account, which read as
/// the requester's pending outgoing requests and turn into `contacts` rows when the
/// address signs up (a trigger, see `Schema`).
public struct ContactStore {
    let database: Database

    public init(_ database: Database) { self.database = database }

    /// Records that `requester` asks to add `peer`. If `peer` had already asked
    /// `requester`, the link becomes accepted (both want it). If `peer` has no account the
    /// request is kept as an invitation, and reads back the same way.
    /// - Returns: the state of the link afterwards.
    @discardableResult
    public func request(from requester: String, to peer: String, at now: Int64) throws -> ContactState {
        let (a, b) = Self.ordered(requester, peer)
        return try database.transaction {
            guard try hasAccount(peer) else {
                try database.execute(
                    "INSERT INTO contact_invitations (requester, invitee, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    requester, peer, now)
                return .pending
            }
            if let existing = try find(a, b) {
                guard existing.state == .pending, existing.requestedBy != requester else { return existing.state }
                try database.execute(
                    "UPDATE contacts SET state = 'accepted', updated_at = ? WHERE account_a = ? AND account_b = ?", now, a, b)
                return .accepted
            }
            try database.execute(
                "INSERT INTO contacts (account_a, account_b, requested_by, state, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?)",
                a, b, requester, now, now)
            return .pending
        }
    }

    /// Accepts the pending request that `requester` sent to `accepter`.
    /// - Returns: whether there was such a request.
    @discardableResult
    public func accept(by accepter: String, from requester: String, at now: Int64) throws -> Bool {
        let (a, b) = Self.ordered(accepter, requester)
        return try database.execute(
            "UPDATE contacts SET state = 'accepted', updated_at = ? WHERE account_a = ? AND account_b = ? AND state = 'pending' AND requested_by = ?",
            now, a, b, requester) == 1
    }

    /// Removes the link between two accounts, in whatever state, or withdraws an
    /// invitation between them. - Returns: whether it existed.
    @discardableResult
    public func remove(_ first: String, _ second: String) throws -> Bool {
        let (a, b) = Self.ordered(first, second)
        let links = try database.execute("DELETE FROM contacts WHERE account_a = ? AND account_b = ?", a, b)
        let invitations = try database.execute(
            "DELETE FROM contact_invitations WHERE (requester = ?1 AND invitee = ?2) OR (requester = ?2 AND invitee = ?1)",
            first, second)
        return links + invitations > 0
    }

    /// Removes every link of the account. - Returns: the peers it was linked to.
    @discardableResult
    public func removeAll(of accountID: String) throws -> [String] {
        let peers = try contacts(of: accountID).map(\.peerID)
        try database.execute("DELETE FROM contacts WHERE account_a = ? OR account_b = ?", accountID, accountID)
        try database.execute("DELETE FROM contact_invitations WHERE requester = ?", accountID)
        return peers
    }

    /// Whether the two accounts are accepted contacts (a pending request is not enough).
    public func areContacts(_ first: String, _ second: String) throws -> Bool {
        let (a, b) = Self.ordered(first, second)
        return try find(a, b)?.state == .accepted
    }

    /// Every link of the account, pending or accepted, its invitations included (as
    /// pending requests it made).
    public func contacts(of accountID: String) throws -> [ContactRecord] {
        // Two halves rather than `account_a = ?1 OR account_b = ?1`: each reads one index
        // (the primary key's range, `contacts_by_b_covering`) without a search per row.
        try database.query(
            """
            SELECT account_b, state, requested_by, updated_at FROM contacts WHERE account_a = ?1
            UNION ALL
            SELECT account_a, state, requested_by, updated_at FROM contacts WHERE account_b = ?1
            UNION ALL
            SELECT invitee, 'pending', requester, created_at FROM contact_invitations WHERE requester = ?1
            ORDER BY 1
            """, accountID, transform: Self.record)
    }

    private func hasAccount(_ id: String) throws -> Bool {
        try database.queryFirst("SELECT 1 FROM accounts WHERE id = ?", id) { _ in true } ?? false
    }

    private func find(_ a: String, _ b: String) throws -> ContactRecord? {
        try database.queryFirst(
            "SELECT account_b, state, requested_by, updated_at FROM contacts WHERE account_a = ? AND account_b = ?",
            a, b, transform: Self.record)
    }

    private static func record(_ row: Row) throws -> ContactRecord {
        let stateText = row.text(1)
        guard let state = ContactState(rawValue: stateText) else {
            throw StorageError.invalidValue(column: "contacts.state", value: stateText)
        }
        return ContactRecord(peerID: row.text(0), state: state, requestedBy: row.text(2), updatedAt: row.int64(3))
    }

    private static func ordered(_ x: String, _ y: String) -> (String, String) { byteOrdered(x, y) }
}

/// The two IDs smaller first, compared by UTF-8 bytes as SQLite's BINARY collation
/// (and its `min`/`max`) compares TEXT. Swift's `<` on String compares by Unicode
/// rules instead, which can disagree for non-ASCII text.
func byteOrdered(_ x: String, _ y: String) -> (String, String) {
    x.utf8.lexicographicallyPrecedes(y.utf8) ? (x, y) : (y, x)
}
