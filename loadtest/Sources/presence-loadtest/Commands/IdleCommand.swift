import ArgumentParser

struct IdleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Open N idle connections; the server's VmRSS per connection and the time to connect.",
        discussion: """
            Bytes per connection = (server VmRSS with the N connections open − its VmRSS when this \
            invocation started) / N, so start from a freshly started server.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Idle connections.")
    var connections = 10_000

    func validate() throws {
        guard (1...1_000_000).contains(connections) else { throw ValidationError("--connections must be 1...1000000") }
    }

    func run() throws {
        let targets = try common.targets()
        try common.prepareDescriptors(for: connections, targets: targets)
        let s = try common.settings(connections: connections)
        print("idle: \(connections) connections × \(common.repeats), \(common.threads) client thread(s), "
              + "\(s.connectionsPerSourceAddress) per source address")
        let (summaries, failures) = try IdleScenario.run(s, targets: targets, repeats: common.repeats)
        let report = Report(scenario: "idle", settings: s, repeats: common.repeats, parameters: common.parameters(s),
                            gateway: summaries[0], peer: summaries.count > 1 ? summaries[1] : nil, failures: failures)
        let g = summaries[0]
        print("median: server \(g.serverRssBytesPerConnection.map { f($0) } ?? "? (give --server-pid)") B/conn, "
              + "connected in \(f(g.connectSeconds ?? 0)) s (\(f(g.connectionsPerSecond ?? 0)) conn/s)")
        if let c = report.compare {
            print("peer:   server \(c.peer.serverRssBytesPerConnection.map { f($0) } ?? "?") B/conn, connected in \(f(c.peer.connectSeconds ?? 0)) s")
            print("ratio gateway/peer: B/conn ×\(c.ratio.serverRssBytesPerConnection.map { f($0) } ?? "?"), connect time ×\(c.ratio.connectSeconds.map { f($0) } ?? "?")")
        }
        try common.finish(report)
    }
}
