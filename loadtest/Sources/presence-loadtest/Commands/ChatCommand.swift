import ArgumentParser

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "P pairs of signed-in users send each other chats at a set rate; send → durable reply and send → delivery.",
        discussion: """
            Needs users from `presencectl seed-load` (--tokens): users 2k and 2k+1 are always \
            contacts there. Both users of each pair send, round robin, --messages-per-second in \
            all. The reply to `send` comes after the SQLite commit (synchronous=FULL, group \
            commit), so send → reply is the durable acknowledgement; send → delivery is until \
            the `chat` event is read at the partner. --repeats measured windows run on one set \
            of sessions. Correctness: every send is answered and delivered exactly once, seq \
            consecutive.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var session: SessionOptions

    @Option(help: "Pairs of users (users 0 ... 2P-1 sign in).")
    var pairs = 500

    @Option(help: "Messages per second, all senders together.")
    var messagesPerSecond = 2000.0

    @Option(help: "Bytes of each chat body.")
    var bodySize = 64

    @Option(help: "Measured seconds per window (one window per repeat).")
    var seconds = 5.0

    @Option(help: "Seconds of sends before each measured window.")
    var warmup = 1.0

    @Option(help: "Seconds after a window for the last replies and deliveries; what has not arrived then is lost.")
    var drain = 5.0

    @Option(help: "Seconds after everyone signed in before the first window.")
    var settle = 0.5

    func validate() throws {
        try common.validateSignedIn("chat")
        guard pairs >= 1 else { throw ValidationError("--pairs must be at least 1") }
        guard messagesPerSecond > 0 && messagesPerSecond <= 1_000_000 else { throw ValidationError("--messages-per-second must be in (0, 1000000]") }
        guard (1...16_384).contains(bodySize) else { throw ValidationError("--body-size must be 1...16384 (the server's limit)") }
        guard seconds > 0 && seconds <= 600, warmup >= 0 && warmup <= 60, drain > 0 && drain <= 120, settle >= 0 && settle <= 60 else {
            throw ValidationError("--seconds (0, 600], --warmup [0, 60], --drain (0, 120], --settle [0, 60]")
        }
    }

    func run() throws {
        let loadUsers = try session.loadUsers(for: "chat")
        let count = 2 * pairs
        guard count <= loadUsers.count else { throw ValidationError("--pairs \(pairs) needs \(count) users; the token file has \(loadUsers.count)") }
        for k in 0..<pairs where !loadUsers.areContacts(2 * k, 2 * k + 1) {
            throw ValidationError("users \(2 * k) and \(2 * k + 1) are not contacts in the graph file; seed with presencectl seed-load")
        }
        let targets = try common.targets()
        try common.prepareDescriptors(for: count, targets: targets)
        var s = try common.settings(connections: count, seconds: seconds, warmup: warmup)
        s.drainSeconds = drain
        var plan = SessionPlan(workload: .chat, users: loadUsers)
        plan.messagesPerSecond = messagesPerSecond
        var filler = SeededGenerator(seed: common.seed ^ 0xB0D7)
        let letters = Array("abcdefghijklmnopqrstuvwxyz ".utf8)
        plan.chatBody = (0..<bodySize).map { _ in letters[Int(filler.next() % UInt64(letters.count))] }
        plan.windows = common.repeats
        plan.settleNanos = MonotonicClock.seconds(settle)
        plan.runNonce = SessionOptions.runNonce()
        plan.serverPID = common.serverPid
        print("chat: \(pairs) pairs (\(count) users), \(f(messagesPerSecond)) messages/s, \(bodySize) B bodies, "
              + "\(f(seconds)) s × \(common.repeats) windows on one set of sessions")
        let (summary, failures) = try ChatScenario.run(s, target: targets[0], plan: plan)
        var p = common.parameters(s)
        p.warmupSeconds = warmup
        p.users = count; p.messagesPerSecondTarget = messagesPerSecond; p.payloadSize = bodySize
        p.drainSeconds = drain; p.settleSeconds = settle
        let report = Report(scenario: "chat", settings: s, repeats: common.repeats, parameters: p,
                            gateway: summary, peer: nil, failures: failures)
        print("median: \(f(summary.messagesPerSecond ?? 0)) msg/s committed; send → reply \(summary.latencyUs?.line ?? "")")
        print("        send → delivery \(summary.deliveryLatencyUs?.line ?? "")")
        print("        CPU: client \(f(summary.clientCpuCores ?? 0)) cores, server \(summary.serverCpuCores.map { f($0) } ?? "? (give --server-pid)") cores")
        try common.finish(report)
    }
}
