import ArgumentParser

struct PresenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence",
        abstract: "U signed-in users with C contacts each; flippers change status at a set rate; every arrival at every contact is timed.",
        discussion: """
            Needs users from `presencectl seed-load` (--tokens). Every user signs in with its \
            device token (the rotated tokens are written back), then --repeats measured \
            windows run on those sessions: a seeded --flip-fraction of the visible users \
            alternates online/busy, --changes-per-second in all, round robin; a flipper whose \
            previous change has not reached every contact yet skips its turn. Latency is \
            setStatus sent → the presence event read at each contact. Correctness: every change \
            reaches every contact with a session, events arrive with consecutive seq, nobody \
            hears of a hidden user or of a non-contact. Start presenced with --debounce-ms 0 \
            to measure fan-out instead of the 1 s debounce window.

            --find-knee steps the rate instead (one window per step, starting at \
            --changes-per-second): doubling while a step passes, halving while it fails, \
            then bisecting between the highest pass and the lowest fail, at most \
            --knee-max-steps steps and --knee-max-seconds in all. A step passes when its \
            change → contact p99 is at most --p99-limit-ms, every delivery arrived within \
            --drain and at most 5 % of the due changes were skipped; a failing window is run \
            again --knee-retries times at the same rate, and the rate fails only if all did. The knee is the passing \
            step with the most deliveries/s (the top-level figures of the JSON; every step is \
            under "knee"). --repeats does not apply.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var session: SessionOptions

    @Option(help: "Users to sign in (the first U of the token file from --first-user; default: all the rest).")
    var users: Int?

    @Option(help: "Connection i signs in as user K + i of the token file: client processes that share one seeded population (a cluster run) take disjoint ranges. Contacts outside this run's users get no expectations; only this run's token lines are rewritten.")
    var firstUser = 0

    @Option(help: "Fraction of the visible users that change status.")
    var flipFraction = 0.1

    @Option(help: "Status changes per second, all flippers together.")
    var changesPerSecond = 500.0

    @Option(help: "Measured seconds per window (one window per repeat).")
    var seconds = 5.0

    @Option(help: "Seconds of changes before each measured window.")
    var warmup = 1.0

    @Option(help: "Seconds after a window for the last deliveries; what has not arrived then is lost.")
    var drain = 5.0

    @Option(help: "Seconds after everyone signed in before the first window (covers the server's debounce).")
    var settle = 1.5

    @Flag(help: "Step --changes-per-second to find the highest deliveries/s whose p99 stays under --p99-limit-ms.")
    var findKnee = false

    @Option(help: "With --find-knee: the change → contact p99 a step may reach and pass, in ms.")
    var p99LimitMs = 5.0

    @Option(help: "With --find-knee: the most steps.")
    var kneeMaxSteps = 10

    @Option(help: "With --find-knee: windows run again at a failing rate before it counts as failed.")
    var kneeRetries = 1

    @Option(help: "With --find-knee: no step starts after this many seconds of steps.")
    var kneeMaxSeconds = 120.0

    func validate() throws {
        try common.validateSignedIn("presence")
        guard p99LimitMs > 0 && p99LimitMs <= 60_000, (1...50).contains(kneeMaxSteps), (0...5).contains(kneeRetries), kneeMaxSeconds > 0 && kneeMaxSeconds <= 1800 else {
            throw ValidationError("--p99-limit-ms (0, 60000], --knee-max-steps 1...50, --knee-retries 0...5, --knee-max-seconds (0, 1800]")
        }
        guard firstUser >= 0 else { throw ValidationError("--first-user must be at least 0") }
        guard (0...1).contains(flipFraction) else { throw ValidationError("--flip-fraction must be 0...1") }
        guard changesPerSecond > 0 && changesPerSecond <= 1_000_000 else { throw ValidationError("--changes-per-second must be in (0, 1000000]") }
        guard seconds > 0 && seconds <= 600, warmup >= 0 && warmup <= 60, drain > 0 && drain <= 120, settle >= 0 && settle <= 60 else {
            throw ValidationError("--seconds (0, 600], --warmup [0, 60], --drain (0, 120], --settle [0, 60]")
        }
    }

    func run() throws {
        let loadUsers = try session.loadUsers(for: "presence")
        guard firstUser < loadUsers.count else { throw ValidationError("--first-user \(firstUser): the token file has \(loadUsers.count) users") }
        let count = min(users ?? loadUsers.count - firstUser, loadUsers.count - firstUser)
        if firstUser > 0 || count < loadUsers.count { loadUsers.signedRange = firstUser..<(firstUser + count) }
        let targets = try common.targets()
        try common.prepareDescriptors(for: count, targets: targets)
        var s = try common.settings(connections: count, seconds: seconds, warmup: warmup)
        s.drainSeconds = drain
        var plan = SessionPlan(workload: .presence, users: loadUsers)
        plan.firstUser = firstUser
        plan.flippers = SessionOptions.flippers(loadUsers, count: count, fraction: flipFraction, seed: common.seed, firstUser: firstUser)
        plan.changesPerSecond = changesPerSecond
        plan.windows = common.repeats
        plan.settleNanos = MonotonicClock.seconds(settle)
        plan.serverPID = common.serverPid
        if findKnee {
            var search = KneeSearch(startRate: changesPerSecond, p99LimitMicros: p99LimitMs * 1000)
            search.maxSteps = kneeMaxSteps
            search.retries = kneeRetries
            plan.knee = search
            plan.kneeSeconds = kneeMaxSeconds
        }
        let hidden = (0..<count).filter { loadUsers.isHidden[firstUser + $0] }.count
        print("presence: \(count) users\(firstUser > 0 ? " from user \(firstUser)" : "") (\(hidden) hidden), \(plan.flippers.count) flippers, \(f(changesPerSecond)) changes/s, "
              + (findKnee ? "start of a knee search for p99 ≤ \(f(p99LimitMs)) ms, \(f(seconds)) s per step, at most \(kneeMaxSteps) steps / \(f(kneeMaxSeconds)) s"
                 : "\(f(seconds)) s × \(common.repeats) windows on one set of sessions"))
        let (summary, failures, knee) = try PresenceScenario.run(s, target: targets[0], plan: plan)
        var p = common.parameters(s)
        p.warmupSeconds = warmup
        p.users = count; p.flipFraction = flipFraction; p.changesPerSecond = changesPerSecond; p.hiddenUsers = hidden
        p.drainSeconds = drain; p.settleSeconds = settle
        var report = Report(scenario: "presence", settings: s, repeats: findKnee ? 1 : common.repeats, parameters: p,
                            gateway: summary, peer: nil, failures: failures)
        report.knee = knee
        print((findKnee ? "knee:   " : "median: ") + "\(f(summary.deliveriesPerSecond ?? 0)) deliveries/s, change → arrival \(summary.latencyUs?.line ?? "")")
        print("        CPU: client \(f(summary.clientCpuCores ?? 0)) cores, server \(summary.serverCpuCores.map { f($0) } ?? "? (give --server-pid)") cores")
        try common.finish(report)
    }
}
