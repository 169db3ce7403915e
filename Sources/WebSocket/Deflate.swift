import CZlib

/// One raw-deflate compressor (RFC 7692 §7.2.1) over zlib.
///
/// A class because zlib's stream keeps a pointer to itself and must not move. The server
/// compresses without context takeover, so one instance per event loop (and window size)
/// serves every connection: it is reset before each message.
public final class Deflater {
    @usableFromInline let stream: UnsafeMutablePointer<z_stream>
    let scratch: UnsafeMutableRawBufferPointer
    /// The window this stream was built with, as negotiated.
    public let windowBits: Int

    /// - Parameters:
    ///   - windowBits: the negotiated `*_max_window_bits` (8...15). zlib cannot deflate with
    ///     8 bits, so 8 compresses with run-length matches only (`Z_RLE`: distance 1),
    ///     which any window can decode.
    ///   - level: the zlib level; 1 favours speed, which suits small JSON messages.
    ///   - memLevel: zlib's hash memory (1...9); 8 is zlib's default.
    public init(windowBits: Int, level: Int32 = 1, memLevel: Int32 = 8) {
        self.windowBits = windowBits
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let bits = Int32(max(windowBits, 9))
        let strategy = windowBits <= 8 ? Z_RLE : Z_DEFAULT_STRATEGY
        let rc = czlib_deflate_init_raw(stream, level, bits, memLevel, strategy)
        precondition(rc == Z_OK, "deflateInit2 failed: \(rc)")
        scratch = .allocate(byteCount: 16 * 1024, alignment: 16)
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Compresses one whole message, appending it to `out` without the final
    /// `00 00 FF FF` (§7.2.1), and resets the stream (no context takeover).
    public func compress(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let start = out.count
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        repeat {
            stream.pointee.next_out = scratch.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(scratch.count)
            let rc = deflate(stream, Z_SYNC_FLUSH)
            precondition(rc == Z_OK || rc == Z_BUF_ERROR, "deflate failed: \(rc)")
            let produced = scratch.count - Int(stream.pointee.avail_out)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<produced]))
        } while stream.pointee.avail_out == 0
        // A sync flush always ends in an empty stored block, 00 00 FF FF; drop it.
        if out.count - start >= 4 { out.removeLast(4) }
        deflateReset(stream)
    }
}

/// One raw-inflate decompressor (RFC 7692 §7.2.2) over zlib, bounded against
/// decompression bombs.
public final class Inflater {
    @usableFromInline let stream: UnsafeMutablePointer<z_stream>
    let scratch: UnsafeMutableRawBufferPointer

    /// The 4 bytes 00 00 FF FF, kept at a stable address for zlib to read.
    let tail: UnsafeMutableRawBufferPointer

    /// Always a 15-bit window: it decodes data made with any smaller window.
    public init() {
        tail = .allocate(byteCount: 4, alignment: 4)
        tail.copyBytes(from: [0x00, 0x00, 0xFF, 0xFF] as [UInt8])
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = czlib_inflate_init_raw(stream, 15)
        precondition(rc == Z_OK, "inflateInit2 failed: \(rc)")
        scratch = .allocate(byteCount: 16 * 1024, alignment: 16)
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        scratch.deallocate()
        tail.deallocate()
    }

    /// Inflates `input` (part of one message), appending to `out`.
    /// - Parameters:
    ///   - limit: the most bytes `out` may hold; more throws `.messageTooLarge` at once,
    ///     without inflating the rest.
    ///   - isLast: whether `input` ends the message; the `00 00 FF FF` tail is then fed too.
    public func inflate(_ input: UnsafeRawBufferPointer, isLast: Bool, into out: inout [UInt8], limit: Int) throws(ProtocolError) {
        try run(input, into: &out, limit: limit)
        if isLast {
            // §7.2.2: append 00 00 FF FF, the end of the sync-flushed stream, then inflate it.
            try run(UnsafeRawBufferPointer(tail), into: &out, limit: limit)
        }
    }

    /// Forgets the window (no context takeover, or a fresh message on a shared stream).
    public func reset() { inflateReset(stream) }

    func run(_ input: UnsafeRawBufferPointer, into out: inout [UInt8], limit: Int) throws(ProtocolError) {
        guard input.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        while true {
            stream.pointee.next_out = scratch.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(scratch.count)
            let rc = zlib.inflate(stream, Z_SYNC_FLUSH)
            let produced = scratch.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                if out.count + produced > limit { throw .messageTooLarge }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<produced]))
            }
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
                if rc == Z_BUF_ERROR && produced == 0 { return }
            case Z_STREAM_END:
                // A final block (BFINAL) ends the stream; the next message starts anew.
                inflateReset(stream)
                if stream.pointee.avail_in == 0 { return }
            default:
                throw .invalidCompressedData
            }
        }
    }
}

/// zlib's `inflate`, named apart from `Inflater.inflate`.
@usableFromInline enum zlib {
    @usableFromInline static func inflate(_ s: z_streamp, _ flush: Int32) -> Int32 { CZlib.inflate(s, flush) }
}
