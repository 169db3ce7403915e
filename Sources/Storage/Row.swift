import CPostgres
import CSQLite

/// The current row of a query. Valid only inside the closure it is passed to; columns
/// are numbered from 0 in the order of the SELECT list.
///
/// PostgreSQL rows arrive in libpq's text format (one format for every column keeps the
/// reading side free of type OIDs): integers and floats parse from their decimal text,
/// booleans from `t`/`f`, and `bytea` from its `\x` hex form.
public struct Row {
    enum Source {
        /// A stepping SQLite statement.
        case sqlite(OpaquePointer)
        /// Row `row` of a libpq result.
        case postgres(result: OpaquePointer, row: Int32)
    }

    let source: Source

    /// Whether the column is SQL NULL.
    public func isNull(_ column: Int32) -> Bool {
        switch source {
        case .sqlite(let statement): return sqlite3_column_type(statement, column) == SQLITE_NULL
        case .postgres(let result, let row): return PQgetisnull(result, row, column) == 1
        }
    }
    /// The column as an integer (0 for NULL).
    public func int64(_ column: Int32) -> Int64 {
        switch source {
        case .sqlite(let statement):
            return sqlite3_column_int64(statement, column)
        case .postgres:
            guard let text = optionalText(column) else { return 0 }
            if let value = Int64(text) { return value }
            if text == "t" { return 1 }
            if text == "f" { return 0 }
            return Double(text).map { Int64(exactly: $0.rounded(.towardZero)) ?? 0 } ?? 0
        }
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
        switch source {
        case .sqlite(let statement): return sqlite3_column_double(statement, column)
        case .postgres: return optionalText(column).flatMap(Double.init) ?? 0
        }
    }
    /// The column as UTF-8 text ("" for NULL).
    public func text(_ column: Int32) -> String {
        optionalText(column) ?? ""
    }
    /// The column as UTF-8 text, or nil for NULL.
    public func optionalText(_ column: Int32) -> String? {
        switch source {
        case .sqlite(let statement):
            guard let chars = sqlite3_column_text(statement, column) else { return nil }
            let count = Int(sqlite3_column_bytes(statement, column))
            return String(decoding: UnsafeBufferPointer(start: chars, count: count), as: UTF8.self)
        case .postgres(let result, let row):
            guard PQgetisnull(result, row, column) == 0, let chars = PQgetvalue(result, row, column) else { return nil }
            let count = Int(PQgetlength(result, row, column))
            return chars.withMemoryRebound(to: UInt8.self, capacity: count) {
                String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
            }
        }
    }
    /// The column as bytes (empty for NULL).
    public func blob(_ column: Int32) -> [UInt8] {
        switch source {
        case .sqlite(let statement):
            // sqlite3_column_blob before sqlite3_column_bytes, as SQLite's docs require.
            guard let base = sqlite3_column_blob(statement, column) else { return [] }
            let count = Int(sqlite3_column_bytes(statement, column))
            return Array(UnsafeRawBufferPointer(start: base, count: count))
        case .postgres(let result, let row):
            guard PQgetisnull(result, row, column) == 0, let chars = PQgetvalue(result, row, column) else { return [] }
            let count = Int(PQgetlength(result, row, column))
            return chars.withMemoryRebound(to: UInt8.self, capacity: count) {
                Self.decodeHexBytea(UnsafeBufferPointer(start: $0, count: count))
            }
        }
    }

    /// `bytea`'s text output (`bytea_output = hex`, the default since 9.0): `\x` then two
    /// hex digits per byte. The connection sets the format, so no escape form reaches here.
    static func decodeHexBytea(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else { return Array(text) }
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return c &- UInt8(ascii: "A") &+ 10
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index + 1 < text.count {
            bytes.append(nibble(text[index]) << 4 | nibble(text[index + 1]))
            index += 2
        }
        return bytes
    }
}
