/// The timeline of a signed-in run once everyone is in: hold, measured windows, or the storm.
extension ClientLoop {
    func runSessionWorkload(start: UInt64) {
        guard let session = plan.session else { return }
        switch session.workload {
        case .hold:
            // Like a real client's heartbeat: acknowledge what arrived, let the last sign-in
            // announcements land, and acknowledge those too, so what is measured is a settled
            // session and not events the server must keep for replay.
            acknowledgeAll()
            pump(until: now + MonotonicClock.seconds(0.5)) { true }
            acknowledgeAll()
            // Held sessions heartbeat like a real client (every 20 s, under the server's
            // advertised 25): a hold longer than the silence timeout must not read as
            // dropped connections.
            let holdEnd = now + plan.holdLimitNanos
            while now < holdEnd && !control.isReleased.load(ordering: .acquiring) {
                pump(until: min(holdEnd, now + MonotonicClock.seconds(20))) { !control.isReleased.load(ordering: .acquiring) }
                if !control.isReleased.load(ordering: .acquiring) { heartbeatAll() }
            }
        case .presence, .chat:
            // The last sign-ins' presence reaches contacts within the server's debounce.
            pump(until: start + session.settleNanos) { true }
            acknowledgeAll()
            if let knee = session.knee {
                findKnee(knee, seconds: session.kneeSeconds)
            } else {
                let rate = session.workload == .chat ? session.messagesPerSecond : session.changesPerSecond
                for _ in 0..<session.windows { runWindow(rate: rate) }
            }
        case .storm:
            runStorm(start: start)
        }
        settleSignIns()
    }

    /// Warm-up, measured window, drain: sends follow the rate from the window's start; only
    /// those sent inside the measured part are timed.
    func runWindow(rate: Double) {
        window = SessionWindow()
        window.offeredRate = rate
        windowRate = rate
        windowSendStart = now
        scheduled = 0
        measureStart = now + plan.warmupNanos
        sendEnd = measureStart + plan.durationNanos
        drainEnd = sendEnd + plan.drainNanos
        pump(until: measureStart) { true }
        let clientBefore = ProcessStats.ownCPUSeconds()
        let serverBefore = plan.session?.serverPID.flatMap { try? ProcessStats.cpuSeconds(pid: $0) }
        pump(until: sendEnd) { true }
        window.seconds = Double(now - measureStart) / 1e9
        window.clientCPUSeconds = ProcessStats.ownCPUSeconds() - clientBefore
        if let pid = plan.session?.serverPID, let serverBefore, let after = try? ProcessStats.cpuSeconds(pid: pid) {
            window.serverCPUSeconds = after - serverBefore
        }
        windowSendStart = .max
        pump(until: drainEnd) { outstandingSession > 0 }
        abandonOutstanding()
        result.session.windows.append(window)
        // Acknowledge everything, as a client does after a burst, and let the replies come.
        acknowledgeAll()
        pump(until: now + MonotonicClock.seconds(0.2)) { true }
    }

    /// presence --find-knee: one window per step, each at the rate the search chose after
    /// the previous one. No step starts once its warm-up and window would overrun the budget.
    func findKnee(_ start: KneeSearch, seconds: Double) {
        var search = start
        let deadline = now + MonotonicClock.seconds(seconds)
        let stepNanos = plan.warmupNanos + plan.durationNanos
        while true {
            var passed = false
            for attempt in 0...search.retries where !passed && (attempt == 0 || now + stepNanos < deadline) {
                runWindow(rate: search.rate)
                let last = result.session.windows.count - 1
                let w = result.session.windows[last]
                passed = search.passes(changes: w.changes, skipped: w.skipped, late: w.abandoned, p99Micros: LatencySummary(w.latency).p99)
                result.session.windows[last].kneePassed = passed
                result.session.windows[last].kneeAttempt = attempt
            }
            guard search.record(passed: passed), now + stepNanos < deadline else { return }
        }
    }

    /// Called every loop turn while a window sends: issues what the rate has made due.
    func driveWindow() {
        guard now < sendEnd, let session = plan.session else { return }
        let due = Int(Double(now - windowSendStart) * windowRate / 1e9)
        var budget = 4096  // bounded per turn; a late turn catches up over the next ones
        while scheduled < due && budget > 0 {
            scheduled += 1
            budget -= 1
            if session.workload == .chat { issueScheduledSend() } else { issueScheduledChange() }
        }
    }

    /// How long until the window's next send is due: 0 when one is already due, `.max`
    /// outside a sending window.
    var nanosecondsToNextSend: UInt64 {
        guard windowSendStart != .max, now < sendEnd, windowRate > 0 else { return .max }
        let nextDue = windowSendStart &+ UInt64(Double(scheduled + 1) * 1e9 / windowRate)
        return nextDue > now ? nextDue - now : 0
    }

    /// At the end of a drain, whatever has not arrived never will: it counts as lost.
    func abandonOutstanding() {
        guard outstandingSession > 0 else { return }
        for u in 0..<plan.count where users[u].pendingDeliveries > 0 {
            window.abandoned += Int(users[u].pendingDeliveries)
            users[u].pendingDeliveries = 0
        }
        if plan.session?.workload == .chat {
            for k in 0..<(plan.count * Self.chatRing) where chatFlags[k] & 3 != 3 {
                window.abandoned += chatFlags[k] & 1 == 0 ? 1 : 0
                window.abandoned += chatFlags[k] & 2 == 0 ? 1 : 0
                chatFlags[k] |= 3
            }
        }
        outstandingSession = 0
    }
}
