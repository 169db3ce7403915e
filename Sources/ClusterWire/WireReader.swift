import Presence

/// The decoder's cursor over borrowed bytes, and its primitives. Every read checks what
/// remains before it touches memory, so malformed input throws and never traps; every
/// count is checked against what remains before anything is reserved for it, so a lying
/// length costs nothing.
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    mutating func byte() throws(ClusterWireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func fixed64() throws(ClusterWireError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated(offset: offset) }
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func fixed32() throws(ClusterWireError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(offset: offset) }
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func fixed16() throws(ClusterWireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated(offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    /// Unsigned LEB128, shortest form only: a last byte of zero after others is an
    /// overlong encoding, and a tenth byte may hold only bit 63.
    mutating func varint() throws(ClusterWireError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw .truncated(offset: start) }
            let byte = bytes[offset]
            offset += 1
            if shift == 63, byte > 1 { throw .malformedVarint(offset: start) }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                if byte == 0, shift > 0 { throw .malformedVarint(offset: start) }
                return value
            }
            shift += 7
        }
    }

    /// An element count, refused unless `count × minimumSize` bytes still remain.
    mutating func count(minimumSize: Int) throws(ClusterWireError) -> Int {
        let start = offset
        let count = try varint()
        guard count <= UInt64(remaining / minimumSize) else {
            throw .countBeyondEnd(count: count, offset: start)
        }
        return Int(count)
    }

    mutating func bool() throws(ClusterWireError) -> Bool {
        let at = offset
        switch try byte() {
        case 0: return false
        case 1: return true
        case let other: throw .invalidValue(other, offset: at)
        }
    }

    /// An optional's flag: `false` for absent (0), `true` for present (1).
    mutating func isPresent() throws(ClusterWireError) -> Bool {
        try bool()
    }

    mutating func string() throws(ClusterWireError) -> String {
        let start = offset
        let length = try count(minimumSize: 1)
        guard length > 0 else { return "" }
        let utf8 = UnsafeBufferPointer(
            start: bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self), count: length)
        // Short strings (15 bytes or fewer) are built inline, with no allocation.
        guard let string = String(validating: utf8, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
        offset += length
        return string
    }

    /// Opaque bytes: a varint length, then that many bytes, copied out as they are.
    mutating func byteArray() throws(ClusterWireError) -> [UInt8] {
        let length = try count(minimumSize: 1)
        guard length > 0 else { return [] }
        defer { offset += length }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
    }

    /// A user ID must arrive normalized: `UserID(email:)` accepts it unchanged (a cheap
    /// byte scan for the usual ASCII address), so a peer cannot name a user that no
    /// sign-in could have produced.
    mutating func userID() throws(ClusterWireError) -> UserID {
        let start = offset
        let email = try string()
        guard let user = UserID(email: email), user.email == email else { throw .invalidUserID(offset: start) }
        return user
    }

    mutating func userIDs() throws(ClusterWireError) -> [UserID] {
        let count = try count(minimumSize: WireSize.userID)
        var users: [UserID] = []
        users.reserveCapacity(count)
        for _ in 0..<count { users.append(try userID()) }
        return users
    }

    mutating func instant() throws(ClusterWireError) -> Instant {
        Instant(milliseconds: Int64(bitPattern: try fixed64()))
    }

    mutating func view() throws(ClusterWireError) -> PresenceView {
        let status = try presenceStatus()
        return PresenceView(status: status, lastSeen: try isPresent() ? try instant() : nil)
    }
}

/// The fewest bytes an encoded value can take; counts are checked against these.
enum WireSize {
    /// A length byte and the shortest address, `a@b`.
    static let userID = 4
    /// A status byte and an absent last-seen.
    static let view = 2
    /// The shortest message: an `accountDeleted` (a tag and a user ID).
    static let message = 1 + userID
    /// An empty-ID, empty-body chat: ID, two users, two empty strings, the instant.
    static let chatMessage = 8 + userID + userID + 1 + 1 + 8
    /// The shortest command: a `deleteAccount` (a tag and a user ID).
    static let command = 1 + userID
    /// The shortest home message: an op with no request ID and the shortest command.
    static let homeMessage = 1 + 8 + 8 + 1 + command
    /// The shortest edge message: a `deliver` of an empty body to nobody.
    static let edgeMessage = 1 + 1 + 1
    /// A delivery's recipient: its connection and a one-byte sequence.
    static let edgeRecipient = 8 + 1
}
