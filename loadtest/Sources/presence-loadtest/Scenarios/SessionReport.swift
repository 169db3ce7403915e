/// Figures and lines shared by the signed-in scenarios.
enum SessionReport {
    /// What every window of a presence or chat run reports alike.
    static func baseFigures(_ o: RunOutcome, _ w: SessionWindow) -> RepeatFigures {
        var fig = RepeatFigures()
        fig.connections = o.merged.opened
        fig.signedIn = o.merged.session.signedIn
        fig.connectSeconds = (o.connectSeconds * 1000).rounded() / 1000
        fig.latencyUs = LatencySummary(w.latency)
        fig.unmatchedPresence = o.merged.session.unmatchedPresence
        if w.seconds > 0 {
            fig.clientCpuCores = (w.clientCPUSeconds / w.seconds * 1000).rounded() / 1000
            fig.serverCpuCores = w.serverCPUSeconds.map { ($0 / w.seconds * 1000).rounded() / 1000 }
        }
        return fig
    }

    static func printSignIns(_ o: RunOutcome) {
        let t = o.merged.session
        let seconds = t.signInFinished > o.merged.connectStarted ? Double(t.signInFinished - o.merged.connectStarted) / 1e9 : 0
        print("  signed in \(t.signedIn)/\(o.merged.attempted) in \(f(seconds)) s; per user \(LatencySummary(t.signInLatency).line)")
    }
}
