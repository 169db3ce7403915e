// presencectl: offline administration of a presenced data directory. Run it while the
// server is stopped: SQLite in WAL mode takes one writer, and the server caches what it
// loaded at sign-in.
import ArgumentParser

/// The root command; one subcommand per task.
struct Presencectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presencectl",
        abstract: "Offline administration of a presenced data directory (run it while presenced is stopped).",
        subcommands: [UsersCommand.self, DatabaseCommand.self, SeedLoadCommand.self])
}

Presencectl.main()
