/// Every way bytes can fail to be a batch of shard messages (Protocol/cluster.md, "Shard
/// messages on the wire"). Offsets count from the first byte handed to the decoder, so a
/// logged error points at the byte to look at.
///
/// A receiver treats any of these the same way: the batch is dropped whole (nothing of it
/// is applied), and the link to its sender is suspect, because a conforming sender never
/// produces one.
public enum ClusterWireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ended inside the field that starts at `offset`.
    case truncated(offset: Int)
    /// The first byte names a format this decoder does not speak.
    case unsupportedVersion(UInt8)
    /// A message tag that names no `ShardMessage` case.
    case unknownMessageTag(UInt8, offset: Int)
    /// An event tag that names no `Event` case.
    case unknownEventTag(UInt8, offset: Int)
    /// A byte outside its enumeration: a status, a reason, a Boolean, an optional's flag.
    case invalidValue(UInt8, offset: Int)
    /// A varint longer than it needs to be, or one beyond 64 bits. Every value has exactly
    /// one encoding, so a decoded batch re-encodes to the same bytes.
    case malformedVarint(offset: Int)
    /// A string length or an element count that the rest of the input could not hold, even
    /// with every element at its smallest. Refused before anything is reserved for it.
    case countBeyondEnd(count: UInt64, offset: Int)
    /// A string whose bytes are not UTF-8.
    case invalidUTF8(offset: Int)
    /// A user ID that is not a normalized address (`UserID.init?(email:)` would refuse or
    /// change it).
    case invalidUserID(offset: Int)
    /// Bytes left over after the last message the header announced.
    case trailingBytes(count: Int, offset: Int)

    public var description: String {
        switch self {
        case .truncated(let offset): "input ends inside the field at byte \(offset)"
        case .unsupportedVersion(let version): "unsupported format version \(version)"
        case .unknownMessageTag(let tag, let offset): "unknown message tag \(tag) at byte \(offset)"
        case .unknownEventTag(let tag, let offset): "unknown event tag \(tag) at byte \(offset)"
        case .invalidValue(let value, let offset): "invalid value \(value) at byte \(offset)"
        case .malformedVarint(let offset): "overlong or oversized varint at byte \(offset)"
        case .countBeyondEnd(let count, let offset): "count \(count) at byte \(offset) exceeds the input"
        case .invalidUTF8(let offset): "invalid UTF-8 in the string at byte \(offset)"
        case .invalidUserID(let offset): "not a normalized user ID at byte \(offset)"
        case .trailingBytes(let count, let offset): "\(count) bytes after the last message, from byte \(offset)"
        }
    }
}
