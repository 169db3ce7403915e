import ArgumentParser
import Foundation
import Storage

/// `--data-dir`, shared by the commands that work on a stopped server's data directory.
struct DataDirectory: ParsableArguments {
    @Option(help: "The data directory presenced uses (its presence.sqlite3). Default: $PRESENCE_DATA_DIR, else data.")
    var dataDir: String = ProcessInfo.processInfo.environment["PRESENCE_DATA_DIR"] ?? "data"

    var databasePath: String { (dataDir as NSString).appendingPathComponent("presence.sqlite3") }

    /// Opens the existing database as it is: no migration behind the operator's back
    /// (`db migrate` does that explicitly).
    func openExisting() throws -> Database {
        guard FileManager.default.fileExists(atPath: databasePath) else { throw AdminError.noDatabase(path: databasePath) }
        return try Database(path: databasePath, migrate: false)
    }

    /// Opens the database, creating and migrating it when it does not exist yet.
    func openOrCreate() throws -> Database {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        return try Database(path: databasePath)
    }
}
