/// A streaming RFC 6455 frame decoder that works over borrowed bytes.
///
/// It never buffers a payload: each call hands back the next piece of a frame's payload,
/// unmasked in place inside the caller's buffer, and keeps only the few bytes of a frame
/// header that a read split in two. Per-connection state is therefore a few dozen bytes.
/// Every framing rule of §5 is enforced here; what spans frames (UTF-8, inflation,
/// reassembly) is `MessageReader`'s job.
public struct FrameDecoder: Sendable {
    /// Which side of the connection this decoder reads for.
    public enum Role: Sendable {
        /// Reading client frames: they must be masked.
        case server
        /// Reading server frames: they must not be masked.
        case client
    }

    /// A piece of one frame's payload, already unmasked.
    public struct Chunk {
        /// The frame's opcode (`.continuation` for continuation frames).
        public var opcode: Opcode
        /// The frame's FIN bit.
        public var isFinal: Bool
        /// RSV1: for a first data frame, "this message is compressed" (RFC 7692 §6).
        public var isCompressed: Bool
        /// Whether this chunk starts the frame.
        public var isFrameStart: Bool
        /// Whether this chunk ends the frame.
        public var isFrameEnd: Bool
        /// Payload bytes, unmasked, borrowed from the caller's buffer.
        public var payload: UnsafeMutableRawBufferPointer

        @usableFromInline
        init(opcode: Opcode, isFinal: Bool, isCompressed: Bool, isFrameStart: Bool, isFrameEnd: Bool,
             payload: UnsafeMutableRawBufferPointer) {
            self.opcode = opcode
            self.isFinal = isFinal
            self.isCompressed = isCompressed
            self.isFrameStart = isFrameStart
            self.isFrameEnd = isFrameEnd
            self.payload = payload
        }
    }

    @usableFromInline enum State: Sendable {
        /// Collecting a header; `headerCount` bytes are in `headerBytes`.
        case header
        /// Inside a payload with `remaining` bytes to go.
        case payload
    }

    public let role: Role
    /// The largest frame payload accepted; larger closes with 1009.
    public var maxFrameSize: Int
    /// Whether RSV1 is meaningful (permessage-deflate was negotiated).
    public var allowsCompression: Bool

    @usableFromInline var state: State = .header
    @usableFromInline var headerBytes: (UInt64, UInt64) = (0, 0)
    @usableFromInline var headerCount: Int = 0
    @usableFromInline var opcode: Opcode = .continuation
    @usableFromInline var isFinal = false
    @usableFromInline var isCompressed = false
    @usableFromInline var isFrameStart = false
    @usableFromInline var maskKey: UInt32 = 0
    @usableFromInline var maskOffset = 0
    @usableFromInline var isMasked = false
    @usableFromInline var remaining = 0
    /// A fragmented data message is open and expects continuation frames.
    @usableFromInline var isInsideMessage = false

    public init(role: Role, maxFrameSize: Int, allowsCompression: Bool = false) {
        self.role = role
        self.maxFrameSize = maxFrameSize
        self.allowsCompression = allowsCompression
    }

    /// Whether the decoder stands between frames (no header or payload half-read).
    public var isAtFrameBoundary: Bool { state == .header && headerCount == 0 }

    /// Decodes the next chunk from `buffer[index...]`, advancing `index`.
    /// - Returns: a chunk, or nil when the buffer is used up (keep the state and call again
    ///   with the next read).
    /// - Throws: the violation, after which the connection must close.
    @inlinable
    public mutating func next(_ buffer: UnsafeMutableRawBufferPointer, index: inout Int) throws(ProtocolError) -> Chunk? {
        if state == .header {
            guard try readHeader(buffer, index: &index) else { return nil }
            // A frame with an empty payload is reported as one empty chunk.
            if remaining == 0 {
                state = .header
                return Chunk(opcode: opcode, isFinal: isFinal, isCompressed: isCompressed,
                             isFrameStart: true, isFrameEnd: true,
                             payload: UnsafeMutableRawBufferPointer(rebasing: buffer[index..<index]))
            }
        }
        let available = buffer.count - index
        guard available > 0 else { return nil }
        let take = min(available, remaining)
        let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[index..<(index + take)])
        if isMasked { maskOffset = Masking.unmask(slice, key: maskKey, offset: maskOffset) }
        index += take
        remaining -= take
        let start = isFrameStart
        isFrameStart = false
        let end = remaining == 0
        if end { state = .header }
        return Chunk(opcode: opcode, isFinal: isFinal, isCompressed: isCompressed,
                     isFrameStart: start, isFrameEnd: end, payload: slice)
    }

    /// Collects and validates a header. - Returns: true once a whole header was parsed.
    @usableFromInline
    mutating func readHeader(_ buffer: UnsafeMutableRawBufferPointer, index: inout Int) throws(ProtocolError) -> Bool {
        let available = buffer.count - index
        if headerCount == 0, available >= 14 {
            // Fast path: the whole header is in the buffer.
            let used = try parseHeader(UnsafeRawBufferPointer(rebasing: buffer[index...]))
            index += used
            return true
        }
        // Slow path: a read split the header; gather it in the 16 inline bytes.
        while index < buffer.count {
            let byte = buffer[index]
            withUnsafeMutableBytes(of: &headerBytes) { $0[headerCount] = byte }
            headerCount += 1
            index += 1
            let have = headerCount
            let needed = withUnsafeBytes(of: headerBytes) { Self.headerLength(UnsafeRawBufferPointer(rebasing: $0[0..<have])) }
            if let needed, needed == have {
                let copy = headerBytes
                _ = try withUnsafeBytes(of: copy) { (raw) throws(ProtocolError) -> Int in
                    try parseHeader(UnsafeRawBufferPointer(rebasing: raw[0..<have]))
                }
                headerCount = 0
                return true
            }
            // Reject what the first byte already rules out without waiting for the rest.
            if have == 1 { try checkFirstByte(byte) }
        }
        return false
    }

    /// The full header length implied by the bytes so far, or nil if it is not known yet.
    @usableFromInline
    static func headerLength(_ b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= 2 else { return nil }
        let len7 = b[1] & 0x7F
        let mask = b[1] & 0x80 != 0 ? 4 : 0
        switch len7 {
        case 126: return 4 + mask
        case 127: return 10 + mask
        default: return 2 + mask
        }
    }

    @usableFromInline
    func checkFirstByte(_ b0: UInt8) throws(ProtocolError) {
        guard let op = Opcode(rawValue: b0 & 0x0F) else { throw .unknownOpcode(b0 & 0x0F) }
        if b0 & 0x30 != 0 { throw .reservedBitsSet }
        if b0 & 0x40 != 0, !(allowsCompression && (op == .text || op == .binary)) { throw .reservedBitsSet }
        if op.isControl, b0 & 0x80 == 0 { throw .fragmentedControlFrame }
    }

    /// Parses and validates a complete header at the start of `b`. - Returns: its length.
    @usableFromInline
    mutating func parseHeader(_ b: UnsafeRawBufferPointer) throws(ProtocolError) -> Int {
        let b0 = b[0], b1 = b[1]
        try checkFirstByte(b0)
        let op = Opcode(rawValue: b0 & 0x0F)!
        let fin = b0 & 0x80 != 0
        let masked = b1 & 0x80 != 0
        switch role {
        case .server where !masked: throw .unmaskedClientFrame
        case .client where masked: throw .maskedServerFrame
        default: break
        }
        var length = Int(b1 & 0x7F)
        var cursor = 2
        if length == 126 {
            length = Int(b[2]) << 8 | Int(b[3])
            cursor = 4
            if length < 126 { throw .nonMinimalLength }
        } else if length == 127 {
            var l: UInt64 = 0
            for i in 2..<10 { l = l << 8 | UInt64(b[i]) }
            cursor = 10
            if l & (1 << 63) != 0 || l <= 0xFFFF { throw .nonMinimalLength }
            length = l > UInt64(Int.max) ? Int.max : Int(l)
        }
        if op.isControl, length > 125 { throw .controlFrameTooLong }
        switch op {
        case .continuation:
            if !isInsideMessage { throw .unexpectedContinuation }
            if fin { isInsideMessage = false }
        case .text, .binary:
            if isInsideMessage { throw .expectedContinuation }
            isInsideMessage = !fin
        default: break
        }
        if length > maxFrameSize { throw .frameTooLarge }
        if masked {
            maskKey = Masking.key(b[cursor], b[cursor + 1], b[cursor + 2], b[cursor + 3])
            cursor += 4
        }
        opcode = op
        isFinal = fin
        isCompressed = b0 & 0x40 != 0
        isMasked = masked
        maskOffset = 0
        remaining = length
        isFrameStart = true
        state = .payload
        return cursor
    }
}
