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

    /// Tells everyone whose view of `user` changed since they were last told.
    mutating func publish(_ user: UserRef, into effects: inout [Effect]) {
        let target = publicView(of: user)
        if target != users[user.i].publishedPublic {
            users[user.i].publishedPublic = target
            fanOut(.presence(users[user.i].id, target), of: user, into: &effects)
        }
        guard !users[user.i].reveals.isEmpty else { return }
        var index = 0
        while index < users[user.i].reveals.count {
            let reveal = users[user.i].reveals[index]
            // The visibility function answers only for accepted contacts: a reveal to
            // anyone else is dropped untold (presence goes to current contacts only).
            guard let revealed = view(of: user, for: .user(reveal.observer)) else {
                users[user.i].reveals.remove(at: index)
                continue
            }
            let isLive = isRevealLive(user, to: reveal.observer)
            if revealed != reveal.published {
                users[user.i].reveals[index].published = revealed
                send(.presence(users[user.i].id, revealed), toSessionsOf: reveal.observer, into: &effects)
            }
            if isLive {
                index += 1
            } else {
                users[user.i].reveals.remove(at: index)
            }
        }
    }

    /// The hot path: one shared event to every session of every contact (except those with
    /// a reveal, who are told separately) and of every subscriber. One `Delivery` array is
    /// the only allocation.
    mutating func fanOut(_ event: Event, of user: UserRef, into effects: inout [Effect]) {
        let contacts = users[user.i].contacts
        let subscribers = users[user.i].subscribers
        let reveals = users[user.i].reveals
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(contacts.count + subscribers.count)
        for contact in contacts {
            if !reveals.isEmpty && reveals.contains(where: { $0.observer == contact }) { continue }
            // By index: `for slot in users[…].sessions` retains and releases each contact's
            // array (~4% of the pinned server's time under fan-out load, loadtest/README.md).
            let count = users[contact.i].sessions.count
            for k in 0..<count {
                sessions[users[contact.i].sessions[k]]!.record(event, into: &deliveries)
            }
        }
        for slot in subscribers {
            sessions[slot]!.record(event, into: &deliveries)
        }
        if !deliveries.isEmpty { effects.append(.deliver(event, to: deliveries)) }
    }
}
