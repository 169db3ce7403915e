/// Where the gateway's durable state lives: one of the two storage backends.
public enum StorageLocation: Sendable, Equatable, CustomStringConvertible {
    /// A SQLite file (the single-node default, no other service).
    case sqlite(path: String)
    /// A PostgreSQL database, as a libpq connection URI
    /// (`postgresql://USER@HOST:PORT/DB`, with libpq's query parameters if needed).
    case postgres(url: String)

    /// The location a `--database-url` value names.
    /// - Throws: `StorageError.invalidLocation` unless it is a `postgresql://` or `postgres://` URI.
    public init(databaseURL: String) throws {
        guard Self.isPostgresURL(databaseURL) else {
            throw StorageError.invalidLocation(databaseURL, reason: "must start with postgresql:// (or postgres://)")
        }
        self = .postgres(url: databaseURL)
    }

    /// Whether the text is a URI libpq takes (the two schemes it documents).
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// The engine behind the location.
    public var engine: StorageEngine {
        switch self {
        case .sqlite: return .sqlite
        case .postgres: return .postgres
        }
    }

    /// The path, or the URL with any password replaced by `***`: safe for logs and errors.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url): return Self.redacted(url)
        }
    }

    /// `scheme://user:secret@host` → `scheme://user:***@host`; a password in the query
    /// string (`password=`) is cut the same way.
    static func redacted(_ url: String) -> String {
        var text = url
        if let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].firstIndex(of: "@") {
            let userInfo = text[schemeEnd.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        if let password = text.range(of: "password=") {
            let end = text[password.upperBound...].firstIndex(of: "&") ?? text.endIndex
            text.replaceSubrange(password.upperBound..<end, with: "***")
        }
        return text
    }
}

/// The two storage engines; the SQL a repository sends differs only where their dialects do.
public enum StorageEngine: String, Sendable, CaseIterable {
    case sqlite
    case postgres
}
