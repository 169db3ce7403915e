/// `presence`: everyone signs in once; each window flips statuses at the set rate and times
/// every arrival at every contact. With a knee search (`plan.knee`) the windows are its
/// steps, each at the rate the search chose.
enum PresenceScenario {
    static func run(_ s: RunSettings, target: Target, plan: SessionPlan)
        throws(LoadTestError) -> (summary: TargetSummary, failures: [String], knee: KneeReport?) {
        let o = try LoadRun.execute(s, role: .user, serverPID: target.pid, subprotocol: WireNames.subprotocol, session: plan)
        var failures = Verdict.sessions(o, "presence", expectedUsers: s.connections, lateIsLost: plan.knee == nil)
        let t = o.merged.session
        SessionReport.printSignIns(o)
        if plan.knee == nil && t.windows.count < plan.windows { failures.append("presence: \(t.windows.count) of \(plan.windows) windows ran") }
        if plan.knee != nil && t.windows.isEmpty { failures.append("presence: the knee search ran no step") }
        var runs: [RepeatFigures] = []
        var steps: [KneeReport.Step] = []
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
            if let passed = w.kneePassed, let latency = fig.latencyUs {
                steps.append(KneeReport.Step(
                    changesPerSecond: w.offeredRate, deliveriesPerSecond: fig.deliveriesPerSecond ?? 0, latencyUs: latency,
                    changes: w.changes, skipped: w.skipped, late: w.abandoned,
                    clientCpuCores: fig.clientCpuCores, serverCpuCores: fig.serverCpuCores, attempt: w.kneeAttempt, passed: passed))
            }
            print("  #\(k + 1): \(f(w.offeredRate)) changes/s: \(w.changes) changes → \(w.delivered)/\(w.expected) deliveries, "
                  + "\(f(fig.deliveriesPerSecond ?? 0)) deliveries/s  \(fig.latencyUs?.line ?? "")  skipped \(w.skipped), "
                  + (plan.knee == nil ? "" : "late \(w.abandoned), \(w.kneePassed == true ? "pass" : "fail"), ")
                  + "client \(f(fig.clientCpuCores ?? 0)) / server \(fig.serverCpuCores.map { f($0) } ?? "?") cores")
        }
        print("  unmatched presence events (sign-in announcements, late deliveries): \(t.unmatchedPresence), hidden violations: \(t.hiddenViolations)")
        guard let search = plan.knee else { return (TargetSummary(target, runs: runs), failures, nil) }
        let knee = KneeReport(p99LimitMs: search.p99LimitMicros / 1000, maxSkippedFraction: search.maxSkippedFraction, steps: steps)
        knee.printTable()
        // The top-level figures are the knee step's; every step is in `knee.steps`.
        let kneeRuns = zip(runs, t.windows).filter { $0.1.kneePassed == true && $0.0.deliveriesPerSecond == knee.kneeDeliveriesPerSecond }
        return (TargetSummary(target, runs: kneeRuns.prefix(1).map(\.0)), failures, knee)
    }
}
