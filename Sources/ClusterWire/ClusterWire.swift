import Presence

/// The binary form of `ShardMessage`, for a `ClusterBus` whose shards are in other
/// processes (Protocol/cluster.md, "Shard messages on the wire"), and of what an edge and
/// a session's home send each other (`HomeMessage`, `EdgeMessage`: "Edge and home
/// messages on the wire", in `ClusterWire+EdgeHome.swift`). Pure: bytes in, values or a
/// `ClusterWireError` out, and values in, bytes appended.
///
/// Why binary and not the JSON the clients speak: every presence change fans out through
/// here once per destination shard, so the format is cheap to write and to check. Fixed
/// little-endian widths for identities and times (one load each), LEB128 varints for
/// lengths and counts (one byte for nearly all), UTF-8 strings copied whole.
public enum ClusterWire {
    /// The format version, the first byte of every batch. A change to any layout below is
    /// a new version; a decoder refuses versions it does not know.
    public static let version: UInt8 = 1

    /// Bytes before the first message: version, source node and shard, destination node
    /// and shard, sequence, message count.
    public static let headerSize = 31

    /// Where the message count sits in the header.
    static let countOffset = 27

    /// Appends one message's encoding to `bytes`.
    public static func encode(_ message: ShardMessage, into bytes: inout [UInt8]) {
        bytes.appendMessage(message)
    }

    /// Appends a whole batch (header, then each message) to `bytes`.
    public static func encodeBatch(_ batch: ShardBatch, into bytes: inout [UInt8]) {
        precondition(batch.messages.count <= Int(UInt32.max), "a batch holds at most 2^32 - 1 messages")
        // A guess (most messages are a few dozen bytes); growth past it stays geometric.
        let estimate = bytes.count + headerSize + 64 * batch.messages.count
        if bytes.capacity < estimate { bytes.reserveCapacity(Swift.max(estimate, 2 * bytes.capacity)) }
        bytes.appendHeader(batch.header, count: UInt32(batch.messages.count))
        for message in batch.messages { bytes.appendMessage(message) }
    }

    /// Decodes a batch that fills `bytes` exactly.
    ///
    /// Throws for anything but a well-formed batch of this version: a truncation anywhere,
    /// an unknown tag or value, a count the input could not hold, invalid UTF-8, a user ID
    /// that is not normalized, bytes after the last message. It never traps, and reserves
    /// room only for elements the input has bytes for.
    public static func decodeBatch(_ bytes: UnsafeRawBufferPointer) throws(ClusterWireError) -> ShardBatch {
        var reader = WireReader(bytes)
        let batch = try reader.batch()
        try reader.expectEnd()
        return batch
    }

    /// Decodes the batch at the start of `bytes` and says how many bytes it took, for a
    /// transport value that carries several batches back to back (a batch has no length
    /// of its own: its end is where its last message ends). Bytes after it are left alone.
    public static func decodeLeadingBatch(
        _ bytes: UnsafeRawBufferPointer
    ) throws(ClusterWireError) -> (batch: ShardBatch, byteCount: Int) {
        var reader = WireReader(bytes)
        let batch = try reader.batch()
        return (batch, reader.offset)
    }

    /// `decodeLeadingBatch` over any collection of bytes.
    public static func decodeLeadingBatch(
        _ bytes: some Collection<UInt8>
    ) throws(ClusterWireError) -> (batch: ShardBatch, byteCount: Int) {
        try borrowing(bytes, decodeLeadingBatch)
    }

    /// Decodes a batch from any collection of bytes (an `Array`, an `ArraySlice`, a
    /// `ContiguousArray` are read in place; anything else is copied once).
    public static func decodeBatch(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> ShardBatch {
        try borrowing(bytes, decodeBatch)
    }

    /// Reads only the header of a batch, for a receiver that checks the stream and sequence
    /// before decoding the rest. `bytes` is the whole batch: the announced count is checked
    /// against it.
    public static func decodeHeader(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> BatchHeader {
        try borrowing(bytes) { raw throws(ClusterWireError) in
            var reader = WireReader(raw)
            return try reader.header().0
        }
    }

    /// Decodes one message (as `encode(_:into:)` wrote it) that fills `bytes` exactly.
    public static func decodeMessage(_ bytes: UnsafeRawBufferPointer) throws(ClusterWireError) -> ShardMessage {
        var reader = WireReader(bytes)
        let message = try reader.message()
        try reader.expectEnd()
        return message
    }

    /// Decodes one message from any collection of bytes.
    public static func decodeMessage(_ bytes: some Collection<UInt8>) throws(ClusterWireError) -> ShardMessage {
        try borrowing(bytes, decodeMessage)
    }

    /// Runs `body` over `bytes` in place when they are contiguous, else over a copy.
    /// (`withContiguousStorageIfAvailable` rethrows untyped errors, hence the `Result`.)
    static func borrowing<R>(
        _ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) throws(ClusterWireError) -> R
    ) throws(ClusterWireError) -> R {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            Result { () throws(ClusterWireError) in try body(UnsafeRawBufferPointer(buffer)) }
        }) {
            return try result.get()
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBytes { raw in
            Result { () throws(ClusterWireError) in try body(raw) }
        }.get()
    }
}

extension WireReader {
    mutating func batch() throws(ClusterWireError) -> ShardBatch {
        let (header, count) = try header()
        var messages: [ShardMessage] = []
        messages.reserveCapacity(count)
        for _ in 0..<count { messages.append(try message()) }
        return ShardBatch(header: header, messages: messages)
    }

    /// Nothing may follow the last field.
    func expectEnd() throws(ClusterWireError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining, offset: offset) }
    }
}
