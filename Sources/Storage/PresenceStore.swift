/// A missed call as stored.
public struct MissedCallRecord: Sendable, Equatable {
    public var callID: Int64
    public var caller: String
    public var callee: String
    public var at: Int64
}

/// Presence state that outlives sessions: the chosen status and missed calls.
public struct PresenceStore {
    let database: Database

    public init(_ database: Database) { self.database = database }

    /// The status `accountID` chose ("online", "busy" or "hidden"); nil for no such account.
    public func chosenStatus(of accountID: String) throws -> String? {
        try database.queryFirst("SELECT chosen_status FROM accounts WHERE id = ?", accountID) { $0.text(0) }
    }

    /// Saves the chosen status. - Returns: whether the account exists.
    @discardableResult
    public func setChosenStatus(of accountID: String, to status: String) throws -> Bool {
        try database.execute("UPDATE accounts SET chosen_status = ? WHERE id = ?", status, accountID) == 1
    }

    /// Records a call that rang out unanswered.
    public func recordMissedCall(callID: Int64, caller: String, callee: String, at: Int64) throws {
        try database.execute("INSERT INTO missed_calls (call_id, caller, callee, at) VALUES (?, ?, ?, ?)",
                             callID, caller, callee, at)
    }

    /// The newest missed calls of `callee`, newest first.
    public func missedCalls(of callee: String, limit: Int) throws -> [MissedCallRecord] {
        try database.query("SELECT call_id, caller, callee, at FROM missed_calls WHERE callee = ? ORDER BY at DESC LIMIT ?",
                           callee, limit) {
            MissedCallRecord(callID: $0.int64(0), caller: $0.text(1), callee: $0.text(2), at: $0.int64(3))
        }
    }
}
