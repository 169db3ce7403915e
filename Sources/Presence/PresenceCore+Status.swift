// The user's chosen status.

extension PresenceCore {
    /// Persists the choice, tells every device of the user, and lets contacts see the
    /// settled result. Choosing any status ends all reveals: everyone sees the same thing
    /// again. That includes choosing Hidden while already Hidden, which is how a hidden user
    /// who replied to someone goes back to looking offline to them (with the `lastSeen` of
    /// the moment they first hid); nothing else changes then, so nothing is persisted and no
    /// `ownStatus` is sent.
    mutating func setStatus(_ session: SessionID, _ status: ChosenStatus, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        noteActivity(slot, into: &effects)
        guard users[user.i].chosen != status else {
            guard !users[user.i].reveals.isEmpty else { return }
            expireReveals(of: user)
            markDirty(user, into: &effects)
            return
        }
        users[user.i].chosen = status
        expireReveals(of: user)
        effects.append(.persistChosenStatus(users[user.i].id, status))
        send(.ownStatus(status), toSessionsOf: user, into: &effects)
        markDirty(user, into: &effects)
    }
}
