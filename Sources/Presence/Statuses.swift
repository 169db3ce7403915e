/// The status a user picks. It is persisted and shared by all the user's devices.
public enum ChosenStatus: UInt8, Hashable, Sendable, CaseIterable {
    /// Available; the default for a new account.
    case online
    /// Do not disturb. Contacts see `PresenceStatus.busy`.
    case busy
    /// Appear offline. Contacts see exactly what they see of a logged-out user, yet the
    /// user still receives chats and calls on every device.
    case hidden
}

/// What an observer sees of a user, ordered from least to most available-looking; the
/// order is the combination order of `PresenceRules.combine`.
///
/// There is no `hidden` here on purpose: hidden is a choice, never an observed value.
public enum PresenceStatus: UInt8, Hashable, Comparable, Sendable, CaseIterable {
    /// No session, or hidden.
    case offline
    /// Signed in, but no session has seen user activity for the idle time.
    case idle
    /// Signed in and active only on mobile devices.
    case mobile
    /// Signed in and active on a desktop or web session.
    case online
    /// Chose Busy, or is in a call.
    case busy

    public static func < (lhs: PresenceStatus, rhs: PresenceStatus) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// The whole of what one observer is told about one user's presence.
///
/// Presence events, snapshots and subscriber feeds all carry this value, and every one is
/// computed by the core's single visibility function, so a hidden user's view is equal,
/// field for field, to a logged-out user's.
public struct PresenceView: Hashable, Sendable, CustomStringConvertible {
    /// The observed status.
    public var status: PresenceStatus
    /// When the user was last seen going offline. Only set while `status` is `.offline`,
    /// and only if this process (or the one it replaced, see `Command.restoreShown`) saw
    /// the user leave; it is kept in memory and stored only at a drain. For a
    /// hidden user it is the moment they went hidden, which is what it would be had they
    /// logged out instead.
    public var lastSeen: Instant?

    /// Creates a view.
    public init(status: PresenceStatus, lastSeen: Instant? = nil) {
        self.status = status
        self.lastSeen = lastSeen
    }

    /// Offline, never seen by this process.
    public static let offline = PresenceView(status: .offline)

    public var description: String {
        lastSeen.map { "\(status) (last seen \($0))" } ?? "\(status)"
    }
}
