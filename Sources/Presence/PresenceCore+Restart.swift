// Carrying what contacts were shown across a process restart.
//
// Sessions live in memory, so a restart ends every one of them. Without help, contacts
// would see every user go offline at the drain and come back seconds later. Instead the
// draining process asks `shownToContacts()` for every user's public published view and
// stores it; the next process hands the rows back through `Command.restoreShown`. Until
// the restore deadline, each restored user keeps looking exactly as before the restart;
// at the deadline, only users with no session by then are recomputed and published.

/// What contacts without a reveal, and subscribers, were last shown of one user: the
/// public published view. Hidden is already applied (a hidden user is `offline` with the
/// `lastSeen` of the moment they hid), so a stored row never tells hidden from logged out.
public struct ShownPresence: Hashable, Sendable {
    /// The user.
    public var user: UserID
    /// What contacts were shown.
    public var view: PresenceView

    /// Creates a row.
    public init(user: UserID, view: PresenceView) {
        self.user = user
        self.view = view
    }
}

extension PresenceCore {
    /// The public published view of every user whose contacts were shown anything but
    /// "offline, never seen": signed-in users (hidden ones as offline), and users this
    /// process saw leave, with their `lastSeen`. Those last are included so that a hidden
    /// user's stored row looks like a logged-out user's, and so `lastSeen` survives too.
    ///
    /// A change still inside its debounce window settles here: its row is the view
    /// contacts would have been told at the end of the window. Every contact gets a fresh
    /// snapshot after the restart anyway, so nothing is skipped, and a user who logged out
    /// just before the drain keeps the `lastSeen` of that moment.
    ///
    /// Reveals are left out on purpose: they end at a restart. With several shards, each
    /// shard answers for the users it is home to.
    public func shownToContacts() -> [ShownPresence] {
        var shown: [ShownPresence] = []
        for (index, record) in users.enumerated() where record.isLocal && !record.isForgotten {
            let view = record.isPublishScheduled ? publicView(of: UserRef(index: UInt32(index))) : record.publishedPublic
            if view != .offline { shown.append(ShownPresence(user: record.id, view: view)) }
        }
        return shown
    }

    /// Adopts `rows` as what contacts have been told, and keeps it until `until`.
    ///
    /// Users who already have a session keep the core's newer state. A restored user who
    /// signs in before `until` is published through the normal path, so coming back with
    /// the same status sends contacts nothing. A restored user still without a session at
    /// `until` is recomputed then, as a grace period ending would: offline, with `until`
    /// as `lastSeen` if they were shown present.
    mutating func restoreShown(_ rows: [ShownPresence], until: Instant) {
        var restored: [UserRef] = []
        restored.reserveCapacity(rows.count)
        for row in rows {
            let user = intern(row.user)
            guard users[user.i].sessions.isEmpty else { continue }
            let isShownPresent = row.view.status != .offline
            users[user.i].publishedPublic = isShownPresent ? PresenceView(status: row.view.status) : row.view
            // A user homed on another shard: this is the mirror of what this shard's
            // contacts were shown; the user's home decides the rest.
            guard isLocal(user) else { continue }
            users[user.i].publicStatus = row.view.status
            users[user.i].offlineSince = isShownPresent ? nil : row.view.lastSeen
            // Like a session in its grace period: no "you have new messages" mail while
            // the user is still shown present and probably reconnecting.
            if isShownPresent { users[user.i].isOfflineMailSent = true }
            restored.append(user)
        }
        guard !restored.isEmpty else { return }
        let end = max(until, now)
        restoredUntil[end, default: []].append(contentsOf: restored)
        deadlines.insert(at: end, .restoreEnd)
    }

    /// The restore window at `instant` is over: everyone restored then who has no session
    /// gets the view their absence gives, published through the normal debounced path.
    mutating func endRestore(at instant: Instant, into effects: inout [Effect]) {
        guard let restored = restoredUntil.removeValue(forKey: instant) else { return }
        for user in restored where users[user.i].sessions.isEmpty {
            // Still shown present (never came back): the offline period starts now.
            if users[user.i].publicStatus != .offline { users[user.i].isOfflineMailSent = false }
            // The user's list was never loaded, yet contacts on every shard were shown them.
            users[user.i].broadcastsNextPublish = placement.count > 1
            markDirty(user, into: &effects)
        }
    }
}
