import Foundation
import Storage
import Synchronization

/// The engine the storage-touching suites (StorageTests, AccountsTests) run on in this
/// test process, and a fresh database for each test on it.
///
/// SQLite unless `PRESENCE_TEST_STORAGE=postgres`, which scripts/postgres.sh sets for its
/// second pass over the same suites, together with `PRESENCE_TEST_DATABASE_URL` (a
/// private server it started). On PostgreSQL each SQLite path a test names maps to its
/// own new schema in that database (found through `search_path`), so tests stay
/// isolated however they run in parallel, and naming the same path again reopens the
/// same schema, as reopening the same file does.
public enum TestStorage {
    /// The engine of this process's storage tests.
    public static var engine: StorageEngine {
        ProcessInfo.processInfo.environment["PRESENCE_TEST_STORAGE"] == "postgres" ? .postgres : .sqlite
    }

    /// The private test server's URL, when a wrapper started one.
    public static var databaseURL: String? {
        ProcessInfo.processInfo.environment["PRESENCE_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private static let schemas = Mutex<[String: StorageLocation]>([:])

    /// Where a test's database lives on this run's engine: the SQLite file at
    /// `sqlitePath`, or the PostgreSQL schema standing for it.
    /// - Throws: `TestStorageError.noDatabaseURL` when PostgreSQL was asked for without a URL.
    public static func location(_ sqlitePath: String) throws -> StorageLocation {
        guard engine == .postgres else { return .sqlite(path: sqlitePath) }
        if let known = schemas.withLock({ $0[sqlitePath] }) { return known }
        let location = try freshPostgresSchema()
        schemas.withLock { $0[sqlitePath] = location }
        return location
    }

    /// A new empty schema in the test database, as a location whose connections use it.
    /// - Throws: when `PRESENCE_TEST_DATABASE_URL` is unset or the server is unreachable.
    public static func freshPostgresSchema() throws -> StorageLocation {
        guard let url = databaseURL else {
            throw TestStorageError.noDatabaseURL
        }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try Database(location: .postgres(url: url), migrate: false)
        try admin.executeScript("CREATE SCHEMA \(name)")
        let separator = url.contains("?") ? "&" : "?"
        return .postgres(url: url + separator + "options=-c%20search_path%3D\(name)")
    }
}

/// Why a storage test could not get its database.
public enum TestStorageError: Error, CustomStringConvertible {
    case noDatabaseURL

    public var description: String {
        "PRESENCE_TEST_STORAGE=postgres needs PRESENCE_TEST_DATABASE_URL (run the tests through scripts/postgres.sh)"
    }
}
