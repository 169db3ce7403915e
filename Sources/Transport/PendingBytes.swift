import Glibc

/// Wire bytes a socket has not taken yet, for a reader that is behind.
///
/// Kept as a list of chunks, never one growing array: a slow reader can owe megabytes,
/// and regrowing one buffer would copy all of it again on the loop that serves everyone
/// else. Appending copies only the new bytes; writing gathers chunks with `writev`.
struct PendingBytes {
    private var chunks: [[UInt8]] = []
    /// Bytes of `chunks[0]` already written.
    private var head = 0
    private(set) var count = 0

    /// Small appends fill the last chunk up to this size instead of starting a new one.
    static let chunkSize = 64 * 1024

    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        count += bytes.count
        if let last = chunks.indices.last, chunks[last].count + bytes.count <= Self.chunkSize {
            chunks[last].append(contentsOf: bytes)
        } else {
            chunks.append(Array(bytes))
        }
    }

    mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Puts bytes in front of everything waiting (the unwritten tail of a gathered write).
    mutating func prepend(_ pieces: [[UInt8]]) {
        let added = pieces.reduce(0) { $0 + $1.count }
        guard added > 0 else { return }
        if head > 0 {
            chunks[0].removeFirst(head)
            head = 0
        }
        chunks.insert(contentsOf: pieces.filter { !$0.isEmpty }, at: 0)
        count += added
    }

    /// Writes as much as the socket takes with one `writev` per call.
    mutating func write(to fd: Int32, iovecs: UnsafeMutablePointer<iovec>, max: Int) -> IOResult {
        var n = 0
        var result = IOResult.processed(0)
        withExtendedLifetime(chunks) {
            for (i, chunk) in chunks.prefix(max).enumerated() {
                chunk.withUnsafeBytes { raw in
                    let skip = i == 0 ? head : 0
                    iovecs[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skip), iov_len: raw.count - skip)
                }
                n += 1
            }
            result = Syscall.writev(fd, iovecs, n)
        }
        if case .processed(let written) = result { consume(written) }
        return result
    }

    private mutating func consume(_ written: Int) {
        var left = written
        count -= written
        while left > 0 {
            let available = chunks[0].count - head
            if left >= available {
                left -= available
                chunks.removeFirst()
                head = 0
            } else {
                head += left
                left = 0
            }
        }
        if count == 0 {
            // All written: give the memory back, so idle connections own no buffers.
            chunks = []
            head = 0
        }
    }

    mutating func removeAll() {
        chunks = []
        head = 0
        count = 0
    }
}
