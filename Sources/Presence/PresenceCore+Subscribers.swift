// Subscribers: watch-only principals such as a clinic dashboard showing which providers
// are available. A subscriber session has no user behind it, so it never counts as
// presence, cannot chat or call, and sees only the public view (a hidden user is offline
// to it, always: nobody can act toward a subscriber). The gateway authenticates it and
// supplies the set of users it may watch.

extension PresenceCore {
    mutating func signInSubscriber(_ session: SessionID, allowed: Set<UserID>, attachment: SessionAttachment,
                                   into effects: inout [Effect]) throws(PresenceError) {
        guard session == nextSessionID else { throw .sessionAlreadyExists }
        var refs = Set<UserRef>()
        refs.reserveCapacity(allowed.count)
        for user in allowed { refs.insert(intern(user)) }
        var record = SessionRecord(id: session, owner: nil, device: .web, attachment: attachment, lastActivity: now,
                                   lastHeard: now, replay: newReplayBuffer())
        record.allowed = refs
        scheduleSilenceCheck(allocateSlot(for: record))
    }

    /// All or nothing: one user outside the allowed set refuses the whole request. The
    /// snapshot lists the requested users in request order, then deltas follow.
    mutating func subscribe(_ session: SessionID, _ targets: [UserID], into effects: inout [Effect]) throws(PresenceError) {
        let slot = try slot(of: session)
        guard sessions[slot]!.owner == nil else { throw .wrongSessionKind }
        var refs: [UserRef] = []
        refs.reserveCapacity(targets.count)
        for target in targets {
            guard let ref = userRefs[target], sessions[slot]!.allowed.contains(ref) else { throw .notPermitted }
            refs.append(ref)
        }
        var entries: [ContactPresence] = []
        entries.reserveCapacity(refs.count)
        for ref in refs {
            if !sessions[slot]!.watching.contains(ref) {
                sessions[slot]!.watching.append(ref)
                users[ref.i].subscribers.append(slot)
            }
            entries.append(ContactPresence(user: users[ref.i].id, view: users[ref.i].publishedPublic))
        }
        send(.subscriptionSnapshot(entries), toSlot: slot, into: &effects)
    }

    mutating func unsubscribe(_ session: SessionID, _ targets: [UserID], into effects: inout [Effect]) throws(PresenceError) {
        let slot = try slot(of: session)
        guard sessions[slot]!.owner == nil else { throw .wrongSessionKind }
        for target in targets {
            guard let ref = userRefs[target] else { continue }
            sessions[slot]!.watching.removeAll { $0 == ref }
            users[ref.i].subscribers.removeAll { $0 == slot }
        }
    }
}
