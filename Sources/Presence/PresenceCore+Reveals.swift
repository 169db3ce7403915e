// Hidden users acting toward a contact.
//
// Hidden means "offline to everyone", but a hidden user who replies to a chat or answers a
// call has shown that contact they are there; pretending otherwise would be absurd. So
// acting toward a contact reveals the hidden user's true status to that contact alone:
//  - Acts: committing a chat to them, inviting them to a call, answering their call.
//    Declining a call while hidden is not an act: the call goes silent on the hidden
//    user's devices and rings out for the caller exactly as if they were logged out.
//  - Duration: `revealDuration` after the latest act, kept alive by an answered call
//    between the two and restarted when it ends.
//  - Ends early when the user chooses a status (Hidden again included) or signs out of
//    every session. The contact then sees the public view again (offline).
//  - Only accepted contacts are ever revealed to: an act that lands after the two stopped
//    being contacts (a chat committed just after `removeContact`) reveals nothing, and
//    removal drops any reveal between them.

extension PresenceCore {
    mutating func noteAct(by actor: UserRef, toward observer: UserRef, into effects: inout [Effect]) {
        guard users[actor.i].chosen == .hidden, relation(actor, observer) == .accepted else { return }
        let until = now.adding(revealMilliseconds)
        if let index = users[actor.i].reveals.firstIndex(where: { $0.observer == observer }) {
            users[actor.i].reveals[index].until = max(until, users[actor.i].reveals[index].until)
        } else {
            users[actor.i].reveals.append(Reveal(observer: observer, until: until,
                                                 published: users[actor.i].publishedPublic))
        }
        scheduleRevealCheck(actor, at: until)
        markDirty(actor, into: &effects)
    }

    func isRevealLive(_ subject: UserRef, to observer: UserRef) -> Bool {
        let record = users[subject.i]
        guard record.chosen == .hidden, !record.sessions.isEmpty else { return false }
        for reveal in record.reveals where reveal.observer == observer {
            return now < reveal.until || isInAnsweredCall(subject, with: observer)
        }
        return false
    }

    func isInAnsweredCall(_ user: UserRef, with other: UserRef) -> Bool {
        guard let id = users[user.i].call, let call = calls[id], call.isAnswered else { return false }
        return call.caller == other || call.callee == other
    }

    /// Ends every reveal of `user` at the next publish.
    mutating func expireReveals(of user: UserRef) {
        for index in users[user.i].reveals.indices {
            users[user.i].reveals[index].until = now
        }
    }

    mutating func forgetReveal(of subject: UserRef, to observer: UserRef) {
        users[subject.i].reveals.removeAll { $0.observer == observer }
    }

    mutating func scheduleRevealCheck(_ user: UserRef, at instant: Instant) {
        if let scheduled = users[user.i].revealCheckAt, scheduled <= instant { return }
        users[user.i].revealCheckAt = instant
        deadlines.insert(at: instant, .revealCheck(user))
    }

    /// After a check: the next reveal still to run out. Reveals held open by a call get a
    /// new window, and a check, when the call ends.
    mutating func scheduleNextRevealCheck(_ user: UserRef) {
        var next: Instant?
        for reveal in users[user.i].reveals where reveal.until > now {
            next = min(next ?? reveal.until, reveal.until)
        }
        if let next { scheduleRevealCheck(user, at: next) }
    }

    /// A call between the two ended: a hidden party's reveal restarts its window.
    mutating func extendRevealAfterCall(of user: UserRef, to other: UserRef) {
        guard users[user.i].chosen == .hidden,
              let index = users[user.i].reveals.firstIndex(where: { $0.observer == other }) else { return }
        let until = now.adding(revealMilliseconds)
        users[user.i].reveals[index].until = max(until, users[user.i].reveals[index].until)
        scheduleRevealCheck(user, at: until)
    }
}
