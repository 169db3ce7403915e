/// Status changes and their arrival at every contact (presence, storm).
extension ClientLoop {
    /// The next flipper in turn changes status, unless its previous change is still on
    /// its way to some contact (then this slot of the schedule is skipped).
    func issueScheduledChange() {
        guard let flippers = plan.session?.flippers, !flippers.isEmpty else { return }
        let u = Int(flippers[cursor % flippers.count])
        cursor += 1
        guard users[u].stage == .ready, users[u].pendingDeliveries == 0 else {
            if now >= measureStart { window.skipped += 1 }
            return
        }
        issueChange(u)
    }

    /// `setStatus` online ↔ busy for user `u`; every contact with a session (live or in its
    /// grace period) must then get one `presence` event with the new status.
    func issueChange(_ u: Int) {
        guard let session = plan.session else { return }
        let target = users[u].chosen.flipped
        var expected: Int32 = 0
        // Contacts that other client processes hold (outside this run's users) are not counted.
        for contact in session.users.contacts(of: userBase + u) {
            let c = Int(contact) - userBase
            if c >= 0 && c < plan.count && users[c].hasSession { expected += 1 }
        }
        users[u].chosen = target
        users[u].changeTarget = target
        users[u].changeSentAt = now
        users[u].pendingDeliveries = expected
        users[u].isChangeMeasured = now >= measureStart && now < sendEnd
        outstandingSession += Int(expected)
        if users[u].isChangeMeasured {
            window.changes += 1
            window.expected += Int(expected)
        }
        sendOp(Int32(u), ClientOps.setStatus(target))
    }

    /// `{"seq":N,"type":"presence","user":"userK@load.test","status":"…"}` at user `i`.
    func receivePresence(_ i: Int32, _ text: ServerText, typeStart: Int) {
        guard let session = plan.session, let userAt = text.valueStart(of: ServerText.userKey, from: typeStart),
              let subject = text.userIndex(at: userAt), subject < session.users.count,
              let statusAt = text.valueStart(of: ServerText.statusKey, from: userAt) else {
            result.session.unrecognisedMessages += 1
            result.note("user \(i): unreadable presence event \(text.text)")
            return
        }
        // A hidden user who chats is revealed to that partner (Protocol/presence-rules.md:
        // hidden holds until the hidden user acts toward the contact); nobody else may hear.
        let isRevealed = session.workload == .chat && subject == Int(i) ^ 1 && subject < plan.count && users[subject].chatSent > 0
        if session.users.isHidden[subject] && !isRevealed {
            result.session.hiddenViolations += 1
            if result.session.hiddenViolations == 1 { result.note("user \(i) was told about hidden user \(subject): \(text.text)") }
        }
        if session.checksContacts && !session.users.areContacts(userBase + Int(i), subject) {
            result.session.strangerEvents += 1
            if result.session.strangerEvents == 1 { result.note("user \(i) was told about non-contact \(subject): \(text.text)") }
        }
        // The subject's connection in this run, if it has one.
        let s = subject - userBase
        guard s >= 0, s < plan.count, users[s].pendingDeliveries > 0,
              UserStatus.read(text, at: statusAt) == users[s].changeTarget else {
            result.session.unmatchedPresence += 1
            return
        }
        users[s].pendingDeliveries -= 1
        outstandingSession -= 1
        if users[s].isChangeMeasured {
            window.delivered += 1
            window.latency.record(now - users[s].changeSentAt)
        }
    }
}
