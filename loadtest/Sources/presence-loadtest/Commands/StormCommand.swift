import ArgumentParser

struct StormCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storm",
        abstract: "U users with device tokens sign in all at once, then drop and resume all at once; times both, and checks no event is lost.",
        discussion: """
            Needs users from `presencectl seed-load` (--tokens). Each repeat: (1) every user \
            connects and signs in with its device token at once, as after a gateway restart \
            (time to the last snapshot); (2) every connection is reset at once and comes back \
            with `resume` (resumeToken from the sign-in reply, lastSeq) inside the server's \
            30 s grace period (time to the last resume reply); as soon as a flipper is back it \
            changes status, so contacts still away must get that event in their replay. \
            Correctness: everyone signed in and resumed, every change reached every contact, \
            seq consecutive across the resume. Sessions of a repeat stay in their grace period \
            on the server for 30 s after it.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var session: SessionOptions

    @Option(help: "Users (the first U of the token file; default: all).")
    var users: Int?

    @Option(help: "Fraction of the visible users that change status as soon as they have resumed.")
    var flipFraction = 0.1

    @Option(help: "Seconds between the sign-in storm and the drop.")
    var settle = 1.5

    @Option(help: "Seconds after the last resume for the flippers' changes to arrive.")
    var drain = 10.0

    func validate() throws {
        try common.validateSignedIn("storm")
        guard (0...1).contains(flipFraction) else { throw ValidationError("--flip-fraction must be 0...1") }
        guard settle >= 0 && settle <= 60, drain > 0 && drain <= 120 else { throw ValidationError("--settle [0, 60], --drain (0, 120]") }
    }

    func run() throws {
        let loadUsers = try session.loadUsers(for: "storm")
        let count = min(users ?? loadUsers.count, loadUsers.count)
        let targets = try common.targets()
        try common.prepareDescriptors(for: count, targets: targets)
        var s = try common.settings(connections: count)
        s.drainSeconds = drain
        var plan = SessionPlan(workload: .storm, users: loadUsers)
        plan.flippers = SessionOptions.flippers(loadUsers, count: count, fraction: flipFraction, seed: common.seed)
        plan.settleNanos = MonotonicClock.seconds(settle)
        plan.serverPID = common.serverPid
        print("storm: \(count) users sign in at once, drop and resume at once; \(plan.flippers.count) flippers; \(common.repeats) repeats, "
              + "\(common.connectConcurrency) connects in flight")
        let (summary, failures) = try StormScenario.run(s, target: targets[0], plan: plan, repeats: common.repeats)
        var p = common.parameters(s)
        p.users = count; p.flipFraction = flipFraction; p.drainSeconds = drain; p.settleSeconds = settle
        let report = Report(scenario: "storm", settings: s, repeats: common.repeats, parameters: p,
                            gateway: summary, peer: nil, failures: failures)
        print("median: fresh sign-in of all \(count) in \(f(summary.signInSeconds ?? 0)) s, resume of all in \(f(summary.resumeSeconds ?? 0)) s")
        print("        per user: sign-in \(summary.signInLatencyUs?.line ?? "")")
        print("                  resume  \(summary.resumeLatencyUs?.line ?? "")")
        try common.finish(report)
    }
}
