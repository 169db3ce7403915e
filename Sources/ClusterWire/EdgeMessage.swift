import Presence

/// What a session's home tells the edge that holds its socket (Protocol/cluster.md, "Edge
/// and home messages on the wire"). The home runs the core and encodes what the core's
/// effects write to sockets; the edge writes those bytes, and keeps nothing of a session
/// but the connection's word. Each case is one thing `PresenceThread` does to a
/// connection in a single process today.
///
/// Connections are named by their packed connection ID on the edge (`ConnectionID.packed`,
/// what `SessionAttachment.connection` and `Delivery.connection` hold): the edge's own
/// number, carried back to it unread.
public enum EdgeMessage: Equatable, Sendable {
    /// An event for several connections: `body` is the event encoded once
    /// (`EventEncoder.encodeEventBody`, without its `{"seq":N,` prefix), and each
    /// recipient gets the prefix with its own sequence, then the body, as one text
    /// message (`Server.deliver(body:to:prefix:)`).
    case deliver(body: [UInt8], to: [EdgeRecipient])
    /// One text message for one connection, already encoded: an op's reply, an error, the
    /// `closing` notice before a close.
    case reply(connection: UInt64, bytes: [UInt8])
    /// Close the connection with this WebSocket close code and reason. A close the client
    /// should understand is preceded by a `reply` carrying the `closing` notice, as in a
    /// single process; a bare close (a resume that moved the session) has none.
    case close(connection: UInt64, code: UInt16, reason: String)
    /// The core accepted a sign-in or resume on this connection: the edge marks the
    /// connection signed in as `session` (`device` for a user, `nil` for a subscriber)
    /// before it writes the reply that follows, so the client's next op finds it signed
    /// in (`GatewayHandler.signedIn`).
    case attach(connection: UInt64, session: SessionID, device: DeviceKind?)
    /// The core refused a sign-in or resume the edge forwarded: the connection is back to
    /// awaiting a sign-in, with a fresh allowance (`GatewayHandler.signInFailed`). The error
    /// reply follows as a `reply`.
    case signInRefused(connection: UInt64)
}

/// One recipient of an `EdgeMessage.deliver`: the connection, and the sequence number its
/// session gave the event (its `seq`, for replay and acknowledgement).
public struct EdgeRecipient: Hashable, Sendable {
    /// The edge's packed connection ID.
    public var connection: UInt64
    /// The event's `seq` for this session.
    public var sequence: UInt64

    /// Creates a recipient.
    public init(connection: UInt64, sequence: UInt64) {
        self.connection = connection
        self.sequence = sequence
    }
}

/// Messages from one home shard to one edge, in the order the home produced them. The
/// header is a `BatchHeader`: the home's node and presence shard as the source, the edge's
/// node and stream as the destination.
public struct EdgeBatch: Equatable, Sendable {
    /// The stream and the batch's place in it.
    public var header: BatchHeader
    /// The messages, oldest first; carried out in this order.
    public var messages: [EdgeMessage]

    /// Creates a batch.
    public init(header: BatchHeader, messages: [EdgeMessage]) {
        self.header = header
        self.messages = messages
    }
}
