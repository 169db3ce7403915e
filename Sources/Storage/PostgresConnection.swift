import CPostgres

/// One libpq connection to a PostgreSQL database, used synchronously by the thread that
/// owns it (libpq connections are not thread-safe; the account workers, the outbox
/// thread and the writer each hold their own).
///
/// Statements are prepared once per connection (`PQprepare`, named `s0`, `s1`, …) with
/// their `?` parameters rewritten to `$n`, and cached by their SQL text like SQLite's.
/// Parameters go as text with the type left to the server (it infers each from the
/// column or expression it meets), except blobs, which go in binary as `bytea`. Results
/// come back as text; `Row` parses them.
///
/// Round trips are the cost on this backend (each one a wake-up of another process): a
/// transaction begins in one (BEGIN and the write lock together), a writer job's
/// savepoint rides with its first statement, and no RELEASE is sent.
///
/// Durability matches the SQLite backend's `synchronous=FULL`: the session sets
/// `synchronous_commit = on`, so COMMIT returns only once the WAL record is flushed.
final class PostgresConnection: StorageConnection {
    let url: String
    private var connection: OpaquePointer
    private var statements: [String: String] = [:]
    private var preparedCount = 0
    /// A `SAVEPOINT` not sent yet: it goes out in one pipeline with the next statement, so
    /// a writer job costs one round trip, not two. A level that runs no statement never
    /// sends it; RELEASE and ROLLBACK TO of an unsent savepoint have nothing to do.
    private var pendingSavepoint: String?

    var engine: StorageEngine { .postgres }

    /// The key of the advisory lock every outermost transaction takes first. ASCII "pres".
    static let writeLockKey: Int64 = 0x7072_6573

    init(url: String) throws {
        self.url = url
        connection = try Self.connect(url)
    }

    deinit { PQfinish(connection) }

    private static func connect(_ url: String) throws -> OpaquePointer {
        guard let connection = PQconnectdb(url) else {
            throw StorageError.cannotConnect(location: StorageLocation.redacted(url), message: "libpq: out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw StorageError.cannotConnect(location: StorageLocation.redacted(url), message: message)
        }
        // Notices (e.g. "relation already exists, skipping") would go to stderr; the
        // text format of bytea is pinned because `Row` decodes only the hex form.
        let setup = PQexec(connection, "SET client_min_messages = warning; SET bytea_output = hex; SET synchronous_commit = on")
        defer { PQclear(setup) }
        guard PQresultStatus(setup) == PGRES_COMMAND_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw StorageError.cannotConnect(location: StorageLocation.redacted(url), message: message)
        }
        return connection
    }

    /// After the server restarted or the network dropped, the next statement outside a
    /// transaction reconnects (prepared statements are per session, so the cache empties).
    func reconnectIfBroken() throws {
        guard PQstatus(connection) != CONNECTION_OK else { return }
        PQreset(connection)
        statements = [:]
        guard PQstatus(connection) == CONNECTION_OK else {
            throw StorageError.cannotConnect(location: StorageLocation.redacted(url), message: Self.trimmed(PQerrorMessage(connection)))
        }
        let setup = PQexec(connection, "SET client_min_messages = warning; SET bytea_output = hex; SET synchronous_commit = on")
        PQclear(setup)
    }

    func run(_ sql: String, _ arguments: [any SQLiteBindable], maxRows: Int,
             onRow: (Row) throws -> Void) throws -> Int {
        // Preparing a new statement can fail, which aborts the transaction: the savepoint
        // must exist by then for ROLLBACK TO to recover, so it goes first, on its own.
        if statements[sql] == nil { try sendPendingSavepoint() }
        let name = try preparedName(for: sql)
        let result = try executePrepared(name, arguments, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(result, sql) }
        let rows = Swift.min(PQntuples(result), Int32(clamping: maxRows))
        for row in 0..<rows { try onRow(Row(source: .postgres(result: result, row: row))) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Whether the server dropped this connection (libpq noticed at the last statement).
    var isBroken: Bool { PQstatus(connection) != CONNECTION_OK }

    /// A statement that changes nothing, so running it again is safe.
    static func isRead(_ sql: String) -> Bool {
        sql.prefix(7).uppercased() == "SELECT "
    }

    func executeScript(_ sql: String) throws {
        try sendPendingSavepoint()
        try command(sql)
    }

    /// No RELEASE: the savepoint stays until the COMMIT, which keeps its changes anyway,
    /// and a reused name shadows it, so `ROLLBACK TO` still finds the innermost one. That
    /// saves the writer one round trip per job of a batch. What RELEASE would have caught
    /// is read from libpq's local transaction status: a body that swallowed a failed
    /// statement left the transaction aborted, which must fail the level, not the next job.
    func releaseSavepoint(_ name: String) throws {
        if pendingSavepoint == name {
            pendingSavepoint = nil
            return
        }
        if PQtransactionStatus(connection) == PQTRANS_INERROR {
            throw StorageError.postgres(sqlState: "25P02", message: "a statement failed inside savepoint \(name)", sql: "RELEASE \(name)")
        }
    }

    /// SAVEPOINT is deferred (see `pendingSavepoint`); every other control statement
    /// sends any deferred one first, then itself.
    func control(_ sql: String) throws {
        if sql.hasPrefix("SAVEPOINT ") {
            try sendPendingSavepoint()
            pendingSavepoint = String(sql.dropFirst("SAVEPOINT ".count))
            return
        }
        // A level that ran no statement: its ROLLBACK TO and then RELEASE (the failure
        // path) have nothing to undo; the RELEASE ends the unsent savepoint.
        if let pending = pendingSavepoint {
            if sql == "ROLLBACK TO \(pending)" { return }
            if sql == "RELEASE \(pending)" { pendingSavepoint = nil; return }
        }
        try sendPendingSavepoint()
        try command(sql)
    }

    private func sendPendingSavepoint() throws {
        guard let pending = pendingSavepoint else { return }
        pendingSavepoint = nil
        try command("SAVEPOINT \(pending)")
    }

    /// BEGIN, then the transaction-scoped advisory lock: outermost transactions on every
    /// connection to the database run one at a time, as SQLite's `BEGIN IMMEDIATE` makes
    /// them. The repositories' read-then-write transactions (a contact request, a token
    /// rotation) rely on that; the lock ends with the COMMIT or ROLLBACK.
    func begin() throws {
        // One round trip for both statements (the simple protocol takes several at once).
        let sql = "BEGIN; SELECT pg_advisory_xact_lock(\(Self.writeLockKey))"
        do {
            try command(sql)
        } catch where PQstatus(connection) != CONNECTION_OK {
            // The server dropped the connection since the last statement (it restarted):
            // nothing of this transaction has run yet, so reconnecting and beginning
            // again is safe, and spares the caller a failure.
            try reconnectIfBroken()
            try command(sql)
        }
    }

    /// COMMIT, checked: PostgreSQL answers the COMMIT of a transaction in which a
    /// statement failed with `ROLLBACK` and no error, which must not read as success.
    func commit() throws {
        pendingSavepoint = nil  // an empty level: nothing to keep
        if PQtransactionStatus(connection) == PQTRANS_INERROR {
            throw StorageError.postgres(sqlState: "25P02", message: "a statement of the transaction failed; it cannot commit", sql: "COMMIT")
        }
        let result = PQexec(connection, "COMMIT")
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else { throw error(result, "COMMIT") }
        let tag = String(cString: PQcmdStatus(result))
        guard tag == "COMMIT" else {
            throw StorageError.postgres(sqlState: "", message: "COMMIT ended in \(tag)", sql: "COMMIT")
        }
    }

    var isEngineInTransaction: Bool {
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    // MARK: - Statements

    private func command(_ sql: String) throws {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(result, sql) }
    }

    private func preparedName(for sql: String) throws -> String {
        if let name = statements[sql] { return name }
        let name = "s\(preparedCount)"
        let result = PQprepare(connection, name, sql.postgresParameters(), 0, nil)
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else { throw error(result, sql) }
        preparedCount += 1
        statements[sql] = name
        return name
    }

    /// `PQexecPrepared` with the arguments laid out in one buffer: text values
    /// NUL-terminated (libpq's text format), blobs as raw bytes in binary format.
    /// Sends a pending SAVEPOINT in the same pipeline, once the arguments are known to be
    /// valid (a refused argument sends nothing, and the savepoint stays pending).
    private func executePrepared(_ name: String, _ arguments: [any SQLiteBindable], _ sql: String) throws -> OpaquePointer {
        var storage: [UInt8] = [0]  // never empty, so a zero-length blob still has a non-NULL pointer
        var offsets: [Int?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for argument in arguments {
            switch argument.sqliteValue {
            case .null:
                offsets.append(nil); lengths.append(0); formats.append(0)
                continue
            case .integer(let value):
                offsets.append(storage.count); storage += Array(String(value).utf8); formats.append(0)
            case .real(let value):
                offsets.append(storage.count); storage += Array("\(value)".utf8); formats.append(0)
            case .text(let value):
                // PostgreSQL text cannot hold U+0000 (SQLite's can); refuse rather than cut it.
                if value.utf8.contains(0) {
                    throw StorageError.postgres(sqlState: "22021", message: "text containing U+0000 cannot be stored in PostgreSQL", sql: sql)
                }
                offsets.append(storage.count); storage += Array(value.utf8); formats.append(0)
            case .blob(let bytes):
                offsets.append(storage.count); storage += bytes; formats.append(1)
                lengths.append(Int32(bytes.count))
                storage.append(0)
                continue
            }
            lengths.append(0)
            storage.append(0)
        }
        let before = pendingSavepoint.map { "SAVEPOINT \($0)" }
        pendingSavepoint = nil
        return try storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { (base + $0).assumingMemoryBound(to: CChar.self) }
            }
            guard let before else {
                guard let result = PQexecPrepared(connection, name, Int32(arguments.count), values, lengths, formats, 0) else {
                    throw error(nil, sql)
                }
                return result
            }
            return try pipelined(before, then: name, Int32(arguments.count), values, lengths, formats, sql)
        }
    }

    /// `before` and the prepared statement in one pipeline (one round trip): both sent,
    /// one sync, then every result read up to the sync so the connection leaves pipeline
    /// mode clean. - Returns: the statement's result, which the caller clears.
    private func pipelined(_ before: String, then name: String, _ count: Int32, _ values: [UnsafePointer<CChar>?],
                           _ lengths: [Int32], _ formats: [Int32], _ sql: String) throws -> OpaquePointer {
        guard PQenterPipelineMode(connection) == 1 else { throw error(nil, before) }
        defer { PQexitPipelineMode(connection) }
        guard PQsendQueryParams(connection, before, 0, nil, nil, nil, nil, 0) == 1,
              PQsendQueryPrepared(connection, name, count, values, lengths, formats, 0) == 1,
              PQpipelineSync(connection) == 1
        else { throw error(nil, sql) }
        var results: [OpaquePointer] = []
        // Each query's result is followed by a NULL; the sync ends the pipeline. A broken
        // connection ends it early (NULL twice in a row).
        var nullsInARow = 0
        while nullsInARow < 2 {
            guard let result = PQgetResult(connection) else { nullsInARow += 1; continue }
            nullsInARow = 0
            if PQresultStatus(result) == PGRES_PIPELINE_SYNC { PQclear(result); break }
            results.append(result)
        }
        defer { for result in results.dropLast() { PQclear(result) } }
        guard results.count == 2 else {
            let failure = error(results.first, sql)
            if let last = results.last { PQclear(last) }
            throw failure
        }
        let savepointStatus = PQresultStatus(results[0])
        guard savepointStatus == PGRES_COMMAND_OK else {
            let failure = error(results[0], before)
            PQclear(results[1])
            throw failure
        }
        return results[1]
    }

    private func error(_ result: OpaquePointer?, _ sql: String) -> StorageError {
        let sqlState = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        var message = result.map { Self.trimmed(PQresultErrorMessage($0)) } ?? ""
        if message.isEmpty { message = Self.trimmed(PQerrorMessage(connection)) }
        return .postgres(sqlState: sqlState, message: message, sql: sql)
    }

    private static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        var message = String(cString: text)
        while message.last?.isWhitespace == true { message.removeLast() }
        return message
    }
}
