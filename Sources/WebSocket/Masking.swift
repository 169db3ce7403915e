/// The client-to-server masking transform of RFC 6455 §5.3.
///
/// Masking runs over every payload byte a client sends, so it works a machine word at a
/// time over borrowed memory and allocates nothing.
public enum Masking {
    /// XORs `bytes` in place with `key` (the four key bytes in wire order, loaded as a
    /// little-endian `UInt32`), starting `offset` bytes (0...3) into the key.
    /// - Returns: the key offset after the last byte, for the next chunk of the same frame.
    @inlinable @discardableResult
    public static func unmask(_ bytes: UnsafeMutableRawBufferPointer, key: UInt32, offset: Int) -> Int {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return offset }
        let count = bytes.count
        let shift = UInt32(truncatingIfNeeded: (offset & 3) * 8)
        // Rotate so that byte 0 of `rotated` is the key byte for bytes[0] (little-endian).
        let rotated: UInt32 = shift == 0 ? key : (key >> shift) | (key << (32 - shift))
        let wide = UInt64(rotated) | (UInt64(rotated) << 32)
        var i = 0
        while i + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            base.storeBytes(of: word ^ wide, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        var k = rotated
        while i < count {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            base.storeBytes(of: b ^ UInt8(truncatingIfNeeded: k), toByteOffset: i, as: UInt8.self)
            k = (k >> 8) | (k << 24)
            i += 1
        }
        return (offset + count) & 3
    }

    /// Loads four key bytes in wire order into the `UInt32` form `unmask` takes.
    @inlinable
    public static func key(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) -> UInt32 {
        UInt32(b0) | UInt32(b1) << 8 | UInt32(b2) << 16 | UInt32(b3) << 24
    }
}
