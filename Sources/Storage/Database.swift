import CSQLite

// Why a hand-written wrapper and not GRDB: GRDB adds ~20 s debug / ~60 s release to
// every clean CI build (FACTS.md), and its model (a DatabasePool of readers plus an
// async/serialized writer queue) does not fit ours: one writer thread that batches
// many jobs into one transaction (group commit, see `StorageWriter`) and a few
// synchronous connections owned by worker threads. What we need of SQLite fits in
// this file: open, pragmas, cached prepared statements, typed binds and columns,
// transactions.

/// One SQLite connection to a database file, in WAL mode with `synchronous=FULL`.
///
/// A `Database` belongs to one thread at a time and is deliberately not `Sendable`:
/// it is opened with `SQLITE_OPEN_NOMUTEX`, so SQLite does no locking of its own for
/// it. Open one connection per thread; WAL lets readers run beside the single writer,
/// and the busy timeout makes concurrent writers on other connections wait their turn.
///
/// Prepared statements are cached by their SQL text, so pass values as `?`
/// parameters and never interpolate them into the SQL.
public final class Database {
    /// The file this connection is open on.
    public let path: String
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private var transactionDepth = 0

    /// Opens (creating if needed) the database file at `path`, switches it to WAL with
    /// `synchronous=FULL` and foreign keys on, and, if `migrate` is true, brings its
    /// schema up to date with `Schema.migrate(_:)`.
    /// - Parameters:
    ///   - path: a file path; `":memory:"` works for throwaway tests but is not WAL.
    ///   - busyTimeoutMilliseconds: how long a write waits for another connection's
    ///     write transaction before failing with SQLITE_BUSY. Generous: with fsync'd group
    ///     commits on a loaded machine 5 s proved too short, and a failed sign-up is worse
    ///     than a slow one.
    ///   - migrate: whether to apply pending migrations now.
    public init(path: String, busyTimeoutMilliseconds: Int32 = 30_000, migrate: Bool = true) throws {
        self.path = path
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &connection, flags, nil)
        guard rc == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(connection)
            throw StorageError.cannotOpen(path: path, message: message)
        }
        handle = connection
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)

        let mode = try query("PRAGMA journal_mode=WAL") { $0.text(0) }.first ?? ""
        if path != ":memory:" && mode.lowercased() != "wal" {
            throw StorageError.walUnavailable(actualMode: mode)
        }
        // WAL with NORMAL survives a process crash but may lose the last commits on
        // power loss; a message is acked only after its commit, so FULL. Group commit
        // (StorageWriter) pays the fsync once per batch instead of once per message.
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
        if migrate { try Schema.migrate(self) }
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one statement to completion.
    /// - Returns: the number of rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ sql: String, _ arguments: any SQLiteBindable...) throws -> Int {
        try execute(sql, arguments: arguments)
    }

    /// `execute(_:_:)` with the arguments as an array.
    @discardableResult
    public func execute(_ sql: String, arguments: [any SQLiteBindable]) throws -> Int {
        try withStatement(sql, arguments) { statement in
            while try step(statement, sql) {}
            return Int(sqlite3_changes(handle))
        }
    }

    /// Runs a query and maps every row.
    /// - Parameter transform: called once per row; the `Row` is valid only during the call.
    public func query<T>(_ sql: String, _ arguments: any SQLiteBindable..., transform: (Row) throws -> T) throws -> [T] {
        try query(sql, arguments: arguments, transform: transform)
    }

    /// `query(_:_:transform:)` with the arguments as an array.
    public func query<T>(_ sql: String, arguments: [any SQLiteBindable], transform: (Row) throws -> T) throws -> [T] {
        try withStatement(sql, arguments) { statement in
            var rows: [T] = []
            while try step(statement, sql) { rows.append(try transform(Row(statement: statement))) }
            return rows
        }
    }

    /// Runs a query and maps its first row, or returns nil when it yields none.
    public func queryFirst<T>(_ sql: String, _ arguments: any SQLiteBindable..., transform: (Row) throws -> T) throws -> T? {
        try withStatement(sql, arguments) { statement in
            try step(statement, sql) ? try transform(Row(statement: statement)) : nil
        }
    }

    /// Runs several `;`-separated statements without parameters (schema scripts).
    public func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw StorageError.sqlite(code: rc, message: text, sql: sql)
        }
    }

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Whether a transaction opened by `transaction(_:)` is in progress.
    public var isInTransaction: Bool { transactionDepth > 0 }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// The outermost level is `BEGIN IMMEDIATE`, which takes the write lock up front, so
    /// a transaction never fails half-way by trying to upgrade a read lock while another
    /// connection writes. Nested calls become savepoints: an inner failure undoes only
    /// the inner work, which is how `StorageWriter` isolates one bad job in a batch.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let depth = transactionDepth
        let savepoint = "sp\(depth)"
        try execute(depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT \(savepoint)")
        transactionDepth += 1
        let result: T
        do {
            result = try body()
        } catch {
            transactionDepth -= 1
            if depth == 0 {
                _ = try? execute("ROLLBACK")
            } else {
                _ = try? execute("ROLLBACK TO \(savepoint)")
                _ = try? execute("RELEASE \(savepoint)")
            }
            throw error
        }
        transactionDepth -= 1
        do {
            try execute(depth == 0 ? "COMMIT" : "RELEASE \(savepoint)")
        } catch {
            // A failed COMMIT (disk full, I/O error) can leave the transaction open;
            // close it so the connection stays usable.
            if depth == 0, sqlite3_get_autocommit(handle) == 0 { _ = try? execute("ROLLBACK") }
            throw error
        }
        return result
    }

    // MARK: - Statements

    /// Takes the statement for `sql` out of the cache (preparing it on a miss), binds the
    /// arguments, runs `body`, then resets it and puts it back. Taking it out makes a
    /// nested use of the same SQL (inside a `transform`) prepare a second copy instead of
    /// resetting the statement under the outer loop.
    private func withStatement<T>(_ sql: String, _ arguments: [any SQLiteBindable], _ body: (OpaquePointer) throws -> T) throws -> T {
        let statement = try statements.removeValue(forKey: sql) ?? prepare(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            if statements[sql] == nil { statements[sql] = statement } else { sqlite3_finalize(statement) }
        }
        for (offset, argument) in arguments.enumerated() {
            let rc = argument.sqliteValue.bind(to: statement, at: Int32(offset + 1))
            if rc != SQLITE_OK { throw error(rc, sql) }
        }
        return try body(statement)
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, sql) }
        return statement
    }

    /// One `sqlite3_step`: true when a row is ready, false when done.
    private func step(_ statement: OpaquePointer, _ sql: String) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw error(rc, sql)
        }
    }

    private func error(_ code: Int32, _ sql: String) -> StorageError {
        .sqlite(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}
