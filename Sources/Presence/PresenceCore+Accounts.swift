// Account-level commands from the accounts side of the gateway: profile edits and
// deletion.

extension PresenceCore {
    /// The product applies profile changes at the next sign-in, so every session of the
    /// user but `kept` is closed with `reauthenticate`. The offline-mail flag counts at once.
    mutating func changeProfile(_ id: UserID, isOfflineMailEnabled: Bool, except kept: SessionID?,
                                into effects: inout [Effect]) {
        let user = intern(id)
        users[user.i].offlineMail = isOfflineMailEnabled ? .enabled : .disabled
        for slot in users[user.i].sessions where sessions[slot]!.id != kept {
            endSession(slot, closing: .reauthenticate, callEnd: .connectionLost, into: &effects)
        }
    }

    /// Contacts and subscribers see the user go offline at once (no debounce: the next
    /// event removes the user, and nothing may follow it), then the user leaves their lists,
    /// on this shard and, through `ShardMessage.accountDeleted`, on every other.
    /// Storage deletes the account's rows itself, so no persist effects are emitted. The
    /// address may sign up again later as a new, empty account.
    mutating func deleteAccount(_ id: UserID, into effects: inout [Effect]) {
        // Other shards may hold pairs with the user that this home never loaded (the user
        // was not signed in, or is not even known here): every shard is told, and each
        // ends its own users' pairs. They hear it after anything published here before.
        defer {
            for shard in 0..<placement.count where shard != placement.index {
                effects.append(.forward(.accountDeleted(id), toShard: shard))
            }
        }
        guard let user = ref(of: id) else { return }
        for slot in users[user.i].sessions {
            endSession(slot, closing: .accountDeleted, callEnd: .connectionLost, into: &effects)
        }
        publish(user, into: &effects)

        removeFromLists(deleted: user, into: &effects)
        var fresh = UserRecord(id: id, home: placement.index, isLocal: true)
        // Subscribers' allowed sets outlive the account (the address may sign up again):
        // the shards watching it keep getting its publishes.
        fresh.watcherShards = users[user.i].watcherShards
        fresh.publishGeneration = users[user.i].publishGeneration  // keeps old deadlines stale
        fresh.offlineSince = users[user.i].offlineSince
        fresh.publicStatus = .offline
        users[user.i] = fresh
        scheduleForgetCheck(user)
    }

    /// A deleted account leaves the lists of this shard's users (they are told
    /// `contactRemoved`) and this shard's subscriptions end. Pairs with users homed
    /// elsewhere are only forgotten here: their homes hear `accountDeleted` and tell them.
    mutating func removeFromLists(deleted user: UserRef, into effects: inout [Effect]) {
        let id = users[user.i].id
        for other in users[user.i].contacts + users[user.i].requests {
            setRelation(user, other, .none)
            guard isLocal(other) else { continue }
            send(.contactRemoved(id), toSessionsOf: other, into: &effects)
            scheduleForgetCheck(other)
        }
        for slot in users[user.i].subscribers {
            sessions[slot]!.watching.removeAll { $0 == user }
            send(.subscriptionEnded(id), toSlot: slot, into: &effects)
        }
        users[user.i].subscribers = []
    }
}
