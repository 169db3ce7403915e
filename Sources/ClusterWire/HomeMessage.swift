import Presence

/// What an edge sends to the home shard of a session whose socket it holds
/// (Protocol/cluster.md, "Edge and home messages on the wire").
///
/// Not `Equatable`: `Command` is not, and this module does not give it a conformance that
/// the core's own module might one day declare differently.
public enum HomeMessage: Sendable {
    /// A client's op, or the edge's own news about a connection (`connectionLost`), for
    /// the home to apply as it applies a local connection's today.
    /// - Parameters:
    ///   - edgeNode: the edge's node id. With `connection` it is the session's attachment
    ///     in a cluster; it equals the batch's source node.
    ///   - connection: the edge's packed connection ID, for the home to name in what it
    ///     sends back, and to check a `connectionLost` against the session's attachment.
    ///   - requestID: the client's request `id`, which the reply must echo; `nil` when
    ///     nothing is answered (`connectionLost`, a command the edge raises itself).
    ///   - command: what to apply. Only the commands an edge forwards can be encoded.
    case op(edgeNode: UInt64, connection: UInt64, requestID: String?, command: Command)
}

/// Messages from one edge stream to one home shard, in the order the edge read them. The
/// header is a `BatchHeader`: the edge's node and stream as the source, the home's node
/// and presence shard as the destination.
public struct HomeBatch: Sendable {
    /// The stream and the batch's place in it.
    public var header: BatchHeader
    /// The messages, oldest first; applied in this order.
    public var messages: [HomeMessage]

    /// Creates a batch.
    public init(header: BatchHeader, messages: [HomeMessage]) {
        self.header = header
        self.messages = messages
    }
}
