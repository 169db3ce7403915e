/// Every way the storage layer fails. The gateway maps all of them to one outcome
/// (an internal error, HTTP 500 or a retry) but `writerFull`, which it answers `overloaded`;
/// the cases exist for logs and tests.
public enum StorageError: Error, Equatable, Sendable {
    /// `sqlite3_open_v2` failed for the path; the message is SQLite's.
    case cannotOpen(path: String, message: String)
    /// A statement failed to prepare, bind or step. `code` is the SQLite result code
    /// (the primary code in the low byte, e.g. 19 = SQLITE_CONSTRAINT).
    case sqlite(code: Int32, message: String, sql: String)
    /// libpq could not connect (or reconnect); `location` has any password redacted.
    case cannotConnect(location: String, message: String)
    /// PostgreSQL refused a statement (or the connection broke during it). `sqlState` is
    /// the five-character SQLSTATE ("23505" unique violation), "" when the server sent none.
    case postgres(sqlState: String, message: String, sql: String)
    /// A `--database-url` that is not a PostgreSQL URI.
    case invalidLocation(String, reason: String)
    /// `PRAGMA journal_mode=WAL` did not take (for example on a read-only medium).
    case walUnavailable(actualMode: String)
    /// The file's `user_version` is newer than any migration this binary knows:
    /// a newer gateway has migrated it, and an older one must not write to it.
    case schemaTooNew(fileVersion: Int, knownVersion: Int)
    /// The writer was closed before the job could run; the job's changes were never made.
    case writerClosed
    /// `StorageWriter.capacity` jobs were already waiting: the job was refused, nothing of it
    /// was done, and it may be submitted again later (the gateway answers `overloaded`).
    case writerFull
    /// A row read back had a value outside its documented domain (a corrupt or
    /// hand-edited file), e.g. an unknown contact state.
    case invalidValue(column: String, value: String)
}

extension StorageError {
    /// Whether this is a UNIQUE/PRIMARY KEY/CHECK/FOREIGN KEY violation
    /// (SQLITE_CONSTRAINT, 19; SQLSTATE class 23 in PostgreSQL), which callers often
    /// turn into a domain error such as "that e-mail is taken".
    public var isConstraintViolation: Bool {
        switch self {
        case .sqlite(let code, _, _): return code & 0xff == 19
        case .postgres(let sqlState, _, _): return sqlState.hasPrefix("23")
        default: return false
        }
    }
}
