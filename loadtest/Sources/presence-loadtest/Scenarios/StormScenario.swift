/// `storm`: per repeat, everyone signs in at once with a device token, then everyone drops
/// and resumes at once; flippers change status on their way back.
enum StormScenario {
    static func run(_ s: RunSettings, target: Target, plan: SessionPlan, repeats: Int) throws(LoadTestError) -> (summary: TargetSummary, failures: [String]) {
        var runs: [RepeatFigures] = []
        var failures: [String] = []
        for r in 1...repeats {
            let o = try LoadRun.execute(s, role: .user, serverPID: target.pid, subprotocol: WireNames.subprotocol, session: plan)
            let t = o.merged.session
            let label = "storm repeat \(r)"
            failures += Verdict.sessions(o, label, expectedUsers: s.connections)
            if t.resumeRefused > 0 { failures.append("\(label): \(t.resumeRefused) resumes refused (the session was gone or behind)") }
            if t.resumed < t.signedIn - t.resumeRefused { failures.append("\(label): \(t.resumed) of \(t.signedIn) sessions resumed") }
            var fig = RepeatFigures()
            fig.connections = o.merged.opened
            fig.signedIn = t.signedIn
            fig.resumed = t.resumed
            let m = o.merged
            fig.signInSeconds = t.signInFinished > m.connectStarted ? ((Double(t.signInFinished - m.connectStarted) / 1e6).rounded() / 1000) : nil
            fig.resumeSeconds = t.resumeFinished > t.resumeStarted ? ((Double(t.resumeFinished - t.resumeStarted) / 1e6).rounded() / 1000) : nil
            fig.connectionsPerSecond = fig.signInSeconds.map { (Double(t.signedIn) / $0).rounded() }
            fig.signInLatencyUs = LatencySummary(t.signInLatency)
            fig.resumeLatencyUs = LatencySummary(t.resumeLatency)
            if let w = t.windows.first {
                fig.changes = w.changes
                fig.deliveriesExpected = w.expected
                fig.deliveriesArrived = w.delivered
                fig.lost = w.abandoned
                fig.latencyUs = LatencySummary(w.latency)
            }
            fig.unmatchedPresence = t.unmatchedPresence
            runs.append(fig)
            print("  #\(r): \(t.signedIn)/\(s.connections) signed in within \(f(fig.signInSeconds ?? 0)) s, \(t.resumed) resumed within "
                  + "\(f(fig.resumeSeconds ?? 0)) s; \(fig.changes ?? 0) changes on the way back → \(fig.deliveriesArrived ?? 0)/\(fig.deliveriesExpected ?? 0) deliveries")
        }
        return (TargetSummary(target, runs: runs), failures)
    }
}
