import ArgumentParser
import Foundation
import Storage

/// `presencectl users …`
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Inspect accounts.",
        subcommands: [List.self])

    /// `presencectl users list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List accounts: ID, chosen status, accepted contacts, valid device tokens.")

        @Option(help: "The data directory (its presence.sqlite3).")
        var dataDir: String

        @Option(help: "Show at most this many accounts, in ID order.")
        var limit = 50

        func run() throws {
            let path = (dataDir as NSString).appendingPathComponent("presence.sqlite3")
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no database at \(path)") }
            let database = try Database(path: path, migrate: false)
            let total = try database.queryFirst("SELECT count(*) FROM accounts") { $0.int(0) } ?? 0
            let rows = try database.query(
                """
                SELECT a.id, a.chosen_status,
                  (SELECT count(*) FROM contacts c WHERE c.state = 'accepted' AND (c.account_a = a.id OR c.account_b = a.id)),
                  (SELECT count(*) FROM device_tokens t WHERE t.account_id = a.id AND t.revoked_at IS NULL)
                FROM accounts a ORDER BY a.id LIMIT ?
                """, limit) { row in (row.text(0), row.text(1), row.int(2), row.int(3)) }
            print("account".padding(toLength: 36, withPad: " ", startingAt: 0) + " status   contacts  tokens")
            for (id, status, contacts, tokens) in rows {
                print(id.padding(toLength: 36, withPad: " ", startingAt: 0) + " " + status.padding(toLength: 8, withPad: " ", startingAt: 0)
                      + String(format: " %8d  %6d", contacts, tokens))
            }
            print("\(rows.count) of \(total) accounts")
        }
    }
}
