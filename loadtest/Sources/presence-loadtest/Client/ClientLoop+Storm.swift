import WebSocket

/// The storm's second half: every connection drops at once and comes back with `resume`
/// inside the server's grace period; flippers change status as soon as they are back, so
/// contacts that have not resumed yet must get those events in their replay.
extension ClientLoop {
    func runStorm(start: UInt64) {
        guard let session = plan.session else { return }
        pump(until: start + session.settleNanos) { true }
        acknowledgeAll()
        pump(until: now + MonotonicClock.seconds(0.2)) { true }

        dropEveryConnection()
        window = SessionWindow()
        // Every change of the resume phase is accounted (and timed, reconnects included).
        measureStart = 0
        sendEnd = .max
        result.session.resumeStarted = now
        pump(until: now + plan.connectTimeoutNanos) { nextToConnect < plan.count || connectingCount > 0 || signingInCount > 0 }
        abandonUnfinishedConnects()
        pump(until: now + plan.drainNanos) { outstandingSession > 0 }
        abandonOutstanding()
        result.session.windows.append(window)
        acknowledgeAll()
        pump(until: now + MonotonicClock.seconds(0.2)) { true }
    }

    /// Resets (RST) every open connection; those that were signed in connect again and
    /// resume. The server sees the resets as lost connections and holds the sessions for
    /// their grace period.
    func dropEveryConnection() {
        for i in 0..<plan.count {
            let wasReady = slots[i].phase == .open && users[i].stage == .ready
            if slots[i].fd >= 0 { closeAbortively(Int32(i)) }
            endSigningIn(Int32(i))
            guard wasReady else {
                slots[i].phase = .failed  // not reconnected: it never signed in
                continue
            }
            let global = slots[i].globalIndex
            slots[i] = ConnectionSlot()
            slots[i].globalIndex = global
            slots[i].role = .user
            readers[i] = MessageReader(role: .client, maxFrameSize: 64 << 20, maxMessageSize: 64 << 20)
            users[i].stage = .awaitingHello
            users[i].resumesNext = true
        }
        dirty.removeAll(keepingCapacity: true)
        nextToConnect = 0
        connectingCount = 0
        isReconnecting = true
    }
}
