/// `slow`: N echo connections run twice, without and then with one extra client that
/// sends large messages and never reads. Reports the others' latency both ways and
/// whether the server closed the slow client.
enum SlowScenario {
    static func run(_ settings: RunSettings, target: Target, repeats: Int) throws(LoadTestError) -> (summary: TargetSummary, failures: [String]) {
        var runs: [RepeatFigures] = []
        var failures: [String] = []
        for r in 1...repeats {
            let without = try LoadRun.execute(settings, role: .echo, serverPID: target.pid)
            failures += Verdict.echoes(without, "without slow client, repeat \(r)")
            var withSlow = settings
            withSlow.connections += 1
            // The slow client waits for the server's Close behind its unread echoes.
            withSlow.drainSeconds = max(settings.drainSeconds, 8)
            let with = try LoadRun.execute(withSlow, role: .echo, slowIndex: settings.connections, serverPID: target.pid)
            failures += Verdict.echoes(with, "with slow client, repeat \(r)")
            if !with.merged.slowWasClosed {
                failures.append("repeat \(r): the slow client was not closed after \(with.merged.slowBytesSent >> 20) MiB unread")
            }
            var fig = EchoScenario.figures(with, settings: withSlow)
            let base = EchoScenario.figures(without, settings: settings)
            fig.latencyWithoutSlowUs = base.latencyUs
            fig.messagesPerSecondWithoutSlow = base.messagesPerSecond
            if let a = fig.latencyUs?.p99, let b = base.latencyUs?.p99, b > 0 { fig.p99Ratio = (a / b * 1000).rounded() / 1000 }
            fig.slowClientClosed = with.merged.slowWasClosed
            fig.slowCloseCode = with.merged.slowCloseCode == 0 ? nil : with.merged.slowCloseCode
            fig.slowCloseReason = with.merged.slowCloseReason
            fig.slowClosedAfterSeconds = with.merged.slowWasClosed ? (Double(with.merged.slowClosedAfterNanos) / 1e7).rounded() / 100 : nil
            fig.slowBytesSent = with.merged.slowBytesSent
            runs.append(fig)
            let how = (fig.slowCloseCode.map { " with \($0)" } ?? "") + (fig.slowCloseReason.map { " \"\($0)\"" } ?? "")
            let when = fig.slowClosedAfterSeconds.map { ", seen \(f($0)) s after it stopped reading" } ?? ""
            let ratio = fig.p99Ratio.map { f($0) } ?? "?"
            print("  #\(r): others' p99 \(f(base.latencyUs?.p99 ?? 0)) µs without, \(f(fig.latencyUs?.p99 ?? 0)) µs with the slow client (×\(ratio)); "
                  + "slow client \(with.merged.slowWasClosed ? "closed" : "NOT closed")\(how)\(when) (it sent \(with.merged.slowBytesSent >> 20) MiB in all)")
        }
        return (TargetSummary(target, runs: runs), failures)
    }
}
