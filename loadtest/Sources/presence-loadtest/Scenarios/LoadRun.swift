import Glibc
import Histogram

/// The knobs of one run, shared by every scenario.
struct RunSettings {
    /// Connection i goes to `urls[i % urls.count]` (several: a cluster's nodes).
    var urls: [WebSocketURL]
    var connections: Int
    var threads: Int
    var payloadSize: Int
    var inFlight: Int
    var deflate: Bool
    var seconds: Double
    var warmupSeconds: Double
    var drainSeconds: Double
    var seed: UInt64
    var connectionsPerSourceAddress: Int
    var connectConcurrency: Int
    var connectTimeoutSeconds: Double
    var slowMessageSize: Int
    var slowMessageLimit: Int
    /// Idle runs hold their connections at most this long.
    var holdLimitSeconds: Double = 600
}

/// What one run measured, merged over its loops.
struct RunOutcome {
    var merged = LoopResult()
    /// Seconds from the first connect to the last completed handshake.
    var connectSeconds = 0.0
    /// The measured window (echo).
    var windowSeconds = 0.0
    /// CPU seconds spent inside the measured window by this process and by the server.
    var clientCPUSeconds = 0.0
    var serverCPUSeconds: Double?
    /// Whatever the caller measured while the connections were all open (idle).
    var whileOpen: [String: Double] = [:]

    var isEveryoneConnected: Bool { merged.opened == merged.attempted }
}

/// One run: loops on their threads, coordinated from the main thread, which only
/// samples CPU and memory and never touches a socket.
enum LoadRun {
    static func execute(
        _ s: RunSettings, role: ConnectionRole, slowIndex: Int? = nil, serverPID: Int32?,
        subprotocol: String? = nil, session: SessionPlan? = nil,
        whileOpen: (() throws(LoadTestError) -> [String: Double])? = nil
    ) throws(LoadTestError) -> RunOutcome {
        let control = RunControl()
        // A signed-in run accounts every change against all its contacts on one thread.
        let threads = session != nil ? 1 : max(1, min(s.threads, s.connections))
        var loops: [ClientLoop] = []
        for t in 0..<threads {
            let first = s.connections * t / threads
            let last = s.connections * (t + 1) / threads
            let plan = LoopPlan(
                urls: s.urls, firstIndex: first, count: last - first, role: role, slowIndex: slowIndex,
                payloadSize: s.payloadSize, inFlight: s.inFlight, offersDeflate: s.deflate,
                slowMessageSize: s.slowMessageSize, slowMessageLimit: s.slowMessageLimit, seed: s.seed,
                connectionsPerSourceAddress: s.connectionsPerSourceAddress,
                connectConcurrency: max(1, s.connectConcurrency / threads),
                connectTimeoutNanos: MonotonicClock.seconds(s.connectTimeoutSeconds),
                warmupNanos: MonotonicClock.seconds(s.warmupSeconds), durationNanos: MonotonicClock.seconds(s.seconds),
                drainNanos: MonotonicClock.seconds(s.drainSeconds), holdLimitNanos: MonotonicClock.seconds(s.holdLimitSeconds),
                subprotocol: subprotocol, session: session)
            loops.append(try ClientLoop(plan: plan, control: control, loopCount: threads))
        }
        let running = try LoopThreads.start(loops)
        loops.removeAll()  // each loop now belongs to its thread

        // Wait (bounded) for every loop to finish connecting.
        let readyDeadline = MonotonicClock.nanoseconds() + MonotonicClock.seconds(s.connectTimeoutSeconds + 5)
        while control.readyLoops.load(ordering: .acquiring) < threads && MonotonicClock.nanoseconds() < readyDeadline {
            MonotonicClock.sleep(seconds: 0.005)
        }
        var outcome = RunOutcome()
        var thrown: LoadTestError?
        let holds = role == .idle || session?.workload == .hold
        if holds {
            do { outcome.whileOpen = try whileOpen?() ?? [:] } catch { thrown = error }
            control.startNanos.store(MonotonicClock.nanoseconds(), ordering: .releasing)
            control.isReleased.store(true, ordering: .releasing)
        } else if session != nil {
            // The loop runs its own timeline (settle, windows or storm); every part is bounded.
            control.startNanos.store(MonotonicClock.nanoseconds(), ordering: .releasing)
        } else {
            let start = MonotonicClock.nanoseconds()
            control.startNanos.store(start, ordering: .releasing)
            let measureStart = start + MonotonicClock.seconds(s.warmupSeconds)
            let sendEnd = measureStart + MonotonicClock.seconds(s.seconds)
            sleep(until: measureStart)
            let clientBefore = ProcessStats.ownCPUSeconds()
            let serverBefore = serverPID.flatMap { try? ProcessStats.cpuSeconds(pid: $0) }
            sleep(until: sendEnd)
            outcome.clientCPUSeconds = ProcessStats.ownCPUSeconds() - clientBefore
            if let serverPID, let serverBefore, let after = try? ProcessStats.cpuSeconds(pid: serverPID) {
                outcome.serverCPUSeconds = after - serverBefore
            }
            outcome.windowSeconds = s.seconds
        }
        let results = LoopThreads.join(running)
        if let thrown { throw thrown }
        outcome.merged = merge(results)
        let m = outcome.merged
        outcome.connectSeconds = m.connectFinished > m.connectStarted ? Double(m.connectFinished - m.connectStarted) / 1e9 : 0
        return outcome
    }

    static func sleep(until deadline: UInt64) {
        let now = MonotonicClock.nanoseconds()
        if deadline > now { MonotonicClock.sleep(seconds: Double(deadline - now) / 1e9) }
    }

    static func merge(_ results: [LoopResult]) -> LoopResult {
        var m = LoopResult()
        m.connectStarted = results.map(\.connectStarted).filter { $0 > 0 }.min() ?? 0
        for r in results {
            m.latency.add(r.latency)
            m.attempted += r.attempted
            m.opened += r.opened
            m.connectFailures += r.connectFailures
            m.handshakeFailures += r.handshakeFailures
            m.droppedByServer += r.droppedByServer
            m.protocolErrors += r.protocolErrors
            if m.firstError == nil { m.firstError = r.firstError }
            m.connectFinished = max(m.connectFinished, r.connectFinished)
            m.sent += r.sent
            m.answered += r.answered
            m.mismatched += r.mismatched
            m.answeredInWindow += r.answeredInWindow
            m.slowBytesSent += r.slowBytesSent
            m.session = r.session  // signed-in runs have one loop
            if r.slowWasClosed || r.slowBytesSent > 0 {
                m.slowWasClosed = r.slowWasClosed
                m.slowCloseCode = r.slowCloseCode
                m.slowCloseReason = r.slowCloseReason
                m.slowClosedAfterNanos = r.slowClosedAfterNanos
            }
        }
        return m
    }
}
