/// One connection to the gateway's database, on either backend: a SQLite file (WAL,
/// `synchronous=FULL`) or a PostgreSQL database (`synchronous_commit = on`). The one type
/// repositories, workers and the writer hold; the engine sits behind `StorageConnection`.
///
/// A `Database` belongs to one thread at a time and is deliberately not `Sendable`:
/// neither engine's connection may be used from two threads. Open one per thread.
///
/// SQL is written once for both engines where their dialects agree (almost everywhere:
/// `?` parameters, `INSERT … ON CONFLICT`, `RETURNING`, `IS DISTINCT FROM`, savepoints);
/// where they do not, a repository asks `engine`. Prepared statements are cached by
/// their SQL text, so pass values as `?` parameters and never interpolate them.
public final class Database {
    /// Where this connection is open.
    public let location: StorageLocation
    private let connection: any StorageConnection
    private var transactionDepth = 0

    /// Opens (creating if needed) the SQLite file at `path`; see `init(location:migrate:)`.
    /// - Parameters:
    ///   - path: a file path; `":memory:"` works for throwaway tests but is not WAL.
    ///   - busyTimeoutMilliseconds: how long a write waits for another connection's
    ///     write transaction before failing with SQLITE_BUSY. Generous: with fsync'd group
    ///     commits on a loaded machine 5 s proved too short, and a failed sign-up is worse
    ///     than a slow one.
    public convenience init(path: String, busyTimeoutMilliseconds: Int32 = 30_000, migrate: Bool = true) throws {
        try self.init(location: .sqlite(path: path), busyTimeoutMilliseconds: busyTimeoutMilliseconds, migrate: migrate)
    }

    /// Opens a connection to `location` and, if `migrate` is true, brings its schema up
    /// to date with `Schema.migrate(_:)`. A SQLite file is created if missing, switched
    /// to WAL with `synchronous=FULL` and foreign keys on; a PostgreSQL database must exist.
    public init(location: StorageLocation, busyTimeoutMilliseconds: Int32 = 30_000, migrate: Bool = true) throws {
        self.location = location
        switch location {
        case .sqlite(let path):
            connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        case .postgres(let url):
            connection = try PostgresConnection(url: url)
        }
        if migrate { try Schema.migrate(self) }
    }

    /// The engine of this connection, for the few statements whose SQL differs.
    public var engine: StorageEngine { connection.engine }

    /// The SQLite file this connection is open on, or the redacted PostgreSQL URL.
    public var path: String { location.description }

    /// Runs one statement to completion.
    /// - Returns: the number of rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ sql: String, _ arguments: any SQLiteBindable...) throws -> Int {
        try execute(sql, arguments: arguments)
    }

    /// `execute(_:_:)` with the arguments as an array.
    @discardableResult
    public func execute(_ sql: String, arguments: [any SQLiteBindable]) throws -> Int {
        try run(sql, arguments, maxRows: 0) { _ in }
    }

    /// Runs a query and maps every row.
    /// - Parameter transform: called once per row; the `Row` is valid only during the call.
    public func query<T>(_ sql: String, _ arguments: any SQLiteBindable..., transform: (Row) throws -> T) throws -> [T] {
        try query(sql, arguments: arguments, transform: transform)
    }

    /// `query(_:_:transform:)` with the arguments as an array.
    public func query<T>(_ sql: String, arguments: [any SQLiteBindable], transform: (Row) throws -> T) throws -> [T] {
        var rows: [T] = []
        _ = try run(sql, arguments, maxRows: Int.max) { rows.append(try transform($0)) }
        return rows
    }

    /// Runs a query (or an `INSERT … RETURNING`) and maps its first row, or returns nil
    /// when it yields none.
    public func queryFirst<T>(_ sql: String, _ arguments: any SQLiteBindable..., transform: (Row) throws -> T) throws -> T? {
        var first: T?
        _ = try run(sql, arguments, maxRows: 1) { first = try transform($0) }
        return first
    }

    /// Runs several `;`-separated statements without parameters (schema scripts).
    public func executeScript(_ sql: String) throws {
        try prepareToRun()
        try connection.executeScript(sql)
    }

    /// Whether a transaction opened by `transaction(_:)` is in progress.
    public var isInTransaction: Bool { transactionDepth > 0 }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// The outermost level takes the write lock up front (`BEGIN IMMEDIATE` in SQLite, an
    /// advisory lock in PostgreSQL), so outermost transactions on all connections run one
    /// at a time and a transaction never fails half-way on a lock upgrade. Nested calls
    /// become savepoints: an inner failure undoes only the inner work, which is how
    /// `StorageWriter` isolates one bad job in a batch.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let depth = transactionDepth
        let savepoint = "sp\(depth)"
        if depth == 0 {
            try prepareToRun()
            try connection.begin()
        } else {
            try connection.control("SAVEPOINT \(savepoint)")
        }
        transactionDepth += 1
        let result: T
        do {
            result = try body()
        } catch {
            transactionDepth -= 1
            if depth == 0 {
                _ = try? connection.control("ROLLBACK")
            } else {
                _ = try? connection.control("ROLLBACK TO \(savepoint)")
                _ = try? connection.control("RELEASE \(savepoint)")
            }
            throw error
        }
        transactionDepth -= 1
        do {
            if depth == 0 { try connection.commit() } else { try connection.releaseSavepoint(savepoint) }
        } catch {
            // A failed COMMIT (disk full, I/O error, a lost PostgreSQL connection) can leave
            // the transaction open; close it so the connection stays usable. A failed
            // RELEASE (PostgreSQL: the body swallowed a statement's error) undoes the level.
            if depth == 0 {
                if connection.isEngineInTransaction { _ = try? connection.control("ROLLBACK") }
            } else {
                _ = try? connection.control("ROLLBACK TO \(savepoint)")
                _ = try? connection.control("RELEASE \(savepoint)")
            }
            throw error
        }
        return result
    }

    /// One statement. Outside a transaction, a read that met a PostgreSQL connection the
    /// server had dropped since the last statement (it restarted; libpq learns of it only
    /// by trying) runs once more on a new connection: it ran nowhere. Before, that first
    /// read failed (a password sign-in answered `internal_error`). A write is not run
    /// again (whether it ran is unknown), and inside a transaction nothing is: the
    /// transaction fails as a whole, and its COMMIT with it.
    private func run(_ sql: String, _ arguments: [any SQLiteBindable], maxRows: Int,
                     onRow: (Row) throws -> Void) throws -> Int {
        try prepareToRun()
        do {
            return try connection.run(sql, arguments, maxRows: maxRows, onRow: onRow)
        } catch where transactionDepth == 0 && (connection as? PostgresConnection)?.isBroken == true
                        && PostgresConnection.isRead(sql) {
            try prepareToRun()
            return try connection.run(sql, arguments, maxRows: maxRows, onRow: onRow)
        }
    }

    /// Outside a transaction, a PostgreSQL connection the server dropped is reopened
    /// first; inside one, the statement fails and the transaction with it.
    private func prepareToRun() throws {
        if transactionDepth == 0, let postgres = connection as? PostgresConnection {
            try postgres.reconnectIfBroken()
        }
    }
}
