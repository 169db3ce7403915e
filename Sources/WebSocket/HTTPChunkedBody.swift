/// The chunked transfer coding of a request body (RFC 9112 §7.1): chunks of
/// `hex-size [;extensions] CRLF data CRLF`, a last chunk of size 0, optional trailer fields
/// (read and dropped) and a final CRLF.
public enum HTTPChunkedBody {
    /// Why a chunked body was refused.
    public enum Failure: Error, Equatable, Sendable {
        /// Malformed framing (400).
        case malformed(String)
        /// The decoded body, or its framing, would pass the limit (413).
        case tooLarge
    }

    /// Decodes a chunked body at the start of `bytes`.
    /// - Parameter maxSize: the largest decoded body; the framing may add at most as much again.
    /// - Returns: the body and the bytes used through the final CRLF, or nil if it has not
    ///   all arrived yet.
    public static func decode(_ bytes: UnsafeRawBufferPointer, maxSize: Int) throws(Failure) -> (body: [UInt8], used: Int)? {
        var body: [UInt8] = []
        var i = 0
        while true {
            // chunk-size [chunk-ext] CRLF
            guard let sizeEnd = lineEnd(bytes, from: i) else {
                if bytes.count - i > 1024 { throw .malformed("chunk size line too long") }
                return nil
            }
            var size = 0
            var digits = 0
            var k = i
            while k < sizeEnd, let d = hexValue(bytes[k]) {
                guard digits < 8 else { throw .tooLarge }
                size = size << 4 | d
                digits += 1
                k += 1
            }
            guard digits > 0, k == sizeEnd || bytes[k] == UInt8(ascii: ";") || bytes[k] == 0x20 || bytes[k] == 0x09 else {
                throw .malformed("bad chunk size")
            }
            i = sizeEnd + 2
            if size == 0 {
                // Trailer fields, then the empty line.
                while true {
                    guard let end = lineEnd(bytes, from: i) else {
                        if bytes.count - i > 8192 { throw .malformed("trailer too long") }
                        return nil
                    }
                    let isEmpty = end == i
                    i = end + 2
                    if isEmpty { return (body, i) }
                }
            }
            guard body.count + size <= maxSize else { throw .tooLarge }
            guard bytes.count >= i + size + 2 else { return nil }
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + size)]))
            i += size
            guard bytes[i] == 0x0D, bytes[i + 1] == 0x0A else { throw .malformed("chunk data not followed by CRLF") }
            i += 2
            if i > 2 * maxSize + 4096 { throw .tooLarge }
        }
    }

    /// The index of the CR of the next CRLF at or after `from`; a bare LF is malformed.
    static func lineEnd(_ b: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        while i + 1 < b.count {
            if b[i] == 0x0D && b[i + 1] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
