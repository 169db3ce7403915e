/// What one node publishes to another in one Redis command: the frames queued for that
/// node during one turn of the sender's loop (up to `NodeLink`'s batch size), behind a
/// small header that names the sender and numbers the frames (Protocol/cluster.md,
/// "Node-to-node link").
///
/// ```
/// offset  size  field
///      0     1  version (1)
///      1     4  sender node id (big-endian)
///      5     8  sequence number of the first frame (big-endian; the sender's frames
///               to one receiver are numbered 1, 2, 3 ... with no gaps)
///     13     4  frame count n (big-endian; 0 is a sync notice: "my next frame is
///               numbered <first>")
///     17        n times: length (4 bytes, big-endian), then that many bytes
/// ```
///
/// The frames themselves are opaque here (ClusterWire encodes them). Pure: bytes in,
/// bytes or an error out.
public struct LinkBatch: Equatable, Sendable {
    /// The only version this build writes and reads.
    public static let version: UInt8 = 1
    /// Header bytes before the first frame.
    public static let headerSize = 17
    /// Bytes in front of each frame (its length).
    public static let frameOverhead = 4

    /// The node that published the batch.
    public var sender: NodeID
    /// The sequence number of the first frame (for an empty batch: the next one the
    /// sender will use).
    public var firstSequence: UInt64
    /// The frames, each a slice of the decoded buffer (no copy).
    public var frames: [ArraySlice<UInt8>]

    public init(sender: NodeID, firstSequence: UInt64, frames: [ArraySlice<UInt8>]) {
        self.sender = sender
        self.firstSequence = firstSequence
        self.frames = frames
    }

    /// Why a published message is not a batch this build can read.
    public enum DecodingError: Error, Equatable, Sendable {
        /// Shorter than its header, or a frame runs past the end, or bytes are left over.
        case truncated
        /// Written by a version this build does not read. The sender is still known, so
        /// its frames count as lost.
        case unknownVersion(UInt8, sender: NodeID?)
        /// The sender field is 0, which no node has.
        case noSender
    }

    /// The encoded size of a batch of frames with these byte counts.
    public static func encodedSize(frameBytes: Int, frameCount: Int) -> Int {
        headerSize + frameCount * frameOverhead + frameBytes
    }

    /// Encodes a batch straight from the queued frames into one buffer.
    /// - Parameter frameBytes: the sum of the frames' sizes (known to the queue), so the
    ///   buffer is allocated once.
    public static func encode(sender: NodeID, firstSequence: UInt64, frames: [[UInt8]], frameBytes: Int) -> [UInt8] {
        let size = encodedSize(frameBytes: frameBytes, frameCount: frames.count)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var at = 0
            func put<T: FixedWidthInteger>(_ value: T) {
                withUnsafeBytes(of: value.bigEndian) { raw in
                    for b in raw {
                        buffer[at] = b
                        at += 1
                    }
                }
            }
            put(version)
            put(sender.rawValue)
            put(firstSequence)
            put(UInt32(frames.count))
            for frame in frames {
                put(UInt32(frame.count))
                frame.withUnsafeBufferPointer { source in
                    if let base = source.baseAddress, source.count > 0 {
                        UnsafeMutableRawPointer(buffer.baseAddress! + at).copyMemory(from: base, byteCount: source.count)
                    }
                }
                at += frame.count
            }
            precondition(at == size, "LinkBatch.encode: frameBytes does not match the frames")
            initialized = at
        }
    }

    /// Decodes a published message.
    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> LinkBatch {
        guard bytes.count >= 5 else { throw .truncated }
        let sender = NodeID(UInt32(bigEndianBytes: bytes, at: 1))
        guard bytes[0] == version else { throw .unknownVersion(bytes[0], sender: sender.rawValue == 0 ? nil : sender) }
        guard bytes.count >= headerSize else { throw .truncated }
        guard sender.rawValue != 0 else { throw .noSender }
        let first = UInt64(bigEndianBytes: bytes, at: 5)
        let count = Int(UInt32(bigEndianBytes: bytes, at: 13))
        // Each frame needs at least its length field: a count beyond that is a lie, and
        // must not size an allocation.
        guard count <= (bytes.count - headerSize) / frameOverhead else { throw .truncated }
        var frames: [ArraySlice<UInt8>] = []
        frames.reserveCapacity(count)
        var at = headerSize
        for _ in 0..<count {
            guard bytes.count - at >= frameOverhead else { throw .truncated }
            let length = Int(UInt32(bigEndianBytes: bytes, at: at))
            at += frameOverhead
            guard bytes.count - at >= length else { throw .truncated }
            frames.append(bytes[at..<at + length])
            at += length
        }
        guard at == bytes.count else { throw .truncated }
        return LinkBatch(sender: sender, firstSequence: first, frames: frames)
    }
}

extension FixedWidthInteger {
    /// Reads a big-endian integer at `offset` (the caller checked the bounds).
    init(bigEndianBytes bytes: [UInt8], at offset: Int) {
        var value = Self.zero
        for i in 0..<(Self.bitWidth / 8) { value = value << 8 | Self(bytes[offset + i]) }
        self = value
    }
}
