/// `echo`: N connections keep K messages in flight for a fixed time; messages per second
/// and the latency of every answer.
enum EchoScenario {
    static func run(_ settings: RunSettings, targets: [Target], repeats: Int) throws(LoadTestError) -> (summaries: [TargetSummary], failures: [String]) {
        var runs = Array(repeating: [RepeatFigures](), count: targets.count)
        var failures: [String] = []
        for r in 1...repeats {
            // Targets alternate inside each repeat, so drift on the machine hits both alike.
            for (t, target) in targets.enumerated() {
                var s = settings
                s.urls = target.urls
                let o = try LoadRun.execute(s, role: .echo, serverPID: target.pid)
                let figures = figures(o, settings: s)
                runs[t].append(figures)
                failures += Verdict.echoes(o, "\(target.label) repeat \(r)")
                print("  \(target.label) #\(r): \(f(figures.messagesPerSecond ?? 0)) msg/s  \(figures.latencyUs?.line ?? "")  "
                      + "client \(f(figures.clientCpuCores ?? 0)) cores, server \(figures.serverCpuCores.map { f($0) } ?? "?") cores")
            }
        }
        return (zip(targets, runs).map { TargetSummary($0, runs: $1) }, failures)
    }

    static func figures(_ o: RunOutcome, settings: RunSettings) -> RepeatFigures {
        var fig = RepeatFigures()
        fig.connections = o.merged.opened
        fig.messagesPerSecond = o.windowSeconds > 0 ? (Double(o.merged.answeredInWindow) / o.windowSeconds).rounded() : nil
        fig.latencyUs = LatencySummary(o.merged.latency)
        fig.connectSeconds = o.connectSeconds
        fig.clientCpuCores = o.windowSeconds > 0 ? (o.clientCPUSeconds / o.windowSeconds * 1000).rounded() / 1000 : nil
        fig.serverCpuCores = o.serverCPUSeconds.map { ($0 / o.windowSeconds * 1000).rounded() / 1000 }
        fig.sent = o.merged.sent
        fig.answered = o.merged.answered
        return fig
    }
}
