// The one visibility function. Every outward view of a user is derived here: presence
// events, snapshots, subscriber feeds, the receipt a sender gets, and whether a caller is
// told that the callee's devices ring or that the callee is busy. Because the hidden case
// is decided in exactly one place, what an observer gets from a hidden user is equal, value
// for value, to what it gets from a logged-out one.

/// Who is looking.
enum Observer {
    /// A particular user; only accepted contacts see anything, and reveals apply.
    case user(UserRef)
    /// Any contact the subject has not acted toward, and any subscriber: the public view.
    case everyone
}

extension PresenceCore {
    /// How `subject` looks to `observer` right now, before debouncing; `nil` when the
    /// observer may not know anything about the subject's presence.
    ///
    /// Hidden looks offline, with the last-seen a logout at the moment of hiding would have
    /// left, unless the subject revealed themselves to this observer by acting toward them
    /// (see `noteAct(by:toward:into:)`).
    ///
    /// For a subject homed on another shard this is the mirror: what the subject's home
    /// last published to this shard. Receipts and call decisions about such a subject
    /// therefore follow the settled (debounced) view, not the instant one.
    func view(of subject: UserRef, for observer: Observer) -> PresenceView? {
        var isRevealed = false
        if case .user(let user) = observer {
            guard relation(subject, user) == .accepted else { return nil }
            guard isLocal(subject) else { return publishedView(of: subject, for: user) }
            isRevealed = isRevealLive(subject, to: user)
        } else if !isLocal(subject) {
            return users[subject.i].publishedPublic
        }
        // The two fields, not the record (see `trueStatus(of:)`).
        let status = PresenceRules.observed(trueStatus(of: subject), isHidden: users[subject.i].chosen == .hidden,
                                            isRevealed: isRevealed)
        return PresenceView(status: status, lastSeen: status == .offline ? users[subject.i].offlineSince : nil)
    }

    /// The public view: what a contact without a reveal, or a subscriber, sees.
    func publicView(of subject: UserRef) -> PresenceView {
        view(of: subject, for: .everyone)!
    }

    /// Whether `observer` currently sees `subject` as present at all. Receipts and call
    /// responses hang on this, so they leak nothing that presence does not already show.
    func looksPresent(_ subject: UserRef, to observer: UserRef) -> Bool {
        (view(of: subject, for: .user(observer))?.status ?? .offline) != .offline
    }

    /// What `observer` has been told about `subject`: the last published (settled) value of
    /// `view(of:for:)`. Snapshots and new contacts start from this, so they agree with the
    /// deltas that follow.
    func publishedView(of subject: UserRef, for observer: UserRef) -> PresenceView {
        for reveal in users[subject.i].reveals where reveal.observer == observer {
            return reveal.published
        }
        return users[subject.i].publishedPublic
    }

    /// The user's true status: sessions, choice and calls combined, Hidden not applied.
    /// Reads the fields it needs in place: copying the user's and each session's record
    /// retained and released every reference in them, on each change a user publishes.
    func trueStatus(of user: UserRef) -> PresenceStatus {
        PresenceRules.combine(
            chosen: users[user.i].chosen, isInCall: isInAnsweredCall(user),
            sessions: users[user.i].sessions.lazy.map { slot in
                PresenceRules.SessionState(device: sessions[slot]!.device, isIdle: sessions[slot]!.isIdle)
            })
    }

    func isInAnsweredCall(_ user: UserRef) -> Bool {
        guard let id = users[user.i].call, let call = calls[id] else { return false }
        return call.isAnswered
    }
}
