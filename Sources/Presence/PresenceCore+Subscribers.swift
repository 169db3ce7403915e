// Subscribers: watch-only principals such as a clinic dashboard showing which providers
// are available. A subscriber session has no user behind it, so it never counts as
// presence, cannot chat or call, and sees only the public view (a hidden user is offline
// to it, always: nobody can act toward a subscriber). The gateway authenticates it and
// supplies the set of users it may watch.
//
// With several shards, a subscriber's session lives on one shard and may watch users homed
// on any. From its sign-in, its shard asks the home of every allowed user homed elsewhere
// to send it each publish (`ShardMessage.watch`, answered with the current view). A
// `subscribe` that names a user whose home has not answered yet waits for the answer: its
// snapshot must show the user as they are, not the mirror's "offline, never seen". (The
// client's `subscribe` usually comes back after the answers, but nothing orders the two:
// a real-socket test caught the snapshot reading the mirror first.) Until the snapshot is
// sent, the session is not among the users' subscribers, so no delta can precede it.

/// A `subscribe` waiting for its users' homes to answer this shard's `watch`. Dropped
/// when its session ends (`endSession`), so its slot always names that session.
struct PendingSubscription: Sendable {
    let slot: Int
    var refs: [UserRef]
}

extension PresenceCore {
    mutating func signInSubscriber(_ session: SessionID, allowed: Set<UserID>, attachment: SessionAttachment,
                                   into effects: inout [Effect]) throws(PresenceError) {
        guard session == nextSessionID else { throw .sessionAlreadyExists }
        var refs = Set<UserRef>()
        refs.reserveCapacity(allowed.count)
        for user in allowed { refs.insert(intern(user)) }
        for ref in refs where !isLocal(ref) {
            users[ref.i].watchingSessions += 1
            if users[ref.i].watchingSessions == 1 {
                watchAnswersAwaited.insert(ref)
                forward(.watch(user: users[ref.i].id, shard: placement.index, isWatching: true), toHomeOf: ref, into: &effects)
            }
        }
        var record = SessionRecord(id: session, owner: nil, device: .web, attachment: attachment, lastActivity: now,
                                   lastHeard: now)
        record.allowed = refs
        scheduleSessionCheck(allocateSlot(for: record))
    }

    /// All or nothing: one user outside the allowed set refuses the whole request. The
    /// snapshot lists the requested users in request order, then deltas follow.
    mutating func subscribe(_ session: SessionID, _ targets: [UserID], into effects: inout [Effect]) throws(PresenceError) {
        let slot = try slot(of: session)
        guard sessions[slot]!.owner == nil else { throw .wrongSessionKind }
        var refs: [UserRef] = []
        refs.reserveCapacity(targets.count)
        for target in targets {
            guard let ref = ref(of: target), sessions[slot]!.allowed.contains(ref) else { throw .notPermitted }
            refs.append(ref)
        }
        // Behind an earlier request of the same session still waiting, too: snapshots go
        // out in the order they were asked for.
        if refs.contains(where: watchAnswersAwaited.contains) || pendingSubscriptions.contains(where: { $0.slot == slot }) {
            pendingSubscriptions.append(PendingSubscription(slot: slot, refs: refs))
            return
        }
        completeSubscription(slot, refs, into: &effects)
    }

    /// Sends the snapshot; from now on every change of these users follows it.
    private mutating func completeSubscription(_ slot: Int, _ refs: [UserRef], into effects: inout [Effect]) {
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

    /// The home of `subject` published to this shard, its mirror now current: sends the
    /// waiting snapshots that no longer wait for anything, each session's in order.
    mutating func noteWatchAnswered(_ subject: UserRef, into effects: inout [Effect]) {
        // Every publish from another shard comes through here: nothing to do is the rule.
        guard !watchAnswersAwaited.isEmpty, watchAnswersAwaited.remove(subject) != nil, !pendingSubscriptions.isEmpty else {
            return
        }
        var stillWaiting: [PendingSubscription] = []
        var blockedSlots = Set<Int>()
        for pending in pendingSubscriptions {
            if blockedSlots.contains(pending.slot) || pending.refs.contains(where: watchAnswersAwaited.contains) {
                blockedSlots.insert(pending.slot)
                stillWaiting.append(pending)
            } else {
                completeSubscription(pending.slot, pending.refs, into: &effects)
            }
        }
        pendingSubscriptions = stillWaiting
    }

    mutating func unsubscribe(_ session: SessionID, _ targets: [UserID], into effects: inout [Effect]) throws(PresenceError) {
        let slot = try slot(of: session)
        guard sessions[slot]!.owner == nil else { throw .wrongSessionKind }
        for target in targets {
            guard let ref = ref(of: target) else { continue }
            sessions[slot]!.watching.removeAll { $0 == ref }
            users[ref.i].subscribers.removeAll { $0 == slot }
            // A waiting request no longer takes it on when its answer comes.
            for i in pendingSubscriptions.indices where pendingSubscriptions[i].slot == slot {
                pendingSubscriptions[i].refs.removeAll { $0 == ref }
            }
        }
    }

    /// A subscriber session ended: the last one here allowed to watch a user homed
    /// elsewhere tells that home to stop sending.
    mutating func releaseWatches(of record: SessionRecord, into effects: inout [Effect]) {
        for ref in record.allowed where !isLocal(ref) {
            users[ref.i].watchingSessions -= 1
            if users[ref.i].watchingSessions == 0 {
                forward(.watch(user: users[ref.i].id, shard: placement.index, isWatching: false), toHomeOf: ref, into: &effects)
            }
        }
    }

    /// On the user's home: another shard's subscribers start or stop watching. A start is
    /// answered with the current view, so that shard's snapshot is corrected at once.
    mutating func receiveWatch(user id: UserID, shard: Int, isWatching: Bool, into effects: inout [Effect]) {
        guard let user = ref(of: id) ?? (placement.home(of: id) == placement.index ? intern(id) : nil),
              isLocal(user), shard != placement.index, shard < ShardPlacement.maxCount else { return }
        let bit: UInt64 = 1 << UInt64(shard)
        guard isWatching else {
            users[user.i].watcherShards &= ~bit
            scheduleForgetCheck(user)
            return
        }
        users[user.i].watcherShards |= bit
        effects.append(.forward(published(user, forShard: shard), toShard: shard))
    }

    /// On every shard but the deleted account's home: this shard's users leave the
    /// account's contact and request lists (told `contactRemoved`, after the offline the
    /// home published), and subscriptions to it end.
    mutating func receiveAccountDeleted(_ id: UserID, into effects: inout [Effect]) {
        guard let user = ref(of: id), !isLocal(user) else { return }
        removeFromLists(deleted: user, into: &effects)
        // As on its home, where the account's record starts afresh: never seen.
        users[user.i].publishedPublic = .offline
        scheduleForgetCheck(user)
    }
}
