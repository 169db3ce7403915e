import Presence

// The encoder's primitives, appended straight onto the caller's buffer: no intermediate
// values, no per-field allocation (a native string's UTF-8 is copied in one move).
extension Array where Element == UInt8 {
    /// Unsigned LEB128: seven bits a byte, low group first, the high bit set on every
    /// byte but the last. Always the shortest form, which the decoder insists on.
    mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        append(UInt8(truncatingIfNeeded: rest))
    }

    /// Eight bytes, little-endian.
    mutating func appendFixed64(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Four bytes, little-endian.
    mutating func appendFixed32(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Two bytes, little-endian.
    mutating func appendFixed16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    /// A varint byte count, then the bytes as they are (no validation: what the home's
    /// encoders wrote, for the edge to write to a socket).
    mutating func appendBytes(_ bytes: [UInt8]) {
        appendVarint(UInt64(bytes.count))
        append(contentsOf: bytes)
    }

    /// A varint byte count, then the UTF-8 bytes.
    mutating func appendString(_ string: String) {
        let utf8 = string.utf8
        appendVarint(UInt64(utf8.count))
        // A native string's bytes in one copy; the generic path went through the view.
        if utf8.withContiguousStorageIfAvailable({ append(contentsOf: $0) }) == nil {
            append(contentsOf: utf8)
        }
    }

    mutating func appendBool(_ value: Bool) {
        append(value ? 1 : 0)
    }

    mutating func appendUserID(_ user: UserID) {
        appendString(user.email)
    }

    mutating func appendInstant(_ instant: Instant) {
        appendFixed64(UInt64(bitPattern: instant.milliseconds))
    }

    mutating func appendView(_ view: PresenceView) {
        append(WireValue.byte(for: view.status))
        if let lastSeen = view.lastSeen {
            append(1)
            appendInstant(lastSeen)
        } else {
            append(0)
        }
    }

    mutating func appendUserIDs(_ users: [UserID]) {
        appendVarint(UInt64(users.count))
        for user in users { appendUserID(user) }
    }
}
