import Presence

/// One frame between two gateway nodes of a cluster, as `presenced` sends it over the node
/// link (Protocol/cluster.md, "Node frames"). Every frame names the cluster epoch it was
/// made in (a hash of the live members, see `ClusterEpoch` in the gateway): a node applies
/// only frames of its own epoch, because shard numbers, session IDs and the peers' slots
/// in connection words mean something only within one.
///
/// - `shard`: a presence shard's message to a shard of the receiving node (the cross-node
///   half of `ClusterBus`), applied there as `Command.fromShard`.
/// - `op`, `signIn`, `resume`, `connectionLost`: what an edge (the node holding a client's
///   socket) hands to the home node of the session (the node whose shard owns its user).
///   An op is the client's text as it came, so the home decodes and answers it exactly as
///   it would a local connection's.
/// - `edge`: what a home does to a connection its edge holds (`EdgeMessage`).
/// - `homeReset`: the sender's presence shards were rebuilt: every connection whose session
///   it homed is gone there, and the receiver closes them (the clients sign in again).
public enum NodeFrame: Sendable {
    case shard(epoch: UInt64, toShard: UInt8, message: ShardMessage)
    case op(epoch: UInt64, session: SessionID, connection: UInt64, device: DeviceKind, remoteAddress: String, text: [UInt8])
    /// `principal` is the sign-in reply's members after `session` and `resumeToken`, as
    /// JSON text the edge wrote (the profile is the edge's to read); the home splices it in.
    case signIn(epoch: UInt64, connection: UInt64, requestID: String, principal: [UInt8], request: SignIn)
    case resume(epoch: UInt64, connection: UInt64, requestID: String, session: SessionID,
                secretHigh: UInt64, secretLow: UInt64, lastSeq: UInt64)
    case connectionLost(epoch: UInt64, session: SessionID, connection: UInt64)
    case edge(epoch: UInt64, message: EdgeMessage)
    case homeReset(epoch: UInt64)
    /// A command nobody answers, for the home of the user it names (an account change made
    /// on another node: a password reset there closes the user's sessions).
    case command(epoch: UInt64, command: Command)

    /// The epoch the frame was made in.
    public var epoch: UInt64 {
        switch self {
        case .shard(let e, _, _), .op(let e, _, _, _, _, _), .signIn(let e, _, _, _, _), .resume(let e, _, _, _, _, _, _),
             .connectionLost(let e, _, _), .edge(let e, _), .homeReset(let e), .command(let e, _):
            e
        }
    }

    enum Tag: UInt8 {
        case shard = 1, op, signIn, resume, connectionLost, edge, homeReset, command
    }
}

extension ClusterWire {
    /// The first byte of every node frame: its format, so a later format is refused, not misread.
    public static let nodeFrameFormat: UInt8 = 4

    /// Appends the frame's encoding. Throws `commandNotForwarded` (having appended nothing
    /// useful: the caller drops the buffer) only for a sign-in whose command has no form.
    public static func encode(_ frame: NodeFrame, into bytes: inout [UInt8]) throws(ClusterWireError) {
        bytes.append(nodeFrameFormat)
        switch frame {
        case .shard(let epoch, let toShard, let message):
            bytes.append(NodeFrame.Tag.shard.rawValue)
            bytes.appendFixed64(epoch)
            bytes.append(toShard)
            bytes.appendMessage(message)
        case .op(let epoch, let session, let connection, let device, let remoteAddress, let text):
            bytes.append(NodeFrame.Tag.op.rawValue)
            bytes.appendFixed64(epoch)
            bytes.appendFixed64(session.rawValue)
            bytes.appendFixed64(connection)
            bytes.append(WireValue.byte(for: device))
            bytes.appendString(remoteAddress)
            bytes.appendBytes(text)
        case .signIn(let epoch, let connection, let requestID, let principal, let request):
            bytes.append(NodeFrame.Tag.signIn.rawValue)
            bytes.appendFixed64(epoch)
            bytes.appendFixed64(connection)
            bytes.appendString(requestID)
            bytes.appendBytes(principal)
            try bytes.appendCommand(.signIn(request))
        case .resume(let epoch, let connection, let requestID, let session, let secretHigh, let secretLow, let lastSeq):
            bytes.append(NodeFrame.Tag.resume.rawValue)
            bytes.appendFixed64(epoch)
            bytes.appendFixed64(connection)
            bytes.appendString(requestID)
            bytes.appendFixed64(session.rawValue)
            bytes.appendFixed64(secretHigh)
            bytes.appendFixed64(secretLow)
            bytes.appendVarint(lastSeq)
        case .connectionLost(let epoch, let session, let connection):
            bytes.append(NodeFrame.Tag.connectionLost.rawValue)
            bytes.appendFixed64(epoch)
            bytes.appendFixed64(session.rawValue)
            bytes.appendFixed64(connection)
        case .edge(let epoch, let message):
            bytes.append(NodeFrame.Tag.edge.rawValue)
            bytes.appendFixed64(epoch)
            bytes.appendEdgeMessage(message)
        case .homeReset(let epoch):
            bytes.append(NodeFrame.Tag.homeReset.rawValue)
            bytes.appendFixed64(epoch)
        case .command(let epoch, let command):
            bytes.append(NodeFrame.Tag.command.rawValue)
            bytes.appendFixed64(epoch)
            try bytes.appendCommand(command)
        }
    }

    /// The epoch of a frame, read without decoding the rest (a node drops a frame of another
    /// epoch unread); nil if the bytes are not a node frame.
    public static func nodeFrameEpoch(_ bytes: some Collection<UInt8>) -> UInt64? {
        try? borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            guard try reader.byte() == nodeFrameFormat else { throw .unsupportedVersion(raw.first ?? 0) }
            _ = try reader.byte()
            return try reader.fixed64()
        }
    }

    /// Decodes a node frame that fills `bytes` exactly.
    public static func decodeNodeFrame(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> NodeFrame {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            let format = try reader.byte()
            guard format == nodeFrameFormat else { throw .unsupportedVersion(format) }
            let tagOffset = reader.offset
            let tagByte = try reader.byte()
            guard let tag = NodeFrame.Tag(rawValue: tagByte) else { throw .unknownMessageTag(tagByte, offset: tagOffset) }
            let epoch = try reader.fixed64()
            let frame: NodeFrame
            switch tag {
            case .shard:
                let toShard = try reader.byte()
                frame = .shard(epoch: epoch, toShard: toShard, message: try reader.message())
            case .op:
                let session = SessionID(try reader.fixed64())
                let connection = try reader.fixed64()
                let deviceOffset = reader.offset
                let deviceByte = try reader.byte()
                guard let device = WireValue.deviceKind(deviceByte) else { throw .invalidValue(deviceByte, offset: deviceOffset) }
                let remoteAddress = try reader.string()
                frame = .op(epoch: epoch, session: session, connection: connection, device: device, remoteAddress: remoteAddress,
                            text: try reader.byteArray())
            case .signIn:
                let connection = try reader.fixed64()
                let requestID = try reader.string()
                let principal = try reader.byteArray()
                let commandOffset = reader.offset
                guard case .signIn(let request) = try reader.command() else {
                    throw .invalidValue(raw[commandOffset], offset: commandOffset)
                }
                frame = .signIn(epoch: epoch, connection: connection, requestID: requestID, principal: principal, request: request)
            case .resume:
                let connection = try reader.fixed64()
                let requestID = try reader.string()
                let session = SessionID(try reader.fixed64())
                let high = try reader.fixed64(), low = try reader.fixed64()
                frame = .resume(epoch: epoch, connection: connection, requestID: requestID, session: session,
                                secretHigh: high, secretLow: low, lastSeq: try reader.varint())
            case .connectionLost:
                let session = SessionID(try reader.fixed64())
                frame = .connectionLost(epoch: epoch, session: session, connection: try reader.fixed64())
            case .edge:
                frame = .edge(epoch: epoch, message: try reader.edgeMessage())
            case .homeReset:
                frame = .homeReset(epoch: epoch)
            case .command:
                frame = .command(epoch: epoch, command: try reader.command())
            }
            try reader.expectEnd()
            return frame
        }
    }
}
