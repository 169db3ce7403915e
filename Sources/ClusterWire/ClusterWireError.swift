/// Every way bytes can fail to be a batch of shard, home or edge messages
/// (Protocol/cluster.md, "Shard messages on the wire", "Edge and home messages on the
/// wire"), and the one value an encoder refuses (`commandNotForwarded`). Offsets count
/// from the first byte handed to the decoder, so a logged error points at the byte to
/// look at.
///
/// A receiver treats any decoding error the same way: the batch is dropped whole (nothing
/// of it is applied), and the link to its sender is suspect, because a conforming sender
/// never produces one.
public enum ClusterWireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ended inside the field that starts at `offset`.
    case truncated(offset: Int)
    /// The first byte names a format this decoder does not speak.
    case unsupportedVersion(UInt8)
    /// A message tag that names no case of the batch's message type (`ShardMessage`,
    /// `HomeMessage` or `EdgeMessage`).
    case unknownMessageTag(UInt8, offset: Int)
    /// An event tag that names no `Event` case.
    case unknownEventTag(UInt8, offset: Int)
    /// A command tag that names no `Command` an edge forwards (the storage outcomes,
    /// `restoreShown` and `fromShard` have none).
    case unknownCommandTag(UInt8, offset: Int)
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
    /// A set (a subscriber's allowed users) whose elements are not in strictly ascending
    /// byte order: a repeat, or any other order. A set has exactly one encoding, like
    /// every other value.
    case setOutOfOrder(offset: Int)
    /// Refused when encoding, not decoding: the command never crosses from an edge to a
    /// home (`messageCommitted`, `messageFailed`, `restoreShown`, `fromShard`; its case
    /// name is given). Nothing was appended.
    case commandNotForwarded(String)

    public var description: String {
        switch self {
        case .truncated(let offset): "input ends inside the field at byte \(offset)"
        case .unsupportedVersion(let version): "unsupported format version \(version)"
        case .unknownMessageTag(let tag, let offset): "unknown message tag \(tag) at byte \(offset)"
        case .unknownEventTag(let tag, let offset): "unknown event tag \(tag) at byte \(offset)"
        case .unknownCommandTag(let tag, let offset): "unknown command tag \(tag) at byte \(offset)"
        case .invalidValue(let value, let offset): "invalid value \(value) at byte \(offset)"
        case .malformedVarint(let offset): "overlong or oversized varint at byte \(offset)"
        case .countBeyondEnd(let count, let offset): "count \(count) at byte \(offset) exceeds the input"
        case .invalidUTF8(let offset): "invalid UTF-8 in the string at byte \(offset)"
        case .invalidUserID(let offset): "not a normalized user ID at byte \(offset)"
        case .trailingBytes(let count, let offset): "\(count) bytes after the last message, from byte \(offset)"
        case .setOutOfOrder(let offset): "set elements not in strictly ascending order at byte \(offset)"
        case .commandNotForwarded(let name): "command \(name) is not forwarded from an edge to a home"
        }
    }
}
