/// Turns a stream of frames into messages: reassembly, permessage-deflate inflation,
/// incremental UTF-8 validation, size limits and Close-frame parsing (RFC 6455 §5.4,
/// §5.5, §8.1; RFC 7692 §6.2).
///
/// A message that arrives whole in one read is handed out straight from the caller's
/// buffer: nothing is copied or allocated. Only fragmented or split messages use the
/// reassembly buffer, which is kept small between messages so idle connections stay cheap.
public struct MessageReader {
    /// What the reader found. Payloads are borrowed and valid only inside the callback.
    public enum Event {
        /// A complete text message, already checked to be UTF-8.
        case text(UnsafeRawBufferPointer)
        /// A complete binary message.
        case binary(UnsafeRawBufferPointer)
        /// A Ping; the payload must be echoed in a Pong.
        case ping(UnsafeRawBufferPointer)
        /// A Pong.
        case pong(UnsafeRawBufferPointer)
        /// A Close: its code (nil when the frame had none) and UTF-8 reason bytes.
        case close(CloseCode?, UnsafeRawBufferPointer)
    }

    /// How compressed messages are inflated.
    public enum Inflation {
        /// permessage-deflate was not negotiated.
        case none
        /// Through an inflater shared by the event loop; reset before every message
        /// (the client promised `client_no_context_takeover`).
        case shared(Inflater)
        /// Through this connection's own inflater, made on first use (context takeover).
        case own(Inflater?)
    }

    public var decoder: FrameDecoder
    /// The largest message accepted (after inflation); larger closes with 1009.
    public var maxMessageSize: Int
    public var inflation: Inflation {
        didSet { if case .none = inflation { decoder.allowsCompression = false } else { decoder.allowsCompression = true } }
    }

    /// Reassembly: raw data for an uncompressed message, compressed bytes otherwise.
    var message: [UInt8] = []
    /// Inflated output of the current compressed message.
    var inflated: [UInt8] = []
    /// A control frame split across reads.
    var control: [UInt8] = []
    var messageOpcode: Opcode = .continuation
    var isMessageCompressed = false
    var messageLength = 0
    var utf8 = UTF8Validator()
    /// Buffers up to this capacity survive between messages; larger ones are released.
    static let keptCapacity = 4096

    public init(role: FrameDecoder.Role, maxFrameSize: Int, maxMessageSize: Int, inflation: Inflation = .none) {
        var d = FrameDecoder(role: role, maxFrameSize: maxFrameSize)
        if case .none = inflation {} else { d.allowsCompression = true }
        decoder = d
        self.maxMessageSize = maxMessageSize
        self.inflation = inflation
    }

    /// Whether the reader holds nothing that a fresh one with the same settings would not:
    /// it stands between frames, no fragmented message is open, and it has no inflater of
    /// its own (context takeover). The transport drops a resting reader and makes a fresh
    /// one for the next read, so an idle connection carries none (153 bytes each).
    public var isAtRest: Bool {
        guard decoder.isAtFrameBoundary, !decoder.isInsideMessage else { return false }
        if case .own(.some) = inflation { return false }
        return true
    }

    /// Reads every frame in `buffer` (unmasking it in place) and reports each event to
    /// `body`, which returns false to stop reading (for instance after a Close).
    /// - Throws: the first protocol violation; the connection must then close with its code.
    public mutating func read(
        _ buffer: UnsafeMutableRawBufferPointer, _ body: (Event) -> Bool
    ) throws(ProtocolError) {
        var index = 0
        while let chunk = try decoder.next(buffer, index: &index) {
            let keepGoing: Bool
            if chunk.opcode.isControl {
                keepGoing = try control(chunk, body)
            } else {
                keepGoing = try data(chunk, body)
            }
            if !keepGoing { return }
        }
    }

    mutating func control(_ chunk: FrameDecoder.Chunk, _ body: (Event) -> Bool) throws(ProtocolError) -> Bool {
        if chunk.isFrameStart && chunk.isFrameEnd {
            return try deliverControl(chunk.opcode, UnsafeRawBufferPointer(chunk.payload), body)
        }
        if chunk.isFrameStart { control.removeAll(keepingCapacity: true) }
        control.append(contentsOf: UnsafeRawBufferPointer(chunk.payload))
        guard chunk.isFrameEnd else { return true }
        return try control.withBytes { (raw) throws(ProtocolError) -> Bool in try deliverControl(chunk.opcode, raw, body) }
    }

    func deliverControl(_ op: Opcode, _ payload: UnsafeRawBufferPointer, _ body: (Event) -> Bool) throws(ProtocolError) -> Bool {
        switch op {
        case .ping: return body(.ping(payload))
        case .pong: return body(.pong(payload))
        default:
            // §5.5.1: an optional 2-byte code, then an optional UTF-8 reason.
            if payload.count == 0 { return body(.close(nil, payload)) }
            if payload.count == 1 { throw .closePayloadTooShort }
            let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
            guard CloseCode(code).isValidOnWire else { throw .invalidCloseCode(code) }
            let reason = UnsafeRawBufferPointer(rebasing: payload[2...])
            guard UTF8Validator.isValid(reason) else { throw .invalidUTF8 }
            return body(.close(CloseCode(code), reason))
        }
    }

    mutating func data(_ chunk: FrameDecoder.Chunk, _ body: (Event) -> Bool) throws(ProtocolError) -> Bool {
        let payload = UnsafeRawBufferPointer(chunk.payload)
        let startsMessage = chunk.isFrameStart && chunk.opcode != .continuation
        if startsMessage {
            messageOpcode = chunk.opcode
            isMessageCompressed = chunk.isCompressed
            messageLength = 0
            utf8.reset()
        }
        let endsMessage = chunk.isFinal && chunk.isFrameEnd
        messageLength += payload.count
        if messageLength > maxMessageSize { throw .messageTooLarge }
        let isWhole = startsMessage && endsMessage

        if !isMessageCompressed {
            // Fail fast: reject invalid text at its first bad byte, before buffering more.
            if messageOpcode == .text, !utf8.validate(payload) { throw .invalidUTF8 }
            if isWhole {
                if messageOpcode == .text, !utf8.isAtBoundary { throw .invalidUTF8 }
                return deliver(payload, body)
            }
            message.append(contentsOf: payload)
            guard endsMessage else { return true }
            if messageOpcode == .text, !utf8.isAtBoundary { throw .invalidUTF8 }
            let keep = deliverBuffered(body)
            return keep
        }

        if !isWhole {
            message.append(contentsOf: payload)
            guard endsMessage else { return true }
        }
        // Compressed: inflate the whole message at once, so a shared inflater is never
        // left half-way through one connection's message while another's arrives.
        let inflater: Inflater
        switch inflation {
        case .none: throw .reservedBitsSet
        case .shared(let shared): inflater = shared; inflater.reset()
        case .own(let existing):
            if let existing { inflater = existing } else { inflater = Inflater(); inflation = .own(inflater) }
        }
        inflated.removeAll(keepingCapacity: true)
        if isWhole {
            try inflater.inflate(payload, isLast: true, into: &inflated, limit: maxMessageSize)
        } else {
            try message.withBytes { (raw) throws(ProtocolError) in
                try inflater.inflate(raw, isLast: true, into: &inflated, limit: maxMessageSize)
            }
            trim(&message)
        }
        let keep = try inflated.withBytes { (raw) throws(ProtocolError) -> Bool in
            if messageOpcode == .text, !UTF8Validator.isValid(raw) { throw .invalidUTF8 }
            return deliver(raw, body)
        }
        trim(&inflated)
        return keep
    }

    func deliver(_ payload: UnsafeRawBufferPointer, _ body: (Event) -> Bool) -> Bool {
        messageOpcode == .text ? body(.text(payload)) : body(.binary(payload))
    }

    mutating func deliverBuffered(_ body: (Event) -> Bool) -> Bool {
        let keep = message.withUnsafeBytes { deliver($0, body) }
        trim(&message)
        return keep
    }

    /// Empties a buffer, keeping its memory only if it is small.
    func trim(_ buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: buffer.capacity <= Self.keptCapacity)
    }
}
