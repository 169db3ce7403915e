// The user's chosen status.

extension PresenceCore {
    /// Persists the choice, tells every device of the user, and lets contacts see the
    /// settled result. Choosing anything other than Hidden ends all reveals: everyone sees
    /// the same thing again.
    mutating func setStatus(_ session: SessionID, _ status: ChosenStatus, into effects: inout [Effect]) throws(PresenceError) {
        let (slot, user) = try userSession(session)
        noteActivity(slot, into: &effects)
        guard users[user.i].chosen != status else { return }
        users[user.i].chosen = status
        expireReveals(of: user)
        effects.append(.persistChosenStatus(users[user.i].id, status))
        send(.ownStatus(status), toSessionsOf: user, into: &effects)
        markDirty(user, into: &effects)
    }
}
