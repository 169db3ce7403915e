import CPosix

/// The bytes an event loop will write at the end of its current iteration, for all of its
/// connections at once.
///
/// Each connection written to in this iteration borrows one byte buffer from the loop's
/// pool and every frame for it (a shared event body included) is copied to the end of
/// that buffer; at the end of the iteration each dirty connection gets one `writev` of its
/// one buffer, and the buffers go back to the pool. The bytes of a connection are thus
/// contiguous in memory when the kernel copies them. An earlier design appended every
/// connection's frames to one shared arena and chained them per connection: under fan-out
/// load an iteration holds tens of thousands of deliveries for ~10,000 connections, and
/// walking those chains and copying their scattered pieces missed the cache on every
/// segment (~15% of the pinned server's time, loadtest/README.md).
///
/// Connections that are not written to own no buffer. Between iterations the pool keeps
/// buffers of at most `keptBufferCapacity` bytes: as many as the iteration lent while that
/// is more than `keptBufferCount` (under fan-out load nearly every connection borrows one
/// each iteration, and freeing them all and allocating them again, each growing past its
/// first reserve, cost ~2.5% of the pinned server's time; loadtest/README.md, "Pinned
/// fan-out, 3 December (second session)"), and `keptBufferCount` again after an iteration
/// that lent fewer, or a second without one that lent more (`trimAtRest`).
struct OutboundQueue {
    /// `buffers[0..<inUse]` belong to connections (by `Connection.queueHead`) this iteration.
    private(set) var buffers: [[UInt8]] = []
    private(set) var inUse = 0
    /// Whether an iteration lent more than `keptBufferCount` buffers since `trimAtRest`.
    private var wasBusySinceTrim = false
    /// Buffers kept for the next iterations; the rest are freed after a flush.
    /// 64, not 256: the pool's 1 KiB buffers are a loop's fixed cost, and 256 of them were
    /// ~26 B of every connection in the 10,000-idle-connection figure (297 B against 268 B).
    static let keptBufferCount = 64
    /// A buffer grown above this (a burst, a large message) is freed after its flush.
    static let keptBufferCapacity = 4096
    /// What a fresh buffer reserves: a few presence events.
    static let initialBufferCapacity = 1024

    var isEmpty: Bool { inUse == 0 }

    /// The index of `conn`'s buffer, borrowing one from the pool on its first bytes.
    private mutating func buffer(of conn: Connection) -> Int {
        if conn.queueHead >= 0 { return Int(conn.queueHead) }
        let index = inUse
        inUse += 1
        if index == buffers.count {
            var fresh: [UInt8] = []
            fresh.reserveCapacity(Self.initialBufferCapacity)
            buffers.append(fresh)
        }
        conn.queueHead = Int32(index)
        return index
    }

    /// Appends `bytes` to what `conn` is sent this iteration (copied).
    mutating func append(_ bytes: UnsafeRawBufferPointer, to conn: Connection) {
        guard bytes.count > 0 else { return }
        let i = buffer(of: conn)
        buffers[i].append(contentsOf: bytes)
    }

    /// Appends a frame header written in place, then `payload`, copying both.
    mutating func appendFrame(header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, to conn: Connection) {
        let i = buffer(of: conn)
        buffers[i].append(contentsOf: header)
        buffers[i].append(contentsOf: payload)
    }

    /// Appends one text frame made of `header`, `prefix` and `body` (a fan-out delivery).
    mutating func appendMessage(header: UnsafeRawBufferPointer, prefix: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer,
                                to conn: Connection) {
        let i = buffer(of: conn)
        buffers[i].append(contentsOf: header)
        buffers[i].append(contentsOf: prefix)
        buffers[i].append(contentsOf: body)
    }

    /// Starts loading the header (count and capacity) of buffer `index`, a connection's
    /// `queueHead`, ahead of a delivery to it (`EventLoop.deliver`); nothing for -1.
    @inline(__always)
    func prefetchHeader(ofBuffer index: Int32) {
        guard index >= 0, Int(index) < inUse else { return }
        cposix_prefetch_write(storageObject(ofBuffer: Int(index)))
    }

    /// Starts loading the line where buffer `index`'s next bytes go. It reads the count from
    /// the array's storage object, where Swift keeps it 16 bytes in, with the elements from
    /// byte 32 (`OutboundQueueTests` pins this); were that to change, the hint would only
    /// miss, as a prefetch never faults.
    @inline(__always)
    func prefetchEnd(ofBuffer index: Int32) {
        guard index >= 0, Int(index) < inUse else { return }
        cposix_prefetch_write(endAddress(ofBuffer: Int(index)))
    }

    /// Where buffer `index`'s next byte goes, computed from its storage object's layout.
    @inline(__always)
    func endAddress(ofBuffer index: Int) -> UnsafeRawPointer {
        let object = storageObject(ofBuffer: index)
        return object + Self.elementsOffset + object.load(fromByteOffset: Self.countOffset, as: Int.self)
    }

    static let countOffset = 16
    static let elementsOffset = 32

    /// The storage object of `buffers[index]`, read without retaining it.
    @inline(__always)
    func storageObject(ofBuffer index: Int) -> UnsafeRawPointer {
        buffers.withUnsafeBytes { $0.load(fromByteOffset: index &* MemoryLayout<[UInt8]>.stride, as: UnsafeRawPointer.self) }
    }

    /// Calls `body` with `conn`'s queued bytes (one contiguous piece, if any) and forgets
    /// that they were queued; the buffer itself goes back to the pool at `reset()`.
    mutating func drain(_ conn: Connection, _ body: (UnsafeRawBufferPointer) -> Void) {
        let i = conn.queueHead
        conn.queueHead = -1
        guard i >= 0 else { return }
        buffers[Int(i)].withUnsafeBytes { if $0.count > 0 { body($0) } }
    }

    /// Returns every buffer to the pool once all dirty connections were flushed (the bytes
    /// of a connection closed meanwhile are dropped with it).
    mutating func reset() {
        if inUse > Self.keptBufferCount { wasBusySinceTrim = true }
        for i in 0..<inUse {
            if buffers[i].capacity > Self.keptBufferCapacity {
                buffers[i] = []
            } else {
                buffers[i].removeAll(keepingCapacity: true)
            }
        }
        let kept = max(Self.keptBufferCount, inUse)
        if buffers.count > kept { buffers.removeLast(buffers.count - kept) }
        // A buffer freed above is reserved again when next borrowed.
        for i in 0..<min(inUse, buffers.count) where buffers[i].capacity == 0 {
            buffers[i].reserveCapacity(Self.initialBufferCapacity)
        }
        inUse = 0
    }

    /// Once a second (the loop's tick): gives back the buffers a busy pool keeps beyond
    /// `keptBufferCount` unless an iteration since the last call lent that many, so a loop
    /// whose load ended (and that may not iterate again for a while) does not hold them.
    mutating func trimAtRest() {
        guard !wasBusySinceTrim else {
            wasBusySinceTrim = false
            return
        }
        let kept = max(Self.keptBufferCount, inUse)
        if buffers.count > kept { buffers.removeLast(buffers.count - kept) }
    }
}
