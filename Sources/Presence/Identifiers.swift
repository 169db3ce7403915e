/// One signed-in connection's identity, issued by the core at sign-in
/// (`PresenceCore.nextSessionID`): the slot of its record in the core's session table
/// (low 24 bits), that slot's generation (the 24 bits above) and the shard of the core
/// that issued it (the 8 bits above those), so finding a session is an array index and a
/// comparison, with no map, and any shard can tell which shard holds a session. The whole
/// fits in 56 bits, so the gateway keeps it in one word with a connection's phase.
///
/// A late command for a session that has ended names a stale generation and is
/// recognised as unknown instead of reaching a stranger. A slot's IDs repeat only after
/// 16.7 million reuses of that slot, and a resume also needs the session's 128-bit secret.
public struct SessionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Shard, generation and slot, as one number (below 2^56).
    public var rawValue: UInt64
    /// Wraps a number from `rawValue`.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// The ID of `slot` (below 2^24: 16.7 million sessions per shard) at `generation`
    /// (taken modulo 2^24) on `shard` (0 to 255).
    public init(slot: Int, generation: UInt32, shard: Int = 0) {
        rawValue = UInt64(UInt8(truncatingIfNeeded: shard)) << 48 | UInt64(generation & 0xFF_FFFF) << 24
            | UInt64(slot) & 0xFF_FFFF
    }
    /// The slot of the session's record in the core.
    public var slot: Int { Int(rawValue & 0xFF_FFFF) }
    /// The shard whose core holds the session (`ShardPlacement.index`).
    public var shard: Int { Int(rawValue >> 48 & 0xFF) }
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
    /// The core's number for the pending message; the top 8 bits name the issuing shard.
    public var rawValue: UInt64
    /// Wraps a number the core handed out.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// The shard whose core issued the ticket, and must get its outcome.
    public var shard: Int { Int(rawValue >> 56) }
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
