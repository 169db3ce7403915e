import Glibc

/// Wire bytes a socket has not taken yet, for a reader that is behind.
///
/// Kept as a list of chunks, never one growing array: a slow reader can owe megabytes,
/// and regrowing one buffer would copy all of it again on the loop that serves everyone
/// else. Appending copies only the new bytes; writing gathers chunks with `writev`.
struct PendingBytes {
    /// `nil` when nothing waits, which is nearly always: an idle connection carries one
    /// word for this, not three.
    private var storage: Storage?

    /// The chunks and counts, boxed (see `storage`).
    private final class Storage {
        var chunks: [[UInt8]] = []
        /// Bytes of `chunks[0]` already written.
        var head = 0
        var count = 0
    }

    /// Small appends fill the last chunk up to this size instead of starting a new one.
    static let chunkSize = 64 * 1024

    var count: Int { storage?.count ?? 0 }
    var isEmpty: Bool { storage == nil }

    private mutating func filled() -> Storage {
        if let storage { return storage }
        let fresh = Storage()
        storage = fresh
        return fresh
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        let s = filled()
        s.count += bytes.count
        if let last = s.chunks.indices.last, s.chunks[last].count + bytes.count <= Self.chunkSize {
            s.chunks[last].append(contentsOf: bytes)
        } else {
            s.chunks.append(Array(bytes))
        }
    }

    mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Puts bytes in front of everything waiting (the unwritten tail of a gathered write).
    mutating func prepend(_ pieces: [[UInt8]]) {
        let added = pieces.reduce(0) { $0 + $1.count }
        guard added > 0 else { return }
        let s = filled()
        if s.head > 0 {
            s.chunks[0].removeFirst(s.head)
            s.head = 0
        }
        s.chunks.insert(contentsOf: pieces.filter { !$0.isEmpty }, at: 0)
        s.count += added
    }

    /// Writes as much as the socket takes with one `writev` per call.
    mutating func write(to fd: Int32, iovecs: UnsafeMutablePointer<iovec>, max: Int) -> IOResult {
        guard let s = storage else { return .processed(0) }
        var n = 0
        var result = IOResult.processed(0)
        withExtendedLifetime(s) {
            for (i, chunk) in s.chunks.prefix(max).enumerated() {
                chunk.withUnsafeBytes { raw in
                    let skip = i == 0 ? s.head : 0
                    iovecs[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skip), iov_len: raw.count - skip)
                }
                n += 1
            }
            result = Syscall.writev(fd, iovecs, n)
        }
        if case .processed(let written) = result { consume(written, from: s) }
        return result
    }

    private mutating func consume(_ written: Int, from s: Storage) {
        var left = written
        s.count -= written
        if s.count == 0 {
            // All written: give the memory back, so idle connections own no buffers.
            storage = nil
            return
        }
        while left > 0 {
            let available = s.chunks[0].count - s.head
            if left >= available {
                left -= available
                s.chunks.removeFirst()
                s.head = 0
            } else {
                s.head += left
                left = 0
            }
        }
    }

    mutating func removeAll() {
        storage = nil
    }
}
