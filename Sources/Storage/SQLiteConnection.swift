import CSQLite

// Why a hand-written wrapper and not GRDB: GRDB adds ~20 s debug / ~60 s release to
// every clean CI build (FACTS.md), and its model (a DatabasePool of readers plus an
// async/serialized writer queue) does not fit ours: one writer thread that batches
// many jobs into one transaction (group commit, see `StorageWriter`) and a few
// synchronous connections owned by worker threads. What we need of SQLite fits in
// this file: open, pragmas, cached prepared statements, typed binds and columns.

/// One SQLite connection to a database file, in WAL mode with `synchronous=FULL`.
///
/// Opened with `SQLITE_OPEN_NOMUTEX`, so SQLite does no locking of its own for it:
/// one connection per thread. WAL lets readers run beside the single writer, and the
/// busy timeout makes concurrent writers on other connections wait their turn.
final class SQLiteConnection: StorageConnection {
    let path: String
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    var engine: StorageEngine { .sqlite }

    /// - Parameter busyTimeoutMilliseconds: how long a write waits for another
    ///   connection's write transaction before failing with SQLITE_BUSY.
    init(path: String, busyTimeoutMilliseconds: Int32) throws {
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

        var mode = ""
        _ = try run("PRAGMA journal_mode=WAL", [], maxRows: 1) { mode = $0.text(0) }
        if path != ":memory:" && mode.lowercased() != "wal" {
            throw StorageError.walUnavailable(actualMode: mode)
        }
        // WAL with NORMAL survives a process crash but may lose the last commits on
        // power loss; a message is acked only after its commit, so FULL. Group commit
        // (StorageWriter) pays the fsync once per batch instead of once per message.
        _ = try run("PRAGMA synchronous=FULL", [], maxRows: 0) { _ in }
        _ = try run("PRAGMA foreign_keys=ON", [], maxRows: 0) { _ in }
        // A private page cache of 512 KiB instead of SQLite's 2 MB: the kernel's page cache
        // holds the file already, so a private copy only saves a pread per page. presenced
        // opens four connections; at the default they grew to 8 MB of heap after 10,000
        // sign-ins read their contact lists, ~800 B per signed-in session.
        _ = try run("PRAGMA cache_size=-512", [], maxRows: 0) { _ in }
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    func run(_ sql: String, _ arguments: [any SQLiteBindable], maxRows: Int,
             onRow: (Row) throws -> Void) throws -> Int {
        try withStatement(sql, arguments) { statement in
            var rows = 0
            while try step(statement, sql) {
                if rows < maxRows { try onRow(Row(source: .sqlite(statement))) }
                rows += 1
                // A query asked for its first rows only: stop stepping (no more work).
                if maxRows > 0, rows >= maxRows, !Self.mustStepToEnd(sql) { break }
            }
            return Int(sqlite3_changes(handle))
        }
    }

    /// A statement that writes must be stepped to SQLITE_DONE even when it returns rows
    /// (`INSERT … RETURNING`) so every change is made; a SELECT can stop at the first row.
    private static func mustStepToEnd(_ sql: String) -> Bool {
        let head = sql.drop(while: { $0.isWhitespace }).prefix(6).uppercased()
        return head != "SELECT" && head != "PRAGMA"
    }

    func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw StorageError.sqlite(code: rc, message: text, sql: sql)
        }
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front, so a transaction never fails
    /// half-way by trying to upgrade a read lock while another connection writes.
    func begin() throws { _ = try run("BEGIN IMMEDIATE", [], maxRows: 0) { _ in } }

    func control(_ sql: String) throws { _ = try run(sql, [], maxRows: 0) { _ in } }

    func releaseSavepoint(_ name: String) throws { try control("RELEASE \(name)") }

    func commit() throws { _ = try run("COMMIT", [], maxRows: 0) { _ in } }

    var isEngineInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: - Statements

    /// Takes the statement for `sql` out of the cache (preparing it on a miss), binds the
    /// arguments, runs `body`, then resets it and puts it back. Taking it out makes a
    /// nested use of the same SQL (inside a row closure) prepare a second copy instead of
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
