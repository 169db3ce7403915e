import ArgumentParser
import Foundation
import Storage

/// `presencectl db …`
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Run the migrations; check the database.",
        subcommands: [Migrate.self, Check.self])

    /// `presencectl db migrate`
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring the schema to this build's version (creates the database if missing).")

        @OptionGroup var data: DataDirectory

        func run() throws {
            let location = try data.location()
            if case .sqlite = location {
                try FileManager.default.createDirectory(atPath: data.dataDir, withIntermediateDirectories: true)
            }
            let database = try Database(location: location, migrate: false)
            let before = try Schema.version(of: database)
            try Schema.migrate(database)
            let after = try Schema.version(of: database)
            print(before == after ? "schema already at version \(after)" : "schema migrated from version \(before) to \(after)")
        }
    }

    /// `presencectl db check`
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the schema version, SQLite's integrity and the foreign keys (PostgreSQL: the version); exits 1 on any problem.")

        @OptionGroup var data: DataDirectory

        func run() throws {
            let database = try data.openExisting()
            var problems: [String] = []
            let version = try Schema.version(of: database)
            if version < Schema.currentVersion {
                problems.append("schema version \(version) is older than this build's \(Schema.currentVersion): run presencectl db migrate")
            } else if version > Schema.currentVersion {
                problems.append("schema version \(version) is newer than this build's \(Schema.currentVersion)")
            }
            problems += try Schema.integrityProblems(of: database)
            for problem in problems { print(problem) }
            guard problems.isEmpty else { throw AdminError.unsound(problems: problems.count) }
            let accounts = try database.queryFirst("SELECT count(*) FROM accounts") { $0.int(0) } ?? 0
            print("ok: schema version \(version), integrity and foreign keys sound, \(accounts) accounts")
        }
    }
}
