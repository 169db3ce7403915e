/// `presence`: everyone signs in once; each window flips statuses at the set rate and times
/// every arrival at every contact.
enum PresenceScenario {
    static func run(_ s: RunSettings, target: Target, plan: SessionPlan) throws(LoadTestError) -> (summary: TargetSummary, failures: [String]) {
        let o = try LoadRun.execute(s, role: .user, serverPID: target.pid, subprotocol: WireNames.subprotocol, session: plan)
        var failures = Verdict.sessions(o, "presence", expectedUsers: s.connections)
        let t = o.merged.session
        SessionReport.printSignIns(o)
        if t.windows.count < plan.windows { failures.append("presence: \(t.windows.count) of \(plan.windows) windows ran") }
        var runs: [RepeatFigures] = []
        for (k, w) in t.windows.enumerated() {
            var fig = SessionReport.baseFigures(o, w)
            fig.deliveriesPerSecond = w.seconds > 0 ? (Double(w.delivered) / w.seconds).rounded() : nil
            fig.messagesPerSecond = fig.deliveriesPerSecond
            fig.changes = w.changes
            fig.deliveriesExpected = w.expected
            fig.deliveriesArrived = w.delivered
            fig.skipped = w.skipped
            fig.lost = w.abandoned
            if w.changes == 0 { failures.append("presence window \(k + 1): no status change was sent") }
            runs.append(fig)
            print("  #\(k + 1): \(w.changes) changes → \(w.delivered)/\(w.expected) deliveries, \(f(fig.deliveriesPerSecond ?? 0)) deliveries/s  "
                  + "\(fig.latencyUs?.line ?? "")  skipped \(w.skipped), client \(f(fig.clientCpuCores ?? 0)) / server "
                  + "\(fig.serverCpuCores.map { f($0) } ?? "?") cores")
        }
        print("  unmatched presence events (sign-in announcements): \(t.unmatchedPresence), hidden violations: \(t.hiddenViolations)")
        return (TargetSummary(target, runs: runs), failures)
    }
}
