// presencectl: administration of presenced. `users`, `db` and `seed-load` work on the
// data directory offline (run them while the server is stopped: SQLite in WAL mode takes
// one writer, and the server caches what it loaded at sign-in); `sessions` and `presence`
// ask a running server through its token-protected /admin endpoints.
import ArgumentParser

/// The root command; one subcommand per task.
struct Presencectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presencectl",
        abstract: "Administration of presenced: its data directory (offline) and a running server (sessions, presence).",
        subcommands: [UsersCommand.self, DatabaseCommand.self, SessionsCommand.self, PresenceCommand.self, SeedLoadCommand.self])
}

Presencectl.main()
