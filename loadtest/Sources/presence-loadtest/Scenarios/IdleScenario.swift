import Glibc

/// `idle`: N connections that say nothing; the server's VmRSS with them open, per
/// connection, and how long connecting took.
enum IdleScenario {
    /// Time for the server to settle (finish accepting, free handshake buffers) before
    /// its memory is read, unless `--settle` says otherwise.
    static let defaultSettleSeconds = 0.5

    /// `readsHeap` (needs the gateway's PID): `ServerMemory` of the gateway before any
    /// connection and with the first repeat's connections open, after the settle.
    static func run(_ settings: RunSettings, targets: [Target], repeats: Int, session: SessionPlan? = nil, readsHeap: Bool = false,
                    settleSeconds: Double = defaultSettleSeconds)
        throws(LoadTestError) -> (summaries: [TargetSummary], failures: [String], memory: ServerMemoryReport?) {
        // The allocator's figures before the RSS baselines: the first call into jemalloc on
        // the thread gdb stops (presenced's main thread, which never allocates after start)
        // sets up that thread's allocator state, ~410 KB of anonymous memory that stays (a
        // second call adds nothing). Read after the baseline, that counted as ~40 B per
        // connection at 10,000 (loadtest/README.md, "Bare idle connection under jemalloc").
        let heapPID = readsHeap ? targets[0].pid : nil
        let memoryBefore = try heapPID.map { pid throws(LoadTestError) in
            waitForSteadyMemory(pid: pid)
            return try ServerMemory.read(pid: pid, kernelFiguresLast: true)
        }
        // Baselines next, before this invocation opens any connection.
        var baselines: [(rss: Int, files: Int)?] = []
        for target in targets {
            guard let pid = target.pid else { baselines.append(nil); continue }
            waitForSteadyMemory(pid: pid)
            baselines.append((try ProcessStats.residentBytes(pid: pid), ProcessStats.openFileCount(pid: pid) ?? 0))
        }
        var memoryAfter: ServerMemory?
        var runs = Array(repeating: [RepeatFigures](), count: targets.count)
        var failures: [String] = []
        var memory: ServerMemoryReport?
        for r in 1...repeats {
            for (t, target) in targets.enumerated() {
                var s = settings
                s.urls = target.urls
                if let pid = target.pid, let base = baselines[t] { waitForServerToForget(pid: pid, files: base.files) }
                let rssBefore = try target.pid.map { pid throws(LoadTestError) in try ProcessStats.residentBytes(pid: pid) }
                let clientBefore = ProcessStats.ownResidentBytes()
                let o = try LoadRun.execute(s, role: session == nil ? .idle : .user, serverPID: target.pid,
                                            subprotocol: session == nil ? nil : WireNames.subprotocol, session: session) { () throws(LoadTestError) -> [String: Double] in
                    // For scripts that start other clients once these are all in (a cluster run).
                    print("  \(target.label) #\(r): connect phase over, holding \(f(settleSeconds)) s")
                    fflush(nil)  // every stream: stdout is a pipe or file in scripts
                    MonotonicClock.sleep(seconds: settleSeconds)
                    var seen: [String: Double] = ["client_rss": Double(ProcessStats.ownResidentBytes())]
                    if let pid = target.pid { seen["server_rss"] = Double(try ProcessStats.residentBytes(pid: pid)) }
                    if r == 1 && t == 0, let heapPID { memoryAfter = try ServerMemory.read(pid: heapPID) }
                    return seen
                }
                var fig = RepeatFigures()
                let opened = max(1, o.merged.opened)
                fig.connections = o.merged.opened
                fig.connectSeconds = (o.connectSeconds * 1000).rounded() / 1000
                fig.connectionsPerSecond = o.connectSeconds > 0 ? (Double(o.merged.opened) / o.connectSeconds).rounded() : nil
                if let after = o.whileOpen["server_rss"], let base = baselines[t], let rssBefore {
                    fig.serverRssBytes = Int(after)
                    fig.serverRssBytesPerConnection = ((after - Double(base.rss)) / Double(opened)).rounded()
                    fig.serverRssGrowthThisRepeatBytes = Int(after) - rssBefore
                }
                if let clientAfter = o.whileOpen["client_rss"] {
                    fig.clientRssBytesPerConnection = ((clientAfter - Double(clientBefore)) / Double(opened)).rounded()
                }
                runs[t].append(fig)
                failures += session == nil ? Verdict.connections(o, "\(target.label) repeat \(r)")
                    : Verdict.sessions(o, "\(target.label) repeat \(r)", expectedUsers: s.connections)
                print("  \(target.label) #\(r): \(o.merged.opened)/\(o.merged.attempted) connected in \(f(o.connectSeconds)) s, "
                      + "server \(fig.serverRssBytesPerConnection.map { f($0) } ?? "?") B/conn, client \(f(fig.clientRssBytesPerConnection ?? 0)) B/conn")
                if r == 1 && t == 0, let heapPID, let memoryBefore, let memoryAfter {
                    memory = ServerMemoryReport(before: memoryBefore, after: memoryAfter, connections: o.merged.opened,
                                                mallocArenaMax: ServerMemory.mallocArenaMax(pid: heapPID))
                    print("  " + (memory?.line ?? ""))
                }
            }
        }
        let summaries = targets.indices.map { TargetSummary(targets[$0], runs: runs[$0], rssBaseline: baselines[$0]?.rss) }
        if readsHeap && memory?.liveHeapBytesPerConnection == nil {
            failures.append("--server-heap: \(memory == nil ? "no server memory read" : "mallinfo2 unreadable: \(memory?.after.heapError ?? "?")")")
        }
        return (summaries, failures, memory)
    }

    /// Waits (at most 10 s) until the server's VmRSS holds still for half a second. presenced
    /// says it listens before its start-up work is done: with 10,000 users its RSS peaks at
    /// ~66 MB and falls back to ~33 MB within a second, and a baseline read in between made
    /// the per-connection figure negative.
    static func waitForSteadyMemory(pid: Int32) {
        var last = -1
        var steady = 0
        for _ in 0..<100 {
            guard let rss = try? ProcessStats.residentBytes(pid: pid) else { return }
            steady = abs(rss - last) <= 64 * 1024 ? steady + 1 : 0
            if steady >= 5 { return }
            last = rss
            MonotonicClock.sleep(seconds: 0.1)
        }
    }

    /// Waits (at most 15 s) until the server has closed the previous repeat's sockets, so
    /// every repeat starts from the same number of connections: none.
    static func waitForServerToForget(pid: Int32, files: Int) {
        for _ in 0..<300 {
            guard let now = ProcessStats.openFileCount(pid: pid), now > files + 8 else { return }
            MonotonicClock.sleep(seconds: 0.05)
        }
    }
}
