import ArgumentParser
import Foundation
import Storage

/// `--data-dir` and `--database-url`, shared by the commands that work on a stopped
/// server's database: its SQLite file in the data directory, or the PostgreSQL database
/// presenced was started with.
struct DataDirectory: ParsableArguments {
    @Option(help: "The data directory presenced uses (its presence.sqlite3). Default: $PRESENCE_DATA_DIR, else data.")
    var dataDir: String = ProcessInfo.processInfo.environment["PRESENCE_DATA_DIR"] ?? "data"

    @Option(help: "The PostgreSQL database presenced uses (postgresql://USER@HOST:PORT/DB) instead of the data directory's SQLite file. Default: $PRESENCE_DATABASE_URL, else none (empty).")
    var databaseURL: String = ProcessInfo.processInfo.environment["PRESENCE_DATABASE_URL"] ?? ""

    var databasePath: String { (dataDir as NSString).appendingPathComponent("presence.sqlite3") }

    /// The PostgreSQL database when one is named, else the SQLite file.
    func location() throws -> StorageLocation {
        guard !databaseURL.isEmpty else { return .sqlite(path: databasePath) }
        return try StorageLocation(databaseURL: databaseURL)
    }

    /// Opens the existing database as it is: no migration behind the operator's back
    /// (`db migrate` does that explicitly).
    func openExisting() throws -> Database {
        let location = try location()
        if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
            throw AdminError.noDatabase(path: path)
        }
        return try Database(location: location, migrate: false)
    }

    /// Opens the database, creating and migrating it when it does not exist yet (a
    /// PostgreSQL database must exist; its tables are created).
    func openOrCreate() throws -> Database {
        let location = try location()
        if case .sqlite = location {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        }
        return try Database(location: location)
    }
}
