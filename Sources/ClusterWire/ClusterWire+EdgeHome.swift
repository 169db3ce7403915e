import Presence

/// Which of the three batch formats a frame holds, from its first byte. All three share
/// the node link, so a receiver reads this first and hands the frame to the right decoder.
public enum BatchKind: Hashable, Sendable {
    /// Shard messages between presence shards (`ShardBatch`, first byte 1).
    case shard
    /// Edge → home ops (`HomeBatch`, first byte 2).
    case home
    /// Home → edge deliveries, replies and closes (`EdgeBatch`, first byte 3).
    case edge
}

// The edge ↔ home forms (Protocol/cluster.md, "Edge and home messages on the wire"): the
// same header and primitives as shard batches, under their own first byte, so no batch
// of one kind can be read as another.
extension ClusterWire {
    /// The first byte of a home batch (edge → home), format version 1 of that kind.
    public static let homeBatchFormat: UInt8 = 2
    /// The first byte of an edge batch (home → edge), format version 1 of that kind.
    public static let edgeBatchFormat: UInt8 = 3

    /// The kind of batch `bytes` hold, from the first byte alone; throws `truncated` for no
    /// bytes and `unsupportedVersion` for a first byte this decoder does not speak.
    public static func batchKind(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> BatchKind {
        guard let first = bytes.first else { throw .truncated(offset: 0) }
        switch first {
        case version: return .shard
        case homeBatchFormat: return .home
        case edgeBatchFormat: return .edge
        default: throw .unsupportedVersion(first)
        }
    }

    // MARK: - Commands

    /// Appends one command's encoding to `bytes`. Throws `commandNotForwarded`, having
    /// appended nothing, for the commands that never cross from an edge to a home.
    public static func encode(_ command: Command, into bytes: inout [UInt8]) throws(ClusterWireError) {
        try bytes.appendCommand(command)
    }

    /// Decodes one command that fills `bytes` exactly.
    public static func decodeCommand(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> Command {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            let command = try reader.command()
            try reader.expectEnd()
            return command
        }
    }

    // MARK: - Home (edge → home)

    /// Appends one home message's encoding to `bytes`; throws `commandNotForwarded`, having
    /// appended nothing, for a command that never crosses from an edge to a home.
    public static func encode(_ message: HomeMessage, into bytes: inout [UInt8]) throws(ClusterWireError) {
        try bytes.appendHomeMessage(message)
    }

    /// Appends a whole home batch (header, then each message) to `bytes`; on a refused
    /// command, throws having appended nothing.
    public static func encodeBatch(_ batch: HomeBatch, into bytes: inout [UInt8]) throws(ClusterWireError) {
        precondition(batch.messages.count <= Int(UInt32.max), "a batch holds at most 2^32 - 1 messages")
        let start = bytes.count
        bytes.appendHeader(batch.header, count: UInt32(batch.messages.count), format: homeBatchFormat)
        do throws(ClusterWireError) {
            for message in batch.messages { try bytes.appendHomeMessage(message) }
        } catch {
            bytes.removeSubrange(start...)
            throw error
        }
    }

    /// Decodes one home message that fills `bytes` exactly.
    public static func decodeHomeMessage(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> HomeMessage {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            let message = try reader.homeMessage()
            try reader.expectEnd()
            return message
        }
    }

    /// Decodes a home batch that fills `bytes` exactly, with the same strictness as
    /// `decodeBatch`: a first byte other than `homeBatchFormat` is `unsupportedVersion`.
    public static func decodeHomeBatch(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> HomeBatch {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            let batch = try reader.homeBatch()
            try reader.expectEnd()
            return batch
        }
    }

    /// Reads only a home batch's header (the announced count is checked against `bytes`).
    public static func decodeHomeHeader(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> BatchHeader {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            return try reader.header(format: homeBatchFormat, minimumMessageSize: WireSize.homeMessage).0
        }
    }

    // MARK: - Edge (home → edge)

    /// Appends one edge message's encoding to `bytes`.
    public static func encode(_ message: EdgeMessage, into bytes: inout [UInt8]) {
        bytes.appendEdgeMessage(message)
    }

    /// Appends a whole edge batch (header, then each message) to `bytes`.
    public static func encodeBatch(_ batch: EdgeBatch, into bytes: inout [UInt8]) {
        precondition(batch.messages.count <= Int(UInt32.max), "a batch holds at most 2^32 - 1 messages")
        bytes.appendHeader(batch.header, count: UInt32(batch.messages.count), format: edgeBatchFormat)
        for message in batch.messages { bytes.appendEdgeMessage(message) }
    }

    /// Decodes one edge message that fills `bytes` exactly.
    public static func decodeEdgeMessage(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> EdgeMessage {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            let message = try reader.edgeMessage()
            try reader.expectEnd()
            return message
        }
    }

    /// Decodes an edge batch that fills `bytes` exactly; a first byte other than
    /// `edgeBatchFormat` is `unsupportedVersion`.
    public static func decodeEdgeBatch(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> EdgeBatch {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            let batch = try reader.edgeBatch()
            try reader.expectEnd()
            return batch
        }
    }

    /// Reads only an edge batch's header (the announced count is checked against `bytes`).
    public static func decodeEdgeHeader(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> BatchHeader {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            return try reader.header(format: edgeBatchFormat, minimumMessageSize: WireSize.edgeMessage).0
        }
    }
}
