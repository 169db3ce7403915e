// Call signalling. Media never passes through; payloads are opaque.
//
// A user takes part in at most one call at a time. Both parties are Busy to their
// contacts from the answer until the end. Calls live only in memory: when the process
// dies nobody can stay Busy, and when a session goes away its calls end with it.
//
// What the caller sees is decided by the visibility function: if the callee looks offline
// to the caller (logged out, or hidden and not revealed), the caller gets no `callRinging`,
// no `busy`, no `declined`: the call rings out with `noAnswer` after the ring timeout,
// whatever the hidden callee's devices do, unless the callee answers.
//
// With several shards, a call is decided by the caller's home, which holds its record and
// its ring timeout. When the callee lives on another shard, the callee's home keeps a copy
// for as long as the call lasts (`ShardMessage.callInvite`), answers, declines
// and hang-ups made there go back to the caller's home as messages, and either side's end
// of the call reaches the other as `callFinished`. The callee's home answers every invite,
// `callBusy` or `callOffered`, and only the latter makes the invite an act that reveals a
// hidden caller, as on one shard.

extension PresenceCore {
    mutating func invite(_ session: SessionID, callee calleeID: UserID, call id: CallID, payload: String,
                         into effects: inout [Effect]) throws(PresenceError) {
        let (slot, caller) = try userSession(session)
        guard calleeID != users[caller.i].id else { throw .cannotTargetSelf }
        guard let callee = ref(of: calleeID), relation(caller, callee) == .accepted else { throw .notAContact }
        guard calls[id] == nil else { throw .duplicateCall }
        guard users[caller.i].call == nil else { throw .alreadyInCall }
        noteActivity(slot, into: &effects)

        let timeout = now.adding(ringMilliseconds)
        var call = CallRecord(id: id, caller: caller, callerSession: session, callee: callee,
                              phase: .ringing(timeout: timeout), isRungOnCallee: false)
        users[caller.i].call = id
        if !isLocal(callee) {
            // The callee's home decides busy or ringing; the invite counts as an act toward
            // the callee once it answers that the call goes ahead (`callOffered`).
            calls[id] = call
            deadlines.insert(at: timeout, .ringTimeout(id))
            forward(.callInvite(id, caller: users[caller.i].id, callerSession: session, callee: calleeID, payload: payload),
                    toHomeOf: callee, into: &effects)
            return
        }
        if users[callee.i].call != nil {
            if looksPresent(callee, to: caller) {
                users[caller.i].call = nil
                send(.callEnded(id, .busy), toSlot: slot, into: &effects)
                return
            }
            // Looks offline: ring out, like a call to a logged-out user.
        } else if !users[callee.i].sessions.isEmpty {
            call.isRungOnCallee = true
            users[callee.i].call = id
            send(.callIncoming(id, from: users[caller.i].id, payload: payload), toSessionsOf: callee, into: &effects)
        }
        calls[id] = call
        deadlines.insert(at: timeout, .ringTimeout(id))
        noteAct(by: caller, toward: callee, into: &effects)
    }

    /// A callee device rings. Not user activity. Forwarded once, and only if the callee
    /// looks present to the caller.
    mutating func ringing(_ session: SessionID, _ id: CallID, into effects: inout [Effect]) throws(PresenceError) {
        let (_, user) = try userSession(session)
        let call = try call(id, of: user)
        guard call.callee == user, call.isRungOnCallee else { throw .notCallParticipant }
        guard !call.isAnswered else { throw .callStateMismatch }
        guard !call.isRingingForwarded, looksPresent(user, to: call.caller) else { return }
        calls[id]!.isRingingForwarded = true
        send(.callRinging(id), toSession: call.callerSession, into: &effects)
    }

    /// Answering is an act toward the caller: a hidden callee becomes visible to them.
    mutating func accept(_ session: SessionID, _ id: CallID, payload: String, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        let call = try call(id, of: user)
        guard call.callee == user, call.isRungOnCallee else { throw .notCallParticipant }
        guard !call.isAnswered else { throw .callStateMismatch }
        noteActivity(slot, into: &effects)
        calls[id]!.phase = .answered(calleeSession: session)
        if isLocal(call.caller) {
            send(.callAccepted(id, payload: payload), toSession: call.callerSession, into: &effects)
        } else {
            forward(.callAnswered(id, calleeSession: session, payload: payload), toHomeOf: call.caller, into: &effects)
        }
        send(.callAnsweredElsewhere(id), toSessionsOf: user, except: slot, into: &effects)
        noteAct(by: user, toward: call.caller, into: &effects)
        if isLocal(call.caller) { markDirty(call.caller, into: &effects) }
        markDirty(user, into: &effects)
    }

    /// A callee who looks present to the caller ends the call with `declined`. One who
    /// looks offline only silences their own devices; the caller's call rings out.
    mutating func decline(_ session: SessionID, _ id: CallID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        let call = try call(id, of: user)
        guard call.callee == user, call.isRungOnCallee else { throw .notCallParticipant }
        guard !call.isAnswered else { throw .callStateMismatch }
        noteActivity(slot, into: &effects)
        if looksPresent(user, to: call.caller) {
            finish(id, callerReason: .declined, calleeReason: .declined, into: &effects)
        } else {
            calls[id]!.isRungOnCallee = false
            calls[id]!.isDeclined = true
            users[user.i].call = nil
            send(.callEnded(id, .declined), toSessionsOf: user, into: &effects)
            if !isLocal(call.caller) { forward(.callSilenced(id), toHomeOf: call.caller, into: &effects) }
        }
    }

    mutating func cancel(_ session: SessionID, _ id: CallID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        let call = try call(id, of: user)
        guard call.callerSession == session else { throw .notCallParticipant }
        guard !call.isAnswered else { throw .callStateMismatch }
        noteActivity(slot, into: &effects)
        if !call.isDeclined { recordMissed(call, into: &effects) }
        finish(id, callerReason: nil, calleeReason: .cancelled, into: &effects)
    }

    mutating func hangUp(_ session: SessionID, _ id: CallID, into effects: inout [Effect]) throws(PresenceError) {
        let call = try call(id, of: try userSession(session).user)
        guard case .answered(let calleeSession) = call.phase else {
            try cancel(session, id, into: &effects)
            return
        }
        let (slot, _) = try userSession(session)
        guard session == call.callerSession || session == calleeSession else { throw .notCallParticipant }
        noteActivity(slot, into: &effects)
        let callerHungUp = session == call.callerSession
        finish(id, callerReason: callerHungUp ? nil : .hungUp, calleeReason: callerHungUp ? .hungUp : nil, into: &effects)
    }

    mutating func signal(_ session: SessionID, _ id: CallID, payload: String, into effects: inout [Effect]) throws(PresenceError) {
        let (_, user) = try userSession(session)
        let call = try call(id, of: user)
        guard case .answered(let calleeSession) = call.phase else {
            guard session == call.callerSession else { throw .notCallParticipant }
            throw .callStateMismatch
        }
        switch session {
        case call.callerSession: send(.callSignal(id, payload: payload), toSession: calleeSession, into: &effects)
        case calleeSession: send(.callSignal(id, payload: payload), toSession: call.callerSession, into: &effects)
        default: throw .notCallParticipant
        }
    }

    /// The call, if `user` takes part in it. To anyone else a live call is as unknown as
    /// an ended one: its existence is nobody else's business, and with several shards
    /// only the parties' homes know of it.
    func call(_ id: CallID, of user: UserRef) throws(PresenceError) -> CallRecord {
        guard let call = calls[id], call.caller == user || call.callee == user else { throw .unknownCall }
        return call
    }

    /// The ring timeout: `noAnswer` for both sides, and a missed call for the callee
    /// (unless they declined it).
    mutating func ringOut(_ id: CallID, into effects: inout [Effect]) {
        guard let call = calls[id] else { return }
        if !call.isDeclined { recordMissed(call, into: &effects) }
        finish(id, callerReason: .noAnswer, calleeReason: .noAnswer, into: &effects)
    }

    /// A session went away: end what depended on it.
    mutating func endCalls(afterSessionEnded session: SessionID, of user: UserRef, reason: CallEndReason,
                           into effects: inout [Effect]) {
        guard let id = users[user.i].call, let call = calls[id] else { return }
        if call.caller == user {
            guard call.callerSession == session else { return }
            if !call.isAnswered && !call.isDeclined { recordMissed(call, into: &effects) }
            finish(id, callerReason: nil, calleeReason: call.isAnswered ? reason : .cancelled, into: &effects)
        } else if case .answered(let calleeSession) = call.phase {
            guard calleeSession == session else { return }
            finish(id, callerReason: reason, calleeReason: nil, into: &effects)
        } else if users[user.i].sessions.isEmpty {
            // No device left to ring. The caller keeps ringing until the timeout, exactly as
            // for a callee who was never signed in.
            calls[id]!.isRungOnCallee = false
            users[user.i].call = nil
        }
    }

    /// Ends the call, telling each side that has a reason, and lets contacts see the
    /// parties' chosen statuses again. A party homed on another shard is told through its
    /// home (`callFinished`), unless that home ended the call itself (`notifying` false).
    mutating func finish(_ id: CallID, callerReason: CallEndReason?, calleeReason: CallEndReason?,
                         notifying: Bool = true, into effects: inout [Effect]) {
        guard let call = calls.removeValue(forKey: id) else { return }
        let isCallerHere = isLocal(call.caller), isCalleeHere = isLocal(call.callee)
        if let callerReason, isCallerHere {
            send(.callEnded(id, callerReason), toSession: call.callerSession, into: &effects)
        }
        if let calleeReason, isCalleeHere {
            switch call.phase {
            case .answered(let calleeSession):
                send(.callEnded(id, calleeReason), toSession: calleeSession, into: &effects)
            case .ringing where call.isRungOnCallee:
                send(.callEnded(id, calleeReason), toSessionsOf: call.callee, into: &effects)
            case .ringing:
                break
            }
        }
        if notifying && !isCallerHere {
            forward(.callFinished(id, reason: callerReason), toHomeOf: call.caller, into: &effects)
        }
        if notifying && !isCalleeHere {
            forward(.callFinished(id, reason: calleeReason), toHomeOf: call.callee, into: &effects)
        }
        if users[call.caller.i].call == id { users[call.caller.i].call = nil }
        if users[call.callee.i].call == id { users[call.callee.i].call = nil }
        if call.isAnswered {
            for (party, other) in [(call.caller, call.callee), (call.callee, call.caller)] where isLocal(party) {
                extendRevealAfterCall(of: party, to: other)
                markDirty(party, into: &effects)
            }
        }
    }

    /// Ends the call the two users have with each other, if any, with `contactRemoved` for
    /// both. A callee whose devices were not rung (logged out, or silenced while looking
    /// offline) is told nothing, as for any other end of such a call.
    mutating func endCall(between a: UserRef, and b: UserRef, into effects: inout [Effect]) {
        for id in [users[a.i].call, users[b.i].call] {
            guard let id, let call = calls[id],
                  (call.caller == a && call.callee == b) || (call.caller == b && call.callee == a) else { continue }
            finish(id, callerReason: .contactRemoved, calleeReason: .contactRemoved, into: &effects)
            return
        }
    }

    mutating func recordMissed(_ call: CallRecord, into effects: inout [Effect]) {
        effects.append(.persistMissedCall(MissedCall(call: call.id, caller: users[call.caller.i].id,
                                                     callee: users[call.callee.i].id, at: now)))
    }
}

// MARK: - Calls between shards

extension PresenceCore {
    /// On the callee's home: ring the callee's devices, or tell the caller's home the
    /// callee is busy if they look present to the caller; otherwise the call rings out
    /// there.
    mutating func receiveCallInvite(_ id: CallID, caller callerID: UserID, callerSession: SessionID,
                                    callee calleeID: UserID, payload: String, into effects: inout [Effect]) {
        let caller = intern(callerID), callee = intern(calleeID)
        guard isLocal(callee), calls[id] == nil else { return }
        if users[callee.i].call != nil && looksPresent(callee, to: caller) {
            forward(.callBusy(id), toHomeOf: caller, into: &effects)
            return
        }
        // A copy is kept even when nothing rings (the callee is logged out, or busy while
        // looking offline), so the callee's ops on the call are answered as on one shard.
        var call = CallRecord(id: id, caller: caller, callerSession: callerSession, callee: callee,
                              phase: .ringing(timeout: now.adding(ringMilliseconds)), isRungOnCallee: false)
        if users[callee.i].call == nil && !users[callee.i].sessions.isEmpty {
            call.isRungOnCallee = true
            users[callee.i].call = id
            send(.callIncoming(id, from: callerID, payload: payload), toSessionsOf: callee, into: &effects)
        }
        calls[id] = call
        forward(.callOffered(id), toHomeOf: caller, into: &effects)
    }

    /// On the caller's home: the callee's home took the call (it rings, or rings out).
    mutating func receiveCallOffered(_ id: CallID, into effects: inout [Effect]) {
        guard let call = calls[id], !call.isAnswered else { return }
        noteAct(by: call.caller, toward: call.callee, into: &effects)
    }

    /// On the caller's home: the callee is busy and looks present to the caller.
    mutating func receiveCallBusy(_ id: CallID, into effects: inout [Effect]) {
        guard let call = calls[id], !call.isAnswered else { return }
        calls[id] = nil
        if users[call.caller.i].call == id { users[call.caller.i].call = nil }
        send(.callEnded(id, .busy), toSession: call.callerSession, into: &effects)
    }

    /// On the caller's home: the callee answered. A call this home already ended is
    /// ignored; its `callFinished` is on its way to the callee's home.
    mutating func receiveCallAnswered(_ id: CallID, calleeSession: SessionID, payload: String, into effects: inout [Effect]) {
        guard let call = calls[id], !call.isAnswered else { return }
        calls[id]!.phase = .answered(calleeSession: calleeSession)
        send(.callAccepted(id, payload: payload), toSession: call.callerSession, into: &effects)
        markDirty(call.caller, into: &effects)
    }

    /// On the caller's home: the callee silenced the call while looking offline.
    mutating func receiveCallSilenced(_ id: CallID) {
        calls[id]?.isDeclined = true
    }

    /// The other side ended the call: end this side's record, telling its party `reason`.
    mutating func receiveCallFinished(_ id: CallID, reason: CallEndReason?, into effects: inout [Effect]) {
        guard let call = calls[id] else { return }
        if isLocal(call.caller) {
            finish(id, callerReason: reason, calleeReason: nil, notifying: false, into: &effects)
        } else {
            finish(id, callerReason: nil, calleeReason: reason, notifying: false, into: &effects)
        }
    }
}
