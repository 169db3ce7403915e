import CSQLite

/// A value SQLite stores: its five storage classes (https://sqlite.org/datatype3.html).
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift value that can be bound to a `?` parameter of a statement.
public protocol SQLiteBindable {
    /// The value as SQLite stores it.
    var sqliteValue: SQLiteValue { get }
}

extension SQLiteValue: SQLiteBindable {
    public var sqliteValue: SQLiteValue { self }
}
extension Int64: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .integer(self) }
}
extension Int: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .integer(Int64(self)) }
}
extension Int32: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .integer(Int64(self)) }
}
/// Booleans are stored as 0 and 1; SQLite has no boolean class.
extension Bool: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .integer(self ? 1 : 0) }
}
extension Double: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .real(self) }
}
extension String: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .text(self) }
}
extension Array: SQLiteBindable where Element == UInt8 {
    public var sqliteValue: SQLiteValue { .blob(self) }
}
extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    public var sqliteValue: SQLiteValue { self?.sqliteValue ?? .null }
}

/// `SQLITE_TRANSIENT` is a macro (`(sqlite3_destructor_type)-1`) that does not import:
/// it tells SQLite to copy the bytes before the bind call returns, which we need
/// because Swift's buffers are only valid inside `withUnsafeBytes`.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension SQLiteValue {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .null:
            return sqlite3_bind_null(statement, index)
        case .integer(let value):
            return sqlite3_bind_int64(statement, index, value)
        case .real(let value):
            return sqlite3_bind_double(statement, index, value)
        case .text(let value):
            // An explicit byte length, not -1: text may contain U+0000, which a
            // C-string length would cut at.
            var text = value
            return text.withUTF8 { utf8 in
                guard let base = utf8.baseAddress, !utf8.isEmpty else {
                    // A nil pointer would bind NULL; "" must stay the empty string.
                    return "".withCString { sqlite3_bind_text(statement, index, $0, 0, sqliteTransient) }
                }
                let chars = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
                return sqlite3_bind_text(statement, index, chars, Int32(utf8.count), sqliteTransient)
            }
        case .blob(let bytes):
            // A zero-length blob must not bind as NULL, which a nil base address would do.
            if bytes.isEmpty { return sqlite3_bind_zeroblob(statement, index, 0) }
            return bytes.withUnsafeBytes {
                sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), sqliteTransient)
            }
        }
    }
}

/// The current row of a stepping statement. Valid only inside the closure it is
/// passed to; columns are numbered from 0 in the order of the SELECT list.
public struct Row {
    let statement: OpaquePointer

    /// Whether the column is SQL NULL.
    public func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(statement, column) == SQLITE_NULL
    }
    /// The column as an integer (0 for NULL).
    public func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(statement, column)
    }
    /// The column as an integer, or nil for NULL.
    public func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }
    /// The column as `Int`.
    public func int(_ column: Int32) -> Int {
        Int(int64(column))
    }
    /// A 0/1 column as a Boolean.
    public func bool(_ column: Int32) -> Bool {
        int64(column) != 0
    }
    /// The column as a floating-point number.
    public func double(_ column: Int32) -> Double {
        sqlite3_column_double(statement, column)
    }
    /// The column as UTF-8 text ("" for NULL).
    public func text(_ column: Int32) -> String {
        optionalText(column) ?? ""
    }
    /// The column as UTF-8 text, or nil for NULL.
    public func optionalText(_ column: Int32) -> String? {
        guard let chars = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: chars, count: count), as: UTF8.self)
    }
    /// The column as bytes (empty for NULL).
    public func blob(_ column: Int32) -> [UInt8] {
        // sqlite3_column_blob before sqlite3_column_bytes, as SQLite's docs require.
        guard let base = sqlite3_column_blob(statement, column) else { return [] }
        let count = Int(sqlite3_column_bytes(statement, column))
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}
