/// An incremental UTF-8 validator (RFC 3629, as RFC 6455 §8.1 requires for text).
///
/// It keeps one byte of state between chunks, so a text message split over frames and
/// reads is checked as it arrives and rejected at its first invalid byte, before the rest
/// is buffered. Hand-written because the standard library only validates whole buffers.
public struct UTF8Validator: Sendable {
    /// Where inside a code point the validator stands.
    @usableFromInline enum State: UInt8, Sendable {
        /// At a code point boundary.
        case boundary
        /// One, two or three more bytes in 80...BF are due.
        case tail1, tail2, tail3
        /// After E0: the next byte must be A0...BF (no overlong 3-byte forms).
        case afterE0
        /// After ED: the next byte must be 80...9F (no UTF-16 surrogates).
        case afterED
        /// After F0: the next byte must be 90...BF (no overlong 4-byte forms).
        case afterF0
        /// After F4: the next byte must be 80...8F (nothing above U+10FFFF).
        case afterF4
        /// An invalid byte was seen; nothing can repair it.
        case invalid
    }

    @usableFromInline var state: State = .boundary

    public init() {}

    /// Whether everything fed so far ends on a code point boundary (a complete message).
    @inlinable public var isAtBoundary: Bool { state == .boundary }

    /// Forgets all input, ready for the next message.
    @inlinable public mutating func reset() { state = .boundary }

    /// Feeds the next bytes. - Returns: false at the first byte that cannot be valid UTF-8.
    @inlinable
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return state != .invalid }
        let count = bytes.count
        var i = 0
        var s = state
        while i < count {
            if s == .boundary {
                // ASCII fast path, eight bytes at a time.
                while i + 8 <= count,
                      base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                if i >= count { break }
            }
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            i += 1
            s = Self.step(s, b)
            if s == .invalid { state = .invalid; return false }
        }
        state = s
        return true
    }

    @inlinable
    static func step(_ s: State, _ b: UInt8) -> State {
        switch s {
        case .boundary:
            switch b {
            case 0x00...0x7F: return .boundary
            case 0xC2...0xDF: return .tail1
            case 0xE0: return .afterE0
            case 0xE1...0xEC, 0xEE...0xEF: return .tail2
            case 0xED: return .afterED
            case 0xF0: return .afterF0
            case 0xF1...0xF3: return .tail3
            case 0xF4: return .afterF4
            default: return .invalid  // 80...C1 (stray continuation, overlong 2-byte), F5...FF
            }
        case .tail1: return (0x80...0xBF).contains(b) ? .boundary : .invalid
        case .tail2: return (0x80...0xBF).contains(b) ? .tail1 : .invalid
        case .tail3: return (0x80...0xBF).contains(b) ? .tail2 : .invalid
        case .afterE0: return (0xA0...0xBF).contains(b) ? .tail1 : .invalid
        case .afterED: return (0x80...0x9F).contains(b) ? .tail1 : .invalid
        case .afterF0: return (0x90...0xBF).contains(b) ? .tail2 : .invalid
        case .afterF4: return (0x80...0x8F).contains(b) ? .tail2 : .invalid
        case .invalid: return .invalid
        }
    }

    /// Validates one whole buffer.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var v = UTF8Validator()
        return v.validate(bytes) && v.isAtBoundary
    }
}
