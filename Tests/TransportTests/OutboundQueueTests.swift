import Testing
@testable import Transport

/// The outbound queue's prefetch hint reads an array's count and elements from its storage
/// object at fixed offsets (`OutboundQueue.endAddress(ofBuffer:)`). A wrong address would
/// only make the hint useless, never unsafe; this keeps it from going wrong unnoticed.
struct OutboundQueueTests {
    @Test func theEndAddressIsWhereABuffersNextByteGoes() {
        var queue = OutboundQueue()
        let connections = (0..<3).map { Connection(fd: Int32(-1 - $0), generation: 1, remoteAddress: "127.0.0.1", isTLS: false, now: 0) }
        for (k, conn) in connections.enumerated() {
            let bytes = [UInt8](repeating: UInt8(k), count: 10 + 700 * k)
            bytes.withUnsafeBytes { queue.append($0, to: conn) }
        }
        for (k, conn) in connections.enumerated() {
            let index = Int(conn.queueHead)
            let end = queue.buffers[index].withUnsafeBytes { $0.baseAddress! + $0.count }
            #expect(queue.endAddress(ofBuffer: index) == end)
            #expect(queue.buffers[index].count == 10 + 700 * k)
        }
        queue.reset()
    }

    /// The pool keeps as many buffers as a busy iteration lent (with their grown capacity),
    /// shrinks to `keptBufferCount` after an iteration that lent fewer, and at rest after
    /// a second (`trimAtRest`) without a busy iteration.
    @Test func aBusyPoolKeepsItsBuffersUntilTheLoadEnds() {
        var queue = OutboundQueue()
        let busy = OutboundQueue.keptBufferCount * 3
        let connections = (0..<busy).map { Connection(fd: Int32(-1 - $0), generation: 1, remoteAddress: "127.0.0.1", isTLS: false, now: 0) }
        let bytes = [UInt8](repeating: 7, count: 2 * OutboundQueue.initialBufferCapacity)
        func iteration(_ count: Int) {
            for conn in connections.prefix(count) { bytes.withUnsafeBytes { queue.append($0, to: conn) } }
            for conn in connections.prefix(count) { queue.drain(conn) { _ in } }
            queue.reset()
        }
        iteration(busy)
        #expect(queue.buffers.count == busy)
        #expect(queue.buffers.allSatisfy { $0.isEmpty && $0.capacity >= bytes.count })
        iteration(3)
        #expect(queue.buffers.count == OutboundQueue.keptBufferCount)
        iteration(busy)
        queue.trimAtRest()
        #expect(queue.buffers.count == busy, "busy since the last trim")
        queue.trimAtRest()
        #expect(queue.buffers.count == OutboundQueue.keptBufferCount)
    }
}
