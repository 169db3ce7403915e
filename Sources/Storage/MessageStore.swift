/// A stored chat message.
public struct MessageRecord: Sendable, Equatable {
    /// Server-assigned, increasing: the order of a conversation and its paging cursor.
    public var id: Int64
    public var sender: String
    public var recipient: String
    /// The sender's own ID for the message, unique per sender.
    public var clientMessageID: String
    public var body: String
    public var createdAt: Int64
    public var isDelivered: Bool
}

/// What `MessageStore.append` did.
public struct AppendedMessage: Sendable, Equatable {
    /// The message's server ID.
    public var id: Int64
    /// When it was first stored.
    public var createdAt: Int64
    /// True when the sender had already stored a message with this client ID: a resend
    /// after a lost ack. Nothing new was written; ack it again with the same ID.
    public var isDuplicate: Bool
}

/// The `messages` table.
public struct MessageStore {
    let database: Database

    public init(_ database: Database) { self.database = database }

    /// Stores a message unless the sender already stored one with the same client ID.
    public func append(sender: String, recipient: String, clientMessageID: String,
                       body: String, at now: Int64) throws -> AppendedMessage {
        let inserted = try database.queryFirst(
            """
            INSERT INTO messages (sender, recipient, client_message_id, body, created_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (sender, client_message_id) DO NOTHING RETURNING id
            """, sender, recipient, clientMessageID, body, now) { $0.int64(0) }
        if let inserted {
            return AppendedMessage(id: inserted, createdAt: now, isDuplicate: false)
        }
        let existing = try database.queryFirst(
            "SELECT id, created_at FROM messages WHERE sender = ? AND client_message_id = ?", sender, clientMessageID
        ) { AppendedMessage(id: $0.int64(0), createdAt: $0.int64(1), isDuplicate: true) }
        guard let existing else {
            throw StorageError.invalidValue(column: "messages.client_message_id", value: clientMessageID)
        }
        return existing
    }

    /// One page of the conversation between two accounts, newest first.
    /// - Parameters:
    ///   - before: return only messages with a smaller ID (the last ID of the previous
    ///     page); nil for the newest page.
    ///   - limit: the page size.
    public func history(between first: String, and second: String, before: Int64? = nil,
                        limit: Int) throws -> [MessageRecord] {
        // The WHERE clause repeats the expressions of messages_by_conversation verbatim,
        // which is what lets either engine use that index; only their spelling differs.
        let (low, high) = byteOrdered(first, second)
        return try database.query(
            database.engine == .sqlite ? Self.historySQLite : Self.historyPostgres,
            low, high, before ?? Int64.max, limit, transform: Self.record)
    }

    /// The recipient's undelivered messages, oldest first.
    public func undelivered(to recipient: String, limit: Int) throws -> [MessageRecord] {
        try database.query(
            "SELECT \(Self.columns) FROM messages WHERE recipient = ? AND is_delivered = 0 ORDER BY id LIMIT ?",
            recipient, limit, transform: Self.record)
    }

    /// Marks messages delivered. - Returns: how many changed.
    @discardableResult
    public func markDelivered(ids: [Int64]) throws -> Int {
        try ids.reduce(0) { count, id in
            count + (try database.execute("UPDATE messages SET is_delivered = 1 WHERE id = ? AND is_delivered = 0", id))
        }
    }

    /// Deletes every message the account sent or received. - Returns: how many.
    @discardableResult
    public func deleteAll(involving accountID: String) throws -> Int {
        try database.execute("DELETE FROM messages WHERE sender = ? OR recipient = ?", accountID, accountID)
    }

    private static let historySQLite = """
        SELECT \(columns) FROM messages
        WHERE min(sender, recipient) = ? AND max(sender, recipient) = ? AND id < ?
        ORDER BY id DESC LIMIT ?
        """
    private static let historyPostgres = """
        SELECT \(columns) FROM messages
        WHERE LEAST(sender, recipient) = ? AND GREATEST(sender, recipient) = ? AND id < ?
        ORDER BY id DESC LIMIT ?
        """

    private static let columns = "id, sender, recipient, client_message_id, body, created_at, is_delivered"

    private static func record(_ row: Row) -> MessageRecord {
        MessageRecord(id: row.int64(0), sender: row.text(1), recipient: row.text(2), clientMessageID: row.text(3),
                      body: row.text(4), createdAt: row.int64(5), isDelivered: row.bool(6))
    }
}
