// Read-only views for operators: which sessions exist, and why a user shows the status
// contacts see. Nothing here changes the core.

/// One session as an operator sees it.
public struct SessionSummary: Hashable, Sendable {
    public var session: SessionID
    /// The signed-in user; nil for a watch-only subscriber.
    public var user: UserID?
    public var device: DeviceKind
    /// False while the session is in its disconnect grace period.
    public var isConnected: Bool
    public var isIdle: Bool
    public var lastActivity: Instant
}

/// A user's effective presence and the rule of the combination order that decided it.
public struct PresenceExplanation: Hashable, Sendable {
    public var user: UserID
    public var chosen: ChosenStatus
    public var isInCall: Bool
    public var sessions: [SessionSummary]
    /// The status before Hidden is applied.
    public var trueStatus: PresenceStatus
    /// What a contact the user has not acted toward sees.
    public var seenByContacts: PresenceStatus
    /// The rule that decided `seenByContacts`, in words.
    public var rule: String
}

extension PresenceCore {
    /// How many users the core holds a record for: signed in, in someone's list, watched, or
    /// unused for less than a minute (`PresenceCore+Forgetting.swift`).
    public var knownUserCount: Int { userIndex.count }

    /// Every session the core holds, live or in its grace period, subscribers included.
    public var sessionSummaries: [SessionSummary] {
        sessions.compactMap { $0 }.map(summary).sorted { $0.session.rawValue < $1.session.rawValue }
    }

    /// Why `id` shows what it shows; nil if the core has never seen the user.
    public func explain(_ id: UserID) -> PresenceExplanation? {
        guard let ref = ref(of: id) else { return nil }
        let record = users[ref.i]
        let sessionList = record.sessions.compactMap { sessions[$0] }.map(summary)
        let inCall = isInAnsweredCall(ref)
        let status = trueStatus(of: ref)
        let seen = PresenceRules.observed(status, isHidden: record.chosen == .hidden, isRevealed: false)
        return PresenceExplanation(user: id, chosen: record.chosen, isInCall: inCall, sessions: sessionList,
                                   trueStatus: status, seenByContacts: seen,
                                   rule: rule(status: status, chosen: record.chosen, inCall: inCall, sessions: sessionList))
    }

    /// How many signed-in users show each status to their contacts (Hidden counted as
    /// `hidden`, not as Offline, so operators can tell them apart). One pass over the users
    /// with sessions; meant for a gauge sampled about once a second.
    public var usersByStatus: [String: Int] {
        // Counted by raw value, with Hidden after the statuses, and named once at the end:
        // naming every user's status (`String(describing:)`, reflection) and hashing the
        // name made this pass ~0.5 µs per user, 2.5 ms every second for a shard of 5,000,
        // and every input queued behind it waited that long (loadtest/README.md, "Part e's
        // median was the client's bursts; the tail was a gauge").
        let hiddenIndex = PresenceStatus.allCases.count
        var counts = [Int](repeating: 0, count: hiddenIndex + 1)
        for record in users where !record.sessions.isEmpty {
            guard record.sessions.contains(where: { sessions[$0]?.owner != nil }) else { continue }
            counts[record.chosen == .hidden ? hiddenIndex : Int(record.publicStatus.rawValue)] += 1
        }
        var named: [String: Int] = [:]
        for status in PresenceStatus.allCases where counts[Int(status.rawValue)] > 0 {
            named[String(describing: status)] = counts[Int(status.rawValue)]
        }
        if counts[hiddenIndex] > 0 { named["hidden"] = counts[hiddenIndex] }
        return named
    }

    func summary(_ s: SessionRecord) -> SessionSummary {
        SessionSummary(session: s.id, user: s.owner.map { users[$0.i].id }, device: s.device,
                       isConnected: s.isConnected, isIdle: s.isIdle, lastActivity: s.lastActivity)
    }

    /// The combination order (Protocol/presence-rules.md), stated for this case.
    func rule(status: PresenceStatus, chosen: ChosenStatus, inCall: Bool, sessions: [SessionSummary]) -> String {
        if sessions.isEmpty { return "no session: Offline" }
        let hidden = chosen == .hidden ? "; chose Hidden, so contacts see Offline" : ""
        switch status {
        case .busy where inCall: return "in a call: Busy" + hidden
        case .busy: return "chose Busy: Busy" + hidden
        case .online: return "a desktop or web session is active: Online" + hidden
        case .mobile: return "only mobile sessions are active: Mobile" + hidden
        case .idle: return "every session is idle (\(configuration.idleAfter) without activity): Idle" + hidden
        case .offline: return "no session counts: Offline" + hidden
        }
    }
}

// MARK: - The gateway's attachment

extension PresenceCore {
    /// The gateway's attachment of a live (or suspended) session.
    public func attachment(of session: SessionID) -> SessionAttachment? {
        existingSlot(of: session).map { sessions[$0]!.attachment }
    }

    /// The device kind of a session (`nil` for an unknown session).
    public func device(of session: SessionID) -> DeviceKind? {
        existingSlot(of: session).map { sessions[$0]!.device }
    }

    /// The user of a user session (`nil` for a subscriber or an unknown session).
    public func user(of session: SessionID) -> UserID? {
        guard let slot = existingSlot(of: session), let owner = sessions[slot]!.owner else { return nil }
        return users[owner.i].id
    }
}
