/// The two pure rules that turn a user's state into what others see.
///
/// `combine` merges the user's sessions into one status; `observed` applies Hidden. The
/// core's visibility function is built from these two, and the table in
/// `Protocol/presence-rules.md` is tested row by row against them.
public enum PresenceRules {
    /// The state of one signed-in session that matters for presence.
    public struct SessionState: Hashable, Sendable {
        /// The device the session runs on.
        public var device: DeviceKind
        /// Whether the session has gone the idle time without user activity.
        public var isIdle: Bool

        /// Creates a session state.
        public init(device: DeviceKind, isIdle: Bool = false) {
            self.device = device
            self.isIdle = isIdle
        }
    }

    /// What one session contributes: idle sessions say Idle, active mobile ones Mobile,
    /// active desktop and web ones Online.
    @inlinable
    public static func contribution(of session: SessionState) -> PresenceStatus {
        if session.isIdle { return .idle }
        return session.device == .mobile ? .mobile : .online
    }

    /// A user's true status, before Hidden is applied.
    ///
    /// The order is: in a call or chose Busy > Online > Mobile > Idle (every session idle) >
    /// Offline (no session). Sessions in their disconnect grace period still count, which is
    /// what keeps a brief network drop invisible. Hidden counts as Online here; hiding is
    /// `observed`'s job.
    ///
    /// - Parameters:
    ///   - chosen: The user's persisted choice.
    ///   - isInCall: Whether the user is in an answered call.
    ///   - sessions: Every session of the user, live or in grace. Subscriber sessions are
    ///     never passed: watchers are not presence.
    @inlinable
    public static func combine<Sessions: Sequence>(
        chosen: ChosenStatus, isInCall: Bool, sessions: Sessions
    ) -> PresenceStatus where Sessions.Element == SessionState {
        var best = PresenceStatus.offline
        for session in sessions {
            best = max(best, contribution(of: session))
            if best == .online { break }  // nothing a session contributes beats Online
        }
        if best == .offline { return .offline }
        if isInCall || chosen == .busy { return .busy }
        return best
    }

    /// What an observer sees of `status`: a hidden user looks offline unless they have
    /// revealed themselves to this observer by acting toward them.
    @inlinable
    public static func observed(_ status: PresenceStatus, isHidden: Bool, isRevealed: Bool) -> PresenceStatus {
        isHidden && !isRevealed ? .offline : status
    }

    /// `combine` then `observed`, for an observer the user has not acted toward: the value a
    /// contact sees.
    @inlinable
    public static func statusSeenByContacts<Sessions: Sequence>(
        chosen: ChosenStatus, isInCall: Bool, sessions: Sessions
    ) -> PresenceStatus where Sessions.Element == SessionState {
        observed(combine(chosen: chosen, isInCall: isInCall, sessions: sessions),
                 isHidden: chosen == .hidden, isRevealed: false)
    }
}
