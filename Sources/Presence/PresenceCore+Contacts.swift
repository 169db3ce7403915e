// Contacts: requests by e-mail, accept, decline, remove. Presence flows only along
// accepted relationships. No outcome here depends on the other user's presence, so a
// request to a hidden, offline or nonexistent address looks the same to the requester.
//
// With several shards, each pair has one owner (`pairOwner`), which decides every change
// to it in one order; the other home keeps a copy (`ShardMessage.pairSet`). An op is
// checked first against the acting user's home's copy, so its answer is immediate; if that
// home does not own the pair, the op then goes to the owner, which checks it against the
// truth and applies it, or drops it when a change crossing it got there first (both users
// are then told what did happen).

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

    /// Whether `a` and `b` are accepted contacts as this core knows it, which is what a
    /// signed-in user among them was last told (`contactAdded`, `contactRemoved`). Storage
    /// can lag it by a commit, so a check made for a signed-in user asks here.
    public func areContacts(_ a: UserID, _ b: UserID) -> Bool {
        guard let first = ref(of: a), let second = ref(of: b) else { return false }
        return relation(first, second) == .accepted
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

    /// Changes a relationship where this shard owns the pair, and copies the change to the
    /// other user's home if that is another shard.
    mutating func changeRelation(_ a: UserRef, _ b: UserRef, _ new: Relation, into effects: inout [Effect]) {
        setRelation(a, b, new)
        for side in [a, b] where !isLocal(side) {
            forward(.pairSet(a: users[a.i].id, b: users[b.i].id, state: contactState(of: a, with: b)),
                    toHomeOf: side, into: &effects)
        }
    }

    /// The shard that decides the pair's relationship: the home of the smaller ID.
    func pairOwner(_ a: UserRef, _ b: UserRef) -> Int {
        Int(users[a.i].id < users[b.i].id ? users[a.i].home : users[b.i].home)
    }

    func ownsPair(_ a: UserRef, _ b: UserRef) -> Bool { pairOwner(a, b) == placement.index }

    /// Sends a change checked here to the pair's owner, if that is another shard.
    /// - Returns: whether it did; the op is then done on this shard.
    func sentToOwner(_ change: PairChange, by user: UserRef, with other: UserRef, into effects: inout [Effect]) -> Bool {
        guard !ownsPair(user, other) else { return false }
        effects.append(.forward(.pairRequest(change, actor: users[user.i].id, other: users[other.i].id,
                                             seen: contactState(of: user, with: other)),
                                toShard: pairOwner(user, other)))
        return true
    }

    /// The relationship as `ContactState`, from `a`'s side (`nil` for none).
    func contactState(of a: UserRef, with b: UserRef) -> ContactState? {
        switch relation(a, b) {
        case .none: nil
        case .accepted: .accepted
        case .pending(let requester): requester == a ? .requestedByMe : .requestedByThem
        }
    }

    /// A relationship from `a`'s side.
    func relation(from state: ContactState?, _ a: UserRef, _ b: UserRef) -> Relation {
        switch state {
        case nil: .none
        case .accepted?: .accepted
        case .requestedByMe?: .pending(requester: a)
        case .requestedByThem?: .pending(requester: b)
        }
    }

    /// The user whose request to `user` is pending, or `noPendingRequest`.
    func pendingRequester(_ id: UserID, of user: UserRef) throws(PresenceError) -> UserRef {
        guard let requester = ref(of: id), relation(user, requester) == .pending(requester: requester) else {
            throw .noPendingRequest
        }
        return requester
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
        let current = ref(of: target).map { relation(user, $0) } ?? .none
        if current == .accepted { throw .alreadyContacts }
        noteActivity(slot, into: &effects)
        let other = intern(target)
        if current == .pending(requester: user) { return }  // asked already; a repeat changes nothing
        if sentToOwner(.request, by: user, with: other, into: &effects) { return }
        request(by: user, to: other, into: &effects)
    }

    /// Where this shard owns the pair.
    mutating func request(by user: UserRef, to other: UserRef, into effects: inout [Effect]) {
        switch relation(user, other) {
        case .pending(let requester) where requester == other:
            accept(by: user, from: other, into: &effects)  // both asked: that is a yes
        case .pending, .accepted:
            return
        case .none:
            changeRelation(user, other, .pending(requester: user), into: &effects)
            effects.append(.persistContact(ContactRecord(user: users[user.i].id, other: users[other.i].id, state: .requestedByMe)))
            send(.contactRequestSent(to: users[other.i].id), toSessionsOf: user, into: &effects)
            send(.contactRequestReceived(from: users[user.i].id), toSessionsOf: other, into: &effects)
        }
    }

    mutating func acceptContact(_ session: SessionID, _ requesterID: UserID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        let requester = try pendingRequester(requesterID, of: user)
        noteActivity(slot, into: &effects)
        if sentToOwner(.accept, by: user, with: requester, into: &effects) { return }
        accept(by: user, from: requester, into: &effects)
    }

    /// Both sides learn of the new contact with the view each is entitled to: a hidden
    /// acceptor is offline to the requester, like any hidden contact. Where this shard
    /// owns the pair.
    mutating func accept(by user: UserRef, from requester: UserRef, into effects: inout [Effect]) {
        changeRelation(user, requester, .accepted, into: &effects)
        effects.append(.persistContact(ContactRecord(user: users[user.i].id, other: users[requester.i].id, state: .accepted)))
        introduce(requester, to: user, into: &effects)
        introduce(user, to: requester, into: &effects)
    }

    /// Tells `observer` of their new contact `subject`, as the subject looks to them. Only
    /// the subject's home knows that: for a subject homed elsewhere, their home does it when
    /// the pair's change reaches it (`receivePairSet`).
    mutating func introduce(_ subject: UserRef, to observer: UserRef, into effects: inout [Effect]) {
        guard isLocal(subject) else { return }
        let view = publishedView(of: subject, for: observer)
        if isLocal(observer) {
            send(.contactAdded(users[subject.i].id, view), toSessionsOf: observer, into: &effects)
        } else {
            forward(.introduce(subject: users[subject.i].id, observer: users[observer.i].id, view: view),
                    toHomeOf: observer, into: &effects)
        }
    }

    /// The requester is not told: a live "declined" would show them the decliner is signed
    /// in. Their request is simply absent from their next sign-in's list.
    mutating func declineContact(_ session: SessionID, _ requesterID: UserID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        let requester = try pendingRequester(requesterID, of: user)
        noteActivity(slot, into: &effects)
        if sentToOwner(.decline, by: user, with: requester, into: &effects) { return }
        decline(by: user, of: requester, into: &effects)
    }

    /// Where this shard owns the pair.
    mutating func decline(by user: UserRef, of requester: UserRef, into effects: inout [Effect]) {
        changeRelation(user, requester, .none, into: &effects)
        effects.append(.persistContact(ContactRecord(user: users[user.i].id, other: users[requester.i].id, state: nil)))
        send(.contactRemoved(users[requester.i].id), toSessionsOf: user, into: &effects)
        scheduleForgetCheck(requester)
    }

    /// Removes a contact or withdraws an outgoing request (both sides are told), or
    /// declines an incoming one (see `declineContact`). A call between the two, ringing or
    /// answered, ends at once with `contactRemoved` for both, before the removal itself, so
    /// nothing of the call (an answer, a reveal) can land after it.
    mutating func removeContact(_ session: SessionID, _ otherID: UserID, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        guard let other = ref(of: otherID) else { throw .notAContact }
        let current = relation(user, other)
        if current == .pending(requester: other) {
            try declineContact(session, otherID, into: &effects)
            return
        }
        guard current != .none else { throw .notAContact }
        noteActivity(slot, into: &effects)
        if sentToOwner(.remove, by: user, with: other, into: &effects) { return }
        remove(by: user, of: other, into: &effects)
    }

    /// Where this shard owns the pair.
    mutating func remove(by user: UserRef, of other: UserRef, into effects: inout [Effect]) {
        endCall(between: user, and: other, into: &effects)
        changeRelation(user, other, .none, into: &effects)
        effects.append(.persistContact(ContactRecord(user: users[user.i].id, other: users[other.i].id, state: nil)))
        send(.contactRemoved(users[other.i].id), toSessionsOf: user, into: &effects)
        send(.contactRemoved(users[user.i].id), toSessionsOf: other, into: &effects)
        scheduleForgetCheck(other)
    }

    /// The owner's side of an op checked on the actor's home: checked again here, where
    /// the pair's state is the truth, and dropped if a crossing change made it moot.
    mutating func receivePairRequest(_ change: PairChange, actor actorID: UserID, other otherID: UserID,
                                     seen: ContactState?, into effects: inout [Effect]) {
        let actor = intern(actorID), other = intern(otherID)
        guard ownsPair(actor, other) else { return }
        // Neither user's list is loaded here: the actor's home read the pair from storage
        // (or had it from this shard), and storage is written only from here.
        if !knowsPair(actor, other) { setRelation(actor, other, relation(from: seen, actor, other)) }
        let current = relation(actor, other)
        switch change {
        case .request:
            request(by: actor, to: other, into: &effects)
        case .accept where current == .pending(requester: other):
            accept(by: actor, from: other, into: &effects)
        case .decline where current == .pending(requester: other), .remove where current == .pending(requester: other):
            decline(by: actor, of: other, into: &effects)
        case .remove where current != .none:
            remove(by: actor, of: other, into: &effects)
        case .accept, .decline, .remove:
            return
        }
    }

    /// The pair's owner changed it: this home's copy follows. The users here are told by
    /// the owner's own deliveries, which follow this message; a new contact is introduced
    /// from here, where the local side's view is known.
    mutating func receivePairSet(a aID: UserID, b bID: UserID, state: ContactState?, into effects: inout [Effect]) {
        let a = intern(aID), b = intern(bID)
        let new = relation(from: state, a, b)
        let old = relation(a, b)
        guard old != new else {
            // No change here, but the pair is now known: a stale stored list read by a
            // sign-in here must not bring a removed pair back.
            setRelation(a, b, new)
            return
        }
        if old == .accepted { endCall(between: a, and: b, into: &effects) }
        setRelation(a, b, new)
        if new == .accepted {
            if isLocal(a) { introduce(a, to: b, into: &effects) }
            if isLocal(b) { introduce(b, to: a, into: &effects) }
        } else if new == .none {
            scheduleForgetCheck(a)
            scheduleForgetCheck(b)
        }
    }

    /// A new contact's home says how they look to `observer`: keep it as the mirror's
    /// public view (a new contact has no reveal) and tell the observer.
    mutating func receiveIntroduce(subject subjectID: UserID, observer observerID: UserID, view: PresenceView,
                                   into effects: inout [Effect]) {
        guard let subject = ref(of: subjectID), !isLocal(subject), let observer = ref(of: observerID) else { return }
        users[subject.i].publishedPublic = view
        guard relation(subject, observer) == .accepted else { return }
        send(.contactAdded(subjectID, view), toSessionsOf: observer, into: &effects)
    }
}
