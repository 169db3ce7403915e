import Presence

/// Who sent a batch, to whom, and where it falls in the stream between the two.
///
/// A stream is one source shard (of one node) to one destination shard (of one node). Its
/// sender numbers the batches 1, 2, 3 … with no gaps, so the receiver, which remembers the
/// last number per stream, tells a lost batch (a jump) from a repeated one (a number not
/// above the last) without reading the messages. The codec only carries the numbers;
/// what to do about a gap is the bus's decision.
public struct BatchHeader: Hashable, Sendable {
    /// The sending node's id (`presence:node-seq`, Protocol/cluster.md "Node ids").
    public var sourceNode: UInt64
    /// The sending shard on that node.
    public var sourceShard: UInt8
    /// The receiving node's id. With it a batch names its whole stream, so one that
    /// reaches the wrong node (or a node that has since rejoined under a new id) is seen
    /// as not its own.
    public var destinationNode: UInt64
    /// The receiving shard on that node.
    public var destinationShard: UInt8
    /// This batch's number in its stream, from 1.
    public var sequence: UInt64

    /// Creates a header.
    public init(sourceNode: UInt64, sourceShard: UInt8, destinationNode: UInt64, destinationShard: UInt8,
                sequence: UInt64) {
        self.sourceNode = sourceNode
        self.sourceShard = sourceShard
        self.destinationNode = destinationNode
        self.destinationShard = destinationShard
        self.sequence = sequence
    }
}

/// Messages from one shard to another, in the order the source sent them.
public struct ShardBatch: Equatable, Sendable {
    /// The stream and the batch's place in it.
    public var header: BatchHeader
    /// The messages, oldest first; applied in this order as `Command.fromShard`.
    public var messages: [ShardMessage]

    /// Creates a batch.
    public init(header: BatchHeader, messages: [ShardMessage]) {
        self.header = header
        self.messages = messages
    }
}

/// Encodes a batch message by message, straight into its final bytes, so a sender can
/// encode each `ShardMessage` as the core emits it and never hold the values.
///
/// The header goes first with a count of zero; `finish()` writes the real count into it.
public struct BatchWriter: Sendable {
    private var bytes: [UInt8]
    /// How many messages are in the batch so far.
    public private(set) var messageCount = 0

    /// Starts a batch.
    /// - Parameters:
    ///   - header: the stream and sequence number this batch goes out under.
    ///   - capacity: bytes to reserve up front, header included.
    public init(header: BatchHeader, reservingCapacity capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(max(capacity, ClusterWire.headerSize))
        bytes.appendHeader(header, count: 0)
    }

    /// The encoded size so far, header included.
    public var byteCount: Int { bytes.count }

    /// Appends `message` after the ones before it.
    public mutating func append(_ message: ShardMessage) {
        precondition(messageCount < Int(UInt32.max), "a batch holds at most 2^32 - 1 messages")
        bytes.appendMessage(message)
        messageCount += 1
    }

    /// The batch's bytes, with its message count filled in.
    public consuming func finish() -> [UInt8] {
        let count = UInt32(messageCount).littleEndian
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: count, toByteOffset: ClusterWire.countOffset, as: UInt32.self)
        }
        return bytes
    }
}

extension Array where Element == UInt8 {
    /// The fixed 31-byte header (Protocol/cluster.md, "Batches"). `format` is the first
    /// byte: a shard batch's version, or a home or edge batch's format.
    mutating func appendHeader(_ header: BatchHeader, count: UInt32, format: UInt8 = ClusterWire.version) {
        append(format)
        appendFixed64(header.sourceNode)
        append(header.sourceShard)
        appendFixed64(header.destinationNode)
        append(header.destinationShard)
        appendFixed64(header.sequence)
        appendFixed32(count)
    }
}

extension WireReader {
    /// The header and the message count it announces, refused when the bytes after the
    /// header could not hold that many messages. The version comes first and is checked
    /// first: a later version may change everything after it.
    mutating func header(
        format: UInt8 = ClusterWire.version, minimumMessageSize: Int = WireSize.message
    ) throws(ClusterWireError) -> (BatchHeader, count: Int) {
        let version = try byte()
        guard version == format else { throw .unsupportedVersion(version) }
        let sourceNode = try fixed64()
        let sourceShard = try byte()
        let destinationNode = try fixed64()
        let destinationShard = try byte()
        let sequence = try fixed64()
        let countOffset = offset
        let count = try fixed32()
        guard count <= remaining / minimumMessageSize else {
            throw .countBeyondEnd(count: UInt64(count), offset: countOffset)
        }
        let header = BatchHeader(sourceNode: sourceNode, sourceShard: sourceShard, destinationNode: destinationNode,
                                 destinationShard: destinationShard, sequence: sequence)
        return (header, Int(count))
    }
}
