/// Writes RFC 6455 frame headers.
///
/// Only the header is written: callers place it in front of a payload that is already in
/// its final buffer (or pass both to `writev`), so a frame goes out without copying the
/// payload again.
public enum FrameEncoder {
    /// The largest header: 2 + 8 length bytes + 4 mask bytes.
    public static let maxHeaderSize = 14

    /// The header length for a payload of `length` bytes.
    @inlinable
    public static func headerSize(payloadLength length: Int, masked: Bool) -> Int {
        let base = length < 126 ? 2 : (length <= 0xFFFF ? 4 : 10)
        return masked ? base + 4 : base
    }

    /// Writes a header at `p` (room for `maxHeaderSize` bytes). - Returns: its length.
    /// - Parameters:
    ///   - maskKey: the client's masking key in `Masking.key` form; nil for server frames.
    @inlinable @discardableResult
    public static func writeHeader(
        opcode: Opcode, isFinal: Bool = true, isCompressed: Bool = false,
        payloadLength length: Int, maskKey: UInt32? = nil, to p: UnsafeMutableRawPointer
    ) -> Int {
        var b0 = opcode.rawValue
        if isFinal { b0 |= 0x80 }
        if isCompressed { b0 |= 0x40 }
        p.storeBytes(of: b0, as: UInt8.self)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        var n: Int
        if length < 126 {
            p.storeBytes(of: maskBit | UInt8(length), toByteOffset: 1, as: UInt8.self)
            n = 2
        } else if length <= 0xFFFF {
            p.storeBytes(of: maskBit | 126, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt16(length).bigEndian, toByteOffset: 2, as: UInt16.self)
            n = 4
        } else {
            p.storeBytes(of: maskBit | 127, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt64(length).bigEndian, toByteOffset: 2, as: UInt64.self)
            n = 10
        }
        if let key = maskKey {
            p.storeBytes(of: key, toByteOffset: n, as: UInt32.self)  // key bytes in wire order (LE load form)
            n += 4
        }
        return n
    }

    /// Appends a whole frame (header and payload) to `buffer`; masks the copied payload when
    /// `maskKey` is given.
    @inlinable
    public static func append(
        opcode: Opcode, isFinal: Bool = true, isCompressed: Bool = false,
        payload: UnsafeRawBufferPointer, maskKey: UInt32? = nil, to buffer: inout [UInt8]
    ) {
        var header: (UInt64, UInt64) = (0, 0)
        let n = withUnsafeMutableBytes(of: &header) {
            writeHeader(opcode: opcode, isFinal: isFinal, isCompressed: isCompressed,
                        payloadLength: payload.count, maskKey: maskKey, to: $0.baseAddress!)
        }
        withUnsafeBytes(of: header) { buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        let start = buffer.count
        buffer.append(contentsOf: payload)
        if let key = maskKey, payload.count > 0 {
            _ = buffer.withUnsafeMutableBytes {
                Masking.unmask(UnsafeMutableRawBufferPointer(rebasing: $0[start...]), key: key, offset: 0)
            }
        }
    }

    /// The payload of a Close frame: the code in network order and a UTF-8 reason, cut to the
    /// 123 bytes that fit a control frame (§5.5.1) without splitting a code point.
    public static func closePayload(code: CloseCode, reason: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        var used = 0
        for scalar in reason.unicodeScalars {
            let n = UTF8.width(scalar)
            if used + n > 123 { break }
            used += n
        }
        out += reason.utf8.prefix(used)
        return out
    }
}
