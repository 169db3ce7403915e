import ArgumentParser

/// The root command: one subcommand per scenario, plus `bench`.
struct PresenceLoadtest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence-loadtest",
        abstract: "Load scenarios and hot-path benchmarks for presence-gateway (loopback only).",
        discussion: """
            Every scenario runs --repeats times and reports medians. Exit status: 0 when every \
            run was correct, 2 when an echo or event was lost, a connection or sign-in failed, \
            or the slow client was not closed, 1 on a usage or setup error. presence, chat, \
            storm and idle --signed-in need users from `presencectl seed-load`.
            """,
        subcommands: [EchoCommand.self, IdleCommand.self, SlowCommand.self, PresenceCommand.self, ChatCommand.self, StormCommand.self,
                      LinkCommand.self, BenchCommand.self])
}
