// Forgetting users nobody refers to any more.
//
// The core interns a record for every address it hears of: a sign-in, a contact in a
// stored list, a contact request. It cannot know whether an address has an account (its
// answers must not depend on that), so a request to an address without one interns a record
// like any other. Kept for the life of the process, such records would let a requester grow
// memory without bound by asking and withdrawing.
//
// So a record is forgotten once nothing refers to it: no session, no contact, no request, no
// subscriber watching or allowed to watch it, no call, no message being committed. Not at
// once, though: the pair's tombstone (`Relation.none`) must outlive the storage write that
// removed the pair, or a sign-in that read storage just before that write landed could bring
// the pair back. `forgetDelayMilliseconds` is far longer than any write takes. A forgotten
// user who comes back is interned afresh, as if the process had never seen them.

extension PresenceCore {
    /// How long an unused record is kept before it is forgotten.
    static let forgetDelayMilliseconds: Int64 = 60_000

    /// Stands in for a forgotten record until its index is reused; nothing refers to it.
    static let forgottenID = UserID(email: "forgotten@invalid")!

    /// `user` may have stopped being needed (a relation or their last session ended): check
    /// again after the delay. Only cheap checks here; the full one runs when it falls due.
    mutating func scheduleForgetCheck(_ user: UserRef) {
        guard hasNoDirectReferences(user) else { return }
        let at = now.adding(Self.forgetDelayMilliseconds)
        users[user.i].forgetCheckAt = at  // a later change pushes the check back
        deadlines.insert(at: at, .forgetCheck(user))
    }

    /// The deadline fired: forget the record if still nothing refers to it.
    mutating func checkForget(_ user: UserRef) {
        users[user.i].forgetCheckAt = nil
        guard hasNoDirectReferences(user), !isReferencedElsewhere(user) else { return }
        forget(user)
    }

    private func hasNoDirectReferences(_ user: UserRef) -> Bool {
        let record = users[user.i]
        // A mirror of a user homed elsewhere that shows anything but "offline, never seen"
        // is kept: that home will not send it again until the user's next change, and a
        // sign-in here would read it. A user whose offline period's e-mail went out is kept
        // until they sign in: forgetting it would send a second one in the same period
        // (their home may know no contact of theirs to keep the record for, when their
        // contacts live on other shards).
        return !record.isForgotten && record.sessions.isEmpty && record.contacts.isEmpty && record.requests.isEmpty
            && record.subscribers.isEmpty && record.call == nil && record.reveals.isEmpty && record.watcherShards == 0
            && !record.isOfflineMailSent && (record.isLocal || record.publishedPublic == .offline)
    }

    /// References the record does not list itself: an answer to a `watch` still awaited
    /// from its home, a call it is the silent callee of, a
    /// message still committing, a subscriber allowed to watch it, a reveal to it kept in
    /// the mirror of a user homed elsewhere (it need not be a contact here: its list may
    /// never have been loaded on this shard). Scans, but runs only for records that are
    /// otherwise unused, once per delay.
    private func isReferencedElsewhere(_ user: UserRef) -> Bool {
        if placement.count > 1, users.contains(where: { !$0.isLocal && $0.reveals.contains { $0.observer == user } }) {
            return true
        }
        if watchAnswersAwaited.contains(user) { return true }
        if calls.values.contains(where: { $0.caller == user || $0.callee == user }) { return true }
        if pendingMessages.values.contains(where: { $0.sender == user || $0.recipient == user }) { return true }
        for case let session? in sessions where session.owner == nil && session.allowed.contains(user) { return true }
        return false
    }

    private mutating func forget(_ user: UserRef) {
        let record = users[user.i]
        userIndex.remove(user, in: users)  // before the record that holds its key goes
        // Every pair key naming this index must go before the index is reused.
        var stale: [UInt64] = []
        let names = { (key: UInt64) in UInt32(truncatingIfNeeded: key >> 32) == user.index || UInt32(truncatingIfNeeded: key) == user.index }
        for key in requesters.keys where names(key) { stale.append(key) }
        for key in knownUnrelated where names(key) { stale.append(key) }
        for key in stale {
            requesters[key] = nil
            knownUnrelated.remove(key)
        }
        var placeholder = UserRecord(id: Self.forgottenID)
        placeholder.isForgotten = true
        placeholder.publishGeneration = record.publishGeneration  // keeps old deadlines stale
        users[user.i] = placeholder
        freeUserRefs.append(user)
    }
}
