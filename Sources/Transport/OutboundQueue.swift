/// The bytes an event loop will write at the end of its current iteration, for all of its
/// connections at once.
///
/// Frames are appended to one shared arena (or, for a frame encoded once and sent to many,
/// referenced from its shared buffer) and chained per connection. At the end of the
/// iteration each dirty connection gets one `writev` over its chain: batching without
/// per-connection buffers, and without allocating per frame once the arena has grown to
/// its working size.
struct OutboundQueue {
    struct Segment {
        /// -1: bytes in `arena`; otherwise an index into `shared`.
        var source: Int32
        var offset: Int
        var count: Int
        /// The next segment of the same connection, or -1.
        var next: Int32
    }

    private(set) var arena: [UInt8] = []
    private(set) var segments: [Segment] = []
    private(set) var shared: [[UInt8]] = []
    /// Arena memory above this is returned after a flush (a burst of large messages).
    static let keptArenaCapacity = 256 << 10
    static let keptSegmentCapacity = 4096

    init() {
        arena.reserveCapacity(64 * 1024)
        segments.reserveCapacity(1024)
    }

    var isEmpty: Bool { segments.isEmpty }

    /// Appends `bytes` to the chain of `conn`, copying them into the arena.
    mutating func append(_ bytes: UnsafeRawBufferPointer, to conn: Connection) {
        guard bytes.count > 0 else { return }
        let offset = arena.count
        arena.append(contentsOf: bytes)
        // Extend the connection's last segment when it ends where these bytes start.
        if conn.queueTail >= 0 {
            let t = Int(conn.queueTail)
            if segments[t].source == -1, segments[t].offset + segments[t].count == offset {
                segments[t].count += bytes.count
                return
            }
        }
        link(Segment(source: -1, offset: offset, count: bytes.count, next: -1), to: conn)
    }

    /// Appends a frame header written in place, then `payload`, copying both.
    mutating func appendFrame(header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, to conn: Connection) {
        append(header, to: conn)
        append(payload, to: conn)
    }

    /// Appends a buffer shared with other connections, by reference.
    mutating func appendShared(_ bytes: [UInt8], to conn: Connection) {
        guard !bytes.isEmpty else { return }
        // The same buffer is usually appended for many connections in a row: reference it once.
        let source: Int32
        if let last = shared.last, last.withUnsafeBufferPointer({ $0.baseAddress }) == bytes.withUnsafeBufferPointer({ $0.baseAddress }) {
            source = Int32(shared.count - 1)
        } else {
            shared.append(bytes)
            source = Int32(shared.count - 1)
        }
        link(Segment(source: source, offset: 0, count: bytes.count, next: -1), to: conn)
    }

    private mutating func link(_ s: Segment, to conn: Connection) {
        let index = Int32(segments.count)
        segments.append(s)
        if conn.queueTail >= 0 { segments[Int(conn.queueTail)].next = index } else { conn.queueHead = index }
        conn.queueTail = index
    }

    /// Calls `body` with each of `conn`'s segments in order and unlinks the chain.
    mutating func drain(_ conn: Connection, _ body: (UnsafeRawBufferPointer) -> Void) {
        var i = conn.queueHead
        conn.queueHead = -1
        conn.queueTail = -1
        while i >= 0 {
            let s = segments[Int(i)]
            if s.source < 0 {
                arena.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[s.offset..<(s.offset + s.count)])) }
            } else {
                shared[Int(s.source)].withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[s.offset..<(s.offset + s.count)])) }
            }
            i = s.next
        }
    }

    /// Forgets everything once all dirty connections were flushed.
    mutating func reset() {
        if arena.capacity > Self.keptArenaCapacity {
            arena = []
            arena.reserveCapacity(64 * 1024)
        } else {
            arena.removeAll(keepingCapacity: true)
        }
        // Capacity a burst grew is given back: 10,000 sign-ins left 1.5 MB of segment
        // list behind on an idle loop (150 B per session at rest).
        segments.removeAll(keepingCapacity: segments.capacity <= Self.keptSegmentCapacity)
        shared.removeAll(keepingCapacity: shared.capacity <= Self.keptSegmentCapacity)
    }
}
