// What happens when a deadline falls due, and how the core tells a stale one.

extension PresenceCore {
    mutating func fire(_ kind: DeadlineKind, at instant: Instant, into effects: inout [Effect]) {
        guard !isStale(kind, at: instant) else { return }
        switch kind {
        case .sessionCheck(let slot, _):
            checkSession(Int(slot), into: &effects)
        case .graceEnd(let slot, _):
            endSession(Int(slot), closing: .sessionExpired, callEnd: .connectionLost, into: &effects)
        case .publish(let user, _):
            users[user.i].isPublishScheduled = false
            publish(user, into: &effects)
        case .ringTimeout(let call):
            ringOut(call, into: &effects)
        case .revealCheck(let user):
            users[user.i].revealCheckAt = nil
            scheduleNextRevealCheck(user)
            markDirty(user, into: &effects)
        case .restoreEnd:
            endRestore(at: instant, into: &effects)
        case .forgetCheck(let user):
            checkForget(user)
        }
    }

    func isStale(_ kind: DeadlineKind, at instant: Instant) -> Bool {
        switch kind {
        case .sessionCheck(let slot, let generation):
            guard slotGenerations[Int(slot)] == generation, let session = sessions[Int(slot)] else { return true }
            return session.checkAt != instant
        case .graceEnd(let slot, let generation):
            guard slotGenerations[Int(slot)] == generation, let session = sessions[Int(slot)] else { return true }
            return session.connection != .suspended(until: instant)
        case .publish(let user, let generation):
            return !users[user.i].isPublishScheduled || users[user.i].publishGeneration != generation
        case .ringTimeout(let id):
            return calls[id]?.phase != .ringing(timeout: instant)
        case .revealCheck(let user):
            return users[user.i].revealCheckAt != instant
        case .restoreEnd:
            return restoredUntil[instant] == nil
        case .forgetCheck(let user):
            return users[user.i].forgetCheckAt != instant
        }
    }

    /// Pops stale deadlines off the front so `nextDeadline` rarely wakes the gateway for
    /// nothing.
    mutating func pruneStaleDeadlines() {
        while let first = deadlines.first, isStale(first.kind, at: first.at) {
            deadlines.removeFirst()
        }
    }
}
