/// `chat`: pairs send each other chats at the set rate; send → durable reply, send → delivery.
enum ChatScenario {
    static func run(_ s: RunSettings, target: Target, plan: SessionPlan) throws(LoadTestError) -> (summary: TargetSummary, failures: [String]) {
        let o = try LoadRun.execute(s, role: .user, serverPID: target.pid, subprotocol: WireNames.subprotocol, session: plan)
        var failures = Verdict.sessions(o, "chat", expectedUsers: s.connections)
        let t = o.merged.session
        SessionReport.printSignIns(o)
        if t.windows.count < plan.windows { failures.append("chat: \(t.windows.count) of \(plan.windows) windows ran") }
        var runs: [RepeatFigures] = []
        for (k, w) in t.windows.enumerated() {
            var fig = SessionReport.baseFigures(o, w)
            fig.messagesPerSecond = w.seconds > 0 ? (Double(w.replies) / w.seconds).rounded() : nil
            fig.deliveriesPerSecond = w.seconds > 0 ? (Double(w.delivered) / w.seconds).rounded() : nil
            fig.deliveryLatencyUs = LatencySummary(w.deliveryLatency)
            fig.sent = UInt64(w.messages)
            fig.answered = UInt64(w.replies)
            fig.deliveriesArrived = w.delivered
            fig.skipped = w.skipped
            fig.lost = w.abandoned
            fig.storedReceipts = w.storedReceipts
            if w.messages == 0 { failures.append("chat window \(k + 1): no message was sent") }
            runs.append(fig)
            print("  #\(k + 1): \(w.messages) sent, \(w.replies) committed, \(w.delivered) delivered, \(f(fig.messagesPerSecond ?? 0)) msg/s; "
                  + "reply \(fig.latencyUs?.line ?? "")")
            print("       delivery \(fig.deliveryLatencyUs?.line ?? "")  skipped \(w.skipped), client \(f(fig.clientCpuCores ?? 0)) / server "
                  + "\(fig.serverCpuCores.map { f($0) } ?? "?") cores")
        }
        if t.backlogChats > 0 { print("  backlog chats from earlier runs delivered at sign-in: \(t.backlogChats)") }
        return (TargetSummary(target, runs: runs), failures)
    }
}
