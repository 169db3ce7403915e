import ArgumentParser

struct IdleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Open N idle connections; the server's VmRSS per connection and the time to connect.",
        discussion: """
            Bytes per connection = (server VmRSS with the N connections open − its VmRSS when this \
            invocation started) / N, so start from a freshly started server. \
            With --signed-in (URL ws://…/ws, users from presencectl seed-load via --tokens) \
            connection i signs in as user i with its device token and acknowledges its \
            snapshot; the figure is then per signed-in session. Use --repeats 1 there: the \
            sessions of a repeat stay on the server for its 30 s grace period. \
            Signed-in sessions acknowledge every event they receive at once \
            (--acknowledge-every 1): a session at rest is one whose client has \
            acknowledged everything, as every client does within one heartbeat interval, so \
            the figure is what an idle session holds, not the contacts' sign-in events still \
            waiting in its replay ring. Give --acknowledge-every 128 (the other scenarios' \
            value) to see the ring's share.
            """)

    @OptionGroup var common: CommonOptions

    @OptionGroup var session: SessionOptions

    @Option(help: "Idle connections.")
    var connections = 10_000

    @Flag(help: "Sign every connection in over presence.v1 (needs --tokens and a /ws URL).")
    var signedIn = false

    @Option(help: "With --signed-in: connection i signs in as user K + i of the token file (client processes that share one seeded population take disjoint ranges; only their token lines are rewritten).")
    var firstUser = 0

    @Option(help: "Signed-in sessions acknowledge (a heartbeat with their last seq) once this many events are unacknowledged.")
    var acknowledgeEvery: UInt64 = 1

    @Option(help: "Seconds between the last connection opening and the server's memory being read. presenced's storage writer gives its page cache back after 10 s without work and freed heap goes back to the kernel every 10 s, so give 35 for its at-rest figure (a shrink at 10 s idle, then a trim within 10 s more).")
    var settle = IdleScenario.defaultSettleSeconds

    @Flag(help: "Also read the server's smaps_rollup and, through gdb -p, its mallinfo2() before and with the connections open (repeat 1): live heap and RSS per connection.")
    var serverHeap = false

    func validate() throws {
        if serverHeap && common.serverPid == nil { throw ValidationError("--server-heap needs --server-pid") }
        guard (1...1_000_000).contains(connections) else { throw ValidationError("--connections must be 1...1000000") }
        if signedIn { try common.validateSignedIn("idle --signed-in") }
        guard firstUser >= 0 else { throw ValidationError("--first-user must be at least 0") }
        if firstUser > 0 && !signedIn { throw ValidationError("--first-user applies to --signed-in") }
    }

    func run() throws {
        let targets = try common.targets()
        try common.prepareDescriptors(for: connections, targets: targets)
        let s = try common.settings(connections: connections)
        var plan: SessionPlan?
        if signedIn {
            let users = try session.loadUsers(for: "idle --signed-in")
            guard firstUser + connections <= users.count else {
                throw ValidationError("--first-user \(firstUser) --connections \(connections): the token file has \(users.count) users")
            }
            if firstUser > 0 || connections < users.count { users.signedRange = firstUser..<(firstUser + connections) }
            plan = SessionPlan(workload: .hold, users: users)
            plan?.firstUser = firstUser
            plan?.acknowledgeEvery = max(1, acknowledgeEvery)
        }
        print("idle: \(connections)\(signedIn ? " signed-in" : "")\(firstUser > 0 ? " (users from \(firstUser))" : "") connections × \(common.repeats), \(signedIn ? 1 : common.threads) client thread(s), "
              + "\(s.connectionsPerSourceAddress) per source address")
        let (summaries, failures, memory) = try IdleScenario.run(s, targets: targets, repeats: common.repeats, session: plan,
                                                                 readsHeap: serverHeap, settleSeconds: max(0, settle))
        var p = common.parameters(s)
        if signedIn { p.users = connections; p.signedIn = true }
        p.serverMallocArenaMax = common.serverPid.flatMap { ServerMemory.mallocArenaMax(pid: $0) }
        var report = Report(scenario: "idle", settings: s, repeats: common.repeats, parameters: p,
                            gateway: summaries[0], peer: summaries.count > 1 ? summaries[1] : nil, failures: failures)
        report.serverMemory = memory
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
