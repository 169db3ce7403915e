/// One engine's connection behind `Database`: statements in, rows and change counts out.
/// `Database` owns the transaction nesting and the statement API callers see; an
/// implementation owns the handle, its statement cache and its dialect's few verbs.
/// Not thread-safe (neither SQLite opened NOMUTEX nor a libpq connection is): one
/// connection per thread.
protocol StorageConnection: AnyObject {
    var engine: StorageEngine { get }

    /// Runs one statement with `?` parameters, handing at most `maxRows` rows to `onRow`.
    /// - Returns: the rows it inserted, updated or deleted.
    func run(_ sql: String, _ arguments: [any SQLiteBindable], maxRows: Int,
             onRow: (Row) throws -> Void) throws -> Int

    /// Runs several `;`-separated statements without parameters (schema scripts).
    func executeScript(_ sql: String) throws

    /// Runs a transaction-control statement (SAVEPOINT, RELEASE, ROLLBACK [TO]) unprepared.
    func control(_ sql: String) throws

    /// Ends a savepoint whose body succeeded, keeping its changes.
    func releaseSavepoint(_ name: String) throws

    /// Opens the outermost transaction; it holds the write lock from the start, so
    /// transactions on other connections of the same database run one after another.
    func begin() throws

    /// Commits the outermost transaction, throwing unless it really committed.
    func commit() throws

    /// Whether the engine has a transaction open on this connection (after a failed
    /// COMMIT, to decide whether a ROLLBACK is still needed).
    var isEngineInTransaction: Bool { get }
}

extension String {
    /// The SQL with SQLite's `?` and `?NNN` parameters as PostgreSQL's `$n`: a bare `?`
    /// is one more than the largest number so far (SQLite's rule). Text inside quotes
    /// ('literal', "identifier") is copied as it is.
    func postgresParameters() -> String {
        var output = ""
        output.reserveCapacity(utf8.count + 8)
        var highest = 0
        var quote: Character?
        var index = startIndex
        while index < endIndex {
            let c = self[index]
            index = self.index(after: index)
            if let open = quote {
                output.append(c)
                if c == open { quote = nil }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                output.append(c)
            case "?":
                var digits = ""
                while index < endIndex, let d = self[index].wholeNumberValue, self[index].isASCII {
                    digits.append(String(d))
                    index = self.index(after: index)
                }
                let number = Int(digits) ?? highest + 1
                highest = Swift.max(highest, number)
                output.append("$\(number)")
            default:
                output.append(c)
            }
        }
        return output
    }
}
