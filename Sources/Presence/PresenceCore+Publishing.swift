// Damping and fan-out. A change to what others see of a user marks the user dirty; the
// settled view is published once the debounce window has passed, only if it differs from
// what was last published. One event value goes to all contact and subscriber sessions.

extension PresenceCore {
    /// Something that may change how `user` looks has happened.
    ///
    /// The window starts at the first change and is not pushed back by later ones, so a
    /// user who keeps flipping is still published at least once per window.
    mutating func markDirty(_ user: UserRef, into effects: inout [Effect]) {
        let status = publicView(of: user).status
        if status == .offline && users[user.i].publicStatus != .offline {
            users[user.i].offlineSince = now
        }
        users[user.i].publicStatus = status
        guard debounceMilliseconds > 0 else {
            publish(user, into: &effects)
            return
        }
        guard !users[user.i].isPublishScheduled else { return }
        users[user.i].isPublishScheduled = true
        users[user.i].publishGeneration &+= 1
        deadlines.insert(at: now.adding(debounceMilliseconds),
                         .publish(user, generation: users[user.i].publishGeneration))
    }

    /// Tells everyone whose view of `user` changed since they were last told, and, with
    /// several shards, the other shards where contacts or subscribers of the user are.
    mutating func publish(_ user: UserRef, into effects: inout [Effect]) {
        var isChanged = false
        let target = publicView(of: user)
        if target != users[user.i].publishedPublic {
            users[user.i].publishedPublic = target
            fanOut(.presence(users[user.i].id, target), of: user, into: &effects)
            isChanged = true
        }
        var index = 0
        while index < users[user.i].reveals.count {
            let reveal = users[user.i].reveals[index]
            // The visibility function answers only for accepted contacts: a reveal to
            // anyone else is dropped untold (presence goes to current contacts only).
            guard let revealed = view(of: user, for: .user(reveal.observer)) else {
                users[user.i].reveals.remove(at: index)
                isChanged = true
                continue
            }
            let isLive = isRevealLive(user, to: reveal.observer)
            if revealed != reveal.published {
                users[user.i].reveals[index].published = revealed
                // An observer on another shard is told there, from `forwardPublished`.
                if isLocal(reveal.observer) {
                    send(.presence(users[user.i].id, revealed), toSessionsOf: reveal.observer, into: &effects)
                }
                isChanged = true
            }
            if isLive {
                index += 1
            } else {
                users[user.i].reveals.remove(at: index)
                isChanged = true
            }
        }
        if placement.count > 1 && (isChanged || users[user.i].broadcastsNextPublish) {
            forwardPublished(user, into: &effects)
        }
    }

    /// One `ShardMessage.published` to each other shard with a contact or a subscriber of
    /// `user`, carrying the public view and the reveals to that shard's users. The
    /// receiving shard tells its own users; in a reveal-free publish (nearly all), that is
    /// its own single fan-out of one shared event.
    mutating func forwardPublished(_ user: UserRef, into effects: inout [Effect]) {
        var shards = users[user.i].watcherShards
        if users[user.i].broadcastsNextPublish {
            shards = placement.count >= 64 ? .max : (1 << UInt64(placement.count)) - 1
            users[user.i].broadcastsNextPublish = false
        }
        for contact in users[user.i].contacts where !users[contact.i].isLocal {
            shards |= 1 << UInt64(users[contact.i].home)
        }
        shards &= ~(1 << UInt64(placement.index))
        while shards != 0 {
            let shard = shards.trailingZeroBitCount
            shards &= shards - 1
            effects.append(.forward(published(user, forShard: shard), toShard: shard))
        }
    }

    /// What shard `shard` is to be told of `user`: the public view, and the reveals to
    /// that shard's users.
    func published(_ user: UserRef, forShard shard: Int) -> ShardMessage {
        var reveals: [RevealedView] = []
        for reveal in users[user.i].reveals where Int(users[reveal.observer.i].home) == shard {
            reveals.append(RevealedView(observer: users[reveal.observer.i].id, view: reveal.published))
        }
        return .published(subject: users[user.i].id, view: users[user.i].publishedPublic, reveals: reveals)
    }

    /// Another shard published one of its users: keep the mirror, and tell this shard's
    /// contacts and subscribers whose view changed.
    mutating func receivePublished(subject id: UserID, view: PresenceView, reveals: [RevealedView],
                                   into effects: inout [Effect]) {
        let subject = intern(id)
        guard !isLocal(subject) else { return }
        // After the mirror is updated, whichever way this returns.
        defer { noteWatchAnswered(subject, into: &effects) }
        let oldPublic = users[subject.i].publishedPublic
        let oldReveals = users[subject.i].reveals
        var newReveals: [Reveal] = []
        for reveal in reveals {
            // An observer this shard has no record of has no session to tell, and will
            // read the public view at sign-in: the safe side for a hidden subject.
            guard let observer = ref(of: reveal.observer), isLocal(observer) else { continue }
            newReveals.append(Reveal(observer: observer, until: now, published: reveal.view))
        }
        users[subject.i].publishedPublic = view
        users[subject.i].reveals = newReveals
        if oldReveals.isEmpty && newReveals.isEmpty {
            if view != oldPublic { fanOut(.presence(id, view), of: subject, into: &effects) }
            return
        }
        for contact in users[subject.i].contacts {
            let old = oldReveals.first { $0.observer == contact }?.published ?? oldPublic
            let new = newReveals.first { $0.observer == contact }?.published ?? view
            if old != new { send(.presence(id, new), toSessionsOf: contact, into: &effects) }
        }
        if view != oldPublic {
            var deliveries: [Delivery] = []
            for slot in users[subject.i].subscribers { sessions[slot]!.record(.presence(id, view), within: replayLimits, into: &deliveries) }
            if !deliveries.isEmpty { effects.append(.deliver(.presence(id, view), to: deliveries)) }
        }
    }

    /// The hot path: one shared event to every session of every contact (except those with
    /// a reveal, who are told separately) and of every subscriber. One `Delivery` array is
    /// the only allocation.
    mutating func fanOut(_ event: Event, of user: UserRef, into effects: inout [Effect]) {
        let contacts = users[user.i].contacts
        let subscribers = users[user.i].subscribers
        let reveals = users[user.i].reveals
        // Each recipient's user record, session record and replay ring lie scattered over
        // the heap, and appending to a ring waited for its header to come from memory, one
        // recipient after the other (`ReplayBuffer.append` was ~10% of the pinned server's
        // time, two thirds of it that one load; loadtest/README.md, "Pinned fan-out,
        // 3 December (second session)"). This first pass only reads them: its body is short
        // and its loads independent, so the processor has many of them in flight at once,
        // and the appends below find the lines in the cache. What it read feeds the
        // reservation, so the optimizer cannot drop the loads.
        var touched = 0
        sessions.withUnsafeBufferPointer { table in
            for contact in contacts {
                let count = users[contact.i].sessions.count
                for k in 0..<count { touched &+= table[users[contact.i].sessions[k]]?.replay.storageCount ?? 0 }
            }
        }
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(contacts.count + subscribers.count + (touched < 0 ? 1 : 0))
        for contact in contacts {
            if !reveals.isEmpty && reveals.contains(where: { $0.observer == contact }) { continue }
            // By index: `for slot in users[…].sessions` retains and releases each contact's
            // array (~4% of the pinned server's time under fan-out load, loadtest/README.md).
            let count = users[contact.i].sessions.count
            for k in 0..<count {
                sessions[users[contact.i].sessions[k]]!.record(event, within: replayLimits, into: &deliveries)
            }
        }
        for slot in subscribers {
            sessions[slot]!.record(event, within: replayLimits, into: &deliveries)
        }
        if !deliveries.isEmpty { effects.append(.deliver(event, to: deliveries)) }
    }
}
