/// One signed-in connection's identity, assigned by the gateway at sign-in.
///
/// Unique for the life of the process and never reused, so a late command for a session
/// that has ended is recognised as unknown instead of reaching a stranger.
public struct SessionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The gateway's number for the session.
    public var rawValue: UInt64
    /// Wraps the gateway's number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: SessionID, rhs: SessionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "session \(rawValue)" }
}

/// A call's identity, assigned by the gateway when it turns an invite into a command
/// (so it can reply to the inviting client with the ID straight away). Must not repeat
/// while the call exists.
public struct CallID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The gateway's number for the call.
    public var rawValue: UInt64
    /// Wraps the gateway's number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: CallID, rhs: CallID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "call \(rawValue)" }
}

/// A chat message's durable identity, assigned by storage when it commits the message.
/// Increases with commit order, so clients sort and deduplicate by it.
public struct MessageID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Storage's row number for the message.
    public var rawValue: UInt64
    /// Wraps storage's number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: MessageID, rhs: MessageID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "message \(rawValue)" }
}

/// The core's handle on a message that storage has not committed yet. It travels out in
/// `Effect.persistMessage` and comes back in `Command.messageCommitted` or
/// `Command.messageFailed`. Only meaningful within one process lifetime.
public struct MessageTicket: Hashable, Sendable, CustomStringConvertible {
    /// The core's number for the pending message.
    public var rawValue: UInt64
    /// Wraps a number the core handed out.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "ticket \(rawValue)" }
}

/// The kind of device a session runs on. Only `mobile` matters to presence: a user signed
/// in only on mobile devices shows as `PresenceStatus.mobile`.
public enum DeviceKind: UInt8, Hashable, Sendable, CaseIterable {
    /// A desktop application.
    case desktop
    /// A phone or tablet application.
    case mobile
    /// A browser tab.
    case web
}

/// A user's dense index inside the core. Contact lists and fan-out loops hold these
/// (4 bytes each) instead of e-mail strings.
struct UserRef: Hashable, Sendable {
    let index: UInt32
    var i: Int { Int(index) }
}
