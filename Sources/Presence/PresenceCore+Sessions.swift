// Session lifecycle: sign-in, sign-out, connection loss and its grace period, resume with
// replay, heartbeats, and idle detection.

extension PresenceCore {
    mutating func signIn(_ request: SignIn, into effects: inout [Effect]) throws(PresenceError) {
        guard request.session == nextSessionID else { throw .sessionAlreadyExists }
        let user = intern(request.user)
        if users[user.i].sessions.isEmpty {
            // Storage's choice only counts when the core has never known one for this user:
            // the core's value is always the newest (its write may still be committing,
            // or may have failed), so "hide, log out, sign in" stays hidden.
            if !users[user.i].isChosenKnown {
                users[user.i].chosen = request.chosenStatus
                users[user.i].isChosenKnown = true
            }
            users[user.i].isOfflineMailSent = false  // the offline period is over
        }
        users[user.i].offlineMail = request.isOfflineMailEnabled ? .enabled : .disabled
        mergeContacts(of: user, request.contacts)

        let slot = allocateSlot(for: SessionRecord(
            id: request.session, owner: user, device: request.device, attachment: request.attachment,
            lastActivity: now, lastHeard: now))
        users[user.i].sessions.append(slot)
        scheduleSessionCheck(slot)
        enforceSessionLimit(of: user, keeping: slot, into: &effects)

        send(.snapshot(snapshot(for: user)), toSlot: slot, into: &effects)
        // The backlog is marked delivered only when a heartbeat acknowledges it.
        for message in request.backlog {
            send(.chat(message), toSlot: slot, into: &effects)
        }
        markDirty(user, into: &effects)
    }

    func snapshot(for user: UserRef) -> Snapshot {
        let record = users[user.i]
        var incoming: [UserID] = []
        var outgoing: [UserID] = []
        for other in record.requests {
            if case .pending(let requester) = relation(user, other) {
                if requester == user { outgoing.append(users[other.i].id) } else { incoming.append(users[other.i].id) }
            }
        }
        return Snapshot(
            chosenStatus: record.chosen,
            contacts: record.contacts.map { ContactPresence(user: users[$0.i].id, view: publishedView(of: $0, for: user)) },
            incomingRequests: incoming, outgoingRequests: outgoing)
    }

    mutating func signOut(_ session: SessionID, into effects: inout [Effect]) throws(PresenceError) {
        let slot = try slot(of: session)
        endSession(slot, closing: .signedOut, callEnd: .connectionLost, into: &effects)
    }

    mutating func connectionLost(_ session: SessionID, into effects: inout [Effect]) throws(PresenceError) {
        let slot = try slot(of: session)
        guard sessions[slot]!.isConnected else { return }
        guard graceMilliseconds > 0 else {
            endSession(slot, closing: .sessionExpired, callEnd: .connectionLost, into: &effects)
            return
        }
        let until = now.adding(graceMilliseconds)
        sessions[slot]!.connection = .suspended(until: until)
        sessions[slot]!.attachment.connection = 0
        deadlines.insert(at: until, .graceEnd(slot: UInt32(slot), generation: slotGenerations[slot]))
    }

    mutating func resume(_ session: SessionID, after sequence: UInt64, connection: UInt64,
                         into effects: inout [Effect]) throws(PresenceError) {
        let slot = try slot(of: session)
        guard sequence <= sessions[slot]!.replay.lastSequence else { throw .sequenceAhead }
        guard sessions[slot]!.replay.canReplay(after: sequence) else {
            // One truthful answer: the resume is refused (not accepted and then closed),
            // the session ends, and the connection stays open for a fresh sign-in.
            // Contacts see nothing if that sign-in comes within the debounce window.
            endSession(slot, closing: .resumeImpossible, callEnd: .connectionLost, into: &effects)
            throw .resumeImpossible
        }
        sessions[slot]!.connection = .connected
        sessions[slot]!.attachment.connection = connection
        sessions[slot]!.lastHeard = now
        scheduleSessionCheck(slot)
        acknowledge(slot, through: sequence, into: &effects)
        for missed in sessions[slot]!.replay.events(after: sequence, within: replayLimits) {
            effects.append(.deliver(missed.event, to: [Delivery(session: session, sequence: missed.sequence, connection: connection)]))
        }
    }

    mutating func heartbeat(_ session: SessionID, through sequence: UInt64, into effects: inout [Effect]) throws(PresenceError) {
        let slot = try slot(of: session)
        guard sequence <= sessions[slot]!.replay.lastSequence else { throw .sequenceAhead }
        acknowledge(slot, through: sequence, into: &effects)
    }

    /// The client has every event up to `sequence`: drop them from replay, and mark chat
    /// messages addressed to this session's user delivered. Delivery means "a device has
    /// it", not "it was written to a socket", so a message lost with a dying connection
    /// comes back in the next sign-in's backlog.
    mutating func acknowledge(_ slot: Int, through sequence: UInt64, into effects: inout [Effect]) {
        guard let owner = sessions[slot]!.owner else {
            sessions[slot]!.replay.discard(through: sequence, within: replayLimits) { _ in }
            return
        }
        let me = users[owner.i].id
        sessions[slot]!.replay.discard(through: sequence, within: replayLimits) { event in
            if case .chat(let message) = event, message.recipient == me {
                effects.append(.markDelivered(message.id, recipient: me))
            }
        }
    }

    /// Ends a session at once: calls it takes part in end, its user's presence is
    /// recomputed, and the gateway is told to close it.
    mutating func endSession(_ slot: Int, closing reason: CloseReason, callEnd: CallEndReason,
                             into effects: inout [Effect]) {
        let record = sessions[slot]!
        guard let user = record.owner else {
            for watched in record.watching {
                users[watched.i].subscribers.removeAll { $0 == slot }
            }
            releaseWatches(of: record, into: &effects)
            pendingSubscriptions.removeAll { $0.slot == slot }
            freeSlot(slot)
            effects.append(.close(record.id, reason: reason, connection: record.attachment.connection))
            for allowed in record.allowed { scheduleForgetCheck(allowed) }
            return
        }
        users[user.i].sessions.removeAll { $0 == slot }
        freeSlot(slot)
        endCalls(afterSessionEnded: record.id, of: user, reason: callEnd, into: &effects)
        if users[user.i].sessions.isEmpty {
            users[user.i].isOfflineMailSent = false  // a new offline period starts
            expireReveals(of: user)
        }
        markDirty(user, into: &effects)
        effects.append(.close(record.id, reason: reason, connection: record.attachment.connection))
        scheduleForgetCheck(user)
    }
}

// MARK: - Activity and idle

extension PresenceCore {
    mutating func activity(_ session: SessionID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, _) = try userSession(session)
        noteActivity(slot, into: &effects)
    }

    /// A user op arrived on this session: it is not idle, and won't be for `idleAfter`.
    mutating func noteActivity(_ slot: Int, into effects: inout [Effect]) {
        sessions[slot]!.lastActivity = now
        if sessions[slot]!.isIdle {
            sessions[slot]!.isIdle = false
            markDirty(sessions[slot]!.owner!, into: &effects)
            scheduleSessionCheck(slot)
        }
    }

    /// When the session next needs looking at: when it would go idle (a user's session not
    /// idle yet), or when it would have been silent too long (a connected one, if the
    /// silence timeout is on); nil when neither can happen.
    func nextCheck(of record: SessionRecord) -> Instant? {
        var due: Instant?
        if record.owner != nil, !record.isIdle {
            due = record.lastActivity.adding(idleAfterMilliseconds)
        }
        if silenceMilliseconds > 0, record.isConnected {
            let silent = record.lastHeard.adding(silenceMilliseconds)
            due = min(due ?? silent, silent)
        }
        return due
    }

    /// Makes sure a check is queued no later than the session's next need. One queued
    /// check per session covers both idleness and silence: activity and heartbeats only
    /// move those dues later, so they do not touch the queue (that would cost a heap
    /// insert per op); the check, when it falls due, finds what is due or re-arms itself
    /// for the latest. Only a need earlier than the queued check (a session back from
    /// idle, a resume) queues a new one, and the old one goes stale.
    mutating func scheduleSessionCheck(_ slot: Int) {
        guard let due = nextCheck(of: sessions[slot]!) else { return }
        if let queued = sessions[slot]!.checkAt, queued <= due { return }
        sessions[slot]!.checkAt = due
        deadlines.insert(at: due, .sessionCheck(slot: UInt32(slot), generation: slotGenerations[slot]))
    }

    /// A session's check fell due: a connected session silent for longer than the silence
    /// timeout ends (`heartbeatTimeout`); a user's session with no op for `idleAfter` goes
    /// idle. Then the next check is queued. A session in its grace period is not checked
    /// for silence (it has no connection to be silent on); `resume` re-arms that.
    mutating func checkSession(_ slot: Int, into effects: inout [Effect]) {
        sessions[slot]!.checkAt = nil
        let record = sessions[slot]!
        if silenceMilliseconds > 0, record.isConnected, now >= record.lastHeard.adding(silenceMilliseconds) {
            endSession(slot, closing: .heartbeatTimeout, callEnd: .connectionLost, into: &effects)
            return
        }
        if let owner = record.owner, !record.isIdle, now >= record.lastActivity.adding(idleAfterMilliseconds) {
            sessions[slot]!.isIdle = true
            markDirty(owner, into: &effects)
        }
        scheduleSessionCheck(slot)
    }
}

// MARK: - Bounded per-session resources

extension PresenceCore {
    /// Spends one op from the session's bucket, or refuses with the seconds until one is
    /// back. Also for ops the gateway carries out itself (history, profile changes).
    public mutating func spendOp(_ session: SessionID) throws(PresenceError) {
        guard configuration.opBurst > 0, configuration.opsPerSecond > 0, let slot = existingSlot(of: session) else { return }
        // Thousandths of an op in 32 bits, below the "never spent" mark.
        let burst = min(Int64(configuration.opBurst) * 1000, Int64(Int32.max) - 1)
        let perMillisecond = Int64(configuration.opsPerSecond)  // thousandths of an op per ms
        var credit = Int64(sessions[slot]!.opCredit)
        if credit == Int64(Int32.max) {
            credit = burst
        } else {
            let elapsed = max(0, now.milliseconds - sessions[slot]!.opCreditAt.milliseconds)
            credit = min(burst, credit + elapsed * perMillisecond)
        }
        sessions[slot]!.opCreditAt = now
        guard credit >= 1000 else {
            sessions[slot]!.opCredit = Int32(credit)
            let wait = (1000 - credit + perMillisecond - 1) / perMillisecond  // ms until one op
            throw .rateLimited(retryAfterSeconds: Int(max(1, (wait + 999) / 1000)))
        }
        sessions[slot]!.opCredit = Int32(credit - 1000)
    }

    /// Anything from the session counts as hearing from it (heartbeats included).
    mutating func noteHeard(_ session: SessionID) {
        guard let slot = existingSlot(of: session) else { return }
        sessions[slot]!.lastHeard = now
    }

    /// Ends the user's oldest sessions beyond `maxSessionsPerUser`: those in their grace
    /// period first, then the least recently heard. Never `keeping` (the new sign-in).
    mutating func enforceSessionLimit(of user: UserRef, keeping: Int, into effects: inout [Effect]) {
        let limit = max(1, configuration.maxSessionsPerUser)
        while users[user.i].sessions.count > limit {
            let candidates = users[user.i].sessions.filter { $0 != keeping }
            let oldest = candidates.min { a, b in
                let sa = sessions[a]!, sb = sessions[b]!
                if sa.isConnected != sb.isConnected { return !sa.isConnected }
                return sa.lastHeard < sb.lastHeard
            }
            guard let oldest else { return }
            endSession(oldest, closing: .sessionLimit, callEnd: .connectionLost, into: &effects)
        }
    }
}
