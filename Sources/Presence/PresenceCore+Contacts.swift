// Contacts: requests by e-mail, accept, decline, remove. Presence flows only along
// accepted relationships. No outcome here depends on the other user's presence, so a
// request to a hidden, offline or nonexistent address looks the same to the requester.

extension PresenceCore {
    /// One key per unordered pair.
    func pairKey(_ a: UserRef, _ b: UserRef) -> UInt64 {
        let (low, high) = a.index < b.index ? (a, b) : (b, a)
        return UInt64(low.index) << 32 | UInt64(high.index)
    }

    func relation(_ a: UserRef, _ b: UserRef) -> Relation {
        if users[a.i].contacts.contains(b) { return .accepted }
        if let requester = requesters[pairKey(a, b)] { return .pending(requester: requester) }
        return .none
    }

    /// Whether the core has any state for the pair (accepted, pending, or known to be
    /// unrelated): then storage's copy, possibly older, must not replace it.
    func knowsPair(_ a: UserRef, _ b: UserRef) -> Bool {
        users[a.i].contacts.contains(b) || requesters[pairKey(a, b)] != nil || knownUnrelated.contains(pairKey(a, b))
    }

    /// Changes a relationship and keeps both sides' contact and request lists in step.
    mutating func setRelation(_ a: UserRef, _ b: UserRef, _ new: Relation) {
        let old = relation(a, b)
        let key = pairKey(a, b)
        if case .pending(let requester) = new { requesters[key] = requester } else { requesters[key] = nil }
        if new == .none { knownUnrelated.insert(key) } else { knownUnrelated.remove(key) }
        let wasAccepted = old == .accepted, isAccepted = new == .accepted
        let wasPending = !wasAccepted && old != .none, isPending = !isAccepted && new != .none
        if wasAccepted && !isAccepted {
            users[a.i].contacts.removeAll { $0 == b }
            users[b.i].contacts.removeAll { $0 == a }
            forgetReveal(of: a, to: b)
            forgetReveal(of: b, to: a)
        } else if isAccepted && !wasAccepted {
            users[a.i].contacts.append(b)
            users[b.i].contacts.append(a)
        }
        if wasPending && !isPending {
            users[a.i].requests.removeAll { $0 == b }
            users[b.i].requests.removeAll { $0 == a }
        } else if isPending && !wasPending {
            users[a.i].requests.append(b)
            users[b.i].requests.append(a)
        }
    }

    /// Adopts storage's list for pairs the core has no state for. Pairs it already knows
    /// (the other side signed in earlier, or a change happened since) keep the core's
    /// state, which is never older than storage's.
    mutating func mergeContacts(of user: UserRef, _ entries: [ContactEntry]) {
        for entry in entries where entry.user != users[user.i].id {
            let other = intern(entry.user)
            guard !knowsPair(user, other) else { continue }
            switch entry.state {
            case .accepted: setRelation(user, other, .accepted)
            case .requestedByMe: setRelation(user, other, .pending(requester: user))
            case .requestedByThem: setRelation(user, other, .pending(requester: other))
            }
        }
        // Storage's list is the whole list: later sign-ins of these contacts find their
        // pairs known and append nothing more.
        users[user.i].contacts.shrinkToFit()
        users[user.i].requests.shrinkToFit()
    }

    mutating func requestContact(_ session: SessionID, _ target: UserID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        guard target != users[user.i].id else { throw .cannotTargetSelf }
        let current = userRefs[target].map { relation(user, $0) } ?? .none
        if current == .accepted { throw .alreadyContacts }
        noteActivity(slot, into: &effects)
        let other = intern(target)
        switch current {
        case .pending(let requester) where requester == other:
            accept(by: user, from: other, into: &effects)  // both asked: that is a yes
        case .pending:
            return  // asked already; a repeat changes nothing
        default:
            setRelation(user, other, .pending(requester: user))
            effects.append(.persistContact(ContactRecord(user: users[user.i].id, other: target, state: .requestedByMe)))
            send(.contactRequestSent(to: target), toSessionsOf: user, into: &effects)
            send(.contactRequestReceived(from: users[user.i].id), toSessionsOf: other, into: &effects)
        }
    }

    mutating func acceptContact(_ session: SessionID, _ requesterID: UserID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        guard let requester = userRefs[requesterID], relation(user, requester) == .pending(requester: requester)
        else { throw .noPendingRequest }
        noteActivity(slot, into: &effects)
        accept(by: user, from: requester, into: &effects)
    }

    /// Both sides learn of the new contact with the view each is entitled to: a hidden
    /// acceptor is offline to the requester, like any hidden contact.
    mutating func accept(by user: UserRef, from requester: UserRef, into effects: inout [Effect]) {
        setRelation(user, requester, .accepted)
        effects.append(.persistContact(ContactRecord(user: users[user.i].id, other: users[requester.i].id, state: .accepted)))
        send(.contactAdded(users[requester.i].id, publishedView(of: requester, for: user)), toSessionsOf: user, into: &effects)
        send(.contactAdded(users[user.i].id, publishedView(of: user, for: requester)), toSessionsOf: requester, into: &effects)
    }

    /// The requester is not told: a live "declined" would show them the decliner is signed
    /// in. Their request is simply absent from their next sign-in's list.
    mutating func declineContact(_ session: SessionID, _ requesterID: UserID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        guard let requester = userRefs[requesterID], relation(user, requester) == .pending(requester: requester)
        else { throw .noPendingRequest }
        noteActivity(slot, into: &effects)
        setRelation(user, requester, .none)
        effects.append(.persistContact(ContactRecord(user: users[user.i].id, other: requesterID, state: nil)))
        send(.contactRemoved(requesterID), toSessionsOf: user, into: &effects)
        scheduleForgetCheck(requester)
    }

    /// Removes a contact or withdraws an outgoing request (both sides are told), or
    /// declines an incoming one (see `declineContact`). A call between the two, ringing or
    /// answered, ends at once with `contactRemoved` for both, before the removal itself, so
    /// nothing of the call (an answer, a reveal) can land after it.
    mutating func removeContact(_ session: SessionID, _ otherID: UserID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        guard let other = userRefs[otherID] else { throw .notAContact }
        let current = relation(user, other)
        if current == .pending(requester: other) {
            try declineContact(session, otherID, into: &effects)
            return
        }
        guard current != .none else { throw .notAContact }
        noteActivity(slot, into: &effects)
        endCall(between: user, and: other, into: &effects)
        setRelation(user, other, .none)
        effects.append(.persistContact(ContactRecord(user: users[user.i].id, other: otherID, state: nil)))
        send(.contactRemoved(otherID), toSessionsOf: user, into: &effects)
        send(.contactRemoved(users[user.i].id), toSessionsOf: other, into: &effects)
        scheduleForgetCheck(other)
    }
}
