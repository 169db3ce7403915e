/// Every way a peer can break the WebSocket protocol, as found by the pure codec.
///
/// Each case maps, in one place (`closeCode`), to the close code the connection ends with.
public enum ProtocolError: Error, Equatable, Sendable {
    /// A client frame arrived without the mask bit (RFC 6455 §5.1).
    case unmaskedClientFrame
    /// A server frame arrived with the mask bit (RFC 6455 §5.1).
    case maskedServerFrame
    /// RSV1-3 set without an extension that defines them (§5.2), or RSV1 on a continuation
    /// or control frame (RFC 7692 §6).
    case reservedBitsSet
    /// An opcode that RFC 6455 reserves (3-7, 0xB-0xF).
    case unknownOpcode(UInt8)
    /// A control frame with FIN clear (§5.5).
    case fragmentedControlFrame
    /// A control frame whose payload is longer than 125 bytes (§5.5).
    case controlFrameTooLong
    /// A 16- or 64-bit length that would fit a shorter encoding, or a 64-bit length with the
    /// high bit set (§5.2: "the minimal number of bytes MUST be used").
    case nonMinimalLength
    /// A continuation frame with no message in progress (§5.4).
    case unexpectedContinuation
    /// A new text or binary frame while a fragmented message is still open (§5.4).
    case expectedContinuation
    /// A frame longer than the configured limit.
    case frameTooLarge
    /// A message (after reassembly and inflation) longer than the configured limit.
    case messageTooLarge
    /// A text message, or a close reason, that is not valid UTF-8 (§8.1).
    case invalidUTF8
    /// A close frame with a 1-byte payload (§5.5.1).
    case closePayloadTooShort
    /// A close code that may not appear on the wire (§7.4).
    case invalidCloseCode(UInt16)
    /// A compressed message that zlib could not inflate (RFC 7692 §6.2).
    case invalidCompressedData

    /// The close code this violation ends the connection with.
    public var closeCode: CloseCode {
        switch self {
        case .invalidUTF8, .invalidCompressedData: return .invalidPayload
        case .frameTooLarge, .messageTooLarge: return .messageTooBig
        default: return .protocolError
        }
    }

    /// A short reason for the Close frame (ASCII, well under 123 bytes).
    public var reason: String {
        switch self {
        case .unmaskedClientFrame: return "client frames must be masked"
        case .maskedServerFrame: return "server frames must not be masked"
        case .reservedBitsSet: return "reserved bits set"
        case .unknownOpcode(let op): return "unknown opcode \(op)"
        case .fragmentedControlFrame: return "fragmented control frame"
        case .controlFrameTooLong: return "control frame longer than 125 bytes"
        case .nonMinimalLength: return "payload length not minimally encoded"
        case .unexpectedContinuation: return "continuation without a message"
        case .expectedContinuation: return "expected a continuation frame"
        case .frameTooLarge: return "frame too large"
        case .messageTooLarge: return "message too large"
        case .invalidUTF8: return "invalid UTF-8"
        case .closePayloadTooShort: return "close payload of 1 byte"
        case .invalidCloseCode(let c): return "invalid close code \(c)"
        case .invalidCompressedData: return "invalid compressed data"
        }
    }
}
